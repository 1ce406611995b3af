"""Render rows of records for people and for tools: table, json, jsonl, csv, tsv (and ocsf for scan and query).

Used by every verb that prints records (``rootwatch scan``, ``rootwatch query``, ...):

    with open_output(args.output) as stream:
        render(rows, args.format, stream, columns=SCAN_COLUMNS)

Machine formats carry every key of the rows (or ``columns`` when given), typed as JSON
(``json``/``jsonl``) or as text (``csv``/``tsv``: booleans ``true``/``false``, null empty, lists joined
with ``;``). ``table`` is for a terminal: rich, readable widths, ``-`` for null, ``yes``/``no``.

Values are data, never instructions (account names are set by any member account's admin):

- ``table``: every cell, header and the title is plain text, never rich markup (``[link=...]`` shows as
  typed), and loses its terminal control characters (``rootwatch.domain.plaintext.plain_text``).
- ``csv``/``tsv``: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets
  a leading ``'`` (OWASP's defence against CSV formula injection), so a spreadsheet shows it instead of
  running it. Numbers and booleans are never prefixed; a name like ``-dev`` reads ``'-dev``.
- ``json``/``jsonl``: faithful; JSON escapes control characters itself (``\\u001b``).

``ocsf`` (only on the verbs that offer it: ``add_format_args(..., ocsf=True)``): the caller turns its records
into OCSF events first (``rootwatch_cli.ocsf.to_events``); ``render`` writes them as JSON lines.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

from rootwatch.domain.plaintext import plain_text

FORMATS: tuple[str, ...] = ("table", "json", "jsonl", "csv", "tsv")
#: OCSF Compliance Findings as JSON lines: ``scan`` and ``query`` only (rootwatch_cli.ocsf).
OCSF = "ocsf"
#: --output names that pick ocsf on a verb that offers it (before FORMAT_BY_EXTENSION is read).
OCSF_SUFFIXES = (".ocsf.jsonl", ".ocsf")
LIST_SEPARATOR = ";"
#: A table never gets narrower than this when written to a file or pipe (rich would assume 80).
MIN_FILE_TABLE_WIDTH = 80
MAX_FILE_TABLE_WIDTH = 400
#: Table columns that never wrap (a 12-digit account id split over two lines cannot be copied).
NO_WRAP_COLUMNS = {"account_id": 12, "target_account_id": 12}
#: A kept table column may fold down to this width (cell padding and border included) before droppable
#: columns are left out.
FOLD_WIDTH = 20
#: A csv/tsv text cell starting with one of these is run as a formula by spreadsheets (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

Row = Mapping[str, Any]


#: --output's extension -> the format used when --format is not given (any other extension: a plain table).
FORMAT_BY_EXTENSION = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}


def add_format_args(parser: Any, *, default: str = "table", ocsf: bool = False) -> None:
    """--format (one of FORMATS, and ``ocsf`` when ``ocsf``) and --output FILE (default stdout) on a parser.

    Call :func:`output_args` before doing any work: it checks --output and fills in --format.
    """
    extensions = ".json .jsonl .csv .tsv" + (" .ocsf.jsonl .ocsf" if ocsf else "")
    parser.add_argument(
        "--format",
        choices=(*FORMATS, OCSF) if ocsf else FORMATS,
        default=None,
        help=f"output format (default: from --output's extension {extensions}, else {default}); csv/tsv "
        "text cells starting with = + - @ tab or CR get a leading ' so spreadsheets do not run them as formulas"
        + (f"; ocsf: {_ocsf_help()}" if ocsf else ""),
    )
    parser.add_argument(
        "--output",
        metavar="FILE",
        default=None,
        help="write to FILE instead of stdout (its folder must exist); prints a `wrote FILE` line on stderr",
    )
    parser.set_defaults(default_format=default, ocsf_allowed=ocsf)


def _ocsf_help() -> str:
    from rootwatch_cli.ocsf import CLASS_UID, OCSF_VERSION

    return f"OCSF {OCSF_VERSION} Compliance Findings (class_uid {CLASS_UID}), one a line (Security Lake custom source)"


def output_args(args: Any) -> None:
    """Check --output before any work (UsageError when it cannot be written) and settle ``args.format``."""
    check_output_path(args.output)
    if args.format is None:
        name = (args.output or "").lower()
        extension = os.path.splitext(name)[1]
        if getattr(args, "ocsf_allowed", False) and name.endswith(OCSF_SUFFIXES):
            args.format = OCSF
        else:
            args.format = FORMAT_BY_EXTENSION.get(extension, getattr(args, "default_format", "table"))


def check_output_path(path: str | None) -> None:
    """Fail before the work, not after, when --output cannot be written (a missing folder is not created)."""
    if path in (None, "-"):
        return
    from rootwatch_cli import UsageError

    assert path is not None
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path) or not os.path.isdir(directory) or not os.access(directory, os.W_OK):
        reason = "no such folder" if not os.path.isdir(directory) else "not a writable file path"
        raise UsageError(f"--output: cannot write {path!r} ({reason})")


def wrote_line(path: str | None, count: int, fmt: str, what: str = "row") -> None:
    """``wrote FILE: N rows (FORMAT)`` on stderr, when the output went to a file."""
    if path in (None, "-"):
        return
    note(f"wrote {path}: {count} {what}{'' if count == 1 else 's'} ({fmt})")


@contextmanager
def open_output(path: str | None) -> Iterator[TextIO]:
    """A text stream for ``path``: stdout for None or ``-``. CSV-safe newlines, UTF-8."""
    if path in (None, "-"):
        yield sys.stdout
        sys.stdout.flush()
        return
    with open(path, "w", encoding="utf-8", newline="") as stream:
        yield stream


def render(
    rows: Sequence[Row],
    fmt: str,
    stream: TextIO,
    *,
    columns: Sequence[str] | None = None,
    headers: Mapping[str, str] | None = None,
    title: str | None = None,
    drop_order: Sequence[str] = (),
) -> None:
    """Write ``rows`` to ``stream`` in ``fmt`` (one of FORMATS or ``ocsf``; ValueError otherwise).

    ``columns`` picks and orders the keys (default: the keys of the rows, in first-seen order).
    ``headers`` renames columns in the table only; ``title`` is shown above the table only.
    ``drop_order``: table columns to leave out, first to last, while the table is wider than the console
    (a caption names them); the other columns then fold, except the ids (NO_WRAP_COLUMNS), which never wrap.
    ``ocsf``: ``rows`` are OCSF events already (rootwatch_cli.ocsf.to_events), written whole, one a line.
    """
    if fmt == OCSF:
        for event in rows:
            stream.write(json.dumps(event, default=_json_default, separators=(",", ":")) + "\n")
        return
    if fmt not in FORMATS:
        raise ValueError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    keys = list(columns) if columns is not None else column_names(rows)
    if fmt == "json":
        json.dump([_pick(row, keys) for row in rows], stream, indent=2, default=_json_default)
        stream.write("\n")
    elif fmt == "jsonl":
        for row in rows:
            stream.write(json.dumps(_pick(row, keys), default=_json_default, separators=(",", ":")) + "\n")
    elif fmt in ("csv", "tsv"):
        _render_delimited(rows, keys, stream, delimiter="," if fmt == "csv" else "\t")
    else:
        _render_table(rows, keys, stream, headers or {}, title, drop_order)


def column_names(rows: Sequence[Row]) -> list[str]:
    """The keys of ``rows`` in first-seen order."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def text_value(value: Any) -> str:
    """A cell for csv/tsv: ``true``/``false``, empty for null, lists joined with ``;``, ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        return LIST_SEPARATOR.join(text_value(v) for v in value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return json.dumps(value, default=_json_default, separators=(",", ":"))
    return str(value)


def spreadsheet_safe(value: Any) -> str:
    """``text_value`` for a csv/tsv cell, with a leading ``'`` when a spreadsheet would run it as a formula.

    Only text is prefixed: numbers (never negative here) and booleans are written as they are.
    """
    text = text_value(value)
    if isinstance(value, bool | int | float | Decimal) or not text.startswith(FORMULA_TRIGGERS):
        return text
    return "'" + text


def table_value(value: Any) -> str:
    """A cell for the table: ``-`` for null/empty, ``yes``/``no``, lists joined with ``, ``."""
    if value is None or value == [] or value == ():
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(table_value(v) for v in value)
    return text_value(value)


def _pick(row: Row, keys: Sequence[str]) -> dict[str, Any]:
    return {key: row.get(key) for key in keys}


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):  # DynamoDB numbers
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    return str(value)


def _render_delimited(rows: Sequence[Row], keys: Sequence[str], stream: TextIO, *, delimiter: str) -> None:
    if delimiter == "\t":
        # TSV has no quoting: tabs and newlines inside a value become spaces so each row stays one line.
        stream.write("\t".join(keys) + "\n")
        for row in rows:
            cells = (
                spreadsheet_safe(row.get(key)).replace("\t", " ").replace("\r", " ").replace("\n", " ") for key in keys
            )
            stream.write("\t".join(cells) + "\n")
        return
    writer = csv.writer(stream, delimiter=delimiter, lineterminator="\n")
    # The csv module quotes "\n" (our line terminator) but not a bare "\r", which readers take as a line
    # break: a row holding one is written fully quoted, so "\r=cmd" cannot start a cell of its own.
    quoted = csv.writer(stream, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(keys)
    for row in rows:
        line = [spreadsheet_safe(row.get(key)) for key in keys]
        (quoted if any("\r" in cell for cell in line) else writer).writerow(line)


def _render_table(
    rows: Sequence[Row],
    keys: Sequence[str],
    stream: TextIO,
    headers: Mapping[str, str],
    title: str | None,
    drop_order: Sequence[str] = (),
) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    cells = {key: [plain_text(table_value(row.get(key))) for row in rows] for key in keys}
    natural = {key: max([len(headers.get(key, key))] + [len(cell) for cell in cells[key]]) + 3 for key in keys}
    is_terminal = hasattr(stream, "isatty") and stream.isatty()
    if is_terminal:
        console = Console(file=stream)  # the terminal's width ($COLUMNS when set)
    else:
        # A file or a pipe: $COLUMNS when set, else wide enough that no column wraps (rich would assume 80).
        columns_env = os.environ.get("COLUMNS", "")
        if columns_env.isdigit() and int(columns_env) > 0:
            width = int(columns_env)
        else:
            width = min(max(sum(natural.values()) + 1, MIN_FILE_TABLE_WIDTH), MAX_FILE_TABLE_WIDTH)
        console = Console(file=stream, width=width, color_system=None, force_terminal=False, no_color=True)
    if not rows:
        console.print("(no rows)", markup=False)
        return
    # The columns that are kept fold down to FOLD_WIDTH before any droppable column is left out.
    needed = {
        key: natural[key] if key in drop_order or key in NO_WRAP_COLUMNS else min(natural[key], FOLD_WIDTH)
        for key in keys
    }
    shown, hidden = list(keys), []
    for key in drop_order:
        if sum(needed[k] for k in shown) + 1 <= console.width:
            break
        if key in shown:
            shown.remove(key)
            hidden.append(headers.get(key, key))
    caption = (
        f"not shown at this width: {', '.join(hidden)} (widen the terminal or use --format csv)" if hidden else None
    )
    # Text, not str: rich would parse a str as markup ("[/bold]" raises, "[link=...]" hides a link).
    table = Table(
        title=Text(plain_text(title)) if title else None,
        caption=Text(plain_text(caption)) if caption else None,
        header_style="bold",
        show_lines=False,
    )
    for key in shown:
        if key in NO_WRAP_COLUMNS:
            table.add_column(
                Text(plain_text(headers.get(key, key))), no_wrap=True, min_width=NO_WRAP_COLUMNS[key], overflow="ignore"
            )
        else:
            table.add_column(Text(plain_text(headers.get(key, key))), overflow="fold")
    for i in range(len(rows)):
        table.add_row(*(Text(cells[key][i]) for key in shown))
    console.print(table, soft_wrap=False)


#: Set by --quiet (rootwatch_cli.common.apply_verbosity): no progress, no banners, only results and errors.
QUIET = False


def stderr_is_terminal() -> bool:
    """True when progress may be shown: stderr is an interactive terminal and --quiet was not given."""
    return not QUIET and sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


def note(message: str, *, file: TextIO | None = None) -> None:
    """A banner or a side remark (not a result): printed unless --quiet (default stream: stderr)."""
    if not QUIET:
        print(message, file=file or sys.stderr)


def as_text(rows: Sequence[Row], fmt: str, **kwargs: Any) -> str:
    """``render`` into a string (tests, the demo)."""
    buffer = io.StringIO()
    render(rows, fmt, buffer, **kwargs)
    return buffer.getvalue()
