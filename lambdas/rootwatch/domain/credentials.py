"""What one audit learned about a member account's root user. Pure: no boto3."""

from __future__ import annotations

from dataclasses import dataclass

from rootwatch.domain.records import CREDENTIAL_KINDS, FLAG_FOR_KIND, CredentialKind


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
