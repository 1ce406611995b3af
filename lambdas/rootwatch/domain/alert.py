"""The one alert a run sends, when a human is needed (docs/contracts.md#the-alert). Pure: no boto3.

``compose_alert`` turns a run's records into an :class:`Alert`: a subject, a plain-text body a person
can act on, and the ``rootwatch.alert/v1`` JSON. It returns None when nothing needs a human: no
credentials reappeared, no first audit found credentials, and no audit failed. Credentials that
merely disappeared ("resolved") are reported inside an alert but never cause one.

Words: the JSON key is ``reappeared`` (a contract), but the subject and text say "appeared": the alerted
baseline knows only the last state, not whether the account ever had that kind before, so "appeared"
(absent at the last successful audit, present now) is what rootwatch can honestly claim.

Exemptions plug in as plain data: ``exempt_kinds`` maps an account id to the credential kinds that
are accepted on it (until their expiry, which the caller has already applied). Exempt kinds never
make an account alert-worthy.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rootwatch.domain.features import ROOT_CREDENTIALS_MANAGEMENT
from rootwatch.domain.findings import (
    DEFAULT_POLICY,
    FINDING,
    Policy,
    Severity,
    alerting_credentials,
    credential_label,
    findings_of,
    most_severe,
    plural,
)
from rootwatch.domain.plaintext import plain_text
from rootwatch.domain.records import AuditRecord, AuditStatus
from rootwatch.domain.totals import run_totals

SCHEMA = "rootwatch.alert/v1"
EVENT_TYPE = "ROOT_CREDENTIALS_ALERT"
SUBJECT_PREFIX = "[rootwatch] "
SUBJECT_MAX = 100  # SNS rejects longer email subjects
CONSOLE_URL = "https://console.aws.amazon.com/iam/home#/root-access-management"
REMEDIATE_COMMAND = "rootwatch remediate delete-root-credentials --accounts"
#: More accounts than this to delete: the email suggests --all-with-credentials (a dry run by default).
REMEDIATE_ALL_COMMAND = "rootwatch remediate delete-root-credentials --all-with-credentials"
#: Each account list of the plain-text email shows at most this many entries (the JSON keeps them all).
TEXT_LIST_MAX = 25

#: Protocol keys of the SNS ``MessageStructure=json`` envelope that get the JSON document.
JSON_PROTOCOLS = ("sqs", "lambda", "https", "email-json")

#: The Organizations account states rootwatch knows; an account in any other state is audited and named.
KNOWN_ACCOUNT_STATES = frozenset({"ACTIVE", "SUSPENDED", "PENDING_CLOSURE", "CLOSED", "PENDING_ACTIVATION"})
#: ``account_state`` of an account listed without ``State`` (and without the retired ``Status``).
ACCOUNT_STATE_NOT_REPORTED = "NOT_REPORTED"


def account_state_note(state: str | None) -> str | None:
    """How the alert names an account state that is missing or unknown (None for a known state)."""
    if state == ACCOUNT_STATE_NOT_REPORTED:
        return "state unknown (not reported by Organizations)"
    if state is not None and state not in KNOWN_ACCOUNT_STATES:
        return f"state {state} (unknown to rootwatch)"
    return None


@dataclass(frozen=True)
class RunFailure:
    """A run that could not audit anyone (e.g. the org feature is off): one alert, not one per account."""

    error_code: str
    error_message: str
    account_id: str = ""  # where the check ran (the management or delegated admin account), if known


@dataclass(frozen=True)
class Alert:
    """What the notifier publishes: subject, plain text, and the contract JSON."""

    run_id: str
    subject: str
    text: str
    document: dict[str, Any]
    #: The SNS message attribute subscribers filter on (a test message has its own, never a real alert's).
    event_type: str = EVENT_TYPE

    def sns_message(self) -> str:
        """The ``MessageStructure=json`` envelope: text for people, the JSON document for machines."""
        body = json.dumps(self.document, separators=(",", ":"), sort_keys=False)
        envelope = {"default": self.text, "email": self.text}
        envelope.update(dict.fromkeys(JSON_PROTOCOLS, body))
        return json.dumps(envelope)


#: ``rootwatch test-alert``: its own schema and event_type, so filters on real alerts never page for it.
TEST_SCHEMA = "rootwatch.test/v1"
TEST_EVENT_TYPE = "ROOTWATCH_TEST"
TEST_SUBJECT = "[rootwatch] TEST: alert delivery check, no action needed"


def compose_test_alert(*, sent_at: str, sent_by: str, topic_arn: str) -> Alert:
    """The clearly marked test message ``rootwatch test-alert`` publishes through the alert topic."""
    text = "\n".join(
        [
            "THIS IS A TEST of rootwatch's alert delivery. No root credential was found; nothing needs doing.",
            "",
            f"Sent by {sent_by} at {sent_at} through {topic_arn}.",
            "If you read this, alerts about root credentials reach you the same way.",
            f"Subscription filters on event_type = {EVENT_TYPE} do not match it (its event_type is {TEST_EVENT_TYPE}).",
        ]
    )
    document = {
        "schema": TEST_SCHEMA,
        "event_type": TEST_EVENT_TYPE,
        "test": True,
        "sent_at": sent_at,
        "sent_by": sent_by,
        "topic_arn": topic_arn,
    }
    run_id = f"test-{sent_at}"
    return Alert(
        run_id=run_id, subject=TEST_SUBJECT, text=plain_text_lines(text), document=document, event_type=TEST_EVENT_TYPE
    )


def plain_text_lines(text: str) -> str:
    """Each line of ``text`` as inert plain text (values never add a line or an escape)."""
    return "\n".join(plain_text(line) for line in text.split("\n")) + "\n"


def compose_alert(
    records: Iterable[AuditRecord],
    *,
    run_id: str,
    organization_id: str | None,
    scanned_at: str,
    run_failure: RunFailure | None = None,
    exempt_kinds: Mapping[str, Collection[str]] | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Alert | None:
    """The run's alert, or None when no human is needed (see the module docstring).

    Which credential kinds alert when they appear, and which findings are only ``recommendations``, is
    read from ``rootwatch.domain.findings.FINDINGS`` (``policy`` holds its thresholds).
    """
    records = list(records)
    exempt_kinds = exempt_kinds or {}
    reappeared, new_with_credentials, resolved, audit_errors = [], [], [], []
    recommendations: list[dict[str, Any]] = []
    alerting = alerting_credentials()  # an exempt kind never alerts, nor one that no alerting finding concerns
    for record in records:
        exempt = set(exempt_kinds.get(record.account_id, ()))
        if record.status == AuditStatus.OK:
            if record.first_audit:
                kinds = [k for k in record.present_kinds() if k not in exempt and k in alerting]
                if kinds:
                    new_with_credentials.append(_account_entry(record, kinds, policy))
            else:
                kinds = [k for k in record.appeared if k not in exempt and k in alerting]
                if kinds:
                    reappeared.append(_account_entry(record, kinds, policy))
            # A credential this alert already names (or an exempt one) needs no second line.
            recommendations += _recommendations(record, policy, exempt | set(kinds))
            if record.disappeared:
                resolved.append(_account_entry(record, list(record.disappeared), policy))
        elif record.status == AuditStatus.ERROR:
            audit_errors.append(
                {
                    "account_id": record.account_id,
                    "account_name": record.account_name,
                    "ou_path": record.ou_path,
                    "error_code": record.error_code or "UNKNOWN",
                    "error_message": record.error_message or "",
                    "severity": str(FINDING["audit_error"].severity),
                }
                | _state_note(record)
            )
    if run_failure is not None:
        audit_errors.insert(
            0,
            {
                "account_id": run_failure.account_id,
                "account_name": f"organization {organization_id}" if organization_id else "organization",
                "error_code": run_failure.error_code,
                "error_message": run_failure.error_message,
                "severity": str(FINDING["audit_error"].severity),
            },
        )
    if not (reappeared or new_with_credentials or (audit_errors and FINDING["audit_error"].alerts)):
        return None
    totals = run_totals(records)
    severity = most_severe(
        entry.get("severity") for entries in (reappeared, new_with_credentials, audit_errors) for entry in entries
    )
    document = {
        "schema": SCHEMA,
        "run_id": run_id,
        "organization_id": organization_id,
        "scanned_at": scanned_at,
        "reappeared": reappeared,
        "new_with_credentials": new_with_credentials,
        "audit_errors": audit_errors,
        "resolved": resolved,
        "totals": totals,
        "recommendations": recommendations,
        "severity": str(severity) if severity else None,
    }
    return Alert(
        run_id=run_id,
        subject=render_subject(document, run_failure),
        text=render_text(document, run_failure),
        document=document,
    )


#: ``trigger`` of an alert sent by the re-audit of an account on a root-credential event (the nightly run's
#: alert has no ``trigger`` key: its absence means the schedule).
TRIGGER_EVENT = "event"
#: The alert names at most this many triggering events (``triggering_event_count`` gives them all).
TRIGGERING_EVENTS_MAX = 20


def with_trigger(alert: Alert, events: Sequence[Mapping[str, str]]) -> Alert:
    """The alert, as sent by a re-audit on change: ``trigger: "event"`` and the events that caused it.

    Additive keys (docs/contracts.md#the-alert): ``trigger``, ``triggering_events`` (``event_name``,
    ``event_time``, ``event_id`` each, oldest first) and ``triggering_event_count``; the email's first line says so.
    """
    ordered = sorted(events, key=lambda e: (e["event_time"], e["event_id"]))
    document = dict(alert.document)
    document["trigger"] = TRIGGER_EVENT
    document["triggering_events"] = [dict(e) for e in ordered[:TRIGGERING_EVENTS_MAX]]
    document["triggering_event_count"] = len(ordered)
    named = ", ".join(f"{e['event_name']} at {e['event_time']}" for e in ordered[:3])
    more = f" and {len(ordered) - 3} more" if len(ordered) > 3 else ""
    lead = plain_text_lines(f"Sent on a change, not by the nightly run: {named}{more}.\n")
    return replace(alert, document=document, text=lead + alert.text)


def _account_entry(record: AuditRecord, kinds: list[str], policy: Policy) -> dict[str, Any]:
    """An account entry; ``severity`` is the highest of the account's findings that concern ``kinds``
    (null when none does, e.g. a ``resolved`` entry whose credentials are gone)."""
    severity = most_severe(kind.severity for kind in findings_of(record, policy) if set(kind.credentials) & set(kinds))
    entry: dict[str, Any] = {
        "account_id": record.account_id,
        "account_name": record.account_name,
        "ou_path": record.ou_path,
        "credentials": kinds,
        "severity": str(severity) if severity else None,
    }
    return entry | _state_note(record)


def _recommendations(record: AuditRecord, policy: Policy, covered: Collection[str]) -> list[dict[str, Any]]:
    """The record's findings that never alert by themselves, unless every credential they concern is
    ``covered`` (exempt, or already named by this alert)."""
    return [
        {
            "account_id": record.account_id,
            "account_name": record.account_name,
            "ou_path": record.ou_path,
            "finding": kind.key,
            "label": kind.text(policy),
            "severity": str(kind.severity),
            "remediation": kind.remediation.replace("<id>", record.account_id),
        }
        for kind in findings_of(record, policy)
        if not kind.alerts and not (kind.credentials and set(kind.credentials) <= set(covered))
    ]


def _state_note(record: AuditRecord) -> dict[str, Any]:
    note = account_state_note(record.account_state)
    return {"account_state_note": note} if note else {}


# --- subject ---------------------------------------------------------------------------------------


def _name(entry: Mapping[str, Any], *, with_path: bool = False) -> str:
    """``name (id)``; in the body (``with_path``) ``name (id) in Root/Workloads/Prod``; then any state note."""
    name = entry.get("account_name")
    shown = f"{name} ({entry['account_id']})" if name else str(entry["account_id"])
    if with_path and entry.get("ou_path"):
        shown = f"{shown} in {entry['ou_path']}"
    note = entry.get("account_state_note")
    return f"{shown} [{note}]" if note else shown


def _kinds_text(kinds: Iterable[str]) -> str:
    return ", ".join(credential_label(k) for k in kinds)


def render_subject(doc: Mapping[str, Any], run_failure: RunFailure | None = None) -> str:
    """The email subject for an alert document: what happened and where, at most 100 characters.

    Tries the most telling wording first (credential kinds, account name and id) and falls back to
    shorter ones (id only, "root credentials") before it ever cuts text.
    """
    where = doc["organization_id"] or "your organization"
    lead = severity_lead(doc.get("severity") or (Severity.CRITICAL if run_failure is not None else None))
    if run_failure is not None:
        return _fit(f"{lead}{SUBJECT_PREFIX}Audit run failed in {where}: {run_failure.error_code}")
    candidates = [
        _subject_body(doc, with_name=True, with_kinds=True),
        _subject_body(doc, with_name=False, with_kinds=True),
        _subject_body(doc, with_name=False, with_kinds=False),
    ]
    for body in candidates:
        subject = f"{lead}{SUBJECT_PREFIX}{where}: {body}"
        if len(subject) <= SUBJECT_MAX:
            return _fit(subject)
    return _fit(f"{lead}{SUBJECT_PREFIX}{where}: {candidates[-1]}")


def severity_lead(severity: str | None) -> str:
    """What the subject leads with: ``[CRITICAL] `` for the alert's highest severity (nothing when it has none)."""
    return f"[{str(severity).upper()}] " if severity else ""


def _subject_body(doc: Mapping[str, Any], *, with_name: bool, with_kinds: bool) -> str:
    parts = []
    reappeared, new, errors = doc["reappeared"], doc["new_with_credentials"], doc["audit_errors"]

    def account(entry: Mapping[str, Any]) -> str:
        return _name(entry) if with_name else str(entry["account_id"])

    if len(reappeared) == 1:
        only = reappeared[0]
        what = f"root {_kinds_text(only['credentials'])}" if with_kinds else "root credentials"
        parts.append(f"{what} appeared on {account(only)}")
    elif reappeared:
        parts.append(f"root credentials appeared on {len(reappeared)} accounts")
    if len(new) == 1:
        parts.append(f"new account {account(new[0])} has root credentials")
    elif new:
        parts.append(f"{len(new)} new accounts have root credentials")
    if errors:
        parts.append(f"{plural(len(errors), 'audit')} failed")
    body = "; ".join(parts)
    return body[0].upper() + body[1:]


def _fit(subject: str) -> str:
    """SNS subjects: at most 100 characters, one line, ASCII-printable is safest."""
    subject = " ".join(plain_text(subject).split())  # no control characters from account names
    return subject if len(subject) <= SUBJECT_MAX else subject[: SUBJECT_MAX - 3].rstrip() + "..."


# --- body ------------------------------------------------------------------------------------------


def error_advice(error_code: str, error_message: str) -> tuple[str, str]:
    """(cause, fix) for an audit error, in words an operator can act on."""
    message = (error_message or "").lower()
    if error_code == "ACCESS_DENIED" and "service control polic" in message:
        return (
            "an SCP denies root actions on this account, so AssumeRoot or the audit call was refused",
            "exempt the audit actions (sts:AssumeRoot and the IAMAuditRootUserCredentials reads) from that SCP, "
            "or scope its deny with the aws:AssumedRoot condition key; with Control Tower set ExemptAssumeRoot "
            "on AWS-GR_RESTRICT_ROOT_USER",
        )
    if error_code == "ACCESS_DENIED":
        return (
            "AWS refused the audit: the scanner role may lack sts:AssumeRoot for IAMAuditRootUserCredentials, "
            "or an SCP denies root actions",
            "run `rootwatch doctor --account <id>`; if an SCP denies root actions, exempt the audit actions "
            "or use the aws:AssumedRoot condition key",
        )
    if error_code == "FEATURE_DISABLED":
        return (
            f"centralized root access ({ROOT_CREDENTIALS_MANAGEMENT}) is not enabled for the organization",
            "run `rootwatch enable` from the management account, or enable it in the IAM console under "
            "Root access management",
        )
    if error_code == "THROTTLED":
        return (
            "AWS kept throttling the audit after every retry",
            "nothing to do if it clears next night; otherwise lower MaxConcurrency in the stack config",
        )
    if error_code == "EXPIRED":
        return (
            "the short-lived root session or the caller's credentials expired during the audit",
            "it is retried next night; if it repeats, check the scanner role's session duration",
        )
    if error_code == "NOT_AUDITED":
        return (
            "the account was in the run's manifest but no audit result was stored (the audit Lambda failed "
            "or timed out)",
            "look at the AuditAccount function's logs for this run, then start a new run with `rootwatch run`",
        )
    return (
        "an unexpected error stopped the audit",
        "look at the AuditAccount function's logs for this run, or try `rootwatch doctor --account <id>`",
    )


def _capped(
    entries: Sequence[Any], see: str = "`rootwatch query with_root_credentials` or the report"
) -> tuple[list[Any], list[str]]:
    """At most TEXT_LIST_MAX entries, and the "... and N more" line when some were left out."""
    if len(entries) <= TEXT_LIST_MAX:
        return list(entries), []
    return list(entries[:TEXT_LIST_MAX]), [f"  … and {len(entries) - TEXT_LIST_MAX} more (see {see})"]


def _severity(entry: Mapping[str, Any]) -> str:
    """`` (critical)`` after an entry that has a severity."""
    return f" ({entry['severity']})" if entry.get("severity") else ""


def render_text(doc: Mapping[str, Any], run_failure: RunFailure | None = None) -> str:
    """The plain-text email for an alert document (the ``default``/``email`` part of the SNS message)."""
    records_seen = doc["totals"]["accounts"] > 0
    where = doc["organization_id"] or "your organization"
    lines = [
        f"rootwatch audited the root users of {where} (run {doc['run_id']}, {doc['scanned_at']}).",
        "Something needs a person to look at it.",
        "",
    ]
    if run_failure is not None:
        cause, fix = error_advice(run_failure.error_code, run_failure.error_message)
        lines += [
            f"THE RUN FAILED: {run_failure.error_code}." + ("" if records_seen else " No account was audited."),
            f"  AWS said: {run_failure.error_message}",
            f"  Cause: {cause}.",
            f"  Fix: {fix}.",
            "",
        ]
    if doc["reappeared"]:
        lines.append(f"ROOT CREDENTIALS APPEARED ({plural(len(doc['reappeared']), 'account')})")
        lines.append("Absent at these accounts' last successful audit, present now:")
        shown, more = _capped(doc["reappeared"])
        lines += [f"  - {_name(e, with_path=True)}: {_kinds_text(e['credentials'])}{_severity(e)}" for e in shown]
        lines += more
        lines.append("")
    if doc["new_with_credentials"]:
        lines.append(
            f"NEWLY AUDITED ACCOUNTS WITH ROOT CREDENTIALS ({plural(len(doc['new_with_credentials']), 'account')})"
        )
        shown, more = _capped(doc["new_with_credentials"])
        lines += [f"  - {_name(e, with_path=True)}: {_kinds_text(e['credentials'])}{_severity(e)}" for e in shown]
        lines += more
        lines.append("")
    account_errors = [
        e
        for e in doc["audit_errors"]
        if run_failure is None or e["error_code"] != run_failure.error_code or e["account_id"] != run_failure.account_id
    ]
    if account_errors:
        lines.append(f"AUDITS FAILED ({plural(len(account_errors), 'account')})")
        shown, more = _capped(account_errors, see="`rootwatch query audit_errors` or the report")
        for entry in shown:
            cause, fix = error_advice(entry["error_code"], entry["error_message"])
            lines.append(f"  - {_name(entry, with_path=True)}: {entry['error_code']}{_severity(entry)}")
            if entry["error_message"]:
                lines.append(f"      AWS said: {entry['error_message']}")
            lines.append(f"      Cause: {cause}.")
            lines.append(f"      Fix: {fix.replace('<id>', str(entry['account_id']))}.")
        lines += more
        lines.append("")
    with_credentials = [e["account_id"] for e in doc["reappeared"] + doc["new_with_credentials"]]
    if with_credentials:
        unique = list(dict.fromkeys(with_credentials))
        if len(unique) > TEXT_LIST_MAX:
            # Thousands of ids on one command line help nobody: this finds them all itself (a dry run first).
            command = f"{REMEDIATE_ALL_COMMAND}   (all {len(unique)} accounts)"
        else:
            command = f"{REMEDIATE_COMMAND} {','.join(unique)}"
        lines += [
            "WHAT TO DO NEXT",
            "  1. Ask the account owner whether the root credentials are expected. Root access keys and",
            "     signing certificates should not exist; a root password is only needed for recovery.",
            "  2. Remove them in the IAM console, Root access management:",
            f"       {CONSOLE_URL}",
            "     or with rootwatch (a dry run first; add --yes to delete):",
            f"       {command}",
            "  3. The next nightly run confirms the removal. If a credential is intended (e.g. a break-glass",
            "     password), add an exemption with a reason and an expiry to the stack's `exemptions` config",
            "     instead: it stops alerting until the expiry.",
            "",
        ]
    if doc.get("recommendations"):
        lines.append(f"RECOMMENDATIONS ({plural(len(doc['recommendations']), 'finding')}, no alert by themselves)")
        shown, more = _capped(doc["recommendations"])
        for entry in shown:
            lines.append(f"  - {_name(entry, with_path=True)}: {entry['label']} ({entry['severity']})")
            lines.append(f"      What to do: {entry['remediation']}.")
        lines += more
        lines.append("")
    if doc["resolved"]:
        lines.append("Resolved since the last audit (no action needed):")
        shown, more = _capped(doc["resolved"])
        lines += [f"  - {_name(e, with_path=True)}: {_kinds_text(e['credentials'])} removed" for e in shown] + more
        lines.append("")
    t = doc["totals"]
    lines.append(
        f"Totals: {plural(t['accounts'], 'account')}, {t['audited']} audited, "
        f"{t['with_root_credentials']} with root credentials, {plural(t['errors'], 'error')}, {t['skipped']} skipped."
    )
    return "\n".join(plain_text(line) for line in lines) + "\n"  # a value never adds a line or an escape
