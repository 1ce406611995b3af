"""One audit run, in three steps: prepare (who to audit), audit one account, finish (reconcile, publish).

The Lambda handlers call these with their adapters; nothing here reads the environment or builds a
client. Each step is safe to repeat for the same run: Step Functions retries and redrives re-run them.

- ``prepare_run`` refuses to start when centralized root access is off (one clear failure for the run,
  not one error per account), lists the organization, writes the Map's manifest and stores a SKIPPED
  record for each account that is not audited (the management account, SUSPENDED, CLOSED, ...).
- ``audit_account`` audits one member account and stores the result; the status store finds the
  transition atomically. Throttling is raised (as ``ThrottledError``) so the state machine retries it
  with backoff and jitter, except on the last attempt, where it becomes an ERROR record like any other
  permanent failure.
- ``finish_run`` reconciles the manifest against the stored records (an account with none becomes
  ERROR/NOT_AUDITED), writes the run's S3 object, sends the run's alert (at least once for every
  appearance; a second copy only if a failure follows a successful publish), then commits the alerted
  baseline and writes the run summary.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from rootwatch.domain.alert import Alert, RunFailure, compose_alert
from rootwatch.domain.asff import asff_findings
from rootwatch.domain.credentials import RootCredentialState
from rootwatch.domain.deliveries import Delivery, failed_delivery
from rootwatch.domain.errors import ErrorKind, FeatureDisabledError, RootwatchError, ThrottledError
from rootwatch.domain.events import change_events
from rootwatch.domain.exemptions import (
    Exemption,
    apply_exemptions,
    exempt_kinds_by_account,
    merge_exempt_kinds,
    parse_exemptions,
)
from rootwatch.domain.features import ROOT_CREDENTIALS_MANAGEMENT
from rootwatch.domain.findings import DEFAULT_POLICY, Policy, finding_counts
from rootwatch.domain.outcomes import Account, error_record, ok_record, skipped_record
from rootwatch.domain.records import AuditRecord, AuditStatus
from rootwatch.domain.timestamps import iso_utc, parse_utc
from rootwatch.domain.totals import run_totals
from rootwatch.services.ports import (
    AlertPublisher,
    AuditRecorder,
    ClientSource,
    EventSink,
    FeaturesReader,
    FindingsImporter,
    ManifestWriter,
    RunResults,
    RunStore,
)

if TYPE_CHECKING:
    from rootwatch.aws.clients import ClientFactory

NOT_AUDITED = "NOT_AUDITED"
RUN_FAILED = "RUN_FAILED"

#: Lambda errorType (the exception class name) -> the record error code it stands for.
_CODE_FOR_ERROR_TYPE = {
    "AccessDeniedError": ErrorKind.ACCESS_DENIED.value,
    "FeatureDisabledError": ErrorKind.FEATURE_DISABLED.value,
    "ThrottledError": ErrorKind.THROTTLED.value,
    "ExpiredError": ErrorKind.EXPIRED.value,
    "UnknownAwsError": ErrorKind.UNKNOWN.value,
}


class Auditor(Protocol):
    """Reads one account's root credential state (``rootwatch.aws.root_audit.audit_root_credentials``)."""

    def __call__(self, account_id: str) -> RootCredentialState: ...


@dataclass(frozen=True)
class PreparedRun:
    """What PrepareRun hands to the rest of the state machine (small: it travels in the execution)."""

    run_id: str
    scanned_at: str
    organization_id: str
    manifest_key: str
    accounts: int
    skipped: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RunSummary:
    """The run's outcome: stored in the table, returned to the state machine, printed by ``rootwatch run``."""

    run_id: str
    status: str  # SUCCEEDED or FAILED
    organization_id: str | None
    scanned_at: str
    finished_at: str
    duration_seconds: float
    totals: dict[str, int] = field(default_factory=dict)
    results_key: str | None = None
    alert_sent: bool = False
    alert_subject: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    #: ``{finding key: accounts}`` for every kind of ``rootwatch.domain.findings.FINDINGS`` (0 included).
    findings: dict[str, int] = field(default_factory=dict)
    #: The optional deliveries that are on: ``{"security_hub"|"events": {"sent", "failed", "errors"}}``.
    deliveries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# --- PrepareRun ------------------------------------------------------------------------------------


def check_root_credentials_feature(iam_client: FeaturesReader) -> str:
    """The organization id, after checking RootCredentialsManagement is enabled.

    Raises ``FeatureDisabledError`` when it is not, and the classified error when the call fails
    (e.g. the caller is not the management account or the IAM delegated administrator).
    """
    from botocore.exceptions import ClientError

    from rootwatch.aws.errors import classify

    try:
        answer = iam_client.list_organizations_features()
    except ClientError as exc:
        raise classify(exc, "ListOrganizationsFeatures") from exc
    if ROOT_CREDENTIALS_MANAGEMENT not in answer.get("EnabledFeatures", []):
        raise FeatureDisabledError(
            f"{ROOT_CREDENTIALS_MANAGEMENT} is not enabled for organization {answer.get('OrganizationId', '?')}: "
            "rootwatch cannot call AssumeRoot on any member account",
            operation="ListOrganizationsFeatures",
        )
    return str(answer.get("OrganizationId") or "")


def prepare_run(
    run_id: str,
    scanned_at: str,
    *,
    factory: ClientFactory,
    store: AuditRecorder,
    results: ManifestWriter,
    exemptions: Callable[[date], Sequence[Exemption]] | None = None,
) -> PreparedRun:
    """Check the org feature, list the accounts, write the manifest, record the skipped accounts.

    ``exemptions(day)`` gives the status table's exemptions in effect that day (``ExemptionStore.in_effect``),
    read once here: each account's go into its manifest entry (``exemptions``, the cdk.json shape), which
    AuditAccount receives as its Map item and FinishRun reads back with the manifest.
    """
    from rootwatch.aws.organizations import list_member_accounts

    organization_id = check_root_credentials_feature(factory.client("iam"))
    members = list_member_accounts(factory)
    by_account: dict[str, list[dict[str, Any]]] = {}
    for exemption in exemptions(scan_date(scanned_at)) if exemptions else ():
        by_account.setdefault(exemption.account_id, []).append(exemption.to_dict())
    manifest = [_with_exemptions(account.to_dict(), by_account) for account in members.to_audit]
    key = results.write_manifest(run_id, manifest)
    for skipped in members.skipped:
        account = skipped.account
        store.record_audit(skipped_record(run_id, scanned_at, account, skipped.reason, skipped.message))
    return PreparedRun(
        run_id=run_id,
        scanned_at=scanned_at,
        organization_id=members.organization_id or organization_id,
        manifest_key=key,
        accounts=len(manifest),
        skipped=len(members.skipped),
    )


def _with_exemptions(entry: dict[str, Any], by_account: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """A manifest entry, with the account's stored exemptions when it has any (most have none: no key)."""
    if entry["id"] in by_account:
        entry["exemptions"] = by_account[entry["id"]]
    return entry


def manifest_exemptions(entry: Mapping[str, Any]) -> list[Exemption]:
    """The stored exemptions PrepareRun put in a manifest entry (validated again: the manifest is data)."""
    return parse_exemptions(list(entry.get("exemptions") or []), allow_expired=True)


def manifest_exempt_kinds(manifest: Sequence[Mapping[str, Any]], *, on: date) -> dict[str, frozenset[str]]:
    """``{account_id: kinds}`` exempt on ``on`` by the manifest's stored exemptions."""
    return exempt_kinds_by_account([e for entry in manifest for e in manifest_exemptions(entry)], on=on)


# --- AuditAccount ----------------------------------------------------------------------------------


def audit_account(
    run_id: str,
    scanned_at: str,
    account: Account,
    *,
    audit: Auditor,
    store: AuditRecorder,
    final_attempt: bool = True,
    exemptions: Sequence[Exemption] = (),
) -> AuditRecord:
    """Audit one account and store the result; returns the stored record (transition included).

    Raises ``ThrottledError`` while retries remain (``final_attempt`` False) so the state machine backs
    off; every other ``RootwatchError`` becomes an ERROR record with AWS's message.
    """
    try:
        record = ok_record(run_id, scanned_at, account, audit(account.id))
    except ThrottledError as exc:
        if not final_attempt:
            raise
        record = error_record(run_id, scanned_at, account, exc.kind.value, exc.message)
    except RootwatchError as exc:
        record = error_record(run_id, scanned_at, account, exc.kind.value, exc.message)
    if exemptions:
        record = apply_exemptions(record, exemptions, on=scan_date(scanned_at))
    return store.record_audit(record)


def scan_date(scanned_at: str) -> date:
    """The UTC day of a run (``scanned_at`` is ISO-8601 UTC): the day exemptions are checked against."""
    return date.fromisoformat(scanned_at[:10])


def compact(record: AuditRecord) -> dict[str, Any]:
    """What AuditAccount returns to the Map: enough to read an execution's history, nothing more."""
    return {
        "account_id": record.account_id,
        "status": str(record.status),
        "error_code": record.error_code,
        "root_credentials_present": record.root_credentials_present,
        "appeared": record.appeared,
    }


# --- FinishRun -------------------------------------------------------------------------------------


def organization_of(factory: ClientSource, *, on_error: Callable[[str], None] | None = None) -> tuple[str | None, str]:
    """(organization id, management account id) from DescribeOrganization; (None, "") when unreadable.

    Used only when PrepareRun failed, so that the run's one alert still says which organization. A failure
    (e.g. a role without organizations:DescribeOrganization) goes to ``on_error`` with AWS's message.
    """
    try:
        organization = factory.client("organizations").describe_organization()["Organization"]
    except Exception as exc:  # the alert must go out even when Organizations is what failed
        if on_error is not None:
            on_error(f"DescribeOrganization failed, the alert names no organization: {exc}")
        return None, ""
    return str(organization["Id"]), str(organization.get("MasterAccountId") or "")


def failure_from_catch(failure: Mapping[str, Any], account_id: str = "") -> RunFailure:
    """A Step Functions Catch output (``{"Error", "Cause"}``) as a RunFailure with a readable message.

    A Lambda's Cause is a JSON string with ``errorMessage``; other causes are kept as they are.
    """
    error = str(failure.get("Error") or "States.Runtime")
    cause = str(failure.get("Cause") or "")
    message = cause
    try:
        parsed = json.loads(cause)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("errorMessage"):
        message = str(parsed["errorMessage"])
    code = _CODE_FOR_ERROR_TYPE.get(error, RUN_FAILED)
    return RunFailure(error_code=code, error_message=message or error, account_id=account_id)


def finish_run(
    run_id: str,
    scanned_at: str,
    *,
    store: RunStore,
    results: RunResults,
    notifier: AlertPublisher,
    prepared: Mapping[str, Any] | None = None,
    failure: Mapping[str, Any] | None = None,
    organization_id: str | None = None,
    management_account_id: str = "",
    exempt_kinds: Mapping[str, Collection[str]] | None = None,
    policy: Policy = DEFAULT_POLICY,
    clock=time.time,
    security_hub: FindingsImporter | None = None,
    events: EventSink | None = None,
) -> RunSummary:
    """Reconcile, write the run object, alert, commit the alerted baseline, store and return the summary.

    ``prepared`` is PrepareRun's output; None when PrepareRun itself failed, with ``failure`` saying why
    (then the run audited nobody, and its alert says so). ``failure`` with ``prepared`` means the Map
    failed part-way: accounts without a record become ERROR/NOT_AUDITED.
    """
    run_failure = None
    records: list[AuditRecord] = []
    if prepared is None:
        failure = failure or {"Error": RUN_FAILED, "Cause": "PrepareRun did not complete"}
    if failure is not None:
        run_failure = failure_from_catch(failure, account_id=management_account_id)
    if prepared is not None:
        organization_id = prepared.get("organization_id") or organization_id
        manifest = results.read_manifest(run_id)
        records = reconcile(run_id, scanned_at, store=store, manifest=manifest)
        # cdk.json's exemptions (the caller's) and the status table's, which PrepareRun put in the manifest.
        exempt_kinds = merge_exempt_kinds(exempt_kinds, manifest_exempt_kinds(manifest, on=scan_date(scanned_at)))
    results_key = results.write_results(run_id, scanned_at, records) if prepared is not None else None
    alert = compose_alert(
        records,
        run_id=run_id,
        organization_id=organization_id,
        scanned_at=scanned_at,
        run_failure=run_failure,
        exempt_kinds=exempt_kinds,
        policy=policy,
    )
    sent = alert_then_commit(alert, records, store=store, notifier=notifier, exempt_kinds=exempt_kinds)
    # Security Hub and EventBridge only now, after the alert and its bookkeeping: neither can lose or delay
    # the alert, and a failure of either is counted in the summary (and a metric), never fails the run.
    deliveries = deliver(
        records,
        run_id=run_id,
        scanned_at=scanned_at,
        organization_id=organization_id,
        run_failure=run_failure,
        exempt_kinds=exempt_kinds,
        policy=policy,
        security_hub=security_hub,
        events=events,
    )
    finished = clock()
    started = parse_utc(scanned_at).timestamp()
    ok = [r for r in records if r.status == AuditStatus.OK]
    totals = run_totals(records) | {
        "reappeared": sum(1 for r in ok if r.appeared and not r.first_audit),
        "new_with_credentials": sum(1 for r in ok if r.first_audit and r.root_credentials_present),
        "resolved": sum(1 for r in ok if r.disappeared),
        "not_audited": sum(1 for r in records if r.error_code == NOT_AUDITED),
    }
    summary = RunSummary(
        run_id=run_id,
        status="FAILED" if run_failure else "SUCCEEDED",
        organization_id=organization_id,
        scanned_at=scanned_at,
        finished_at=iso_utc(datetime.fromtimestamp(finished, UTC)),
        duration_seconds=round(max(0.0, finished - started), 3),
        totals=totals,
        results_key=results_key,
        alert_sent=sent or bool(alert and store.alert_sent(run_id)),
        alert_subject=alert.subject if alert else None,
        error_code=run_failure.error_code if run_failure else None,
        error_message=run_failure.error_message if run_failure else None,
        findings=finding_counts(records, policy),
        deliveries={name: delivery.to_dict() for name, delivery in deliveries.items()},
    )
    store.put_run_summary(run_id, summary.to_dict())
    return summary


def alert_then_commit(
    alert: Alert | None,
    records: Sequence[AuditRecord],
    *,
    store: RunStore,
    notifier: AlertPublisher,
    exempt_kinds: Mapping[str, Collection[str]] | None,
) -> bool:
    """The at-least-once path (FinishRun's and the re-audit's): publish unless the marker says it went out,
    write the marker, then commit the alerted baseline. True when this call published."""
    sent = False
    if alert is not None:
        sent = notifier.publish_once(alert, sent=store.alert_sent, mark_sent=store.mark_alert_sent) is not None
    # Only now, with the alert out: a run that dies before this line leaves the baseline where it was, so
    # the next run (or a redrive) sees the same appearances and alerts them again. Never zero times.
    store.commit_alerted(records, exempt_kinds=exempt_kinds)
    return sent


def deliver(
    records: Sequence[AuditRecord],
    *,
    run_id: str,
    scanned_at: str,
    organization_id: str | None,
    run_failure: RunFailure | None,
    exempt_kinds: Mapping[str, Collection[str]] | None,
    policy: Policy,
    security_hub: FindingsImporter | None,
    events: EventSink | None,
) -> dict[str, Delivery]:
    """Import the run's Security Hub findings and put its change events, for those that are on.

    Never raises: whatever goes wrong (a refused finding, a failed call, a bug in a builder) is counted as
    failed with its message, for the summary and the handler's metrics.
    """
    deliveries: dict[str, Delivery] = {}
    if security_hub is not None:
        try:
            batch = asff_findings(
                records,
                product_arn=security_hub.product_arn,
                run_id=run_id,
                scanned_at=scanned_at,
                exempt_kinds=exempt_kinds,
                policy=policy,
            )
            deliveries["security_hub"] = security_hub.import_findings(batch.current, batch.archive)
        except Exception as exc:  # the run and its alert are done; this must not undo them
            deliveries["security_hub"] = failed_delivery(1, f"Security Hub findings not imported: {exc!r}")
    if events is not None:
        try:
            changes = change_events(
                records,
                run_id=run_id,
                organization_id=organization_id,
                scanned_at=scanned_at,
                run_failure=run_failure,
                exempt_kinds=exempt_kinds,
                policy=policy,
            )
            deliveries["events"] = events.put_events(changes) if changes else Delivery()
        except Exception as exc:  # as above
            deliveries["events"] = failed_delivery(1, f"EventBridge events not put: {exc!r}")
    return deliveries


def reconcile(
    run_id: str, scanned_at: str, *, store: RunStore, manifest: Sequence[Mapping[str, Any]]
) -> list[AuditRecord]:
    """The run's records, with an ERROR/NOT_AUDITED record stored for each manifest account that has none."""
    records = {r.account_id: r for r in store.run_records(run_id)}
    for entry in manifest:
        if entry["id"] in records:
            continue
        account = Account(entry["id"], entry.get("name"), entry.get("email"), entry.get("state"), entry.get("ou_path"))
        message = "no audit result was stored for this account in this run (the audit failed or timed out)"
        records[account.id] = store.record_audit(error_record(run_id, scanned_at, account, NOT_AUDITED, message))
    return sorted(records.values(), key=lambda r: r.account_id)
