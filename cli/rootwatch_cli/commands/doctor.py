"""`rootwatch doctor`: preflight checks for running rootwatch, one line each (ok, warn or fail) with the fix.

Exit codes: 0 when no check failed (warnings are allowed: they never stop the nightly audit), 3 when any
check failed, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import sys

from rootwatch_cli.common import add_account_arg, add_aws_args, factory_from_args
from rootwatch_cli.flags import operator_command
from rootwatch_cli.operations.doctor import Check, Status, exit_code, run_doctor
from rootwatch_cli.output import FORMATS, render

MARK = {Status.OK: "ok  ", Status.WARN: "warn", Status.FAIL: "FAIL"}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``doctor`` verb."""
    parser = subparsers.add_parser(
        "doctor",
        help="check that rootwatch can run here (caller, org features, STS endpoint, SCPs, a trial audit)",
        description="Preflight for rootwatch. Changes nothing; the trial uses the read-only audit task policy.",
    )
    add_aws_args(parser)
    add_account_arg(parser, "member account for the trial audit (default: the first ACTIVE)", required=False)
    parser.add_argument(
        "--format", choices=("text", *FORMATS), default="text", help="output format (default: text, one line each)"
    )
    parser.set_defaults(func=run)


@operator_command
def run(args: argparse.Namespace) -> int:
    """Run every check and print one line each; the exit code says whether any failed."""
    checks = run_doctor(factory_from_args(args), args.account)
    if args.format != "text":
        render([c.to_dict() for c in checks], args.format, sys.stdout, columns=("check", "status", "detail", "fix"))
    else:
        for line in format_checks(checks):
            print(line)
    return exit_code(checks)


def format_checks(checks: list[Check]) -> list[str]:
    """One line per check (fix on the next line when there is one), then a summary line."""
    width = max((len(c.name) for c in checks), default=0)
    lines: list[str] = []
    for check in checks:
        lines.append(f"{MARK[check.status]}  {check.name.ljust(width)}  {check.detail}")
        if check.fix and check.status is not Status.OK:
            lines.append(f"      {' ' * width}  fix: {check.fix}")
    counts = {status: sum(1 for c in checks if c.status is status) for status in Status}
    lines.append(f"doctor: {counts[Status.OK]} ok, {counts[Status.WARN]} warn, {counts[Status.FAIL]} fail")
    return lines
