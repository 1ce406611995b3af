"""Every named query returns the expected rows on scripted history, through DuckDB (the local engine).

History is written in the exact S3 layout by HistoryWriter, with days relative to today (UTC) because
the queries' windows are relative to current_date, as they are in Athena.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import timedelta

import pytest
from rootwatch.aws.results_writer import decode_records
from rootwatch.domain.exemptions import parse_exemptions, utc_today
from rootwatch.domain.records import AuditStatus
from rootwatch_cli.analytics.catalog import QueryError, bind, get_query, load_queries
from rootwatch_cli.analytics.history import MANAGEMENT_ACCOUNT_ID, Audit, HistoryWriter, generate_history
from rootwatch_cli.analytics.local import DuckDBBackend

A, B, C, D, F = "111111111111", "222222222222", "333333333333", "444444444444", "555555555555"
TODAY = utc_today()


def day(offset):
    return TODAY + timedelta(days=offset)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """A: clean, then a password reappears 2 days ago. B: password+MFA since its first audit, exempt.
    C: every audit denied. D: access keys, then its last audit errors. F: keys came and went 40 days ago.
    The management account is always SKIPPED. Yesterday has a second (afternoon) run for A."""
    root = tmp_path_factory.mktemp("history")
    exemptions = parse_exemptions(
        [{"account_id": B, "credentials": ["password", "mfa"], "reason": "break-glass SEC-1", "expires": "2099-01-01"}]
    )
    writer = HistoryWriter(root, exemptions=exemptions)
    denied = Audit(C, status=AuditStatus.ERROR, error_code="ACCESS_DENIED", error_message="explicit deny in an SCP")
    skipped = Audit(MANAGEMENT_ACCOUNT_ID, status=AuditStatus.SKIPPED, error_code="MANAGEMENT_ACCOUNT")
    writer.run(day(-41), [Audit(F)])
    writer.run(day(-40), [Audit(F, kinds=frozenset({"access_keys"}))])
    writer.run(day(-39), [Audit(F)])
    for offset in range(-5, 1):
        a_kinds = frozenset({"password"}) if offset >= -2 else frozenset()
        d = (
            Audit(D, status=AuditStatus.ERROR, error_code="THROTTLED", error_message="Rate exceeded")
            if offset == 0
            else Audit(D, kinds=frozenset({"access_keys"}))
        )
        audits = [
            Audit(A, kinds=a_kinds, account_name="payments-prod"),
            Audit(B, kinds=frozenset({"password", "mfa"})),
            denied,
            d,
            skipped,
            Audit(F),
        ]
        writer.run(day(offset), audits)
    from datetime import time

    writer.run(day(-1), [Audit(A, kinds=frozenset({"password"}), account_name="payments-prod")], at=time(14))
    backend = DuckDBBackend(root)
    yield backend
    backend.close()


def run(engine, name, **params):
    values = {key: str(value) for key, value in params.items()}
    return engine.run(bind(get_query(name), values, table=engine.table)).rows


def test_latest_state_has_one_row_per_account_with_last_known_flags(engine):
    rows = {row["account_id"]: row for row in run(engine, "latest_state")}
    assert set(rows) == {A, B, C, D, F, MANAGEMENT_ACCOUNT_ID}
    assert rows[A]["credentials"] == "password" and rows[A]["status"] == "OK"
    # D's last audit failed, but what its last successful audit found is kept.
    assert rows[D]["status"] == "ERROR" and rows[D]["error_code"] == "THROTTLED"
    assert rows[D]["access_keys_present"] is True
    assert rows[D]["last_ok_at"].startswith(day(-1).isoformat())
    assert rows[C]["last_ok_at"] is None and rows[C]["root_credentials_present"] is None
    assert (
        rows[B]["exempt"] is True and rows[B]["exemption_reason"] == "password, mfa until 2099-01-01: break-glass SEC-1"
    )
    assert rows[A]["last_scanned_at"] == f"{day(0).isoformat()}T02:00:00Z"


def test_with_root_credentials_lists_current_holders_non_exempt_first(engine):
    rows = run(engine, "with_root_credentials")
    assert [row["account_id"] for row in rows] == [A, D, B]
    by_id = {row["account_id"]: row for row in rows}
    assert by_id[A]["present_since"] == f"{day(-2).isoformat()}T02:00:00Z"
    assert by_id[D]["latest_status"] == "ERROR"
    assert by_id[B]["credentials"] == "password,mfa" and by_id[B]["exempt"] is True


def test_reappearances_respects_the_window(engine):
    recent = run(engine, "reappearances", days=30)
    assert [(row["account_id"], row["appeared"], row["dt"]) for row in recent] == [(A, "password", day(-2).isoformat())]
    older = run(engine, "reappearances", days=60)
    assert {row["account_id"] for row in older} == {A, F}


def test_audit_errors_aggregates_per_account_with_the_latest_message(engine):
    rows = run(engine, "audit_errors", days=7)
    assert [row["account_id"] for row in rows] == [C, D]
    c, d = rows
    assert c["failing_every_audit"] is True and c["errors"] == c["audits"] == 6
    assert c["last_error_message"] == "explicit deny in an SCP"
    assert d["failing_every_audit"] is False and d["errors"] == 1 and d["last_error_code"] == "THROTTLED"


def test_daily_trend_counts_each_account_once_per_day(engine):
    rows = {row["dt"]: row for row in run(engine, "daily_trend", days=7)}
    assert sorted(rows) == [day(offset).isoformat() for offset in range(-5, 1)]
    yesterday, today = rows[day(-1).isoformat()], rows[day(0).isoformat()]
    assert yesterday["accounts"] == 6  # A audited twice that day, counted once
    assert (yesterday["password"], yesterday["mfa"], yesterday["access_keys"]) == (2, 1, 1)
    assert today["access_keys"] == 0 and today["errors"] == 2  # D errored: unknown flags are not counted
    assert today["skipped"] == 1 and today["exempt"] == 1
    assert rows[day(-3).isoformat()]["password"] == 1  # only B before A's password appeared


def test_never_audited_lists_only_accounts_whose_every_audit_failed(engine):
    rows = run(engine, "never_audited")
    assert [row["account_id"] for row in rows] == [C]  # the management account was skipped, not failed
    assert rows[0]["errors"] == 6 and rows[0]["last_error_code"] == "ACCESS_DENIED"


def test_account_history_shows_when_a_credential_appeared(engine):
    rows = run(engine, "account_history", account_id=A, days=3)
    assert [row["scanned_at"][:13] for row in rows] == [
        f"{day(0)}T02",
        f"{day(-1)}T14",
        f"{day(-1)}T02",
        f"{day(-2)}T02",
    ]
    assert rows[-1]["appeared"] == "password" and rows[-1]["credentials"] == "password"


def test_every_query_runs_on_an_empty_folder(tmp_path):
    backend = DuckDBBackend(tmp_path)
    for query in load_queries().values():
        values = {"account_id": A} if query.param("account_id") else {}
        assert backend.run(bind(query, values, table=backend.table)).rows == [], query.name


def test_objects_written_before_the_exemption_fields_existed_still_read(tmp_path):
    folder = tmp_path / "results" / f"dt={TODAY.isoformat()}"
    folder.mkdir(parents=True)
    old = {
        "run_id": "r0",
        "scanned_at": f"{TODAY}T02:00:00Z",
        "account_id": A,
        "status": "OK",
        "password_present": True,
        "root_credentials_present": True,
        "appeared": [],
        "disappeared": [],
    }
    (folder / "r0.json.gz").write_bytes(gzip.compress((json.dumps(old) + "\n").encode()))
    backend = DuckDBBackend(tmp_path)
    (row,) = backend.run(bind(get_query("with_root_credentials"), {}, table=backend.table)).rows
    assert row["credentials"] == "password" and row["exempt"] is None


def test_sql_errors_are_query_errors_with_the_engine_message(engine):
    with pytest.raises(QueryError, match=r'SQL error \(DuckDB\): .*"no_such_column"'):
        engine.run("SELECT no_such_column FROM results")


def test_missing_results_folder_is_named(tmp_path):
    with pytest.raises(QueryError, match="no such folder"):
        DuckDBBackend(tmp_path / "nope")


def test_daily_trend_matches_a_python_count_of_generated_history(tmp_path):
    writer = generate_history(tmp_path, days=20, accounts=40, seed=3)
    expected: dict[str, Counter] = {}
    for path in (tmp_path / "results").rglob("*.json.gz"):
        for record in decode_records(path.read_bytes()):
            counts = expected.setdefault(path.parent.name[3:], Counter())
            counts["accounts"] += 1
            if record.status == "OK":
                counts["audited"] += 1
                for kind in record.present_kinds():
                    counts[kind] += 1
    backend = DuckDBBackend(tmp_path)
    rows = backend.run(bind(get_query("daily_trend"), {"days": "20"}, table=backend.table)).rows
    assert writer.files == 20 and len(rows) == 20
    for row in rows:
        counts = expected[row["dt"]]
        for column in ("accounts", "audited", "password", "access_keys", "signing_certificates", "mfa"):
            assert row[column] == counts[column], (row["dt"], column)


def test_history_objects_are_byte_identical_to_what_the_pipeline_writes(tmp_path):
    from rootwatch.aws.results_writer import encode_records
    from rootwatch_cli.analytics.history import encode_run

    writer = HistoryWriter(
        tmp_path,
        exemptions=parse_exemptions(
            [{"account_id": B, "credentials": ["mfa"], "reason": "r", "expires": "2099-01-01"}]
        ),
    )
    writer.run(day(-1), [Audit(A), Audit(B, kinds=frozenset({"mfa"}))])
    records = writer.run(
        day(0),
        [
            Audit(A, kinds=frozenset({"password"})),
            Audit(B, kinds=frozenset({"mfa"})),
            Audit(C, status=AuditStatus.ERROR, error_code="THROTTLED", error_message="slow"),
        ],
    )
    assert encode_run(records) == encode_records(records)
    assert records[1].exempt is True and records[0].appeared == ["password"]


def test_materialized_and_file_backed_engines_give_the_same_answers(engine):
    in_memory = DuckDBBackend(engine.folder.parent, materialize=True)
    single_read = {"reappearances", "audit_errors", "daily_trend", "account_history"}
    for query in load_queries().values():
        values = {"account_id": A} if query.param("account_id") else {}
        sql = bind(query, values, table=engine.table)
        files_only = DuckDBBackend(engine.folder.parent)
        assert in_memory.run(sql).rows == files_only.run(sql).rows, query.name
        # Single-read queries keep partition pruning; the others load the records once.
        assert files_only.materialized is (query.name not in single_read), query.name
