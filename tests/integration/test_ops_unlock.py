"""`rootwatch unlock` against the sandbox: show, back up, confirm, remove, verify (docs/operations.md)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import botocore.client
import pytest
from rootwatch_cli import main
from rootwatch_sandbox import MANAGEMENT_ACCOUNT_ID

from tests.integration.stack_context import pipeline

BUCKET = "locked-bucket"


def lockout_policy(resource: str, service: str) -> str:
    """The unlock field report's policy: deny everything to everyone."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Principal": "*", "Action": f"{service}:*", "Resource": resource}],
        }
    )


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def member_client(service: str, account_id: str) -> Any:
    """A client acting inside the member account (moto maps assumed-role credentials to it)."""
    creds = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/owner", RoleSessionName="setup"
    )["Credentials"]
    return boto3.client(
        service,
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def create_status_table(name: str = "status") -> str:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def action_items(table: str, account_id: str) -> list[dict[str, Any]]:
    return boto3.client("dynamodb", region_name="us-east-1").query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ACTION#{account_id}"}},
    )["Items"]


@pytest.fixture
def member(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """One member account, and a status table named by $ROOTWATCH_TABLE (executing needs an action log)."""
    monkeypatch.setenv("ROOTWATCH_TABLE", create_status_table())
    org = sandbox.create_demo_org(accounts=1, seed=3)
    return org["accounts"][0]["account_id"]


@pytest.fixture
def locked_bucket(member: str) -> str:
    s3 = member_client("s3", member)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=lockout_policy(f"arn:aws:s3:::{BUCKET}/*", "s3"))
    return BUCKET


@pytest.fixture
def locked_queue(member: str) -> str:
    sqs = member_client("sqs", member)
    url = sqs.create_queue(QueueName="my-queue")["QueueUrl"]
    policy = lockout_policy(f"arn:aws:sqs:us-east-1:{member}:my-queue", "sqs")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    return url


def bucket_policy(member: str) -> str | None:
    try:
        return member_client("s3", member).get_bucket_policy(Bucket=BUCKET)["Policy"]
    except member_client("s3", member).exceptions.from_code("NoSuchBucketPolicy"):
        return None


def queue_policy(member: str, url: str) -> str | None:
    attributes = member_client("sqs", member).get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
    return attributes.get("Attributes", {}).get("Policy") or None


def backups(directory: Path) -> list[Path]:
    return sorted(directory.glob("rootwatch-backup-*.json"))


def s3_args(member: str, tmp_path: Path, *extra: str) -> list[str]:
    return [
        "unlock",
        "s3-bucket-policy",
        "--account",
        member,
        "--bucket",
        BUCKET,
        "--backup-dir",
        str(tmp_path),
        *extra,
    ]


def test_s3_dry_run_shows_and_backs_up_the_policy_but_leaves_it(member, locked_bucket, tmp_path, capsys):
    before = bucket_policy(member)
    assert main(s3_args(member, tmp_path)) == 0
    out = capsys.readouterr().out
    assert '"Effect": "Deny"' in out and "dry run" in out
    [backup] = backups(tmp_path)
    assert backup.read_text() == before
    assert f"backup saved: {backup}" in out
    assert bucket_policy(member) == before


def test_s3_yes_removes_the_policy_and_verifies(member, locked_bucket, tmp_path, capsys):
    original = bucket_policy(member)
    assert main(s3_args(member, tmp_path, "--yes")) == 0
    out = capsys.readouterr().out
    assert bucket_policy(member) is None
    assert "verified" in out
    [backup] = backups(tmp_path)
    assert backup.read_text() == original
    assert f"--policy file://{backup}" in out


def test_s3_session_credentials_never_reach_output_or_backup(member, locked_bucket, tmp_path, monkeypatch, capsys):
    handed_out: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        answer = original(self, operation_name, api_params)
        if operation_name == "AssumeRoot":
            handed_out.extend(answer["Credentials"][k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken"))
        return answer

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    assert main(s3_args(member, tmp_path, "--yes")) == 0
    captured = capsys.readouterr()
    assert len(handed_out) == 6  # the read session and the delete session
    text = captured.out + captured.err + "".join(p.read_text() for p in backups(tmp_path))
    assert [secret for secret in handed_out if secret in text] == []


def test_s3_bucket_without_a_policy_says_so_and_writes_no_backup(member, locked_bucket, tmp_path, capsys):
    member_client("s3", member).delete_bucket_policy(Bucket=BUCKET)
    assert main(s3_args(member, tmp_path, "--yes")) == 0
    assert "has no bucket policy: nothing to unlock" in capsys.readouterr().out
    assert backups(tmp_path) == []


def test_s3_unknown_bucket_is_refused(member, tmp_path, capsys):
    assert main(s3_args(member, tmp_path, "--yes")) == 2
    assert f"no bucket '{BUCKET}' in account {member}" in capsys.readouterr().err


def test_s3_cancelled_confirmation_keeps_the_policy_and_the_backup(
    member, locked_bucket, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    before = bucket_policy(member)
    assert main(s3_args(member, tmp_path, "--execute")) == 1
    assert "cancelled: nothing changed" in capsys.readouterr().out
    assert bucket_policy(member) == before
    assert len(backups(tmp_path)) == 1


def test_s3_confirmed_at_the_terminal_removes_the_policy(member, locked_bucket, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    assert main(s3_args(member, tmp_path, "--execute")) == 0
    assert bucket_policy(member) is None


def test_root_sessions_disabled_is_refused_with_seed_000_message(member, locked_bucket, tmp_path, capsys):
    boto3.client("iam", region_name="us-east-1").disable_organizations_root_sessions()
    assert main(s3_args(member, tmp_path, "--yes")) == 2
    err = capsys.readouterr().err
    assert "Root sessions feature is not enabled for your AWS Organization." in err
    assert "rootwatch enable --root-sessions" in err
    assert bucket_policy(member) is not None


def test_the_management_account_is_refused(member, tmp_path, capsys):
    args = ["unlock", "s3-bucket-policy", "--account", MANAGEMENT_ACCOUNT_ID, "--bucket", BUCKET, "--yes"]
    assert main(args) == 2
    assert "is the management account" in capsys.readouterr().err


def test_unknown_account_is_refused(member, tmp_path, capsys):
    assert main(["unlock", "s3-bucket-policy", "--account", "999999999999", "--bucket", BUCKET, "--yes"]) == 2
    assert "not a member of organization" in capsys.readouterr().err


def test_unlock_writes_the_action_log(member, locked_bucket, tmp_path, capsys):
    table = create_status_table("another")
    assert main(s3_args(member, tmp_path, "--yes", "--table", table)) == 0
    items = action_items(table, member)
    assert [(i["action"]["S"], i["target"]["S"], i["result"]["S"]) for i in items] == [
        ("DeleteBucketPolicy", BUCKET, "done")
    ]


# -- SQS ----------------------------------------------------------------------------------------------------


def test_sqs_yes_clears_the_queue_policy_and_verifies(member, locked_queue, tmp_path, capsys):
    original = queue_policy(member, locked_queue)
    args = ["unlock", "sqs-queue-policy", "--account", member, "--queue-url", locked_queue]
    assert main([*args, "--backup-dir", str(tmp_path), "--yes"]) == 0
    assert queue_policy(member, locked_queue) is None
    [backup] = backups(tmp_path)
    assert backup.read_text() == original
    assert "verified" in capsys.readouterr().out


def test_sqs_dry_run_leaves_the_policy(member, locked_queue, tmp_path):
    before = queue_policy(member, locked_queue)
    args = ["unlock", "sqs-queue-policy", "--account", member, "--queue-url", locked_queue]
    assert main([*args, "--backup-dir", str(tmp_path)]) == 0
    assert queue_policy(member, locked_queue) == before


def test_sqs_queue_of_another_account_is_a_usage_error(member, locked_queue, capsys):
    args = ["unlock", "sqs-queue-policy", "--account", "222222222222", "--queue-url", locked_queue, "--yes"]
    assert main(args) == 2
    assert "--queue-url: the queue belongs to account" in capsys.readouterr().err


# -- never act on more than asked (issue 9) ------------------------------------------------------------------


def test_yes_without_a_findable_status_table_is_refused_and_the_policy_stays(
    member, locked_bucket, tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv("ROOTWATCH_TABLE")
    before = bucket_policy(member)
    assert main(s3_args(member, tmp_path, "--yes")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--table" in err and "--no-action-log" in err
    assert bucket_policy(member) == before
    assert backups(tmp_path) == []  # refused before anything was read or written


def test_sqs_yes_without_a_findable_status_table_is_refused(member, locked_queue, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("ROOTWATCH_TABLE")
    before = queue_policy(member, locked_queue)
    args = ["unlock", "sqs-queue-policy", "--account", member, "--queue-url", locked_queue, "--yes"]
    assert main([*args, "--backup-dir", str(tmp_path)]) == 2
    assert "--no-action-log" in capsys.readouterr().err
    assert queue_policy(member, locked_queue) == before


def test_no_action_log_opts_out_explicitly(member, locked_bucket, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("ROOTWATCH_TABLE")
    assert main(s3_args(member, tmp_path, "--yes", "--no-action-log")) == 0
    assert bucket_policy(member) is None
    assert "audit log: skipped: --no-action-log" in capsys.readouterr().out
    assert action_items("status", member) == []


def test_the_deployed_stacks_status_table_is_discovered(member, locked_bucket, tmp_path, monkeypatch, capsys):
    from rootwatch_sandbox.deploy import deploy_stack

    monkeypatch.delenv("ROOTWATCH_TABLE")
    table = deploy_stack(context=pipeline(resourcePrefix="deployed"))["table"]
    assert main(s3_args(member, tmp_path, "--yes")) == 0
    assert f"audit log: DynamoDB table {table} " in capsys.readouterr().out
    assert [i["action"]["S"] for i in action_items(table, member)] == ["DeleteBucketPolicy"]


def test_a_dry_run_needs_no_status_table(member, locked_bucket, tmp_path, monkeypatch):
    monkeypatch.delenv("ROOTWATCH_TABLE")
    assert main(s3_args(member, tmp_path)) == 0


@pytest.mark.parametrize("value", ["", " ", ",", "١٢٣٤٥٦٧٨٩٠١٢", "{m},{m}", "{m},222233334444"])
def test_account_must_be_exactly_one_ascii_id(member, locked_bucket, tmp_path, capsys, value):
    before = bucket_policy(member)
    args = ["unlock", "s3-bucket-policy", "--account", value.format(m=member), "--bucket", BUCKET, "--yes"]
    assert main([*args, "--backup-dir", str(tmp_path), "--no-action-log"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--account" in err and "Traceback" not in err
    assert bucket_policy(member) == before


@pytest.mark.parametrize(
    "target", [["s3-bucket-policy", "--bucket", BUCKET], ["sqs-queue-policy", "--queue-url", "https://q/1/q"]]
)
def test_a_missing_account_is_a_usage_error(member, capsys, target):
    assert main(["unlock", *target, "--yes", "--no-action-log"]) == 2
    assert "required: --account" in capsys.readouterr().err
