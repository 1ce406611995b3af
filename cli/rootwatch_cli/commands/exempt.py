"""`rootwatch exempt add|list|remove`: exemptions without a redeploy, stored in the status table.

An exemption says "this account may keep this root credential until that date, because of X", exactly like an
entry of ``cdk.json``'s ``rootwatch:exemptions`` (which keep working: the two are merged, a credential is exempt
when either covers it). Stored ones take effect at the next run (PrepareRun reads them once a night) and stop
applying the day after ``--expires``: that night the finding alerts again. ``add`` and ``remove`` are changes:
dry runs unless ``--execute`` (asks first) or ``--yes``, and each one is written to the action log
(``ACTION#<account_id>`` in the same table) with the caller's ARN.

Exit codes: 0 done, dry run shown, or listed; 2 bad usage or refused (one line, nothing changed); 1 the
confirmation was declined (nothing changed) or an unexpected/AWS error.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime

from rootwatch.aws.clients import ClientFactory
from rootwatch.aws.exemption_store import ExemptionStore, StoredExemption
from rootwatch.domain.exemptions import KINDS, MAX_HORIZON_DAYS, Exemption, ExemptionError, new_exemption, utc_today

from rootwatch_cli import EXIT_OK, EXIT_UNEXPECTED, UsageError
from rootwatch_cli.common import add_account_arg, add_aws_args, caller_arn, factory_from_args
from rootwatch_cli.flags import TABLE_ENV, action_log_from_args, add_consent_args, consent_from_args, operator_command
from rootwatch_cli.operations.action_log import ActionEntry, ActionLog, DynamoActionLog
from rootwatch_cli.output import add_format_args, open_output, output_args, render

OPERATION = "exempt"
LIST_COLUMNS = ("account_id", "credential", "expires", "status", "reason", "created_by", "created_at")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``exempt add``, ``exempt list`` and ``exempt remove``."""
    parser = subparsers.add_parser("exempt", help="exempt a root credential until a date, without a redeploy")
    verbs = parser.add_subparsers(dest="exempt_verb", metavar="VERB", parser_class=type(parser), required=True)

    add = verbs.add_parser(
        "add",
        help="exempt an account's root credential(s) until a date (dry run unless --execute/--yes)",
        description="Stores the exemption in the status table; it applies from the next run up to and including "
        f"--expires (a UTC day, at most {MAX_HORIZON_DAYS} days ahead); the day after, the finding alerts again.",
    )
    add_aws_args(add)
    add_account_arg(add, "the member account (one 12-digit id)")
    add.add_argument(
        "--credentials",
        metavar="KINDS",
        required=True,
        type=credential_kinds,
        help=f"comma-separated credential kinds: {', '.join(KINDS)}",
    )
    add.add_argument("--reason", required=True, help="why (one line, e.g. a ticket id); stored and shown in alerts")
    add.add_argument("--expires", metavar="YYYY-MM-DD", required=True, help="the last UTC day the exemption applies")
    add_consent_args(add)
    _table_arg(add)
    add.set_defaults(func=run_add)

    listing = verbs.add_parser("list", help="list the exemptions stored in the status table (expired ones too)")
    add_aws_args(listing)
    add_account_arg(listing, "only this account's exemptions", required=False)
    add_format_args(listing)
    _table_arg(listing)
    listing.set_defaults(func=run_list)

    remove = verbs.add_parser(
        "remove",
        help="remove an account's stored exemption(s) (dry run unless --execute/--yes)",
        description="Deletes stored exemptions; the credential alerts again from the next run if still present. "
        "cdk.json exemptions are removed by editing cdk.json and redeploying.",
    )
    add_aws_args(remove)
    add_account_arg(remove, "the member account (one 12-digit id)")
    remove.add_argument(
        "--credentials",
        metavar="KINDS",
        type=credential_kinds,
        default=None,
        help="comma-separated credential kinds to remove (default: every stored kind of the account)",
    )
    add_consent_args(remove)
    _table_arg(remove)
    remove.set_defaults(func=run_remove)


def _table_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--table",
        default=None,
        help=f"the status table (default: ${TABLE_ENV}, else the deployed stack's); exemptions and the action "
        "log live there",
    )
    parser.set_defaults(no_action_log=False)


def credential_kinds(value: str) -> list[str]:
    """--credentials: a comma-separated list of known kinds, in the canonical order."""
    kinds = [kind.strip() for kind in value.split(",") if kind.strip()]
    if not kinds:
        raise UsageError(f"--credentials: empty; give one or more of {', '.join(KINDS)}")
    for kind in kinds:
        if kind not in KINDS:
            raise UsageError(f"--credentials: unknown credential kind {kind!r}; known kinds: {', '.join(KINDS)}")
    return [kind for kind in KINDS if kind in kinds]


def store_from_args(factory: ClientFactory, args: argparse.Namespace) -> tuple[ExemptionStore, DynamoActionLog]:
    """The exemption store and the action log, in the one table --table / $ROOTWATCH_TABLE / the stack names."""
    log = action_log_from_args(factory, args)
    assert isinstance(log, DynamoActionLog)
    return exemption_store(factory, log), log


def exemption_store(factory: ClientFactory, log: DynamoActionLog) -> ExemptionStore:
    """The exemptions live in the action log's table (the status table)."""
    return ExemptionStore(factory.client("dynamodb"), log.table_name)


def add_exemption(
    store: ExemptionStore, log: ActionLog, exemption: Exemption, who: str, *, now: datetime | None = None
) -> list[StoredExemption]:
    """Store the exemption, then write the action log entry (also used by `remediate allow-password-recovery`)."""
    written = store.put(exemption, created_by=who, now=now or datetime.now(UTC))
    log.append(
        ActionEntry(
            who=who,
            account_id=exemption.account_id,
            operation=OPERATION,
            action="add",
            target=",".join(s.credential for s in written),
            result="done",
            message=f"until {exemption.expires.isoformat()}: {exemption.reason}",
        )
    )
    return written


@operator_command
def run_add(args: argparse.Namespace) -> int:
    """Validate, show, confirm, store, log."""
    try:
        exemption = new_exemption(args.account, args.credentials, args.reason, args.expires)
    except ExemptionError as exc:
        raise UsageError(f"exempt add: {exc}") from None
    consent = consent_from_args(args)
    consent.require_someone_to_ask()
    factory = factory_from_args(args)
    store, log = store_from_args(factory, args)
    who = caller_arn(factory)
    _header("add", consent.dry_run, who, store.table_name)
    print(f"exemption: account {exemption.account_id}: {exemption.describe()}")
    print("takes effect at the next run; the day after the expiry the finding alerts again")
    if consent.dry_run:
        print("dry run: nothing was stored. To store it: add --execute (asks first) or --yes.")
        return EXIT_OK
    if not consent.confirm(f"Exempt account {exemption.account_id} ({', '.join(args.credentials)})?"):
        print("cancelled: nothing changed")
        return EXIT_UNEXPECTED
    written = add_exemption(store, log, exemption, who)
    print(f"done    stored {len(written)} item(s) in {store.table_name}")
    print(f"audit log: {log.destination}")
    return EXIT_OK


@operator_command
def run_list(args: argparse.Namespace) -> int:
    """The stored exemptions as rows."""
    output_args(args)
    factory = factory_from_args(args)
    store, _ = store_from_args(factory, args)
    try:
        stored = store.entries(args.account)
    except ExemptionError as exc:
        raise UsageError(f"exempt list: {exc}") from None
    today = utc_today()
    rows = [s.to_dict(today=today) for s in stored]
    with open_output(args.output) as stream:
        render(rows, args.format, stream, columns=LIST_COLUMNS, title=f"exemptions in {store.table_name}")
    return EXIT_OK


@operator_command
def run_remove(args: argparse.Namespace) -> int:
    """Show what would go, confirm, delete, log."""
    consent = consent_from_args(args)
    consent.require_someone_to_ask()
    factory = factory_from_args(args)
    store, log = store_from_args(factory, args)
    who = caller_arn(factory)
    _header("remove", consent.dry_run, who, store.table_name)
    stored = [s for s in store.entries(args.account) if args.credentials is None or s.credential in args.credentials]
    if not stored:
        print(f"account {args.account}: no stored exemption to remove (cdk.json ones are removed by a redeploy)")
        return EXIT_OK
    _print_stored(stored)
    if consent.dry_run:
        print("dry run: nothing was removed. To remove: add --execute (asks first) or --yes.")
        return EXIT_OK
    kinds = [s.credential for s in stored]
    if not consent.confirm(f"Remove the exemption(s) of account {args.account} ({', '.join(kinds)})?"):
        print("cancelled: nothing changed")
        return EXIT_UNEXPECTED
    removed = store.remove(args.account, kinds)
    log.append(
        ActionEntry(
            who=who,
            account_id=args.account,
            operation=OPERATION,
            action="remove",
            target=",".join(s.credential for s in removed),
            result="done",
            message="; ".join(f"{s.credential} until {s.expires.isoformat()}: {s.reason}" for s in removed) or None,
        )
    )
    print(f"done    removed {len(removed)} item(s); from the next run these credentials alert again if present")
    print(f"audit log: {log.destination}")
    return EXIT_OK


def _header(verb: str, dry_run: bool, who: str, table: str) -> None:
    mode = "DRY RUN (nothing will be changed)" if dry_run else "EXECUTE"
    print(f"rootwatch exempt {verb}: {mode}")
    print(f"caller: {who} · table {table}")


def _print_stored(stored: Sequence[StoredExemption]) -> None:
    today = utc_today()
    for s in stored:
        row = s.to_dict(today=today)
        print(f"  {s.account_id} {s.credential} until {row['expires']} ({row['status']}): {s.reason}")
