"""Records as OCSF Compliance Findings (``--format ocsf`` on ``scan`` and ``query``). Pure; workstation only.

OCSF (Open Cybersecurity Schema Framework) version :data:`OCSF_VERSION`, class Compliance Finding
(``class_uid`` 2003, category Findings, ``category_uid`` 2), for an Amazon Security Lake custom source
(docs/querying.md#security-lake): Security Lake's user guide asks custom sources for OCSF schema 1.1
("Collecting data from custom sources"), and 1.1.0 is the first release with Compliance Finding (1.0.0 has only
Security Finding).
One event per audited account and finding kind (``rootwatch.domain.findings``):

- the kind applies: ``compliance.status_id`` 3 Fail, ``severity_id`` from the kind's severity;
- the kind was checked and does not apply: 1 Pass, ``severity_id`` 1 Informational (as Security Hub gives a
  passed control), so a consumer sees the account went clean, not just that a finding stopped coming;
- the audit failed and the credentials are unknown: 2 Warning ("did not yield a result due to missing
  information") for every credential kind, and Fail for ``audit_error``;
- a SKIPPED account (management, suspended, closed) was not checked: no event.

The required attributes, from the OCSF schema at tag v1.1.0 (github.com/ocsf/ocsf-schema):
events/base_event.json + includes/classification.json + includes/occurrence.json (``activity_id``,
``category_uid``, ``class_uid``, ``type_uid``, ``time``, ``severity_id``, ``metadata``),
events/findings/finding.json (``finding_info``), events/findings/compliance_finding.json (``compliance``),
profiles/cloud.json (``cloud``, required once the cloud profile is applied, as ``metadata.profiles`` says),
objects/metadata.json (``version``, ``product``), objects/product.json (``vendor_name``; ``name`` or ``uid``),
objects/finding_info.json (``uid``, ``title``), objects/compliance.json (``standards``), objects/cloud.json
(``provider``), objects/remediation.json (``desc``). Anything of the record OCSF has no attribute for goes
under ``unmapped``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from rootwatch import __version__
from rootwatch.domain.findings import DEFAULT_POLICY, FINDINGS, FindingKind, Policy, Severity
from rootwatch.domain.records import FLAG_FOR_KIND, AuditStatus

#: The OCSF schema version every event states in ``metadata.version``.
OCSF_VERSION = "1.1.0"
CATEGORY_UID = 2  # Findings
CATEGORY_NAME = "Findings"
CLASS_UID = 2003  # Compliance Finding: category_uid * 1000 + 3
CLASS_NAME = "Compliance Finding"
ACTIVITY_CREATE = 1  # finding.json activity_id: 1 Create, 2 Update, 3 Close
TYPE_UID = CLASS_UID * 100 + ACTIVITY_CREATE  # classification.json: type_uid = class_uid * 100 + activity_id

#: rootwatch severity -> OCSF severity_id (base_event severity_id: 1 Informational .. 5 Critical, 6 Fatal).
SEVERITY_ID: dict[Severity, int] = {
    Severity.INFORMATIONAL: 1,
    Severity.LOW: 2,
    Severity.MEDIUM: 3,
    Severity.HIGH: 4,
    Severity.CRITICAL: 5,
}
SEVERITY_NAME = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
#: objects/compliance.json status_id.
PASS, WARNING, FAIL = 1, 2, 3
COMPLIANCE_STATUS = {PASS: "Pass", WARNING: "Warning", FAIL: "Fail"}
#: events/findings/finding.json status_id: 1 New; 3 Suppressed for an exempt account's credential findings.
FINDING_NEW, FINDING_SUPPRESSED = 1, 3
FINDING_STATUS = {FINDING_NEW: "New", FINDING_SUPPRESSED: "Suppressed"}
#: objects/account.json type_id 10: AWS Account.
AWS_ACCOUNT_TYPE_ID = 10

#: A row's column -> the columns a query may name it by instead (latest_state: last_scanned_at, last_run_id).
ALIASES: dict[str, tuple[str, ...]] = {"scanned_at": ("last_scanned_at",), "run_id": ("last_run_id",)}


def required_columns() -> tuple[str, ...]:
    """The record fields a row must carry to become OCSF: who, when, the status and what every kind reads."""
    needed = ["account_id", "status", "scanned_at", *FLAG_FOR_KIND.values()]
    for kind in FINDINGS:
        needed.extend(kind.fields)
    return tuple(dict.fromkeys(needed))


def missing_columns(columns: Iterable[str]) -> list[str]:
    """The required columns (:func:`required_columns`) that ``columns`` lacks (an alias counts)."""
    have = set(columns)
    return [name for name in required_columns() if name not in have and not have & set(ALIASES.get(name, ()))]


def to_events(
    rows: Iterable[Mapping[str, Any]], *, policy: Policy = DEFAULT_POLICY, feature: str = "scan"
) -> list[dict[str, Any]]:
    """One Compliance Finding per checked account and finding kind, in row order then FINDINGS order.

    ``rows``: records (``AuditRecord.to_dict()``) or query rows that carry :func:`required_columns`;
    ``feature``: the verb that made them (``metadata.product.feature.name``).
    """
    return [event for row in rows for event in events_of(row, policy=policy, feature=feature)]


def events_of(
    row: Mapping[str, Any], *, policy: Policy = DEFAULT_POLICY, feature: str = "scan"
) -> list[dict[str, Any]]:
    """The events of one record or record row (none for SKIPPED)."""
    status = str(_column(row, "status"))
    if status not in (AuditStatus.OK, AuditStatus.ERROR):
        return []
    # latest_state's credential columns come from the last OK audit: judge them at that audit's time.
    facts = dict(row)
    facts["scanned_at"] = _iso(row.get("last_ok_at") or _column(row, "scanned_at"))
    known = status == AuditStatus.OK or any(row.get(flag) is not None for flag in FLAG_FOR_KIND.values())
    events = []
    for kind in FINDINGS:
        unknown = bool(kind.credentials) and not known
        result = WARNING if unknown else FAIL if kind.applies(facts, policy) else PASS
        events.append(_event(row, kind, result, policy=policy, feature=feature))
    return events


def _event(row: Mapping[str, Any], kind: FindingKind, result: int, *, policy: Policy, feature: str) -> dict[str, Any]:
    account_id = str(row["account_id"])
    time = epoch_ms(_column(row, "scanned_at"))
    run_id = _column(row, "run_id")
    severity_id = SEVERITY_ID[kind.severity] if result != PASS else SEVERITY_ID[Severity.INFORMATIONAL]
    suppressed = result == FAIL and bool(kind.credentials) and row.get("exempt") is True
    finding_status = FINDING_SUPPRESSED if suppressed else FINDING_NEW
    controls = kind.controls
    standards = list(dict.fromkeys(c.standard for c in controls)) or ["rootwatch"]
    requirements = [c.reference for c in controls]
    title = kind.text(policy)
    name = row.get("account_name")
    audit = kind.key == "audit_error"
    detail = {
        PASS: f"the audit of account {account_id} succeeded"
        if audit
        else f"no {title} on the root user of account {account_id}",
        FAIL: f"the audit of account {account_id} failed ({row.get('error_code') or 'ERROR'})"
        if audit
        else f"{title} on the root user of account {account_id}",
        WARNING: f"not checked: the audit of account {account_id} failed "
        f"({row.get('error_code') or 'ERROR'}); its root credentials are unknown",
    }[result]
    compliance: dict[str, Any] = {
        "standards": standards,
        "control": f"rootwatch.{kind.key}",
        "status_id": result,
        "status": COMPLIANCE_STATUS[result],
        "status_detail": detail,
    }
    if requirements:
        compliance["requirements"] = requirements
    account: dict[str, Any] = {"uid": account_id, "type_id": AWS_ACCOUNT_TYPE_ID, "type": "AWS Account"}
    if name:
        account["name"] = str(name)
    event: dict[str, Any] = {
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": CATEGORY_NAME,
        "class_uid": CLASS_UID,
        "class_name": CLASS_NAME,
        "type_uid": TYPE_UID,
        "type_name": f"{CLASS_NAME}: Create",
        "time": time,
        "severity_id": severity_id,
        "severity": SEVERITY_NAME[severity_id],
        "status_id": finding_status,
        "status": FINDING_STATUS[finding_status],
        "message": f"{COMPLIANCE_STATUS[result]}: {detail}",
        "metadata": {
            "version": OCSF_VERSION,
            "product": {
                "name": "rootwatch",
                "vendor_name": "rootwatch",
                "version": __version__,
                "feature": {"name": feature},
            },
            "profiles": ["cloud"],
            "uid": f"{run_id}/{account_id}/{kind.key}",
            "correlation_uid": str(run_id) if run_id else None,
        },
        "finding_info": {
            # Stable across runs: the same account and kind is the same finding, updated by each run.
            "uid": f"rootwatch/{account_id}/{kind.key}",
            "title": title[:1].upper() + title[1:],
            "desc": kind.remediation.replace("<id>", account_id),
            "types": [kind.key],
            "created_time": time,
        },
        "compliance": compliance,
        "cloud": {"provider": "AWS", "account": account},
        "resources": [
            {
                "type": "AWS::IAM::RootUser",
                "uid": f"arn:aws:iam::{account_id}:root",
                "name": "root",
            }
        ],
        "remediation": {"desc": kind.remediation.replace("<id>", account_id)},
        "unmapped": _unmapped(row, kind),
    }
    if event["metadata"]["correlation_uid"] is None:
        del event["metadata"]["correlation_uid"]
    return event


#: Record fields carried in ``unmapped`` when the row has them (OCSF has no attribute of its own for them).
UNMAPPED_FIELDS: tuple[str, ...] = (
    "run_id",
    "last_run_id",
    "status",
    "error_code",
    "error_message",
    "account_email",
    "account_state",
    "ou_path",
    "password_present",
    "access_keys_present",
    "signing_certificates_present",
    "mfa_enabled",
    "active_access_keys",
    "inactive_access_keys",
    "mfa_devices",
    "active_signing_certificates",
    "password_last_used",
    "access_key_last_used",
    "last_ok_at",
    "exempt",
    "exemption_reason",
)


def _unmapped(row: Mapping[str, Any], kind: FindingKind) -> dict[str, Any]:
    data: dict[str, Any] = {
        "finding": kind.key,
        "severity": str(kind.severity),
    }
    if kind.severity_reason:
        data["severity_reason"] = kind.severity_reason
    if kind.controls:
        data["controls"] = [{"standard": c.standard, "id": c.id, "title": c.title} for c in kind.controls]
    for name in UNMAPPED_FIELDS:
        if name in row and row[name] is not None:
            data[name] = _plain(row[name])
    return data


def epoch_ms(value: Any) -> int:
    """An ISO-8601 time (or datetime) as OCSF's timestamp_t: milliseconds since the epoch, UTC."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _column(row: Mapping[str, Any], name: str) -> Any:
    if row.get(name) is not None:
        return row[name]
    return next((row[alias] for alias in ALIASES.get(name, ()) if row.get(alias) is not None), None)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)
