"""FinishRun's optional deliveries: after the alert and its bookkeeping, and never failing the run."""

from __future__ import annotations

from typing import Any

from rootwatch.domain.asff import product_arn
from rootwatch.domain.credentials import RootCredentialState
from rootwatch.domain.deliveries import Delivery
from rootwatch.services import run

from tests.unit.test_handlers_run_service import (
    ACCOUNT,
    SCANNED_AT,
    MemoryNotifier,
    MemoryResults,
    MemoryStore,
    audit_returning,
)

WITH_PASSWORD = RootCredentialState(
    password_present=True, access_keys_present=False, signing_certificates_present=False, mfa_enabled=False
)


class Importer:
    def __init__(self, order: list[str], fail: Exception | None = None) -> None:
        self.product_arn = product_arn("999988887777", "us-east-1")
        self.passes: list[Any] = []
        self.order, self.fail = order, fail

    def import_findings(self, *passes):
        self.order.append("security_hub")
        if self.fail:
            raise self.fail
        self.passes = list(passes)
        return Delivery(sent=sum(len(p) for p in passes))


class Events:
    def __init__(self, order: list[str]) -> None:
        self.events: list[Any] = []
        self.order = order

    def put_events(self, events):
        self.order.append("events")
        self.events = list(events)
        return Delivery(sent=len(events))


class OrderedNotifier(MemoryNotifier):
    def __init__(self, order: list[str]) -> None:
        super().__init__()
        self.order = order

    def publish_once(self, alert, *, sent, mark_sent):
        self.order.append("alert")
        return super().publish_once(alert, sent=sent, mark_sent=mark_sent)


class OrderedStore(MemoryStore):
    def __init__(self, order: list[str]) -> None:
        super().__init__()
        self.order = order

    def commit_alerted(self, records, *, exempt_kinds=None) -> int:
        self.order.append("commit")
        return super().commit_alerted(records, exempt_kinds=exempt_kinds)


def _finish(order: list[str], importer: Importer, events: Events | None) -> run.RunSummary:
    store = OrderedStore(order)
    run.audit_account("r1", SCANNED_AT, ACCOUNT, audit=audit_returning(WITH_PASSWORD), store=store)
    return run.finish_run(
        "r1",
        SCANNED_AT,
        store=store,
        results=MemoryResults([ACCOUNT.to_dict()]),
        notifier=OrderedNotifier(order),
        prepared={"organization_id": "o-1"},
        security_hub=importer,
        events=events,
    )


def test_findings_and_events_go_out_after_the_alert_and_the_commit():
    order: list[str] = []
    importer, events = Importer(order), Events(order)
    summary = _finish(order, importer, events)
    assert order == ["alert", "commit", "security_hub", "events"]
    assert [f["Id"] for f in importer.passes[0]] == [f"rootwatch/{ACCOUNT.id}/password"]
    assert [e.detail["change"] for e in events.events] == ["appeared"]
    assert summary.deliveries == {
        "security_hub": {"sent": 1, "failed": 0, "errors": []},
        "events": {"sent": 1, "failed": 0, "errors": []},
    }


def test_a_delivery_that_raises_is_counted_and_the_run_still_succeeds_with_its_alert():
    order: list[str] = []
    summary = _finish(order, Importer(order, fail=RuntimeError("boom")), None)
    assert summary.status == "SUCCEEDED" and summary.alert_sent
    assert summary.deliveries["security_hub"]["failed"] == 1
    assert "boom" in summary.deliveries["security_hub"]["errors"][0]
    assert "events" not in summary.deliveries  # off: not in the summary at all


def test_finish_run_reads_the_two_variables_and_refuses_another_accounts_product():
    import pytest
    from rootwatch.handlers.settings import ConfigError, Settings

    base = {
        "TABLE_NAME": "table",
        "BUCKET_NAME": "bucket",
        "TOPIC_ARN": "arn:aws:sns:us-east-1:999988887777:alerts",
        "AUDIT_REGION": "us-east-1",
    }
    off = Settings.from_environ(base)
    assert (off.security_hub_product_arn, off.event_bus_arn) == (None, None)
    bus = "arn:aws:events:us-east-1:999988887777:event-bus/default"
    on = Settings.from_environ(
        base | {"SECURITY_HUB_PRODUCT_ARN": product_arn("999988887777", "us-east-1"), "EVENT_BUS_ARN": bus}
    )
    assert on.security_hub_product_arn == product_arn("999988887777", "us-east-1") and on.event_bus_arn == bus
    other = "arn:aws:securityhub:us-east-1:999988887777:product/111122223333/default"
    with pytest.raises(ConfigError, match="SECURITY_HUB_PRODUCT_ARN"):
        Settings.from_environ(base | {"SECURITY_HUB_PRODUCT_ARN": other})
