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

    def commit_alerted(self, records, *, exempt_kinds=None) -> int:
        if self.commit_fails:
            raise TimeoutError("FinishRun timed out")
        exempt_kinds = exempt_kinds or {}
        moved = 0
        for record in (r for r in records if r.status == AuditStatus.OK):
            kinds = frozenset(record.present_kinds()) - frozenset(exempt_kinds.get(record.account_id, ()))
            before = self.alerted.get(record.account_id)
            if record.first_audit or before is None or before.kinds != kinds:
                self.alerted[record.account_id] = Baseline(kinds, record.run_id)
                moved += 1
        return moved

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


def _exempt_night(store, run_id: str, notifier, *, stored_expires: str | None = None, cdk: bool = False):
    """A night with A's password present; the table's exemption (in the manifest entry, as PrepareRun puts it)
    and/or cdk.json's (the caller's exempt_kinds)."""
    entry = ACCOUNT.to_dict()
    if stored_expires:
        entry["exemptions"] = [
            {"account_id": ACCOUNT.id, "credentials": ["password"], "reason": "SEC-7", "expires": stored_expires}
        ]
    exemptions = run.manifest_exemptions(entry)
    run.audit_account(
        run_id, SCANNED_AT, ACCOUNT, audit=audit_returning(WITH_PASSWORD), store=store, exemptions=exemptions
    )
    results = MemoryResults([entry])
    kinds = {ACCOUNT.id: frozenset({"password"})} if cdk else None
    return run.finish_run(
        run_id, SCANNED_AT, store=store, results=results, notifier=notifier, prepared={}, exempt_kinds=kinds
    )


def test_a_stored_exemption_silences_an_alerted_password_and_it_alerts_again_after_the_expiry():
    store, notifier = MemoryStore(), MemoryNotifier()
    _exempt_night(store, "n1", notifier)
    assert len(notifier.published) == 1
    _exempt_night(store, "n2", notifier, stored_expires=SCANNED_AT[:10])  # in effect through that day
    assert len(notifier.published) == 1
    assert store.alerted[ACCOUNT.id].kinds == frozenset()  # an exempt kind is kept out of the baseline
    _exempt_night(store, "n3", notifier, stored_expires="2026-11-21")  # expired the day before
    assert len(notifier.published) == 2
    assert notifier.published[1].document["reappeared"][0]["credentials"] == ["password"]


def test_an_exempt_first_audit_alerts_once_its_exemption_ends_cdk_json_and_table_alike():
    for cdk in (True, False):
        store, notifier = MemoryStore(), MemoryNotifier()
        stored = None if cdk else SCANNED_AT[:10]
        _exempt_night(store, "n1", notifier, stored_expires=stored, cdk=cdk)
        _exempt_night(store, "n2", notifier, stored_expires=stored, cdk=cdk)
        assert notifier.published == []
        _exempt_night(store, "n3", notifier)
        assert [a.document["reappeared"][0]["credentials"] for a in notifier.published] == [["password"]]


def test_prepare_run_puts_each_accounts_stored_exemptions_in_its_manifest_entry(monkeypatch):
    from rootwatch.domain.exemptions import Exemption

    other = run.Account("222222222222", "dev", None, "ACTIVE")
    members = type("Members", (), {"to_audit": [ACCOUNT, other], "skipped": [], "organization_id": "o-1"})()
    monkeypatch.setattr("rootwatch.aws.organizations.list_member_accounts", lambda factory: members)
    monkeypatch.setattr(run, "check_root_credentials_feature", lambda iam: "o-1")
    factory = type("Factory", (), {"client": lambda self, name: None})()
    written: list[Any] = []
    results = type("Writer", (), {"write_manifest": lambda self, run_id, m: written.append(m) or "k"})()
    days: list[Any] = []

    def stored(day):
        days.append(day)
        return [Exemption(ACCOUNT.id, frozenset({"password"}), "SEC-7", day)]

    run.prepare_run("r1", SCANNED_AT, factory=factory, store=MemoryStore(), results=results, exemptions=stored)
    (manifest,) = written
    assert [str(d) for d in days] == [SCANNED_AT[:10]]
    assert manifest[0]["exemptions"] == [
        {"account_id": ACCOUNT.id, "credentials": ["password"], "reason": "SEC-7", "expires": SCANNED_AT[:10]}
    ]
    assert "exemptions" not in manifest[1]
