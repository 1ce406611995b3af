"""What one audit learned about a member account's root user. Pure: no boto3."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from rootwatch.domain.records import CREDENTIAL_KINDS, FLAG_FOR_KIND, RECORD_FIELDS, CredentialKind


@dataclass(frozen=True)
class RootCredentialState:
    """The four GetAccountSummary flags plus the detail read for the flags that are set.

    Detail fields stay None when their flag is not set: the audit makes no call for them.
    """

    password_present: bool
    access_keys_present: bool
    signing_certificates_present: bool
    mfa_enabled: bool
    active_access_keys: int | None = None
    inactive_access_keys: int | None = None
    mfa_devices: int | None = None
    active_signing_certificates: int | None = None
    password_last_used: str | None = None
    access_key_last_used: str | None = None

    @property
    def root_credentials_present(self) -> bool:
        return bool(self.present_kinds())

    def present_kinds(self) -> frozenset[CredentialKind]:
        """The credential kinds present in this state."""
        return frozenset(kind for kind in CREDENTIAL_KINDS if getattr(self, FLAG_FOR_KIND[kind]))

    def record_fields(self) -> dict[str, Any]:
        """The record fields this state fills, by name (``STATE_RECORD_FIELDS``)."""
        return {name: getattr(self, name) for name in STATE_RECORD_FIELDS}


#: The record fields a credential state fills, in record order: its own fields plus the derived
#: ``root_credentials_present``. The OK record, the status table's ``known`` map and its flattening read them.
STATE_RECORD_FIELDS: tuple[str, ...] = tuple(
    spec.name
    for spec in RECORD_FIELDS
    if spec.name in {f.name for f in fields(RootCredentialState)} | {"root_credentials_present"}
)
assert len(STATE_RECORD_FIELDS) == len(fields(RootCredentialState)) + 1, "a state field is not a record field"
