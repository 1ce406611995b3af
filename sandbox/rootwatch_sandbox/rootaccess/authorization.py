"""Who may make a call: root sessions (expiry, task-policy scope), injected faults, the S3 and SQS account checks.

rootwatch_sandbox.rootaccess.responses.intercept runs these in front of every moto request;
moto_patches runs them in S3's own authorization hook.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moto.core.responses import BaseResponse
from rootwatch.domain.task_policies import ALLOWED_ACTIONS

from rootwatch_sandbox.rootaccess.exceptions import EXPIRED_TOKEN, action_name, caller_arn, deny_error, fault_error
from rootwatch_sandbox.rootstate import STATE, RootSession
from rootwatch_sandbox.sandbox_errors import SandboxError


def authorize_root_session(session: RootSession, service: str, action: str) -> None:
    """Expiry, injected faults and the task policy's scope, for a call made with root-session credentials."""
    if STATE.clock.now() >= session.expiration:
        raise SandboxError("ExpiredToken", EXPIRED_TOKEN, status=403)
    if service == "sts" and action == "GetCallerIdentity":
        # Needs no permission in AWS: neither the task policy nor an SCP can deny it.
        fault = STATE.take_fault(session.account_id, action, root_session=False)
    else:
        fault = STATE.take_fault(session.account_id, action, root_session=True)
    if fault is not None:
        raise fault_error(fault.error_code, fault.message, service, session.principal_arn, action)
    if service == "sts" and action == "GetCallerIdentity":
        return
    if action_name(service, action) not in ALLOWED_ACTIONS[session.task_policy]:
        raise deny_error(service, session.principal_arn, action, "an identity-based policy")


def check_other_caller(resp: BaseResponse, service: str, action: str) -> None:
    """Injected faults for calls not made by a root session: the fault's account is the caller's."""
    fault = STATE.take_fault(resp.current_account, action, root_session=False)
    if fault is not None:
        raise fault_error(fault.error_code, fault.message, service, caller_arn(resp), action)


def check_bucket_owner(resp: Any, session: RootSession | None, bucket_name: str | None) -> None:
    """S3 refuses a request whose ``ExpectedBucketOwner`` is not the bucket's owner, and a root session acts only
    in its own account: another account's bucket is AccessDenied (docs/sandbox.md, "S3 and SQS unlock")."""
    if not bucket_name:
        return
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket_name)
    if owner is None:
        return  # no such bucket: moto answers NoSuchBucket
    expected = resp.headers.get("x-amz-expected-bucket-owner")
    if expected is not None and expected != owner[1]:
        raise SandboxError("AccessDenied", "Access Denied", status=403)
    if session is not None and owner[1] != session.account_id:
        raise SandboxError("AccessDenied", "Access Denied", status=403)


def check_queue_account(resp: BaseResponse, session: RootSession) -> None:
    """A root session acts only in its own account: another account's queue URL is AccessDenied."""
    params = getattr(resp, "params", None)
    raw = params.get("QueueUrl") if isinstance(params, Mapping) else None
    queue_url = raw if isinstance(raw, str) else ""
    parts = queue_url.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2].isdigit() and parts[-2] != session.account_id:
        raise SandboxError("AccessDenied", f"Access to the resource {queue_url} is denied.", status=403)
