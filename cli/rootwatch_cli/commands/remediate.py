"""`rootwatch remediate`: delete member accounts' root credentials, or allow root password recovery.

``delete-root-credentials`` and ``allow-password-recovery`` are dry runs unless ``--execute`` (asks for each
account at the terminal) or ``--yes`` (asks nobody) is given. The management account is never a target.

Exit codes: 0 done (or dry run shown); 3 a step or an account failed; 2 refused or bad usage (nothing
changed); 1 every confirmation was declined (nothing changed) or an unexpected error.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from rootwatch.aws.clients import ClientFactory
from rootwatch.aws.organizations import list_member_accounts
from rootwatch.domain.credentials import RootCredentialState
from rootwatch.domain.errors import FeatureDisabledError
from rootwatch.domain.exemptions import Exemption, new_exemption, utc_today
from rootwatch.domain.plaintext import plain_text
from rootwatch.domain.records import CREDENTIAL_KINDS, AuditStatus
from rootwatch.domain.task_policies import TaskPolicy
from rootwatch.services.scan import scan_accounts

from rootwatch_cli import EXIT_FINDINGS, EXIT_OK, EXIT_UNEXPECTED, UsageError
from rootwatch_cli.commands.exempt import add_exemption, exemption_store
from rootwatch_cli.common import account_ids_type, add_account_arg, add_aws_args, factory_from_args
from rootwatch_cli.flags import (
    action_log_from_args,
    add_consent_args,
    add_table_arg,
    consent_from_args,
    operator_command,
)
from rootwatch_cli.operations.action_log import ActionLog, DynamoActionLog
from rootwatch_cli.operations.consent import Consent
from rootwatch_cli.operations.deletion_plan import parse_kinds
from rootwatch_cli.operations.preflight import (
    CallerContext,
    check_target,
    feature_refusal,
    identify_caller,
    require_root_access,
)
from rootwatch_cli.operations.remediate import (
    RECOVERY_EXPLANATION,
    AccountOutcome,
    AccountPlan,
    StepOutcome,
    allow_password_recovery,
    execute_deletion,
    plan_deletions,
    plan_password_recovery,
)
from rootwatch_cli.output import FORMATS, note, open_output, render

OUTCOME_LABEL = {
    StepOutcome.DONE: "done",
    StepOutcome.ALREADY_ABSENT: "already gone",
    StepOutcome.FAILED: "FAILED",
    StepOutcome.NOT_ATTEMPTED: "not attempted",
}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``remediate delete-root-credentials`` and ``remediate allow-password-recovery``."""
    parser = subparsers.add_parser("remediate", help="delete root credentials or allow password recovery")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser), required=True)

    delete = actions.add_parser(
        "delete-root-credentials",
        help="delete member accounts' root credentials (dry run unless --execute/--yes)",
        description="Deletes root credentials with the IAMDeleteRootUserCredentials task policy, in order: "
        "signing certificates, access keys, MFA devices (deactivated), login profile. Dry run by default.",
    )
    add_aws_args(delete)
    targets = delete.add_mutually_exclusive_group(required=True)
    targets.add_argument(
        "--accounts",
        metavar="ID,..",
        type=account_ids_type("--accounts"),
        help="member accounts to clean (12-digit ids; an empty list is an error)",
    )
    targets.add_argument(
        "--all-with-credentials",
        action="store_true",
        help="every ACTIVE member account whose root has credentials (the only way to target them all)",
    )
    delete.add_argument(
        "--credentials",
        metavar="KINDS",
        help=f"kinds to delete, comma-separated from {','.join(CREDENTIAL_KINDS)} (default: all)",
    )
    add_consent_args(delete)
    add_table_arg(delete)
    delete.add_argument(
        "--format",
        choices=("text", *FORMATS),
        default="text",
        help="text (default) for people; table/json/jsonl/csv/tsv print one row per step at the end "
        "(the running commentary and prompts then go to stderr)",
    )
    delete.add_argument("--output", metavar="FILE", default=None, help="write the rows to FILE instead of stdout")
    delete.set_defaults(func=run_delete)

    recover = actions.add_parser(
        "allow-password-recovery",
        help="let a member account's root user recover its password (dry run unless --execute/--yes)",
        description=RECOVERY_EXPLANATION,
    )
    add_aws_args(recover)
    add_account_arg(recover, "the member account (one 12-digit id)")
    add_consent_args(recover)
    add_table_arg(recover)
    exempt = recover.add_argument_group("exemption of the new password (so it does not page the team tonight)")
    exempt_choice = exempt.add_mutually_exclusive_group()
    exempt_choice.add_argument(
        "--exempt-days",
        metavar="N",
        type=_exempt_days,
        default=1,
        help="after the change, offer to exempt the account's password until N UTC days from today (default 1: "
        "today and tomorrow, so the night's audit does not alert, whichever side of midnight UTC it runs); "
        "with --yes it is added without asking",
    )
    exempt_choice.add_argument("--no-exempt", action="store_true", help="do not offer the exemption")
    recover.set_defaults(func=run_recovery)


def _exempt_days(value: str) -> int:
    """--exempt-days: 1 to 30 days."""
    if not value.isdigit() or not 1 <= int(value) <= 30:
        raise UsageError(f"--exempt-days: {value!r} is not a whole number of days from 1 to 30")
    return int(value)


@operator_command
def run_delete(args: argparse.Namespace) -> int:
    """Plan, show, confirm per account, delete, re-audit, summarise (rows at the end for machine formats)."""
    if args.format == "text":
        if args.output:
            raise UsageError("--output: needs --format table, json, jsonl, csv or tsv")
        return _delete(args)[0]
    if args.output:
        folder = os.path.dirname(os.path.abspath(args.output))
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
            raise UsageError(f"--output: cannot write in {folder}")
    with contextlib.redirect_stdout(sys.stderr):
        code, plans, outcomes = _delete(args)
    with open_output(args.output) as stream:
        render(step_rows(plans, outcomes), args.format, stream, columns=STEP_COLUMNS)
    return code


def _delete(args: argparse.Namespace) -> tuple[int, list[AccountPlan], list[AccountOutcome]]:
    try:
        kinds = parse_kinds(args.credentials)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    requested = _selection(args)
    consent = consent_from_args(args)
    consent.require_someone_to_ask()
    factory = factory_from_args(args)
    caller = identify_caller(factory)
    require_root_access(caller, TaskPolicy.IAM_DELETE_ROOT_USER_CREDENTIALS)
    action_log = None if consent.dry_run else action_log_from_args(factory, args)
    if requested is None:
        accounts = accounts_with_credentials(factory)
    else:
        accounts = [(a.account_id, a.name) for a in (check_target(factory, caller, i) for i in requested)]

    _header("delete-root-credentials", caller, consent, action_log.destination if action_log else None)
    if not accounts:
        print("no ACTIVE member account has root credentials: nothing to do")
        return EXIT_OK, [], []
    plans = plan_deletions(factory, accounts, kinds)
    for plan in plans:
        _print_plan(plan)
    if consent.dry_run:
        total = sum(len(p.steps) for p in plans)
        print(
            f"\ndry run: nothing was changed ({total} deletion(s) planned in {len(plans)} account(s)). "
            "To delete: add --execute (asks for each account) or --yes."
        )
        return (EXIT_FINDINGS if any(p.error for p in plans) else EXIT_OK), plans, []

    assert action_log is not None
    outcomes: list[AccountOutcome] = []
    for plan in plans:
        if plan.error is not None or not plan.steps:
            outcomes.append(AccountOutcome(plan, error=_plan_error(plan)))
            continue
        question = f"Delete these {len(plan.steps)} root credential(s) of account {_label(plan)}?"
        if not consent.confirm(question):
            print(f"  skipped {plan.account_id}: declined, nothing changed")
            outcomes.append(AccountOutcome(plan, declined=True))
            continue
        outcome = execute_deletion(factory, plan, action_log, caller.arn)
        _print_outcome(outcome)
        outcomes.append(outcome)
    return _summarise(outcomes, action_log.destination), plans, outcomes


def _selection(args: argparse.Namespace) -> list[str] | None:
    """The accounts asked for, or None for ``--all-with-credentials``: "all" only ever comes from that flag."""
    if args.all_with_credentials:
        if args.accounts is not None:
            raise UsageError("--all-with-credentials: not allowed with --accounts")
        return None
    if not args.accounts:
        raise UsageError("--accounts: give at least one 12-digit account id, or --all-with-credentials")
    return list(args.accounts)


STEP_COLUMNS = (
    "account_id",
    "account_name",
    "order",
    "kind",
    "action",
    "target",
    "status",
    "since",
    "result",
    "error",
    "credentials_after",
    "last_used",  # access keys only; last, so the earlier columns keep their positions
)


def step_rows(plans: list[AccountPlan], outcomes: list[AccountOutcome]) -> list[dict[str, Any]]:
    """One row per planned step (result ``planned`` in a dry run), or one per account with nothing to do."""
    by_account = {o.plan.account_id: o for o in outcomes}
    rows: list[dict[str, Any]] = []
    for plan in plans:
        outcome = by_account.get(plan.account_id)
        after = None
        if outcome is not None and outcome.after is not None:
            after = [kind.value for kind in CREDENTIAL_KINDS if kind in outcome.after.present_kinds()]
        base = {"account_id": plan.account_id, "account_name": plan.account_name, "credentials_after": after}
        if plan.error is not None or not plan.steps:
            result = "error" if plan.error is not None else "nothing_to_delete"
            rows.append({**base, "result": result, "error": _plan_error(plan)})
            continue
        results = {id(r.step): r for r in outcome.results} if outcome is not None else {}
        for order, step in enumerate(plan.steps, 1):
            done = results.get(id(step))
            if outcome is None:
                result, error = "planned", None
            elif outcome.declined:
                result, error = "declined", None
            elif done is None:
                result, error = StepOutcome.NOT_ATTEMPTED.value, outcome.error
            else:
                result = done.outcome.value
                error = f"{done.error_code}: {done.message}" if done.outcome is StepOutcome.FAILED else None
            rows.append(
                {
                    **base,
                    "order": order,
                    "kind": step.kind.value,
                    "action": step.action,
                    "target": step.item.item_id,
                    "status": step.item.status,
                    "since": step.item.date,
                    "last_used": step.item.last_used,
                    "result": result,
                    "error": error,
                }
            )
    return rows


def accounts_with_credentials(factory: ClientFactory) -> list[tuple[str, str | None]]:
    """ACTIVE member accounts whose root user has credentials, or could not be audited (a read-only scan).

    An account the scan could not read stays in the list: its plan then fails the same way and is
    reported (and counted) as failed instead of being silently left out.
    """
    org = list_member_accounts(factory)
    run_id = "remediate-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        records = scan_accounts(factory, list(org.to_audit), run_id=run_id)
    except FeatureDisabledError as exc:
        raise feature_refusal(TaskPolicy.IAM_AUDIT_ROOT_USER_CREDENTIALS.required_feature, exc.message) from exc
    records.sort(key=lambda r: r.account_id)
    return [(r.account_id, r.account_name) for r in records if r.root_credentials_present or r.status != AuditStatus.OK]


@operator_command
def run_recovery(args: argparse.Namespace) -> int:
    """Show what changes, confirm, CreateLoginProfile, re-audit."""
    account_id: str = args.account
    consent = consent_from_args(args)
    consent.require_someone_to_ask()
    factory = factory_from_args(args)
    caller = identify_caller(factory)
    require_root_access(caller, TaskPolicy.IAM_CREATE_ROOT_USER_PASSWORD)
    target = check_target(factory, caller, account_id)
    action_log = None if consent.dry_run else action_log_from_args(factory, args)
    _header("allow-password-recovery", caller, consent, action_log.destination if action_log else None)
    result = plan_password_recovery(factory, account_id)
    label = f"{account_id} ({target.name})" if target.name else account_id
    if result.already_allowed:
        created = (result.profile_before or {}).get("CreateDate")
        print(f"account {label}: the root user already has a login profile (created {created}): nothing to do")
        return EXIT_OK
    print(f"account {label}: the root user has no login profile (no password).")
    print(f"would call: CreateLoginProfile as root (task policy {TaskPolicy.IAM_CREATE_ROOT_USER_PASSWORD.value})")
    print(f"\n{RECOVERY_EXPLANATION}\n")
    if consent.dry_run:
        if not args.no_exempt:
            print(f"would offer: exempt the password until {_recovery_exemption(args).expires} (--no-exempt: do not)")
        print("dry run: nothing was changed. To allow recovery: add --execute (asks first) or --yes.")
        return EXIT_OK
    if not consent.confirm(f"Allow root password recovery for account {label}?"):
        print("cancelled: nothing changed")
        return EXIT_UNEXPECTED
    assert action_log is not None
    result = allow_password_recovery(factory, result, action_log, caller.arn)
    if result.error:
        print(f"FAILED  CreateLoginProfile: {result.error}")
    else:
        print("done    CreateLoginProfile: the root email owner can now use 'Forgot password?'")
    print(f"  now: {_state_text(result.after, result.after_error)}")
    if not result.error:
        _offer_exemption(args, factory, consent, action_log, caller.arn, label)
    print(f"audit log: {action_log.destination}")
    return EXIT_FINDINGS if result.error else EXIT_OK


def _recovery_exemption(args: argparse.Namespace) -> Exemption:
    """The short exemption of the account's password `allow-password-recovery` offers (expires in --exempt-days)."""
    expires = utc_today() + timedelta(days=args.exempt_days)
    reason = f"root password recovery allowed by rootwatch remediate allow-password-recovery on {utc_today()}"
    return new_exemption(args.account, ["password"], reason, expires.isoformat())


def _offer_exemption(
    args: argparse.Namespace, factory: ClientFactory, consent: Consent, log: ActionLog, who: str, label: str
) -> None:
    """Offer the short exemption (once the change is made), so the password asked for does not page tonight."""
    if args.no_exempt:
        return
    exemption = _recovery_exemption(args)
    if not isinstance(log, DynamoActionLog):
        print(
            "note    no status table (--no-action-log): the password is not exempted and will alert tonight; "
            f"`rootwatch exempt add --account {args.account} --credentials password --expires "
            f"{exemption.expires} --reason ...` exempts it"
        )
        return
    question = (
        f"Exempt the new password of account {label} until {exemption.expires} (UTC), "
        "so tonight's audit does not alert?"
    )
    if not consent.confirm(question):
        print("note    not exempted: the password alerts at the next run")
        return
    add_exemption(exemption_store(factory, log), log, exemption, who)
    print(f"done    exempted: password of account {args.account} until {exemption.expires} (UTC, inclusive)")


def _header(operation: str, caller: CallerContext, consent: Consent, log_destination: str | None) -> None:
    mode = "DRY RUN (nothing will be changed)" if consent.dry_run else f"EXECUTE ({consent.mode.value})"
    print(f"rootwatch remediate {operation}: {mode}")
    note(f"caller: {caller.arn} · organization {caller.organization_id}", file=sys.stdout)
    if log_destination is not None:
        note(f"audit log: {log_destination}", file=sys.stdout)


def _label(plan: AccountPlan) -> str:
    """The account as the operator confirms it: the name is plain text (a hostile name cannot redraw the line)."""
    return f"{plan.account_id} ({plain_text(plan.account_name)})" if plan.account_name else plan.account_id


def _plan_error(plan: AccountPlan) -> str | None:
    if plan.error is None:
        return None
    return f"{plan.error.aws_code or plan.error.kind.value}: {plan.error.message}"


def _print_plan(plan: AccountPlan) -> None:
    print(f"\naccount {_label(plan)}")
    if plan.error is not None:
        print(f"  ERROR reading the root credentials: {_plan_error(plan)}")
        return
    if not plan.steps:
        print("  nothing to delete (no root credentials of the selected kinds)")
        return
    for number, step in enumerate(plan.steps, 1):
        print(f"  {number}. {step.describe()}")


def _print_outcome(outcome: AccountOutcome) -> None:
    for result in outcome.results:
        reason = f": {result.error_code}: {result.message}" if result.outcome is StepOutcome.FAILED else ""
        print(f"  {OUTCOME_LABEL[result.outcome]:<13} {result.step.action} {result.step.item.item_id}{reason}")
    if outcome.error:
        print(f"  ERROR: {outcome.error}")
    print(f"  now: {_state_text(outcome.after, outcome.after_error)}")


def _state_text(state: RootCredentialState | None, error: str | None) -> str:
    if state is None:
        return f"re-audit failed ({error})"
    kinds = [kind.value for kind in CREDENTIAL_KINDS if kind in state.present_kinds()]
    return "root credentials present: " + ", ".join(kinds) if kinds else "no root credentials"


def _summarise(outcomes: list[AccountOutcome], destination: str) -> int:
    failed = [o for o in outcomes if o.failed]
    declined = [o for o in outcomes if o.declined]
    cleaned = [o for o in outcomes if not o.failed and not o.declined and o.results]
    print(
        f"\nsummary: {len(outcomes)} account(s): {len(cleaned)} cleaned, {len(failed)} failed, {len(declined)} declined"
    )
    for outcome in failed:
        print(f"  failed: {_label(outcome.plan)}: {outcome.error or 'a step failed (see above)'}")
    print(f"audit log: {destination}")
    if failed:
        return EXIT_FINDINGS
    if declined and not cleaned:
        return EXIT_UNEXPECTED
    return EXIT_OK
