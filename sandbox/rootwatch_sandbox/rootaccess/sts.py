"""STS for root access: AssumeRoot (validation, the org's checks, the session) and a root session's identity."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from moto.core.responses import BaseResponse
from rootwatch.domain.account_ids import ACCOUNT_ID_REGEX
from rootwatch.domain.task_policies import TaskPolicy

from rootwatch_sandbox import orgview
from rootwatch_sandbox.rootaccess.exceptions import (
    ROOT_SESSIONS_NOT_ENABLED,
    SERVICE_NOT_ENABLED,
    caller_arn,
    fault_error,
    validation_error,
)
from rootwatch_sandbox.rootstate import ROOT_SESSIONS, STATE, RootSession, random_id
from rootwatch_sandbox.sandbox_errors import SandboxError

DEFAULT_ROOT_SESSION_SECONDS = 900
MAX_ROOT_SESSION_SECONDS = 900

_TARGET_ACCOUNT = re.compile(rf"(?:arn:aws:iam::)?({ACCOUNT_ID_REGEX})(?::root)?", re.ASCII)
_ACCOUNT_ARN = re.compile(rf"arn:aws:iam::({ACCOUNT_ID_REGEX}):root", re.ASCII)


def _parse_assume_root(params: dict[str, Any]) -> tuple[str, TaskPolicy, int]:
    """Validates AssumeRoot's parameters as STS does: target account id, task policy, duration."""
    target = params.get("TargetPrincipal")
    if target is None:
        raise validation_error("Value null at 'targetPrincipal' failed to satisfy constraint: Member must not be null")
    if len(target) < 12:
        raise validation_error(
            f"Value '{target}' at 'targetPrincipal' failed to satisfy constraint: "
            "Member must have length greater than or equal to 12"
        )
    if len(target) > 2048:
        raise validation_error(
            f"Value '{target}' at 'targetPrincipal' failed to satisfy constraint: "
            "Member must have length less than or equal to 2048"
        )
    match = _TARGET_ACCOUNT.fullmatch(target)
    if match is None or (target.startswith("arn:") and not _ACCOUNT_ARN.fullmatch(target)):
        raise SandboxError(
            "ValidationError",
            f"Invalid TargetPrincipal '{target}': expected an AWS account ID or arn:aws:iam::<account-id>:root.",
        )
    policy_arn = (params.get("TaskPolicyArn") or {}).get("arn")
    if policy_arn is None:
        raise validation_error("Value null at 'taskPolicyArn' failed to satisfy constraint: Member must not be null")
    try:
        policy = TaskPolicy.from_arn(policy_arn)
    except ValueError:
        raise SandboxError(
            "ValidationError", f"The TaskPolicyArn {policy_arn} is not a supported root task policy."
        ) from None
    duration = params.get("DurationSeconds")
    duration = DEFAULT_ROOT_SESSION_SECONDS if duration is None else int(duration)
    if duration < 0:
        raise validation_error(
            f"Value '{duration}' at 'durationSeconds' failed to satisfy constraint: "
            "Member must have value greater than or equal to 0"
        )
    if duration > MAX_ROOT_SESSION_SECONDS:
        raise validation_error(
            f"Value '{duration}' at 'durationSeconds' failed to satisfy constraint: "
            f"Member must have value less than or equal to {MAX_ROOT_SESSION_SECONDS}"
        )
    return match.group(1), policy, duration


MAX_MINIMUM_SESSION_TOKEN_SIZE = 4096


def _minimum_token_size(params: Mapping[str, Any]) -> int:
    """AssumeRoot's ``MinimumSessionTokenSize`` (0-4096 bytes; 0 or absent: unchanged), per the STS API reference."""
    raw = params.get("MinimumSessionTokenSize")
    size = 0 if raw is None else int(raw)
    if size < 0:
        raise validation_error(
            f"Value '{size}' at 'minimumSessionTokenSize' failed to satisfy constraint: "
            "Member must have value greater than or equal to 0"
        )
    if size > MAX_MINIMUM_SESSION_TOKEN_SIZE:
        raise validation_error(
            f"Value '{size}' at 'minimumSessionTokenSize' failed to satisfy constraint: "
            f"Member must have value less than or equal to {MAX_MINIMUM_SESSION_TOKEN_SIZE}"
        )
    return size


def _session_token(minimum_size: int) -> str:
    """A root session token, at least ``minimum_size`` bytes long ("STS increases the session token to at least
    this size, regardless of its actual content")."""
    token = base64.b64encode(random_id("ROOT", 120).encode()).decode()
    if len(token) < minimum_size:
        padding = random_id("", (minimum_size - len(token)) * 3 // 4 + 3)
        token = base64.b64encode((random_id("ROOT", 120) + padding).encode()).decode()
    return token


def assume_root(resp: BaseResponse, session: RootSession | None) -> dict[str, Any]:
    """STS AssumeRoot: short-term credentials for a member account's root, limited to one task policy."""
    target, policy, duration = _parse_assume_root(resp.params)
    fault = STATE.take_fault(target, "AssumeRoot", root_session=False)
    if fault is not None:
        raise fault_error(fault.error_code, fault.message, "sts", caller_arn(resp), "AssumeRoot")
    caller = resp.current_account
    backend = orgview.management_backend(caller)
    org = backend.org if backend is not None else None
    if (
        backend is None
        or org is None
        or not (org.master_account_id == caller or orgview.is_iam_delegated_admin(backend, caller))
    ):
        raise SandboxError(
            "AccessDenied",
            "Only the management account or the delegated administrator for iam.amazonaws.com "
            "of an AWS Organization can call AssumeRoot.",
            status=403,
        )
    features = STATE.enabled_features(org.id)
    if not orgview.trusted_access_enabled(backend) or not features:
        raise SandboxError("AccessDenied", SERVICE_NOT_ENABLED, status=403)
    if policy.required_feature not in features:
        message = ROOT_SESSIONS_NOT_ENABLED if policy.required_feature == ROOT_SESSIONS else SERVICE_NOT_ENABLED
        raise SandboxError("AccessDenied", message, status=403)
    if target == org.master_account_id:
        raise SandboxError(
            "AccessDenied", "AssumeRoot cannot target the management account of the organization.", status=403
        )
    account = orgview.find_account(backend, target)
    if account is None:
        raise SandboxError("AccessDenied", f"Account {target} is not a member of your AWS Organization.", status=403)
    state = orgview.account_state(account)
    if state != "ACTIVE":
        raise SandboxError("AccessDenied", f"Account {target} is not active (state {state}).", status=403)
    root_session = RootSession(
        access_key_id=random_id("ASIA", 20),
        secret_access_key=random_id("", 40),
        session_token=_session_token(_minimum_token_size(resp.params)),
        account_id=target,
        task_policy=policy,
        expiration=STATE.clock.now() + dt.timedelta(seconds=duration),
    )
    STATE.add_session(root_session)
    # Observed: real AWS answers with Credentials only (no SourceIdentity unless the caller had one).
    return {
        "Credentials": {
            "AccessKeyId": root_session.access_key_id,
            "SecretAccessKey": root_session.secret_access_key,
            "SessionToken": root_session.session_token,
            "Expiration": root_session.expiration,
        }
    }


def get_caller_identity(resp: BaseResponse, session: RootSession | None) -> dict[str, Any] | None:
    """A root session is ``arn:aws:iam::<id>:root`` with UserId and Account the account id (observed)."""
    if session is None:
        return None
    return {"UserId": session.account_id, "Account": session.account_id, "Arn": session.principal_arn}
