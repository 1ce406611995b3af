"""Delete member accounts' root credentials, and allow root password recovery (docs/aws-behaviour.md).

Deletion runs in two phases, each with the narrowest task policy for it:

1. **Plan** (``plan_deletions``): a read-only ``IAMAuditRootUserCredentials`` session lists exactly what
   exists (ids and dates). A dry run stops here.
2. **Execute** (``execute_deletion``): only after consent, an ``IAMDeleteRootUserCredentials`` session makes
   the planned calls in the observed order. A failed step stops that account (the rest of its steps are
   reported as not attempted); the caller carries on with the other accounts. Every call made is appended
   to the action log, and the account is re-audited afterwards with the audit engine.

Password recovery (``plan_password_recovery`` / ``allow_password_recovery``) creates the root user's login
profile with ``IAMCreateRootUserPassword``, as the console's "Allow password recovery" does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError
from rootwatch.aws.clients import ClientFactory, RootSession
from rootwatch.aws.errors import classify
from rootwatch.aws.root_audit import audit_root_credentials
from rootwatch.domain.credentials import RootCredentialState
from rootwatch.domain.errors import RootwatchError
from rootwatch.domain.records import CredentialKind
from rootwatch.domain.task_policies import TaskPolicy
from rootwatch.domain.timestamps import iso_utc

from rootwatch_cli.operations.action_log import ActionEntry, ActionLog
from rootwatch_cli.operations.deletion_plan import (
    CredentialItem,
    DeletionStep,
    RootCredentialInventory,
    key_last_used_text,
    plan_deletion,
)
from rootwatch_cli.operations.preflight import refusal_for

DELETE_OPERATION = "delete-root-credentials"
RECOVERY_OPERATION = "allow-password-recovery"
LOGIN_PROFILE_ID = "login-profile"
#: Long enough for a handful of IAM calls; consent is given before the session opens.
DELETE_SESSION_SECONDS = 120
READ_SESSION_SECONDS = 60

#: What password recovery changes (docs/aws-behaviour.md#password-recovery), shown before and after.
RECOVERY_EXPLANATION = (
    "Allowing password recovery creates the root user's login profile (IAMCreateRootUserPassword -> "
    "CreateLoginProfile, no password is set or shown). The owner of the account's root email can then use "
    "'Forgot password?' on the sign-in page to choose one. Afterwards only the password shows as present: "
    "access keys, signing certificates and MFA stay deleted and must be set up again by hand (set up MFA "
    "right after signing in). The next nightly audit reports the password as appeared; that alert is expected."
)


class StepOutcome(StrEnum):
    DONE = "done"
    ALREADY_ABSENT = "already_absent"
    FAILED = "failed"
    NOT_ATTEMPTED = "not_attempted"


@dataclass(frozen=True)
class StepResult:
    step: DeletionStep
    outcome: StepOutcome
    error_code: str | None = None
    message: str | None = None


@dataclass
class AccountPlan:
    """What would be deleted in one account, or why it could not be read."""

    account_id: str
    account_name: str | None = None
    inventory: RootCredentialInventory | None = None
    steps: list[DeletionStep] = field(default_factory=list)
    error: RootwatchError | None = None


@dataclass
class AccountOutcome:
    """What happened in one account after consent (or the lack of it)."""

    plan: AccountPlan
    declined: bool = False
    results: list[StepResult] = field(default_factory=list)
    error: str | None = None
    after: RootCredentialState | None = None
    after_error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None or any(r.outcome is StepOutcome.FAILED for r in self.results)


def list_root_credentials(root: RootSession) -> RootCredentialInventory:
    """Every root credential of the session's account with ids and dates, listed as root.

    GetAccountSummary first, then a list call only for the kinds it reports present (the audit's own
    budget: a clean account costs one call after AssumeRoot).
    """
    iam = root.client("iam")
    summary = iam.get_account_summary()["SummaryMap"]
    items: list[CredentialItem] = []
    if summary.get("AccountSigningCertificatesPresent"):
        for page in iam.get_paginator("list_signing_certificates").paginate():
            items += [
                CredentialItem(
                    CredentialKind.SIGNING_CERTIFICATES,
                    c["CertificateId"],
                    iso_utc(c.get("UploadDate")),
                    c.get("Status"),
                )
                for c in page.get("Certificates", [])
            ]
    if summary.get("AccountAccessKeysPresent"):  # 1 even when the only key is Inactive
        for page in iam.get_paginator("list_access_keys").paginate():
            items += [
                CredentialItem(
                    CredentialKind.ACCESS_KEYS,
                    k["AccessKeyId"],
                    iso_utc(k.get("CreateDate")),
                    k.get("Status"),
                    _key_last_used(iam, k["AccessKeyId"]),
                )
                for k in page.get("AccessKeyMetadata", [])
            ]
    if summary.get("AccountMFAEnabled"):
        for page in iam.get_paginator("list_mfa_devices").paginate():
            items += [
                CredentialItem(CredentialKind.MFA, d["SerialNumber"], iso_utc(d.get("EnableDate")))
                for d in page.get("MFADevices", [])
            ]
    if summary.get("AccountPasswordPresent"):
        profile = _login_profile(iam)
        if profile is not None:
            items.append(CredentialItem(CredentialKind.PASSWORD, LOGIN_PROFILE_ID, iso_utc(profile.get("CreateDate"))))
    return RootCredentialInventory(root.account_id, tuple(items))


def _key_last_used(iam: Any, access_key_id: str) -> str | None:
    """When the key was last used, for the plan (the audit task policy allows GetAccessKeyLastUsed).

    None when AWS does not say (the plan then shows no last-use date rather than failing).
    """
    try:
        answer = iam.get_access_key_last_used(AccessKeyId=access_key_id)
    except ClientError:
        return None
    return key_last_used_text(answer.get("AccessKeyLastUsed") or {})


def plan_deletions(
    factory: ClientFactory,
    accounts: list[tuple[str, str | None]],
    kinds: frozenset[CredentialKind],
) -> list[AccountPlan]:
    """Read each account's credentials (audit policy, read-only) and plan their deletion.

    ``accounts`` is (account_id, name) pairs. A failure in one account is kept on its plan; a disabled
    organization feature is raised as a ``Refusal`` because it fails every account alike.
    """
    plans: list[AccountPlan] = []
    for account_id, name in accounts:
        plan = AccountPlan(account_id, name)
        try:
            with factory.root_session(
                account_id, TaskPolicy.IAM_AUDIT_ROOT_USER_CREDENTIALS, READ_SESSION_SECONDS
            ) as root:
                plan.inventory = list_root_credentials(root)
            plan.steps = plan_deletion(plan.inventory, kinds)
        except RootwatchError as exc:
            refusal = refusal_for(exc, TaskPolicy.IAM_AUDIT_ROOT_USER_CREDENTIALS)
            if refusal is not None:
                raise refusal from exc
            plan.error = exc
        except ClientError as exc:
            plan.error = classify(exc)
        plans.append(plan)
    return plans


def execute_deletion(
    factory: ClientFactory,
    plan: AccountPlan,
    action_log: ActionLog,
    who: str,
    *,
    reaudit: bool = True,
) -> AccountOutcome:
    """Make the planned deletions in order; stop the account at the first failed step; re-audit afterwards."""
    outcome = AccountOutcome(plan)
    if not plan.steps:
        return outcome
    policy = TaskPolicy.IAM_DELETE_ROOT_USER_CREDENTIALS
    try:
        with factory.root_session(plan.account_id, policy, DELETE_SESSION_SECONDS) as root:
            iam = root.client("iam")
            for index, step in enumerate(plan.steps):
                result = _delete_one(iam, step)
                outcome.results.append(result)
                action_log.append(
                    ActionEntry(
                        who=who,
                        account_id=plan.account_id,
                        operation=DELETE_OPERATION,
                        action=step.action,
                        target=step.item.item_id,
                        result=result.outcome.value,
                        task_policy=policy.value,
                        error_code=result.error_code,
                        message=result.message,
                    )
                )
                if result.outcome is StepOutcome.FAILED:
                    outcome.results += [StepResult(s, StepOutcome.NOT_ATTEMPTED) for s in plan.steps[index + 1 :]]
                    break
    except RootwatchError as exc:
        outcome.error = f"{exc.aws_code or exc.kind.value}: {exc.message}"
    except ClientError as exc:  # the action log's table refused a write: stop, say so
        error = classify(exc)
        outcome.error = f"could not record the action ({error.aws_code}: {error.message}); stopped this account"
    attempted = {id(r.step) for r in outcome.results}
    outcome.results += [StepResult(s, StepOutcome.NOT_ATTEMPTED) for s in plan.steps if id(s) not in attempted]
    if reaudit:
        outcome.after, outcome.after_error = reaudit_account(factory, plan.account_id)
    return outcome


def reaudit_account(factory: ClientFactory, account_id: str) -> tuple[RootCredentialState | None, str | None]:
    """The account's root credential state now (the audit engine's own read), or the error that stopped it."""
    try:
        return audit_root_credentials(factory, account_id), None
    except RootwatchError as exc:
        return None, f"{exc.aws_code or exc.kind.value}: {exc.message}"


def _delete_one(iam: Any, step: DeletionStep) -> StepResult:
    calls: dict[CredentialKind, Callable[[], Any]] = {
        CredentialKind.SIGNING_CERTIFICATES: lambda: iam.delete_signing_certificate(CertificateId=step.item.item_id),
        CredentialKind.ACCESS_KEYS: lambda: iam.delete_access_key(AccessKeyId=step.item.item_id),
        CredentialKind.MFA: lambda: iam.deactivate_mfa_device(SerialNumber=step.item.item_id),
        CredentialKind.PASSWORD: lambda: iam.delete_login_profile(),
    }
    try:
        calls[step.kind]()
    except ClientError as exc:
        error = classify(exc)
        if error.aws_code == "NoSuchEntity":
            # Gone since the plan was made (someone else removed it): the goal holds.
            return StepResult(step, StepOutcome.ALREADY_ABSENT, error.aws_code, error.message)
        return StepResult(step, StepOutcome.FAILED, error.aws_code, error.message)
    return StepResult(step, StepOutcome.DONE)


def _login_profile(iam: Any) -> dict[str, Any] | None:
    try:
        return dict(iam.get_login_profile()["LoginProfile"])
    except ClientError as exc:
        # "Login Profile for User null cannot be found." means: no password (docs/aws-behaviour.md).
        if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
            return None
        raise


# -- password recovery -------------------------------------------------------------------------------------


@dataclass
class RecoveryResult:
    """The login profile before, whether it was created, and the state after."""

    account_id: str
    profile_before: dict[str, Any] | None
    created: bool = False
    error: str | None = None
    after: RootCredentialState | None = None
    after_error: str | None = None

    @property
    def already_allowed(self) -> bool:
        return self.profile_before is not None


def plan_password_recovery(factory: ClientFactory, account_id: str) -> RecoveryResult:
    """Read whether the root user already has a login profile (audit policy, read-only)."""
    policy = TaskPolicy.IAM_AUDIT_ROOT_USER_CREDENTIALS
    try:
        with factory.root_session(account_id, policy, READ_SESSION_SECONDS) as root:
            return RecoveryResult(account_id, _jsonable(_login_profile(root.client("iam"))))
    except RootwatchError as exc:
        refusal = refusal_for(exc, policy)
        if refusal is not None:
            raise refusal from exc
        raise
    except ClientError as exc:
        raise classify(exc) from exc


def allow_password_recovery(
    factory: ClientFactory, result: RecoveryResult, action_log: ActionLog, who: str
) -> RecoveryResult:
    """CreateLoginProfile as root (IAMCreateRootUserPassword), log it, and re-audit the account."""
    policy = TaskPolicy.IAM_CREATE_ROOT_USER_PASSWORD
    entry = {"who": who, "account_id": result.account_id, "operation": RECOVERY_OPERATION}
    try:
        with factory.root_session(result.account_id, policy, READ_SESSION_SECONDS) as root:
            try:
                root.client("iam").create_login_profile()
                result.created = True
                outcome, code, message = "done", None, None
            except ClientError as exc:
                error = classify(exc)
                if error.aws_code == "EntityAlreadyExists":
                    outcome, code, message = "already_present", error.aws_code, error.message
                else:
                    outcome, code, message = "failed", error.aws_code, error.message
                    result.error = f"{error.aws_code}: {error.message}"
            action_log.append(
                ActionEntry(
                    **entry,
                    action="CreateLoginProfile",
                    target=LOGIN_PROFILE_ID,
                    result=outcome,
                    task_policy=policy.value,
                    error_code=code,
                    message=message,
                )
            )
    except RootwatchError as exc:
        refusal = refusal_for(exc, policy)
        if refusal is not None:
            raise refusal from exc
        result.error = f"{exc.aws_code or exc.kind.value}: {exc.message}"
    except ClientError as exc:
        error = classify(exc)
        result.error = f"could not record the action ({error.aws_code}: {error.message})"
    result.after, result.after_error = reaudit_account(factory, result.account_id)
    return result


def _jsonable(profile: dict[str, Any] | None) -> dict[str, Any] | None:
    if profile is None:
        return None
    return {k: (iso_utc(v) if isinstance(v, datetime) else v) for k, v in profile.items()}
