"""The IAM calls a root session makes without a UserName: they read and change the account's root user.

Each handler takes the root user and the request parameters and returns the response dict in
botocore's shape (moto's serializer turns it into the wire format), or raises ``SandboxError``.
Shapes follow AWS's observed outputs (docs/aws-behaviour.md): root has no UserName or Path, just UserId and Arn.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from rootwatch_sandbox.rootstate import STATE, RootLoginProfile, RootUser
from rootwatch_sandbox.sandbox_errors import SandboxError

#: "Login Profile for User null": AWS renders root's missing user name as null (observed).
NO_LOGIN_PROFILE_MESSAGE = "Login Profile for User null cannot be found."

Params = dict[str, Any]
Handler = Callable[[RootUser, Params], dict[str, Any]]


def _no_such_entity(message: str) -> SandboxError:
    return SandboxError("NoSuchEntity", message, status=404)


def get_user(user: RootUser, params: Params) -> dict[str, Any]:
    """GetUser works even when root has no credentials at all (observed)."""
    body: dict[str, Any] = {"UserId": user.account_id, "Arn": user.arn, "CreateDate": user.create_date}
    if user.password_last_used is not None:
        body["PasswordLastUsed"] = user.password_last_used
    return {"User": body}


def get_login_profile(user: RootUser, params: Params) -> dict[str, Any]:
    """The password's CreateDate; NoSuchEntity "Login Profile for User null" when root has no password."""
    if user.login_profile is None:
        raise _no_such_entity(NO_LOGIN_PROFILE_MESSAGE)
    profile = user.login_profile
    return {
        "LoginProfile": {"CreateDate": profile.create_date, "PasswordResetRequired": profile.password_reset_required}
    }


def _page(items: list[Any], params: Params, member: str) -> dict[str, Any]:
    """IAM's paging: ``MaxItems`` (1-1000, default 100) and an opaque ``Marker``; ``IsTruncated`` says more remain."""
    raw = params.get("MaxItems")
    max_items = 100 if raw is None else int(raw)
    if not 1 <= max_items <= 1000:
        bound = "greater than or equal to 1" if max_items < 1 else "less than or equal to 1000"
        raise SandboxError(
            "ValidationError",
            f"1 validation error detected: Value '{max_items}' at 'maxItems' failed to satisfy constraint: "
            f"Member must have value {bound}",
        )
    marker = params.get("Marker")
    start = 0
    if marker:
        try:
            start = int(base64.urlsafe_b64decode(str(marker).encode()).decode().removeprefix("rootwatch:"))
        except (ValueError, binascii.Error):
            raise SandboxError("ValidationError", "Invalid Marker.") from None
    page: dict[str, Any] = {member: items[start : start + max_items], "IsTruncated": start + max_items < len(items)}
    if page["IsTruncated"]:
        page["Marker"] = base64.urlsafe_b64encode(f"rootwatch:{start + max_items}".encode()).decode()
    return page


def list_access_keys(user: RootUser, params: Params) -> dict[str, Any]:
    """Root's access keys, inactive ones included."""
    keys = [{"AccessKeyId": k.access_key_id, "Status": k.status, "CreateDate": k.create_date} for k in user.access_keys]
    return _page(keys, params, "AccessKeyMetadata")


def get_access_key_last_used(user: RootUser, params: Params) -> dict[str, Any]:
    """When and where a root key was last used; "N/A" for a key never used (as IAM answers for users)."""
    key_id = params.get("AccessKeyId")
    key = next((k for k in user.access_keys if k.access_key_id == key_id), None)
    if key is None:
        raise _no_such_entity(f"The Access Key with id {key_id} cannot be found.")
    last_used: dict[str, Any] = {"ServiceName": key.last_used_service or "N/A", "Region": key.last_used_region or "N/A"}
    if key.last_used_date is not None:
        last_used["LastUsedDate"] = key.last_used_date
    return {"AccessKeyLastUsed": last_used}


def list_mfa_devices(user: RootUser, params: Params) -> dict[str, Any]:
    """Root's MFA devices: virtual serials are arn:aws:iam::<id>:mfa/<name>."""
    devices = [{"SerialNumber": d.serial_number, "EnableDate": d.enable_date} for d in user.mfa_devices]
    return _page(devices, params, "MFADevices")


def list_signing_certificates(user: RootUser, params: Params) -> dict[str, Any]:
    """Root's X.509 signing certificates."""
    certificates = [
        {"CertificateId": c.certificate_id, "CertificateBody": c.body, "Status": c.status, "UploadDate": c.upload_date}
        for c in user.signing_certificates
    ]
    return _page(certificates, params, "Certificates")


def _remove_one(items: list[Any], matches: Callable[[Any], bool], missing: str) -> None:
    """Remove the credential that ``matches`` from one of root's lists; NoSuchEntity ``missing`` when none does."""
    with STATE.lock:
        item = next((candidate for candidate in items if matches(candidate)), None)
        if item is None:
            raise _no_such_entity(missing)
        items.remove(item)


def delete_access_key(user: RootUser, params: Params) -> dict[str, Any]:
    """Deletes one root access key (IAMDeleteRootUserCredentials)."""
    key_id = params.get("AccessKeyId")
    missing = f"The Access Key with id {key_id} cannot be found."
    _remove_one(user.access_keys, lambda k: k.access_key_id == key_id, missing)
    return {}


def delete_signing_certificate(user: RootUser, params: Params) -> dict[str, Any]:
    """Deletes one root signing certificate (IAMDeleteRootUserCredentials)."""
    certificate_id = params.get("CertificateId")
    _remove_one(
        user.signing_certificates,
        lambda c: c.certificate_id == certificate_id,
        f"The Certificate with id {certificate_id} cannot be found.",
    )
    return {}


def deactivate_mfa_device(user: RootUser, params: Params) -> dict[str, Any]:
    """Removes one MFA device from root (IAMDeleteRootUserCredentials)."""
    serial = params.get("SerialNumber")
    _remove_one(
        user.mfa_devices, lambda d: d.serial_number == serial, f"MFA Device with serial number {serial} does not exist."
    )
    return {}


def delete_login_profile(user: RootUser, params: Params) -> dict[str, Any]:
    """Deletes root's password; NoSuchEntity when there is none (same wording as GetLoginProfile)."""
    with STATE.lock:
        if user.login_profile is None:
            raise _no_such_entity(NO_LOGIN_PROFILE_MESSAGE)
        user.login_profile = None
    return {}


def create_login_profile(user: RootUser, params: Params) -> dict[str, Any]:
    """Password recovery (IAMCreateRootUserPassword): afterwards only the password shows as present (observed)."""
    if params.get("Password") is not None:
        # CreateLoginProfile: "This parameter must be omitted when you make the request with an AssumeRoot session"
        # (IAM API reference). The code and wording of AWS's refusal are unverified.
        raise SandboxError(
            "ValidationError", "Password must be omitted when the request is made with an AssumeRoot session."
        )
    reset_required = bool(params.get("PasswordResetRequired", False))
    with STATE.lock:
        if user.login_profile is not None:
            raise SandboxError("EntityAlreadyExists", "Login Profile for User null already exists.", status=409)
        user.login_profile = RootLoginProfile(create_date=STATE.clock.now(), password_reset_required=reset_required)
        profile = user.login_profile
    return {
        "LoginProfile": {"CreateDate": profile.create_date, "PasswordResetRequired": profile.password_reset_required}
    }


# --- what ordinary IAM listings show of the root user ---------------------------------------------------
_REPORT_TIME = "%Y-%m-%dT%H:%M:%S+00:00"


def _report_time(value: Any) -> str:
    return value.strftime(_REPORT_TIME) if value is not None else "N/A"


def credential_report_row(user: RootUser) -> str:
    """The credential report's ``<root_account>`` row (IAM User Guide, "Generate credential reports"): the root
    user's password_enabled, password_last_changed and password_next_rotation are always ``not_supported``."""
    keys = user.access_keys[:2] + [None] * (2 - len(user.access_keys[:2]))
    certificates = user.signing_certificates[:2] + [None] * (2 - len(user.signing_certificates[:2]))
    fields = [
        "<root_account>",
        user.arn,
        _report_time(user.create_date),
        "not_supported",
        _report_time(user.password_last_used) if user.password_last_used else "no_information",
        "not_supported",
        "not_supported",
        "true" if user.mfa_devices else "false",
    ]
    for key in keys:
        if key is None:
            fields += ["false", "N/A", "N/A", "N/A", "N/A"]
        else:
            used = key.last_used_date is not None
            fields += [
                "true" if key.status == "Active" else "false",
                _report_time(key.create_date),
                _report_time(key.last_used_date) if used else "N/A",
                (key.last_used_region or "N/A") if used else "N/A",
                (key.last_used_service or "N/A") if used else "N/A",
            ]
    for certificate in certificates:
        if certificate is None:
            fields += ["false", "N/A"]
        else:
            fields += ["true" if certificate.status == "Active" else "false", _report_time(certificate.upload_date)]
    return ",".join(fields)


def virtual_mfa_devices(user: RootUser) -> list[Any]:
    """Root's virtual MFA devices as ListVirtualMFADevices shows them: ``User`` is the root user (its ARN
    ``arn:aws:iam::<id>:root``, UserId the account id; no UserName, as GetUser answers for root)."""
    from types import SimpleNamespace

    root = SimpleNamespace(path="/", user_id=user.account_id, arn=user.arn, create_date=user.create_date)
    if user.password_last_used is not None:
        root.password_last_used = user.password_last_used
    return [
        SimpleNamespace(serial_number=device.serial_number, enable_date=device.enable_date, user=root)
        for device in user.mfa_devices
        if device.kind == "virtual"
    ]


#: IAM action -> handler, for root-session calls that name no user.
HANDLERS: dict[str, Handler] = {
    "GetUser": get_user,
    "GetLoginProfile": get_login_profile,
    "ListAccessKeys": list_access_keys,
    "GetAccessKeyLastUsed": get_access_key_last_used,
    "ListMFADevices": list_mfa_devices,
    "ListSigningCertificates": list_signing_certificates,
    "DeleteAccessKey": delete_access_key,
    "DeleteSigningCertificate": delete_signing_certificate,
    "DeactivateMFADevice": deactivate_mfa_device,
    "DeleteLoginProfile": delete_login_profile,
    "CreateLoginProfile": create_login_profile,
}
