"""EventBridge events for a run: one per change, with a versioned detail, ``rootwatch.event/v1``. Pure: no boto3.

A *change* (docs/contracts.md#the-event) is one of:

- ``appeared``: a first audit found root credentials (the alert's ``new_with_credentials``);
- ``reappeared``: credentials absent at the last successful audit are present now (the alert's ``reappeared``);
- ``resolved``: credentials present at the last successful audit are gone (the alert's ``resolved``);
- ``audit_error``: the audit of an account failed this run (the alert's ``audit_errors``);
- ``run_failed``: the run itself failed (PrepareRun, or the Map part-way).

One event per account and change (the credential kinds that changed are in ``credentials``), and one
``run_failed`` per failed run. A first audit reports exempt credentials too (``exempt_credentials``); after
that an exempt credential is no change (``reappeared`` leaves it out). ``alerting`` says
whether the change is one the run's alert names, so a rule can match exactly what the e-mail says.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rootwatch.domain.alert import RunFailure
from rootwatch.domain.findings import DEFAULT_POLICY, FINDING, Policy, alerting_credentials, findings_of
from rootwatch.domain.records import AuditRecord, AuditStatus
from rootwatch.domain.transitions import ordered_kinds

SCHEMA = "rootwatch.event/v1"
SOURCE = "rootwatch"
#: PutEvents takes at most 10 entries a call, and 256 KB a call (each entry's Source, DetailType and Detail).
MAX_ENTRIES = 10
MAX_REQUEST_BYTES = 256 * 1024


class Change(StrEnum):
    APPEARED = "appeared"
    REAPPEARED = "reappeared"
    RESOLVED = "resolved"
    AUDIT_ERROR = "audit_error"
    RUN_FAILED = "run_failed"


#: The event's DetailType for each change (what an EventBridge rule matches on ``detail-type``).
DETAIL_TYPE: dict[Change, str] = {
    Change.APPEARED: "Root Credentials Appeared",
    Change.REAPPEARED: "Root Credentials Reappeared",
    Change.RESOLVED: "Root Credentials Resolved",
    Change.AUDIT_ERROR: "Root Credentials Audit Error",
    Change.RUN_FAILED: "Root Credentials Audit Run Failed",
}


@dataclass(frozen=True)
class ChangeEvent:
    """One event: its ``detail_type`` and its ``detail`` (the ``rootwatch.event/v1`` document)."""

    detail_type: str
    detail: dict[str, Any]
    time: str

    def entry(self, event_bus: str) -> dict[str, Any]:
        """The PutEvents entry for ``event_bus`` (a name or an ARN)."""
        return {
            "Source": SOURCE,
            "DetailType": self.detail_type,
            "Detail": json.dumps(self.detail, separators=(",", ":"), sort_keys=False),
            "EventBusName": event_bus,
        }

    def size(self) -> int:
        """What PutEvents counts against 256 KB: Source, DetailType and Detail, in UTF-8 bytes."""
        entry = self.entry("")
        return sum(len(str(entry[key]).encode()) for key in ("Source", "DetailType", "Detail"))


def change_events(
    records: Iterable[AuditRecord],
    *,
    run_id: str,
    organization_id: str | None,
    scanned_at: str,
    run_failure: RunFailure | None = None,
    exempt_kinds: Mapping[str, Collection[str]] | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> list[ChangeEvent]:
    """The run's events, ``run_failed`` first, then by account id and change (see the module docstring)."""
    exempt_kinds = exempt_kinds or {}
    alerting = alerting_credentials()
    run = {"schema": SCHEMA, "run_id": run_id, "organization_id": organization_id, "scanned_at": scanned_at}
    events: list[ChangeEvent] = []
    if run_failure is not None:
        detail: dict[str, Any] = run | {
            "change": Change.RUN_FAILED.value,
            "account": {"id": run_failure.account_id or None, "name": None, "ou_path": None},
            "credentials": [],
            "exempt_credentials": [],
            "findings": [],
            "alerting": True,
            "exemption_reason": None,
            "error": {"code": run_failure.error_code, "message": run_failure.error_message},
        }
        events.append(ChangeEvent(DETAIL_TYPE[Change.RUN_FAILED], detail, scanned_at))
    for record in sorted(records, key=lambda r: r.account_id):
        exempt = set(exempt_kinds.get(record.account_id, ()))
        changes: list[tuple[Change, list[str]]] = []
        if record.status == AuditStatus.OK:
            if record.first_audit and record.present_kinds():
                changes.append((Change.APPEARED, list(record.present_kinds())))
            elif reappeared := [k for k in ordered_kinds(record.appeared) if k not in exempt]:
                # Exempt kinds stay out of the alerted baseline (so they alert once the exemption expires): they
                # "appear" every night. Accepted, they are no change; a first audit still names them, as exempt.
                changes.append((Change.REAPPEARED, reappeared))
            if record.disappeared:
                changes.append((Change.RESOLVED, ordered_kinds(record.disappeared)))
        elif record.status == AuditStatus.ERROR:
            changes.append((Change.AUDIT_ERROR, []))
        for change, kinds in changes:
            events.append(
                ChangeEvent(
                    DETAIL_TYPE[change], _detail(run, record, change, kinds, exempt, alerting, policy), scanned_at
                )
            )
    return events


def _detail(
    run: dict[str, Any],
    record: AuditRecord,
    change: Change,
    kinds: list[str],
    exempt: set[str],
    alerting: Collection[str],
    policy: Policy,
) -> dict[str, Any]:
    exempt_now = [k for k in kinds if k in exempt] if change != Change.RESOLVED else []
    if change == Change.AUDIT_ERROR:
        alerts = FINDING["audit_error"].alerts
    elif change == Change.RESOLVED:
        alerts = False  # reported inside an alert, never the cause of one
    else:
        alerts = any(k in alerting and k not in exempt for k in kinds)
    findings = []
    if change in (Change.APPEARED, Change.REAPPEARED, Change.AUDIT_ERROR):
        findings = [
            {"finding": kind.key, "label": kind.text(policy), "severity": kind.severity.value}
            for kind in findings_of(record, policy)
            if change == Change.AUDIT_ERROR or set(kind.credentials) & set(kinds)
        ]
    detail = run | {
        "change": change.value,
        "account": {"id": record.account_id, "name": record.account_name, "ou_path": record.ou_path},
        "credentials": kinds,
        "exempt_credentials": exempt_now,
        "findings": findings,
        "alerting": alerts,
        "exemption_reason": record.exemption_reason if exempt_now else None,
        "error": None,
    }
    if change == Change.AUDIT_ERROR:
        detail["error"] = {"code": record.error_code or "UNKNOWN", "message": record.error_message or ""}
    return detail
