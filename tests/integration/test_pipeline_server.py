"""The pipeline over HTTP: `rootwatch sandbox deploy` and `rootwatch run --endpoint-url` against a sandbox server,
as a user runs them from another terminal."""

from __future__ import annotations

import json

import pytest
from rootwatch.handlers import dependencies
from rootwatch_cli import main
from rootwatch_sandbox import runtime
from rootwatch_sandbox.server import SandboxServer


@pytest.fixture
def server(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    runtime.set_retry_scale(0.0)
    dependencies.reset()
    with SandboxServer(port=0, demo_org=6) as running:
        yield running
    runtime.set_retry_scale(None)
    dependencies.reset()


def test_deploy_then_run_through_the_endpoint_prints_the_summary_and_exit_code(server, capsys):
    assert main(["sandbox", "deploy", "--endpoint-url", server.endpoint_url]) == 0
    deployed = json.loads(capsys.readouterr().out)
    assert {"table", "bucket", "topic_arn", "state_machine_arn"} <= set(deployed)

    code = main(["run", "--endpoint-url", server.endpoint_url, "--no-progress", "--name", "over-http", "--json"])

    # The functions run in this process and log to its stdout; the CLI's JSON is the block starting with "{".
    printed = capsys.readouterr().out
    out = json.loads(printed[printed.rindex("\n{\n") :] if "\n{\n" in printed else printed)
    members = server.demo_org_result["accounts"]
    active = [m for m in members if m["state"] == "ACTIVE"]
    assert out["status"] == "SUCCEEDED"
    assert out["summary"]["totals"]["accounts"] == len(members) + 1  # and the management account
    assert out["summary"]["totals"]["audited"] == len(active)
    assert code == (3 if out["summary"]["totals"]["with_root_credentials"] else 0)
