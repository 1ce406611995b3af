"""The nightly pipeline end to end, through the real state machine execution in the sandbox.

Each test deploys the stack (deploy_stack: table, bucket, topic, the three functions, THE definition),
seeds an organization, starts executions and reads what a user would see: the records in DynamoDB,
the S3 object, and the SNS alert through an SQS subscription. Retry waits are scaled to zero and the
functions' botocore makes one attempt, so every throttle goes through the state machine's Retry.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from rootwatch.aws.status_store import StatusStore
from rootwatch.handlers import dependencies
from rootwatch_cli.commands.run import start_and_follow
from rootwatch_sandbox import MANAGEMENT_ACCOUNT_ID, runtime
from rootwatch_sandbox.deploy import deploy_stack

from tests.integration.stack_context import PIPELINE


@dataclass
class Stack:
    outputs: dict[str, Any]
    queue_url: str
    store: StatusStore

    def night(self, name: str) -> dict[str, Any]:
        """Run the state machine once, like the nightly schedule; the execution described, with its summary."""
        sfn = boto3.client("stepfunctions")
        return start_and_follow(sfn, self.outputs["state_machine_arn"], name=name, progress=False, poll_seconds=0.02)

    def alerts(self) -> list[dict[str, Any]]:
        """Every SNS notification delivered to the queue since the last call: the SNS envelope, Message parsed."""
        sqs, received = boto3.client("sqs"), []
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return received
            for message in batch:
                envelope = json.loads(message["Body"])
                envelope["Message"] = json.loads(envelope["Message"])
                received.append(envelope)
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def results(self, summary: dict[str, Any]) -> list[dict[str, Any]]:
        body = boto3.client("s3").get_object(Bucket=self.outputs["bucket"], Key=summary["results_key"])["Body"].read()
        return [json.loads(line) for line in gzip.decompress(body).decode().splitlines()]


@pytest.fixture
def stack(sandbox):
    runtime.set_retry_scale(0.0)
    dependencies.reset()
    outputs = deploy_stack(context=PIPELINE)
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="security-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=outputs["topic_arn"], Protocol="sqs", Endpoint=queue_arn)
    yield Stack(outputs, queue_url, StatusStore(boto3.client("dynamodb"), outputs["table"]))
    runtime.set_retry_scale(None)
    dependencies.reset()


def org_of(sandbox, accounts: int) -> list[dict[str, Any]]:
    """A demo org with every member ACTIVE and clean, sorted by account id: tests then set what they need."""
    members = sorted(sandbox.create_demo_org(accounts=accounts, seed=11)["accounts"], key=lambda a: a["account_id"])
    for member in members:
        sandbox.set_account_state(member["account_id"], "ACTIVE")
        sandbox.set_root_credentials(member["account_id"])
    return members


def by_account(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["account_id"]: r for r in records}


def test_night_one_on_a_45_account_org(sandbox, stack):
    a = [m["account_id"] for m in org_of(sandbox, 45)]
    sandbox.set_root_credentials(a[0], password=True)
    sandbox.set_root_credentials(a[1], access_keys=["Inactive"])
    sandbox.set_root_credentials(a[2], mfa_devices=["virtual"])
    sandbox.set_root_credentials(a[3], signing_certificates=["Active"])
    sandbox.set_root_credentials(
        a[4],
        password=True,
        access_keys=["Active", "Inactive"],
        mfa_devices=["hardware"],
        signing_certificates=["Active"],
    )
    sandbox.add_fault(a[5], "*", "AccessDenied")  # an SCP that denies every root action in that account
    sandbox.add_fault(a[6], "GetAccountSummary", "Throttling", "Rate exceeded", count=2)
    sandbox.set_account_state(a[7], "SUSPENDED")
    sandbox.set_account_state(a[8], "CLOSED")

    execution = stack.night("night-1")

    assert execution["status"] == "SUCCEEDED"
    summary = execution["summary"]
    assert summary["totals"]["accounts"] == 46  # 45 members + the management account, listed 20 a page
    assert summary["totals"]["audited"] == 42 and summary["totals"]["errors"] == 1
    assert summary["totals"]["skipped"] == 3 and summary["totals"]["with_root_credentials"] == 5

    records = by_account(stack.results(summary))
    assert set(records) == {*a, MANAGEMENT_ACCOUNT_ID}
    assert records[MANAGEMENT_ACCOUNT_ID]["status"] == "SKIPPED"
    assert records[MANAGEMENT_ACCOUNT_ID]["error_code"] == "MANAGEMENT_ACCOUNT"
    assert (records[a[7]]["status"], records[a[7]]["error_code"]) == ("SKIPPED", "SUSPENDED")
    assert (records[a[8]]["status"], records[a[8]]["error_code"]) == ("SKIPPED", "CLOSED")
    manifest = json.loads(
        boto3.client("s3").get_object(Bucket=stack.outputs["bucket"], Key="manifests/night-1.json")["Body"].read()
    )
    assert MANAGEMENT_ACCOUNT_ID not in {m["id"] for m in manifest} and len(manifest) == 43

    denied = records[a[5]]
    assert (denied["status"], denied["error_code"]) == ("ERROR", "ACCESS_DENIED")
    assert "explicit deny in a service control policy" in denied["error_message"]
    assert denied["password_present"] is None

    throttled = records[a[6]]
    assert throttled["status"] == "OK" and throttled["root_credentials_present"] is False

    def flags(account_id):
        r = records[account_id]
        return (r["password_present"], r["access_keys_present"], r["mfa_enabled"], r["signing_certificates_present"])

    assert flags(a[0]) == (True, False, False, False)
    assert flags(a[1]) == (False, True, False, False) and records[a[1]]["inactive_access_keys"] == 1
    assert records[a[1]]["active_access_keys"] == 0
    assert flags(a[2]) == (False, False, True, False) and records[a[2]]["mfa_devices"] == 1
    assert flags(a[3]) == (False, False, False, True) and records[a[3]]["active_signing_certificates"] == 1
    assert flags(a[4]) == (True, True, True, True) and records[a[4]]["active_access_keys"] == 1
    assert flags(a[9]) == (False, False, False, False) and records[a[9]]["root_credentials_present"] is False
    assert all(r["first_audit"] for r in records.values() if r["status"] == "OK")

    alerts = stack.alerts()
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["MessageAttributes"]["event_type"]["Value"] == "ROOT_CREDENTIALS_ALERT"
    document = alert["Message"]
    assert document["schema"] == "rootwatch.alert/v1" and document["run_id"] == "night-1"
    assert {e["account_id"]: e["credentials"] for e in document["new_with_credentials"]} == {
        a[0]: ["password"],
        a[1]: ["access_keys"],
        a[2]: ["mfa"],
        a[3]: ["signing_certificates"],
        a[4]: ["password", "access_keys", "signing_certificates", "mfa"],
    }
    assert document["audit_errors"] == [
        {
            "account_id": a[5],
            "account_name": records[a[5]]["account_name"],
            "ou_path": records[a[5]]["ou_path"],
            "error_code": "ACCESS_DENIED",
            "error_message": denied["error_message"],
            "severity": "critical",
        }
    ]
    assert document["reappeared"] == []
    assert document["severity"] == "critical"
    assert len(alert["Subject"]) <= 100 and alert["Subject"].startswith("[CRITICAL] [rootwatch] ")


def test_night_two_reappearance_alerts_once_and_redrive_or_rerun_sends_no_second_alert(sandbox, stack):
    members = org_of(sandbox, 5)
    clean, steady = members[0], members[1]
    sandbox.set_root_credentials(steady["account_id"], mfa_devices=["virtual"])
    stack.night("night-1")
    stack.alerts()  # night 1's alert (a first audit that found MFA) is not what this test is about

    sandbox.set_root_credentials(clean["account_id"], password=True)
    night2 = stack.night("night-2")

    alerts = stack.alerts()
    assert len(alerts) == 1
    document = alerts[0]["Message"]
    assert document["reappeared"] == [
        {
            "account_id": clean["account_id"],
            "account_name": clean["name"],
            "ou_path": clean["ou_path"],
            "credentials": ["password"],
            "severity": "critical",  # a password without MFA
        }
    ]
    assert alerts[0]["Subject"].startswith("[CRITICAL] [rootwatch] ")
    assert document["new_with_credentials"] == [] and document["audit_errors"] == []
    assert steady["account_id"] not in json.dumps(document)  # unchanged accounts are not in it
    assert clean["account_id"] in alerts[0]["Subject"] and "password" in alerts[0]["Subject"]
    assert night2["summary"]["totals"]["reappeared"] == 1 and night2["summary"]["alert_sent"] is True

    # A redrive re-runs the unfinished steps of the same execution: same run id, same events.
    lam = boto3.client("lambda")
    scanned_at = night2["summary"]["scanned_at"]
    audit_event = {
        "run_id": "night-2",
        "scanned_at": scanned_at,
        "account": {"id": clean["account_id"], "name": clean["name"]},
    }
    audited = json.loads(
        lam.invoke(FunctionName="rootwatch-audit-account", Payload=json.dumps(audit_event))["Payload"].read()
    )
    assert audited["appeared"] == ["password"]  # the same transition, not "nothing changed since itself"
    finish_event = {
        "run_id": "night-2",
        "scanned_at": scanned_at,
        "state": {
            "prepared": {
                "run_id": "night-2",
                "scanned_at": scanned_at,
                "organization_id": night2["summary"]["organization_id"],
                "manifest_key": "manifests/night-2.json",
                "accounts": 5,
                "skipped": 1,
            }
        },
    }
    finished = json.loads(
        lam.invoke(FunctionName="rootwatch-finish-run", Payload=json.dumps(finish_event))["Payload"].read()
    )
    assert finished["alert_subject"] and finished["alert_sent"] is True
    assert stack.alerts() == []

    rerun = stack.night("night-2-rerun")  # someone starts the night again by hand
    assert rerun["summary"]["totals"]["reappeared"] == 0 and rerun["summary"]["alert_subject"] is None
    assert stack.alerts() == []


def test_account_that_errors_keeps_its_last_known_flags(sandbox, stack):
    member = org_of(sandbox, 3)[0]["account_id"]
    sandbox.set_root_credentials(member, password=True, mfa_devices=["virtual"])
    stack.night("night-1")
    sandbox.add_fault(
        member,
        "AssumeRoot",
        "AccessDenied",
        f"User: arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:root is not authorized to perform: "
        f"sts:AssumeRoot on resource: arn:aws:iam::{member}:root with an explicit deny in a "
        "service control policy",
    )
    night2 = stack.night("night-2")
    record = by_account(stack.results(night2["summary"]))[member]
    assert (record["status"], record["error_code"]) == ("ERROR", "ACCESS_DENIED")
    latest = stack.store.latest(member)
    assert latest["last_status"] == "ERROR" and latest["last_run_id"] == "night-2"
    assert latest["password_present"] is True and latest["mfa_enabled"] is True
    assert latest["known_kinds"] == ["password", "mfa"] and latest["last_success_run_id"] == "night-1"

    sandbox.clear_faults()
    stack.alerts()
    night3 = stack.night("night-3")
    record = by_account(stack.results(night3["summary"]))[member]
    assert record["status"] == "OK" and record["appeared"] == [] and record["first_audit"] is False
    assert stack.alerts() == []


def test_feature_disabled_fails_the_run_once_with_one_alert(sandbox, stack):
    org_of(sandbox, 5)
    boto3.client("iam").disable_organizations_root_credentials_management()

    execution = stack.night("night-1")

    assert execution["status"] == "FAILED"
    assert execution["error"] == "FEATURE_DISABLED" and "RootCredentialsManagement" in execution["cause"]
    alerts = stack.alerts()
    assert len(alerts) == 1
    document = alerts[0]["Message"]
    assert [e["error_code"] for e in document["audit_errors"]] == ["FEATURE_DISABLED"]
    assert stack.store.run_records("night-1") == []  # not one error per account
    assert stack.store.run_summary("night-1")["status"] == "FAILED"
    assert document["audit_errors"][0]["account_id"] == MANAGEMENT_ACCOUNT_ID
    assert alerts[0]["Subject"] == (
        f"[CRITICAL] [rootwatch] Audit run failed in {document['organization_id']}: FEATURE_DISABLED"
    )


def test_throttled_on_every_retry_ends_as_an_error_record_not_a_lost_account(sandbox, stack):
    member = org_of(sandbox, 2)[0]["account_id"]
    sandbox.add_fault(member, "AssumeRoot", "Throttling", "Rate exceeded")
    execution = stack.night("night-1")
    record = by_account(stack.results(execution["summary"]))[member]
    assert (record["status"], record["error_code"]) == ("ERROR", "THROTTLED")
    assert record["error_message"] == "Rate exceeded"
