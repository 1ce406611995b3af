"""Re-audit on change, in the deployed sandbox stack: night 1, a password recovered, the event's re-audit alerts
that account at once with ``trigger: event``, night 2 does not alert it again, and a forged event audits nothing.

The re-audit handler runs in-process with FinishRun's environment (the same table, topic and region), fed an
SQS batch whose bodies are the CloudTrail events EventBridge delivers.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from rootwatch.handlers import reaudit as reaudit_handler
from rootwatch_sandbox.rootstate import STATE

from tests.integration.test_pipeline_e2e import org_of, stack  # noqa: F401 - stack: the deployed-stack fixture
from tests.unit.test_reaudit import cloudtrail_event

#: Well outside the demo organization's account ids.
OUTSIDER = "000011112222"


class Context:
    function_name = "rootwatch-reaudit"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:rootwatch-reaudit"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def reaudit_env(request, monkeypatch):
    """FinishRun's environment (the re-audit function shares it), set for an in-process invocation."""
    deployed = request.getfixturevalue("stack")
    variables = boto3.client("lambda").get_function_configuration(FunctionName="rootwatch-finish-run")
    for name, value in variables["Environment"]["Variables"].items():
        if not name.startswith("AWS_") and not name.startswith("POWERTOOLS_METRICS_DISABLED"):
            monkeypatch.setenv(name, value)
    return deployed


def sqs_batch(*events: Any) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "body": event if isinstance(event, str) else json.dumps(event),
                "eventSource": "aws:sqs",
            }
            for i, event in enumerate(events)
        ]
    }


def organization_id() -> str:
    return boto3.client("organizations").describe_organization()["Organization"]["Id"]


def assume_root_calls(account_id: str) -> int:
    return sum(1 for s in STATE._sessions.values() if s.account_id == account_id)


def recovered(account_id: str, event_id: str) -> dict[str, Any]:
    return cloudtrail_event(
        account_id,
        "PasswordRecoveryCompleted",
        event_id,
        source="aws.signin",
        **{"detail-type": "AWS Console Sign In via CloudTrail"},
    )


def test_a_recovered_password_alerts_once_with_trigger_event_and_night_two_does_not_repeat_it(
    sandbox, reaudit_env, capsys
):
    deployed = reaudit_env
    members = org_of(sandbox, 4)
    target = members[0]["account_id"]
    deployed.night("night-1")
    assert deployed.alerts() == []  # a clean org: night 1 alerts nothing
    before = assume_root_calls(target)

    sandbox.set_root_credentials(target, password=True)  # the password is recovered
    burst = [recovered(target, f"e-{i:02d}") for i in range(20)]
    answer = reaudit_handler.handler(sqs_batch(*burst), Context())

    assert answer == {"batchItemFailures": []}
    assert assume_root_calls(target) - before == 1  # 20 changes in one account: one audit
    (alert,) = deployed.alerts()
    document = alert["Message"]
    assert document["trigger"] == "event" and document["triggering_event_count"] == 20
    assert document["triggering_events"][0]["event_name"] == "PasswordRecoveryCompleted"
    assert [e["account_id"] for e in document["reappeared"]] == [target]
    assert document["organization_id"] == organization_id()  # from DescribeAccount's ARN
    assert document["reappeared"][0]["credentials"] == ["password"]
    assert document["reappeared"][0]["ou_path"] == members[0]["ou_path"]  # kept from night 1
    assert alert["Subject"].startswith("[CRITICAL] [rootwatch] ") and target in alert["Subject"]
    assert deployed.store.latest(target)["alerted_kinds"] == ["password"]

    night2 = deployed.night("night-2")
    assert night2["summary"]["totals"]["reappeared"] == 0 and night2["summary"]["alert_subject"] is None
    assert deployed.alerts() == []

    again = reaudit_handler.handler(sqs_batch(*burst), Context())  # SQS delivers the same batch again
    assert again == {"batchItemFailures": []} and deployed.alerts() == []
    capsys.readouterr()


def test_a_forged_or_malformed_event_audits_nothing_and_is_counted(sandbox, reaudit_env, capsys, caplog):
    deployed = reaudit_env
    members = org_of(sandbox, 2)
    deployed.night("night-1")
    deployed.alerts()
    capsys.readouterr()
    sessions = len(STATE._sessions)

    forged = cloudtrail_event(OUTSIDER, "CreateAccessKey", "forged-1")
    answer = reaudit_handler.handler(sqs_batch(forged, "{not json", {"account": "x"}), Context())

    assert answer == {"batchItemFailures": []}  # dropped, never retried
    assert len(STATE._sessions) == sessions  # no AssumeRoot at all
    assert deployed.alerts() == [] and deployed.store.latest(OUTSIDER) is None
    output = capsys.readouterr().out
    dropped = [r for r in caplog.records if r.getMessage() == "re-audit event dropped"]
    assert [(r.reason, getattr(r, "account_id", None)) for r in dropped] == [
        ("malformed", None),
        ("malformed", None),
        ("not_a_member", OUTSIDER),
    ]
    metrics = [json.loads(line) for line in output.splitlines() if '"_aws"' in line]
    values = [m["ReauditEventsDropped"] for m in metrics if "ReauditEventsDropped" in m]
    assert sum(sum(v) if isinstance(v, list) else v for v in values) == 3  # EMF lists repeated values
    assert members  # the organization's own accounts were not touched either
