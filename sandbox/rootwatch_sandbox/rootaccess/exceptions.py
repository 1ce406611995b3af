"""The errors the sandbox's root-access layer answers with: AWS's codes, statuses and observed wording."""

from __future__ import annotations

from moto.core.responses import BaseResponse
from rootwatch.domain.features import ROOT_SESSIONS_NOT_ENABLED as ROOT_SESSIONS_NOT_ENABLED
from rootwatch.domain.features import SERVICE_NOT_ENABLED as SERVICE_NOT_ENABLED

from rootwatch_sandbox.sandbox_errors import DENY_CODE, SandboxError, deny_code

#: AWS's observed messages, word for word (docs/aws-behaviour.md); the feature ones come from the core.
EXPIRED_TOKEN = "The security token included in the request is expired"  # noqa: S105 - an error message

#: moto service name -> IAM action prefix, where they differ.
_ACTION_PREFIX = {"stepfunctions": "states", "sns": "sns", "elbv2": "elasticloadbalancing"}
#: The code each service uses for "access denied", where it is not AccessDenied.
_DENY_CODES = frozenset(DENY_CODE.values()) | {"AccessDenied"}
_THROTTLING_CODES = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"})
_STATUS_BY_CODE = {"ServiceUnavailable": 503, "InternalFailure": 500, "InternalError": 500, "ServiceFailure": 500}


def action_name(service: str, action: str) -> str:
    """The IAM action (``prefix:Action``) of a moto service's action."""
    return f"{_ACTION_PREFIX.get(service, service)}:{action}"


def deny_error(service: str, principal_arn: str, action: str, policy_kind: str) -> SandboxError:
    """AWS's explicit-deny answer; ``policy_kind`` is "an identity-based policy" or "a service control policy"."""
    message = (
        f"User: {principal_arn} is not authorized to perform: {action_name(service, action)} "
        f"with an explicit deny in {policy_kind}"
    )
    code = deny_code(service)
    if code == "UnauthorizedOperation":
        message = "You are not authorized to perform this operation. " + message
    return SandboxError(code, message, status=403)


def fault_error(fault_code: str, message: str | None, service: str, principal_arn: str, action: str) -> SandboxError:
    """The error an injected fault produces. A deny with no message gets AWS's SCP wording for the actual action."""
    if fault_code in _DENY_CODES:
        if message is None:
            error = deny_error(service, principal_arn, action, "a service control policy")
            return SandboxError(fault_code, error.message, status=403)
        return SandboxError(fault_code, message, status=403)
    if fault_code in _THROTTLING_CODES:
        status = 503 if fault_code == "RequestLimitExceeded" else 400
        return SandboxError(fault_code, message or "Rate exceeded", status=status)
    return SandboxError(
        fault_code, message or f"{fault_code} (injected by the rootwatch sandbox)", _STATUS_BY_CODE.get(fault_code, 400)
    )


def caller_arn(resp: BaseResponse) -> str:
    """The ARN moto considers the caller to be (for fault messages on non-root callers)."""
    try:
        from moto.sts.models import sts_backends

        backend = sts_backends[resp.current_account]["aws"]
        return backend.get_caller_identity(resp.access_key, resp.region)[1]
    except Exception:  # only a message; never fail a request over it
        return f"arn:aws:iam::{resp.current_account}:root"


def validation_error(message: str) -> SandboxError:
    """STS's ValidationError for a parameter that fails its constraint."""
    return SandboxError("ValidationError", f"1 validation error detected: {message}", status=400)


def invalid_input(reason: str, message: str) -> SandboxError:
    """Organizations' InvalidInputException, with its ``Reason``."""
    error = SandboxError("InvalidInputException", message, status=400)
    error.Reason = reason  # type: ignore[attr-defined]  # serialized as the shape's Reason member
    return error
