"""The one-off org-wide scan (``rootwatch scan``): audit member accounts now, keep no state, send no alert.

Lists nothing and prints nothing itself: the caller hands it the accounts (``select_accounts`` narrows the
organization's listing) and a ClientFactory, and gets one AuditRecord per account back: OK, ERROR (with
AWS's message) or SKIPPED. Accounts are audited through AssumeRoot with bounded concurrency (a thread pool;
one botocore session and reused root clients, see rootwatch.aws.clients); progress is reported through
the ``on_done`` callback. Because a scan keeps no state, ``appeared``/``disappeared`` are empty and
``first_audit`` is false.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, NoCredentialsError

from rootwatch.aws.clients import DEFAULT_ROOT_SESSION_SECONDS, ClientFactory
from rootwatch.aws.errors import classify
from rootwatch.aws.organizations import MANAGEMENT_ACCOUNT, Account, MemberAccounts, SkippedAccount
from rootwatch.aws.root_audit import audit_root_credentials
from rootwatch.domain.errors import ErrorKind, FeatureDisabledError, RootwatchError
from rootwatch.domain.outcomes import error_record, ok_record, skipped_record
from rootwatch.domain.records import AuditRecord
from rootwatch.domain.timestamps import iso_utc

LOG = logging.getLogger(__name__)
DEFAULT_CONCURRENCY = 16


class AccountSelectionError(ValueError):
    """The requested accounts cannot be scanned (not in the organization, or only the management account)."""


class ScanStopped(Exception):
    """Raised inside an audit thread when the scan was stopped before its next AWS request."""


class ScanInterrupted(Exception):
    """Ctrl-C during a scan: ``records`` holds the accounts audited so far, of ``total``."""

    def __init__(self, records: list[AuditRecord], *, total: int) -> None:
        super().__init__(f"interrupted after {len(records)} of {total} accounts")
        self.records = records
        self.total = total


def new_run_id(now: datetime | None = None) -> tuple[str, datetime]:
    """``scan-<UTC timestamp>`` (e.g. scan-20261122T060500Z) and the time it names."""
    now = now or datetime.now(UTC)
    return f"scan-{now.strftime('%Y%m%dT%H%M%SZ')}", now


def select_accounts(org: MemberAccounts, requested: Sequence[str] | None) -> tuple[list[Account], list[SkippedAccount]]:
    """The accounts to audit and to record as SKIPPED (``requested`` None: every account).

    ``AccountSelectionError`` names the requested ids that are not in the organization, or says that only
    the management account (which AssumeRoot cannot target) was requested.
    """
    if requested is None:
        return list(org.to_audit), list(org.skipped)
    unknown = [account_id for account_id in requested if org.find(account_id) is None]
    if unknown:
        raise AccountSelectionError(
            f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not in organization {org.organization_id}"
        )
    wanted = set(requested)
    to_audit, skipped = [a for a in org.to_audit if a.id in wanted], [s for s in org.skipped if s.account.id in wanted]
    management = [s.account.id for s in skipped if s.reason == MANAGEMENT_ACCOUNT]
    if management and not to_audit:
        # Nothing requested can be audited: "0 audited, 1 skipped" with exit 0 would read as clean.
        raise AccountSelectionError(
            f"{management[0]} is the management account of {org.organization_id}: sts:AssumeRoot only "
            "targets member accounts, so its root user cannot be audited here; check it with "
            "`aws iam get-account-summary` using the management account's own credentials "
            "(AccountMFAEnabled, AccountAccessKeysPresent, ...)"
        )
    return to_audit, skipped


def skipped_records(run_id: str, started: datetime, skipped: Sequence[SkippedAccount]) -> list[AuditRecord]:
    """One SKIPPED record per account that is not audited, stamped with the scan's start."""
    return [skipped_record(run_id, iso_utc(started) or "", s.account, s.reason, s.message) for s in skipped]


def scan_accounts(
    factory: ClientFactory,
    accounts: Sequence[Account],
    *,
    run_id: str,
    concurrency: int = DEFAULT_CONCURRENCY,
    duration_seconds: int = DEFAULT_ROOT_SESSION_SECONDS,
    on_done: Callable[[AuditRecord], None] | None = None,
) -> list[AuditRecord]:
    """Audit ``accounts`` with at most ``concurrency`` in flight; one OK or ERROR record each.

    The first account is audited alone: when the organization feature is disabled, AssumeRoot answers so
    for every account, and ``FeatureDisabledError`` is raised once instead of producing one ERROR per
    account. Should it appear later (the feature switched off mid-scan), the scan stops the same way.
    Ctrl-C raises ``ScanInterrupted`` with the records audited so far.
    """
    if not accounts:
        return []
    stop = threading.Event()

    def audit(account: Account) -> AuditRecord | None:
        if stop.is_set():
            return None
        record = audit_account(factory, account, run_id=run_id, duration_seconds=duration_seconds)
        if on_done is not None:
            on_done(record)
        return record

    def abort_if_stopped(**_: object) -> None:
        # A retry that waited out its backoff sends nothing once the scan is stopped (Ctrl-C, feature off).
        if stop.is_set():
            raise ScanStopped("scan stopped")

    factory.register_event("before-send", abort_if_stopped)
    records: list[AuditRecord] = []
    pool: ThreadPoolExecutor | None = None
    try:
        first = audit(accounts[0])
        assert first is not None
        records.append(first)
        _raise_if_feature_disabled(first, stop)
        pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="rootwatch-scan")
        futures: list[Future[AuditRecord | None]] = [pool.submit(audit, a) for a in accounts[1:]]
        for future in as_completed(futures):  # O(n) overall, unlike repeated wait(FIRST_COMPLETED)
            record = future.result()
            if record is not None:
                records.append(record)
                _raise_if_feature_disabled(record, stop)
    except KeyboardInterrupt:
        # Ctrl-C: cancel what has not started, do not wait for what is in flight (throttling backoffs).
        stop.set()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        raise ScanInterrupted(list(records), total=len(accounts)) from None
    finally:
        if pool is not None:
            pool.shutdown(wait=not stop.is_set(), cancel_futures=True)
    return records


def audit_account(
    factory: ClientFactory, account: Account, *, run_id: str, duration_seconds: int = DEFAULT_ROOT_SESSION_SECONDS
) -> AuditRecord:
    """One account's record: OK with its credential state, or ERROR with the classified AWS error."""
    try:
        state = audit_root_credentials(factory, account.id, duration_seconds=duration_seconds)
    except RootwatchError as exc:
        return error_record(run_id, _now(), account, str(exc.kind), exc.message)
    except BotoCoreError as exc:
        if isinstance(exc, NoCredentialsError):
            raise
        error = classify(exc)
        return error_record(run_id, _now(), account, str(error.kind), error.message)
    record = ok_record(run_id, _now(), account, state)
    LOG.debug("audited %s: root credentials %s", account.id, ", ".join(record.present_kinds()) or "none")
    return record


def _raise_if_feature_disabled(record: AuditRecord, stop: threading.Event) -> None:
    if record.error_code == ErrorKind.FEATURE_DISABLED:
        stop.set()
        raise FeatureDisabledError(record.error_message or "feature disabled", operation="AssumeRoot")


def _now() -> str:
    return iso_utc(datetime.now(UTC)) or ""
