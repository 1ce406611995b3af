"""Remove a resource policy that locks everyone out of an S3 bucket or an SQS queue (docs/aws-behaviour.md).

Only the member account's root user can undo such a policy, so each step runs in a root session with the
task policy made for it (``S3UnlockBucketPolicy``, ``SQSUnlockQueuePolicy``; both need the organization's
RootSessions feature). The flow: read the current policy, save it to a local backup file, then (after
consent) delete it, and read it again to verify it is gone. The backup holds the policy document exactly
as AWS returned it, so it can be put back with ``aws s3api put-bucket-policy --policy file://...`` or
``aws sqs set-queue-attributes``; it never holds a credential.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import ClientError
from rootwatch.aws.clients import ClientFactory
from rootwatch.aws.errors import classify
from rootwatch.domain.account_ids import is_account_id
from rootwatch.domain.errors import RootwatchError
from rootwatch.domain.task_policies import TaskPolicy

from rootwatch_cli.operations.action_log import ActionEntry, ActionLog
from rootwatch_cli.operations.preflight import Refusal, RefusalReason, refusal_for

SESSION_SECONDS = 60
S3_OPERATION = "unlock-s3-bucket-policy"
SQS_OPERATION = "unlock-sqs-queue-policy"

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class LockedResource:
    """A bucket or queue and its current policy (None: it has none)."""

    kind: str  # "s3-bucket" or "sqs-queue"
    account_id: str
    name: str
    policy: str | None

    def pretty_policy(self) -> str:
        """The policy indented for reading (as returned when it is not JSON)."""
        if self.policy is None:
            return ""
        try:
            return json.dumps(json.loads(self.policy), indent=2, sort_keys=False)
        except ValueError:
            return self.policy


@dataclass
class UnlockResult:
    resource: LockedResource
    backup_path: Path | None = None
    removed: bool = False
    verified: bool = False
    error: str | None = None


def validate_bucket_name(name: str) -> str:
    """The bucket name, or ValueError naming --bucket."""
    if not _BUCKET_NAME.match(name or ""):
        raise ValueError(f"--bucket: {name!r} is not a valid S3 bucket name")
    return name


def queue_account(queue_url: str) -> str:
    """The account id in an SQS queue URL (``https://sqs.<region>.amazonaws.com/<account>/<name>``)."""
    parsed = urlparse(queue_url)
    parts = [p for p in parsed.path.split("/") if p]
    if parsed.scheme not in ("http", "https") or len(parts) != 2 or not is_account_id(parts[0]):
        raise ValueError(
            f"--queue-url: {queue_url!r} is not an SQS queue URL (https://sqs.REGION.amazonaws.com/ID/NAME)"
        )
    return parts[0]


def read_bucket_policy(factory: ClientFactory, account_id: str, bucket: str) -> LockedResource:
    """The bucket's current policy through an S3UnlockBucketPolicy root session."""
    policy = TaskPolicy.S3_UNLOCK_BUCKET_POLICY
    with _root_errors(policy), factory.root_session(account_id, policy, SESSION_SECONDS) as root:
        return LockedResource("s3-bucket", account_id, bucket, _bucket_policy(root.client("s3"), account_id, bucket))


def read_queue_policy(factory: ClientFactory, account_id: str, queue_url: str) -> LockedResource:
    """The queue's current policy through an SQSUnlockQueuePolicy root session."""
    policy = TaskPolicy.SQS_UNLOCK_QUEUE_POLICY
    with _root_errors(policy), factory.root_session(account_id, policy, SESSION_SECONDS) as root:
        return LockedResource("sqs-queue", account_id, queue_url, _queue_policy(root.client("sqs"), queue_url))


def save_backup(resource: LockedResource, directory: Path, now: datetime | None = None) -> Path:
    """Write the policy exactly as AWS returned it to a new file in ``directory``; return its path."""
    if resource.policy is None:
        raise ValueError("there is no policy to back up")
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    label = resource.name if resource.kind == "s3-bucket" else resource.name.rstrip("/").rsplit("/", 1)[-1]
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", label)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"rootwatch-backup-{resource.kind}-{resource.account_id}-{safe}-{stamp}.json"
    with path.open("x", encoding="utf-8") as handle:  # never overwrite an earlier backup
        handle.write(resource.policy)
    return path


def remove_bucket_policy(
    factory: ClientFactory, resource: LockedResource, action_log: ActionLog, who: str
) -> UnlockResult:
    """DeleteBucketPolicy as root, then GetBucketPolicy to verify; logged either way."""
    result = UnlockResult(resource)
    policy = TaskPolicy.S3_UNLOCK_BUCKET_POLICY
    with _root_errors(policy), factory.root_session(resource.account_id, policy, SESSION_SECONDS) as root:
        s3 = root.client("s3")
        try:
            s3.delete_bucket_policy(Bucket=resource.name, ExpectedBucketOwner=resource.account_id)
            result.removed = True
        except ClientError as exc:
            error = classify(exc)
            result.error = f"{error.aws_code}: {error.message}"
        _log(action_log, who, resource, S3_OPERATION, "DeleteBucketPolicy", policy, result)
        if result.removed:
            result.verified = _bucket_policy(s3, resource.account_id, resource.name) is None
    return result


def remove_queue_policy(
    factory: ClientFactory, resource: LockedResource, action_log: ActionLog, who: str
) -> UnlockResult:
    """SetQueueAttributes Policy="" as root, then GetQueueAttributes to verify; logged either way."""
    result = UnlockResult(resource)
    policy = TaskPolicy.SQS_UNLOCK_QUEUE_POLICY
    with _root_errors(policy), factory.root_session(resource.account_id, policy, SESSION_SECONDS) as root:
        sqs = root.client("sqs")
        try:
            sqs.set_queue_attributes(QueueUrl=resource.name, Attributes={"Policy": ""})
            result.removed = True
        except ClientError as exc:
            error = classify(exc)
            result.error = f"{error.aws_code}: {error.message}"
        _log(action_log, who, resource, SQS_OPERATION, "SetQueueAttributes", policy, result)
        if result.removed:
            result.verified = _queue_policy(sqs, resource.name) is None
    return result


def _bucket_policy(s3: Any, account_id: str, bucket: str) -> str | None:
    try:
        return str(s3.get_bucket_policy(Bucket=bucket, ExpectedBucketOwner=account_id)["Policy"])
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == "NoSuchBucketPolicy":
            return None
        if code == "NoSuchBucket":
            raise Refusal(RefusalReason.NOT_FOUND, f"--bucket: no bucket {bucket!r} in account {account_id}") from None
        raise


def _queue_policy(sqs: Any, queue_url: str) -> str | None:
    try:
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"]).get("Attributes", {})
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            raise Refusal(RefusalReason.NOT_FOUND, f"--queue-url: no queue at {queue_url}") from None
        raise
    return attributes.get("Policy") or None


def _log(
    action_log: ActionLog,
    who: str,
    resource: LockedResource,
    operation: str,
    action: str,
    policy: TaskPolicy,
    result: UnlockResult,
) -> None:
    action_log.append(
        ActionEntry(
            who=who,
            account_id=resource.account_id,
            operation=operation,
            action=action,
            target=resource.name,
            result="done" if result.removed else "failed",
            task_policy=policy.value,
            message=result.error,
        )
    )


@contextmanager
def _root_errors(policy: TaskPolicy) -> Iterator[None]:
    """A disabled RootSessions feature becomes a Refusal (AWS's observed message); other AWS errors RootwatchErrors."""
    try:
        yield
    except RootwatchError as exc:
        refusal = refusal_for(exc, policy)
        if refusal is not None:
            raise refusal from exc
        raise
    except ClientError as exc:
        raise classify(exc) from exc
