"""Every appearance of a root credential is alerted at least once, whatever single failure happens.

The scenario, once per fault point: night 1 is clean; a password appears on one account; night 2 runs
with ONE injected failure (``count`` 1) at one call the pipeline makes between the audit and the publish
(the k-th DynamoDB UpdateItem/PutItem/Query/GetItem, S3 PutObject/GetObject, SNS Publish, in the account
the stack runs in); night 3 runs without faults. A failure in FinishRun is also tried with a redrive of
FinishRun before night 3. Across
nights 2 and 3 the appearance must be alerted once, or twice when the failure came after a successful
publish, never zero times. ``test_the_fault_points_cover_every_call_of_night_two`` proves the points
below reach every call of that kind that night 2 makes, so no call is left untested.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from rootwatch.aws.status_store import StatusStore
from rootwatch.handlers import dependencies
from rootwatch_cli.commands.run import start_and_follow
from rootwatch_sandbox import MANAGEMENT_ACCOUNT_ID, Sandbox, runtime
from rootwatch_sandbox.deploy import deploy_stack
from rootwatch_sandbox.rootstate import STATE

from tests.integration.stack_context import PIPELINE

#: The calls the pipeline makes in its own account on night 2, with how many of each this scenario makes
#: at most (checked by the coverage test). A fault with ``after`` k hits the (k+1)-th call.
FAULT_POINTS = {
    "UpdateItem": 4,
    "PutItem": 8,
    "Query": 2,  # PrepareRun's exemptions, then FinishRun's run records
    "GetItem": 1,
    "PutObject": 3,
    "GetObject": 2,
    "Publish": 1,
}
#: Night 2's calls that FinishRun makes (a failure there fails the execution, which an operator redrives):
#: reading the manifest, the run's records, writing the results, the marker check, the publish, the marker,
#: the alerted baseline's commit, the run summary.
FINISH_RUN_POINTS = [
    ("GetObject", 1),
    ("Query", 1),
    ("PutObject", 2),
    ("GetItem", 0),
    ("Publish", 0),
    ("PutItem", 6),
    ("UpdateItem", 3),
    ("PutItem", 7),
]
NEVER = 10**6


class Scenario:
    """A fresh sandbox with the stack deployed and an org of two clean members, the first one watched."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.outputs = deploy_stack(context=PIPELINE)
        sns, sqs = boto3.client("sns"), boto3.client("sqs")
        self.queue_url = sqs.create_queue(QueueName="security-inbox")["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]
        sns.subscribe(TopicArn=self.outputs["topic_arn"], Protocol="sqs", Endpoint=attributes["QueueArn"])
        created = sandbox.create_demo_org(accounts=2, seed=5)["accounts"]
        self.members = sorted(m["account_id"] for m in created)
        for member in self.members:
            sandbox.set_account_state(member, "ACTIVE")
            sandbox.set_root_credentials(member)
        self.watched = self.members[0]

    def night(self, name: str) -> dict[str, Any]:
        sfn = boto3.client("stepfunctions")
        arn = self.outputs["state_machine_arn"]
        return start_and_follow(sfn, arn, name=name, progress=False, poll_seconds=0.02)

    def redrive_finish(self, run_id: str, execution: dict[str, Any]) -> None:
        """What a redrive of a failed execution re-runs last: FinishRun, same run id, same state."""
        store = StatusStore(boto3.client("dynamodb"), self.outputs["table"])
        records = store.run_records(run_id)
        scanned_at = records[0].scanned_at if records else execution["startDate"].strftime("%Y-%m-%dT%H:%M:%SZ")
        prepared = {
            "run_id": run_id,
            "scanned_at": scanned_at,
            "organization_id": "o-sandbox",
            "manifest_key": f"manifests/{run_id}.json",
            "accounts": len(self.members),
            "skipped": 1,
        }
        event = {"run_id": run_id, "scanned_at": scanned_at, "state": {"prepared": prepared}}
        boto3.client("lambda").invoke(FunctionName="rootwatch-finish-run", Payload=json.dumps(event))

    def password_alerts(self) -> int:
        """How many alerts delivered so far say the watched account's password appeared."""
        sqs, count = boto3.client("sqs"), 0
        while batch := sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                document = json.loads(json.loads(message["Body"])["Message"])
                entries = document["reappeared"] + document["new_with_credentials"]
                count += any(e["account_id"] == self.watched and "password" in e["credentials"] for e in entries)
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return count


@pytest.fixture
def scenario() -> Iterator[Scenario]:
    runtime.set_retry_scale(0.0)
    dependencies.reset()
    with Sandbox() as sandbox:
        yield Scenario(sandbox)
    runtime.set_retry_scale(None)
    dependencies.reset()


def _points() -> list[tuple[str, int]]:
    return [(operation, after) for operation, calls in FAULT_POINTS.items() for after in range(calls)]


def _watched_appears_then_night_two(scenario: Scenario) -> None:
    scenario.night("night-1")
    assert scenario.password_alerts() == 0  # a clean first audit needs nobody
    scenario.sandbox.set_root_credentials(scenario.watched, password=True)


@pytest.mark.parametrize(("operation", "after"), _points(), ids=[f"{op}-{k}" for op, k in _points()])
def test_an_appearance_is_alerted_whatever_single_call_fails(scenario, operation, after):
    _watched_appears_then_night_two(scenario)
    scenario.sandbox.add_fault(MANAGEMENT_ACCOUNT_ID, operation, "InternalServerError", count=1, after=after)

    scenario.night("night-2")
    fired = not STATE.faults()
    scenario.sandbox.clear_faults()
    scenario.night("night-3")

    alerts = scenario.password_alerts()
    assert fired, f"the fault on {operation} after {after} calls never fired: FAULT_POINTS is out of date"
    assert 1 <= alerts <= 2, f"{operation} failing after {after} calls: the appearance was alerted {alerts} times"


@pytest.mark.parametrize(("operation", "after"), FINISH_RUN_POINTS, ids=[f"{op}-{k}" for op, k in FINISH_RUN_POINTS])
def test_an_appearance_is_alerted_when_finish_run_fails_and_is_redriven(scenario, operation, after):
    _watched_appears_then_night_two(scenario)
    scenario.sandbox.add_fault(MANAGEMENT_ACCOUNT_ID, operation, "InternalServerError", count=1, after=after)

    execution = scenario.night("night-2")
    assert execution["status"] == "FAILED" and not STATE.faults()
    scenario.redrive_finish("night-2", execution)
    after_redrive = scenario.password_alerts()
    scenario.night("night-3")

    assert 1 <= after_redrive <= 2, f"{operation}-{after}: the redrive left {after_redrive} alerts"
    assert scenario.password_alerts() == 0, "the redrive committed the alert: night 3 must not repeat it"


def test_without_a_fault_the_appearance_is_alerted_exactly_once(scenario):
    _watched_appears_then_night_two(scenario)
    assert scenario.night("night-2")["status"] == "SUCCEEDED"
    scenario.night("night-3")
    assert scenario.password_alerts() == 1


def test_the_fault_points_cover_every_call_of_night_two(scenario):
    """Count each operation's calls on night 2 (a fault that lets NEVER calls through counts them)."""
    _watched_appears_then_night_two(scenario)
    for operation in FAULT_POINTS:
        scenario.sandbox.add_fault(MANAGEMENT_ACCOUNT_ID, operation, "InternalServerError", count=1, after=NEVER)
    scenario.night("night-2")
    calls = {fault.operation: NEVER - fault.after for fault in STATE.faults()}
    assert all(calls[op] >= 1 for op in FAULT_POINTS), calls  # every kind of call is really made
    assert {op: min(n, FAULT_POINTS[op]) for op, n in calls.items()} == calls, f"uncovered calls: {calls}"
