"""One definition of the totals (docs/contracts.md#totals): run summary, alert, scan and report agree."""

from __future__ import annotations

from rootwatch.domain.alert import compose_alert
from rootwatch.domain.records import AuditRecord, AuditStatus
from rootwatch.domain.totals import run_totals
from rootwatch_cli.analytics.report import ReportData, totals

from tests.unit.test_alert import RUN, error, ok, skipped


def management(account_id):
    return AuditRecord(
        run_id=RUN["run_id"],
        scanned_at=RUN["scanned_at"],
        account_id=account_id,
        status=AuditStatus.SKIPPED,
        error_code="MANAGEMENT_ACCOUNT",
        error_message="the management account cannot be audited through AssumeRoot",
    )


RECORDS = [
    management("000000000000"),
    ok("111111111111", "a", kinds=("password",), first_audit=True),
    ok("222222222222", "b"),
    error("333333333333", "c", "ACCESS_DENIED", "denied"),
    skipped("444444444444"),
]
EXPECTED = {"accounts": 5, "audited": 2, "with_root_credentials": 1, "errors": 1, "skipped": 2}


def test_totals_count_every_account_the_management_account_included():
    assert run_totals(RECORDS) == EXPECTED
    t = run_totals(RECORDS)
    assert t["accounts"] == t["audited"] + t["errors"] + t["skipped"]


def test_records_and_their_stored_rows_give_the_same_totals():
    assert run_totals([r.to_dict() for r in RECORDS]) == EXPECTED


def test_alert_and_report_use_the_same_totals():
    alert = compose_alert(RECORDS, **RUN)
    assert alert is not None and alert.document["totals"] == EXPECTED
    rows = [r.to_dict() for r in RECORDS]
    data = ReportData(None, "", "", 30, rows, [], [], [], [], [])  # type: ignore[arg-type]
    report = totals(data)
    assert {key: report[key] for key in EXPECTED} == EXPECTED
