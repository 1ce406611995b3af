"""rootwatch_cli.output: the same rows in every format, readable and parseable."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from rootwatch_cli.output import FORMATS, as_text, open_output, render

ROWS = [
    {"account_id": "111111111111", "account_name": "Prod, EU", "status": "OK", "mfa_enabled": True, "mfa_devices": 2,
     "appeared": ["password", "mfa"], "error_message": None},
    {"account_id": "222222222222", "account_name": "Sandbox\tteam", "status": "ERROR", "mfa_enabled": None,
     "mfa_devices": None, "appeared": [], "error_message": "User: arn:aws:iam::222222222222:root is not authorized"},
]  # fmt: skip


def test_json_is_a_list_of_typed_objects() -> None:
    assert json.loads(as_text(ROWS, "json")) == ROWS


def test_jsonl_has_one_typed_object_per_line() -> None:
    lines = as_text(ROWS, "jsonl").splitlines()
    assert [json.loads(line) for line in lines] == ROWS


def test_csv_quotes_commas_and_writes_booleans_nulls_and_lists_as_text() -> None:
    parsed = list(csv.DictReader(io.StringIO(as_text(ROWS, "csv"))))
    assert parsed[0]["account_name"] == "Prod, EU"
    assert parsed[0]["mfa_enabled"] == "true"
    assert parsed[0]["appeared"] == "password;mfa"
    assert parsed[1]["mfa_enabled"] == ""
    assert parsed[1]["error_message"].startswith("User: arn:aws:iam::222222222222:root")


def test_tsv_keeps_one_line_per_row_even_with_tabs_in_values() -> None:
    lines = as_text(ROWS, "tsv").splitlines()
    assert len(lines) == 3
    header = lines[0].split("\t")
    second = dict(zip(header, lines[2].split("\t"), strict=True))
    assert second["account_name"] == "Sandbox team"
    assert second["status"] == "ERROR"


def test_columns_pick_and_order_the_fields() -> None:
    parsed = list(csv.reader(io.StringIO(as_text(ROWS, "csv", columns=["status", "account_id"]))))
    assert parsed == [["status", "account_id"], ["OK", "111111111111"], ["ERROR", "222222222222"]]


def test_missing_column_is_null_in_json() -> None:
    assert json.loads(as_text(ROWS[:1], "json", columns=["account_id", "nope"])) == [
        {"account_id": "111111111111", "nope": None}
    ]


def test_table_written_to_a_file_does_not_wrap_long_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    text = as_text(ROWS, "table", headers={"account_id": "Account"}, title="scan")
    assert "Account" in text
    assert "User: arn:aws:iam::222222222222:root is not authorized" in text
    assert "111111111111" in text and "yes" in text and "password, mfa" in text
    assert "\x1b[" not in text  # no colour codes in a file


def test_table_of_no_rows_says_so() -> None:
    assert "(no rows)" in as_text([], "table", columns=["account_id"])


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("json", "[]\n"), ("jsonl", ""), ("csv", "account_id\n"), ("tsv", "account_id\n")],
)
def test_empty_rows_render_as_an_empty_document_that_still_parses(fmt: str, expected: str) -> None:
    """No rows: an empty JSON list, no JSON lines, and csv/tsv still carry the header a tool reads columns from."""
    text = as_text([], fmt, columns=["account_id"])
    assert text == expected
    if fmt == "json":
        assert json.loads(text) == []
    elif fmt in ("csv", "tsv"):
        assert list(csv.reader(io.StringIO(text), delimiter="," if fmt == "csv" else "\t")) == [["account_id"]]


def test_unknown_format_is_rejected_by_name() -> None:
    with pytest.raises(ValueError, match="xml"):
        render(ROWS, "xml", io.StringIO())


def test_open_output_writes_a_file(tmp_path) -> None:
    target = tmp_path / "out.csv"
    with open_output(str(target)) as stream:
        render(ROWS, "csv", stream, columns=["account_id"])
    assert target.read_text().splitlines() == ["account_id", "111111111111", "222222222222"]


def test_every_format_is_listed() -> None:
    assert FORMATS == ("table", "json", "jsonl", "csv", "tsv")


def test_dynamodb_decimals_become_json_numbers() -> None:
    from decimal import Decimal

    assert json.loads(as_text([{"n": Decimal("3"), "f": Decimal("1.5")}], "json")) == [{"n": 3, "f": 1.5}]


# --- hostile account names (any member account admin can rename their account) ---------------------


class _Terminal(io.StringIO):
    """A stream that says it is a terminal, so rich renders colours and hyperlinks."""

    def isatty(self) -> bool:
        return True


def _table_on_a_terminal(rows: list[dict[str, object]]) -> str:
    stream = _Terminal()
    render(rows, "table", stream)
    return stream.getvalue()


@pytest.mark.parametrize("to_text", [lambda rows: as_text(rows, "table"), _table_on_a_terminal])
def test_table_shows_a_name_with_markup_literally_instead_of_crashing(to_text) -> None:
    text = to_text([{"account_name": "prod [/bold]"}])

    assert "prod [/bold]" in text


def test_table_shows_a_link_markup_name_literally_and_emits_no_hyperlink() -> None:
    name = "[link=https://evil.example]click[/link]"

    for text in (as_text([{"account_name": name}], "table"), _table_on_a_terminal([{"account_name": name}])):
        assert name in text
        assert "\x1b]8;" not in text


def test_table_strips_terminal_control_characters_from_values() -> None:
    name = "a\x1b[31mred\x9b2J\x07\x08\rname"

    for text in (as_text([{"account_name": name}], "table"), _table_on_a_terminal([{"account_name": name}])):
        assert "\x1b[31m" not in text and "\x9b" not in text and "\x07" not in text and "\r" not in text
        assert "red" in text and "name" in text


def test_table_title_and_headers_are_plain_text_too() -> None:
    text = as_text([{"account_name": "x"}], "table", headers={"account_name": "Name [/i]"}, title="scan [/b]")

    assert "Name [/i]" in text and "scan [/b]" in text


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_keeps_hostile_names_faithfully_and_escapes_control_characters(fmt: str) -> None:
    name = "prod [/bold]\x1b[2J\x9b\x07"

    text = as_text([{"account_name": name}], fmt)

    assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text
    assert json.loads(text)[0]["account_name"] == name if fmt == "json" else json.loads(text)["account_name"] == name


FORMULAS = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("cell", FORMULAS)
def test_csv_neutralises_a_cell_that_a_spreadsheet_would_run_as_a_formula(cell: str) -> None:
    parsed = list(csv.DictReader(io.StringIO(as_text([{"account_name": cell, "mfa_devices": 2}], "csv"))))

    assert parsed[0]["account_name"] == "'" + cell
    assert parsed[0]["mfa_devices"] == "2"


@pytest.mark.parametrize("cell", FORMULAS)
def test_tsv_neutralises_a_cell_that_a_spreadsheet_would_run_as_a_formula(cell: str) -> None:
    header, line = as_text([{"account_name": cell, "status": "OK"}], "tsv").splitlines()

    assert header == "account_name\tstatus"
    name, status = line.split("\t")
    assert name.startswith("'") and name[1:] == cell.replace("\t", " ").replace("\r", " ")
    assert status == "OK"


def test_csv_leaves_numbers_booleans_and_harmless_text_alone() -> None:
    rows = [{"n": -1, "flag": False, "name": "Prod-EU", "empty": None, "kinds": ["password"]}]

    parsed = list(csv.DictReader(io.StringIO(as_text(rows, "csv"))))

    assert parsed == [{"n": "-1", "flag": "false", "name": "Prod-EU", "empty": "", "kinds": "password"}]


def test_demo_state_table_shows_a_hostile_name_literally(capsys: pytest.CaptureFixture[str]) -> None:
    from rootwatch_cli.commands.demo import _Out, _state_table

    class Store:
        def latest_states(self) -> list[dict[str, object]]:
            return [
                {"account_id": "111111111111", "account_name": "prod [/bold]\x1b[2J", "last_status": "OK",
                 "known_kinds": ["password"], "last_success_run_id": "run-1"}
            ]  # fmt: skip

    _state_table(Store(), _Out())

    out = capsys.readouterr().out
    assert "prod [/bold][2J" in out and "\x1b[2J" not in out


def _scan_rows(count: int = 3) -> list[dict[str, object]]:
    return [
        {
            "account_id": f"{i}" * 12,
            "account_name": f"workload-{i}-production-eu-west-1-payments",
            "status": "OK",
            "credentials": ["password", "access_keys", "mfa"],
            "access_keys": "1 active, 1 inactive",
            "mfa_devices": 1,
            "certificates": 0,
            "password_last_used": "2026-11-20T10:11:12Z",
            "access_key_last_used": "2026-11-21T10:11:12Z",
            "reason": None,
        }
        for i in range(1, count + 1)
    ]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("columns", [60, 80, 100, 120])
@pytest.mark.parametrize("terminal", [True, False])
def test_account_ids_never_wrap_and_the_table_fits_the_width(
    monkeypatch: pytest.MonkeyPatch, columns: int, terminal: bool
) -> None:
    from rootwatch_cli.commands.scan import TABLE_COLUMNS, TABLE_DROP_ORDER, TABLE_HEADERS

    monkeypatch.setenv("COLUMNS", str(columns))
    stream = _Terminal() if terminal else io.StringIO()
    render(_scan_rows(), "table", stream, columns=TABLE_COLUMNS, headers=TABLE_HEADERS, drop_order=TABLE_DROP_ORDER)
    text = re.sub(r"\x1b\[[0-9;]*m", "", stream.getvalue())  # a terminal gets colours
    for i in range(1, 4):
        assert f"{i}" * 12 in text  # whole, on one line
    assert max(len(line) for line in text.splitlines()) <= columns


def test_a_narrow_table_drops_the_least_important_columns_first_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from rootwatch_cli.commands.scan import TABLE_COLUMNS, TABLE_DROP_ORDER, TABLE_HEADERS

    monkeypatch.setenv("COLUMNS", "120")
    text = as_text(_scan_rows(), "table", columns=TABLE_COLUMNS, headers=TABLE_HEADERS, drop_order=TABLE_DROP_ORDER)
    assert "Key used" not in text.splitlines()[1] + text.splitlines()[2]
    assert "not shown at this width: OU, Key used" in " ".join(text.split())
    assert "Account" in text and "Status" in text and "Root credentials" in text
    monkeypatch.setenv("COLUMNS", "400")
    wide = as_text(_scan_rows(), "table", columns=TABLE_COLUMNS, headers=TABLE_HEADERS, drop_order=TABLE_DROP_ORDER)
    assert "Key used" in wide and "not shown" not in wide


def test_a_piped_table_without_columns_is_as_wide_as_its_content(monkeypatch: pytest.MonkeyPatch) -> None:
    from rootwatch_cli.commands.scan import TABLE_COLUMNS, TABLE_DROP_ORDER, TABLE_HEADERS

    monkeypatch.delenv("COLUMNS", raising=False)
    text = as_text(_scan_rows(), "table", columns=TABLE_COLUMNS, headers=TABLE_HEADERS, drop_order=TABLE_DROP_ORDER)
    assert "not shown" not in text and "workload-1-production-eu-west-1-payments" in text
