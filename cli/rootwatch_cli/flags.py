"""Command-line glue of the operations verbs (doctor, enable, remediate, unlock, test-alert).

The flags they share (consent, the action-log table), what those flags build, and how their refusals end:
one ``refused:`` line and exit code 2, never a traceback, nothing changed. What the verbs do lives in
``rootwatch_cli.operations``; their AWS clients come from ``rootwatch_cli.common.factory_from_args``.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from rootwatch.aws.clients import ClientFactory
from rootwatch.aws.errors import classify
from rootwatch.domain.errors import ErrorKind, RootwatchError

from rootwatch_cli import EXIT_UNEXPECTED, EXIT_USAGE, NO_CREDENTIALS_TEXT, UsageError, aws_setup_problem
from rootwatch_cli.operations.action_log import (
    ActionLog,
    DynamoActionLog,
    SkippedActionLog,
    StatusTableNotFoundError,
    discover_status_table,
)
from rootwatch_cli.operations.consent import Consent, NoTerminalError, consent_mode
from rootwatch_cli.operations.preflight import Refusal

TABLE_ENV = "ROOTWATCH_TABLE"
ACCESS_DENIED_HINT = (
    "an SCP denying the member account's root user also denies root sessions (docs/aws-behaviour.md); "
    "`rootwatch doctor --account ID` names the statement and how to exempt root sessions"
)


def add_consent_args(parser: argparse.ArgumentParser) -> None:
    """--dry-run (the default), --execute (ask for each change), --yes (do not ask; implies --execute)."""
    group = parser.add_argument_group("safety (the default is a dry run)")
    group.add_argument("--dry-run", action="store_true", help="only show what would change (default)")
    group.add_argument("--execute", action="store_true", help="make the change, asking for confirmation each time")
    group.add_argument("--yes", action="store_true", help="make the change without asking (implies --execute)")


def add_table_arg(parser: argparse.ArgumentParser) -> None:
    """--table (the status table that receives the action log) or --no-action-log (an explicit opt-out)."""
    group = parser.add_argument_group("action log (needed to make a change)")
    exclusive = group.add_mutually_exclusive_group()
    exclusive.add_argument(
        "--table",
        type=table_name,
        default=None,
        help=f"status table for the action log (default: ${TABLE_ENV}, else the deployed stack's, found the way "
        "`rootwatch run` finds its state machine); a change is refused when none is found",
    )
    exclusive.add_argument(
        "--no-action-log",
        action="store_true",
        help="make the change without recording it in the status table (only when no table is available)",
    )


def table_name(value: str) -> str:
    """--table: a non-blank table name."""
    if not value.strip():
        raise UsageError("--table: empty; give the status table's name (or --no-action-log)")
    return value.strip()


def consent_from_args(args: argparse.Namespace) -> Consent:
    """The Consent the flags ask for; UsageError for contradictory flags."""
    try:
        return Consent(consent_mode(dry_run=args.dry_run, execute=args.execute, yes=args.yes))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def action_log_from_args(factory: ClientFactory, args: argparse.Namespace) -> ActionLog:
    """The action log a change must write, checked before anything is changed; UsageError when there is none.

    The table is ``--table``, else ``$ROOTWATCH_TABLE``, else the deployed stack's (``discover_status_table``).
    Without one, the change is refused unless the operator opted out with ``--no-action-log``.
    """
    if getattr(args, "no_action_log", False):
        return SkippedActionLog()
    name = args.table or os.environ.get(TABLE_ENV, "").strip()
    if not name:
        try:
            name = discover_status_table(factory)
        except StatusTableNotFoundError as exc:
            raise UsageError(
                f"--table: no status table to record this change in: {exc}; "
                f"give --table NAME (or ${TABLE_ENV}), or --no-action-log to make it unrecorded"
            ) from None
    log = DynamoActionLog(factory, name)
    try:
        log.key_names()
    except ClientError as exc:
        error = classify(exc)
        raise UsageError(
            f"--table: cannot use {name!r} for the action log: {error.aws_code}: {error.message}"
        ) from None
    return log


def operator_command(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Wrap a verb's run(): refusals exit 2 with one line; AWS/setup failures get one clear line too."""

    @functools.wraps(run)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except Refusal as exc:
            print(f"refused: {exc.message}", file=sys.stderr)
            return EXIT_USAGE
        except NoTerminalError as exc:
            print(f"refused: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except NoCredentialsError:
            print(f"error: {NO_CREDENTIALS_TEXT}", file=sys.stderr)
            return EXIT_USAGE
        except RootwatchError as exc:
            print(f"error: {exc.operation or 'AWS'}: {exc.aws_code}: {exc.message}", file=sys.stderr)
            if exc.kind is ErrorKind.ACCESS_DENIED:
                print(f"hint: {ACCESS_DENIED_HINT}", file=sys.stderr)
            return EXIT_UNEXPECTED
        except (ClientError, BotoCoreError) as exc:
            problem = aws_setup_problem(exc)
            if problem is not None:
                print(f"error: {problem}", file=sys.stderr)
                return EXIT_USAGE
            error = classify(exc)
            print(f"error: {error.operation or 'AWS'}: {error.aws_code}: {error.message}", file=sys.stderr)
            return EXIT_UNEXPECTED

    return wrapper
