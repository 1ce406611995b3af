"""DuckDB over a local copy of the results: the same Trino SQL as Athena, translated by sqlglot.

The folder holds what the bucket holds under ``results/``: ``dt=YYYY-MM-DD/<run_id>.json.gz`` (gzip JSON
Lines). A view named ``results`` reads it with ``read_json(..., hive_partitioning=true)``, ``dt`` as
VARCHAR (as in Athena's partition projection), and every record column typed explicitly from
``RECORD_FIELDS``: objects written before a field existed read it as null, and an empty folder is an
empty table with the right columns rather than an error.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlglot
import sqlglot.errors
from rootwatch.domain.records import RECORD_FIELDS

from rootwatch_cli.analytics.catalog import QueryError

VIEW = "results"
_FILES_VIEW = "results_files"
_MEMORY_TABLE = "results_in_memory"
_GLUE_TO_DUCKDB = {
    "string": "VARCHAR",
    "boolean": "BOOLEAN",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "array<string>": "VARCHAR[]",
}


@dataclass
class QueryResult:
    """Rows of a query, as dicts in column order (values are plain Python: str, int, bool, list, None)."""

    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    #: Engine facts worth showing (e.g. Athena's query id and bytes scanned).
    stats: dict[str, Any] = field(default_factory=dict)


def duckdb_columns() -> dict[str, str]:
    """``{column: DuckDB type}`` for every record field, from the single record contract."""
    return {spec.name: _GLUE_TO_DUCKDB[spec.athena_type] for spec in RECORD_FIELDS}


def to_duckdb(sql: str) -> str:
    """Translate Trino SQL to DuckDB SQL; QueryError with the parser's message if it is not valid Trino."""
    try:
        statements = sqlglot.transpile(sql, read="trino", write="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise QueryError(f"SQL does not parse as Trino/Athena SQL: {_first_error(exc)}") from None
    if len(statements) != 1:
        raise QueryError(f"give exactly one SQL statement (got {len(statements)})")
    return statements[0]


def results_folder(path: str | os.PathLike[str]) -> Path:
    """The folder with the ``dt=`` partitions: ``path`` itself, or ``path/results`` (a bucket-shaped copy)."""
    root = Path(path)
    if not root.is_dir():
        raise QueryError(f"--results {path}: no such folder")
    if not any(root.glob("dt=*")) and (root / "results").is_dir():
        return root / "results"
    return root


class DuckDBBackend:
    """Runs Trino SQL against a local results folder through DuckDB (in memory, UTC).

    A query that reads the results once goes straight to the files, so a ``dt`` filter prunes whole
    partitions (a 7-day query on a year reads 7 objects). The first query that reads them more than
    once (a self-join, several CTEs), or every query when ``materialize=True`` (the report), loads the
    records into an in-memory table once instead of parsing every gzip file again for each reference.
    """

    table = VIEW
    #: Where the records came from, in words (the report's footer); set by whoever opened the folder.
    source = ""

    def __init__(self, results_dir: str | os.PathLike[str], *, materialize: bool = False) -> None:
        import duckdb

        self.folder = results_folder(results_dir)
        self._connection = duckdb.connect(database=":memory:")
        # Athena's current_date is UTC; DuckDB's follows the local zone unless told.
        self._connection.execute("SET TimeZone = 'UTC'")
        self._connection.execute(self._files_view_sql())
        self._connection.execute(f"CREATE VIEW {VIEW} AS SELECT * FROM {_FILES_VIEW}")  # noqa: S608 (constants)
        self.materialized = False
        if materialize:
            self.materialize()

    def materialize(self) -> None:
        """Load every record into memory once; later queries read that table instead of the files."""
        if not self.materialized:
            # Names are module constants, nothing from outside.
            self._connection.execute(f"CREATE TABLE {_MEMORY_TABLE} AS SELECT * FROM {_FILES_VIEW}")  # noqa: S608
            self._connection.execute(f"CREATE OR REPLACE VIEW {VIEW} AS SELECT * FROM {_MEMORY_TABLE}")  # noqa: S608
            self.materialized = True

    def _files_view_sql(self) -> str:
        columns = duckdb_columns()
        pattern = str(self.folder / "dt=*" / "*.json*")
        if glob.glob(pattern):
            struct = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"
            source = (
                f"read_json({_quote(pattern)}, format = 'newline_delimited', hive_partitioning = true, "
                f"hive_types = {{'dt': 'VARCHAR'}}, columns = {struct})"
            )
            # The only outside value is the folder path, quoted by _quote; column names come from the contract.
            return f"CREATE VIEW {_FILES_VIEW} AS SELECT * FROM {source}"  # noqa: S608
        typed = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in columns.items())
        return f"CREATE VIEW {_FILES_VIEW} AS SELECT {typed}, CAST(NULL AS VARCHAR) AS dt WHERE false"

    def run(self, sql: str) -> QueryResult:
        """Run one Trino statement; QueryError with DuckDB's message on failure."""
        import duckdb

        translated = to_duckdb(sql)
        if not self.materialized and _reads(translated, VIEW) > 1:
            self.materialize()
        try:
            cursor = self._connection.execute(translated)
            columns = [column[0] for column in cursor.description or []]
            rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
        except duckdb.Error as exc:
            raise QueryError(f"SQL error (DuckDB): {_first_line(str(exc))}") from None
        return QueryResult(columns=columns, rows=rows, stats={"engine": "duckdb", "folder": str(self.folder)})

    def close(self) -> None:
        """Release the in-memory database."""
        self._connection.close()


def _reads(sql: str, table: str) -> int:
    """How many times the (DuckDB) statement references ``table``."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return 0
    return sum(1 for node in tree.find_all(sqlglot.exp.Table) if node.name == table)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_line(text: str) -> str:
    return " ".join(text.strip().splitlines()[:1]) if text.strip() else "unknown error"


def _first_error(exc: sqlglot.errors.ParseError) -> str:
    if exc.errors:
        error = exc.errors[0]
        return f"{error.get('description')} (line {error.get('line')}, column {error.get('col')})"
    return _first_line(str(exc))
