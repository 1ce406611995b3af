"""`rootwatch run`: start an audit run of the deployed state machine, follow it, print the run summary.

Works against AWS (the stack CDK deployed) and a sandbox (``--endpoint-url``). The state machine is
``--state-machine-arn``, or the one whose name ends in ``audit-run`` when exactly one does. Progress (the
Distributed Map's item counts) goes to stderr; the run summary (FinishRun's output) to stdout.

Exit codes: 0 nothing found; 3 root credentials or audit errors found, or the run failed; 2 bad usage;
1 anything else.
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from rootwatch.aws.clients import ClientFactory

from rootwatch_cli import EXIT_FINDINGS, EXIT_OK, UsageError
from rootwatch_cli.common import add_aws_args, add_fail_on_arg, factory_from_args
from rootwatch_cli.output import stderr_is_terminal

STATE_MACHINE_SUFFIX = "audit-run"
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``run`` verb."""
    parser = subparsers.add_parser(
        "run",
        help="start an audit run of the deployed pipeline and follow it",
        description="Start an execution of the rootwatch state machine (AWS or sandbox), follow it with "
        "progress on stderr, and print the run summary.",
    )
    add_aws_args(parser)
    parser.add_argument("--state-machine-arn", help="the audit state machine (default: the one named *audit-run)")
    parser.add_argument("--name", help="execution name = run id (default: run-<UTC time>-<random>)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for the run (default 3600)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    add_fail_on_arg(parser, new_help="new findings only (credentials that appeared, first audits that found some)")
    parser.set_defaults(func=run)


def new_run_id(now: datetime | None = None) -> str:
    """A unique, time-ordered execution name: ``run-20261122T020000Z-1a2b3c``."""
    moment = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"run-{moment}-{secrets.token_hex(3)}"


def find_state_machine(sfn: Any, account: str | None = None) -> str:
    """The ARN of the one state machine named ``*audit-run``; UsageError when there are none or several.

    The error names where it looked (region, account, endpoint) and how to deploy when there is none.
    """
    machines = sfn.get_paginator("list_state_machines").paginate().build_full_result()["stateMachines"]
    matches = [m["stateMachineArn"] for m in machines if m["name"].endswith(STATE_MACHINE_SUFFIX)]
    if len(matches) == 1:
        return str(matches[0])
    endpoint = sfn.meta.endpoint_url
    where = f"region {sfn.meta.region_name}" + (f", account {account}" if account else "")
    sandbox = "amazonaws.com" not in endpoint
    if sandbox:
        where += f", endpoint {endpoint}"
    if matches:
        raise UsageError(
            f"--state-machine-arn: several state machines named *{STATE_MACHINE_SUFFIX} in {where} "
            f"({', '.join(matches)}); give one"
        )
    deploy = f"`rootwatch sandbox deploy --endpoint-url {endpoint}`" if sandbox else "`cdk deploy` (docs/deploying.md)"
    raise UsageError(
        f"no rootwatch state machine (*{STATE_MACHINE_SUFFIX}) in {where}: deploy the stack there first with "
        f"{deploy}, or give --region/--profile of the stack, or --state-machine-arn"
    )


def caller_account(factory: ClientFactory) -> str | None:
    """The caller's account id, for messages; None when it cannot be told (best effort)."""
    try:
        return str(factory.client("sts").get_caller_identity()["Account"])
    except Exception:  # only names the account in an error message; the real call reports the real error
        return None


def start_and_follow(
    sfn: Any,
    state_machine_arn: str,
    *,
    name: str | None = None,
    timeout: float = 3600.0,
    progress: bool = True,
    poll_seconds: float = 0.2,
) -> dict[str, Any]:
    """Start an execution and wait for it; returns ``describe_execution`` plus the parsed ``summary``."""
    name = name or new_run_id()
    execution_arn = sfn.start_execution(
        stateMachineArn=state_machine_arn, name=name, input=json.dumps({"trigger": "cli"})
    )["executionArn"]
    deadline = time.monotonic() + timeout
    bar = _Progress(enabled=progress)
    try:
        while True:
            described = sfn.describe_execution(executionArn=execution_arn)
            bar.update(_map_counts(sfn, execution_arn))
            if described["status"] in TERMINAL:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {name} still {described['status']} after {timeout:.0f} s")
            time.sleep(poll_seconds)
    finally:
        bar.close()
    described["summary"] = _summary(sfn, described)
    return described


def _map_counts(sfn: Any, execution_arn: str) -> dict[str, int] | None:
    try:
        runs = sfn.list_map_runs(executionArn=execution_arn).get("mapRuns", [])
        if not runs:
            return None
        return sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"]).get("itemCounts")
    except Exception:  # progress is best effort: never fail a run because a counter could not be read
        return None


def _summary(sfn: Any, described: dict[str, Any]) -> dict[str, Any] | None:
    """FinishRun's output: the execution output when it succeeded, else the FinishRun step in the history."""
    if described.get("output"):
        return json.loads(described["output"])
    history = sfn.get_execution_history(executionArn=described["executionArn"], reverseOrder=True)
    for event in history.get("events", []):
        details = event.get("taskSucceededEventDetails") or event.get("lambdaFunctionSucceededEventDetails")
        if details and details.get("output"):
            output = json.loads(details["output"])
            payload = output.get("Payload", output)
            if isinstance(payload, dict) and "totals" in payload:
                return payload
    return None


class _Progress:
    """A rich progress bar on stderr, fed with the Map's item counts."""

    def __init__(self, enabled: bool) -> None:
        self._progress = None
        self._task = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("auditing accounts"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("audit", total=None)

    def update(self, counts: dict[str, int] | None) -> None:
        if self._progress is None or self._task is None or not counts:
            return
        done = int(counts.get("succeeded", 0)) + int(counts.get("failed", 0)) + int(counts.get("aborted", 0))
        self._progress.update(self._task, total=int(counts.get("total", 0)) or None, completed=done)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def format_summary(described: dict[str, Any]) -> str:
    """The run summary as a few human lines."""
    summary = described.get("summary") or {}
    totals = summary.get("totals", {})
    lines = [f"run {described['name']}: {described['status']}"]
    if summary:
        lines.append(
            f"  accounts {totals.get('accounts', 0)}: audited {totals.get('audited', 0)}, "
            f"with root credentials {totals.get('with_root_credentials', 0)}, "
            f"reappeared {totals.get('reappeared', 0)}, "
            f"new with credentials {totals.get('new_with_credentials', 0)}, errors {totals.get('errors', 0)}, "
            f"skipped {totals.get('skipped', 0)}"
        )
        if summary.get("results_key"):
            lines.append(f"  results: {summary['results_key']}")
        if summary.get("alert_subject"):
            state = "sent" if summary.get("alert_sent") else "not sent"
            lines.append(f"  alert ({state}): {summary['alert_subject']}")
        else:
            lines.append("  no alert: nothing needed a human")
        if summary.get("error_code"):
            lines.append(f"  run failed: {summary['error_code']}: {summary.get('error_message')}")
    elif described.get("error") or described.get("cause"):
        lines.append(f"  {described.get('error')}: {described.get('cause')}")
    return "\n".join(lines)


def exit_code(described: dict[str, Any], fail_on: str = "any") -> int:
    """0 when the run found nothing; 3 for root credentials, audit errors, or a failed run.

    ``fail_on="new"``: 3 only for credentials that appeared since the last alerted state, a first audit that
    found credentials, audit errors, or a failed run (what the run alerted about). ``"none"``: always 0.
    """
    if fail_on == "none":
        return EXIT_OK
    summary = described.get("summary") or {}
    totals = summary.get("totals", {})
    if described["status"] != "SUCCEEDED":
        return EXIT_FINDINGS
    if totals.get("errors"):
        return EXIT_FINDINGS
    found = ("reappeared", "new_with_credentials") if fail_on == "new" else ("with_root_credentials",)
    return EXIT_FINDINGS if any(totals.get(key) for key in found) else EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Start, follow, print; see the module docstring for exit codes."""
    if args.timeout <= 0:
        raise UsageError(f"--timeout: must be positive, got {args.timeout}")
    if args.name is not None:
        from rootwatch.aws.results_writer import _RUN_ID

        if not _RUN_ID.match(args.name):
            raise UsageError(f"--name: {args.name!r} must be letters, digits, . _ : - (up to 80)")
    factory = factory_from_args(args)
    sfn = factory.client("stepfunctions")
    arn = args.state_machine_arn or find_state_machine(sfn, caller_account(factory))
    described = start_and_follow(
        sfn, arn, name=args.name, timeout=args.timeout, progress=not args.no_progress and stderr_is_terminal()
    )
    if args.json:
        print(
            json.dumps(
                {"name": described["name"], "status": described["status"], "summary": described.get("summary")},
                indent=2,
                default=str,
            )
        )
    else:
        print(format_summary(described))
    return exit_code(described, args.fail_on)
