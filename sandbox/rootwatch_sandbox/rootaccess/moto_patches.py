"""Installing root access into moto: the request path, error statuses, IAM, Organizations, resets, lookups.

:func:`install` (also ``rootwatch_sandbox.rootaccess.install``) applies every patch once per process.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from moto.core import serialize as moto_serialize
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.base_backend import BackendDict
from moto.core.errors import ErrorLookupFactory, ErrorShape
from moto.core.responses import BaseResponse
from moto.iam.models import AccountSummary
from moto.organizations.models import FakeDelegatedAdministrator, FakeServiceAccess, organizations_backends

from rootwatch_sandbox import iam_enforcement, orgview, realtime, rootuser_api, signatures
from rootwatch_sandbox.rootaccess.authorization import authorize_root_session, check_bucket_owner, check_other_caller
from rootwatch_sandbox.rootaccess.handler_types import Response
from rootwatch_sandbox.rootaccess.responses import intercept
from rootwatch_sandbox.rootaccess.root_user import root_user_for
from rootwatch_sandbox.rootstate import STATE
from rootwatch_sandbox.sandbox_errors import SandboxError

_install_lock = threading.Lock()
_installed = False


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
        answer = intercept(self)
        if answer is not None:
            return answer
        return original_call_action(self)

    def authorize_s3(self: Any, bucket_name: str | None = None, key_name: str | None = None) -> None:
        action = str(self.data.get("Action", ""))
        signatures.verify(self, "s3")
        session = STATE.session_for(self.access_key)
        check_bucket_owner(self, session, bucket_name)
        if session is not None:
            authorize_root_session(session, "s3", action)
        else:
            iam_enforcement.check_s3(self, action or "ListAllMyBuckets", bucket_name, key_name)
            check_other_caller(self, "s3", action)
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
        realtime.reset()
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
