"""``rootwatch query NAME|"SQL"``: run a named query (or ad-hoc Trino SQL) on Athena, a bucket, or a folder.

Where the results are (exactly one):
- ``--results DIR``: a local folder holding ``dt=YYYY-MM-DD/*.json.gz`` (or ``DIR/results/dt=...``): DuckDB.
- ``--bucket B [--endpoint-url URL]``: the results bucket; its run objects are downloaded to a temporary
  folder, then DuckDB. ``--endpoint-url URL`` alone (or $AWS_ENDPOINT_URL) means a sandbox: the bucket
  holding ``results/`` there is found by itself.
- ``--athena [--workgroup W] [--database D] [--table T]``: Athena on the deployed stack.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rootwatch_cli import EXIT_OK, UsageError
from rootwatch_cli.analytics.catalog import (
    QueryError,
    bind,
    get_query,
    load_queries,
    looks_like_sql,
    parse_param_args,
    substitute,
)
from rootwatch_cli.analytics.engine import Engine
from rootwatch_cli.analytics.local import QueryResult
from rootwatch_cli.common import add_aws_args, boto3_client, factory_from_args
from rootwatch_cli.ocsf import missing_columns, to_events
from rootwatch_cli.output import (
    OCSF,
    add_format_args,
    open_output,
    output_args,
    render,
    stderr_is_terminal,
    wrote_line,
)

SOURCE_HELP = (
    "choose where the results are: --results DIR, --bucket B [--endpoint-url URL], --endpoint-url URL (a sandbox), "
    "or --athena"
)


def add_source_args(parser: argparse.ArgumentParser) -> None:
    """The backend selection flags shared by ``query`` and ``report``."""
    group = parser.add_argument_group("where the results are (pick one)")
    pick = group.add_mutually_exclusive_group()
    pick.add_argument("--results", metavar="DIR", help="local folder of results (dt=YYYY-MM-DD/*.json.gz): DuckDB")
    pick.add_argument(
        "--bucket", metavar="B", help="results bucket: download its run objects, then DuckDB (sandbox: --endpoint-url)"
    )
    pick.add_argument("--athena", action="store_true", help="Athena on the deployed stack")
    athena = parser.add_argument_group("Athena (with --athena)")
    athena.add_argument("--workgroup", default=None, help="Athena workgroup (default: rootwatch)")
    athena.add_argument("--database", default=None, help="Glue database (default: rootwatch)")
    athena.add_argument("--table", default=None, help="Glue table of the results (default: results)")
    add_aws_args(parser)


@contextmanager
def open_backend(args: argparse.Namespace) -> Iterator[Engine]:
    """The backend the flags select; UsageError when none or a contradictory mix is given."""
    athena_only = [flag for flag in ("workgroup", "database", "table") if getattr(args, flag) is not None]
    if athena_only and not args.athena:
        raise UsageError(f"--{athena_only[0]}: only with --athena")
    if args.results:
        from rootwatch_cli.analytics.local import DuckDBBackend

        backend = _checked(lambda: DuckDBBackend(args.results))
        backend.source = f"folder {args.results}, through DuckDB"
        try:
            yield backend
        finally:
            backend.close()
    elif args.bucket or (args.endpoint_url and not args.athena):
        from rootwatch_cli.analytics.download import download_results, find_results_bucket
        from rootwatch_cli.analytics.local import DuckDBBackend

        client = boto3_client(factory_from_args(args), "s3")
        bucket = args.bucket or _checked(lambda: find_results_bucket(client))
        with tempfile.TemporaryDirectory(prefix="rootwatch-results-") as folder:
            count = _checked(lambda: download_results(client, bucket, folder))
            if stderr_is_terminal():
                print(f"downloaded {count} run objects from s3://{bucket}/results/", file=sys.stderr)
            backend = DuckDBBackend(folder)
            at = f" at {args.endpoint_url}" if args.endpoint_url else ""
            backend.source = f"bucket s3://{bucket}/results/{at}, through DuckDB"
            try:
                yield backend
            finally:
                backend.close()
    elif args.athena:
        from rootwatch_cli.analytics.athena import DEFAULT_DATABASE, DEFAULT_TABLE, DEFAULT_WORKGROUP, AthenaBackend

        client = boto3_client(factory_from_args(args), "athena")
        athena = AthenaBackend(
            client,
            workgroup=args.workgroup or DEFAULT_WORKGROUP,
            database=args.database or DEFAULT_DATABASE,
            table=args.table or DEFAULT_TABLE,
            progress=_AthenaProgress(),
        )
        athena.source = f"Athena workgroup {athena.workgroup}"
        yield athena
    else:
        raise UsageError(SOURCE_HELP)


def register(subparsers: Any) -> None:
    """Add the ``query`` verb."""
    parser = subparsers.add_parser(
        "query",
        help="run a named query or Trino SQL on the results (Athena, a bucket, or a folder)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "query", nargs="?", help='a named query (see --list) or SQL, e.g. "SELECT count(*) FROM results"'
    )
    parser.add_argument(
        "--param", action="append", metavar="NAME=VALUE", help="a query parameter, e.g. --param days=7 (repeatable)"
    )
    parser.add_argument("--list", action="store_true", help="list the named queries and their parameters")
    parser.add_argument(
        "--print-sql", action="store_true", help="print the SQL that would run (Trino dialect) and exit"
    )
    add_format_args(parser, ocsf=True)
    add_source_args(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """List, print, or run the query; every query problem is a one-line UsageError (exit 2)."""
    if args.list:
        _print_catalog()
        return EXIT_OK
    if not args.query:
        raise UsageError("give a query name or SQL (rootwatch query --list shows the named queries)")
    output_args(args)
    try:
        if args.print_sql:
            table = args.table or "results"
            print(render_sql(args.query, args.param, table=table))
            return EXIT_OK
        result = run_query(args, args.query, args.param)
    except QueryError as exc:
        raise UsageError(str(exc)) from None
    if args.format == OCSF:
        _write_ocsf(args, result)
    else:
        with open_output(args.output) as stream:
            render(list_columns(result.rows), args.format, stream, columns=result.columns)
        wrote_line(args.output, len(result.rows), args.format)
    scanned = result.stats.get("data_scanned_bytes")
    if scanned is not None and stderr_is_terminal():
        print(f"Athena query {result.stats['query_execution_id']}: {_megabytes(scanned)} scanned", file=sys.stderr)
    return EXIT_OK


def _write_ocsf(args: argparse.Namespace, result: QueryResult) -> None:
    """OCSF Compliance Findings of record rows; a UsageError naming the columns a query's rows lack."""
    missing = missing_columns(result.columns)
    if missing:
        raise UsageError(
            f"--format ocsf: this query's rows lack the record columns {', '.join(missing)}; "
            "use latest_state, or ad-hoc SQL that selects whole records from the results table"
        )
    events = to_events(list_columns(result.rows), feature="query")
    with open_output(args.output) as stream:
        render(events, OCSF, stream)
    wrote_line(args.output, len(events), args.format, "OCSF finding")


#: Columns the named queries return as comma-joined text (portable SQL); every output shows them as lists,
#: as ``scan`` does: arrays in json/jsonl, ``;``-joined in csv/tsv.
LIST_COLUMNS = frozenset({"credentials", "appeared", "disappeared"})


def list_columns(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with the LIST_COLUMNS that hold comma-joined text turned into lists (``""`` -> ``[]``)."""

    def as_list(value: str) -> list[str]:
        return [part.strip() for part in value.split(",") if part.strip()]

    return [
        {key: as_list(value) if key in LIST_COLUMNS and isinstance(value, str) else value for key, value in row.items()}
        for row in rows
    ]


def render_sql(query: str, params: list[str] | None, *, table: str) -> str:
    """The Trino SQL for a named query (parameters bound) or ad-hoc SQL (``{{table}}`` filled)."""
    values = parse_param_args(params)
    if looks_like_sql(query):
        if values:
            raise QueryError("--param: only named queries take parameters")
        return substitute(query, {}, table=table)
    return bind(get_query(query), values, table=table)


def run_query(args: argparse.Namespace, query: str, params: list[str] | None) -> QueryResult:
    """Open the selected backend and run one query there (QueryError on bad input or SQL error)."""
    render_sql(query, params, table="results")  # validate name and parameters before any download or AWS call
    with open_backend(args) as backend:
        return backend.run(render_sql(query, params, table=backend.table))


def _checked(make: Any) -> Any:
    try:
        return make()
    except QueryError as exc:
        raise UsageError(str(exc)) from None


def _print_catalog() -> None:
    for query in load_queries().values():
        print(query.name)
        print(f"    {query.summary}")
        for param in query.params:
            print(f"    --param {param.describe()}")


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB"


class _AthenaProgress:
    """Shows the query's state on stderr: one updating line on a terminal, one line per state otherwise."""

    def __init__(self) -> None:
        self._last_state: str | None = None
        self._terminal = stderr_is_terminal()

    def __call__(self, state: str, elapsed: float, scanned: int) -> None:
        if self._terminal:
            end = "\n" if state not in ("QUEUED", "RUNNING") else ""
            print(f"\rAthena: {state:<9} {elapsed:5.1f} s  {_megabytes(scanned)} scanned", end=end, file=sys.stderr)
        elif state != self._last_state:
            print(f"Athena: {state} after {elapsed:.1f} s", file=sys.stderr)
        self._last_state = state
