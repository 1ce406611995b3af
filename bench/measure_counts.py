"""Count what a night costs, in the sandbox, on the deployed template: every billable request the pipeline makes.

``measure()`` deploys the synthesized stack (cdk.json's configuration), seeds an org of N members, runs two
nights (night 1: first audits; night 2: the steady state, which is what the cost model prices) and counts,
through a hook on botocore's ``BaseClient._make_api_call`` (every client in the process: the handlers', the
state machine interpreter's), the requests per service and operation, DynamoDB write/read units from the
item sizes (DynamoDB's rules: 1 WRU per 1 KB written, the larger of the old and new item; 1 RRU per 4 KB read
strongly consistent, half that eventually consistent), S3 requests, Lambda invocations per function, the
parent execution's state transitions and the Map Run's child executions (DescribeMapRun), the bytes of
application log lines and EMF metric lines the functions write, and the distinct custom metrics.

Two sizes separate what a run costs once from what each account costs (a straight line through both).
``python -m bench pipeline`` writes the result to infra/measured_counts.json, which infra/cost_model.py reads,
so synth and CI stay offline and deterministic.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import threading
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

COUNTS_FILE = Path(__file__).resolve().parent.parent / "infra" / "measured_counts.json"
SIZES = (100, 200)
#: What CloudWatch Logs bills per event on top of the message (its ingestion metadata).
LOG_EVENT_OVERHEAD_BYTES = 26
COUNTED_SERVICES = ("dynamodb", "s3", "lambda", "sns", "organizations", "sts", "iam", "cloudwatch", "kms")


def attribute_bytes(value: dict[str, Any]) -> int:
    """The size DynamoDB bills for one attribute value (low-level JSON form)."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        digits = str(Decimal(str(raw)).normalize()).lstrip("-").replace(".", "").lstrip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_bytes(v) + 1 for k, v in raw.items())
    if kind == "L":
        return 3 + sum(attribute_bytes(v) + 1 for v in raw)
    if kind in ("SS", "NS", "BS"):
        return sum(len(str(v).encode()) for v in raw)
    return len(json.dumps(raw).encode())


def item_bytes(item: dict[str, Any]) -> int:
    """An item's billed size: attribute names plus values."""
    return sum(len(name.encode()) + attribute_bytes(value) for name, value in item.items())


class CallCounter:
    """Counts billable requests of every botocore client in this process while ``active``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = False
        self.calls: Counter[str] = Counter()
        self.lambda_invocations: Counter[str] = Counter()
        self.write_units = 0.0
        self.read_units = 0.0
        self.updates: list[tuple[str, dict[str, Any], int]] = []  # table, key, old size

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.lambda_invocations.clear()
            self.write_units = self.read_units = 0.0
            self.updates.clear()

    def record(self, service: str, operation: str, params: dict[str, Any], result: dict[str, Any] | None) -> None:
        if not self.active or service not in COUNTED_SERVICES:
            return
        with self.lock:
            self.calls[f"{service}:{operation}"] += 1
            if service == "lambda" and operation == "Invoke":
                self.lambda_invocations[str(params.get("FunctionName", "")).rsplit(":", 1)[-1]] += 1
            if service != "dynamodb":
                return
            factor = 1.0 if params.get("ConsistentRead") else 0.5
            if operation == "PutItem":
                self.write_units += math.ceil(item_bytes(params["Item"]) / 1024)
            elif operation == "UpdateItem":
                old = item_bytes((result or {}).get("Attributes") or {})
                self.updates.append((params["TableName"], params["Key"], old))
            elif operation == "GetItem":
                size = item_bytes((result or {}).get("Item") or {})
                self.read_units += max(1, math.ceil(size / 4096)) * factor
            elif operation == "Query":
                size = sum(item_bytes(i) for i in (result or {}).get("Items") or [])
                self.read_units += max(1, math.ceil(size / 4096)) * factor

    def settle_updates(self, dynamodb: Any) -> None:
        """UpdateItem costs the larger of the item before and after: read the items as they are now."""
        for table, key, old in self.updates:
            new = item_bytes(dynamodb.get_item(TableName=table, Key=key).get("Item") or {})
            self.write_units += max(1, math.ceil(max(old, new) / 1024))
        self.updates.clear()


COUNTER = CallCounter()
_installed = False


def install_hook() -> None:
    """Wrap botocore's ``BaseClient._make_api_call`` once (every client, whatever its session)."""
    global _installed
    if _installed:
        return
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def _make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        result = None
        try:
            result = original(client, operation_name, api_params)
            return result
        finally:
            COUNTER.record(service, operation_name, api_params, result)

    BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]
    _installed = True


class _LogSink(io.TextIOBase):
    """Counts the bytes and events of what the functions log (JSON lines) and the EMF metric names."""

    def __init__(self) -> None:
        self.bytes = 0
        self.events = 0
        self.metrics: set[str] = set()
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            for line in text.splitlines():
                if not line.strip():
                    continue
                self.events += 1
                self.bytes += len(line.encode()) + LOG_EVENT_OVERHEAD_BYTES
                if '"_aws"' in line:
                    with contextlib.suppress(ValueError):
                        document = json.loads(line)
                        for directive in document["_aws"]["CloudWatchMetrics"]:
                            dims = ",".join(sorted(d for group in directive["Dimensions"] for d in group))
                            for metric in directive["Metrics"]:
                                self.metrics.add(f"{directive['Namespace']}/{metric['Name']}[{dims}]")
        return len(text)


@contextlib.contextmanager
def _capture_logs(sink: _LogSink) -> Iterator[None]:
    """Send the functions' Powertools log lines (INFO, as deployed) and EMF prints to ``sink``."""
    logger = logging.getLogger("rootwatch")
    saved = [(h, getattr(h, "stream", None)) for h in logger.handlers]
    level = logger.level
    logger.setLevel(logging.INFO)
    for handler, _ in saved:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)  # type: ignore[arg-type]
    try:
        with contextlib.redirect_stdout(sink):  # type: ignore[type-var]
            yield
    finally:
        logger.setLevel(level)
        for handler, stream in saved:
            if isinstance(handler, logging.StreamHandler) and stream is not None:
                handler.setStream(stream)


def _night(sfn: Any, arn: str, name: str) -> dict[str, Any]:
    from rootwatch_cli.commands.run import start_and_follow

    return start_and_follow(sfn, arn, name=name, progress=False, poll_seconds=0.05)


def _transitions(sfn: Any, execution_arn: str) -> int:
    """State transitions of the parent execution: each state entered (a retry is one more)."""
    events, token = 0, None
    while True:
        page = sfn.get_execution_history(
            executionArn=execution_arn, maxResults=1000, **({"nextToken": token} if token else {})
        )
        events += sum(1 for e in page["events"] if e["type"].endswith("StateEntered"))
        retries = sum(1 for e in page["events"] if e["type"] == "TaskScheduled") - sum(
            1 for e in page["events"] if e["type"] == "TaskStateEntered"
        )
        events += max(retries, 0)
        token = page.get("nextToken")
        if not token:
            return events


def _child_executions(sfn: Any, execution_arn: str) -> tuple[int, int]:
    runs = sfn.list_map_runs(executionArn=execution_arn)["mapRuns"]
    total = items = 0
    for run in runs:
        described = sfn.describe_map_run(mapRunArn=run["mapRunArn"])
        total += described["executionCounts"]["total"]
        items += described["itemCounts"]["total"]
    return total, items


def measure_size(accounts: int) -> dict[str, Any]:
    """Both nights of one org size, counted; night 2 is what a steady night costs."""
    import boto3
    from rootwatch.handlers import dependencies
    from rootwatch_sandbox import Sandbox, runtime
    from rootwatch_sandbox.deploy import deploy_stack

    install_hook()
    dependencies.reset()
    nights: dict[str, Any] = {}
    with Sandbox() as sandbox:
        sandbox.create_demo_org(accounts=accounts, seed=7)
        stack = deploy_stack(context={"rootwatch:metricsEnabled": True})
        sfn, dynamodb = boto3.client("stepfunctions"), boto3.client("dynamodb")
        for night in (1, 2):
            COUNTER.reset()
            sink = _LogSink()
            COUNTER.active = True
            try:
                with _capture_logs(sink):
                    described = _night(sfn, stack["state_machine_arn"], f"measure-{accounts}-{night}")
            finally:
                COUNTER.active = False
            COUNTER.settle_updates(dynamodb)
            children, items = _child_executions(sfn, described["executionArn"])
            totals = (described.get("summary") or {}).get("totals", {})
            nights[str(night)] = {
                "status": described["status"],
                "audited": totals.get("audited", 0),
                "map_items": items,
                "child_executions": children,
                "parent_state_transitions": _transitions(sfn, described["executionArn"]),
                "lambda_invocations": dict(sorted(COUNTER.lambda_invocations.items())),
                "requests": dict(sorted(COUNTER.calls.items())),
                "dynamodb_write_units": COUNTER.write_units,
                "dynamodb_read_units": COUNTER.read_units,
                "log_bytes": sink.bytes,
                "log_events": sink.events,
                "custom_metrics": sorted(sink.metrics),
            }
    dependencies.reset()
    runtime.set_retry_scale(None)
    return nights


def import_handlers_quietly() -> None:
    """Import the three handlers as Lambda would (the metrics namespace is read at import), at level ERROR:
    the measured nights raise the level to the deployed INFO and send the lines to a counting sink."""
    import importlib
    import os

    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "rootwatch")
    saved = os.environ.get("POWERTOOLS_LOG_LEVEL")
    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
    try:
        for name in ("prepare_run", "audit_account", "finish_run"):
            importlib.import_module(f"rootwatch.handlers.{name}")
    finally:
        if saved is None:
            os.environ.pop("POWERTOOLS_LOG_LEVEL")
        else:
            os.environ["POWERTOOLS_LOG_LEVEL"] = saved


def measure(sizes: tuple[int, int] = SIZES) -> dict[str, Any]:
    """Counts at two sizes, and per run / per account figures of night 2 (a straight line through both)."""
    from rootwatch_sandbox import runtime

    import_handlers_quietly()

    runtime.set_retry_scale(0.0)
    small_n, large_n = sizes
    measured = {str(n): measure_size(n) for n in sizes}
    small, large = measured[str(small_n)]["2"], measured[str(large_n)]["2"]
    span = large_n - small_n

    def flat(night: dict[str, Any]) -> dict[str, float]:
        values: dict[str, float] = {
            key: float(night[key])
            for key in (
                "parent_state_transitions",
                "dynamodb_write_units",
                "dynamodb_read_units",
                "log_bytes",
                "log_events",
            )
        }
        for name, count in night["requests"].items():
            values[f"requests.{name}"] = float(count)
        for name, count in night["lambda_invocations"].items():
            values[f"lambda_invocations.{name}"] = float(count)
        return values

    a, b = flat(small), flat(large)
    keys = sorted(set(a) | set(b))
    per_account = {k: round((b.get(k, 0.0) - a.get(k, 0.0)) / span, 4) for k in keys}
    per_run = {k: round(a.get(k, 0.0) - small_n * per_account[k], 2) for k in keys}
    return {
        "generated_by": "python -m bench pipeline (bench/measure_counts.py)",
        "what": "night 2 (steady state) of the deployed template in the sandbox, cdk.json's configuration",
        "sizes": list(sizes),
        "per_account": per_account,
        "per_run": per_run,
        "child_executions": {str(n): measured[str(n)]["2"]["child_executions"] for n in sizes},
        "custom_metrics": large["custom_metrics"],
        "nights": measured,
    }


def write(counts: dict[str, Any], path: Path = COUNTS_FILE) -> None:
    path.write_text(json.dumps(counts, indent=2, sort_keys=True) + "\n", encoding="utf-8")
