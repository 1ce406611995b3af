"""What every query engine offers (DuckDB over files, Athena), and running a named query on one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from rootwatch_cli.analytics.catalog import bind, get_query
from rootwatch_cli.analytics.local import QueryResult


class Engine(Protocol):
    """A place where Trino SQL runs against the results table, named ``table`` there."""

    table: str

    def run(self, sql: str) -> QueryResult:
        """Run one statement; QueryError (one line) on any failure."""
        ...


def run_named(engine: Engine, name: str, values: Mapping[str, object] | None = None) -> QueryResult:
    """Run the named query with ``values`` for its parameters (QueryError for a bad name or value).

    E.g. ``run_named(DuckDBBackend(folder), "reappearances", {"days": 7}).rows``.
    """
    params = {key: str(value) for key, value in (values or {}).items()}
    return engine.run(bind(get_query(name), params, table=engine.table))
