"""Bad input to the deployed pipeline: malformed events and missing configuration get clear errors."""

from __future__ import annotations

import json

import boto3
import pytest
from rootwatch.handlers import dependencies
from rootwatch_cli import main
from rootwatch_sandbox.deploy import deploy_stack

from tests.integration.stack_context import PIPELINE


@pytest.fixture
def deployed(sandbox):
    dependencies.reset()
    yield deploy_stack(context=PIPELINE)
    dependencies.reset()


def invoke(function: str, event) -> tuple[str | None, dict]:
    answer = boto3.client("lambda").invoke(FunctionName=function, Payload=json.dumps(event))
    return answer.get("FunctionError"), json.loads(answer["Payload"].read())


@pytest.mark.parametrize(
    ("function", "event", "named"),
    [
        ("rootwatch-prepare-run", {"scanned_at": "2026-11-22T02:00:00Z"}, "event field run_id:"),
        (
            "rootwatch-audit-account",
            {"run_id": "r1", "scanned_at": "2026-11-22T02:00:00Z", "account": {"id": "not-an-id"}},
            "event field account.id:",
        ),
        ("rootwatch-finish-run", {"run_id": "r1", "scanned_at": "yesterday"}, "event field scanned_at:"),
    ],
)
def test_malformed_event_fails_the_invocation_naming_the_field(deployed, function, event, named):
    error, payload = invoke(function, event)
    assert error == "Unhandled"
    assert payload["errorType"] == "InvalidEventError"
    assert payload["errorMessage"].startswith(named)


def test_function_without_its_table_fails_naming_the_missing_variable(deployed):
    lam = boto3.client("lambda")
    variables = lam.get_function_configuration(FunctionName="rootwatch-audit-account")["Environment"]["Variables"]
    del variables["TABLE_NAME"]
    lam.update_function_configuration(FunctionName="rootwatch-audit-account", Environment={"Variables": variables})
    error, payload = invoke(
        "rootwatch-audit-account",
        {"run_id": "r1", "scanned_at": "2026-11-22T02:00:00Z", "account": {"id": "111111111111"}},
    )
    assert error == "Unhandled" and payload["errorType"] == "ConfigError"
    assert "missing environment variable TABLE_NAME" in payload["errorMessage"]


def test_run_without_a_deployed_state_machine_is_a_usage_error(sandbox, capsys):
    assert main(["run", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no rootwatch state machine (*audit-run) in region us-east-1, account ")
    assert "deploy the stack there first with `cdk deploy`" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("args", "named"), [(["--timeout", "0"], "--timeout"), (["--name", "no spaces"], "--name")])
def test_run_rejects_bad_flags_naming_them(sandbox, capsys, args, named):
    assert main(["run", "--no-progress", *args]) == 2
    assert capsys.readouterr().err.startswith(f"error: {named}:")


def test_run_of_a_clean_org_exits_zero_and_prints_the_summary(sandbox, deployed, capsys):
    from rootwatch_sandbox import runtime

    members = sandbox.create_demo_org(accounts=3, seed=4)["accounts"]
    for member in members:
        sandbox.set_account_state(member["account_id"], "ACTIVE")
        sandbox.set_root_credentials(member["account_id"])
    runtime.set_retry_scale(0.0)
    try:
        code = main(["run", "--no-progress", "--name", "clean-night"])
    finally:
        runtime.set_retry_scale(None)
    out = capsys.readouterr().out
    assert code == 0
    assert "run clean-night: SUCCEEDED" in out and "audited 3" in out and "no alert" in out
