"""Centralized root access on top of moto: AssumeRoot, root users, task-policy scope, org features, faults.

Every moto request passes ``BaseResponse.call_action`` (S3 passes its own authorization hook
instead). ``install()`` puts one check in front of both:

1. a call made with root-session credentials must not be expired, must not hit an injected fault
   and must be an action its task policy allows (otherwise AWS's observed explicit-deny error);
2. a call made with an assumed-role session must be allowed by its role's identity policies
   (``iam_enforcement``; otherwise the service's own AccessDenied), then may hit an injected fault;
3. any other call may hit an injected fault for its account;
4. the operations moto lacks or gets wrong for root access are answered here (AssumeRoot,
   GetCallerIdentity of a root session, the root user's no-UserName IAM calls, the IAM
   organization features, ListAccounts pages of at most 20); everything else goes on to moto.

Root-session credentials map to the member account through ``get_current_account``, so every
moto service sees the member account, as moto does for ``assume_role`` credentials.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from moto.core import serialize as moto_serialize
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.base_backend import BackendDict
from moto.core.errors import ErrorLookupFactory, ErrorShape
from moto.core.responses import ActionResult, BaseResponse
from moto.iam.models import AccountSummary
from moto.organizations.models import FakeDelegatedAdministrator, FakeServiceAccess, organizations_backends
from rootwatch.domain.account_ids import ACCOUNT_ID_REGEX
from rootwatch.domain.task_policies import ALLOWED_ACTIONS, TaskPolicy

from rootwatch_sandbox import iam_enforcement, orgview, rootuser_api, signatures
from rootwatch_sandbox.rootstate import (
    ORGANIZATION_FEATURES,
    ROOT_CREDENTIALS_MANAGEMENT,
    ROOT_SESSIONS,
    STATE,
    RootSession,
    RootUser,
    random_id,
)
from rootwatch_sandbox.sandbox_errors import DENY_CODE, SandboxError, deny_code

DEFAULT_ROOT_SESSION_SECONDS = 900
MAX_ROOT_SESSION_SECONDS = 900
LIST_ACCOUNTS_MAX_RESULTS = 20

#: AWS's observed messages, word for word (docs/aws-behaviour.md).
SERVICE_NOT_ENABLED = "Service not enabled for AWS Organizations."
ROOT_SESSIONS_NOT_ENABLED = "Root sessions feature is not enabled for your AWS Organization."
EXPIRED_TOKEN = "The security token included in the request is expired"  # noqa: S105 - an error message

_TARGET_ACCOUNT = re.compile(rf"(?:arn:aws:iam::)?({ACCOUNT_ID_REGEX})(?::root)?", re.ASCII)
_ACCOUNT_ARN = re.compile(rf"arn:aws:iam::({ACCOUNT_ID_REGEX}):root", re.ASCII)

#: moto service name -> IAM action prefix, where they differ.
_ACTION_PREFIX = {"stepfunctions": "states", "sns": "sns", "elbv2": "elasticloadbalancing"}
#: The code each service uses for "access denied", where it is not AccessDenied.
_DENY_CODES = frozenset(DENY_CODE.values()) | {"AccessDenied"}
_THROTTLING_CODES = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"})
_STATUS_BY_CODE = {"ServiceUnavailable": 503, "InternalFailure": 500, "InternalError": 500, "ServiceFailure": 500}

Response = tuple[int, dict[str, str], Any]
Handler = Callable[[BaseResponse, RootSession | None], "dict[str, Any] | Response | None"]

_install_lock = threading.Lock()
_installed = False


# --- errors -----------------------------------------------------------------------------------
def _action_name(service: str, action: str) -> str:
    return f"{_ACTION_PREFIX.get(service, service)}:{action}"


def _deny_error(service: str, principal_arn: str, action: str, policy_kind: str) -> SandboxError:
    """AWS's explicit-deny answer; ``policy_kind`` is "an identity-based policy" or "a service control policy"."""
    message = (
        f"User: {principal_arn} is not authorized to perform: {_action_name(service, action)} "
        f"with an explicit deny in {policy_kind}"
    )
    code = deny_code(service)
    if code == "UnauthorizedOperation":
        message = "You are not authorized to perform this operation. " + message
    return SandboxError(code, message, status=403)


def _fault_error(fault_code: str, message: str | None, service: str, principal_arn: str, action: str) -> SandboxError:
    """The error an injected fault produces. A deny with no message gets AWS's SCP wording for the actual action."""
    if fault_code in _DENY_CODES:
        if message is None:
            error = _deny_error(service, principal_arn, action, "a service control policy")
            return SandboxError(fault_code, error.message, status=403)
        return SandboxError(fault_code, message, status=403)
    if fault_code in _THROTTLING_CODES:
        status = 503 if fault_code == "RequestLimitExceeded" else 400
        return SandboxError(fault_code, message or "Rate exceeded", status=status)
    return SandboxError(
        fault_code, message or f"{fault_code} (injected by the rootwatch sandbox)", _STATUS_BY_CODE.get(fault_code, 400)
    )


def _caller_arn(resp: BaseResponse) -> str:
    """The ARN moto considers the caller to be (for fault messages on non-root callers)."""
    try:
        from moto.sts.models import sts_backends

        backend = sts_backends[resp.current_account]["aws"]
        return backend.get_caller_identity(resp.access_key, resp.region)[1]
    except Exception:  # only a message; never fail a request over it
        return f"arn:aws:iam::{resp.current_account}:root"


# --- the checks -------------------------------------------------------------------------------
def _authorize_root_session(session: RootSession, service: str, action: str) -> None:
    """Expiry, injected faults and the task policy's scope, for a call made with root-session credentials."""
    if STATE.clock.now() >= session.expiration:
        raise SandboxError("ExpiredToken", EXPIRED_TOKEN, status=403)
    if service == "sts" and action == "GetCallerIdentity":
        # Needs no permission in AWS: neither the task policy nor an SCP can deny it.
        fault = STATE.take_fault(session.account_id, action, root_session=False)
    else:
        fault = STATE.take_fault(session.account_id, action, root_session=True)
    if fault is not None:
        raise _fault_error(fault.error_code, fault.message, service, session.principal_arn, action)
    if service == "sts" and action == "GetCallerIdentity":
        return
    if _action_name(service, action) not in ALLOWED_ACTIONS[session.task_policy]:
        raise _deny_error(service, session.principal_arn, action, "an identity-based policy")


def _check_other_caller(resp: BaseResponse, service: str, action: str) -> None:
    """Injected faults for calls not made by a root session: the fault's account is the caller's."""
    fault = STATE.take_fault(resp.current_account, action, root_session=False)
    if fault is not None:
        raise _fault_error(fault.error_code, fault.message, service, _caller_arn(resp), action)


def _check_bucket_owner(resp: Any, session: RootSession | None, bucket_name: str | None) -> None:
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


def _check_queue_account(resp: BaseResponse, session: RootSession) -> None:
    """A root session acts only in its own account: another account's queue URL is AccessDenied."""
    params = getattr(resp, "params", None)
    raw = params.get("QueueUrl") if isinstance(params, Mapping) else None
    queue_url = raw if isinstance(raw, str) else ""
    parts = queue_url.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2].isdigit() and parts[-2] != session.account_id:
        raise SandboxError("AccessDenied", f"Access to the resource {queue_url} is denied.", status=403)


def _serialize(resp: BaseResponse, result: object) -> Response:
    status, headers, body = resp.serialized(ActionResult(result))
    headers, body = resp._enrich_response(headers, body)
    return status, headers, body


def _intercept(resp: BaseResponse) -> Response | None:
    """The sandbox's answer to this request, or None to let moto answer it."""
    service = resp.service_name or ""
    action = resp._get_action()
    session = STATE.session_for(resp.access_key)
    try:
        signatures.verify(resp, service)
        if session is not None:
            _authorize_root_session(session, service, action)
            if service == "sqs":
                _check_queue_account(resp, session)
        else:
            iam_enforcement.check_request(resp, service, action)
            if not (service == "sts" and action == "AssumeRoot"):  # AssumeRoot's fault account is the target
                _check_other_caller(resp, service, action)
        handler = _HANDLERS.get((service, action))
        if handler is None:
            return None
        result = handler(resp, session)
    except SandboxError as error:
        return _serialize(resp, error)
    if result is None or isinstance(result, tuple):
        return result
    return _serialize(resp, result)


# --- STS --------------------------------------------------------------------------------------
def _validation_error(message: str) -> SandboxError:
    return SandboxError("ValidationError", f"1 validation error detected: {message}", status=400)


def _parse_assume_root(params: dict[str, Any]) -> tuple[str, TaskPolicy, int]:
    """Validates AssumeRoot's parameters as STS does: target account id, task policy, duration."""
    target = params.get("TargetPrincipal")
    if target is None:
        raise _validation_error("Value null at 'targetPrincipal' failed to satisfy constraint: Member must not be null")
    if len(target) < 12:
        raise _validation_error(
            f"Value '{target}' at 'targetPrincipal' failed to satisfy constraint: "
            "Member must have length greater than or equal to 12"
        )
    if len(target) > 2048:
        raise _validation_error(
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
        raise _validation_error("Value null at 'taskPolicyArn' failed to satisfy constraint: Member must not be null")
    try:
        policy = TaskPolicy.from_arn(policy_arn)
    except ValueError:
        raise SandboxError(
            "ValidationError", f"The TaskPolicyArn {policy_arn} is not a supported root task policy."
        ) from None
    duration = params.get("DurationSeconds")
    duration = DEFAULT_ROOT_SESSION_SECONDS if duration is None else int(duration)
    if duration < 0:
        raise _validation_error(
            f"Value '{duration}' at 'durationSeconds' failed to satisfy constraint: "
            "Member must have value greater than or equal to 0"
        )
    if duration > MAX_ROOT_SESSION_SECONDS:
        raise _validation_error(
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
        raise _validation_error(
            f"Value '{size}' at 'minimumSessionTokenSize' failed to satisfy constraint: "
            "Member must have value greater than or equal to 0"
        )
    if size > MAX_MINIMUM_SESSION_TOKEN_SIZE:
        raise _validation_error(
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
        raise _fault_error(fault.error_code, fault.message, "sts", _caller_arn(resp), "AssumeRoot")
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


# --- IAM: the root user ---------------------------------------------------------------------------
def root_user_for(account_id: str) -> RootUser:
    """The account's root user; a new one is dated just before the account joined the org (as observed)."""
    user = STATE.known_root_user(account_id)
    if user is not None:
        return user
    created = None
    backend = orgview.management_backend(account_id)
    account = orgview.find_account(backend, account_id) if backend is not None else None
    if account is not None:
        created = account.create_time.replace(tzinfo=dt.UTC, microsecond=0) - dt.timedelta(seconds=1)
    return STATE.root_user(account_id, create_date=created)


def _root_user_call(operation: str) -> Handler:
    def handle(resp: BaseResponse, session: RootSession | None) -> dict[str, Any] | None:
        if session is None or resp.params.get("UserName"):
            return None  # an IAM user's call: moto's business
        with STATE.lock:  # the server serves requests on many threads
            return rootuser_api.HANDLERS[operation](root_user_for(session.account_id), resp.params)

    return handle


# --- IAM: organization features ---------------------------------------------------------------
def _features_context(resp: BaseResponse, management_only: bool) -> tuple[Any, str]:
    """The caller's org backend and org id, after the checks IAM makes for its organization-features API."""
    caller = resp.current_account
    backend = orgview.management_backend(caller)
    org = backend.org if backend is not None else None
    if backend is None or org is None:
        raise SandboxError(
            "OrganizationNotFoundException",
            "The request was rejected because no organization is associated with your account.",
            400,
        )
    is_management = org.master_account_id == caller
    if not is_management and not orgview.is_iam_delegated_admin(backend, caller):
        raise SandboxError(
            "AccountNotManagementOrDelegatedAdministratorException",
            "The request was rejected because the account making the request is not the management account or "
            "delegated administrator account for centralized root access.",
            400,
        )
    if management_only and not is_management:
        raise SandboxError(
            "CallerIsNotManagementAccountException",
            "The request was rejected because the account making the request is not the management account for "
            "the organization.",
            400,
        )
    if org.feature_set != "ALL":
        raise SandboxError(
            "OrganizationNotInAllFeaturesModeException",
            "The request was rejected because your organization does not have All features enabled. For more "
            "information, see Available feature sets in the AWS Organizations User Guide.",
            400,
        )
    if not orgview.trusted_access_enabled(backend):
        raise SandboxError(
            "ServiceAccessNotEnabledException",
            "The request was rejected because trusted access is not enabled for IAM in AWS Organizations. For "
            "details, see IAM and AWS Organizations in the AWS Organizations User Guide.",
            400,
        )
    return backend, org.id


def _features_answer(organization_id: str, features: set[str]) -> dict[str, Any]:
    return {
        "OrganizationId": organization_id,
        "EnabledFeatures": [feature for feature in ORGANIZATION_FEATURES if feature in features],
    }


def list_organizations_features(resp: BaseResponse, session: RootSession | None) -> dict[str, Any]:
    """Which of RootCredentialsManagement and RootSessions the org has enabled."""
    _, organization_id = _features_context(resp, management_only=False)
    return _features_answer(organization_id, STATE.enabled_features(organization_id))


def _set_feature(feature: str, enabled: bool) -> Handler:
    def handle(resp: BaseResponse, session: RootSession | None) -> dict[str, Any]:
        _, organization_id = _features_context(resp, management_only=True)
        return _features_answer(organization_id, STATE.set_feature(organization_id, feature, enabled))

    return handle


# --- Organizations ------------------------------------------------------------------------------
def _invalid_input(reason: str, message: str) -> SandboxError:
    error = SandboxError("InvalidInputException", message, status=400)
    error.Reason = reason  # type: ignore[attr-defined]  # serialized as the shape's Reason member
    return error


def encode_page_token(offset: int) -> str:
    """An opaque ListAccounts NextToken for the page starting at ``offset``."""
    return base64.urlsafe_b64encode(json.dumps({"rootwatch-offset": offset}).encode()).decode()


def decode_page_token(token: str) -> int:
    """The offset in a NextToken made by ``encode_page_token``; ValueError for anything else."""
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["rootwatch-offset"]
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise ValueError(token) from error
    if not isinstance(offset, int) or offset < 0:
        raise ValueError(token)
    return offset


NOT_IN_ORGANIZATION = "Your account is not a member of an organization."


def _org_reader_backend(resp: BaseResponse) -> Any:
    """The caller's org backend, if the caller may read the org (its management account or a delegated
    administrator); else AWS's AWSOrganizationsNotInUseException (no org) or AccessDeniedException (a member).
    moto answered both with an empty ListAccounts and DescribeAccount with AccountNotFoundException, which would
    let a run with the wrong credentials report 0 accounts."""
    caller = resp.current_account
    backend = orgview.management_backend(caller)
    if backend is None or backend.org is None:
        raise SandboxError("AWSOrganizationsNotInUseException", NOT_IN_ORGANIZATION, 400)
    if backend.org.master_account_id != caller and not orgview.is_delegated_admin(backend, caller):
        raise SandboxError("AccessDeniedException", "You don't have permissions to access this resource.", 400)
    return backend


def describe_account(resp: BaseResponse, session: RootSession | None) -> None:
    """Only who may read the org may describe its accounts; the answer itself is moto's."""
    _org_reader_backend(resp)


def list_accounts(resp: BaseResponse, session: RootSession | None) -> Response | None:
    """ListAccounts as AWS pages it: MaxResults 1-20 (default 20), opaque NextToken, with State and Status."""
    backend = _org_reader_backend(resp)
    params = json.loads(resp.body or "{}") if isinstance(resp.body, str) else {}
    max_results = params.get("MaxResults", LIST_ACCOUNTS_MAX_RESULTS)
    if not isinstance(max_results, int) or max_results < 1:
        raise _invalid_input(
            "MIN_VALUE_EXCEEDED", "You provided a value that is smaller than the minimum allowed value."
        )
    if max_results > LIST_ACCOUNTS_MAX_RESULTS:
        raise _invalid_input("MAX_VALUE_EXCEEDED", "You provided a value that exceeds the maximum allowed value.")
    token = params.get("NextToken")
    try:
        offset = decode_page_token(token) if token else 0
    except ValueError:
        raise _invalid_input("INVALID_PAGINATION_TOKEN", "You specified an invalid value for nextToken.") from None
    accounts = backend.accounts
    page = [account.describe() for account in accounts[offset : offset + max_results]]
    body: dict[str, Any] = {"Accounts": page}
    if offset + max_results < len(accounts):
        body["NextToken"] = encode_page_token(offset + max_results)
    headers = dict(resp.response_headers)
    headers["content-type"] = "application/x-amz-json-1.1"
    headers, text = resp._enrich_response(headers, json.dumps(body))
    return 200, headers, text


_HANDLERS: dict[tuple[str, str], Handler] = {
    ("sts", "AssumeRoot"): assume_root,
    ("sts", "GetCallerIdentity"): get_caller_identity,
    ("iam", "ListOrganizationsFeatures"): list_organizations_features,
    ("iam", "EnableOrganizationsRootCredentialsManagement"): _set_feature(ROOT_CREDENTIALS_MANAGEMENT, True),
    ("iam", "DisableOrganizationsRootCredentialsManagement"): _set_feature(ROOT_CREDENTIALS_MANAGEMENT, False),
    ("iam", "EnableOrganizationsRootSessions"): _set_feature(ROOT_SESSIONS, True),
    ("iam", "DisableOrganizationsRootSessions"): _set_feature(ROOT_SESSIONS, False),
    ("organizations", "ListAccounts"): list_accounts,
    ("organizations", "DescribeAccount"): describe_account,
    **{("iam", operation): _root_user_call(operation) for operation in rootuser_api.HANDLERS},
}


# --- installing ---------------------------------------------------------------------------------
def install() -> None:
    """Patch moto's request path, STS, IAM and Organizations. Process-wide and idempotent."""
    global _installed
    with _install_lock:
        if _installed:
            return
        signatures.install()
        _patch_request_path()
        _patch_error_status()
        _patch_account_summary()
        _patch_root_user_listings()
        _patch_organizations()
        _patch_reset()
        _patch_account_lookup()
        _patch_backend_lookup()
        _patch_bucket_policy()
        _patch_request_ids()
        _installed = True


def _patch_request_path() -> None:
    original_current_account = BaseResponse.get_current_account
    original_call_action = BaseResponse.call_action
    original_s3_auth = ActionAuthenticatorMixin._authenticate_and_authorize_s3_action

    def get_current_account(self: BaseResponse) -> str:
        session = STATE.session_for(self.get_access_key())
        if session is not None:
            return session.account_id
        return original_current_account(self)

    def call_action(self: BaseResponse) -> Response:
        answer = _intercept(self)
        if answer is not None:
            return answer
        return original_call_action(self)

    def authorize_s3(self: Any, bucket_name: str | None = None, key_name: str | None = None) -> None:
        action = str(self.data.get("Action", ""))
        signatures.verify(self, "s3")
        session = STATE.session_for(self.access_key)
        _check_bucket_owner(self, session, bucket_name)
        if session is not None:
            _authorize_root_session(session, "s3", action)
        else:
            iam_enforcement.check_s3(self, action or "ListAllMyBuckets", bucket_name, key_name)
            _check_other_caller(self, "s3", action)
        original_s3_auth(self, bucket_name=bucket_name, key_name=key_name)

    BaseResponse.get_current_account = get_current_account  # type: ignore[method-assign]
    BaseResponse.call_action = call_action  # type: ignore[method-assign]
    ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = authorize_s3  # type: ignore[method-assign]


def _patch_error_status() -> None:
    """Give the sandbox's own errors their HTTP status (moto would use 400 for codes its models lack)."""
    original = moto_serialize.get_error_model

    def get_error_model(exception: Exception, default_service_model: Any) -> ErrorShape:
        if not isinstance(exception, SandboxError):
            return original(exception, default_service_model)
        known = ErrorLookupFactory().for_service(default_service_model).from_code(exception.code)
        model: dict[str, Any] = dict(known._shape_model) if known is not None else {"type": "structure", "members": {}}
        model["exception"] = True
        model["error"] = {**model.get("error", {}), "code": exception.code, "httpStatusCode": exception.status}
        resolver = known._shape_resolver if known is not None else None
        return ErrorShape(shape_name=exception.code, shape_model=model, shape_resolver=resolver)

    moto_serialize.get_error_model = get_error_model  # type: ignore[assignment]


def _patch_account_summary() -> None:
    """GetAccountSummary's four root flags come from the account's root user, whoever asks (moto hard-codes 0)."""
    original = AccountSummary.summary_map.fget  # type: ignore[attr-defined]

    def summary_map(self: AccountSummary) -> dict[str, Any]:
        summary = original(self)
        user = STATE.known_root_user(self._iam_backend.account_id)
        summary.update(user.summary_flags() if user is not None else dict.fromkeys(_FLAG_NAMES, 0))
        if user is not None:  # root's MFA devices are IAM MFA devices in use (unverified: docs/sandbox.md)
            summary["MFADevices"] = summary.get("MFADevices", 0) + len(user.mfa_devices)
            summary["MFADevicesInUse"] = summary.get("MFADevicesInUse", 0) + len(user.mfa_devices)
        return summary

    AccountSummary.summary_map = property(summary_map)  # type: ignore[assignment,method-assign]


def _patch_root_user_listings() -> None:
    """The credential report has a ``<root_account>`` row and ListVirtualMFADevices lists root's virtual devices,
    from the account's root user (moto knows IAM users only)."""
    from moto.iam.exceptions import ValidationError
    from moto.iam.models import IAMBackend

    original_report = IAMBackend.get_credential_report

    def get_credential_report(self: IAMBackend) -> str:
        report: str = original_report(self)
        header, _, rows = report.partition("\n")
        with STATE.lock:
            root_row = rootuser_api.credential_report_row(root_user_for(self.account_id))
        return f"{header}\n{root_row}\n{rows}"

    def list_virtual_mfa_devices(
        self: IAMBackend, assignment_status: str, marker: str | None, max_items: int
    ) -> tuple[list[Any], str | None]:
        devices: list[Any] = list(self.virtual_mfa_devices.values())
        if assignment_status == "Assigned":
            devices = [device for device in devices if device.enable_date]
        elif assignment_status == "Unassigned":
            devices = [device for device in devices if not device.enable_date]
        if assignment_status != "Unassigned":
            with STATE.lock:
                user = STATE.known_root_user(self.account_id)
                devices.extend(rootuser_api.virtual_mfa_devices(user) if user is not None else [])
        max_items = int(max_items)
        start = int(marker) if marker else 0
        if start > len(devices):
            raise ValidationError("Invalid Marker.")
        page = devices[start : start + max_items]
        return page, (str(start + max_items) if start + max_items < len(devices) else None)

    IAMBackend.get_credential_report = get_credential_report  # type: ignore[method-assign]
    IAMBackend.list_virtual_mfa_devices = list_virtual_mfa_devices  # type: ignore[method-assign]


_FLAG_NAMES = (
    "AccountMFAEnabled",
    "AccountAccessKeysPresent",
    "AccountPasswordPresent",
    "AccountSigningCertificatesPresent",
)


def _patch_organizations() -> None:
    """Organizations accepts iam.amazonaws.com for trusted access and delegated administrators; CloseAccount
    leaves the account PENDING_CLOSURE (moto jumps to SUSPENDED; the seeding API moves it on to CLOSED);
    CreateAccount's OrganizationAccountAccessRole may do anything, as AWS's has AdministratorAccess."""
    from moto.organizations.exceptions import AccountAlreadyClosedException
    from moto.organizations.models import FakeAccount

    def close(self: Any) -> None:
        if self.state in ("PENDING_CLOSURE", "SUSPENDED", "CLOSED"):
            raise AccountAlreadyClosedException
        self.state = "PENDING_CLOSURE"
        self.status = "PENDING_CLOSURE"

    FakeAccount.close = close  # type: ignore[method-assign]
    original_init = FakeAccount.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        _grant_administrator_access(self.id, kwargs.get("RoleName") or "OrganizationAccountAccessRole")

    FakeAccount.__init__ = init  # type: ignore[method-assign]
    if orgview.IAM_SERVICE_PRINCIPAL not in FakeServiceAccess.TRUSTED_SERVICES:
        FakeServiceAccess.TRUSTED_SERVICES.append(orgview.IAM_SERVICE_PRINCIPAL)
    if orgview.IAM_SERVICE_PRINCIPAL not in FakeDelegatedAdministrator.SUPPORTED_SERVICES:
        FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(orgview.IAM_SERVICE_PRINCIPAL)


_ADMINISTRATOR_ACCESS = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def _grant_administrator_access(account_id: str, role_name: str) -> None:
    """The role CreateAccount makes has AdministratorAccess in AWS; moto's has no policy, which the sandbox's IAM
    enforcement would take at its word. It gets the same document inline (moto lacks AWS managed policies)."""
    from moto.iam.models import iam_backends

    try:
        role = iam_backends[account_id]["global"].get_role(role_name)
    except Exception:  # no such role: nothing to grant
        return
    if not role.policies and not role.managed_policies:
        role.put_policy("AdministratorAccess", _ADMINISTRATOR_ACCESS)


def _patch_reset() -> None:
    """When moto resets its backends, the sandbox's root-access state goes too."""
    original = BackendDict.reset.__func__  # type: ignore[attr-defined]

    def reset(cls: type[BackendDict]) -> None:  # type: ignore[type-arg]
        original(cls)
        STATE.reset()
        iam_enforcement.reset()
        _KEY_ACCOUNTS.clear()
        organizations_backends.master_accounts.clear()

    BackendDict.reset = classmethod(reset)  # type: ignore[assignment,method-assign]


class _AccessKeyAccounts:
    """A cache in front of moto's ``get_account_id_from``, which scans every account's IAM backend per request.

    With thousands of member accounts touched that scan costs ~20 ms per call. A key found in an
    account stays there; "not found" (the default account) holds only until moto creates another key.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generation = 0
        self.accounts: dict[str, tuple[str, int | None]] = {}

    def key_created(self) -> None:
        with self.lock:
            self.generation += 1

    def clear(self) -> None:
        with self.lock:
            self.generation += 1
            self.accounts.clear()


_KEY_ACCOUNTS = _AccessKeyAccounts()


def _patch_account_lookup() -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam import models as iam_models

    original_lookup = iam_models.get_account_id_from
    original_create_key = iam_models.IAMBackend.create_access_key
    original_create_temp_key = iam_models.IAMBackend.create_temp_access_key

    def get_account_id_from(access_key: str) -> str:
        with _KEY_ACCOUNTS.lock:
            cached = _KEY_ACCOUNTS.accounts.get(access_key)
            generation = _KEY_ACCOUNTS.generation
        if cached is not None and cached[1] in (None, generation):
            return cached[0]
        account_id = original_lookup(access_key)
        with _KEY_ACCOUNTS.lock:
            valid_for = generation if account_id == DEFAULT_ACCOUNT_ID else None
            _KEY_ACCOUNTS.accounts[access_key] = (account_id, valid_for)
        return account_id

    def create_access_key(self: Any, *args: Any, **kwargs: Any) -> Any:
        _KEY_ACCOUNTS.key_created()
        return original_create_key(self, *args, **kwargs)

    def create_temp_access_key(self: Any, *args: Any, **kwargs: Any) -> Any:
        _KEY_ACCOUNTS.key_created()
        return original_create_temp_key(self, *args, **kwargs)

    iam_models.get_account_id_from = get_account_id_from
    iam_models.IAMBackend.create_access_key = create_access_key  # type: ignore[method-assign]
    iam_models.IAMBackend.create_temp_access_key = create_temp_access_key  # type: ignore[method-assign]


def _patch_backend_lookup() -> None:
    """``backends[account_id]`` in moto copies every known account id into a list first (O(accounts) per lookup,
    several lookups per request); with a 10,000-account org that dominated each call. Skip it when the account's
    backend already exists."""
    original = BackendDict._create_account_specific_backend

    def create_account_specific_backend(self: BackendDict, account_id: str) -> None:  # type: ignore[type-arg]
        if dict.__contains__(self, account_id) and any(self is known for known in BackendDict._instances):  # type: ignore[misc]
            return
        original(self, account_id)

    BackendDict._create_account_specific_backend = create_account_specific_backend  # type: ignore[method-assign]


def _patch_bucket_policy() -> None:
    """moto's own bucket-policy check (object GET/PUT/DELETE, any caller) knows one condition operator and treats
    a Deny it cannot evaluate as matching: the stack's TLS-only statement (``Bool aws:SecureTransport false``)
    would refuse every object call. It evaluates with the sandbox's evaluator instead, the request counting as
    TLS (docs/sandbox.md, "IAM enforcement"); moto passes no principal, so only ``*`` statements apply."""
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    from rootwatch_sandbox import iam_policy

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy.decode() if isinstance(self.policy, bytes) else self.policy)
        decision = iam_policy.evaluate(
            [("bucket", document)], action, resource, {"aws:SecureTransport": True}, principal={"AWS": "*"}
        )
        if decision.explicit_deny:
            return PermissionResult.DENIED
        return PermissionResult.PERMITTED if decision.allowed else PermissionResult.NEUTRAL

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]


def _patch_request_ids() -> None:
    """``x-amzn-RequestId`` and ``<RequestId>`` are UUIDs, as AWS's are (moto made 52 random letters)."""
    import uuid

    from moto.core import responses as moto_responses

    def gen_amzn_requestid_long(headerdict: dict[str, Any] | None = None) -> str:
        request_id = str(uuid.uuid4())
        if isinstance(headerdict, dict):
            headerdict["x-amzn-requestid"] = request_id
        return request_id

    moto_responses.gen_amzn_requestid_long = gen_amzn_requestid_long  # type: ignore[assignment]
