"""AssumeRoot's rules beyond the reports: who may call it, which targets, validation, expiry (docs/aws-behaviour.md)."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from rootwatch_sandbox import MANAGEMENT_ACCOUNT_ID

from tests.integration.fidelity_support import (
    AUDIT,
    REGION,
    STS_ENDPOINT,
    assume_root,
    build_org,
    error_of,
    member_credentials,
    root_session,
    sts_client,
)


def _unvalidated_sts():
    """An STS client that skips botocore's own checks, to see what the service answers."""
    return boto3.client("sts", region_name=REGION, endpoint_url=STS_ENDPOINT, config=Config(parameter_validation=False))


def test_target_principal_may_be_the_root_arn(sandbox):
    (member, _) = build_org()

    session = root_session(f"arn:aws:iam::{member}:root")

    assert session.client("sts").get_caller_identity()["Account"] == member


@pytest.mark.parametrize("target", ["12345678901", "arn:aws:iam::123:root", "arn:aws:iam::111122223333:user/bob"])
def test_malformed_target_principal_is_a_validation_error(sandbox, target):
    build_org()

    error = error_of(
        _unvalidated_sts().assume_root, TargetPrincipal=target, TaskPolicyArn={"arn": AUDIT}, DurationSeconds=900
    )

    assert error["Code"] == "ValidationError"
    assert "TargetPrincipal" in error["Message"] or "targetPrincipal" in error["Message"]


def test_short_target_principal_fails_the_length_constraint(sandbox):
    build_org()

    error = error_of(_unvalidated_sts().assume_root, TargetPrincipal="1234", TaskPolicyArn={"arn": AUDIT})

    assert error == {
        "Code": "ValidationError",
        "Message": "1 validation error detected: Value '1234' at 'targetPrincipal' failed to satisfy constraint: "
        "Member must have length greater than or equal to 12",
    }


def test_duration_over_900_seconds_is_a_validation_error(sandbox):
    (member, _) = build_org()

    error = error_of(assume_root, member, AUDIT, duration=901)

    assert error == {
        "Code": "ValidationError",
        "Message": "1 validation error detected: Value '901' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value less than or equal to 900",
    }


def test_duration_defaults_to_900_seconds(sandbox):
    (member, _) = build_org()
    sts = sts_client()

    credentials = sts.assume_root(TargetPrincipal=member, TaskPolicyArn={"arn": AUDIT})["Credentials"]
    sandbox.clock.advance(880)  # leaves slack for real time passing on a loaded machine
    session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )

    assert session.client("iam").get_account_summary()["SummaryMap"]
    sandbox.clock.advance(40)
    assert error_of(session.client("iam").get_account_summary)["Code"] == "ExpiredToken"


def test_only_the_five_task_policies_are_accepted(sandbox):
    (member, _) = build_org()

    error = error_of(assume_root, member, "arn:aws:iam::aws:policy/AdministratorAccess")

    assert error["Code"] == "ValidationError"


def test_session_expires_after_duration_seconds(sandbox):
    (member, _) = build_org()
    iam = root_session(member).client("iam")
    assert iam.get_account_summary()

    sandbox.clock.advance(901)

    assert error_of(iam.get_account_summary) == {
        "Code": "ExpiredToken",
        "Message": "The security token included in the request is expired",
    }


def test_iam_delegated_administrator_may_call_assume_root(sandbox):
    (member, admin) = build_org()
    boto3.client("organizations").register_delegated_administrator(
        AccountId=admin, ServicePrincipal="iam.amazonaws.com"
    )

    response = assume_root(member, sts=sts_client(**member_credentials(admin)))

    assert response["Credentials"]["AccessKeyId"]


def test_member_that_is_not_delegated_administrator_is_denied(sandbox):
    (member, other) = build_org()

    error = error_of(assume_root, member, sts=sts_client(**member_credentials(other)))

    assert error["Code"] == "AccessDenied"


def test_management_account_cannot_be_the_target(sandbox):
    build_org()

    assert error_of(assume_root, MANAGEMENT_ACCOUNT_ID)["Code"] == "AccessDenied"


def test_account_outside_the_org_cannot_be_the_target(sandbox):
    build_org()

    assert error_of(assume_root, "999988887777")["Code"] == "AccessDenied"


@pytest.mark.parametrize("state", ["SUSPENDED", "PENDING_CLOSURE", "CLOSED"])
def test_inactive_account_cannot_be_the_target(sandbox, state):
    (member, _) = build_org()
    sandbox.set_account_state(member, state)

    assert error_of(assume_root, member)["Code"] == "AccessDenied"


def test_without_trusted_access_assume_root_is_service_not_enabled(sandbox):
    (member, _) = build_org(trusted_access=False, credentials_management=False, root_sessions=False)

    assert error_of(assume_root, member)["Message"] == "Service not enabled for AWS Organizations."


def test_root_session_cannot_call_assume_root_again(sandbox):
    (member, other) = build_org()
    credentials = root_session(member).get_credentials()
    sts = sts_client(
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        aws_session_token=credentials.token,
    )

    error = error_of(assume_root, other, sts=sts)

    assert error["Code"] == "AccessDenied"
    assert "sts:AssumeRoot with an explicit deny" in error["Message"]


def test_root_state_does_not_leak_into_the_next_sandbox(sandbox):
    (member, _) = build_org()
    sandbox.set_root_credentials(member, password=True)
    sandbox.stop()
    sandbox.start()
    (member, _) = build_org()

    flags = root_session(member).client("iam").get_account_summary()["SummaryMap"]

    assert flags["AccountPasswordPresent"] == 0
