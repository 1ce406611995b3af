"""Pure parts of doctor and unlock: version thresholds, output lines, queue URLs, bucket names, backups."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rootwatch_cli.commands.doctor import format_checks
from rootwatch_cli.operations.doctor import Check, Status, check_botocore, exit_code
from rootwatch_cli.operations.unlock import LockedResource, queue_account, save_backup, validate_bucket_name


@pytest.mark.parametrize(
    ("version", "status"),
    [
        ("1.44.5", Status.OK),
        ("1.40.27", Status.OK),
        ("1.40.26", Status.WARN),
        ("1.35.61", Status.WARN),
        ("1.35.60", Status.FAIL),
        ("1.29.0", Status.FAIL),
    ],
)
def test_botocore_needs_1_35_61_for_assume_root_and_1_40_27_for_state(version, status):
    assert check_botocore(version).status is status


def test_warnings_alone_exit_0_and_any_failure_exits_3():
    assert exit_code([Check("a", Status.OK, ""), Check("b", Status.WARN, "")]) == 0
    assert exit_code([Check("a", Status.OK, ""), Check("b", Status.FAIL, "")]) == 3


def test_each_check_is_one_line_with_its_fix_below_and_a_summary():
    lines = format_checks(
        [Check("caller", Status.OK, "me", "unused"), Check("scp", Status.FAIL, "denied", "exempt it")]
    )
    assert lines[0].startswith("ok") and "unused" not in "\n".join(lines)
    assert lines[1].startswith("FAIL") and lines[2].strip() == "fix: exempt it"
    assert lines[-1] == "doctor: 1 ok, 0 warn, 1 fail"


def test_queue_account_reads_the_account_from_the_url_and_rejects_other_text():
    assert queue_account("https://sqs.ap-northeast-1.amazonaws.com/111122223333/my-queue") == "111122223333"
    with pytest.raises(ValueError, match="--queue-url"):
        queue_account("my-queue")


def test_bucket_names_are_validated():
    assert validate_bucket_name("my-bucket") == "my-bucket"
    with pytest.raises(ValueError, match="--bucket"):
        validate_bucket_name("My_Bucket")


def test_backup_holds_the_policy_exactly_and_never_overwrites(tmp_path):
    policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}'
    resource = LockedResource("s3-bucket", "111122223333", "my-bucket", policy)
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    path = save_backup(resource, tmp_path, now)
    assert path.read_text() == policy
    assert path.name == "rootwatch-backup-s3-bucket-111122223333-my-bucket-20260102T030405Z.json"
    with pytest.raises(FileExistsError):
        save_backup(resource, tmp_path, now)
