"""EventBridge change events (rootwatch.domain.events) and their publisher (rootwatch.aws.events)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError
from rootwatch.aws.events import EventPublisher
from rootwatch.domain.alert import RunFailure
from rootwatch.domain.events import DETAIL_TYPE, MAX_ENTRIES, SCHEMA, SOURCE, Change, ChangeEvent, change_events
from rootwatch.domain.records import AuditRecord, AuditStatus

BUS = "arn:aws:events:eu-west-1:999988887777:event-bus/default"


def _record(account_id: str, **fields: Any) -> AuditRecord:
    base: dict[str, Any] = {
        "run_id": "night-2",
        "scanned_at": "2026-11-21T02:00:00Z",
        "account_id": account_id,
        "password_present": False,
        "access_keys_present": False,
        "signing_certificates_present": False,
        "mfa_enabled": False,
    }
    return AuditRecord(**(base | fields))


def _events(*records: AuditRecord, **kwargs: Any) -> list[ChangeEvent]:
    return change_events(
        records, run_id="night-2", organization_id="o-abc", scanned_at="2026-11-21T02:00:00Z", **kwargs
    )


def test_one_event_per_change_kind_with_the_versioned_schema():
    events = _events(
        _record("111111111111", first_audit=True, password_present=True),
        _record("222222222222", access_keys_present=True, active_access_keys=1, appeared=["access_keys"]),
        _record("333333333333", disappeared=["password"]),
        _record("444444444444", status=AuditStatus.ERROR, error_code="ACCESS_DENIED", error_message="denied"),
        _record("555555555555"),  # nothing changed: no event
        run_failure=RunFailure(error_code="RUN_FAILED", error_message="Map failed", account_id="000000000000"),
    )
    changes = [(e.detail["change"], e.detail["account"]["id"]) for e in events]
    assert changes == [
        ("run_failed", "000000000000"),
        ("appeared", "111111111111"),
        ("reappeared", "222222222222"),
        ("resolved", "333333333333"),
        ("audit_error", "444444444444"),
    ]
    assert all(e.detail["schema"] == SCHEMA == "rootwatch.event/v1" for e in events)
    assert [e.detail_type for e in events] == [DETAIL_TYPE[Change(c)] for c, _ in changes]
    assert events[2].detail["credentials"] == ["access_keys"]
    assert events[2].detail["findings"][0]["finding"] == "active_access_key"
    assert events[3].detail["alerting"] is False
    assert events[4].detail["error"] == {"code": "ACCESS_DENIED", "message": "denied"}
    assert all(set(e.detail) == set(events[0].detail) for e in events), "every change has the same keys"


def test_an_exempt_credential_is_reported_as_exempt_and_not_alerting():
    record = _record("111111111111", first_audit=True, password_present=True, exemption_reason="password until x: y")
    (event,) = _events(record, exempt_kinds={"111111111111": frozenset({"password"})})
    assert event.detail["exempt_credentials"] == ["password"]
    assert event.detail["alerting"] is False
    assert event.detail["exemption_reason"] == "password until x: y"


def test_the_entry_is_a_rootwatch_event_on_the_bus():
    (event,) = _events(_record("111111111111", disappeared=["mfa"]))
    entry = event.entry(BUS)
    assert entry["Source"] == SOURCE == "rootwatch"
    assert entry["EventBusName"] == BUS
    assert json.loads(entry["Detail"]) == event.detail


class _Client:
    def __init__(self, codes: list[str | None] | None = None, error: Exception | None = None) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.codes, self.error = list(codes or []), error

    def put_events(self, Entries):
        self.calls.append(Entries)
        if self.error:
            raise self.error
        results = []
        for _ in Entries:
            code = self.codes.pop(0) if self.codes else None
            results.append({"ErrorCode": code, "ErrorMessage": "x"} if code else {"EventId": "e"})
        return {"FailedEntryCount": sum(1 for r in results if "ErrorCode" in r), "Entries": results}


def _many(count: int) -> list[ChangeEvent]:
    return _events(*(_record(f"{index:012d}", disappeared=["password"]) for index in range(count)))


def test_the_publisher_sends_at_most_10_a_call():
    client = _Client()
    delivery = EventPublisher(client, BUS).put_events(_many(MAX_ENTRIES + 3))
    assert [len(call) for call in client.calls] == [MAX_ENTRIES, 3]
    assert (delivery.sent, delivery.failed) == (MAX_ENTRIES + 3, 0)


def test_the_publisher_retries_a_throttled_entry_once_and_counts_a_refused_one():
    client = _Client(codes=["ThrottlingException", "ValidationException", None])
    delivery = EventPublisher(client, BUS).put_events(_many(3))
    assert [len(call) for call in client.calls] == [3, 1]
    assert (delivery.sent, delivery.failed) == (2, 1)
    assert "ValidationException" in delivery.errors[0]


def test_the_publisher_counts_a_failed_call_and_never_raises():
    error = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "PutEvents")
    delivery = EventPublisher(_Client(error=error), BUS).put_events(_many(2))
    assert (delivery.sent, delivery.failed) == (0, 2)


def test_an_exempt_kind_reappearing_every_night_is_no_change():
    record = _record("111111111111", mfa_enabled=True, password_present=True, appeared=["password", "mfa"])
    (event,) = _events(record, exempt_kinds={"111111111111": frozenset({"mfa"})})
    assert event.detail["credentials"] == ["password"]
    only_exempt = _record("222222222222", mfa_enabled=True, appeared=["mfa"])
    assert _events(only_exempt, exempt_kinds={"222222222222": frozenset({"mfa"})}) == []
