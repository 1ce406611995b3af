"""Puts a run's change events on an EventBridge bus (``PutEvents``; docs/contracts.md#the-event).

At most 10 entries and 256 KB a call (``rootwatch.domain.events``). Entries EventBridge refuses
(``FailedEntryCount``) are sent once more when the refusal may pass (throttling, an internal error), then
counted with their message; a call that fails is counted too. Nothing is raised: the caller (FinishRun, after
the alert) logs and emits a metric (docs/pipeline.md, "Security Hub and EventBridge").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from rootwatch.domain.deliveries import Delivery, failed_delivery
from rootwatch.domain.events import MAX_ENTRIES, MAX_REQUEST_BYTES, ChangeEvent

#: PutEvents error codes worth one more try.
_RETRYABLE = {"ThrottlingException", "InternalFailure", "InternalException"}


class EventPublisher:
    """``client`` is a boto3 EventBridge client in the bus's region; ``event_bus`` the bus's ARN (or name)."""

    def __init__(self, client: Any, event_bus: str) -> None:
        self._client = client
        self.event_bus = event_bus

    def put_events(self, events: Sequence[ChangeEvent]) -> Delivery:
        """Put every event; what went out and what did not."""
        total = Delivery()
        sized = [(event, event.size()) for event in events]  # each event serialized once
        oversized = sum(1 for _, size in sized if size > MAX_REQUEST_BYTES)
        if oversized:
            total += failed_delivery(oversized, f"{oversized} event(s) over PutEvents' 256 KB limit")
        for batch in _batches([(event, size) for event, size in sized if size <= MAX_REQUEST_BYTES]):
            total += self._put([event.entry(self.event_bus) for event in batch], retry=True)
        return total

    def _put(self, entries: list[dict[str, Any]], *, retry: bool) -> Delivery:
        try:
            answer = self._client.put_events(Entries=entries)
        except (ClientError, BotoCoreError) as exc:
            return failed_delivery(len(entries), f"PutEvents failed: {exc}")
        if not answer.get("FailedEntryCount"):
            return Delivery(sent=len(entries))
        results = answer.get("Entries") or []
        failed = [(entry, result) for entry, result in zip(entries, results, strict=False) if result.get("ErrorCode")]
        again = [entry for entry, result in failed if result.get("ErrorCode") in _RETRYABLE]
        final = [result for _, result in failed if result.get("ErrorCode") not in _RETRYABLE or not retry]
        delivery = Delivery(
            sent=len(entries) - len(failed),
            failed=len(final),
            errors=tuple(f"PutEvents refused an entry: {r.get('ErrorCode')} {r.get('ErrorMessage')}" for r in final),
        )
        if retry and again:
            delivery += self._put(again, retry=False)
        return delivery


def _batches(events: list[tuple[ChangeEvent, int]]) -> list[list[ChangeEvent]]:
    """Consecutive slices of at most 10 events and 256 KB (``events``: each with its entry size)."""
    slices: list[list[ChangeEvent]] = []
    current: list[ChangeEvent] = []
    size = 0
    for event, event_size in events:
        if current and (len(current) == MAX_ENTRIES or size + event_size > MAX_REQUEST_BYTES):
            slices.append(current)
            current, size = [], 0
        current.append(event)
        size += event_size
    if current:
        slices.append(current)
    return slices
