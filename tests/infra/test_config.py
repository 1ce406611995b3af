"""Typed config from cdk.json context: defaults, CLI-style strings, and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from infra.app import cdk_json_context, check_known_keys
from infra.config import ConfigError, load_config, validate_cron
from infra.lambda_asset import pinned_version

REPO = Path(__file__).resolve().parents[2]


def _context(**overrides: object) -> dict[str, object]:
    context = cdk_json_context()
    context.update({f"rootwatch:{k}": v for k, v in overrides.items()})
    return context


def _error(**overrides: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(_context(**overrides))
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_committed_cdk_json_is_a_valid_config_with_arm64_and_a_nightly_schedule():
    config = load_config(cdk_json_context())
    assert config.lambda_architecture == "arm64"
    assert config.schedule_cron == "cron(0 2 * * ? *)"
    assert config.alert_emails
    assert config.removal_policy == "retain"
    assert config.audit_region is None


def test_command_line_strings_are_accepted_for_lists_and_numbers():
    config = load_config(_context(alertEmails="a@example.org, b@example.org", mapMaxConcurrency="25"))
    assert config.alert_emails == ("a@example.org", "b@example.org")
    assert config.map_max_concurrency == 25


@pytest.mark.parametrize("emails", [[], "", None])
def test_missing_email_names_the_key_and_what_is_allowed(emails):
    message = _error(alertEmails=emails)
    assert "rootwatch:alertEmails" in message
    assert "no alert email address" in message
    assert "allowed: a non-empty list of email addresses" in message


def test_malformed_email_is_named():
    message = _error(alertEmails=["security@example.org", "not-an-address"])
    assert "rootwatch:alertEmails" in message and "'not-an-address'" in message


@pytest.mark.parametrize(
    "cron",
    [
        "0 2 * * *",  # crontab, not EventBridge
        "cron(0 2 * * *)",  # five fields
        "cron(0 2 * * MON *)",  # no '?'
        "cron(61 2 * * ? *)",  # minute out of range
        "cron(0 24 * * ? *)",
        "cron(0 2 * FOO ? *)",
    ],
)
def test_bad_cron_names_the_key_and_the_expected_form(cron):
    message = _error(scheduleCron=cron)
    assert message.startswith("cdk.json context rootwatch:scheduleCron:")
    assert "cron(minutes hours day-of-month month day-of-week year)" in message


@pytest.mark.parametrize(
    "cron",
    [
        "cron(0 2 * * ? *)",
        "cron(30 1 ? * MON-FRI *)",
        "cron(0/15 * * * ? *)",
        "cron(0 3 L * ? *)",
        "cron(0 3 ? * 2#1 *)",
    ],
)
def test_valid_eventbridge_crons_pass(cron):
    assert validate_cron(cron) == cron


@pytest.mark.parametrize("value", [0, -1, 10_001, "many", 2.5, True])
def test_invalid_concurrency_names_the_key_and_the_range(value):
    message = _error(mapMaxConcurrency=value)
    assert "rootwatch:mapMaxConcurrency" in message
    assert "allowed: an integer from 1 to 10000" in message


def test_unknown_architecture_lists_the_allowed_ones():
    message = _error(lambdaArchitecture="sparc")
    assert message == "cdk.json context rootwatch:lambdaArchitecture: 'sparc' is not allowed; allowed: arm64, x86_64"


def test_log_retention_must_be_a_value_cloudwatch_accepts():
    message = _error(logRetentionDays=100)
    assert "rootwatch:logRetentionDays" in message and "90, 120" in message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("removalPolicy", "snapshot"),
        ("scheduleTimezone", "Mars/Olympus"),
        ("resourcePrefix", "Root Watch"),
        ("historyRetentionDays", 0),
        ("auditRegion", "moon-1"),
        ("passwordUnusedDays", 0),
        ("passwordUnusedDays", "ninety"),
    ],
)
def test_other_bad_values_name_their_key(key, value):
    assert f"rootwatch:{key}:" in _error(**{key: value})


def test_exemption_entries_are_validated_by_the_domain_model_naming_the_entry():
    past = (date.today() - timedelta(days=2)).isoformat()
    entry = {"account_id": "111122223333", "credentials": ["password"], "reason": "break-glass", "expires": past}
    message = _error(exemptions=[entry])
    assert "rootwatch:exemptions" in message and "exemptions[0]" in message


def test_valid_exemptions_reach_the_lambdas_as_json():
    future = (date.today() + timedelta(days=60)).isoformat()
    entry = {
        "account_id": "111122223333",
        "credentials": ["mfa"],
        "reason": "break-glass, ticket SEC-42",
        "expires": future,
    }
    config = load_config(_context(exemptions=[entry]))
    assert json.loads(config.exemptions_json) == [entry]


def test_exemptions_that_would_overflow_the_lambda_environment_fail_synth():
    future = (date.today() + timedelta(days=60)).isoformat()
    entries = [
        {"account_id": f"1111222233{i:02d}", "credentials": ["password"], "reason": "x" * 120, "expires": future}
        for i in range(20)
    ]
    message = _error(exemptions=entries)
    assert "rootwatch:exemptions" in message and "Lambda environment" in message


def test_misspelt_key_is_refused_instead_of_ignored():
    with pytest.raises(ConfigError, match=r"rootwatch:alertEmail: unknown key; allowed: .*rootwatch:alertEmails"):
        check_known_keys({"rootwatch:alertEmail": ["a@example.org"]})


def test_app_py_fails_synth_with_one_line_naming_the_key():
    """The same path `cdk synth` takes: the CLI hands context to app.py in CDK_CONTEXT_JSON."""
    env = dict(os.environ, CDK_CONTEXT_JSON=json.dumps({"rootwatch:mapMaxConcurrency": 0}), CDK_OUTDIR="/nonexistent")
    result = subprocess.run(
        [sys.executable, str(REPO / "app.py")], capture_output=True, text=True, env=env, cwd=REPO, timeout=120
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("rootwatch:")]
    assert lines == [
        "rootwatch: cdk.json context rootwatch:mapMaxConcurrency: 0 is out of range; "
        "allowed: an integer from 1 to 10000"
    ]
    assert "Traceback" not in result.stderr


def test_x86_and_destroy_change_the_architecture_layer_and_deletion_protection():
    """Built (not synthesized: fast) with another configuration; the L1 properties follow the config."""
    import aws_cdk as cdk

    from infra.app import build_app

    context = _context(lambdaArchitecture="x86_64", removalPolicy="destroy", resourcePrefix="rw-test")
    _, stack = build_app(context, nag=False, env=cdk.Environment(account="111111111111", region="us-west-2"))
    function = stack.workflow.audit.node.default_child
    assert stack.resolve(function.architectures) == ["x86_64"]
    (layer,) = stack.resolve(function.layers)
    parameters = {stack.resolve(c.logical_id): c for c in stack.node.find_all() if isinstance(c, cdk.CfnParameter)}
    assert parameters[layer["Ref"]].type == "AWS::SSM::Parameter::Value<String>"
    version = pinned_version("aws-lambda-powertools")
    assert parameters[layer["Ref"]].default == f"/aws/service/powertools/python/x86_64/python3.13/{version}"
    table = stack.storage.table.node.default_child
    assert stack.resolve(table.deletion_protection_enabled) is False
    assert table.cfn_options.deletion_policy == cdk.CfnDeletionPolicy.DELETE
    assert stack.resolve(function.function_name) == "rw-test-audit-account"


def test_the_removed_layer_version_key_is_refused_saying_what_replaced_it():
    with pytest.raises(ConfigError) as caught:
        check_known_keys({"rootwatch:powertoolsLayerVersion": 36})
    message = str(caught.value)
    assert "rootwatch:powertoolsLayerVersion" in message and "requirements.txt" in message and "\n" not in message


def test_every_config_key_is_documented_for_operators():
    from infra.config import CONFIG_KEYS

    guide = (REPO / "docs" / "deploying.md").read_text()
    assert [key for key in CONFIG_KEYS if f"| `{key}` |" not in guide] == []
    assert set(CONFIG_KEYS) == {k for k in cdk_json_context() if k.startswith("rootwatch:")}


def test_password_unused_days_defaults_to_90_and_a_bad_value_is_one_line_naming_the_key():
    assert load_config(_context()).policy.password_unused_days == 90
    assert load_config(_context(passwordUnusedDays=30)).policy.password_unused_days == 30
    message = _error(passwordUnusedDays=4000)
    assert message == (
        "cdk.json context rootwatch:passwordUnusedDays: 4000 is out of range; allowed: an integer from 1 to 3650"
    )
