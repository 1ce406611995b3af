"""Every verb that talks to AWS ends a setup problem the same way: exit 2, one line on stderr, no traceback.

No credentials, an unreachable endpoint, nothing deployed in the region, a malformed ARN. ``doctor`` is
not here: a failed check is what it reports (exit 3, with the fix on its FAIL line).
"""

from __future__ import annotations

import pytest
from rootwatch_cli import main

ACCOUNT = "111111111111"
COMMANDS = {
    "scan": ["scan"],
    "run": ["run", "--no-progress"],
    "query": ["query", "latest_state", "--bucket", "rootwatch-results"],
    "remediate": ["remediate", "delete-root-credentials", "--accounts", ACCOUNT, "--dry-run"],
    "unlock": ["unlock", "s3-bucket-policy", "--account", ACCOUNT, "--bucket", "my-bucket", "--dry-run"],
    "enable": ["enable", "--dry-run"],
}


def assert_one_line(capsys, code, *fragments):
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: ") and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.parametrize("command", COMMANDS)
def test_no_credentials_is_one_line_and_exit_2(no_credentials, capsys, command):
    assert_one_line(capsys, main(COMMANDS[command]), "credentials")


@pytest.mark.parametrize("command", [*COMMANDS, "query-endpoint"])
def test_unreachable_endpoint_is_one_line_and_exit_2(monkeypatch, capsys, command):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    argv = ["query", "latest_state"] if command == "query-endpoint" else COMMANDS[command]
    code = main([*argv, "--endpoint-url", "http://127.0.0.1:1"])
    assert_one_line(capsys, code, "http://127.0.0.1:1")


def test_run_in_a_region_without_the_stack_names_region_and_account_and_how_to_deploy(sandbox, capsys):
    code = main(["run", "--no-progress", "--region", "eu-west-3"])
    assert_one_line(capsys, code, "region eu-west-3", "account ", "cdk deploy")


def test_run_with_a_malformed_state_machine_arn_is_one_line(sandbox, capsys):
    code = main(["run", "--no-progress", "--state-machine-arn", "not-an-arn"])
    assert_one_line(capsys, code)
