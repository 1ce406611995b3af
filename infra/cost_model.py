"""Cost and run-time model of a nightly rootwatch audit, and the same audit through AWS Config.

Re-run it when prices or config change::

    python -m infra.cost_model                   # prints the table (concurrency/architecture from cdk.json)
    python -m infra.cost_model --write docs/cost.md
    python -m infra.cost_model --concurrency 100 --accounts 500,5000

Prices marked FACTS are AWS's published prices (pricing pages; Step Functions' in docs/aws-behaviour.md);
the others are AWS list prices (us-east-1), marked "list price" so they can be checked. Workload figures (calls, item
sizes, durations) are the model's assumptions, named below, each with its reason.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

# --- prices (USD) ---------------------------------------------------------------------------------
LAMBDA_PER_REQUEST = 0.20 / 1e6  # FACTS
LAMBDA_PER_GB_SECOND = {"x86_64": 0.0000166667, "arm64": 0.0000133334}  # FACTS
SFN_STANDARD_PER_TRANSITION = 0.025 / 1000  # FACTS
SFN_EXPRESS_PER_REQUEST = 1.00 / 1e6  # FACTS
SFN_EXPRESS_PER_GB_SECOND = 0.00001667  # list price, first tier; billed per 100 ms, 64 MB minimum
DYNAMODB_PER_WRITE_UNIT = 0.625 / 1e6  # FACTS (on-demand)
DYNAMODB_PER_READ_UNIT = 0.125 / 1e6  # list price (on-demand)
DYNAMODB_PER_GB_MONTH = 0.25  # list price (standard table class)
DYNAMODB_PITR_PER_GB_MONTH = 0.20  # list price
S3_PER_PUT = 0.005 / 1000  # FACTS
S3_PER_GET = 0.0004 / 1000  # list price
S3_PER_GB_MONTH = 0.023  # list price (Standard)
ATHENA_PER_TB = 5.00  # FACTS
ATHENA_MIN_BYTES = 10 * 1024**2  # FACTS: 10 MB minimum per query
CONFIG_PER_EVALUATION = 0.001  # FACTS ("about"; AWS tiers it lower above 100,000 evaluations a month)
CONFIG_ROOT_RULES = 3  # FACTS: root access key, root MFA, root hardware MFA (IAM.4/IAM.6/IAM.9)
LOGS_PER_GB_INGESTED = 0.50  # list price
FIXED_MONTHLY = {  # list prices, independent of the number of accounts
    "KMS key (alert topic)": 1.00,
    "CloudWatch alarms (6)": 0.60,
    "CloudWatch dashboard": 3.00,
}

# --- workload assumptions ----------------------------------------------------------------------------
RUNS_PER_MONTH = 30  # nightly
#: ListAccounts returns at most 20 a page and allows 8 requests/s (FACTS): the org listing's floor.
LIST_ACCOUNTS_PAGE = 20
LIST_ACCOUNTS_PER_SECOND = 8
#: AssumeRoot + GetAccountSummary + the DynamoDB update and transaction, warm (clean account: 2 API calls).
AUDIT_SECONDS = 0.45
#: A cold start (Python 3.13 + Powertools layer, import under 300 ms, plus the runtime's init).
COLD_START_SECONDS = 0.9
#: What Step Functions adds around each child: starting the Express execution and the lambda:invoke task.
CHILD_OVERHEAD_SECONDS = 0.15
PREPARE_FIXED_SECONDS = 1.0  # feature check, DescribeOrganization, manifest PUT
FINISH_FIXED_SECONDS = 1.5  # summary, alert, results PUT
FINISH_SECONDS_PER_ACCOUNT = 0.0003  # reading the run's items (1 MB Query pages) and gzip
MEMORY_GB = {"prepare": 0.5, "audit": 0.25, "finish": 1.0}  # infra/workflow.py
EXPRESS_BILLED_GB = 0.0625  # 64 MB: the Express minimum; the child's state is a few KB
#: Standard transitions of one run: PrepareRun, AuditAccounts, FinishRun, RunOutcome, RunSucceeded, plus slack
#: for retries. Express children are billed as Express requests, not as the parent's transitions.
STANDARD_TRANSITIONS_PER_RUN = 8
#: Per account and run: the latest item (UpdateItem, ~1.5 KB: 2 WRU) and a transaction of two ~1 KB puts
#: (history + run item; transactions cost double: 4 WRU).
WRITE_UNITS_PER_ACCOUNT = 6
#: FinishRun reads the run's items with strongly consistent Query pages: 1 RRU per 4 KB, ~1 KB an item.
READ_UNITS_PER_ACCOUNT = 0.25
WRITE_UNITS_PER_RUN = 4  # summary, alert claim
ITEM_BYTES = 1024
HISTORY_ITEMS_PER_ACCOUNT_RUN = 2  # ACCOUNT#<id> history + RUN#<run> record, both kept for the TTL
LATEST_ITEM_BYTES = 1536
#: S3 per run: manifest + results object + ResultWriter's manifest and result files; GETs: ItemReader, finish.
S3_PUTS_PER_RUN = 5
S3_GETS_PER_RUN = 2
RESULT_BYTES_PER_ACCOUNT = 220  # one gzip JSON line
MANIFEST_BYTES_PER_ACCOUNT = 120
#: Athena: a security team running the named queries, each scanning up to a year of results.
ATHENA_QUERIES_PER_MONTH = 60
ATHENA_SCANNED_DAYS = 365
#: CloudWatch Logs: state machine logging at level ALL (every child's events) and the Lambdas' JSON lines.
LOG_BYTES_PER_ACCOUNT = 3000

DEFAULT_ACCOUNTS = (100, 1_000, 10_000)


@dataclass(frozen=True)
class Estimate:
    """Monthly cost (USD) by service and the run time of one nightly audit for ``accounts`` accounts."""

    accounts: int
    concurrency: int
    lambda_: float
    step_functions: float
    dynamodb: float
    s3: float
    athena: float
    logs: float
    fixed: float
    run_seconds: float
    aws_config: float

    @property
    def total(self) -> float:
        """Everything rootwatch costs in a month."""
        return self.lambda_ + self.step_functions + self.dynamodb + self.s3 + self.athena + self.logs + self.fixed

    @property
    def per_run(self) -> float:
        """The variable cost of one night (no storage, queries or fixed costs)."""
        return (self.lambda_ + self.step_functions) / RUNS_PER_MONTH + self._dynamodb_requests_per_run

    @property
    def _dynamodb_requests_per_run(self) -> float:
        return (
            self.accounts * WRITE_UNITS_PER_ACCOUNT + WRITE_UNITS_PER_RUN
        ) * DYNAMODB_PER_WRITE_UNIT + self.accounts * READ_UNITS_PER_ACCOUNT * DYNAMODB_PER_READ_UNIT


def run_seconds(accounts: int, concurrency: int) -> float:
    """Expected wall-clock of one run: the org listing, the Map in waves of ``concurrency``, then FinishRun."""
    pages = max(1, math.ceil(accounts / LIST_ACCOUNTS_PAGE))
    prepare = PREPARE_FIXED_SECONDS + pages / LIST_ACCOUNTS_PER_SECOND
    waves = math.ceil(accounts / concurrency)
    child = AUDIT_SECONDS + CHILD_OVERHEAD_SECONDS
    audit = waves * child + COLD_START_SECONDS  # the first wave of containers starts cold
    finish = FINISH_FIXED_SECONDS + accounts * FINISH_SECONDS_PER_ACCOUNT
    return prepare + audit + finish


def estimate(accounts: int, *, concurrency: int, architecture: str, history_days: int, results_days: int) -> Estimate:
    """The monthly estimate for an organization of ``accounts`` member accounts."""
    if accounts < 1 or concurrency < 1:
        raise ValueError("accounts and concurrency must be at least 1")
    runs = RUNS_PER_MONTH
    gb_second = LAMBDA_PER_GB_SECOND[architecture]
    pages = math.ceil(accounts / LIST_ACCOUNTS_PAGE)
    prepare_s = PREPARE_FIXED_SECONDS + pages / LIST_ACCOUNTS_PER_SECOND
    finish_s = FINISH_FIXED_SECONDS + accounts * FINISH_SECONDS_PER_ACCOUNT
    cold_starts = min(accounts, concurrency)
    audit_s = accounts * AUDIT_SECONDS + cold_starts * COLD_START_SECONDS
    lambda_gb_s = prepare_s * MEMORY_GB["prepare"] + audit_s * MEMORY_GB["audit"] + finish_s * MEMORY_GB["finish"]
    lambda_cost = runs * ((accounts + 2) * LAMBDA_PER_REQUEST + lambda_gb_s * gb_second)

    child_billed_s = math.ceil((AUDIT_SECONDS + CHILD_OVERHEAD_SECONDS) * 10) / 10  # 100 ms increments
    express = accounts * (SFN_EXPRESS_PER_REQUEST + EXPRESS_BILLED_GB * child_billed_s * SFN_EXPRESS_PER_GB_SECOND)
    sfn_cost = runs * (STANDARD_TRANSITIONS_PER_RUN * SFN_STANDARD_PER_TRANSITION + express)

    writes = accounts * WRITE_UNITS_PER_ACCOUNT + WRITE_UNITS_PER_RUN
    reads = accounts * READ_UNITS_PER_ACCOUNT
    stored_gb = (
        accounts * HISTORY_ITEMS_PER_ACCOUNT_RUN * ITEM_BYTES * min(history_days, 3650) + accounts * LATEST_ITEM_BYTES
    ) / 1024**3
    dynamodb_cost = runs * (writes * DYNAMODB_PER_WRITE_UNIT + reads * DYNAMODB_PER_READ_UNIT) + stored_gb * (
        DYNAMODB_PER_GB_MONTH + DYNAMODB_PITR_PER_GB_MONTH
    )

    results_gb = accounts * RESULT_BYTES_PER_ACCOUNT * results_days / 1024**3
    manifests_gb = accounts * MANIFEST_BYTES_PER_ACCOUNT * 30 / 1024**3  # expire after 30 days
    s3_cost = (
        runs * (S3_PUTS_PER_RUN * S3_PER_PUT + S3_GETS_PER_RUN * S3_PER_GET)
        + (results_gb + manifests_gb) * S3_PER_GB_MONTH
    )

    scanned = max(ATHENA_MIN_BYTES, accounts * RESULT_BYTES_PER_ACCOUNT * min(ATHENA_SCANNED_DAYS, results_days))
    athena_cost = ATHENA_QUERIES_PER_MONTH * scanned / 1024**4 * ATHENA_PER_TB

    logs_cost = runs * accounts * LOG_BYTES_PER_ACCOUNT / 1024**3 * LOGS_PER_GB_INGESTED

    config_cost = CONFIG_ROOT_RULES * accounts * runs * CONFIG_PER_EVALUATION
    return Estimate(
        accounts=accounts,
        concurrency=concurrency,
        lambda_=lambda_cost,
        step_functions=sfn_cost,
        dynamodb=dynamodb_cost,
        s3=s3_cost,
        athena=athena_cost,
        logs=logs_cost,
        fixed=sum(FIXED_MONTHLY.values()),
        run_seconds=run_seconds(accounts, concurrency),
        aws_config=config_cost,
    )


def _money(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.995 else f"${value:.3f}" if value >= 0.0005 else "<$0.001"


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def render_table(estimates: list[Estimate]) -> str:
    """A Markdown table: one column per organization size."""
    header = "| per month | " + " | ".join(f"{e.accounts:,} accounts" for e in estimates) + " |"
    rule = "|---|" + "---:|" * len(estimates)
    rows = [
        ("Lambda", [e.lambda_ for e in estimates]),
        ("Step Functions (Standard transitions + Express children)", [e.step_functions for e in estimates]),
        ("DynamoDB (requests + storage + PITR)", [e.dynamodb for e in estimates]),
        ("S3 (requests + storage)", [e.s3 for e in estimates]),
        (f"Athena ({ATHENA_QUERIES_PER_MONTH} queries over a year of results)", [e.athena for e in estimates]),
        ("CloudWatch Logs (level ALL)", [e.logs for e in estimates]),
        ("Fixed (KMS key, alarms, dashboard)", [e.fixed for e in estimates]),
        ("**rootwatch total**", [e.total for e in estimates]),
        ("one night (Lambda + Step Functions + DynamoDB requests)", [e.per_run for e in estimates]),
    ]
    lines = [header, rule]
    for label, values in rows:
        cells = " | ".join(f"**{_money(v)}**" if label.startswith("**") else _money(v) for v in values)
        lines.append(f"| {label} | {cells} |")
    lines.append(
        f"| expected run time (Map concurrency {estimates[0].concurrency}) | "
        + " | ".join(_duration(e.run_seconds) for e in estimates)
        + " |"
    )
    lines.append(
        f"| **AWS Config, {CONFIG_ROOT_RULES} root rules, evaluated daily** | "
        + " | ".join(f"**{_money(e.aws_config)}**" for e in estimates)
        + " |"
    )
    return "\n".join(lines)


def _assumptions() -> str:
    names = [
        "AUDIT_SECONDS",
        "COLD_START_SECONDS",
        "CHILD_OVERHEAD_SECONDS",
        "LIST_ACCOUNTS_PER_SECOND",
        "WRITE_UNITS_PER_ACCOUNT",
        "RESULT_BYTES_PER_ACCOUNT",
        "ATHENA_QUERIES_PER_MONTH",
        "LOG_BYTES_PER_ACCOUNT",
    ]
    module = sys.modules[__name__]
    return "\n".join(f"- `{name}` = {getattr(module, name)}" for name in names)


def render_document(estimates: list[Estimate], *, architecture: str, history_days: int, results_days: int) -> str:
    """docs/cost.md: the table, the config it was computed for, and the assumptions."""
    largest = max(estimates, key=lambda e: e.accounts)
    config_ratio = f"{largest.aws_config / largest.total:.0f}"
    page, rate = LIST_ACCOUNTS_PAGE, LIST_ACCOUNTS_PER_SECOND
    listing = math.ceil(10_000 / page / rate)
    return f"""# Cost and scale

<!-- Generated by `python -m infra.cost_model --write docs/cost.md`. Do not edit by hand: change the
model (infra/cost_model.py) or cdk.json and re-run. tests/infra/test_cost_model.py fails when stale. -->

Monthly cost of a nightly audit ({RUNS_PER_MONTH} runs a month), for the configuration in `cdk.json`:
Map concurrency {estimates[0].concurrency}, Lambda on {architecture}, DynamoDB history kept {history_days} days,
results kept {results_days} days. The last row is the same check done with three AWS Config root rules
(IAM.4 root access key, IAM.6 root hardware MFA, IAM.9 root MFA) evaluated daily in every account.

{render_table(estimates)}

How to read it:
- A night's variable cost grows linearly: one Lambda invocation, one Express child and six DynamoDB
  write units per account. Storage (history for the TTL, results for Athena) dominates only for small orgs.
- AWS Config charges per evaluation per account per rule; it also needs a Config recorder in every
  account (configuration items are billed on top and not counted here), and it cannot say "this
  credential reappeared" or give a central view. Above 100,000 evaluations a month
  AWS tiers the price down, so the last row overstates the largest org somewhat. Even so, Config costs
  more than rootwatch's whole bill (fixed costs included) at every size, {config_ratio} times more at
  {largest.accounts:,} accounts: it grows with every account, while rootwatch's bill is mostly fixed.
- The run time is bounded below by Organizations ListAccounts ({page} a page, {rate} requests/s):
  about {listing} s of listing for 10,000 accounts. The Map then runs waves of
  `rootwatch:mapMaxConcurrency` children. Raising it shortens the run until AssumeRoot throttles
  (ThrottledError is retried with backoff and jitter).

Prices: AWS's published prices (Lambda, Standard transitions, Express requests, DynamoDB writes,
S3 PUT, Athena, Config); AWS list prices for us-east-1 otherwise (named constants in
`infra/cost_model.py`). Workload assumptions:

{_assumptions()}
"""


def _cdk_json_defaults() -> dict[str, object]:
    path = Path(__file__).resolve().parent.parent / "cdk.json"
    return dict(json.loads(path.read_text(encoding="utf-8")).get("context", {}))


def build(accounts: tuple[int, ...] = DEFAULT_ACCOUNTS, concurrency: int | None = None) -> tuple[list[Estimate], dict]:
    """Estimates for each size with cdk.json's configuration (``concurrency`` overrides the Map concurrency)."""
    context = _cdk_json_defaults()
    settings = {
        "concurrency": int(concurrency or context.get("rootwatch:mapMaxConcurrency", 40)),  # type: ignore[call-overload]
        "architecture": str(context.get("rootwatch:lambdaArchitecture", "arm64")),
        "history_days": int(context.get("rootwatch:historyRetentionDays", 400)),  # type: ignore[call-overload]
        "results_days": int(context.get("rootwatch:resultsRetentionDays", 1096)),  # type: ignore[call-overload]
    }
    return [estimate(n, **settings) for n in accounts], settings


def main(argv: list[str] | None = None) -> int:
    """Print the table, or write docs/cost.md with ``--write``."""
    parser = argparse.ArgumentParser(prog="python -m infra.cost_model", description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", default=",".join(str(n) for n in DEFAULT_ACCOUNTS))
    parser.add_argument("--concurrency", type=int, default=None, help="default: rootwatch:mapMaxConcurrency")
    parser.add_argument("--write", metavar="PATH", help="write the generated Markdown document there")
    args = parser.parse_args(argv)
    try:
        sizes = tuple(int(n) for n in args.accounts.split(","))
    except ValueError:
        parser.error(f"--accounts: {args.accounts!r} is not a comma-separated list of integers")
    if any(n < 1 for n in sizes) or (args.concurrency is not None and args.concurrency < 1):
        parser.error("--accounts and --concurrency must be at least 1")
    estimates, settings = build(sizes, args.concurrency)
    if args.write:
        document = render_document(
            estimates,
            architecture=settings["architecture"],
            history_days=settings["history_days"],
            results_days=settings["results_days"],
        )
        Path(args.write).write_text(document, encoding="utf-8")
        print(f"wrote {args.write}")
    print(render_table(estimates))
    return 0


if __name__ == "__main__":
    sys.exit(main())
