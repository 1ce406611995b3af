"""Exemptions through the real pipeline: an exempt finding does not alert until its expiry, and is marked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from rootwatch.aws.status_store import StatusStore
from rootwatch.handlers import dependencies
from rootwatch_sandbox import runtime
from rootwatch_sandbox.deploy import deploy_stack

from tests.integration.stack_context import PIPELINE, pipeline
from tests.integration.test_pipeline_e2e import Stack, by_account, org_of


def _stack(exemptions: list[dict] | str, *, past_synth: bool = False) -> Stack:
    """The stack deployed with ``exemptions`` as CDK context. ``past_synth``: exemptions synth would refuse (a bad
    entry, an expiry already past) are what the functions hold when an exemption expired after the deploy or the
    environment was edited by hand; the stack is deployed without them and the functions' variable is set so."""
    runtime.set_retry_scale(0.0)
    dependencies.reset()
    text = exemptions if isinstance(exemptions, str) else json.dumps(exemptions)
    outputs = deploy_stack(context=PIPELINE if past_synth else pipeline(exemptions=text))
    if past_synth:
        lam = boto3.client("lambda")
        for name in outputs["functions"]:
            variables = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
            variables["ROOTWATCH_EXEMPTIONS"] = text
            lam.update_function_configuration(FunctionName=name, Environment={"Variables": variables})
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="exemption-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=outputs["topic_arn"], Protocol="sqs", Endpoint=queue_arn)
    return Stack(outputs, queue_url, StatusStore(boto3.client("dynamodb"), outputs["table"]))


@pytest.fixture(autouse=True)
def _reset_runtime():
    yield
    runtime.set_retry_scale(None)
    dependencies.reset()


def _iso(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def test_exempt_password_is_marked_and_does_not_alert_while_another_account_still_does(sandbox):
    exempt_member, other_member = org_of(sandbox, 3)[:2]
    stack = _stack(
        [
            {
                "account_id": exempt_member["account_id"],
                "credentials": ["password"],
                "reason": "break-glass until migration",
                "expires": _iso(30),
            }
        ]
    )
    sandbox.set_root_credentials(exempt_member["account_id"], password=True)
    sandbox.set_root_credentials(other_member["account_id"], password=True)

    execution = stack.night("exempt-night-1")

    records = by_account(stack.results(execution["summary"]))
    assert records[exempt_member["account_id"]]["exempt"] is True
    assert "break-glass until migration" in records[exempt_member["account_id"]]["exemption_reason"]
    assert records[other_member["account_id"]]["exempt"] is False
    alerts = stack.alerts()
    assert len(alerts) == 1
    alert = json.loads(alerts[0]["Message"]["sqs"]) if "sqs" in alerts[0]["Message"] else alerts[0]["Message"]
    flagged = {entry["account_id"] for entry in alert["new_with_credentials"]}
    assert flagged == {other_member["account_id"]}


def test_only_exempt_findings_send_no_alert_at_all(sandbox):
    member = org_of(sandbox, 2)[0]
    stack = _stack(
        [
            {
                "account_id": member["account_id"],
                "credentials": ["password", "mfa"],
                "reason": "vendor",
                "expires": _iso(1),
            }
        ]
    )
    sandbox.set_root_credentials(member["account_id"], password=True, mfa_devices=["virtual"])

    stack.night("exempt-only")

    assert stack.alerts() == []


def test_invalid_exemption_fails_the_run_at_its_start_naming_the_entry(sandbox):
    org_of(sandbox, 2)
    stack = _stack(
        [{"account_id": "12345", "credentials": ["password"], "reason": "typo", "expires": _iso(5)}], past_synth=True
    )

    execution = stack.night("bad-exemption")

    assert execution["status"] == "FAILED"
    alerts = stack.alerts()
    assert len(alerts) == 1
    assert "ROOTWATCH_EXEMPTIONS" in json.dumps(alerts[0]["Message"])
    assert "exemptions[0]" in json.dumps(alerts[0]["Message"])


def test_exemption_that_expired_since_deploy_alerts_again(sandbox):
    member = org_of(sandbox, 2)[0]
    stack = _stack(
        [{"account_id": member["account_id"], "credentials": ["password"], "reason": "old", "expires": _iso(-1)}],
        past_synth=True,
    )
    sandbox.set_root_credentials(member["account_id"], password=True)

    execution = stack.night("expired-exemption")

    assert by_account(stack.results(execution["summary"]))[member["account_id"]]["exempt"] is False
    alerts = stack.alerts()
    assert len(alerts) == 1
    assert member["account_id"] in json.dumps(alerts[0]["Message"])


def _alerted_accounts(alerts: list[dict]) -> set[str]:
    accounts = set()
    for alert in alerts:
        message = alert["Message"]
        for key in ("new_with_credentials", "reappeared"):
            accounts |= {entry["account_id"] for entry in message.get(key, [])}
    return accounts


def test_an_exemption_added_by_the_cli_silences_the_next_night_and_alerts_again_after_its_expiry(sandbox, monkeypatch):
    """Night 1 alerts A's password; `exempt add` (CLI, the table); night 2 is silent; past the expiry, night 3
    alerts A again. B's cdk.json exemption is honoured every night, alongside the table's."""
    from rootwatch_cli import main

    a, b = (m["account_id"] for m in org_of(sandbox, 3)[:2])
    stack = _stack(
        [{"account_id": b, "credentials": ["password"], "reason": "cdk.json break-glass", "expires": _iso(30)}]
    )
    sandbox.set_root_credentials(a, password=True)
    sandbox.set_root_credentials(b, password=True)

    stack.night("cli-exempt-1")
    assert _alerted_accounts(stack.alerts()) == {a}

    table = stack.outputs["table"]
    monkeypatch.setattr("sys.stdin", None)
    args = ["exempt", "add", "--account", a, "--credentials", "password", "--reason", "SEC-7 migration"]
    assert main([*args, "--expires", _iso(1), "--yes", "--table", table]) == 0
    assert [e["account_id"] for e in json.loads(_listed(main, table))] == [a]

    night2 = stack.night("cli-exempt-2")
    assert stack.alerts() == []
    records = by_account(stack.results(night2["summary"]))
    assert records[a]["exempt"] is True and "SEC-7 migration" in records[a]["exemption_reason"]
    assert records[b]["exempt"] is True

    # The clock past the expiry: the stored item now ends yesterday (the rules decide by date, not by the TTL).
    dynamodb = boto3.client("dynamodb")
    dynamodb.update_item(
        TableName=table,
        Key={"pk": {"S": "EXEMPTION"}, "sk": {"S": f"{a}#password"}},
        UpdateExpression="SET expires = :d",
        ExpressionAttributeValues={":d": {"S": _iso(-1)}},
    )
    night3 = stack.night("cli-exempt-3")
    assert _alerted_accounts(stack.alerts()) == {a}
    records = by_account(stack.results(night3["summary"]))
    assert records[a]["exempt"] is False and records[b]["exempt"] is True


def _listed(main, table: str) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["exempt", "list", "--format", "json", "--table", table]) == 0
    return out.getvalue()
