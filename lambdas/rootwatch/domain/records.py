"""The audit record: the single source of the record fields (docs/contracts.md#records).

DynamoDB items, the S3 JSON Lines objects, the Athena table columns, the CLI's JSON/CSV output and
the alert all derive their field names from ``RECORD_FIELDS``. Pure: no boto3 here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any


class AuditStatus(StrEnum):
    OK = "OK"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"


class CredentialKind(StrEnum):
    """The four kinds of root credential that GetAccountSummary reports."""

    PASSWORD = "password"  # noqa: S105 (a credential kind, not a secret)
    ACCESS_KEYS = "access_keys"
    SIGNING_CERTIFICATES = "signing_certificates"
    MFA = "mfa"


#: Order used everywhere kinds are listed (alerts, tables, queries).
CREDENTIAL_KINDS: tuple[CredentialKind, ...] = tuple(CredentialKind)

#: The record flag that carries each credential kind.
FLAG_FOR_KIND: dict[CredentialKind, str] = {
    CredentialKind.PASSWORD: "password_present",
    CredentialKind.ACCESS_KEYS: "access_keys_present",
    CredentialKind.SIGNING_CERTIFICATES: "signing_certificates_present",
    CredentialKind.MFA: "mfa_enabled",
}


@dataclass(frozen=True)
class FieldSpec:
    """One record field, with its Athena/Glue column type."""

    name: str
    athena_type: str
    description: str


@dataclass
class AuditRecord:
    """One record per member account per run."""

    run_id: str
    scanned_at: str
    account_id: str
    account_name: str | None = None
    account_email: str | None = None
    account_state: str | None = None
    status: str = AuditStatus.OK
    error_code: str | None = None
    error_message: str | None = None
    password_present: bool | None = None
    access_keys_present: bool | None = None
    signing_certificates_present: bool | None = None
    mfa_enabled: bool | None = None
    root_credentials_present: bool | None = None
    active_access_keys: int | None = None
    inactive_access_keys: int | None = None
    mfa_devices: int | None = None
    active_signing_certificates: int | None = None
    password_last_used: str | None = None
    access_key_last_used: str | None = None
    appeared: list[str] = field(default_factory=list)
    disappeared: list[str] = field(default_factory=list)
    first_audit: bool = False
    exempt: bool = False
    exemption_reason: str | None = None
    ou_path: str | None = None
    severity: str | None = None
    finding_kinds: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict with every contract field, in contract order."""
        data = asdict(self)
        data["status"] = str(self.status)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditRecord:
        """Build a record from a dict, ignoring keys that are not record fields."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def present_kinds(self) -> list[str]:
        """The credential kinds whose flag is true (empty unless the audit was OK)."""
        return [kind.value for kind in CREDENTIAL_KINDS if getattr(self, FLAG_FOR_KIND[kind]) is True]


RECORD_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("run_id", "string", "the audit run (the execution name in AWS)"),
    FieldSpec("scanned_at", "string", "ISO-8601 UTC"),
    FieldSpec("account_id", "string", "member account id"),
    FieldSpec("account_name", "string", "from Organizations"),
    FieldSpec("account_email", "string", "from Organizations"),
    FieldSpec("account_state", "string", "Organizations State (fallback Status)"),
    FieldSpec("status", "string", "OK, ERROR or SKIPPED"),
    FieldSpec("error_code", "string", "why ERROR or SKIPPED"),
    FieldSpec("error_message", "string", "AWS's own message, or the reason"),
    FieldSpec("password_present", "boolean", "GetAccountSummary AccountPasswordPresent"),
    FieldSpec("access_keys_present", "boolean", "GetAccountSummary AccountAccessKeysPresent"),
    FieldSpec("signing_certificates_present", "boolean", "GetAccountSummary AccountSigningCertificatesPresent"),
    FieldSpec("mfa_enabled", "boolean", "GetAccountSummary AccountMFAEnabled"),
    FieldSpec("root_credentials_present", "boolean", "any of the four flags"),
    FieldSpec("active_access_keys", "int", "detail, read only when keys are present"),
    FieldSpec("inactive_access_keys", "int", "detail, read only when keys are present"),
    FieldSpec("mfa_devices", "int", "detail, read only when MFA is enabled"),
    FieldSpec("active_signing_certificates", "int", "detail, read only when certificates are present"),
    FieldSpec("password_last_used", "string", "ISO-8601"),
    FieldSpec("access_key_last_used", "string", "ISO-8601"),
    FieldSpec(
        "appeared",
        "array<string>",
        "kinds present now and absent from the account's alerted baseline (its last successful audit whose "
        "alert went out; exempt kinds are kept out of it)",
    ),
    FieldSpec("disappeared", "array<string>", "kinds in the account's alerted baseline and absent now"),
    FieldSpec("first_audit", "boolean", "no earlier successful audit of this account"),
    # Added on purpose by the exemptions feature (rootwatch.domain.exemptions): appended at the end so
    # older objects, which lack them, still read (the columns come back null).
    FieldSpec("exempt", "boolean", "every credential present is covered by an exemption in effect that day"),
    FieldSpec("exemption_reason", "string", "why: the reason and expiry of each exemption that applied"),
    # Added by the OU walk (rootwatch.aws.organizations), appended at the end for the same reason.
    FieldSpec("ou_path", "string", "the account's OU path from Organizations, Root/Workloads/Prod"),
    # Added by the severity table (rootwatch.domain.findings.FINDINGS), appended at the end for the same
    # reason; derived from the fields above when the record is written (S3, scan), never by the audit itself.
    FieldSpec("severity", "string", "the highest severity of the record's findings (critical ... low), null if none"),
    FieldSpec("finding_kinds", "array<string>", "the keys of the record's findings, most urgent first"),
)

assert tuple(f.name for f in RECORD_FIELDS) == tuple(f.name for f in fields(AuditRecord)), "record fields drifted"
