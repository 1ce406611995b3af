"""Cost and run-time model of a nightly rootwatch audit, from counts measured in the sandbox, and the same audit
through AWS Config.

    python -m infra.cost_model                   # the table for cdk.json's configuration
    python -m infra.cost_model --json            # night_usd, month_usd, run_seconds, ... per size
    python -m infra.cost_model --write docs/cost.md
    python -m infra.cost_model --concurrency 20 --batch-size 40 --accounts 500,5000

**Counted, not assumed.** What a night does per account and per run (state transitions, child executions,
Lambda invocations, DynamoDB write/read units, S3 requests, log bytes, custom metrics) comes from
``infra/measured_counts.json``, which ``python -m bench pipeline`` writes from two nights of the deployed
template in the sandbox (bench/measure_counts.py). What the sandbox cannot show is assumed, named below with
its reason: Lambda durations (the sandbox runs handlers in-process, without network latency), an Express
child's duration, X-Ray sampling, item sizes kept in storage. Prices live in ``PRICES``, each with the page it
comes from and the date it was checked (us-east-1 list prices, no free tiers).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
COUNTS_FILE = REPO / "infra" / "measured_counts.json"
CHECKED = "2026-11-26"


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    source: str


_SFN = "https://aws.amazon.com/step-functions/pricing/"
_SFN_TRANSITIONS = "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-transitions.html"
_LAMBDA = "https://aws.amazon.com/lambda/pricing/"
_DDB = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
_S3 = "https://aws.amazon.com/s3/pricing/"
_CW = "https://aws.amazon.com/cloudwatch/pricing/"
_XRAY = "https://aws.amazon.com/xray/pricing/"
_KMS = "https://aws.amazon.com/kms/pricing/"
_ATHENA = "https://aws.amazon.com/athena/pricing/"
_CONFIG = "https://aws.amazon.com/config/pricing/"

#: Every price the model uses: us-east-1 list prices, checked on CHECKED against the page named.
PRICES: dict[str, Price] = {
    "sfn_standard_transition": Price(0.025 / 1000, "state transition", _SFN),
    "sfn_distributed_child": Price(
        0.025 / 1000, "child execution a Distributed Map starts (1 transition)", _SFN_TRANSITIONS
    ),
    "sfn_express_request": Price(1.00 / 1e6, "Express request", _SFN),
    "sfn_express_gb_second": Price(0.00001667, "Express GB-second (first tier; 100 ms, 64 MB steps)", _SFN),
    "lambda_request": Price(0.20 / 1e6, "invocation", _LAMBDA),
    "lambda_gb_second_arm64": Price(0.0000133334, "GB-second, arm64", _LAMBDA),
    "lambda_gb_second_x86_64": Price(0.0000166667, "GB-second, x86_64", _LAMBDA),
    "dynamodb_write_unit": Price(0.625 / 1e6, "write request unit (on-demand)", _DDB),
    "dynamodb_read_unit": Price(0.125 / 1e6, "read request unit (on-demand)", _DDB),
    "dynamodb_gb_month": Price(0.25, "GB-month stored (Standard table class)", _DDB),
    "dynamodb_pitr_gb_month": Price(0.20, "GB-month of continuous backup (PITR)", _DDB),
    "s3_put": Price(0.005 / 1000, "PUT/LIST request (Standard)", _S3),
    "s3_get": Price(0.0004 / 1000, "GET request (Standard)", _S3),
    "s3_gb_month": Price(0.023, "GB-month (Standard, first 50 TB)", _S3),
    "logs_gb_ingested": Price(0.50, "GB of logs ingested (Standard class)", _CW),
    "custom_metric_month": Price(0.30, "custom metric a month (first 10,000)", _CW),
    "alarm_month": Price(0.10, "standard-resolution alarm metric a month", _CW),
    "dashboard_month": Price(3.00, "dashboard a month", _CW),
    "xray_trace": Price(5.00 / 1e6, "trace recorded", _XRAY),
    "kms_key_month": Price(1.00, "customer managed key a month", _KMS),
    "kms_request": Price(0.03 / 10_000, "symmetric key request", _KMS),
    "kms_rotation_month": Price(2.00, "automatic rotation: +$1 for each of the first two rotations", _KMS),
    "athena_tb": Price(5.00, "TB scanned, 10 MB minimum a query", _ATHENA),
    "config_evaluation": Price(0.001, "Config rule evaluation (first 100,000)", _CONFIG),
}


def price(name: str) -> float:
    return PRICES[name].usd


# --- assumptions: what the sandbox cannot measure ------------------------------------------------------------
RUNS_PER_MONTH = 30  # nightly
#: ListAccounts returns at most 20 a page and allows 8 requests/s (the Organizations quotas page,
#: "Throttling limits"): the org listing is sequential (each page needs the previous page's NextToken).
LIST_ACCOUNTS_PAGE = 20
LIST_ACCOUNTS_PER_SECOND = 8
#: One warm AuditAccount in AWS: AssumeRoot + GetAccountSummary (+ detail calls for set flags) and the three
#: DynamoDB writes, ~6 requests at 50-80 ms (measured in the sandbox: 5.5 AWS requests an account, night 2).
AUDIT_SECONDS = 0.45
#: A cold start (Python 3.13 + Powertools layer, import under 300 ms, plus the runtime's init).
COLD_START_SECONDS = 0.9
#: A batch lasts as long as its slowest account: the slowest of 40 draws, ~1.6 x the typical audit.
BATCH_STRAGGLER_FACTOR = 1.6
#: What Step Functions adds around each child (starting the Express execution, the inline Map, lambda:invoke).
CHILD_OVERHEAD_SECONDS = 0.15
PREPARE_FIXED_SECONDS = 1.0  # feature check, DescribeOrganization, manifest PUT
FINISH_FIXED_SECONDS = 1.5  # summary, alert, results PUT
FINISH_SECONDS_PER_ACCOUNT = 0.0003  # reading the run's items (1 MB Query pages) and gzip
MEMORY_GB = {"prepare": 0.5, "audit": 0.25, "finish": 1.0}  # infra/functions.py
EXPRESS_BILLED_GB = 0.0625  # 64 MB: the Express minimum; a batch's state is a few KB
#: DynamoDB: one partition key takes at most 1,000 write units/s. RUN#<run_id> gets every account's run item
#: (1 WRU, measured); latest items are spread over status_store.LATEST_SHARDS keys.
PARTITION_WRITE_UNITS_PER_SECOND = 1000
#: Stored item sizes (measured writes are 1 WRU each: under 1 KB).
ITEM_BYTES = 1024
#: S3: AWS's ResultWriter writes a manifest and one file per child status (the sandbox writes the manifest).
RESULT_WRITER_EXTRA_PUTS = 2
RESULT_BYTES_PER_ACCOUNT = 220  # one gzip JSON line
MANIFEST_BYTES_PER_ACCOUNT = 120
#: State machine logs. ALL with execution data (before): every event of every child with its input and output,
#: ~7 KB an account. ERROR without data (now): only failed states, ~400 B each; assume 1% of accounts fail.
SFN_LOG_BYTES_PER_ACCOUNT = {"ALL": 7000, "ERROR": 0.01 * 3 * 400}
#: X-Ray's default sampling rule: the first request each second, then 5% (functions and executions traced).
XRAY_RESERVOIR_PER_SECOND = 1
XRAY_RATE = 0.05
#: Athena: a security team running the named queries, each scanning up to a year of results.
ATHENA_QUERIES_PER_MONTH = 60
ATHENA_SCANNED_DAYS = 365
ATHENA_MIN_BYTES = 10 * 1024**2
CONFIG_ROOT_RULES = 3  # root access key, root MFA, root hardware MFA (IAM.4/IAM.6/IAM.9)
#: The log groups are encrypted with the stack's key: CloudWatch Logs calls KMS for the data keys of the streams
#: written (AWS publishes no rate, and the sandbox cannot measure it). Assumed: one request per log stream a night;
#: a Lambda execution environment writes one stream. Reading the logs adds a Decrypt per query (not modelled).
KMS_REQUESTS_PER_LOG_STREAM = 1
#: Alarms the stack creates (infra/monitoring.py) and whether it has a dashboard.
ALARMS = 6
DASHBOARDS = 0
RUN_TTL_DAYS = 35  # status_store.RUN_TTL_DAYS

DEFAULT_ACCOUNTS = (100, 1_000, 10_000)


def load_counts(path: Path = COUNTS_FILE) -> dict[str, Any]:
    """The counts ``python -m bench pipeline`` measured (infra/measured_counts.json)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; run `python -m bench pipeline` to measure it")
    return dict(json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Design:
    """The knobs that change what a night costs: cdk.json's, or the design before issue 16."""

    concurrency: int  # parallel child executions (rootwatch:mapMaxConcurrency)
    batch_size: int  # accounts per child (rootwatch:mapBatchSize); 1 = no ItemBatcher
    architecture: str = "arm64"
    history_days: int = 400
    results_days: int = 1096
    run_ttl_days: int = RUN_TTL_DAYS
    sfn_log_level: str = "ERROR"
    latest_shards: int = 16
    dashboards: int = DASHBOARDS
    encrypted_logs: bool = True  # log groups on the stack's KMS key (issue 17)

    @property
    def audits_in_flight(self) -> int:
        return self.concurrency * self.batch_size


#: Before issue 16: one Express child per account, 40 at a time, logging ALL with execution data, one LATEST key,
#: RUN# items kept as long as history, a dashboard.
BEFORE = Design(
    concurrency=40,
    batch_size=1,
    sfn_log_level="ALL",
    latest_shards=1,
    run_ttl_days=400,
    dashboards=1,
    encrypted_logs=False,
)


@dataclass(frozen=True)
class Estimate:
    """One organization size: the night's variable cost by service, the month in all, and the run time."""

    accounts: int
    night: dict[str, float]
    month_storage: dict[str, float]
    month_fixed: dict[str, float]
    run_seconds: float
    child_executions: int
    aws_config: float

    @property
    def night_usd(self) -> float:
        return sum(self.night.values())

    @property
    def month_usd(self) -> float:
        return RUNS_PER_MONTH * self.night_usd + sum(self.month_storage.values()) + sum(self.month_fixed.values())

    @property
    def total(self) -> float:
        return self.month_usd

    @property
    def per_run(self) -> float:
        return self.night_usd

    def to_json(self) -> dict[str, Any]:
        return {
            "accounts": self.accounts,
            "night_usd": round(self.night_usd, 5),
            "month_usd": round(self.month_usd, 3),
            "run_seconds": round(self.run_seconds, 1),
            "child_executions": self.child_executions,
            "night": {k: round(v, 5) for k, v in self.night.items()},
            "month_storage": {k: round(v, 4) for k, v in self.month_storage.items()},
            "month_fixed": {k: round(v, 2) for k, v in self.month_fixed.items()},
            "aws_config_month_usd": round(self.aws_config, 2),
        }


def _count(counts: dict[str, Any], key: str, accounts: int) -> float:
    """A measured quantity for a night of ``accounts``: per run + per account x accounts."""
    return max(0.0, float(counts["per_run"].get(key, 0.0)) + float(counts["per_account"].get(key, 0.0)) * accounts)


def _requests(counts: dict[str, Any], accounts: int, prefix: str) -> float:
    keys = {k for part in ("per_run", "per_account") for k in counts[part] if k.startswith(prefix)}
    return sum(_count(counts, k, accounts) for k in keys)


def listing_seconds(accounts: int) -> float:
    """PrepareRun: ListAccounts pages one after another at the API's rate, plus the fixed work."""
    return PREPARE_FIXED_SECONDS + math.ceil(max(accounts, 1) / LIST_ACCOUNTS_PAGE) / LIST_ACCOUNTS_PER_SECOND


def child_seconds(batch_size: int) -> float:
    straggler = BATCH_STRAGGLER_FACTOR if batch_size > 1 else 1.0
    return AUDIT_SECONDS * straggler + CHILD_OVERHEAD_SECONDS


def run_seconds(accounts: int, design: Design, latest_write_units: float = 1.0) -> float:
    """Wall clock of one run: the listing, the Map (waves of children, or a DynamoDB partition's write limit,
    whichever is slower), then FinishRun."""
    children = math.ceil(accounts / design.batch_size)
    waves = math.ceil(children / design.concurrency)
    fan_out = waves * child_seconds(design.batch_size) + COLD_START_SECONDS
    run_partition = accounts / PARTITION_WRITE_UNITS_PER_SECOND
    latest_partition = accounts * latest_write_units / (PARTITION_WRITE_UNITS_PER_SECOND * design.latest_shards)
    audit = max(fan_out, run_partition, latest_partition)
    finish = FINISH_FIXED_SECONDS + accounts * FINISH_SECONDS_PER_ACCOUNT
    return listing_seconds(accounts) + audit + finish


def estimate(accounts: int, design: Design, counts: dict[str, Any] | None = None) -> Estimate:
    """What ``accounts`` member accounts cost a night and a month with ``design``, from measured ``counts``."""
    if accounts < 1 or design.concurrency < 1 or design.batch_size < 1:
        raise ValueError("accounts, concurrency and batch size must be at least 1")
    counts = counts or load_counts()
    n = accounts
    children = math.ceil(n / design.batch_size)
    seconds = run_seconds(n, design, latest_write_units=2.0)

    # Step Functions: the parent's own transitions (measured) + one per child started; Express children
    # billed per request and duration. Inline Map iterations inside a child are not transitions.
    transitions = _count(counts, "parent_state_transitions", n) + children
    billed_child_s = math.ceil(child_seconds(design.batch_size) * 10) / 10
    express = children * (
        price("sfn_express_request") + EXPRESS_BILLED_GB * billed_child_s * price("sfn_express_gb_second")
    )

    # Lambda: invocations measured per function; durations assumed (see AUDIT_SECONDS).
    invocations = _requests(counts, n, "lambda_invocations.")
    audits = _count(counts, "lambda_invocations.rootwatch-audit-account", n)
    cold = min(audits, design.audits_in_flight)
    finish_s = FINISH_FIXED_SECONDS + n * FINISH_SECONDS_PER_ACCOUNT
    gb_s = (
        listing_seconds(n) * MEMORY_GB["prepare"]
        + (audits * AUDIT_SECONDS + cold * COLD_START_SECONDS) * MEMORY_GB["audit"]
        + finish_s * MEMORY_GB["finish"]
    )

    wru = _count(counts, "dynamodb_write_units", n)
    rru = _count(counts, "dynamodb_read_units", n)
    puts = _count(counts, "requests.s3:PutObject", n) + RESULT_WRITER_EXTRA_PUTS
    gets = _count(counts, "requests.s3:GetObject", n)
    log_bytes = _count(counts, "log_bytes", n) + n * SFN_LOG_BYTES_PER_ACCOUNT[design.sfn_log_level]
    traced = invocations + children + 1
    reservoir = min(traced, seconds * XRAY_RESERVOIR_PER_SECOND)
    traces = reservoir + (traced - reservoir) * XRAY_RATE

    night = {
        "Step Functions: Standard transitions (parent + 1 per child started)": transitions
        * price("sfn_standard_transition"),
        "Step Functions: Express children (requests + duration)": express,
        "Lambda (requests + duration)": invocations * price("lambda_request")
        + gb_s * price(f"lambda_gb_second_{design.architecture}"),
        "DynamoDB (write + read units)": wru * price("dynamodb_write_unit") + rru * price("dynamodb_read_unit"),
        "S3 requests": puts * price("s3_put") + gets * price("s3_get"),
        f"CloudWatch Logs (functions INFO, state machine {design.sfn_log_level})": log_bytes
        / 1024**3
        * price("logs_gb_ingested"),
        "X-Ray traces (default sampling)": traces * price("xray_trace"),
    }
    if design.encrypted_logs:
        # One log stream per execution environment (cold starts) and per run step, plus the state machine's.
        night["KMS requests (log groups on the stack's key)"] = (
            (cold + 3) * KMS_REQUESTS_PER_LOG_STREAM * price("kms_request")
        )

    history_gb = n * ITEM_BYTES * min(design.history_days, 3650) / 1024**3
    run_gb = n * ITEM_BYTES * min(design.run_ttl_days, design.history_days) / 1024**3
    latest_gb = n * 1.5 * ITEM_BYTES / 1024**3
    dynamo_gb = history_gb + run_gb + latest_gb
    results_gb = n * RESULT_BYTES_PER_ACCOUNT * design.results_days / 1024**3
    manifests_gb = n * MANIFEST_BYTES_PER_ACCOUNT * 30 / 1024**3
    scanned = max(ATHENA_MIN_BYTES, n * RESULT_BYTES_PER_ACCOUNT * min(ATHENA_SCANNED_DAYS, design.results_days))
    storage = {
        "DynamoDB storage + PITR (history, RUN# items, latest)": dynamo_gb
        * (price("dynamodb_gb_month") + price("dynamodb_pitr_gb_month")),
        "S3 storage (results, manifests)": (results_gb + manifests_gb) * price("s3_gb_month"),
        f"Athena ({ATHENA_QUERIES_PER_MONTH} queries over a year of results)": ATHENA_QUERIES_PER_MONTH
        * scanned
        / 1024**4
        * price("athena_tb"),
    }
    metrics = len(counts.get("custom_metrics") or [])
    fixed = {
        f"CloudWatch custom metrics ({metrics}, measured)": metrics * price("custom_metric_month"),
        f"CloudWatch alarms ({ALARMS})": ALARMS * price("alarm_month"),
        "KMS key (alert topic, logs, schedule DLQ) + rotation": price("kms_key_month") + price("kms_rotation_month"),
    }
    if design.dashboards:
        fixed[f"CloudWatch dashboard ({design.dashboards})"] = design.dashboards * price("dashboard_month")
    config = CONFIG_ROOT_RULES * n * RUNS_PER_MONTH * price("config_evaluation")
    return Estimate(
        accounts=n,
        night=night,
        month_storage=storage,
        month_fixed=fixed,
        run_seconds=seconds,
        child_executions=children,
        aws_config=config,
    )


def _money(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.995 else f"${value:.3f}" if value >= 0.0005 else "<$0.001"


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def render_table(estimates: list[Estimate], design: Design) -> str:
    """A Markdown table: one column per organization size."""
    header = "| | " + " | ".join(f"{e.accounts:,} accounts" for e in estimates) + " |"
    lines = [header, "|---|" + "---:|" * len(estimates)]
    for label in estimates[0].night:
        lines.append(f"| night: {label} | " + " | ".join(_money(e.night[label]) for e in estimates) + " |")
    lines.append("| **one night (variable)** | " + " | ".join(f"**{_money(e.night_usd)}**" for e in estimates) + " |")
    for part in ("month_storage", "month_fixed"):
        for label in getattr(estimates[0], part):
            cells = " | ".join(_money(getattr(e, part)[label]) for e in estimates)
            lines.append(f"| month: {label} | {cells} |")
    lines.append(
        f"| **month in all ({RUNS_PER_MONTH} nights + storage + fixed)** | "
        + " | ".join(f"**{_money(e.month_usd)}**" for e in estimates)
        + " |"
    )
    lines.append(
        f"| expected run time ({design.concurrency} children x {design.batch_size} accounts) | "
        + " | ".join(_duration(e.run_seconds) for e in estimates)
        + " |"
    )
    lines.append("| child executions a night | " + " | ".join(f"{e.child_executions:,}" for e in estimates) + " |")
    lines.append(
        f"| **AWS Config, {CONFIG_ROOT_RULES} root rules, evaluated daily** | "
        + " | ".join(f"**{_money(e.aws_config)}**" for e in estimates)
        + " |"
    )
    return "\n".join(lines)


def render_summary(before: list[Estimate], after: list[Estimate]) -> str:
    """Before/after: night, month and run time per size (README's table)."""
    lines = [
        "| | " + " | ".join(f"{e.accounts:,} accounts" for e in after) + " |",
        "|---|" + "---:|" * len(after),
        "| one night (variable) | " + " | ".join(_money(e.night_usd) for e in after) + " |",
        "| month in all | " + " | ".join(_money(e.month_usd) for e in after) + " |",
        "| run time | " + " | ".join(_duration(e.run_seconds) for e in after) + " |",
        "| before issue 16, same counts: night / month / run | "
        + " | ".join(f"{_money(b.night_usd)} / {_money(b.month_usd)} / {_duration(b.run_seconds)}" for b in before)
        + " |",
        "| AWS Config, 3 root rules, daily | " + " | ".join(_money(e.aws_config) for e in after) + " |",
    ]
    return "\n".join(lines)


def _measured_lines(counts: dict[str, Any]) -> str:
    per_account, per_run = counts["per_account"], counts["per_run"]
    keys = sorted(k for k in set(per_account) | set(per_run) if per_account.get(k) or per_run.get(k))
    rows = [f"| `{k}` | {per_run.get(k, 0):g} | {per_account.get(k, 0):g} |" for k in keys]
    return "\n".join(["| measured (night 2) | per run | per account |", "|---|---:|---:|", *rows])


def _prices() -> str:
    rows = [f"| `{name}` | ${p.usd:.10g} | {p.unit} | {p.source} |" for name, p in PRICES.items()]
    return "\n".join(["| price | USD | per | source |", "|---|---:|---|---|", *rows])


def render_document(design: Design, estimates: list[Estimate], before: list[Estimate], counts: dict[str, Any]) -> str:
    """docs/cost.md: the tables, the before/after, the measured counts, the prices and the assumptions."""
    largest = max(estimates, key=lambda e: e.accounts)
    floor = listing_seconds(10_000)
    return (
        f"""# Cost and scale

<!-- Generated by `python -m infra.cost_model --write docs/cost.md` from infra/measured_counts.json (written by
`python -m bench pipeline`) and cdk.json. Do not edit by hand. tests/infra/test_cost_model.py fails when stale. -->

A nightly audit ({RUNS_PER_MONTH} runs a month) with `cdk.json`'s configuration: {design.concurrency} EXPRESS children
at a time, {design.batch_size} accounts each ({design.audits_in_flight} audits in flight), Lambda on
{design.architecture}, history kept {design.history_days} days, `RUN#` items {design.run_ttl_days} days, results
{design.results_days} days, state machine logging at {design.sfn_log_level} without execution data. Per-account
and per-run quantities are **measured** (below), not assumed. No free tiers. The last row is the same check with
three AWS Config root rules evaluated daily.

{render_table(estimates, design)}

## Before and after (issue 16)

Same measured counts, priced with the design before issue 16 (one Express child per account, Map concurrency 40,
state machine logs at ALL with execution data, one `LATEST` partition key, `RUN#` items kept as long as history,
a dashboard) and after. `python -m infra.cost_model --json` prints both (`before`, `after`).

| | before: night | after: night | before: month | after: month | before: run | after: run | children before / after |
|---|---:|---:|---:|---:|---:|---:|---:|
"""
        + "\n".join(
            f"| {b.accounts:,} accounts | {_money(b.night_usd)} | {_money(a.night_usd)} | {_money(b.month_usd)} | "
            f"{_money(a.month_usd)} | {_duration(b.run_seconds)} | {_duration(a.run_seconds)} | "
            f"{b.child_executions:,} / {a.child_executions:,} |"
            for b, a in zip(before, estimates, strict=True)
        )
        + f"""

The previous model (hand-set counts) said $0.072 a night, $10.89 a month and 3 min 39 s at 10,000 accounts: it
counted no transition for the children a Distributed Map starts (the largest line at 10,000 accounts), 3 KB of
logs an account instead of ~7 KB, and no custom metrics, X-Ray or key rotation.

How to read it:
- **Batches, not accounts, cost transitions.** A Distributed Map is billed one Standard transition per child
  execution it starts (Step Functions developer guide, "Transitions"); inline Map iterations are not. With
  `ItemBatcher` a child audits {design.batch_size} accounts, so {largest.accounts:,} accounts start
  {largest.child_executions:,} children, not {largest.accounts:,}. Each account is still its own Lambda
  invocation with its own Retry and Catch (docs/pipeline.md).
- **DynamoDB** is the measured 3 write units an account (the latest item's UpdateItem and two PutItems, each
  under 1 KB) plus FinishRun's reads and commits. Storage is mostly the history (`ACCOUNT#`, kept
  {design.history_days} days); `RUN#` items now expire after {design.run_ttl_days} days (they duplicate the S3
  results and are read only while a run can be redriven).
- **Logs**: the functions log nothing per clean account at INFO (AuditAccount logs a clean audit at DEBUG;
  measured); the state machine logs only
  failures. At ALL with execution data it logged every child's events with their input (account e-mails
  included), ~7 KB an account.
- **Fixed costs**: {len(counts.get("custom_metrics") or [])} custom metrics (measured: the EMF metrics PrepareRun
  and FinishRun emit), {ALARMS} alarms (each one a failure an operator must hear of), the KMS key of the alert
  topic with rotation. The dashboard is gone: it plotted the same metrics the run summary, the alert and the
  `daily_trend` Athena query show, for $3 a month.
- **Run time**: the org listing is the floor. PrepareRun walks the OU tree (ListRoots, then per parent
  ListOrganizationalUnitsForParent and ListAccountsForParent, {LIST_ACCOUNTS_PAGE} a page, 4 parents at once) to
  give every account its OU path: 804 calls for 10,000 accounts in 200 OUs against 502 for ListAccounts
  (`python -m bench org_walk`). The model times the listing as ListAccounts pages at
  {LIST_ACCOUNTS_PER_SECOND} requests/s, ~{floor:.0f} s for 10,000 accounts: Organizations documents no per-API
  rate for the for-parent calls (unverified), and 4 parents at once keep the walk's wall time near that floor
  when the rate is the same. The audits then take waves of {design.concurrency} children; DynamoDB
  cannot cap them: latest items are spread over {design.latest_shards} partition keys (`LATEST#nn`), and the
  run's items (1 WRU each) stay under one partition's 1,000 WRU/s. AssumeRoot has no documented rate;
  ThrottledError is retried with backoff and jitter.
- AWS Config charges per evaluation per account per rule and needs a recorder in every account; it costs
  {largest.aws_config / largest.month_usd:.0f} times rootwatch's whole bill at {largest.accounts:,} accounts.

{_measured_lines(counts)}

Prices (us-east-1, checked {CHECKED}):

{_prices()}

Assumptions (what the sandbox cannot measure): `AUDIT_SECONDS` = {AUDIT_SECONDS},
`BATCH_STRAGGLER_FACTOR` = {BATCH_STRAGGLER_FACTOR}, `CHILD_OVERHEAD_SECONDS` = {CHILD_OVERHEAD_SECONDS},
`COLD_START_SECONDS` = {COLD_START_SECONDS}, `ITEM_BYTES` = {ITEM_BYTES}, `RESULT_WRITER_EXTRA_PUTS` =
{RESULT_WRITER_EXTRA_PUTS}, `SFN_LOG_BYTES_PER_ACCOUNT` = {SFN_LOG_BYTES_PER_ACCOUNT}, X-Ray sampling
{XRAY_RESERVOIR_PER_SECOND}/s + {XRAY_RATE:.0%}, `ATHENA_QUERIES_PER_MONTH` = {ATHENA_QUERIES_PER_MONTH}.
"""
    )


def _cdk_json_defaults() -> dict[str, Any]:
    return dict(json.loads((REPO / "cdk.json").read_text(encoding="utf-8")).get("context", {}))


def configured_design(concurrency: int | None = None, batch_size: int | None = None) -> Design:
    """cdk.json's design (``concurrency``/``batch_size`` override the Map's settings)."""
    from rootwatch.aws.status_store import LATEST_SHARDS
    from rootwatch.aws.status_store import RUN_TTL_DAYS as STORE_RUN_TTL_DAYS

    context = _cdk_json_defaults()
    return Design(
        concurrency=int(concurrency or context.get("rootwatch:mapMaxConcurrency", 8)),
        batch_size=int(batch_size or context.get("rootwatch:mapBatchSize", 40)),
        architecture=str(context.get("rootwatch:lambdaArchitecture", "arm64")),
        history_days=int(context.get("rootwatch:historyRetentionDays", 400)),
        results_days=int(context.get("rootwatch:resultsRetentionDays", 1096)),
        latest_shards=LATEST_SHARDS,
        run_ttl_days=STORE_RUN_TTL_DAYS,
    )


def build(
    accounts: tuple[int, ...] = DEFAULT_ACCOUNTS, concurrency: int | None = None, batch_size: int | None = None
) -> tuple[list[Estimate], Design]:
    """Estimates for each size with cdk.json's design (``concurrency``/``batch_size`` override it)."""
    design = configured_design(concurrency, batch_size)
    counts = load_counts()
    return [estimate(n, design, counts) for n in accounts], design


def main(argv: list[str] | None = None) -> int:
    """Print the table (or ``--json``), or write docs/cost.md with ``--write``."""
    parser = argparse.ArgumentParser(prog="python -m infra.cost_model", description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", default=",".join(str(n) for n in DEFAULT_ACCOUNTS))
    parser.add_argument("--concurrency", type=int, default=None, help="default: rootwatch:mapMaxConcurrency")
    parser.add_argument("--batch-size", type=int, default=None, help="default: rootwatch:mapBatchSize")
    parser.add_argument("--json", action="store_true", help="print night_usd, month_usd, run_seconds, ... as JSON")
    parser.add_argument("--write", metavar="PATH", help="write the generated Markdown document there")
    args = parser.parse_args(argv)
    try:
        sizes = tuple(int(n) for n in args.accounts.split(","))
    except ValueError:
        parser.error(f"--accounts: {args.accounts!r} is not a comma-separated list of integers")
    if any(n < 1 for n in sizes) or any(v is not None and v < 1 for v in (args.concurrency, args.batch_size)):
        parser.error("--accounts, --concurrency and --batch-size must be at least 1")
    estimates, design = build(sizes, args.concurrency, args.batch_size)
    counts = load_counts()
    before = [estimate(n, BEFORE, counts) for n in sizes]
    if args.write:
        Path(args.write).write_text(render_document(design, estimates, before, counts), encoding="utf-8")
        print(f"wrote {args.write}")
    if args.json:
        document = {
            "design": asdict(design),
            "counts": str(COUNTS_FILE.relative_to(REPO)),
            "after": [e.to_json() for e in estimates],
            "before": [e.to_json() for e in before],
        }
        print(json.dumps(document, indent=2))
    else:
        print(render_table(estimates, design))
    return 0


if __name__ == "__main__":
    sys.exit(main())


# --- realtime re-audit (issue 15, infra/realtime.py, docs/realtime.md) -------------------------------------------
#: Prices of the event path only (kept out of PRICES, whose table docs/cost.md renders), checked on CHECKED.
_EVENTBRIDGE = "https://aws.amazon.com/eventbridge/pricing/"
_SQS = "https://aws.amazon.com/sqs/pricing/"
REALTIME_PRICES: dict[str, Price] = {
    # AWS service (CloudTrail) events on a default bus are free; forwarding them to another account's bus is billed
    # as a custom/cross-account event.
    "eventbridge_cross_account_event": Price(1.00 / 1e6, "event delivered to a bus in another account", _EVENTBRIDGE),
    "sqs_request": Price(0.40 / 1e6, "standard queue request (64 KB chunk)", _SQS),
}
#: Assumed: a root credential change (or root sign-in) is rare: one per 100 accounts a month.
REALTIME_EVENTS_PER_ACCOUNT_MONTH = 0.01
#: Assumed: Lambda's SQS pollers long-poll an idle queue (20 s waits); a few pollers, ~650,000 empty receives a month.
REALTIME_IDLE_RECEIVES_MONTH = 650_000
#: A storm: 1,000 events a minute for an hour (e.g. a script rotating keys across the organization).
STORM_EVENTS_PER_MINUTE = 1_000
STORM_MINUTES = 60


def realtime_cost(events: float, *, idle: bool = True, architecture: str = "arm64", batch_size: int = 10) -> float:
    """USD for ``events`` root-credential events through the realtime path: one cross-account delivery, one
    SendMessage and (per batch) a ReceiveMessage and DeleteMessageBatch, one invocation per batch and one audit per
    event (no de-duplication counted), plus the pollers' idle receives when ``idle``."""
    batches = math.ceil(events / batch_size)
    lambda_seconds = events * AUDIT_SECONDS + batches * COLD_START_SECONDS * 0.1  # ~10% of batches start cold
    return (
        events * REALTIME_PRICES["eventbridge_cross_account_event"].usd
        + (events + 2 * batches + (REALTIME_IDLE_RECEIVES_MONTH if idle else 0)) * REALTIME_PRICES["sqs_request"].usd
        + batches * price("lambda_request")
        + lambda_seconds * MEMORY_GB["audit"] * price(f"lambda_gb_second_{architecture}")
    )


def realtime_month_usd(accounts: int) -> float:
    """A month of the realtime path at the assumed near-zero rate of root events."""
    return realtime_cost(accounts * REALTIME_EVENTS_PER_ACCOUNT_MONTH)


def realtime_storm_usd() -> float:
    """One storm (STORM_EVENTS_PER_MINUTE for STORM_MINUTES), on top of the month."""
    return realtime_cost(STORM_EVENTS_PER_MINUTE * STORM_MINUTES, idle=False)
