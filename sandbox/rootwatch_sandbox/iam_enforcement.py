"""The sandbox enforces the identity policies of assumed-role callers (docs/sandbox.md, "IAM enforcement").

rootaccess's choke point calls :func:`check_request` (every moto request) and :func:`check_s3` (S3's
authorization hook). For a caller whose credentials are an ``sts:AssumeRole`` session of a role that exists
in the sandbox's IAM, the request's action and resources (:mod:`iam_requests`) are evaluated
(:mod:`iam_policy`) against the role's inline and attached managed policies; a denied call raises the
service's own AccessDenied error. Everyone else (the default ``testing`` credentials, IAM users, root
sessions, sessions of roles the sandbox does not have) is not checked here.

What is reused from moto: its STS backend's record of assumed-role sessions (``assumed_roles``), the IAM
backend's roles and policies, and ``moto.iam.access_control.IAMPolicy`` to read a managed policy's default
version. moto's own enforcement (``INITIAL_NO_AUTH_ACTION_COUNT``) stays off: it checks every caller
(the ``testing`` keys included, which it then rejects), evaluates resources only for S3/SQS/IAM/STS, and
knows one condition operator.

The switch: :func:`set_enabled` (``Sandbox(iam_enforcement=False)``, ``rootwatch sandbox serve
--no-iam-enforcement``), else ``ROOTWATCH_SANDBOX_IAM=off`` in the environment; on by default.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rootwatch_sandbox import iam_policy, iam_requests
from rootwatch_sandbox.sandbox_errors import SandboxError, deny_code
from rootwatch_sandbox.switches import Switch

LOG = logging.getLogger(__name__)

ENV = "ROOTWATCH_SANDBOX_IAM"
"""Environment variable: ``off`` turns enforcement off when nothing set it explicitly."""

_SWITCH = Switch(ENV)


#: Needs no permission in AWS: no policy can deny it.
_ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity"})


def set_enabled(enabled: bool | None) -> None:
    """Turn enforcement on or off for the process; None falls back to ``$ROOTWATCH_SANDBOX_IAM`` (default on)."""
    _SWITCH.set(enabled)


def enabled() -> bool:
    """Whether assumed-role callers are held to their role's policies."""
    return _SWITCH.enabled()


# --- who is calling ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleCaller:
    """An assumed-role session: ``arn:aws:sts::<account>:assumed-role/<role_name>/<session_name>``."""

    account_id: str
    role_name: str
    role_arn: str
    session_name: str

    @property
    def principal_arn(self) -> str:
        return f"arn:aws:sts::{self.account_id}:assumed-role/{self.role_name}/{self.session_name}"


_callers: dict[str, RoleCaller | None] = {}
_callers_lock = threading.Lock()


def reset() -> None:
    """Forget the callers seen (moto reset its backends)."""
    with _callers_lock:
        _callers.clear()


def role_caller(access_key_id: str | None, account_id: str) -> RoleCaller | None:
    """The assumed-role session behind ``access_key_id`` (moto's STS record in ``account_id``), else None."""
    if not access_key_id:
        return None
    with _callers_lock:
        if access_key_id in _callers:
            return _callers[access_key_id]
    from moto.sts.models import sts_backends

    caller: RoleCaller | None = None
    try:
        assumed = sts_backends[account_id]["aws"].get_assumed_role_from_access_key(access_key_id)
    except Exception:  # an account moto cannot make a backend for
        assumed = None
    if assumed is not None:
        caller = RoleCaller(
            account_id=assumed.account_id,
            role_name=assumed.role_arn.split("/")[-1],
            role_arn=assumed.role_arn,
            session_name=assumed.session_name,
        )
    with _callers_lock:
        # A key that is no session now never becomes one (moto makes new keys), so both answers are kept.
        _callers[access_key_id] = caller
    return caller


def role_policies(caller: RoleCaller) -> list[tuple[str, Mapping[str, Any]]] | None:
    """The role's identity policies (inline, then attached managed), or None when the role does not exist."""
    from moto.iam.access_control import IAMPolicy
    from moto.iam.models import iam_backends

    backend = iam_backends[caller.account_id]["aws"]
    role = next((r for r in backend.roles.values() if r.name == caller.role_name), None)
    if role is None:
        return None
    policies: list[tuple[str, Mapping[str, Any]]] = [
        (name, _parsed(document)) for name, document in list(role.policies.items())
    ]
    for managed in list(role.managed_policies.values()):
        policies.append((managed.arn, IAMPolicy(managed)._policy_json))
    return policies


_parse_cache: dict[str, Mapping[str, Any]] = {}


def _parsed(document: str | Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(document, str):
        return document
    parsed = _parse_cache.get(document)
    if parsed is None:
        parsed = json.loads(document)
        if len(_parse_cache) > 512:
            _parse_cache.clear()
        _parse_cache[document] = parsed
    return parsed


# --- the check --------------------------------------------------------------------------------------------


def request_context(caller: RoleCaller, region: str) -> dict[str, Any]:
    """The global condition keys of a request by ``caller`` to the sandbox.

    ``aws:SecureTransport`` is true: the sandbox's endpoint is plain HTTP, but it stands for AWS's HTTPS
    endpoints (otherwise every TLS-only bucket or topic policy would deny everything). ``aws:SourceAccount``
    and ``aws:SourceArn`` are absent, as they are for a role session's own calls.
    """
    return {
        "aws:SecureTransport": True,
        "aws:PrincipalAccount": caller.account_id,
        "aws:PrincipalArn": f"arn:aws:iam::{caller.account_id}:role/{caller.role_name}",
        "aws:PrincipalType": "AssumedRole",
        "aws:RequestedRegion": region,
        "aws:userid": caller.session_name,
    }


def deny_error(
    service: str, principal_arn: str, action: str, resource: str, explicit: bool, policy_kind: str = "an identity-based"
) -> SandboxError:
    """AWS's answer to a denied call, in the service's own error code (sent in its own protocol by moto)."""
    if service == "sns":
        action = "SNS:" + action.split(":", 1)[1]  # SNS names itself in upper case
    shown = f'"{resource}"' if service == "s3" else resource
    reason = (
        f"with an explicit deny in {policy_kind} policy"
        if explicit
        else f"because no identity-based policy allows the {action} action"
    )
    message = f"User: {principal_arn} is not authorized to perform: {action} on resource: {shown} {reason}"
    code = deny_code(service)
    if code == "UnauthorizedOperation":
        message = "You are not authorized to perform this operation. " + message
    return SandboxError(code, message, status=403)


def authorize(caller: RoleCaller, service: str, authorization: iam_requests.Authorization, region: str) -> None:
    """Raise the service's AccessDenied unless the caller's role allows the action on every resource."""
    if authorization.action in _ALWAYS_ALLOWED:
        return
    policies = role_policies(caller)
    if policies is None:
        return  # a role the sandbox does not have (moto lets any ARN be assumed): not modelled, not enforced
    context = {**request_context(caller, region), **authorization.context}
    for resource in authorization.resources:
        decision = iam_policy.evaluate(policies, authorization.action, resource, context)
        if not decision.allowed:
            LOG.debug(
                "IAM denies %s %s on %s (%s)",
                caller.principal_arn,
                authorization.action,
                resource,
                "explicit deny" if decision.explicit_deny else "no allow",
            )
            raise deny_error(service, caller.principal_arn, authorization.action, resource, decision.explicit_deny)
        document = resource_policy(service, resource, caller.account_id, region)
        if document is not None:
            # Same account: the identity policy's allow suffices; only an explicit deny of the resource policy
            # (the stack's TLS-only statements) can still refuse. Its Allows for other principals do not matter here.
            verdict = iam_policy.evaluate(
                [("resource", document)],
                authorization.action,
                resource,
                context,
                principal={"AWS": [caller.principal_arn, caller.role_arn]},
            )
            if verdict.explicit_deny:
                raise deny_error(
                    service, caller.principal_arn, authorization.action, resource, True, "a resource-based"
                )


def resource_policy(service: str, resource: str, account_id: str, region: str) -> Mapping[str, Any] | None:
    """The bucket policy (S3) or topic policy (SNS) that governs ``resource``, if the sandbox holds one."""
    try:
        if service == "s3" and resource.startswith("arn:aws:s3:::"):
            from moto.s3.models import s3_backends

            bucket_name = resource[len("arn:aws:s3:::") :].split("/", 1)[0]
            bucket = s3_backends[account_id]["aws"].buckets.get(bucket_name)
            policy = getattr(bucket, "policy", None)
            return _parsed(policy.decode() if isinstance(policy, bytes) else policy) if policy else None
        if service == "sns" and resource.startswith("arn:aws:sns:"):
            from moto.sns.models import sns_backends

            topic = sns_backends[account_id][resource.split(":")[3]].topics.get(resource)
            return getattr(topic, "_policy_json", None)
    except Exception:  # a backend moto cannot make: no resource policy to apply
        LOG.debug("no resource policy for %s", resource, exc_info=True)
    return None


def check_request(resp: Any, service: str, operation: str) -> None:
    """The choke point's check for a non-S3 request (``resp`` is moto's BaseResponse)."""
    if not enabled():
        return
    account = resp.current_account
    caller = role_caller(resp.access_key, account)
    if caller is None:
        return
    service = "lambda" if service == "awslambda" else service
    raw = getattr(resp, "params", None)
    params: dict[str, Any] = dict(raw) if isinstance(raw, Mapping) else {}
    for key, value in (getattr(resp, "uri_match", None) or {}).items():
        params.setdefault(key, value)
    if service in ("lambda", "sqs"):  # a Lambda Qualifier rides in the query string; so may SQS's parameters
        for key, value in (resp.querystring or {}).items():
            params.setdefault(key, value[0] if isinstance(value, list) and len(value) == 1 else value)
    # A JSON-protocol request's parameters are its body, which moto reads lazily (findings, buses, account ids):
    # every service, so a new one is never authorized against "*" for want of a name in a list.
    for key, value in json_body(resp).items():
        params.setdefault(key, value)
    authorization = iam_requests.authorization_for(service, operation, params, resp.region, account)
    authorize(caller, service, authorization, resp.region)


def json_body(resp: Any) -> dict[str, Any]:
    """The request's JSON body as a dict (empty when there is none or it is not JSON; moto's DynamoDB has
    already parsed it)."""
    body = getattr(resp, "body", None)
    if isinstance(body, dict):
        return body
    if not isinstance(body, str | bytes):
        return {}
    try:
        parsed = json.loads(body.decode() if isinstance(body, bytes) else body or "{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def check_s3(resp: Any, operation: str, bucket: str | None, key: str | None) -> None:
    """The choke point's check for an S3 request."""
    if not enabled():
        return
    caller = role_caller(resp.access_key, resp.current_account)
    if caller is None:
        return
    authorize(caller, "s3", iam_requests.s3_authorization(operation, bucket, key), resp.region)


__all__ = [
    "ENV",
    "RoleCaller",
    "authorize",
    "check_request",
    "check_s3",
    "deny_error",
    "enabled",
    "request_context",
    "reset",
    "role_caller",
    "role_policies",
    "set_enabled",
]
