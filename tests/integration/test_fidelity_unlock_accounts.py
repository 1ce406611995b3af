"""A root session acts only in its own account; S3 checks ExpectedBucketOwner (issue 11, item 1).

In AWS a root session of member M (S3UnlockBucketPolicy / SQSUnlockQueuePolicy) cannot touch another account's
bucket or queue: 403 AccessDenied; and S3 refuses any request whose ExpectedBucketOwner is not the bucket's owner
with 403 AccessDenied (S3 API reference, "ExpectedBucketOwner").
"""

from __future__ import annotations

import json

import boto3
from rootwatch_cli import main

from tests.integration.fidelity_support import (
    REGION,
    S3_UNLOCK,
    SQS_UNLOCK,
    build_org,
    error_of,
    member_credentials,
    root_session,
)

POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::theirs/*"}],
    }
)


def _owner_client(service: str, account: str):
    return boto3.client(service, region_name=REGION, **member_credentials(account, "owner"))


def test_s3_unlock_session_cannot_touch_another_accounts_bucket_policy(sandbox):
    (member, other) = build_org()
    _owner_client("s3", other).create_bucket(Bucket="theirs")
    _owner_client("s3", other).put_bucket_policy(Bucket="theirs", Policy=POLICY)
    s3 = root_session(member, S3_UNLOCK).client("s3")

    assert error_of(s3.get_bucket_policy, Bucket="theirs")["Code"] == "AccessDenied"
    assert error_of(s3.put_bucket_policy, Bucket="theirs", Policy=POLICY)["Code"] == "AccessDenied"
    assert error_of(s3.delete_bucket_policy, Bucket="theirs")["Code"] == "AccessDenied"
    assert _owner_client("s3", other).get_bucket_policy(Bucket="theirs")["Policy"] == POLICY


def test_expected_bucket_owner_mismatch_is_access_denied(sandbox):
    (member, other) = build_org()
    _owner_client("s3", member).create_bucket(Bucket="mine")
    _owner_client("s3", member).put_bucket_policy(Bucket="mine", Policy=POLICY.replace("theirs", "mine"))
    s3 = root_session(member, S3_UNLOCK).client("s3")

    assert error_of(s3.get_bucket_policy, Bucket="mine", ExpectedBucketOwner=other) == {
        "Code": "AccessDenied",
        "Message": "Access Denied",
    }
    assert error_of(_owner_client("s3", member).get_bucket_policy, Bucket="mine", ExpectedBucketOwner=other)[
        "Code"
    ] == ("AccessDenied")
    assert s3.get_bucket_policy(Bucket="mine", ExpectedBucketOwner=member)["Policy"]


def test_sqs_unlock_session_cannot_touch_another_accounts_queue(sandbox):
    (member, other) = build_org()
    theirs = _owner_client("sqs", other).create_queue(QueueName="locked")["QueueUrl"]
    _owner_client("sqs", member).create_queue(QueueName="locked")  # same name in M: must not be the one changed
    sqs = root_session(member, SQS_UNLOCK).client("sqs")

    assert error_of(sqs.get_queue_attributes, QueueUrl=theirs, AttributeNames=["Policy"])["Code"] == "AccessDenied"
    assert error_of(sqs.set_queue_attributes, QueueUrl=theirs, Attributes={"Policy": ""})["Code"] == "AccessDenied"


def test_rootwatch_unlock_with_the_wrong_account_for_the_bucket_fails(sandbox, tmp_path, capsys):
    (member, other) = build_org()
    _owner_client("s3", other).create_bucket(Bucket="theirs")
    _owner_client("s3", other).put_bucket_policy(Bucket="theirs", Policy=POLICY)

    code = main(
        [
            "unlock",
            "s3-bucket-policy",
            "--account",
            member,
            "--bucket",
            "theirs",
            "--backup-dir",
            str(tmp_path),
            "--yes",
            "--no-action-log",
        ]
    )

    assert code == 1
    assert "GetBucketPolicy: AccessDenied: Access Denied" in capsys.readouterr().err
    assert _owner_client("s3", other).get_bucket_policy(Bucket="theirs")["Policy"] == POLICY
