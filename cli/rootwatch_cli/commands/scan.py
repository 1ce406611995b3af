"""`rootwatch scan`: a one-off org-wide audit from a workstation. No state, no alert (docs/contracts.md#command-line).

Lists the organization's accounts, audits every ACTIVE member account through AssumeRoot with bounded
concurrency (the use case, ``rootwatch.services.scan``; this module parses the flags, renders and picks the
exit code), and prints one AuditRecord per account: OK, ERROR (with AWS's message) or SKIPPED (management account,
suspended, closed, ...). Because a scan keeps no state, ``appeared``/``disappeared`` are empty and
``first_audit`` is false.

Exit codes: 0 nothing found; 3 root credentials or audit errors found; 2 bad usage or config (including
the organization feature being disabled, reported once); 1 anything else.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, NoCredentialsError, NoRegionError
from rootwatch.aws.errors import classify
from rootwatch.aws.organizations import MemberAccounts, list_member_accounts
from rootwatch.domain.errors import ErrorKind, FeatureDisabledError, RootwatchError
from rootwatch.domain.findings import (
    DEFAULT_POLICY,
    FINDINGS,
    Policy,
    fails_scan,
    finding_counts,
    findings_by_severity,
    findings_of,
    highest_severity,
    with_findings,
)
from rootwatch.domain.records import RECORD_FIELDS, AuditRecord, AuditStatus
from rootwatch.domain.totals import run_totals
from rootwatch.services.scan import (
    DEFAULT_CONCURRENCY,
    AccountSelectionError,
    ScanInterrupted,
    new_run_id,
    scan_accounts,
    select_accounts,
    skipped_records,
)

from rootwatch_cli import (
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNEXPECTED,
    EXIT_USAGE,
    SETUP_AWS_CODES,
    UsageError,
    aws_setup_problem,
)
from rootwatch_cli.common import (
    account_ids_type,
    add_aws_args,
    add_fail_on_arg,
    add_threshold_args,
    factory_from_args,
    policy_from_args,
)
from rootwatch_cli.ocsf import to_events
from rootwatch_cli.output import (
    OCSF,
    add_format_args,
    open_output,
    output_args,
    render,
    stderr_is_terminal,
    wrote_line,
)

LOG = logging.getLogger(__name__)
MAX_CONCURRENCY = 64
#: Error kinds that mean "the caller or the org is misconfigured", not "this account failed".
SETUP_ERROR_KINDS = frozenset({ErrorKind.ACCESS_DENIED, ErrorKind.FEATURE_DISABLED, ErrorKind.EXPIRED})

RECORD_COLUMNS: tuple[str, ...] = tuple(f.name for f in RECORD_FIELDS)
TABLE_COLUMNS: tuple[str, ...] = (
    "account_id",
    "account_name",
    "ou_path",
    "status",
    "severity",
    "credentials",
    "findings",
    "access_keys",
    "mfa_devices",
    "certificates",
    "password_last_used",
    "access_key_last_used",
    "reason",
)
#: The table columns left out first when the terminal is too narrow (least important first); then the
#: remaining ones fold, except the account id, which never wraps (docs/contracts.md#command-line).
TABLE_DROP_ORDER: tuple[str, ...] = (
    "ou_path",
    "access_key_last_used",
    "password_last_used",
    "certificates",
    "mfa_devices",
    "access_keys",
    "findings",
    "severity",
)
TABLE_HEADERS = {
    "account_id": "Account",
    "account_name": "Name",
    "ou_path": "OU",
    "status": "Status",
    "severity": "Severity",
    "credentials": "Root credentials",
    "findings": "Findings",
    "access_keys": "Access keys",
    "mfa_devices": "MFA",
    "certificates": "Certs",
    "password_last_used": "Password used",
    "access_key_last_used": "Key used",
    "reason": "Error / skipped",
}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``scan`` verb."""
    parser = subparsers.add_parser(
        "scan",
        help="audit every member account's root user now (no state, no alert)",
        description="A one-off org-wide audit of member-account root credentials through sts:AssumeRoot. "
        "Run it with credentials of the management account or the IAM delegated administrator.",
        epilog="exit codes: 0 no root credentials and no audit errors; 3 root credentials or audit errors found; "
        "2 bad usage or configuration (including centralized root access not enabled); 1 anything else; "
        "130 interrupted (Ctrl-C prints the accounts audited so far). "
        "Records go to stdout (or --output), the summary and any error to stderr.",
    )
    add_aws_args(parser)
    parser.add_argument(
        "--accounts",
        metavar="ID,..",
        type=account_ids_type("--accounts"),
        help="audit only these member accounts (12-digit ids; default: every account)",
    )
    parser.add_argument(
        "--concurrency",
        metavar="N",
        type=concurrency_value,
        default=DEFAULT_CONCURRENCY,
        help=f"accounts audited at once, 1-{MAX_CONCURRENCY} (default: {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--only-findings",
        action="store_true",
        help="list only the accounts with a finding, most severe first ("
        + ", then ".join(kind.text() for kind in FINDINGS)
        + "), then by name; the summary line and the exit code still count every account",
    )
    add_threshold_args(parser)
    add_format_args(parser, ocsf=True)
    add_fail_on_arg(parser, new_help="new (refused: scan keeps no history; rootwatch run --fail-on new does)")
    parser.set_defaults(func=run)


def concurrency_value(text: str) -> int:
    """--concurrency: an integer from 1 to MAX_CONCURRENCY."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_CONCURRENCY:
        raise UsageError(f"--concurrency: {text!r} must be an integer from 1 to {MAX_CONCURRENCY}")
    return value


def run(args: argparse.Namespace) -> int:
    """The scan verb: list, audit, print; returns the exit code."""
    requested: list[str] | None = args.accounts  # None only when --accounts was not given at all
    if args.fail_on == "new":
        raise UsageError(
            "--fail-on new: scan keeps no history, so nothing is new to it; use --fail-on any|none, "
            "or `rootwatch run --fail-on new` on the deployed pipeline"
        )
    output_args(args)
    factory = factory_from_args(args, max_pool_connections=args.concurrency)
    try:
        org = list_member_accounts(factory)
    except (RootwatchError, BotoCoreError) as exc:
        return _setup_failure("cannot list the organization's accounts", exc)
    try:
        to_audit, skipped = select_accounts(org, requested)
    except AccountSelectionError as exc:
        raise UsageError(f"--accounts: {exc}") from None
    LOG.debug("organization %s: %d accounts to audit, %d skipped", org.organization_id, len(to_audit), len(skipped))

    run_id, started = new_run_id()
    policy = policy_from_args(args)
    progress = _Progress(len(to_audit), enabled=stderr_is_terminal())
    try:
        with progress:
            result = scan_accounts(
                factory, to_audit, run_id=run_id, concurrency=args.concurrency, on_done=progress.advance
            )
    except FeatureDisabledError as exc:
        print(f"error: {feature_disabled_text(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except NoCredentialsError as exc:
        return _setup_failure("cannot audit", exc)
    except ScanInterrupted as exc:
        # What was audited is printed (and still exits 130); the audits in flight are abandoned, not waited for.
        partial = sorted(exc.records, key=lambda r: r.account_id)
        _print_records(args, org, run_id, findings_by_severity(partial, policy) if args.only_findings else partial)
        print(
            f"interrupted: {len(exc.records)} of {exc.total} accounts audited, {exc.total - len(exc.records)} not "
            f"audited; so far {summary_line(org, exc.records, policy)}",
            file=sys.stderr,
        )
        args.abandon_threads = True
        return EXIT_INTERRUPTED

    records = result + skipped_records(run_id, started, skipped)
    records.sort(key=lambda r: r.account_id)
    _print_records(args, org, run_id, findings_by_severity(records, policy) if args.only_findings else records)
    print(summary_line(org, records, policy), file=sys.stderr)
    return exit_code(records, args.fail_on, policy)


def _print_records(args: argparse.Namespace, org: MemberAccounts, run_id: str, records: list[AuditRecord]) -> None:
    # severity and finding_kinds, derived from the finding table as the S3 records carry them.
    records = [with_findings(r, policy_from_args(args)) for r in records]
    rows = [r.to_dict() for r in records]
    if args.format == OCSF:
        events = to_events(rows, policy=policy_from_args(args), feature="scan")
        with open_output(args.output) as stream:
            render(events, OCSF, stream)
        wrote_line(args.output, len(events), args.format, "OCSF finding")
        return
    with open_output(args.output) as stream:
        if args.format == "table":
            title = f"rootwatch scan {run_id} · organization {org.organization_id}"
            render(
                [table_row(r, policy_from_args(args)) for r in records],
                "table",
                stream,
                columns=TABLE_COLUMNS,
                headers=TABLE_HEADERS,
                title=title,
                drop_order=TABLE_DROP_ORDER,
            )
        else:
            render(rows, args.format, stream, columns=RECORD_COLUMNS)
    wrote_line(args.output, len(records), args.format, "record")


def table_row(record: AuditRecord, policy: Policy = DEFAULT_POLICY) -> dict[str, object]:
    """A compact row for the table format; ``findings`` names the record's finding kinds (most urgent first)."""
    keys = None
    if record.active_access_keys is not None or record.inactive_access_keys is not None:
        keys = f"{record.active_access_keys or 0} active, {record.inactive_access_keys or 0} inactive"
    credentials: object = record.present_kinds() if record.status == AuditStatus.OK else None
    if credentials == []:
        credentials = "none"
    reason = f"{record.error_code}: {record.error_message}" if record.error_code else None
    return {
        "account_id": record.account_id,
        "account_name": record.account_name,
        "ou_path": record.ou_path,
        "status": str(record.status),
        "severity": severity.upper() if (severity := highest_severity(record, policy)) else None,
        "credentials": credentials,
        "findings": ", ".join(kind.text(policy) for kind in findings_of(record, policy)) or None,
        "access_keys": keys,
        "mfa_devices": record.mfa_devices,
        "certificates": record.active_signing_certificates,
        "password_last_used": record.password_last_used,
        "access_key_last_used": record.access_key_last_used,
        "reason": reason,
    }


def exit_code(records: Iterable[AuditRecord], fail_on: str = "any", policy: Policy = DEFAULT_POLICY) -> int:
    """3 when any account has a finding whose kind ``fails_scan`` (rootwatch.domain.findings: root credentials
    or an audit error), else 0 (SKIPPED does not count); always 0 with ``fail_on="none"``."""
    if fail_on == "none":
        return EXIT_OK
    return EXIT_FINDINGS if fails_scan(records, policy) else EXIT_OK


def summary_line(org: MemberAccounts, records: Sequence[AuditRecord], policy: Policy = DEFAULT_POLICY) -> str:
    """One line for stderr: how many accounts were audited, found, failed and skipped, then each finding kind."""
    t = run_totals(records)
    line = (
        f"{t['accounts']} accounts of {org.organization_id}: {t['audited']} audited, "
        f"{t['with_root_credentials']} with root credentials, {t['errors']} audit errors, {t['skipped']} skipped"
    )
    counts = finding_counts(records, policy)
    found = [f"{count} {kind.text(policy, count)}" for kind in FINDINGS if (count := counts[kind.key])]
    return line + (f"; findings: {', '.join(found)}" if found else "")


def feature_disabled_text(error: RootwatchError) -> str:
    """The one message printed when centralized root access is off for the organization."""
    return (
        f"AssumeRoot answered {error.message!r}: centralized root access (IAM root credentials management) is "
        "not enabled for this organization, so no account can be audited. Enable it in the IAM console "
        "(Root access management) or with `aws iam enable-organizations-root-credentials-management`, then scan again."
    )


def _setup_failure(what: str, exc: BaseException) -> int:
    problem = aws_setup_problem(exc)
    if problem is not None:
        print(f"error: {what}: {problem}", file=sys.stderr)
        return EXIT_USAGE
    error = classify(exc)
    print(f"error: {what}: {error.aws_code}: {error.message}", file=sys.stderr)
    if isinstance(exc, NoCredentialsError | NoRegionError) or error.kind in SETUP_ERROR_KINDS:
        return EXIT_USAGE
    if error.aws_code in SETUP_AWS_CODES:  # already classified, so aws_setup_problem could not see the code
        return EXIT_USAGE
    return EXIT_UNEXPECTED


@dataclass
class _Progress:
    """A rich progress bar on stderr, shown only when stderr is a terminal."""

    total: int
    enabled: bool
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _bar: object = None
    _task: object = None

    def __enter__(self) -> _Progress:
        if self.enabled and self.total:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            bar = Progress(
                TextColumn("auditing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            bar.start()
            self._bar, self._task = bar, bar.add_task("audit", total=self.total)
        return self

    def advance(self, record: AuditRecord) -> None:
        if self._bar is not None:
            with self._lock:
                self._bar.advance(self._task)  # type: ignore[attr-defined]

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()  # type: ignore[attr-defined]
