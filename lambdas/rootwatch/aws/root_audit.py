"""Audit one member account's root user through centralized root access.

The call budget: a clean account costs exactly two API calls,
``sts:AssumeRoot`` (task policy IAMAuditRootUserCredentials, regional endpoint, short session) and
``iam:GetAccountSummary``. Detail calls are made only for the flags that are set:

| flag set                            | detail calls                                        |
|-------------------------------------|-----------------------------------------------------|
| AccountAccessKeysPresent            | ListAccessKeys, then GetAccessKeyLastUsed per key   |
| AccountPasswordPresent              | GetUser (for PasswordLastUsed)                      |
| AccountMFAEnabled                   | ListMFADevices                                      |
| AccountSigningCertificatesPresent   | ListSigningCertificates                             |

AWS surprises handled here: AccountAccessKeysPresent is 1 even when the only key is *Inactive* (docs/aws-behaviour.md),
so the key counts are split by status; every IAM call is made as root with no UserName.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from rootwatch.aws.clients import DEFAULT_ROOT_SESSION_SECONDS, ClientFactory, RootSession
from rootwatch.aws.errors import classify
from rootwatch.domain.credentials import RootCredentialState
from rootwatch.domain.task_policies import TaskPolicy
from rootwatch.domain.timestamps import iso_utc

AUDIT_POLICY = TaskPolicy.IAM_AUDIT_ROOT_USER_CREDENTIALS

#: GetAccountSummary SummaryMap key -> RootCredentialState flag.
SUMMARY_FLAGS: dict[str, str] = {
    "AccountPasswordPresent": "password_present",
    "AccountAccessKeysPresent": "access_keys_present",
    "AccountSigningCertificatesPresent": "signing_certificates_present",
    "AccountMFAEnabled": "mfa_enabled",
}


def audit_root_credentials(
    factory: ClientFactory, account_id: str, *, duration_seconds: int = DEFAULT_ROOT_SESSION_SECONDS
) -> RootCredentialState:
    """Read the root credential state of ``account_id`` (AssumeRoot + GetAccountSummary + needed detail).

    Raises a ``RootwatchError`` subclass on any AWS failure (``FeatureDisabledError``,
    ``AccessDeniedError`` with AWS's message, ``ThrottledError``, ``ExpiredError``, ``UnknownAwsError``),
    and ``ValueError`` for a malformed account id. The root session is closed before returning.
    """
    with factory.root_session(account_id, AUDIT_POLICY, duration_seconds) as root:
        return read_root_credentials(root)


def read_root_credentials(root: RootSession) -> RootCredentialState:
    """The credential state seen through an open audit root session (no AssumeRoot here)."""
    iam = root.client("iam")
    try:
        summary = iam.get_account_summary()["SummaryMap"]
        flags = {flag: bool(summary.get(key, 0)) for key, flag in SUMMARY_FLAGS.items()}
        detail: dict[str, Any] = {}
        if flags["access_keys_present"]:
            detail.update(_access_key_detail(iam))
        if flags["password_present"]:
            detail["password_last_used"] = iso_utc(iam.get_user().get("User", {}).get("PasswordLastUsed"))
        if flags["mfa_enabled"]:
            detail["mfa_devices"] = len(iam.list_mfa_devices().get("MFADevices", []))
        if flags["signing_certificates_present"]:
            certificates = iam.list_signing_certificates().get("Certificates", [])
            detail["active_signing_certificates"] = sum(1 for c in certificates if c.get("Status") == "Active")
    except ClientError as exc:
        raise classify(exc) from exc
    return RootCredentialState(
        password_present=flags["password_present"],
        access_keys_present=flags["access_keys_present"],
        signing_certificates_present=flags["signing_certificates_present"],
        mfa_enabled=flags["mfa_enabled"],
        **detail,
    )


def _access_key_detail(iam: Any) -> dict[str, Any]:
    keys = iam.list_access_keys().get("AccessKeyMetadata", [])
    last_used: list[datetime] = []
    for key in keys:
        used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"]).get("AccessKeyLastUsed", {})
        if used.get("LastUsedDate") is not None:
            last_used.append(used["LastUsedDate"])
    return {
        "active_access_keys": sum(1 for k in keys if k.get("Status") == "Active"),
        "inactive_access_keys": sum(1 for k in keys if k.get("Status") != "Active"),
        "access_key_last_used": iso_utc(max(last_used)) if last_used else None,
    }
