"""The finding kinds table (rootwatch.domain.findings) and the places that read it."""

from __future__ import annotations

import argparse
import dataclasses
from types import SimpleNamespace

import pytest
from rootwatch.domain import findings
from rootwatch.domain.alert import compose_alert
from rootwatch.domain.credentials import STATE_RECORD_FIELDS, RootCredentialState
from rootwatch.domain.findings import (
    DEFAULT_POLICY,
    FINDINGS,
    SEVERITY_ORDER,
    FindingKind,
    Policy,
    Severity,
    finding_counts,
    findings_of,
    password_unused,
)
from rootwatch.domain.outcomes import Account, ok_record
from rootwatch.domain.records import RECORD_FIELDS, AuditRecord, AuditStatus
from rootwatch.handlers import settings as settings_module
from rootwatch.handlers.settings import ConfigError, Settings
from rootwatch_cli import UsageError, build_parser, common
from rootwatch_cli.commands import scan
from rootwatch_cli.common import add_threshold_args, policy_from_args

from infra import config as config_module
from infra.app import cdk_json_context

TOPIC = "arn:aws:sns:us-east-1:123456789012:rootwatch-alerts"

SCANNED = "2026-11-22T02:00:00Z"
RECORD_FIELD_NAMES = {f.name for f in RECORD_FIELDS}


def _record(name: str = "a") -> AuditRecord:
    return AuditRecord(run_id="r", scanned_at=SCANNED, account_id="111111111111", account_name=name)


def _with(record: AuditRecord, **fields: object) -> AuditRecord:
    return dataclasses.replace(record, **fields)  # type: ignore[arg-type]


def _password(last_used: str | None) -> AuditRecord:
    return _with(_record(), password_present=True, root_credentials_present=True, password_last_used=last_used)


# --- the table --------------------------------------------------------------------------------------


def test_every_kind_has_words_severity_remediation_and_reads_only_record_fields() -> None:
    assert len({kind.key for kind in FINDINGS}) == len(FINDINGS)
    for kind in FINDINGS:
        assert kind.label and kind.plural and kind.remediation, kind.key
        assert isinstance(kind.severity, Severity), kind.key
        assert set(kind.fields) <= RECORD_FIELD_NAMES, kind.key
        assert set(kind.credentials) <= {"password", "access_keys", "signing_certificates", "mfa"}, kind.key


def test_the_table_is_ordered_by_severity_most_urgent_first() -> None:
    ranks = [SEVERITY_ORDER.index(kind.severity) for kind in FINDINGS]
    assert ranks == sorted(ranks)
    assert FINDINGS[0].key == "audit_error"


def test_only_the_unused_password_is_a_recommendation_that_never_alerts() -> None:
    assert [kind.key for kind in FINDINGS if not kind.alerts] == ["password_unused"]
    assert findings.alerting_credentials() == {"password", "access_keys", "signing_certificates", "mfa"}


def test_labels_fill_in_the_threshold() -> None:
    kind = findings.FINDING["password_unused"]
    assert kind.text(Policy(password_unused_days=30)) == "password unused for 30+ days"
    assert kind.text(Policy(), count=2) == "passwords unused for 90+ days"


def test_state_record_fields_are_derived_from_the_state_and_fill_the_ok_record() -> None:
    state_fields = {f.name for f in dataclasses.fields(RootCredentialState)}
    assert set(STATE_RECORD_FIELDS) == state_fields | {"root_credentials_present"}
    state = RootCredentialState(
        password_present=True,
        access_keys_present=True,
        signing_certificates_present=True,
        mfa_enabled=True,
        active_access_keys=1,
        inactive_access_keys=2,
        mfa_devices=3,
        active_signing_certificates=4,
        password_last_used="2026-01-01T00:00:00Z",
        access_key_last_used="2026-02-01T00:00:00Z",
    )
    record = ok_record("r", SCANNED, Account("111111111111"), state)
    assert {name: getattr(record, name) for name in STATE_RECORD_FIELDS} == state.record_fields()
    assert record.root_credentials_present is True and record.password_last_used == "2026-01-01T00:00:00Z"


# --- the new kind: password unused for N days -------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_used", "unused"),
    [
        ("2026-08-24T02:00:00Z", True),  # exactly 90 days before the audit
        ("2026-08-24T02:00:01Z", False),  # a second short of 90 days
        ("2025-01-01T00:00:00Z", True),
        ("2026-11-21T23:00:00Z", False),
        (None, True),  # never used: AWS leaves PasswordLastUsed out
    ],
)
def test_password_unused_threshold_boundary_and_never_used(last_used: str | None, unused: bool) -> None:
    assert password_unused(_password(last_used), Policy(password_unused_days=90)) is unused
    keys = [kind.key for kind in findings_of(_password(last_used))]
    assert ("password_unused" in keys) is unused and "password" in keys


def test_no_password_no_finding_even_with_an_old_last_used_date() -> None:
    record = _with(_record(), password_present=False, password_last_used="2020-01-01T00:00:00Z")
    assert not password_unused(record, Policy())
    assert password_unused(_password("2026-11-01T00:00:00Z"), Policy(password_unused_days=7))


def test_rows_from_queries_work_like_records() -> None:
    row = {"status": "OK", "password_present": True, "password_last_used": None, "scanned_at": SCANNED}
    assert [kind.key for kind in findings_of(row)] == ["password", "password_unused"]
    counts = finding_counts([row, _record()])
    assert counts["password_unused"] == 1 and counts["audit_error"] == 0 and list(counts) == [k.key for k in FINDINGS]


def test_settings_read_password_unused_days_and_name_a_bad_value() -> None:
    env = {
        "TABLE_NAME": "rootwatch-status",
        "BUCKET_NAME": "rootwatch-results",
        "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:rootwatch-alerts",
        "AUDIT_REGION": "us-east-1",
    }
    assert Settings.from_environ(env).policy.password_unused_days == 90
    assert hash(Settings.from_environ(env)) == hash(Settings.from_environ(env))  # the handlers cache on it
    assert Settings.from_environ({**env, "PASSWORD_UNUSED_DAYS": "30"}).policy.password_unused_days == 30
    with pytest.raises(ConfigError, match="PASSWORD_UNUSED_DAYS"):
        Settings.from_environ({**env, "PASSWORD_UNUSED_DAYS": "0"})


@pytest.mark.parametrize("verb", ["scan", "report"])
def test_each_threshold_is_a_flag_that_validates_its_range(verb: str) -> None:
    """The flags come from THRESHOLDS: name, bounds and default in one place."""
    parser = build_parser()
    assert policy_from_args(parser.parse_args([verb, "--password-unused-days", "30"])) == Policy(30)
    assert policy_from_args(parser.parse_args([verb])) == DEFAULT_POLICY
    for bad in ("0", "3651", "ninety", "true"):
        with pytest.raises(UsageError, match=r"--password-unused-days: .*an integer from 1 to 3650"):
            parser.parse_args([verb, "--password-unused-days", bad])


def test_a_new_threshold_reaches_config_environment_settings_and_flags(monkeypatch) -> None:
    """Adding a threshold is one THRESHOLDS entry (plus its Policy field): the cdk.json key, the functions'
    variable, the settings and the CLI flag all follow from it."""
    extra = findings.Threshold("stale_days", "staleDays", 7, 1, 30, "a test threshold")
    monkeypatch.setattr(findings, "THRESHOLDS", (*findings.THRESHOLDS, extra))
    monkeypatch.setattr(settings_module, "THRESHOLDS", findings.THRESHOLDS)
    monkeypatch.setattr(config_module, "THRESHOLDS", findings.THRESHOLDS)
    monkeypatch.setattr(common, "THRESHOLDS", findings.THRESHOLDS)
    assert (extra.env, extra.flag) == ("STALE_DAYS", "--stale-days")
    env = {"TABLE_NAME": "tbl", "BUCKET_NAME": "b" * 3, "TOPIC_ARN": TOPIC, "AUDIT_REGION": "us-east-1"}
    assert dict(Settings.from_environ({**env, "STALE_DAYS": "9"}).thresholds)["stale_days"] == 9
    with pytest.raises(ConfigError, match="environment variable STALE_DAYS: '31' is out of range"):
        Settings.from_environ({**env, "STALE_DAYS": "31"})
    parser = argparse.ArgumentParser()
    add_threshold_args(parser)
    assert parser.parse_args(["--stale-days", "3"]).stale_days == 3
    with pytest.raises(UsageError, match="--stale-days"):
        parser.parse_args(["--stale-days", "0"])
    config = config_module.load_config(cdk_json_context())
    assert config.threshold_environment() == {"PASSWORD_UNUSED_DAYS": "90", "STALE_DAYS": "7"}
    assert "rootwatch:staleDays" not in config_module.CONFIG_KEYS  # the key list is read once, at import


# --- consumers read the table ---------------------------------------------------------------------------


def test_scan_column_exit_code_and_summary_show_the_new_kind() -> None:
    record = _password("2020-01-01T00:00:00Z")
    assert scan.table_row(record)["findings"] == "password, password unused for 90+ days"
    assert scan.exit_code([record]) == 3
    org = SimpleNamespace(organization_id="o-abc123")
    line = scan.summary_line(org, [record, _record("clean")])  # type: ignore[arg-type]
    assert line.endswith("; findings: 1 password, 1 password unused for 90+ days")


def test_a_kind_added_to_the_table_reaches_scan_and_the_alert(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FindingKind(
        key="fake",
        label="fake finding",
        plural="fake findings",
        severity=Severity.INFORMATIONAL,
        severity_reason="a test",
        controls=(),
        alerts=False,
        fails_scan=True,
        credentials=(),
        fields=("account_name",),
        applies=lambda row, _: findings.field_of(row, "account_name") == "flagged",
        remediation="nothing, it is a test for <id>",
    )
    monkeypatch.setattr(findings, "FINDINGS", (*FINDINGS, fake))
    clean, flagged = _record("clean"), _record("flagged")
    assert scan.exit_code([clean]) == 0
    assert scan.exit_code([clean, flagged]) == 3
    assert scan.table_row(flagged)["findings"] == "fake finding" and scan.table_row(clean)["findings"] is None
    assert [r.account_name for r in findings.findings_by_severity([clean, flagged])] == ["flagged"]
    # A recommendation rides along an alert that goes out anyway, never causes one.
    run = {"run_id": "run-1", "organization_id": "o-abc123", "scanned_at": SCANNED}
    assert compose_alert([flagged], **run) is None
    error = AuditRecord(run_id="r", scanned_at=SCANNED, account_id="2" * 12, status=AuditStatus.ERROR)
    alert = compose_alert([flagged, error], **run)
    assert alert is not None
    assert alert.document["recommendations"] == [
        {
            "account_id": "111111111111",
            "account_name": "flagged",
            "ou_path": None,
            "finding": "fake",
            "label": "fake finding",
            "severity": "informational",
            "remediation": "nothing, it is a test for 111111111111",
        }
    ]
    assert "RECOMMENDATIONS (1 finding, no alert by themselves)" in alert.text


def test_an_exempt_or_already_alerted_password_gets_no_recommendation() -> None:
    run = {"run_id": "run-1", "organization_id": "o-abc123", "scanned_at": SCANNED}
    stale = _with(_password(None), first_audit=False)
    error = AuditRecord(run_id="r", scanned_at=SCANNED, account_id="2" * 12, status=AuditStatus.ERROR)
    alert = compose_alert([stale, error], **run)
    assert alert is not None and [e["finding"] for e in alert.document["recommendations"]] == ["password_unused"]
    exempt = compose_alert([stale, error], **run, exempt_kinds={"111111111111": {"password"}})
    assert exempt is not None and exempt.document["recommendations"] == []
    appeared = compose_alert([_with(stale, appeared=["password"])], **run)
    assert appeared is not None and appeared.document["recommendations"] == []


def test_policy_fields_are_the_thresholds() -> None:
    assert [f.name for f in dataclasses.fields(Policy)] == [t.name for t in findings.THRESHOLDS]
    assert Policy.from_values({}) == DEFAULT_POLICY
    assert Policy.from_values({"password_unused_days": 5}).password_unused_days == 5
