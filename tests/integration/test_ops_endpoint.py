"""The operations verbs over HTTP with --endpoint-url, against a running sandbox server (as against AWS)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from rootwatch_cli import main
from rootwatch_sandbox.server import SandboxServer


@pytest.fixture(scope="module")
def server(exported_sandbox_server: SandboxServer) -> SandboxServer:
    return exported_sandbox_server


@pytest.fixture(scope="module")
def member(server: SandboxServer) -> str:
    org = server.seed("demo-org", {"accounts": 2, "seed": 5})
    account_id = org["accounts"][0]["account_id"]
    server.seed("root-credentials", {"account_id": account_id, "password": True, "access_keys": ["Active"]})
    return account_id


@pytest.fixture(scope="module")
def status_table(server: SandboxServer) -> str:
    """A status table in the sandbox, for the action log that executing a change writes."""
    boto3.client("dynamodb", endpoint_url=server.endpoint_url, region_name="us-east-1").create_table(
        TableName="status-over-http",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
        BillingMode="PAY_PER_REQUEST",
    )
    return "status-over-http"


def cli(server: SandboxServer, *args: str) -> int:
    return main([*args, "--endpoint-url", server.endpoint_url])


def member_s3(server: SandboxServer, account_id: str) -> Any:
    sts = boto3.client("sts", endpoint_url=server.endpoint_url, region_name="us-east-1")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/owner", RoleSessionName="setup")["Credentials"]
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def test_doctor_over_http_reports_the_endpoint_override(server, member, capsys):
    assert cli(server, "doctor", "--account", member) == 0
    assert f"STS endpoint overridden: {server.endpoint_url}" in capsys.readouterr().out


def test_remediate_over_http_refuses_to_execute_without_a_status_table(server, member, monkeypatch, capsys):
    monkeypatch.delenv("ROOTWATCH_TABLE", raising=False)
    assert cli(server, "remediate", "delete-root-credentials", "--accounts", member, "--yes") == 2
    assert "found no deployed rootwatch stack" in capsys.readouterr().err
    assert cli(server, "remediate", "delete-root-credentials", "--accounts", member) == 0
    assert "DeleteAccessKey AKIA" in capsys.readouterr().out  # still there


def test_remediate_over_http_dry_run_then_delete(server, member, status_table, capsys):
    assert cli(server, "remediate", "delete-root-credentials", "--accounts", member) == 0
    assert "DeleteAccessKey AKIA" in capsys.readouterr().out
    args = ["remediate", "delete-root-credentials", "--accounts", member, "--yes", "--table", status_table]
    assert cli(server, *args) == 0
    assert "now: no root credentials" in capsys.readouterr().out


def test_enable_over_http_is_idempotent(server, member, capsys):
    assert cli(server, "enable", "--root-sessions") == 0
    assert "enable: 0 changed" in capsys.readouterr().out


def test_unlock_over_http_removes_the_bucket_policy(server, member, status_table, tmp_path, capsys):
    s3 = member_s3(server, member)
    s3.create_bucket(Bucket="over-http")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::over-http/*"}],
    }
    s3.put_bucket_policy(Bucket="over-http", Policy=json.dumps(policy))
    args = ["unlock", "s3-bucket-policy", "--account", member, "--bucket", "over-http", "--backup-dir", str(tmp_path)]
    assert cli(server, *args, "--yes", "--table", status_table) == 0
    assert "verified" in capsys.readouterr().out
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket="over-http")
