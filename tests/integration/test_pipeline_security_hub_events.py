"""Security Hub findings and EventBridge change events over three nights, through the deployed stack.

The stack is deployed with ``rootwatch:securityHubEnabled`` and ``rootwatch:eventBridgeEnabled`` on (IAM
enforced, so FinishRun's two statements are what lets it through). An EventBridge rule on the default bus
sends rootwatch's events to an SQS queue; the findings are read back with GetFindings.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from rootwatch.aws.status_store import StatusStore
from rootwatch.handlers import dependencies
from rootwatch_sandbox import runtime
from rootwatch_sandbox.deploy import deploy_stack

from tests.integration.stack_context import pipeline
from tests.integration.test_pipeline_e2e import Stack, org_of


@pytest.fixture(autouse=True)
def _reset_runtime():
    yield
    runtime.set_retry_scale(None)
    dependencies.reset()


def _event_queue() -> str:
    """A queue that receives every rootwatch event on the default bus (the rule the docs show, to SQS)."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="rootwatch-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="rootwatch-changes", EventPattern=json.dumps({"source": ["rootwatch"]}), State="ENABLED")
    events.put_targets(Rule="rootwatch-changes", Targets=[{"Id": "queue", "Arn": arn}])
    return url


def _received(url: str) -> list[dict[str, Any]]:
    sqs, received = boto3.client("sqs"), []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return received


def _findings() -> dict[str, dict[str, Any]]:
    client, found, token = boto3.client("securityhub"), {}, None
    while True:
        page = client.get_findings(**({"NextToken": token} if token else {}))
        found.update({f["Id"]: f for f in page["Findings"]})
        token = page.get("NextToken")
        if not token:
            return found


def test_three_nights_of_findings_and_change_events(sandbox):
    a, b, c = (m["account_id"] for m in org_of(sandbox, 3))
    expires = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    exemption = {"account_id": c, "credentials": ["mfa"], "reason": "hardware MFA kept in the safe", "expires": expires}
    runtime.set_retry_scale(0.0)
    dependencies.reset()
    outputs = deploy_stack(
        context=pipeline(securityHubEnabled=True, eventBridgeEnabled=True, exemptions=json.dumps([exemption]))
    )
    stack = Stack(outputs, "", StatusStore(boto3.client("dynamodb"), outputs["table"]))
    queue = _event_queue()
    sandbox.set_root_credentials(a, password=True, access_keys=["Active"])
    sandbox.set_root_credentials(b, password=True)
    sandbox.set_root_credentials(c, mfa_devices=["hardware"])

    # Night 1: every credential is a FAILED finding; one 'appeared' event per account.
    night_1 = stack.night("sh-night-1")
    assert night_1["summary"]["deliveries"] == {
        "security_hub": {"sent": 4, "failed": 0, "errors": []},
        "events": {"sent": 3, "failed": 0, "errors": []},
    }
    findings = _findings()
    assert set(findings) == {
        f"rootwatch/{a}/password",
        f"rootwatch/{a}/access_keys",
        f"rootwatch/{b}/password",
        f"rootwatch/{c}/mfa",
    }
    root_account = {f["AwsAccountId"] for f in findings.values()}
    assert len(root_account) == 1 and root_account != {a} and root_account != {b}  # the caller, not a member
    assert all(f["Compliance"]["Status"] == "FAILED" and f["RecordState"] == "ACTIVE" for f in findings.values())
    assert findings[f"rootwatch/{a}/access_keys"]["Resources"][0]["Id"] == f"AWS::::Account:{a}"
    assert findings[f"rootwatch/{c}/mfa"]["Workflow"] == {"Status": "SUPPRESSED"}
    assert "hardware MFA kept in the safe" in findings[f"rootwatch/{c}/mfa"]["Note"]["Text"]
    assert expires in findings[f"rootwatch/{c}/mfa"]["Note"]["Text"]
    events = _received(queue)
    assert sorted((e["detail"]["change"], e["detail"]["account"]["id"]) for e in events) == [
        ("appeared", a),
        ("appeared", b),
        ("appeared", c),
    ]
    assert {e["source"] for e in events} == {"rootwatch"}
    assert {e["detail"]["schema"] for e in events} == {"rootwatch.event/v1"}
    exempt_event = next(e for e in events if e["detail"]["account"]["id"] == c)
    assert exempt_event["detail"]["exempt_credentials"] == ["mfa"] and exempt_event["detail"]["alerting"] is False

    # Night 2: A's access keys are deleted: that finding turns PASSED, then ARCHIVED; one 'resolved' event.
    sandbox.set_root_credentials(a, password=True)
    night_2 = stack.night("sh-night-2")
    assert night_2["summary"]["deliveries"]["security_hub"] == {"sent": 5, "failed": 0, "errors": []}
    findings = _findings()
    assert len(findings) == 4, "the same ids are updated, none pile up"
    resolved = findings[f"rootwatch/{a}/access_keys"]
    assert (resolved["Compliance"]["Status"], resolved["RecordState"]) == ("PASSED", "ARCHIVED")
    assert findings[f"rootwatch/{a}/password"]["Compliance"]["Status"] == "FAILED"
    events = _received(queue)
    assert [(e["detail"]["change"], e["detail"]["account"]["id"], e["detail"]["credentials"]) for e in events] == [
        ("resolved", a, ["access_keys"])
    ]
    assert events[0]["detail-type"] == "Root Credentials Resolved"

    # Night 3: nothing changed: the open findings are refreshed, the archived one stays, no event.
    night_3 = stack.night("sh-night-3")
    assert night_3["summary"]["deliveries"]["security_hub"]["sent"] == 3
    assert night_3["summary"]["deliveries"]["events"] == {"sent": 0, "failed": 0, "errors": []}
    findings = _findings()
    assert len(findings) == 4
    assert findings[f"rootwatch/{a}/access_keys"]["RecordState"] == "ARCHIVED"
    assert findings[f"rootwatch/{b}/password"]["ProductFields"]["rootwatch/RunId"] == "sh-night-3"
    assert _received(queue) == []
