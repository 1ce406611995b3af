"""Who is calling, and may they act on this account? The checks every operation makes before it changes anything.

AssumeRoot and the IAM organization features work only from the Organizations management account or the
account registered as IAM delegated administrator (docs/aws-behaviour.md); enabling the features works only from the
management account. rootwatch never opens a root session on the management account itself: it is not a
member account, and its root user is not centrally managed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError
from rootwatch.aws.clients import ClientFactory
from rootwatch.domain.errors import FeatureDisabledError, RootwatchError
from rootwatch.domain.features import FEATURE_DISABLED_MESSAGES, ROOT_CREDENTIALS_MANAGEMENT, ROOT_SESSIONS
from rootwatch.domain.task_policies import TaskPolicy

IAM_SERVICE_PRINCIPAL = "iam.amazonaws.com"
ENABLE_COMMAND = {
    ROOT_CREDENTIALS_MANAGEMENT: "rootwatch enable",
    ROOT_SESSIONS: "rootwatch enable --root-sessions",
}


class RefusalReason(StrEnum):
    NOT_IN_ORGANIZATION = "NOT_IN_ORGANIZATION"
    NOT_ALL_FEATURES = "NOT_ALL_FEATURES"
    NOT_MANAGEMENT_ACCOUNT = "NOT_MANAGEMENT_ACCOUNT"
    NOT_MANAGEMENT_OR_DELEGATED_ADMIN = "NOT_MANAGEMENT_OR_DELEGATED_ADMIN"
    FEATURE_DISABLED = "FEATURE_DISABLED"
    MANAGEMENT_ACCOUNT_TARGET = "MANAGEMENT_ACCOUNT_TARGET"
    UNKNOWN_ACCOUNT = "UNKNOWN_ACCOUNT"
    ACCOUNT_NOT_ACTIVE = "ACCOUNT_NOT_ACTIVE"
    NOT_FOUND = "NOT_FOUND"


class Refusal(Exception):
    """rootwatch will not do this, for a reason the operator can fix; nothing was changed."""

    def __init__(self, reason: RefusalReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class CallerContext:
    """The identity rootwatch runs as, and its place in the organization."""

    account_id: str
    arn: str
    organization_id: str | None = None
    management_account_id: str | None = None
    #: True/False when known; None when the caller could not find out.
    delegated_admin: bool | None = None
    #: The IAM organization features, when the caller may read them.
    enabled_features: frozenset[str] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_management(self) -> bool:
        return self.management_account_id is not None and self.account_id == self.management_account_id

    @property
    def cannot_assume_root(self) -> bool:
        """Known to be neither the management account nor the IAM delegated admin (False when unknown)."""
        return not self.is_management and self.delegated_admin is False


def identify_caller(factory: ClientFactory) -> CallerContext:
    """Who we are (STS), which organization (Organizations), and whether we are the IAM delegated admin."""
    identity = factory.client("sts").get_caller_identity()
    account_id, arn = identity["Account"], identity["Arn"]
    try:
        org = factory.client("organizations").describe_organization()["Organization"]
    except ClientError as exc:
        if _code(exc) == "AWSOrganizationsNotInUseException":
            return CallerContext(account_id, arn)
        raise
    organization_id, management_id = org.get("Id"), org.get("MasterAccountId")
    features: frozenset[str] | None = None
    delegated: bool | None = None
    try:
        features = frozenset(factory.client("iam").list_organizations_features().get("EnabledFeatures", []))
        delegated = account_id != management_id
    except ClientError as exc:
        if _code(exc) == "AccountNotManagementOrDelegatedAdministratorException":
            delegated = False
        elif _code(exc) in (
            "ServiceAccessNotEnabledException",
            "OrganizationNotFoundException",
            "OrganizationNotInAllFeaturesModeException",
        ):
            features = frozenset()
            delegated = False if account_id != management_id else None
        elif account_id == management_id:
            raise
    return CallerContext(account_id, arn, organization_id, management_id, delegated, features)


def require_management(caller: CallerContext, what: str) -> None:
    """Refuse unless the caller is the organization's management account."""
    if caller.organization_id is None:
        raise Refusal(
            RefusalReason.NOT_IN_ORGANIZATION,
            f"{what} needs AWS Organizations, and account {caller.account_id} is not in an organization",
        )
    if not caller.is_management:
        raise Refusal(
            RefusalReason.NOT_MANAGEMENT_ACCOUNT,
            f"{what} must run in the management account {caller.management_account_id}; "
            f"you are {caller.arn} in account {caller.account_id} (use the management account's credentials)",
        )


def require_root_access(caller: CallerContext, task_policy: TaskPolicy) -> None:
    """Refuse unless the caller may AssumeRoot and the feature ``task_policy`` needs is enabled."""
    if caller.organization_id is None:
        raise Refusal(
            RefusalReason.NOT_IN_ORGANIZATION,
            f"AssumeRoot needs AWS Organizations, and account {caller.account_id} is not in an organization",
        )
    if caller.cannot_assume_root:  # when unknown, AssumeRoot itself decides
        raise Refusal(
            RefusalReason.NOT_MANAGEMENT_OR_DELEGATED_ADMIN,
            f"account {caller.account_id} is neither the management account ({caller.management_account_id}) "
            "nor the IAM delegated administrator: AssumeRoot works only from those "
            "(register one with: rootwatch enable --delegated-admin ID)",
        )
    feature = task_policy.required_feature
    if caller.enabled_features is not None and feature not in caller.enabled_features:
        raise feature_refusal(feature)


def feature_refusal(feature: str, aws_message: str | None = None) -> Refusal:
    """The refusal for a disabled IAM organization feature, with AWS's own words and the fix."""
    message = aws_message or FEATURE_DISABLED_MESSAGES[feature]
    return Refusal(
        RefusalReason.FEATURE_DISABLED,
        f"{feature} is not enabled for the organization (AWS: {message!r}); enable it with: {ENABLE_COMMAND[feature]}",
    )


def refusal_for(error: RootwatchError, task_policy: TaskPolicy) -> Refusal | None:
    """A FeatureDisabledError from AssumeRoot as a refusal (AWS's observed messages); None for anything else."""
    if isinstance(error, FeatureDisabledError):
        return feature_refusal(task_policy.required_feature, error.message)
    return None


@dataclass(frozen=True)
class MemberAccount:
    account_id: str
    name: str | None = None
    state: str | None = None


def check_target(factory: ClientFactory, caller: CallerContext, account_id: str) -> MemberAccount:
    """Refuse the management account, an account outside the organization, or one that is not ACTIVE."""
    if caller.management_account_id and account_id == caller.management_account_id:
        raise Refusal(
            RefusalReason.MANAGEMENT_ACCOUNT_TARGET,
            f"account {account_id} is the management account: rootwatch never acts on its root user "
            "(AssumeRoot targets member accounts only)",
        )
    try:
        account: dict[str, Any] = factory.client("organizations").describe_account(AccountId=account_id)["Account"]
    except ClientError as exc:
        if _code(exc) == "AccountNotFoundException" and caller.is_management:
            raise Refusal(
                RefusalReason.UNKNOWN_ACCOUNT,
                f"account {account_id} is not a member of organization {caller.organization_id}",
            ) from None
        if not caller.is_management or _code(exc) in ("AccessDeniedException", "AccessDenied"):
            # An IAM delegated admin usually cannot read Organizations (and then its answers are not the
            # organization's); AssumeRoot itself still refuses an account outside the organization.
            return MemberAccount(account_id)
        raise
    state = account.get("State") or account.get("Status")
    if state and state != "ACTIVE":
        raise Refusal(RefusalReason.ACCOUNT_NOT_ACTIVE, f"account {account_id} is {state}, not ACTIVE")
    return MemberAccount(account_id, account.get("Name"), state)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
