"""Preflight refusals decided from what is known about the caller (pure: no AWS)."""

from __future__ import annotations

import pytest
from rootwatch.domain.task_policies import TaskPolicy
from rootwatch_cli.operations.preflight import (
    CallerContext,
    Refusal,
    RefusalReason,
    require_management,
    require_root_access,
)

MGMT = "123456789012"
ARN = "arn:aws:iam::210987654321:role/ops"


def caller(account_id: str = MGMT, delegated: bool | None = False, features=("RootCredentialsManagement",)):
    return CallerContext(account_id, ARN, "o-abc", MGMT, delegated, None if features is None else frozenset(features))


def test_enable_is_refused_outside_the_management_account_naming_both_accounts():
    with pytest.raises(Refusal) as refused:
        require_management(caller("210987654321", delegated=True), "rootwatch enable")
    assert refused.value.reason is RefusalReason.NOT_MANAGEMENT_ACCOUNT
    assert MGMT in refused.value.message and "210987654321" in refused.value.message


def test_a_plain_member_account_may_not_assume_root():
    with pytest.raises(Refusal) as refused:
        require_root_access(caller("210987654321", delegated=False), TaskPolicy.IAM_DELETE_ROOT_USER_CREDENTIALS)
    assert refused.value.reason is RefusalReason.NOT_MANAGEMENT_OR_DELEGATED_ADMIN


@pytest.mark.parametrize("policy", list(TaskPolicy))
def test_an_unknown_delegated_admin_status_is_left_to_assume_root(policy):
    unknown = caller("210987654321", delegated=None, features=None)
    assert not unknown.is_management and not unknown.cannot_assume_root
    assert require_root_access(unknown, policy) is None  # not refused: AssumeRoot itself decides
    # The same member account, once known not to be the delegated admin, is refused: the pass above is
    # the unknown status, not a check that lets every member account through.
    with pytest.raises(Refusal) as refused:
        require_root_access(caller("210987654321", delegated=False, features=None), policy)
    assert refused.value.reason is RefusalReason.NOT_MANAGEMENT_OR_DELEGATED_ADMIN


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (TaskPolicy.S3_UNLOCK_BUCKET_POLICY, "Root sessions feature is not enabled for your AWS Organization."),
        (TaskPolicy.SQS_UNLOCK_QUEUE_POLICY, "Root sessions feature is not enabled for your AWS Organization."),
        (TaskPolicy.IAM_DELETE_ROOT_USER_CREDENTIALS, "Service not enabled for AWS Organizations."),
    ],
)
def test_a_missing_feature_is_refused_with_seed_000_wording_and_the_enable_command(policy, message):
    with pytest.raises(Refusal) as refused:
        require_root_access(caller(features=()), policy)
    assert refused.value.reason is RefusalReason.FEATURE_DISABLED
    assert message in refused.value.message and "rootwatch enable" in refused.value.message


def test_the_delegated_admin_with_the_feature_on_passes():
    admin = caller("210987654321", delegated=True)
    policy = TaskPolicy.IAM_CREATE_ROOT_USER_PASSWORD
    assert policy.required_feature in admin.enabled_features
    assert not admin.is_management and not admin.cannot_assume_root
    assert require_root_access(admin, policy) is None
    # The same delegated admin is refused once the feature the policy needs is off, and when it is not
    # the delegated admin after all: the pass above depends on both.
    with pytest.raises(Refusal) as refused:
        require_root_access(caller("210987654321", delegated=True, features=()), policy)
    assert refused.value.reason is RefusalReason.FEATURE_DISABLED
    with pytest.raises(Refusal) as refused:
        require_root_access(caller("210987654321", delegated=False), policy)
    assert refused.value.reason is RefusalReason.NOT_MANAGEMENT_OR_DELEGATED_ADMIN
