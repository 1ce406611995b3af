"""The Lambda handlers' boundary: malformed events and missing configuration fail clearly, naming the problem."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rootwatch.handlers import audit_account, dependencies, finish_run, prepare_run
from rootwatch.handlers.events import AuditAccountEvent, FinishRunEvent, InvalidEventError, parse_event
from rootwatch.handlers.settings import ConfigError, Settings

GOOD_ENV = {
    "TABLE_NAME": "rootwatch-status",
    "BUCKET_NAME": "rootwatch-results",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:rootwatch-alerts",
    "AUDIT_REGION": "us-east-1",
}


@dataclass
class FakeLambdaContext:
    function_name: str = "rootwatch-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:rootwatch-test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch):
    for name, value in GOOD_ENV.items():
        monkeypatch.setenv(name, value)
    dependencies.reset()
    yield
    dependencies.reset()


@pytest.mark.parametrize(
    ("handler", "event", "field"),
    [
        (prepare_run.handler, {"scanned_at": "2026-11-22T02:00:00Z"}, "run_id"),
        (prepare_run.handler, {"run_id": "r1", "scanned_at": "last tuesday"}, "scanned_at"),
        (
            audit_account.handler,
            {"run_id": "r1", "scanned_at": "2026-11-22T02:00:00Z", "account": {"id": "12"}},
            "account.id",
        ),
        (audit_account.handler, {"run_id": "r1", "scanned_at": "2026-11-22T02:00:00Z"}, "account"),
        (
            audit_account.handler,
            {"run_id": "../etc", "scanned_at": "2026-11-22T02:00:00Z", "account": {"id": "111111111111"}},
            "run_id",
        ),
        (
            finish_run.handler,
            {"run_id": "r1", "scanned_at": "2026-11-22T02:00:00Z", "state": {"prepared": {"run_id": "r1"}}},
            "state.prepared.scanned_at",
        ),
        (finish_run.handler, {"run_id": "r1"}, "scanned_at"),
    ],
)
def test_malformed_event_is_rejected_naming_the_field(handler, event, field):
    with pytest.raises(InvalidEventError) as caught:
        handler(event, FakeLambdaContext())
    assert f"event field {field}:" in str(caught.value)


@pytest.mark.parametrize("handler", [prepare_run.handler, audit_account.handler, finish_run.handler])
def test_event_that_is_not_an_object_is_rejected(handler):
    with pytest.raises(InvalidEventError, match="expected a JSON object, got list"):
        handler(["not", "an", "event"], FakeLambdaContext())


@pytest.mark.parametrize("variable", ["TABLE_NAME", "BUCKET_NAME", "TOPIC_ARN", "AUDIT_REGION"])
def test_missing_environment_variable_is_named(monkeypatch, variable):
    monkeypatch.delenv(variable)
    event = {"run_id": "r1", "scanned_at": "2026-11-22T02:00:00Z", "account": {"id": "111111111111"}}
    with pytest.raises(ConfigError, match=f"missing environment variable {variable}"):
        audit_account.handler(event, FakeLambdaContext())


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HISTORY_TTL_DAYS", "forever"),
        ("HISTORY_TTL_DAYS", "0"),
        ("TOPIC_ARN", "rootwatch-alerts"),
        ("AUDIT_REGION", "moon"),
    ],
)
def test_bad_environment_value_is_named(variable, value):
    with pytest.raises(ConfigError, match=f"environment variable {variable}:"):
        Settings.from_environ({**GOOD_ENV, variable: value})


def test_settings_read_history_ttl_and_exemptions():
    settings = Settings.from_environ({**GOOD_ENV, "HISTORY_TTL_DAYS": "30", "ROOTWATCH_EXEMPTIONS": "[]"})
    assert settings.history_ttl_days == 30 and settings.exemptions_json == "[]"


def test_execution_start_time_becomes_a_second_precision_utc_timestamp():
    event = parse_event(
        {"run_id": "r1", "scanned_at": "2026-11-22T03:04:05.678+01:00", "account": {"id": "111111111111"}},
        AuditAccountEvent,
    )
    assert event.scanned_at == "2026-11-22T02:04:05Z"


def test_last_retry_is_the_final_attempt():
    base = {"run_id": "r1", "scanned_at": "2026-11-22T02:00:00Z", "account": {"id": "111111111111"}}
    assert not parse_event({**base, "retry_count": 2, "max_retries": 6}, AuditAccountEvent).final_attempt
    assert parse_event({**base, "retry_count": 6, "max_retries": 6}, AuditAccountEvent).final_attempt


def test_finish_event_from_a_failed_prepare_carries_the_caught_error():
    event = parse_event(
        {
            "run_id": "r1",
            "scanned_at": "2026-11-22T02:00:00Z",
            "state": {"failure": {"Error": "FeatureDisabledError", "Cause": "{}"}},
        },
        FinishRunEvent,
    )
    assert event.state.prepared is None and event.failure.Error == "FeatureDisabledError"


@pytest.mark.parametrize(
    "account_id",
    [
        "١٢٣٤٥٦٧٨٩٠١٢",  # Arabic-Indic digits: `\d` matches them, AWS does not
        "".join(chr(0xFF10 + int(d)) for d in "123456789012"),  # fullwidth digits
        "12345678901" + chr(0xFF12),
        "123456789012\n",
    ],
)
def test_audit_account_event_accepts_only_ascii_digit_account_ids(account_id):
    event = {"run_id": "r1", "scanned_at": "2026-11-22T02:00:00Z", "account": {"id": account_id}}
    with pytest.raises(InvalidEventError, match=r"event field account\.id:"):
        parse_event(event, AuditAccountEvent)
    with pytest.raises(InvalidEventError, match=r"event field account\.id:"):
        audit_account.handler(event, FakeLambdaContext())


def test_audit_account_event_keeps_a_good_account_id():
    event = {"run_id": "r1", "scanned_at": "2026-11-22T02:00:00Z", "account": {"id": "111122223333"}}
    assert parse_event(event, AuditAccountEvent).account.id == "111122223333"
