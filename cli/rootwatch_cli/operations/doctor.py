"""Preflight for rootwatch: every check says ok, warn or fail, and how to fix it.

Fail means the nightly audit cannot work as things stand; warn means it works but something operators
rely on (the unlock commands, the recommended delegated admin, remediation through an SCP) does not.
Doctor changes nothing: it reads, and its one trial root session uses the read-only audit policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import botocore
from botocore.exceptions import BotoCoreError, ClientError
from rootwatch.aws.clients import ClientFactory
from rootwatch.aws.errors import classify
from rootwatch.aws.organizations import list_member_accounts
from rootwatch.domain.errors import AccessDeniedError, FeatureDisabledError, RootwatchError
from rootwatch.domain.features import (
    ROOT_CREDENTIALS_MANAGEMENT,
    ROOT_SESSIONS,
    ROOT_SESSIONS_NOT_ENABLED,
    SERVICE_NOT_ENABLED,
)
from rootwatch.domain.task_policies import ALLOWED_ACTIONS, TaskPolicy

from rootwatch_cli.operations.enable import (
    STACKSETS_SERVICE_PRINCIPAL,
    delegated_admins,
    stacksets_delegated_admins,
    stacksets_trusted_access_enabled,
    trusted_access_enabled,
)
from rootwatch_cli.operations.preflight import (
    IAM_SERVICE_PRINCIPAL,
    CallerContext,
    identify_caller,
)
from rootwatch_cli.operations.scp import SCP_ADVICE, ScpDenial, ServiceControlPolicy, Verdict, find_root_session_denials

#: botocore that knows sts:AssumeRoot, and botocore that returns Organizations' account State.
BOTOCORE_FOR_ASSUME_ROOT = (1, 35, 61)
BOTOCORE_FOR_STATE = (1, 40, 27)
GLOBAL_STS_HOSTS = ("sts.amazonaws.com", "sts.amazonaws.com.cn")

#: The actions the nightly audit makes as root; an SCP denying any of them breaks the audit.
AUDIT_ACTIONS = frozenset(
    {
        "iam:GetAccountSummary",
        "iam:GetUser",
        "iam:ListAccessKeys",
        "iam:GetAccessKeyLastUsed",
        "iam:ListMFADevices",
        "iam:ListSigningCertificates",
    }
)
#: What the remediation commands need on top (an SCP denying CreateLoginProfile blocks recovery).
REMEDIATION_ACTIONS = (
    ALLOWED_ACTIONS[TaskPolicy.IAM_DELETE_ROOT_USER_CREDENTIALS]
    | ALLOWED_ACTIONS[TaskPolicy.IAM_CREATE_ROOT_USER_PASSWORD]
) - AUDIT_ACTIONS


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"check": self.name, "status": self.status.value, "detail": self.detail, "fix": self.fix}


def run_doctor(factory: ClientFactory, account_id: str | None = None) -> list[Check]:
    """Every check, in order. A check that cannot run is reported, never raised."""
    checks = [check_botocore(botocore.__version__), check_sts_endpoint(factory)]
    try:
        caller = identify_caller(factory)
    except (ClientError, BotoCoreError) as exc:
        error = classify(exc)
        checks.append(
            Check(
                "caller",
                Status.FAIL,
                f"cannot identify the caller: {error.message}",
                "configure credentials of the management account or the IAM delegated admin",
            )
        )
        return checks
    checks.append(check_caller(caller))
    if caller.organization_id is None:
        return checks
    checks.append(_guard("trusted access", lambda: check_trusted_access(factory, caller)))
    checks += check_features(caller)
    checks.append(_guard("delegated admin", lambda: check_delegated_admin(factory, caller)))
    checks.append(_guard("stacksets", lambda: check_stacksets(factory, caller)))
    target, target_check = _guard_target(factory, caller, account_id)
    if target_check is not None:
        checks.append(target_check)
    if target is not None:
        trial = check_trial_audit(factory, caller, target)
        checks.append(trial)
        checks += check_scps(factory, target, trial_failed=trial.status is Status.FAIL)
    return checks


def exit_code(checks: list[Check]) -> int:
    """0 when nothing failed (warnings allowed), 3 when any check failed."""
    return 3 if any(c.status is Status.FAIL for c in checks) else 0


def check_botocore(version: str) -> Check:
    """AssumeRoot needs botocore 1.35.61+; Organizations' account State needs 1.40.27+."""
    found = _version_tuple(version)
    if found >= BOTOCORE_FOR_STATE:
        return Check("botocore", Status.OK, f"botocore {version}")
    fix = "pip install 'botocore>=1.40.27' 'boto3>=1.40.27'"
    if found >= BOTOCORE_FOR_ASSUME_ROOT:
        return Check(
            "botocore",
            Status.WARN,
            f"botocore {version} knows AssumeRoot but not the account State field "
            "(rootwatch falls back to the retired Status)",
            fix,
        )
    return Check("botocore", Status.FAIL, f"botocore {version} does not know sts:AssumeRoot", fix)


def check_sts_endpoint(factory: ClientFactory) -> Check:
    """AssumeRoot is not served by the global STS endpoint: the regional one must be used."""
    url = factory.sts_endpoint_url()
    host = url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    if host in GLOBAL_STS_HOSTS:
        return Check(
            "sts endpoint",
            Status.FAIL,
            f"STS goes to the global endpoint {url}, which does not serve AssumeRoot",
            f"unset AWS_ENDPOINT_URL_STS or set it to https://sts.{factory.region}.amazonaws.com",
        )
    if factory.endpoint_url or not host.startswith("sts."):
        return Check("sts endpoint", Status.OK, f"STS endpoint overridden: {url}")
    return Check("sts endpoint", Status.OK, f"regional STS endpoint {url}")


def check_caller(caller: CallerContext) -> Check:
    """The caller is the management account or the IAM delegated admin."""
    if caller.organization_id is None:
        return Check(
            "caller",
            Status.FAIL,
            f"{caller.arn}: account {caller.account_id} is not in an organization",
            "use credentials of an AWS Organizations management account",
        )
    if caller.is_management:
        return Check("caller", Status.OK, f"{caller.arn} (management account of {caller.organization_id})")
    if caller.delegated_admin:
        return Check("caller", Status.OK, f"{caller.arn} (IAM delegated administrator in {caller.organization_id})")
    if caller.delegated_admin is None:
        return Check(
            "caller",
            Status.WARN,
            f"{caller.arn}: cannot tell whether account {caller.account_id} is the IAM delegated administrator "
            "(iam:ListOrganizationsFeatures was refused)",
            "allow iam:ListOrganizationsFeatures to this identity",
        )
    return Check(
        "caller",
        Status.FAIL,
        f"{caller.arn}: account {caller.account_id} is neither the management account "
        f"({caller.management_account_id}) nor the IAM delegated administrator",
        "run from the management account, or register this account with "
        f"rootwatch enable --delegated-admin {caller.account_id} (in the management account)",
    )


def check_trusted_access(factory: ClientFactory, caller: CallerContext) -> Check:
    """iam.amazonaws.com has trusted access (readable from the management account only)."""
    if not caller.is_management:
        if caller.enabled_features is not None:
            return Check("trusted access", Status.OK, "implied: the IAM organization features are readable")
        return Check(
            "trusted access", Status.WARN, "cannot check from a member account", "run doctor in the management account"
        )
    if trusted_access_enabled(factory):
        return Check("trusted access", Status.OK, f"{IAM_SERVICE_PRINCIPAL} has trusted access")
    return Check(
        "trusted access",
        Status.FAIL,
        f"{IAM_SERVICE_PRINCIPAL} has no trusted access in the organization",
        "rootwatch enable",
    )


def check_features(caller: CallerContext) -> list[Check]:
    """RootCredentialsManagement (fail when off) and RootSessions (warn: only the unlock commands need it)."""
    if caller.enabled_features is None:
        status = Status.FAIL if caller.cannot_assume_root else Status.WARN
        return [
            Check(
                "features",
                status,
                "cannot read the IAM organization features from this account",
                "run doctor in the management account or the IAM delegated admin",
            )
        ]
    checks = []
    if ROOT_CREDENTIALS_MANAGEMENT in caller.enabled_features:
        checks.append(Check(ROOT_CREDENTIALS_MANAGEMENT, Status.OK, "enabled"))
    else:
        checks.append(
            Check(
                ROOT_CREDENTIALS_MANAGEMENT,
                Status.FAIL,
                f"not enabled: AssumeRoot answers {SERVICE_NOT_ENABLED!r}",
                "rootwatch enable",
            )
        )
    if ROOT_SESSIONS in caller.enabled_features:
        checks.append(Check(ROOT_SESSIONS, Status.OK, "enabled"))
    else:
        checks.append(
            Check(
                ROOT_SESSIONS,
                Status.WARN,
                f"not enabled: the audit works, but rootwatch unlock fails with {ROOT_SESSIONS_NOT_ENABLED!r}",
                "rootwatch enable --root-sessions (only if you need the unlock commands)",
            )
        )
    return checks


def check_delegated_admin(factory: ClientFactory, caller: CallerContext) -> Check:
    """Running from a delegated admin is recommended (docs/deploying.md): keep the management account for the org."""
    if caller.delegated_admin:
        return Check("delegated admin", Status.OK, f"running as the delegated admin {caller.account_id}")
    if not caller.is_management:
        return Check("delegated admin", Status.WARN, "not checked (caller is not the management account)")
    admins = delegated_admins(factory, IAM_SERVICE_PRINCIPAL)
    if admins:
        return Check("delegated admin", Status.OK, f"IAM delegated administrator: {', '.join(admins)}")
    return Check(
        "delegated admin",
        Status.WARN,
        "no IAM delegated administrator registered (recommended: deploy "
        "rootwatch there, not in the management account)",
        "rootwatch enable --delegated-admin ACCOUNT_ID",
    )


STACKSETS_NOTE = "only the optional real-time path (rootwatch:realtimeEnabled) needs it"


def check_stacksets(factory: ClientFactory, caller: CallerContext) -> Check:
    """Trusted access for CloudFormation StackSets (and, from a delegated admin, its StackSets registration).

    Never a failure: the nightly audit does not use StackSets, only the optional real-time path does.
    """
    fix = "rootwatch enable --stacksets (in the management account)"
    try:
        active = stacksets_trusted_access_enabled(factory)
    except ClientError as exc:
        error = classify(exc)
        return Check(
            "stacksets",
            Status.WARN,
            f"cannot tell whether StackSets has trusted access ({error.aws_code}): {STACKSETS_NOTE}",
            "run doctor in the management account",
        )
    if not active:
        return Check(
            "stacksets", Status.WARN, f"StackSets has no trusted access in the organization: {STACKSETS_NOTE}", fix
        )
    if caller.is_management:
        return Check("stacksets", Status.OK, f"{STACKSETS_SERVICE_PRINCIPAL} has trusted access")
    register = f"rootwatch enable --stacksets --delegated-admin {caller.account_id} (in the management account)"
    try:
        admins = stacksets_delegated_admins(factory)
    except ClientError as exc:
        error = classify(exc)
        return Check(
            "stacksets",
            Status.WARN,
            f"trusted access is active; cannot tell whether {caller.account_id} is a StackSets delegated "
            f"administrator ({error.aws_code}): {STACKSETS_NOTE}",
            register,
        )
    if caller.account_id in admins:
        return Check(
            "stacksets", Status.OK, f"trusted access is active and {caller.account_id} is a StackSets delegated admin"
        )
    return Check(
        "stacksets",
        Status.WARN,
        f"trusted access is active but {caller.account_id} is not a StackSets delegated administrator: the real-time "
        f"StackSet cannot be created from here (CallAs DELEGATED_ADMIN); {STACKSETS_NOTE}",
        register,
    )


def check_trial_audit(factory: ClientFactory, caller: CallerContext, account_id: str) -> Check:
    """One real AssumeRoot (audit policy) + GetAccountSummary on a member account."""
    name = f"trial audit {account_id}"
    try:
        with factory.root_session(account_id, TaskPolicy.IAM_AUDIT_ROOT_USER_CREDENTIALS) as root:
            root.client("iam").get_account_summary()
    except FeatureDisabledError as exc:
        return Check(name, Status.FAIL, f"AssumeRoot: {exc.message}", "rootwatch enable")
    except AccessDeniedError as exc:  # raised by AssumeRoot itself: the caller's own permissions
        fix = (
            f"give {caller.arn} sts:AssumeRoot on arn:aws:iam::*:root with the condition sts:TaskPolicyArn = "
            f"{TaskPolicy.IAM_AUDIT_ROOT_USER_CREDENTIALS.arn}"
        )
        return Check(name, Status.FAIL, f"AssumeRoot denied: {exc.message}", fix)
    except RootwatchError as exc:
        return Check(name, Status.FAIL, f"{exc.operation or 'AssumeRoot'}: {exc.aws_code}: {exc.message}")
    except ClientError as exc:  # raised by GetAccountSummary inside the root session
        error = classify(exc)
        scp_fix = SCP_ADVICE if isinstance(error, AccessDeniedError) else None
        return Check(name, Status.FAIL, f"{error.operation}: {error.aws_code}: {error.message}", scp_fix)
    return Check(name, Status.OK, "AssumeRoot (IAMAuditRootUserCredentials) + GetAccountSummary succeeded")


def check_scps(factory: ClientFactory, account_id: str, *, trial_failed: bool = False) -> list[Check]:
    """SCPs in force on the account that explicitly deny the audit (fail) or remediation (warn) to root."""
    try:
        policies = scps_in_force(factory, account_id)
    except ClientError as exc:
        error = classify(exc)
        if error.aws_code == "PolicyTypeNotEnabledException":
            return [Check("scp", Status.OK, "service control policies are not enabled in the organization")]
        return [
            Check(
                "scp",
                Status.WARN,
                f"cannot read the SCPs of {account_id}: {error.aws_code}: {error.message}",
                "run doctor in the management account to inspect SCPs",
            )
        ]
    denials = find_root_session_denials(policies, account_id, AUDIT_ACTIONS | REMEDIATION_ACTIONS)
    audit = [d for d in denials if d.action in AUDIT_ACTIONS]
    remediation = [d for d in denials if d.action not in AUDIT_ACTIONS]
    checks: list[Check] = []
    if audit:
        certain = any(d.verdict is Verdict.DENIES for d in audit)
        checks.append(
            Check("scp audit", Status.FAIL if certain or trial_failed else Status.WARN, _summarise(audit), SCP_ADVICE)
        )
    else:
        checks.append(
            Check(
                "scp audit",
                Status.OK,
                f"no explicit deny of the audit actions for root sessions in {len(policies)} SCP(s) "
                f"in force on {account_id}",
            )
        )
    if remediation:
        checks.append(
            Check(
                "scp remediation", Status.WARN, "remediation would be blocked: " + _summarise(remediation), SCP_ADVICE
            )
        )
    return checks


def scps_in_force(factory: ClientFactory, account_id: str) -> list[ServiceControlPolicy]:
    """The SCPs attached to the account, each OU above it and the root."""
    org = factory.client("organizations")
    targets = [account_id]
    child = account_id
    while True:
        parents = org.list_parents(ChildId=child)["Parents"]
        if not parents:
            break
        parent = parents[0]
        targets.append(parent["Id"])
        if parent["Type"] == "ROOT":
            break
        child = parent["Id"]
    policies: list[ServiceControlPolicy] = []
    seen: set[str] = set()
    for target in targets:
        pages = org.get_paginator("list_policies_for_target").paginate(TargetId=target, Filter="SERVICE_CONTROL_POLICY")
        for summary in (p for page in pages for p in page["Policies"]):
            if summary["Id"] in seen:
                continue
            seen.add(summary["Id"])
            described = org.describe_policy(PolicyId=summary["Id"])["Policy"]
            policies.append(
                ServiceControlPolicy.from_json(
                    summary["Id"], summary.get("Name", summary["Id"]), target, described["Content"]
                )
            )
    return policies


def _summarise(denials: list[ScpDenial]) -> str:
    by_statement: dict[tuple[str, str | None], list[ScpDenial]] = {}
    for denial in denials:
        by_statement.setdefault((denial.policy_id, denial.statement_id), []).append(denial)
    parts = []
    for group in by_statement.values():
        first = group[0]
        actions = ", ".join(sorted(d.action for d in group))
        verb = "denies" if any(d.verdict is Verdict.DENIES for d in group) else "may deny"
        sid = f" statement {first.statement_id!r}" if first.statement_id else ""
        why = f" ({first.reason})" if first.verdict is Verdict.MAY_DENY and first.reason else ""
        parts.append(
            f"SCP {first.policy_name!r} ({first.policy_id} on {first.attached_to}){sid} {verb} "
            f"{actions} to root sessions{why}"
        )
    return "; ".join(parts)


def _guard(name: str, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except (ClientError, BotoCoreError) as exc:
        error = classify(exc)
        return Check(name, Status.WARN, f"could not check: {error.aws_code}: {error.message}")


def _guard_target(
    factory: ClientFactory, caller: CallerContext, account_id: str | None
) -> tuple[str | None, Check | None]:
    """The member account for the trial: ``account_id``, else the first ACTIVE member."""
    if account_id is not None:
        if account_id == caller.management_account_id:
            return None, Check(
                "trial audit",
                Status.FAIL,
                f"{account_id} is the management account: AssumeRoot targets member accounts only",
                "pass a member account with --account",
            )
        return account_id, None
    if caller.cannot_assume_root:
        return None, Check("trial audit", Status.WARN, "skipped: this caller cannot AssumeRoot")
    try:
        members = list_member_accounts(factory)
    except RootwatchError as exc:
        return None, Check(
            "trial audit",
            Status.WARN,
            f"skipped: cannot list accounts ({exc.aws_code}: {exc.message})",
            "pass a member account with --account",
        )
    if not members.to_audit:
        if not caller.is_management:
            return None, Check(
                "trial audit",
                Status.WARN,
                "skipped: no member account is visible from this account (a delegated admin often cannot list them)",
                "pass a member account with --account",
            )
        return None, Check("trial audit", Status.WARN, "skipped: the organization has no ACTIVE member account")
    return members.to_audit[0].id, None


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)
