"""`rootwatch enable`: turn on centralized root access (trusted access -> features -> delegated admin).

With --stacksets it also prepares the optional real-time path: trusted access for CloudFormation StackSets and,
with --delegated-admin, that account's registration as StackSets delegated administrator.

Idempotent: each step reports ``already``, ``changed`` (or ``would change`` with --dry-run) or ``FAILED``.
Must run in the management account. Exit codes: 0 done, 3 a step failed, 2 refused or bad usage.
"""

from __future__ import annotations

import argparse

from rootwatch_cli import EXIT_FINDINGS, EXIT_OK
from rootwatch_cli.common import account_id_type, add_aws_args, factory_from_args
from rootwatch_cli.flags import operator_command
from rootwatch_cli.operations.enable import StepStatus, enable_root_access
from rootwatch_cli.operations.preflight import identify_caller

LABEL = {
    StepStatus.ALREADY: "already",
    StepStatus.CHANGED: "changed",
    StepStatus.WOULD_CHANGE: "would change",
    StepStatus.FAILED: "FAILED",
}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``enable`` verb."""
    parser = subparsers.add_parser(
        "enable",
        help="enable centralized root access for the organization (management account only)",
        description="Enables, in order: trusted access for iam.amazonaws.com, RootCredentialsManagement, "
        "RootSessions (with --root-sessions), the IAM delegated administrator (with --delegated-admin), and, "
        "with --stacksets, trusted access for CloudFormation StackSets and (with --delegated-admin) the StackSets "
        "delegated administrator. Each step changes only what is missing.",
    )
    add_aws_args(parser)
    parser.add_argument(
        "--root-sessions",
        action="store_true",
        help="also enable RootSessions (privileged root actions: the unlock commands need it)",
    )
    parser.add_argument(
        "--delegated-admin",
        metavar="ID",
        type=account_id_type("--delegated-admin"),
        help="register this member account as IAM delegated admin (and, with --stacksets, StackSets delegated admin)",
    )
    parser.add_argument(
        "--stacksets",
        action="store_true",
        help="also activate trusted access for CloudFormation StackSets (only the optional real-time path needs it)",
    )
    parser.add_argument("--dry-run", action="store_true", help="only report what would change")
    parser.set_defaults(func=run)


@operator_command
def run(args: argparse.Namespace) -> int:
    """Run the steps and print one line per step."""
    factory = factory_from_args(args)
    caller = identify_caller(factory)
    steps = enable_root_access(
        factory,
        caller,
        root_sessions=args.root_sessions,
        delegated_admin=args.delegated_admin,
        stacksets=args.stacksets,
        dry_run=args.dry_run,
    )
    if args.dry_run:
        print(f"rootwatch enable: DRY RUN in organization {caller.organization_id} (nothing will be changed)")
    width = max(len(s.name) for s in steps)
    for step in steps:
        print(f"{LABEL[step.status]:<12}  {step.name.ljust(width)}  {step.detail}")
    changed = sum(1 for s in steps if s.status is StepStatus.CHANGED)
    would = sum(1 for s in steps if s.status is StepStatus.WOULD_CHANGE)
    print(
        f"enable: {changed} changed, {would} would change, "
        f"{sum(1 for s in steps if s.status is StepStatus.ALREADY)} already done"
    )
    return EXIT_FINDINGS if any(s.status is StepStatus.FAILED for s in steps) else EXIT_OK
