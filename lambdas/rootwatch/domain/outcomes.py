"""The record for each outcome of one account's audit: OK, ERROR or SKIPPED. Pure: no boto3.

The nightly pipeline (rootwatch.services.run) and the one-off scan (rootwatch scan) build their
records here, so both carry the same fields for the same outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rootwatch.domain.credentials import RootCredentialState
from rootwatch.domain.records import AuditRecord, AuditStatus


@dataclass(frozen=True)
class Account:
    """A member account as Organizations lists it (and as the manifest carries it to the Map)."""

    id: str
    name: str | None = None
    email: str | None = None
    state: str | None = None
    #: The OUs from the root down, "Root/Workloads/Prod" (None when not listed by the OU walk).
    ou_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "email": self.email, "state": self.state, "ou_path": self.ou_path}


def _base(run_id: str, scanned_at: str, account: Account, status: AuditStatus) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "scanned_at": scanned_at,
        "account_id": account.id,
        "account_name": account.name,
        "account_email": account.email,
        "account_state": account.state,
        "status": status,
        "ou_path": account.ou_path,
    }


def ok_record(run_id: str, scanned_at: str, account: Account, state: RootCredentialState) -> AuditRecord:
    """The OK record: the four flags, their union, and the detail read for the flags that are set."""
    return AuditRecord(**_base(run_id, scanned_at, account, AuditStatus.OK), **state.record_fields())


def error_record(run_id: str, scanned_at: str, account: Account, code: str, message: str) -> AuditRecord:
    """The ERROR record: ``code`` is the kind (ACCESS_DENIED, THROTTLED, NOT_AUDITED, ...), ``message``
    AWS's own text. It carries no flags: they stay unknown, and the last successful ones are kept."""
    return AuditRecord(**_base(run_id, scanned_at, account, AuditStatus.ERROR), error_code=code, error_message=message)


def skipped_record(run_id: str, scanned_at: str, account: Account, reason: str, message: str) -> AuditRecord:
    """The SKIPPED record: ``reason`` is MANAGEMENT_ACCOUNT or the account state (SUSPENDED, CLOSED, ...)."""
    return AuditRecord(
        **_base(run_id, scanned_at, account, AuditStatus.SKIPPED), error_code=reason, error_message=message
    )
