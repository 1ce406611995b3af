"""`rootwatch unlock`: remove an S3 bucket policy or SQS queue policy that locks everyone out (docs/operations.md).

Shows the current policy, saves it to a local backup file (the path is printed), and, only with
``--execute`` (asks first) or ``--yes``, deletes it as the member account's root user and verifies it is
gone. Needs the organization's RootSessions feature (``rootwatch enable --root-sessions``).

Exit codes: 0 unlocked, nothing to unlock, or dry run shown; 3 the deletion or its verification failed;
2 refused or bad usage (nothing changed); 1 the confirmation was declined (nothing changed).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from rootwatch.aws.clients import ClientFactory
from rootwatch.domain.task_policies import TaskPolicy

from rootwatch_cli import EXIT_FINDINGS, EXIT_OK, EXIT_UNEXPECTED, UsageError
from rootwatch_cli.common import add_account_arg, add_aws_args, factory_from_args
from rootwatch_cli.flags import (
    action_log_from_args,
    add_consent_args,
    add_table_arg,
    consent_from_args,
    operator_command,
)
from rootwatch_cli.operations.preflight import check_target, identify_caller, require_root_access
from rootwatch_cli.operations.unlock import (
    LockedResource,
    queue_account,
    read_bucket_policy,
    read_queue_policy,
    remove_bucket_policy,
    remove_queue_policy,
    save_backup,
    validate_bucket_name,
)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``unlock s3-bucket-policy`` and ``unlock sqs-queue-policy``."""
    parser = subparsers.add_parser("unlock", help="remove a bucket or queue policy that locks everyone out")
    kinds = parser.add_subparsers(dest="resource", metavar="RESOURCE", parser_class=type(parser), required=True)

    s3 = kinds.add_parser(
        "s3-bucket-policy",
        help="delete a member account's S3 bucket policy as its root user (S3UnlockBucketPolicy)",
        description="Shows and backs up the bucket policy, then (with --execute/--yes) deletes it and verifies.",
    )
    add_aws_args(s3)
    add_account_arg(s3, "the member account that owns the bucket")
    s3.add_argument("--bucket", metavar="NAME", required=True, help="the bucket name")
    _common(s3)
    s3.set_defaults(func=run_s3)

    sqs = kinds.add_parser(
        "sqs-queue-policy",
        help="clear a member account's SQS queue policy as its root user (SQSUnlockQueuePolicy)",
        description='Shows and backs up the queue policy, then (with --execute/--yes) sets Policy="" and verifies. '
        "--region must be the queue's region.",
    )
    add_aws_args(sqs)
    add_account_arg(sqs, "the member account that owns the queue")
    sqs.add_argument("--queue-url", metavar="URL", required=True, help="the queue URL")
    _common(sqs)
    sqs.set_defaults(func=run_sqs)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backup-dir", metavar="DIR", default=".", help="where the policy backup is saved (default: .)"
    )
    add_consent_args(parser)
    add_table_arg(parser)


@operator_command
def run_s3(args: argparse.Namespace) -> int:
    """Unlock one bucket."""
    try:
        bucket = validate_bucket_name(args.bucket)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return _unlock(args, TaskPolicy.S3_UNLOCK_BUCKET_POLICY, lambda f: read_bucket_policy(f, args.account, bucket))


@operator_command
def run_sqs(args: argparse.Namespace) -> int:
    """Unlock one queue."""
    try:
        owner = queue_account(args.queue_url)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if owner != args.account:
        raise UsageError(f"--queue-url: the queue belongs to account {owner}, not --account {args.account}")
    return _unlock(
        args, TaskPolicy.SQS_UNLOCK_QUEUE_POLICY, lambda f: read_queue_policy(f, args.account, args.queue_url)
    )


def _unlock(args: argparse.Namespace, policy: TaskPolicy, read: Callable[[ClientFactory], LockedResource]) -> int:
    consent = consent_from_args(args)
    consent.require_someone_to_ask()
    factory = factory_from_args(args)
    caller = identify_caller(factory)
    require_root_access(caller, policy)
    check_target(factory, caller, args.account)
    action_log = None if consent.dry_run else action_log_from_args(factory, args)
    resource: LockedResource = read(factory)
    what = "bucket" if resource.kind == "s3-bucket" else "queue"
    mode = "DRY RUN (nothing will be changed)" if consent.dry_run else f"EXECUTE ({consent.mode.value})"
    print(f"rootwatch unlock {resource.kind}-policy: {mode}")
    print(f"caller: {caller.arn} · task policy {policy.value}")
    if resource.policy is None:
        print(f"{what} {resource.name} in account {resource.account_id} has no {what} policy: nothing to unlock")
        return EXIT_OK
    print(f"current policy of {what} {resource.name} (account {resource.account_id}):")
    print(resource.pretty_policy())
    backup = save_backup(resource, Path(args.backup_dir))
    print(f"backup saved: {backup}")
    if consent.dry_run:
        print(f"dry run: the {what} policy was not removed. To remove it: add --execute (asks first) or --yes.")
        return EXIT_OK
    if not consent.confirm(f"Remove this policy from {what} {resource.name} in account {resource.account_id}?"):
        print(f"cancelled: nothing changed (backup kept at {backup})")
        return EXIT_UNEXPECTED
    assert action_log is not None
    if resource.kind == "s3-bucket":
        result = remove_bucket_policy(factory, resource, action_log, caller.arn)
    else:
        result = remove_queue_policy(factory, resource, action_log, caller.arn)
    result.backup_path = backup
    if result.error:
        print(f"FAILED  removing the policy: {result.error}")
    elif result.verified:
        print(f"done    the {what} policy is removed (verified: reading it back finds none)")
    else:
        print(f"FAILED  verification: the {what} still has a policy after the removal")
    print(f"audit log: {action_log.destination}")
    print(f"to restore: {_restore_hint(resource, backup)}")
    return EXIT_OK if result.removed and result.verified else EXIT_FINDINGS


def _restore_hint(resource: LockedResource, backup: Path) -> str:
    if resource.kind == "s3-bucket":
        return f"aws s3api put-bucket-policy --bucket {resource.name} --policy file://{backup}"
    return f"aws sqs set-queue-attributes --queue-url {resource.name} --attributes Policy=<contents of {backup}>"
