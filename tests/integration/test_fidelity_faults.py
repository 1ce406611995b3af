"""Injected faults (the seeding API's /_rootwatch/faults): throttling, denies, counts, and whose account they hit."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from rootwatch_sandbox import MANAGEMENT_ACCOUNT_ID
from rootwatch_sandbox.seeding import SeedingError

from tests.integration.fidelity_support import (
    AUDIT,
    REGION,
    STS_ENDPOINT,
    assume_root,
    build_org,
    error_of,
    root_session,
)

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


def _sts(config: Config = NO_RETRIES):
    return boto3.client("sts", region_name=REGION, endpoint_url=STS_ENDPOINT, config=config)


def test_throttling_fault_on_assume_root_hits_the_target_account(sandbox):
    (throttled, other) = build_org()
    sandbox.add_fault(throttled, "AssumeRoot", "Throttling", count=1)
    sts = _sts()

    assert assume_root(other, sts=sts)["Credentials"]
    error = error_of(assume_root, throttled, sts=sts)

    assert error == {"Code": "Throttling", "Message": "Rate exceeded"}
    assert assume_root(throttled, sts=sts)["Credentials"]  # count spent


def test_throttling_is_recognised_and_retried_by_botocore(sandbox):
    (member, _) = build_org()
    sandbox.add_fault(member, "AssumeRoot", "Throttling", count=2)
    sts = _sts(Config(retries={"mode": "standard", "max_attempts": 3}))

    response = assume_root(member, sts=sts)

    assert response["ResponseMetadata"]["RetryAttempts"] == 2


def test_permanent_fault_keeps_failing_until_cleared(sandbox):
    (member, _) = build_org()
    sandbox.add_fault(member, "GetAccountSummary", "ServiceUnavailable", message="try later")
    iam = boto3.Session(**_credentials(member)).client("iam", config=NO_RETRIES)

    for _ in range(3):
        assert error_of(iam.get_account_summary) == {"Code": "ServiceUnavailable", "Message": "try later"}
    assert sandbox.clear_faults() == {"cleared": 1}
    assert iam.get_account_summary()["SummaryMap"]


def test_fault_on_a_management_call_uses_the_callers_account(sandbox):
    build_org()
    sandbox.add_fault(MANAGEMENT_ACCOUNT_ID, "ListAccounts", "TooManyRequestsException", count=1)
    org = boto3.client("organizations", config=NO_RETRIES)

    error = error_of(org.list_accounts)

    assert error["Code"] == "TooManyRequestsException"
    assert org.list_accounts()["Accounts"]


def test_scp_fault_with_a_message_uses_it_word_for_word(sandbox):
    (member, _) = build_org()
    sandbox.add_fault(member, "*", "AccessDenied", message="Denied by SCP p-1234")

    error = error_of(root_session(member).client("iam").get_user)

    assert error == {"Code": "AccessDenied", "Message": "Denied by SCP p-1234"}


def test_scp_fault_on_an_ec2_call_keeps_ec2s_wording(sandbox):
    (member, _) = build_org()
    sandbox.add_fault(member, "*", "UnauthorizedOperation")

    error = error_of(root_session(member).client("ec2").describe_instances)

    assert error["Code"] == "UnauthorizedOperation"
    assert error["Message"].endswith("ec2:DescribeInstances with an explicit deny in a service control policy")


def test_get_caller_identity_is_never_denied_by_an_scp(sandbox):
    (member, _) = build_org()
    sandbox.add_fault(member, "*", "AccessDenied")

    assert root_session(member).client("sts").get_caller_identity()["Account"] == member


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"operation": "AssumeRoot", "error_code": "Throttling"}, "account_id"),
        ({"account_id": "123456789012", "error_code": "Throttling"}, "operation"),
        ({"account_id": "123456789012", "operation": "AssumeRoot"}, "error_code"),
        ({"account_id": "123456789012", "operation": "X", "error_code": "Y", "count": 0}, "count"),
        ({"account_id": "123456789012", "operation": "X", "error_code": "Y", "message": 5}, "message"),
    ],
)
def test_malformed_fault_is_rejected_naming_the_field(sandbox, body, field):
    build_org()
    from rootwatch_sandbox import seeding

    with pytest.raises(SeedingError) as raised:
        seeding.add_fault(body)

    assert raised.value.status == 400
    assert raised.value.message.startswith(f"{field}:")


def test_fault_for_an_unknown_account_is_not_found(sandbox):
    build_org()

    with pytest.raises(SeedingError) as raised:
        sandbox.add_fault("999988887777", "AssumeRoot", "Throttling")

    assert raised.value.status == 404


def _credentials(member: str) -> dict[str, str]:
    credentials = assume_root(member, AUDIT)["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
        "region_name": REGION,
    }


def test_a_fault_with_after_lets_that_many_calls_through_then_fails_count_times(sandbox):
    (member, other) = build_org()
    sandbox.add_fault(member, "AssumeRoot", "InternalFailure", count=1, after=2)
    sts = _sts()

    assert assume_root(other, sts=sts)["Credentials"]  # another account's calls do not count
    assert assume_root(member, sts=sts)["Credentials"]
    assert assume_root(member, sts=sts)["Credentials"]
    assert error_of(assume_root, member, sts=sts)["Code"] == "InternalFailure"
    assert assume_root(member, sts=sts)["Credentials"]  # count spent


@pytest.mark.parametrize("after", [-1, 1.5, "2", True])
def test_a_fault_with_an_invalid_after_is_refused_naming_it(sandbox, after):
    (member, _) = build_org()
    with pytest.raises(SeedingError, match="after: expected a non-negative integer") as refused:
        sandbox.add_fault(member, "AssumeRoot", "Throttling", count=1, after=after)
    assert refused.value.status == 400
