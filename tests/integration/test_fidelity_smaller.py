"""Smaller differences (issue 11, item 5): root list paging, CreateLoginProfile's Password in a root session,
AssumeRoot's MinimumSessionTokenSize, the IAM organization-feature errors' reference wording, UUID request ids."""

from __future__ import annotations

import base64
import uuid

import boto3

from tests.integration.fidelity_support import (
    AUDIT,
    CREATE_PASSWORD,
    REGION,
    assume_root,
    build_org,
    error_of,
    member_credentials,
    root_session,
    sts_client,
)


def test_root_list_calls_page_with_max_items_and_marker(sandbox):
    (member, _) = build_org()
    sandbox.set_root_credentials(
        member,
        access_keys=["Active", "Inactive"],
        mfa_devices=["virtual", "hardware"],
        signing_certificates=["Active"] * 2,
    )
    iam = root_session(member, AUDIT).client("iam")

    for method, member_name in (
        (iam.list_mfa_devices, "MFADevices"),
        (iam.list_access_keys, "AccessKeyMetadata"),
        (iam.list_signing_certificates, "Certificates"),
    ):
        first = method(MaxItems=1)
        second = method(MaxItems=1, Marker=first["Marker"])
        assert (len(first[member_name]), first["IsTruncated"]) == (1, True)
        assert (len(second[member_name]), second["IsTruncated"]) == (1, False)
        assert "Marker" not in second and first[member_name] != second[member_name]
    paged = [
        d["SerialNumber"]
        for d in iam.get_paginator("list_mfa_devices")
        .paginate(PaginationConfig={"PageSize": 1})
        .build_full_result()["MFADevices"]
    ]
    assert len(paged) == 2


def test_create_login_profile_with_a_password_in_a_root_session_is_refused(sandbox):
    (member, _) = build_org()
    iam = root_session(member, CREATE_PASSWORD).client("iam")

    assert error_of(iam.create_login_profile, Password="Correct-Horse-1")["Code"] == "ValidationError"
    assert "CreateDate" in iam.create_login_profile()["LoginProfile"]


def test_assume_root_minimum_session_token_size(sandbox):
    (member, _) = build_org()
    sts = sts_client()

    token = sts.assume_root(TargetPrincipal=member, TaskPolicyArn={"arn": AUDIT}, MinimumSessionTokenSize=2048)[
        "Credentials"
    ]["SessionToken"]
    default = assume_root(member)["Credentials"]["SessionToken"]

    assert len(token.encode()) >= 2048 > len(default.encode())
    base64.b64decode(token)  # still a token, not padding garbage


def test_iam_organization_feature_errors_use_the_api_reference_wording(sandbox):
    (member, _) = build_org()
    iam = boto3.client("iam", region_name=REGION, **member_credentials(member))

    assert error_of(iam.list_organizations_features) == {
        "Code": "AccountNotManagementOrDelegatedAdministratorException",
        "Message": "The request was rejected because the account making the request is not the management account "
        "or delegated administrator account for centralized root access.",
    }
    outside = boto3.client("iam", region_name=REGION, **member_credentials("999999999999"))
    assert error_of(outside.list_organizations_features)["Message"] == (
        "The request was rejected because no organization is associated with your account."
    )


def test_request_ids_are_uuids(sandbox):
    (member, _) = build_org()
    answers = [
        sts_client().assume_root(TargetPrincipal=member, TaskPolicyArn={"arn": AUDIT}),
        root_session(member).client("iam").get_account_summary(),
        boto3.client("organizations", region_name=REGION).list_accounts(),
        boto3.client("iam", region_name=REGION).list_organizations_features(),
    ]

    for answer in answers:
        assert uuid.UUID(answer["ResponseMetadata"]["RequestId"]).version == 4
