"""Root-credential events end to end in the sandbox: change → member rule → central bus → queue → re-audit → alert.

The stack is deployed with ``rootwatch:realtimeEnabled`` (the sandbox records its StackSet and event source mapping,
rootwatch_sandbox.realtime); a change through the emulated APIs emits its CloudTrail event, which the member rule
forwards and the deployed re-audit function consumes at once, with no nightly run.
"""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from rootwatch.aws.status_store import StatusStore
from rootwatch.handlers import dependencies
from rootwatch_sandbox import realtime, runtime
from rootwatch_sandbox.deploy import deploy_stack
from rootwatch_sandbox.rootstate import STATE

from tests.integration.fidelity_support import CREATE_PASSWORD, root_session
from tests.integration.stack_context import pipeline
from tests.integration.test_pipeline_e2e import Stack, org_of
from tests.integration.test_pipeline_reaudit import OUTSIDER, assume_root_calls
from tests.unit.test_reaudit import cloudtrail_event


@pytest.fixture
def members(sandbox):
    return org_of(sandbox, 4)


@pytest.fixture
def realtime_stack(sandbox, members):
    """The stack with its event path, for the sandbox's organization (its id, the member rule on the root OU)."""
    organizations = boto3.client("organizations")
    organization_id = organizations.describe_organization()["Organization"]["Id"]
    root_id = organizations.list_roots()["Roots"][0]["Id"]
    runtime.set_retry_scale(0.0)
    dependencies.reset()
    context = pipeline(realtimeEnabled=True, organizationId=organization_id, realtimeTargetOus=[root_id])
    outputs = deploy_stack(context=context)
    assert not [kind for kind in outputs["not_emulated"] if "Events" in kind or "StackSet" in kind]
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="security-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=outputs["topic_arn"], Protocol="sqs", Endpoint=queue_arn)
    yield Stack(outputs, queue_url, StatusStore(boto3.client("dynamodb"), outputs["table"]))
    runtime.set_retry_scale(None)
    dependencies.reset()


def test_a_recovered_password_alerts_within_seconds_and_night_two_does_not_repeat_it(sandbox, members, realtime_stack):
    deployed = realtime_stack
    target = members[0]["account_id"]
    deployed.night("night-1")
    assert deployed.alerts() == []  # a clean org
    before = assume_root_calls(target)
    changed_at = STATE.clock.now()

    sandbox.set_root_credentials(target, password=True, emit_event="PasswordRecoveryCompleted")

    (alert,) = deployed.alerts()  # published with no nightly run
    assert (STATE.clock.now() - changed_at).total_seconds() <= 5  # sandbox time: within 5 s of the change
    document = alert["Message"]
    assert document["trigger"] == "event" and document["triggering_event_count"] == 1
    (event,) = document["triggering_events"]
    assert event["event_name"] == "PasswordRecoveryCompleted"
    assert (
        abs((dt.datetime.fromisoformat(event["event_time"].replace("Z", "+00:00")) - changed_at).total_seconds()) <= 5
    )
    assert [e["account_id"] for e in document["reappeared"]] == [target]
    assert document["reappeared"][0]["credentials"] == ["password"]
    assert assume_root_calls(target) - before == 1
    assert deployed.store.latest(target)["alerted_kinds"] == ["password"]

    night2 = deployed.night("night-2")
    assert night2["summary"]["totals"]["reappeared"] == 0 and night2["summary"]["alert_subject"] is None
    assert deployed.alerts() == []


def test_a_password_recovery_through_assume_root_alerts_that_account(sandbox, members, realtime_stack):
    deployed = realtime_stack
    target = members[1]["account_id"]
    deployed.night("night-1")
    assert deployed.alerts() == []

    root_session(target, CREATE_PASSWORD).client("iam").create_login_profile()  # the emulated recovery call

    (alert,) = deployed.alerts()
    document = alert["Message"]
    assert [e["event_name"] for e in document["triggering_events"]] == ["CreateLoginProfile"]
    assert [e["account_id"] for e in document["reappeared"]] == [target]


def test_a_forged_event_for_a_non_member_audits_nothing(sandbox, members, realtime_stack):
    deployed = realtime_stack
    deployed.night("night-1")
    deployed.alerts()
    sessions = len(STATE._sessions)

    assert realtime.emit_root_event(OUTSIDER, "CreateAccessKey")["forwarded_to"] == []  # no member rule there
    (bus,) = realtime.central_buses()
    forged = cloudtrail_event(OUTSIDER, "CreateAccessKey", "forged-1")  # put on the central bus directly
    (invocation,) = realtime.put_on_central_bus(bus, forged)

    assert invocation["response"] == {"batchItemFailures": []}  # dropped, never retried
    assert len(STATE._sessions) == sessions  # no AssumeRoot at all
    assert deployed.alerts() == [] and deployed.store.latest(OUTSIDER) is None


def test_without_a_realtime_stack_a_change_emits_nothing(sandbox, members):
    assert not realtime.enabled()
    assert realtime.emit_root_event(members[0]["account_id"], "PasswordRecoveryCompleted") == {}
