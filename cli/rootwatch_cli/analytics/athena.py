"""Athena on a deployed stack: start the query in the workgroup, wait with progress, page through the rows.

The SQL is the named query's Trino source as is (Athena engine v3 is Trino); ``{{table}}`` becomes the
Glue table, resolved in ``database``. The workgroup carries the result location, encryption and the
bytes-scanned cutoff (the CDK stack sets them), so nothing here names an S3 output location.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from rootwatch_cli.analytics.catalog import QueryError
from rootwatch_cli.analytics.local import QueryResult

DEFAULT_WORKGROUP = "rootwatch"
DEFAULT_DATABASE = "rootwatch"
DEFAULT_TABLE = "results"
_RUNNING = ("QUEUED", "RUNNING")
_INTEGER_TYPES = ("tinyint", "smallint", "integer", "int", "bigint")
_FLOAT_TYPES = ("double", "float", "real", "decimal")

Progress = Callable[[str, float, int], None]
"""Called while the query runs: (state, seconds elapsed, bytes scanned so far)."""


class AthenaBackend:
    """Runs Trino SQL through Athena. ``client`` is a boto3 Athena client."""

    #: Where the records came from, in words (the report's footer).
    source = ""

    def __init__(
        self,
        client: Any,
        *,
        workgroup: str = DEFAULT_WORKGROUP,
        database: str = DEFAULT_DATABASE,
        table: str = DEFAULT_TABLE,
        timeout_seconds: float = 600.0,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.workgroup = workgroup
        self.database = database
        self.table = table
        self._timeout = timeout_seconds
        self._progress = progress
        self._sleep = sleep
        self._clock = clock

    def run(self, sql: str) -> QueryResult:
        """Start, wait (polling 0.2 s doubling to 2 s), then read every page; QueryError on any failure."""
        try:
            started = self._client.start_query_execution(
                QueryString=sql,
                QueryExecutionContext={"Database": self.database},
                WorkGroup=self.workgroup,
            )
        except ClientError as exc:
            raise QueryError(f"Athena refused the query: {_aws_message(exc)}") from None
        except BotoCoreError as exc:
            raise QueryError(f"Athena: {exc}") from None
        query_id = started["QueryExecutionId"]
        try:
            execution = self._wait(query_id)
        except KeyboardInterrupt:
            self._stop(query_id)
            raise
        statistics = execution.get("Statistics", {})
        result = self._read(query_id)
        result.stats = {
            "engine": "athena",
            "query_execution_id": query_id,
            "workgroup": self.workgroup,
            "data_scanned_bytes": statistics.get("DataScannedInBytes", 0),
            "engine_execution_ms": statistics.get("EngineExecutionTimeInMillis", 0),
        }
        return result

    def _wait(self, query_id: str) -> dict[str, Any]:
        start = self._clock()
        delay = 0.2
        while True:
            try:
                execution = self._client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            except ClientError as exc:
                raise QueryError(f"Athena query {query_id}: {_aws_message(exc)}") from None
            status = execution["Status"]
            state = status["State"]
            elapsed = self._clock() - start
            if self._progress is not None:
                self._progress(state, elapsed, execution.get("Statistics", {}).get("DataScannedInBytes", 0))
            if state == "SUCCEEDED":
                return execution
            if state not in _RUNNING:
                reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get("ErrorMessage") or ""
                raise QueryError(f"Athena query {query_id} {state}: {reason}".rstrip(": "))
            if elapsed >= self._timeout:
                self._stop(query_id)
                raise QueryError(f"Athena query {query_id} still {state} after {self._timeout:.0f} s; stopped it")
            self._sleep(delay)
            delay = min(delay * 2, 2.0)

    def _read(self, query_id: str) -> QueryResult:
        paginator = self._client.get_paginator("get_query_results")
        columns: list[str] = []
        types: list[str] = []
        rows: list[dict[str, Any]] = []
        first = True
        try:
            for page in paginator.paginate(QueryExecutionId=query_id, PaginationConfig={"PageSize": 1000}):
                result_set = page["ResultSet"]
                if not columns:
                    info = result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                    columns = [column["Name"] for column in info]
                    types = [column.get("Type", "varchar").lower() for column in info]
                page_rows = result_set.get("Rows", [])
                if first and page_rows and _cells(page_rows[0]) == columns:
                    page_rows = page_rows[1:]  # a SELECT's first row repeats the column names
                first = False
                for row in page_rows:
                    values = _cells(row)
                    rows.append(
                        {name: _convert(value, kind) for name, value, kind in zip(columns, values, types, strict=False)}
                    )
        except ClientError as exc:
            raise QueryError(f"Athena query {query_id}: cannot read results: {_aws_message(exc)}") from None
        return QueryResult(columns=columns, rows=rows)

    def _stop(self, query_id: str) -> None:
        # Best effort: if stopping fails, the workgroup's bytes-scanned cutoff still bounds the cost.
        with contextlib.suppress(ClientError):
            self._client.stop_query_execution(QueryExecutionId=query_id)


def _cells(row: dict[str, Any]) -> list[str | None]:
    return [cell.get("VarCharValue") for cell in row.get("Data", [])]


def _convert(value: str | None, kind: str) -> Any:
    """Athena returns every value as text; give back the Python value of its declared type."""
    if value is None:
        return None
    if kind == "boolean":
        return value == "true"
    if kind in _INTEGER_TYPES:
        return int(value)
    if kind.startswith(_FLOAT_TYPES):
        return float(value)
    return value


def _aws_message(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip()
