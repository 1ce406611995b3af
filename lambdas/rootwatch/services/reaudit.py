"""Re-audit on change: audit the accounts whose root credentials just changed, and alert like the nightly run.

The re-audit Lambda receives SQS batches whose bodies are EventBridge events (docs/pipeline.md, "Re-audit on
change"). Nothing here reads the environment or builds a client; the handler passes its adapters.

- Every body is checked (``rootwatch.domain.root_events.parse_root_event``); a malformed one, or one that is
  not a root-credential event, is dropped: counted and logged, never retried, never audited.
- The batch's events are grouped by account: a burst of 20 changes in one account is one audit.
- Each account is checked with Organizations DescribeAccount before anything else uses its id: an account
  outside the organization (``AccountNotFoundException``) is dropped the same way; the management account and
  accounts that are not ACTIVE are skipped, as the nightly run skips them. An arbitrary account id is never
  audited.
- The audit is the nightly AuditAccount's (``run.audit_account``: same audit, same status store, same
  transition against the ``alerted`` baseline); the alert is the nightly ``compose_alert`` with
  ``trigger: "event"`` and the triggering events, sent through FinishRun's at-least-once path
  (``run.alert_then_commit``: publish, marker, then commit the baseline). The nightly run that sees the same
  credentials later compares with that committed baseline: it does not alert them again.

Each account is one "run" of its own, ``reaudit-<account>-<digest of its event ids>``: a retried SQS message
gets the same run id, hence the same transition and the same alert marker (published once).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from rootwatch.domain.account_ids import is_account_id
from rootwatch.domain.alert import compose_alert, with_trigger
from rootwatch.domain.exemptions import Exemption, exempt_kinds_by_account
from rootwatch.domain.findings import DEFAULT_POLICY, Policy
from rootwatch.domain.outcomes import Account
from rootwatch.domain.records import AuditRecord, AuditStatus
from rootwatch.domain.root_events import RootEvent
from rootwatch.domain.timestamps import iso_utc
from rootwatch.services import run
from rootwatch.services.ports import AlertPublisher, RunStore

NOT_A_MEMBER = "not_a_member"
RUN_ID_PREFIX = "reaudit"


@dataclass(frozen=True)
class Membership:
    """What Organizations says about an account id: the account to audit, or why not."""

    account: Account | None = None
    #: ``not_a_member`` (dropped), or a skip reason (``MANAGEMENT_ACCOUNT``, ``SUSPENDED``, ...).
    reason: str | None = None
    #: ``o-...``, read from the account's ARN (the alert names it; None when unknown).
    organization_id: str | None = None


@dataclass
class AccountOutcome:
    """One account's re-audit."""

    account_id: str
    events: list[RootEvent]
    run_id: str | None = None
    status: str | None = None  # the record's status, when audited
    appeared: list[str] = field(default_factory=list)
    alert_sent: bool = False
    dropped: str | None = None  # not_a_member
    skipped: str | None = None  # the skip reason


def run_id_for(account_id: str, events: Sequence[RootEvent]) -> str:
    """``reaudit-<account>-<12 hex>``: the same for the same events, whatever their order (a retry)."""
    digest = hashlib.sha256("\n".join(sorted({e.event_id for e in events})).encode()).hexdigest()[:12]
    return f"{RUN_ID_PREFIX}-{account_id}-{digest}"


def group_by_account(events: Sequence[RootEvent]) -> dict[str, list[RootEvent]]:
    """``{account_id: its events}`` (an event id seen twice counts once), accounts in first-seen order."""
    grouped: dict[str, list[RootEvent]] = {}
    seen: set[tuple[str, str]] = set()
    for event in events:
        if (event.account_id, event.event_id) in seen:
            continue
        seen.add((event.account_id, event.event_id))
        grouped.setdefault(event.account_id, []).append(event)
    return grouped


def reaudit_account(
    account_id: str,
    events: Sequence[RootEvent],
    *,
    membership: Callable[[str], Membership],
    audit: run.Auditor,
    store: RunStore,
    notifier: AlertPublisher,
    organization_id: str | None,
    exemptions: Callable[[date], Sequence[Exemption]] = lambda day: (),
    policy: Policy = DEFAULT_POLICY,
    clock: Callable[[], float] = time.time,
) -> AccountOutcome:
    """Check membership, audit, alert (at least once) and commit the baseline, for one account.

    Raises what should be retried (throttling, a failed Organizations or AWS call, a failed publish): the
    handler reports the account's messages as batch item failures, and SQS delivers them again.
    """
    outcome = AccountOutcome(account_id, list(events))
    member = membership(account_id)
    if member.account is None:
        if member.reason == NOT_A_MEMBER:
            outcome.dropped = NOT_A_MEMBER
        else:
            outcome.skipped = member.reason
        return outcome
    outcome.run_id = run_id_for(account_id, events)
    scanned_at = iso_utc(datetime.fromtimestamp(clock(), UTC))
    in_effect = list(exemptions(run.scan_date(scanned_at)))
    record = run.audit_account(
        outcome.run_id,
        scanned_at,
        member.account,
        audit=audit,
        store=store,
        final_attempt=False,  # throttling: SQS delivers the message again
        exemptions=in_effect,
    )
    outcome.status, outcome.appeared = str(record.status), list(record.appeared)
    exempt_kinds = exempt_kinds_by_account(in_effect, on=run.scan_date(scanned_at))
    outcome.alert_sent = alert_on_change(
        record,
        events,
        store=store,
        notifier=notifier,
        organization_id=member.organization_id or organization_id,
        exempt_kinds=exempt_kinds,
        policy=policy,
    )
    return outcome


def alert_on_change(
    record: AuditRecord,
    events: Sequence[RootEvent],
    *,
    store: RunStore,
    notifier: AlertPublisher,
    organization_id: str | None,
    exempt_kinds: Mapping[str, Collection[str]] | None,
    policy: Policy = DEFAULT_POLICY,
) -> bool:
    """The nightly alert of this one record, with ``trigger: "event"``; through the at-least-once path.

    Only an OK audit alerts: an audit error is left to the nightly run, which reports it with the others
    (the re-audit's ERROR record is stored, and the baseline does not move).
    """
    alert = None
    if record.status == AuditStatus.OK:
        alert = compose_alert(
            [record],
            run_id=record.run_id,
            organization_id=organization_id,
            scanned_at=record.scanned_at,
            exempt_kinds=exempt_kinds,
            policy=policy,
        )
    if alert is not None:
        alert = with_trigger(alert, [e.to_dict() for e in events])
    return run.alert_then_commit(alert, [record], store=store, notifier=notifier, exempt_kinds=exempt_kinds)


def describe_membership(
    organizations: Any,
    management_account_id: str = "",
    *,
    ou_path: Callable[[str], str | None] = lambda account_id: None,
) -> Callable[[str], Membership]:
    """``membership(account_id)`` from Organizations DescribeAccount (``organizations`` is a boto3 client).

    AccountNotFoundException (not in this organization) is ``not_a_member``; every other failure raises.
    The skip rules are the nightly run's (``rootwatch.aws.organizations.skip_reason``). The account's ARN,
    ``arn:aws:organizations::<management account>:account/<o-...>/<account>``, gives the management account
    (when ``management_account_id`` is not given) and the organization id: no DescribeOrganization needed.
    DescribeAccount gives no OU path: ``ou_path(account_id)`` gives the one the last nightly run stored.
    """
    from rootwatch.aws.organizations import account_from_listing, skip_reason

    def membership(account_id: str) -> Membership:
        try:
            answer = organizations.describe_account(AccountId=account_id)["Account"]
        except organizations.exceptions.AccountNotFoundException:
            return Membership(reason=NOT_A_MEMBER)
        account = replace(account_from_listing(answer), ou_path=ou_path(account_id))
        management, organization_id = _arn_parts(str(answer.get("Arn") or ""))
        reason = skip_reason(account, management_account_id or management)
        if reason:
            return Membership(reason=reason, organization_id=organization_id)
        return Membership(account=account, organization_id=organization_id)

    return membership


def _arn_parts(arn: str) -> tuple[str, str | None]:
    """(management account id, organization id) of an Organizations account ARN; ("", None) when unreadable."""
    parts = arn.split(":")
    path = parts[5].split("/") if len(parts) == 6 else []
    if len(path) != 3 or path[0] != "account" or not path[1].startswith("o-") or not is_account_id(parts[4]):
        return "", None
    return parts[4], path[1]
