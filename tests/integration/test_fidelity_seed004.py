"""The unlock report (enabling both features from the CLI, caller identity of a root session, S3 and SQS unlock)."""

from __future__ import annotations

import json

import boto3

from tests.integration.fidelity_support import (
    AUDIT,
    REGION,
    S3_UNLOCK,
    SQS_UNLOCK,
    build_org,
    error_of,
    member_credentials,
    root_session,
)

DENY_ALL_BUCKET = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Action": "s3:*",
            "Effect": "Deny",
            "Resource": ["arn:aws:s3:::my-bucket", "arn:aws:s3:::my-bucket/*"],
            "Principal": "*",
        }
    ],
}


def _member_client(service: str, member: str):
    """A client acting in the member account as an ordinary principal (to set the scene)."""
    return boto3.client(service, region_name=REGION, **member_credentials(member, "setup"))


def test_features_enabled_from_the_cli_are_listed(sandbox):
    build_org(credentials_management=False, root_sessions=False)
    iam = boto3.client("iam", region_name=REGION)

    iam.enable_organizations_root_credentials_management()
    answer = iam.enable_organizations_root_sessions()

    assert answer["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]
    listed = iam.list_organizations_features()
    assert listed["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]
    assert listed["OrganizationId"] == boto3.client("organizations").describe_organization()["Organization"]["Id"]


def test_root_session_caller_identity_is_the_member_root(sandbox):
    (member, _) = build_org()

    identity = root_session(member, S3_UNLOCK).client("sts").get_caller_identity()

    assert (identity["UserId"], identity["Account"], identity["Arn"]) == (member, member, f"arn:aws:iam::{member}:root")


def test_s3_unlock_session_deletes_the_bucket_policy_in_the_member_account(sandbox):
    (member, _) = build_org()
    setup = _member_client("s3", member)
    setup.create_bucket(Bucket="my-bucket")
    setup.put_bucket_policy(Bucket="my-bucket", Policy=json.dumps(DENY_ALL_BUCKET))
    s3 = root_session(member, S3_UNLOCK).client("s3")

    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["my-bucket"]
    assert json.loads(s3.get_bucket_policy(Bucket="my-bucket")["Policy"]) == DENY_ALL_BUCKET
    s3.delete_bucket_policy(Bucket="my-bucket")

    assert error_of(setup.get_bucket_policy, Bucket="my-bucket")["Code"] == "NoSuchBucketPolicy"


def test_s3_unlock_session_cannot_read_objects(sandbox):
    (member, _) = build_org()
    _member_client("s3", member).create_bucket(Bucket="my-bucket")
    s3 = root_session(member, S3_UNLOCK).client("s3")

    error = error_of(s3.list_objects_v2, Bucket="my-bucket")

    assert error["Code"] == "AccessDenied"
    assert "with an explicit deny in an identity-based policy" in error["Message"]


def test_sqs_unlock_session_lists_queues_and_clears_the_queue_policy(sandbox):
    (member, _) = build_org()
    setup = _member_client("sqs", member)
    url = setup.create_queue(QueueName="my-queue")["QueueUrl"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Action": "sqs:*", "Effect": "Deny", "Principal": "*", "Resource": "*"}],
    }
    setup.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    sqs = root_session(member, SQS_UNLOCK).client("sqs")

    assert sqs.list_queues()["QueueUrls"] == [url]
    assert f"/{member}/my-queue" in url
    assert "Policy" in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})

    attributes = setup.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})
    assert not attributes.get("Policy")


def test_sqs_unlock_session_cannot_read_messages(sandbox):
    (member, _) = build_org()
    url = _member_client("sqs", member).create_queue(QueueName="my-queue")["QueueUrl"]

    error = error_of(root_session(member, SQS_UNLOCK).client("sqs").receive_message, QueueUrl=url)

    assert error["Code"] == "AccessDenied"


def test_unlock_sessions_cannot_read_the_root_user(sandbox):
    (member, _) = build_org()

    assert error_of(root_session(member, S3_UNLOCK).client("iam").get_account_summary)["Code"] == "AccessDenied"
    assert root_session(member, AUDIT).client("iam").get_account_summary()["SummaryMap"]
