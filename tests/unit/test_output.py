"""rootwatch.cli.output: the same rows in every format, readable and parseable."""

from __future__ import annotations

import csv
import io
import json

import pytest
from rootwatch.cli.output import FORMATS, as_text, open_output, render

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


def test_table_written_to_a_file_does_not_wrap_long_values() -> None:
    text = as_text(ROWS, "table", headers={"account_id": "Account"}, title="scan")
    assert "Account" in text
    assert "User: arn:aws:iam::222222222222:root is not authorized" in text
    assert "111111111111" in text and "yes" in text and "password, mfa" in text
    assert "\x1b[" not in text  # no colour codes in a file


def test_table_of_no_rows_says_so() -> None:
    assert "(no rows)" in as_text([], "table", columns=["account_id"])


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "tsv"])
def test_empty_rows_render_without_error(fmt: str) -> None:
    as_text([], fmt, columns=["account_id"])


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
