"""The CLI field report (AssumeRoot from the CLI, reading a member's root user): what real AWS answered, reproduced."""

from __future__ import annotations

import datetime as dt

import boto3

from tests.integration.fidelity_support import (
    AUDIT,
    S3_UNLOCK,
    assume_root,
    build_org,
    error_of,
    root_session,
)


def test_assume_root_answers_credentials_expiring_after_duration(sandbox):
    (member, _) = build_org()
    before = dt.datetime.now(dt.UTC)

    response = assume_root(member, AUDIT, duration=900)

    credentials = response["Credentials"]
    assert set(credentials) == {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    assert credentials["AccessKeyId"].startswith("ASIA")
    lifetime = credentials["Expiration"] - before
    assert dt.timedelta(seconds=898) <= lifetime <= dt.timedelta(seconds=930)  # slack for a loaded machine


def test_assume_root_with_feature_disabled_is_service_not_enabled(sandbox):
    (member, _) = build_org(credentials_management=False, root_sessions=False)

    error = error_of(assume_root, member, AUDIT)

    assert error == {"Code": "AccessDenied", "Message": "Service not enabled for AWS Organizations."}


def test_s3_unlock_without_root_sessions_is_denied_but_audit_still_works(sandbox):
    (member, _) = build_org(root_sessions=False)

    error = error_of(assume_root, member, S3_UNLOCK)

    assert error == {
        "Code": "AccessDenied",
        "Message": "Root sessions feature is not enabled for your AWS Organization.",
    }
    assert assume_root(member, AUDIT)["Credentials"]["AccessKeyId"]


def test_out_of_scope_ec2_call_is_unauthorized_operation_with_explicit_deny(sandbox):
    (member, _) = build_org()
    session = root_session(member, AUDIT)

    error = error_of(session.client("ec2", region_name="us-west-1").describe_instances)

    assert error == {
        "Code": "UnauthorizedOperation",
        "Message": "You are not authorized to perform this operation. "
        f"User: arn:aws:iam::{member}:root is not authorized to perform: ec2:DescribeInstances "
        "with an explicit deny in an identity-based policy",
    }


def test_out_of_scope_iam_call_is_access_denied_with_explicit_deny(sandbox):
    (member, _) = build_org()
    session = root_session(member, AUDIT)

    error = error_of(session.client("iam").list_users)

    assert error == {
        "Code": "AccessDenied",
        "Message": f"User: arn:aws:iam::{member}:root is not authorized to perform: iam:ListUsers "
        "with an explicit deny in an identity-based policy",
    }


def test_get_user_answers_for_root_even_without_credentials(sandbox):
    (member, _) = build_org()
    joined = boto3.client("organizations").describe_account(AccountId=member)["Account"]["JoinedTimestamp"]

    user = root_session(member).client("iam").get_user()["User"]

    assert user["UserId"] == member
    assert user["Arn"] == f"arn:aws:iam::{member}:root"
    assert "UserName" not in user
    assert user["CreateDate"] <= joined


def test_get_login_profile_without_password_is_no_such_entity_for_user_null(sandbox):
    (member, _) = build_org()

    error = error_of(root_session(member).client("iam").get_login_profile)

    assert error == {"Code": "NoSuchEntity", "Message": "Login Profile for User null cannot be found."}


def test_root_without_credentials_lists_no_keys_devices_or_certificates(sandbox):
    (member, _) = build_org()
    iam = root_session(member).client("iam")

    assert iam.list_access_keys()["AccessKeyMetadata"] == []
    assert iam.list_mfa_devices()["MFADevices"] == []
    assert iam.list_signing_certificates()["Certificates"] == []


def test_root_with_credentials_answers_each_read_call(sandbox):
    (member, _) = build_org()
    seeded = sandbox.set_root_credentials(
        member,
        password=True,
        access_keys=["Active"],
        mfa_devices=["virtual"],
        signing_certificates=["Active"],
        password_last_used="2025-12-13T22:11:47+00:00",
    )
    iam = root_session(member).client("iam")

    assert iam.get_user()["User"]["PasswordLastUsed"] == dt.datetime(2025, 12, 13, 22, 11, 47, tzinfo=dt.UTC)
    assert iam.get_login_profile()["LoginProfile"]["PasswordResetRequired"] is False
    (key,) = iam.list_access_keys()["AccessKeyMetadata"]
    assert (key["AccessKeyId"], key["Status"]) == (seeded["access_key_ids"][0], "Active")
    (certificate,) = iam.list_signing_certificates()["Certificates"]
    assert certificate["CertificateId"] == seeded["signing_certificate_ids"][0]
    assert certificate["CertificateBody"].startswith("-----BEGIN CERTIFICATE-----")
    assert set(certificate) == {"CertificateId", "CertificateBody", "Status", "UploadDate"}
    (device,) = iam.list_mfa_devices()["MFADevices"]
    assert device["SerialNumber"].startswith(f"arn:aws:iam::{member}:mfa/")
    assert set(device) == {"SerialNumber", "EnableDate"}


def test_access_key_last_used_is_reported_for_root_keys(sandbox):
    (member, _) = build_org()
    seeded = sandbox.set_root_credentials(
        member, access_keys=["Active", "Inactive"], access_key_last_used="2025-12-01T10:00:00Z"
    )
    iam = root_session(member).client("iam")

    last_used = iam.get_access_key_last_used(AccessKeyId=seeded["access_key_ids"][0])["AccessKeyLastUsed"]

    assert last_used["LastUsedDate"] == dt.datetime(2025, 12, 1, 10, 0, tzinfo=dt.UTC)


def test_list_accounts_shows_state_beside_legacy_status(sandbox):
    build_org()

    accounts = boto3.client("organizations").list_accounts()["Accounts"]

    assert all(account["State"] == "ACTIVE" and account["Status"] == "ACTIVE" for account in accounts)
    assert {"Id", "Arn", "Email", "Name", "Status", "State", "JoinedMethod", "JoinedTimestamp"} <= set(accounts[0])
