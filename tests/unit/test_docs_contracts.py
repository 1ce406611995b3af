"""docs/contracts.md stays true: its record table and alert key table match the code they document."""

from __future__ import annotations

import re
from pathlib import Path

from rootwatch.domain.alert import EVENT_TYPE, SCHEMA, compose_alert
from rootwatch.domain.records import RECORD_FIELDS, AuditRecord

CONTRACTS = Path(__file__).resolve().parents[2] / "docs" / "contracts.md"


def _section(markdown: str, heading: str) -> str:
    """The text under ``heading`` (a level-2 or level-3 heading), up to the next heading of level 2."""
    match = re.search(rf"^##+ {re.escape(heading)}\s*$", markdown, flags=re.MULTILINE)
    assert match, f"docs/contracts.md has no heading {heading!r}"
    rest = markdown[match.end() :]
    end = re.search(r"^## ", rest, flags=re.MULTILINE)
    return rest[: end.start()] if end else rest


def _tables(section: str) -> list[list[list[str]]]:
    """Every markdown table in ``section``: a list of rows (header and separator rows dropped) of cells."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for line in section.splitlines():
        if line.startswith("|"):
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if current is None:
                current = []  # the header row
                tables.append(current)
            elif not all(re.fullmatch(r":?-+:?", cell) for cell in cells):
                current.append(cells)
        else:
            current = None
    return tables


def _unquote(cell: str) -> str:
    return cell.strip("`")


def _table_with_header(section: str, first_column: str) -> list[list[str]]:
    for line_table, header in zip(_tables(section), _headers(section), strict=True):
        if header == first_column:
            return line_table
    raise AssertionError(f"no table whose first column is {first_column!r}")


def _headers(section: str) -> list[str]:
    headers, in_table = [], False
    for line in section.splitlines():
        if line.startswith("|") and not in_table:
            headers.append(line.strip("|").split("|")[0].strip())
        in_table = line.startswith("|")
    return headers


def _doc() -> str:
    return CONTRACTS.read_text(encoding="utf-8")


def test_record_table_lists_every_record_field_in_order_with_its_type_and_meaning() -> None:
    rows = _table_with_header(_section(_doc(), "Records"), "field")
    documented = [(_unquote(name), _unquote(type_), meaning) for name, type_, meaning in rows]
    expected = [(f.name, f.athena_type, f.description) for f in RECORD_FIELDS]
    assert documented == expected, "docs/contracts.md 'Records' disagrees with RECORD_FIELDS"


def test_alert_key_table_lists_exactly_the_documents_top_level_keys_in_order() -> None:
    record = AuditRecord(
        run_id="run-1",
        scanned_at="2026-11-22T02:00:00Z",
        account_id="111122223333",
        account_name="payments-prod",
        first_audit=True,
        password_present=True,
        access_keys_present=False,
        signing_certificates_present=False,
        mfa_enabled=False,
        root_credentials_present=True,
    )
    alert = compose_alert([record], run_id="run-1", organization_id="o-abc123defg", scanned_at=record.scanned_at)
    assert alert is not None
    rows = _table_with_header(_section(_doc(), "The alert"), "key")
    assert [_unquote(row[0]) for row in rows] == list(alert.document), "alert keys drifted from docs/contracts.md"


def test_alert_section_names_the_schema_and_the_message_attribute() -> None:
    section = _section(_doc(), "The alert")
    assert f"`{SCHEMA}`" in section
    attribute_rows = _table_with_header(section, "attribute")
    assert [[_unquote(cell) for cell in row] for row in attribute_rows] == [["event_type", "String", EVENT_TYPE]]


def test_table_parser_skips_separators_and_keeps_escaped_pipes() -> None:
    section = "| a | b |\n|---|---|\n| `x\\|y` | z |\n\ntext\n| c |\n|:-:|\n| 1 |\n"
    assert _tables(section) == [[["`x\\|y`", "z"]], [["1"]]]
    assert _headers(section) == ["a", "c"]
