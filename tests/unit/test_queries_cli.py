"""`rootwatch query`: output, and one clear line with exit 2 for every kind of bad input."""

from __future__ import annotations

import json

import pytest
from rootwatch_cli import main
from rootwatch_cli.analytics.history import generate_history


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    generate_history(root, days=10, accounts=25, seed=5)
    return str(root)


def test_named_query_prints_json_rows(results, capsys):
    assert main(["query", "never_audited", "--results", results, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2
    assert {row["last_error_code"] for row in rows} == {"ACCESS_DENIED"}


def test_named_query_with_parameter_prints_csv(results, capsys):
    assert main(["query", "daily_trend", "--param", "days=3", "--results", results, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("dt,accounts,audited,errors,skipped,with_root_credentials,password")
    assert len(lines) == 4


def test_ad_hoc_sql_runs_against_the_results_view(results, capsys):
    sql = "SELECT count(DISTINCT dt) AS days FROM {{table}}"
    assert main(["query", sql, "--results", results, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"days": 10}]


def test_table_format_is_the_default(results, capsys):
    assert main(["query", "never_audited", "--results", results]) == 0
    out = capsys.readouterr().out
    assert "account_id" in out and "ACCESS_DENIED" in out


def test_list_shows_every_query_and_its_parameters(capsys):
    assert main(["query", "--list"]) == 0
    out = capsys.readouterr().out
    assert "reappearances" in out and "--param days: integer (1..3650), default 30" in out


def test_print_sql_shows_the_bound_trino_sql(capsys):
    assert main(["query", "account_history", "--param", "account_id=111122223333", "--print-sql"]) == 0
    out = capsys.readouterr().out
    assert "WHERE account_id = '111122223333'" in out and "FROM results" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["query", "latest_sate"], "error: no query named 'latest_sate'; available: account_history, audit_errors"),
        (["query", "reappearances", "--param", "days=abc"], "error: --param days: 'abc' is not an integer"),
        (["query", "reappearances", "--param", "weeks=2"], "error: --param weeks: query 'reappearances' has no such"),
        (["query", "reappearances", "--param", "days"], "error: --param 'days': expected NAME=VALUE"),
        (["query", "account_history"], "error: --param account_id: required by query 'account_history'"),
        (["query", "SELECT nope FROM results"], "error: SQL error (DuckDB): Binder Error"),
        (["query", "SELECT * FROM results WHERE"], "error: SQL does not parse as Trino/Athena SQL"),
        (["query", "SELECT 1", "--param", "days=1"], "error: --param: only named queries take parameters"),
        (["query", "latest_state", "--workgroup", "w"], "error: --workgroup: only with --athena"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(results, capsys, argv, message):
    if "--workgroup" not in argv:
        argv = [*argv, "--results", results]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message), err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_no_source_says_which_flags_choose_one(capsys):
    assert main(["query", "latest_state"]) == 2
    assert "choose where the results are: --results DIR, --bucket B" in capsys.readouterr().err


def test_two_sources_are_rejected(results, capsys):
    assert main(["query", "latest_state", "--results", results, "--athena"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_missing_results_folder_is_named(tmp_path, capsys):
    assert main(["query", "latest_state", "--results", str(tmp_path / "missing")]) == 2
    assert "no such folder" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_credential_kinds_are_arrays_in_json_as_in_scan(results, capsys, fmt):
    assert main(["query", "with_root_credentials", "--results", results, "--format", fmt]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out) if fmt == "json" else [json.loads(line) for line in out.splitlines()]
    assert rows and all(isinstance(row["credentials"], list) and row["credentials"] for row in rows)
    assert main(["query", "account_history", "--param", f"account_id={rows[0]['account_id']}", "--results", results,
                 "--format", fmt]) == 0  # fmt: skip
    out = capsys.readouterr().out
    history = json.loads(out) if fmt == "json" else [json.loads(line) for line in out.splitlines()]
    assert all(isinstance(row[key], list) for row in history for key in ("credentials", "appeared", "disappeared"))


def test_output_into_a_missing_folder_is_refused_before_the_query(results, tmp_path, capsys):
    target = tmp_path / "missing" / "rows.json"
    assert main(["query", "never_audited", "--results", results, "--output", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --output: cannot write") and "no such folder" in err
    assert not target.parent.exists()


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("rows.json", lambda text: isinstance(json.loads(text), list)),
        ("rows.jsonl", lambda text: all(json.loads(line) for line in text.splitlines())),
        ("rows.csv", lambda text: text.startswith("account_id,")),
        ("rows.tsv", lambda text: text.startswith("account_id\t")),
        ("rows.txt", lambda text: "account_id" in text and not text.lstrip().startswith(("[", "{"))),
    ],
)
def test_output_format_follows_the_extension_and_says_what_it_wrote(results, tmp_path, capsys, name, check):
    target = tmp_path / name
    assert main(["query", "never_audited", "--results", results, "--output", str(target)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and check(target.read_text())
    assert err.startswith(f"wrote {target}: 2 rows (")
