"""Reaudit: audit the accounts named by a batch of root-credential events from SQS (docs/pipeline.md).

The event is an SQS batch whose bodies are EventBridge events. The answer is a partial batch response
(``ReportBatchItemFailures``): only messages whose account could not be re-audited for a reason a retry may
fix (throttling, a failed AWS call, a failed publish) are listed, and SQS delivers those again. A dropped
event (malformed, not a root-credential event, or from an account outside the organization) is never a
failure: it is counted in ``ReauditEventsDropped`` and logged in one line naming only the reason, the
account id and the event name once each has passed its own check.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from rootwatch.aws.root_audit import audit_root_credentials
from rootwatch.domain.exemptions import Exemption
from rootwatch.domain.root_events import DroppedEvent, RootEvent, parse_root_event
from rootwatch.handlers import dependencies
from rootwatch.handlers.observability import logger, metrics
from rootwatch.handlers.settings import settings
from rootwatch.services import reaudit


def _dropped(reason: str, detail: str, account_id: str | None, event_name: str | None, count: int = 1) -> None:
    metrics.add_metric(name="ReauditEventsDropped", unit=MetricUnit.Count, value=count)
    logger.warning(
        "re-audit event dropped",
        extra={"reason": reason, "detail": detail, "account_id": account_id, "event_name": event_name},
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Returns ``{"batchItemFailures": [{"itemIdentifier": <messageId>}, ...]}``."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        raise ValueError("the event is not an SQS batch (no Records list)")
    events: list[RootEvent] = []
    messages: dict[str, list[str]] = {}  # account id -> its messages' ids
    for record in records:
        parsed = parse_root_event(record.get("body") if isinstance(record, dict) else None)
        if isinstance(parsed, DroppedEvent):
            _dropped(parsed.reason, parsed.detail, parsed.account_id, parsed.event_name)
            continue
        events.append(parsed)
        messages.setdefault(parsed.account_id, []).append(str(record.get("messageId")))
    failures: list[str] = []
    if events:
        failures = _reaudit(events, messages)
    metrics.add_metric(name="ReauditEventsReceived", unit=MetricUnit.Count, value=len(records))
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}


def _reaudit(events: list[RootEvent], messages: dict[str, list[str]]) -> list[str]:
    """Re-audit each account of the batch once; the message ids to deliver again."""
    factory, store = dependencies.client_factory(), dependencies.status_store()
    # The organization and its management account come from DescribeAccount's ARN (the role has no
    # DescribeOrganization): see reaudit.describe_membership.
    membership = reaudit.describe_membership(
        factory.client("organizations"),
        ou_path=lambda account_id: (store.latest(account_id) or {}).get("ou_path"),
    )

    @functools.cache
    def exemptions(day: date) -> tuple[Exemption, ...]:
        # cdk.json's, then the status table's: a kind is exempt if either covers it (as in the nightly run).
        # Read once per batch and day, not once per account: the EXEMPTION partition is one Query for all.
        return (*dependencies.exemptions(), *dependencies.exemption_store().in_effect(day))

    failures: list[str] = []
    for account_id, account_events in reaudit.group_by_account(events).items():
        names = sorted({e.event_name for e in account_events})
        try:
            outcome = reaudit.reaudit_account(
                account_id,
                account_events,
                membership=membership,
                audit=lambda target: audit_root_credentials(factory, target),
                store=store,
                notifier=dependencies.notifier(),
                organization_id=None,
                exemptions=exemptions,
                policy=settings().policy,
            )
        except Exception:  # retried by SQS: the account's messages are this batch's failures
            logger.exception("re-audit failed, SQS delivers its events again", extra={"account_id": account_id})
            metrics.add_metric(name="ReauditFailures", unit=MetricUnit.Count, value=1)
            failures += messages[account_id]
            continue
        if outcome.dropped:
            detail = "the account is not a member of the organization"
            _dropped(outcome.dropped, detail, account_id, names[0], count=len(account_events))
        elif outcome.skipped:
            logger.info("re-audit skipped", extra={"account_id": account_id, "reason": outcome.skipped})
        else:
            metrics.add_metric(name="ReauditAccountsAudited", unit=MetricUnit.Count, value=1)
            metrics.add_metric(name="ReauditAlertsSent", unit=MetricUnit.Count, value=int(outcome.alert_sent))
            logger.info(
                "account re-audited",
                extra={
                    "account_id": account_id,
                    "run_id": outcome.run_id,
                    "status": outcome.status,
                    "appeared": outcome.appeared,
                    "alert_sent": outcome.alert_sent,
                    "events": len(account_events),
                    "event_names": names,
                },
            )
    return failures
