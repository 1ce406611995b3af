"""Turn on centralized root access, in the order AWS requires (docs/aws-behaviour.md#iam-organization-features).

1. trusted access for ``iam.amazonaws.com`` (Organizations);
2. ``RootCredentialsManagement`` (needed by every IAM* task policy, so by the audit);
3. ``RootSessions``, when asked (needed by the S3/SQS unlock policies);
4. the IAM delegated administrator, when asked;
5. with ``stacksets``: trusted access for CloudFormation StackSets (``cloudformation:ActivateOrganizationsAccess``)
   and, with a delegated admin, its registration for ``member.org.stacksets.cloudformation.amazonaws.com``.
   Only the optional real-time path (infra/realtime.py, a service-managed StackSet) needs them.

Each step first reads whether it is already done and then changes only what is missing, so running it
twice changes nothing the second time. Everything here must run in the management account.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from botocore.exceptions import ClientError
from rootwatch.aws.clients import ClientFactory
from rootwatch.aws.errors import classify
from rootwatch.domain.features import ROOT_CREDENTIALS_MANAGEMENT, ROOT_SESSIONS

from rootwatch_cli.operations.preflight import (
    IAM_SERVICE_PRINCIPAL,
    CallerContext,
    Refusal,
    RefusalReason,
    check_target,
    require_management,
)

#: The service principal of CloudFormation StackSets in Organizations (trusted access, delegated admins).
STACKSETS_SERVICE_PRINCIPAL = "member.org.stacksets.cloudformation.amazonaws.com"


class StepStatus(StrEnum):
    ALREADY = "already"
    CHANGED = "changed"
    WOULD_CHANGE = "would_change"
    FAILED = "failed"


@dataclass(frozen=True)
class EnableStep:
    name: str
    status: StepStatus
    detail: str


def enable_root_access(
    factory: ClientFactory,
    caller: CallerContext,
    *,
    root_sessions: bool = False,
    delegated_admin: str | None = None,
    stacksets: bool = False,
    dry_run: bool = False,
) -> list[EnableStep]:
    """Run (or, in a dry run, only check) each step in order; stop at the first failure.

    Raises ``Refusal`` when the caller is not the management account, the organization is not in
    all-features mode, or the delegated admin is not a member account.
    """
    require_management(caller, "rootwatch enable")
    org = factory.client("organizations")
    feature_set = org.describe_organization()["Organization"].get("FeatureSet")
    if feature_set != "ALL":
        raise Refusal(
            RefusalReason.NOT_ALL_FEATURES,
            f"organization {caller.organization_id} has feature set {feature_set}: centralized root access needs "
            "all features enabled (Organizations console: Settings > Enable all features)",
        )
    if delegated_admin is not None:
        check_target(factory, caller, delegated_admin)

    actions = [
        ("trusted access for iam.amazonaws.com", lambda: _trusted_access(factory, dry_run)),
        (ROOT_CREDENTIALS_MANAGEMENT, lambda: _feature(factory, ROOT_CREDENTIALS_MANAGEMENT, dry_run)),
    ]
    if root_sessions:
        actions.append((ROOT_SESSIONS, lambda: _feature(factory, ROOT_SESSIONS, dry_run)))
    if delegated_admin is not None:
        actions.append(("IAM delegated administrator", lambda: _delegated_admin(factory, delegated_admin, dry_run)))
    if stacksets:
        actions.append(("trusted access for StackSets", lambda: _stacksets_trusted_access(factory, dry_run)))
        if delegated_admin is not None:
            actions.append(
                (
                    "StackSets delegated administrator",
                    lambda: _stacksets_delegated_admin(factory, delegated_admin, dry_run),
                )
            )

    steps: list[EnableStep] = []
    for name, action in actions:
        try:
            status, detail = action()
        except ClientError as exc:
            error = classify(exc)
            status, detail = StepStatus.FAILED, f"{error.aws_code}: {error.message}"
        steps.append(EnableStep(name, status, detail))
        if status is StepStatus.FAILED:
            break
    return steps


def enabled_features(factory: ClientFactory) -> frozenset[str]:
    """The IAM organization features now enabled (none while trusted access is off)."""
    try:
        return frozenset(factory.client("iam").list_organizations_features().get("EnabledFeatures", []))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ServiceAccessNotEnabledException":
            return frozenset()
        raise


def trusted_principals(factory: ClientFactory) -> frozenset[str]:
    """The service principals with trusted access in the organization."""
    pages = factory.client("organizations").get_paginator("list_aws_service_access_for_organization").paginate()
    return frozenset(p["ServicePrincipal"] for page in pages for p in page["EnabledServicePrincipals"])


def delegated_admins(factory: ClientFactory, principal: str) -> list[str]:
    """The accounts registered as delegated administrators for ``principal``."""
    pages = (
        factory.client("organizations")
        .get_paginator("list_delegated_administrators")
        .paginate(ServicePrincipal=principal)
    )
    return [a["Id"] for page in pages for a in page.get("DelegatedAdministrators", [])]


def trusted_access_enabled(factory: ClientFactory) -> bool:
    """Whether iam.amazonaws.com has trusted access in the organization."""
    return IAM_SERVICE_PRINCIPAL in trusted_principals(factory)


def stacksets_trusted_access_enabled(factory: ClientFactory) -> bool:
    """Whether StackSets has trusted access: once ActivateOrganizationsAccess has run, Organizations lists its
    service principal (read here rather than with cloudformation:DescribeOrganizationsAccess, which the
    sandbox's moto does not implement)."""
    return STACKSETS_SERVICE_PRINCIPAL in trusted_principals(factory)


def stacksets_delegated_admins(factory: ClientFactory) -> list[str]:
    """The accounts registered as delegated administrators for StackSets (up to five)."""
    return delegated_admins(factory, STACKSETS_SERVICE_PRINCIPAL)


def _trusted_access(factory: ClientFactory, dry_run: bool) -> tuple[StepStatus, str]:
    if trusted_access_enabled(factory):
        return StepStatus.ALREADY, "already enabled"
    if dry_run:
        return StepStatus.WOULD_CHANGE, "would call organizations EnableAWSServiceAccess(iam.amazonaws.com)"
    factory.client("organizations").enable_aws_service_access(ServicePrincipal=IAM_SERVICE_PRINCIPAL)
    return StepStatus.CHANGED, "enabled"


def _feature(factory: ClientFactory, feature: str, dry_run: bool) -> tuple[StepStatus, str]:
    if feature in enabled_features(factory):
        return StepStatus.ALREADY, "already enabled"
    call = {
        ROOT_CREDENTIALS_MANAGEMENT: "enable_organizations_root_credentials_management",
        ROOT_SESSIONS: "enable_organizations_root_sessions",
    }[feature]
    if dry_run:
        return StepStatus.WOULD_CHANGE, f"would call iam {call}"
    answer = getattr(factory.client("iam"), call)()
    now = ", ".join(sorted(answer.get("EnabledFeatures", []))) or "none"
    return StepStatus.CHANGED, f"enabled (organization features now: {now})"


def _delegated_admin(factory: ClientFactory, account_id: str, dry_run: bool) -> tuple[StepStatus, str]:
    current = delegated_admins(factory, IAM_SERVICE_PRINCIPAL)
    if account_id in current:
        return StepStatus.ALREADY, f"{account_id} is already the IAM delegated administrator"
    if current:
        return StepStatus.FAILED, (
            f"{', '.join(current)} is already registered for iam.amazonaws.com; deregister it first "
            f"(aws organizations deregister-delegated-administrator --account-id {current[0]} "
            f"--service-principal {IAM_SERVICE_PRINCIPAL})"
        )
    if dry_run:
        return StepStatus.WOULD_CHANGE, f"would register {account_id} for {IAM_SERVICE_PRINCIPAL}"
    factory.client("organizations").register_delegated_administrator(
        AccountId=account_id, ServicePrincipal=IAM_SERVICE_PRINCIPAL
    )
    return StepStatus.CHANGED, f"registered {account_id} for {IAM_SERVICE_PRINCIPAL}"


def _stacksets_trusted_access(factory: ClientFactory, dry_run: bool) -> tuple[StepStatus, str]:
    if stacksets_trusted_access_enabled(factory):
        return StepStatus.ALREADY, "already active"
    if dry_run:
        return StepStatus.WOULD_CHANGE, "would call cloudformation ActivateOrganizationsAccess"
    factory.client("cloudformation").activate_organizations_access()
    return StepStatus.CHANGED, "activated (cloudformation ActivateOrganizationsAccess)"


def _stacksets_delegated_admin(factory: ClientFactory, account_id: str, dry_run: bool) -> tuple[StepStatus, str]:
    if account_id in stacksets_delegated_admins(factory):
        return StepStatus.ALREADY, f"{account_id} is already a StackSets delegated administrator"
    if dry_run:
        return StepStatus.WOULD_CHANGE, f"would register {account_id} for {STACKSETS_SERVICE_PRINCIPAL}"
    factory.client("organizations").register_delegated_administrator(
        AccountId=account_id, ServicePrincipal=STACKSETS_SERVICE_PRINCIPAL
    )
    return StepStatus.CHANGED, f"registered {account_id} for {STACKSETS_SERVICE_PRINCIPAL}"
