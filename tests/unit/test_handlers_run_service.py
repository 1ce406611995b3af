"""The run services behind the handlers, with in-memory adapters: retries, reconciliation, one alert."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rootwatch.domain.credentials import RootCredentialState
from rootwatch.domain.errors import AccessDeniedError, FeatureDisabledError, ThrottledError
from rootwatch.domain.records import AuditRecord, AuditStatus
from rootwatch.domain.transitions import Baseline, compute_transition
from rootwatch.services import run

SCANNED_AT = "2026-11-22T02:00:00Z"
ACCOUNT = run.Account("111111111111", "prod", "prod@example.com", "ACTIVE")


class MemoryStore:
    """The StatusStore's contract in memory: transitions against the alerted baseline, which only
    ``commit_alerted`` moves; an alert marker written after the publish."""

    def __init__(self) -> None:
        self.alerted: dict[str, Baseline] = {}
        self.records: dict[tuple[str, str], AuditRecord] = {}
        self.sent: set[str] = set()
        self.summaries: dict[str, dict[str, Any]] = {}
        self.commit_fails = False

    def record_audit(self, record: AuditRecord) -> AuditRecord:
        baseline = self.alerted.get(record.account_id)
        t = compute_transition(baseline, record.status, record.present_kinds())
        record.appeared, record.disappeared, record.first_audit = list(t.appeared), list(t.disappeared), t.first_audit
        self.records[(record.run_id, record.account_id)] = record
        return record

    def commit_alerted(self, records) -> int:
        if self.commit_fails:
            raise TimeoutError("FinishRun timed out")
        moved = [r for r in records if r.status == AuditStatus.OK and (r.appeared or r.disappeared or r.first_audit)]
        for record in moved:
            self.alerted[record.account_id] = Baseline(frozenset(record.present_kinds()), record.run_id)
        return len(moved)

    def run_records(self, run_id: str) -> list[AuditRecord]:
        return [r for (rid, _), r in sorted(self.records.items()) if rid == run_id]

    def mark_alert_sent(self, run_id: str, subject: str, message_id: str) -> None:
        self.sent.add(run_id)

    def alert_sent(self, run_id: str) -> bool:
        return run_id in self.sent

    def put_run_summary(self, run_id: str, summary: dict[str, Any]) -> None:
        self.summaries[run_id] = summary


class MemoryResults:
    def __init__(self, manifest: list[dict[str, Any]]) -> None:
        self.manifest = manifest
        self.objects: dict[str, list[AuditRecord]] = {}

    def read_manifest(self, run_id: str) -> list[dict[str, Any]]:
        return self.manifest

    def write_results(self, run_id: str, scanned_at: str, records: list[AuditRecord]) -> str:
        key = f"results/dt={scanned_at[:10]}/{run_id}.json.gz"
        self.objects[key] = list(records)
        return key


class MemoryNotifier:
    def __init__(self, fail: bool = False) -> None:
        self.published: list[Any] = []
        self.fail = fail

    def publish_once(self, alert, *, sent, mark_sent):
        if sent(alert.run_id):
            return None
        if self.fail:
            raise ConnectionError("SNS unreachable")
        self.published.append(alert)
        mark_sent(alert.run_id, alert.subject, "message-id")
        return "message-id"


def audit_returning(state=None, error=None):
    def audit(account_id: str) -> RootCredentialState:
        if error is not None:
            raise error
        return state

    return audit


CLEAN = RootCredentialState(False, False, False, False)
WITH_PASSWORD = RootCredentialState(True, False, False, False)


def test_throttling_is_raised_while_the_state_machine_can_still_retry():
    store = MemoryStore()
    with pytest.raises(ThrottledError):
        run.audit_account(
            "r1",
            SCANNED_AT,
            ACCOUNT,
            audit=audit_returning(error=ThrottledError("Rate exceeded")),
            store=store,
            final_attempt=False,
        )
    assert store.records == {}


def test_throttling_on_the_last_attempt_becomes_an_error_record():
    store = MemoryStore()
    record = run.audit_account(
        "r1",
        SCANNED_AT,
        ACCOUNT,
        audit=audit_returning(error=ThrottledError("Rate exceeded")),
        store=store,
        final_attempt=True,
    )
    assert (record.status, record.error_code, record.error_message) == ("ERROR", "THROTTLED", "Rate exceeded")


def test_access_denied_is_recorded_with_aws_message_on_any_attempt():
    message = "User: x is not authorized to perform: sts:AssumeRoot with an explicit deny in a service control policy"
    record = run.audit_account(
        "r1",
        SCANNED_AT,
        ACCOUNT,
        audit=audit_returning(error=AccessDeniedError(message)),
        store=MemoryStore(),
        final_attempt=False,
    )
    assert (record.status, record.error_code, record.error_message) == ("ERROR", "ACCESS_DENIED", message)
    assert record.password_present is None


def test_ok_audit_carries_flags_and_account_fields_into_the_record():
    record = run.audit_account("r1", SCANNED_AT, ACCOUNT, audit=audit_returning(WITH_PASSWORD), store=MemoryStore())
    assert record.status == "OK" and record.password_present is True and record.root_credentials_present is True
    assert (record.account_name, record.account_email, record.account_state) == ("prod", "prod@example.com", "ACTIVE")
    assert run.compact(record) == {
        "account_id": ACCOUNT.id,
        "status": "OK",
        "error_code": None,
        "root_credentials_present": True,
        "appeared": [],
    }


def test_finish_reconciles_a_manifest_account_without_a_record_as_not_audited():
    store = MemoryStore()
    run.audit_account("r1", SCANNED_AT, ACCOUNT, audit=audit_returning(CLEAN), store=store)
    manifest = [ACCOUNT.to_dict(), {"id": "222222222222", "name": "lost", "email": None, "state": "ACTIVE"}]
    results, notifier = MemoryResults(manifest), MemoryNotifier()
    summary = run.finish_run(
        "r1", SCANNED_AT, store=store, results=results, notifier=notifier, prepared={"organization_id": "o-1"}
    )
    written = results.objects["results/dt=2026-11-22/r1.json.gz"]
    assert [(r.account_id, r.status, r.error_code) for r in written] == [
        ("111111111111", "OK", None),
        ("222222222222", "ERROR", "NOT_AUDITED"),
    ]
    assert summary.totals["not_audited"] == 1 and summary.alert_sent
    assert notifier.published[0].document["audit_errors"][0]["error_code"] == "NOT_AUDITED"


def test_finishing_the_same_run_twice_publishes_one_alert():
    store = MemoryStore()
    run.audit_account("r1", SCANNED_AT, ACCOUNT, audit=audit_returning(WITH_PASSWORD), store=store)
    results, notifier = MemoryResults([ACCOUNT.to_dict()]), MemoryNotifier()
    first = run.finish_run("r1", SCANNED_AT, store=store, results=results, notifier=notifier, prepared={})
    second = run.finish_run("r1", SCANNED_AT, store=store, results=results, notifier=notifier, prepared={})
    assert len(notifier.published) == 1
    assert first.alert_sent and second.alert_sent and first.alert_subject == second.alert_subject


def test_failed_publish_leaves_the_alert_unsent_for_the_retry():
    store = MemoryStore()
    run.audit_account("r1", SCANNED_AT, ACCOUNT, audit=audit_returning(WITH_PASSWORD), store=store)
    results = MemoryResults([ACCOUNT.to_dict()])
    with pytest.raises(ConnectionError):
        run.finish_run("r1", SCANNED_AT, store=store, results=results, notifier=MemoryNotifier(fail=True), prepared={})
    retry = MemoryNotifier()
    run.finish_run("r1", SCANNED_AT, store=store, results=results, notifier=retry, prepared={})
    assert len(retry.published) == 1


def _night(store, run_id: str, state: RootCredentialState, notifier) -> run.RunSummary:
    run.audit_account(run_id, SCANNED_AT, ACCOUNT, audit=audit_returning(state), store=store)
    results = MemoryResults([ACCOUNT.to_dict()])
    return run.finish_run(run_id, SCANNED_AT, store=store, results=results, notifier=notifier, prepared={})


def test_an_appearance_whose_publish_failed_is_alerted_by_the_next_run():
    store = MemoryStore()
    _night(store, "n1", CLEAN, MemoryNotifier())
    with pytest.raises(ConnectionError):
        _night(store, "n2", WITH_PASSWORD, MemoryNotifier(fail=True))
    notifier = MemoryNotifier()
    _night(store, "n3", WITH_PASSWORD, notifier)
    assert [a.document["reappeared"][0]["credentials"] for a in notifier.published] == [["password"]]


def test_an_appearance_is_alerted_by_the_next_run_when_finish_dies_before_committing():
    store, first, second = MemoryStore(), MemoryNotifier(), MemoryNotifier()
    _night(store, "n1", CLEAN, first)
    store.commit_fails = True
    with pytest.raises(TimeoutError):
        _night(store, "n2", WITH_PASSWORD, first)
    store.commit_fails = False
    _night(store, "n3", WITH_PASSWORD, second)
    # Published before it died, and again the next night: a duplicate, never a loss.
    assert [a.document["reappeared"][0]["credentials"] for a in first.published + second.published] == [
        ["password"],
        ["password"],
    ]
    assert store.alerted[ACCOUNT.id].kinds == {"password"}


def test_an_alerted_appearance_is_not_alerted_again_the_next_night():
    store, notifier = MemoryStore(), MemoryNotifier()
    _night(store, "n1", CLEAN, notifier)
    _night(store, "n2", WITH_PASSWORD, notifier)
    _night(store, "n3", WITH_PASSWORD, notifier)
    assert [bool(a.document["reappeared"]) for a in notifier.published] == [True]


def test_prepare_failure_becomes_one_run_failure_with_the_lambda_error_message():
    cause = json.dumps(
        {"errorMessage": "RootCredentialsManagement is not enabled", "errorType": "FeatureDisabledError"}
    )
    store, notifier = MemoryStore(), MemoryNotifier()
    summary = run.finish_run(
        "r1",
        SCANNED_AT,
        store=store,
        results=MemoryResults([]),
        notifier=notifier,
        failure={"Error": "FeatureDisabledError", "Cause": cause},
        organization_id="o-1",
        management_account_id="123456789012",
    )
    assert (summary.status, summary.error_code) == ("FAILED", "FEATURE_DISABLED")
    assert summary.error_message == "RootCredentialsManagement is not enabled" and summary.results_key is None
    assert len(notifier.published) == 1
    assert notifier.published[0].document["audit_errors"][0]["account_id"] == "123456789012"


def test_feature_check_refuses_when_root_credentials_management_is_off():
    class Iam:
        def list_organizations_features(self):
            return {"OrganizationId": "o-1", "EnabledFeatures": ["RootSessions"]}

    with pytest.raises(FeatureDisabledError, match="RootCredentialsManagement is not enabled for organization o-1"):
        run.check_root_credentials_feature(Iam())
