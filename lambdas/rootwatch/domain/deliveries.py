"""What one optional delivery (Security Hub findings, EventBridge events) achieved in a run. Pure: no boto3."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Delivery:
    """``sent`` items accepted, ``failed`` items refused or never sent, and AWS's messages (a few, deduplicated)."""

    sent: int = 0
    failed: int = 0
    errors: tuple[str, ...] = field(default_factory=tuple)

    def __add__(self, other: Delivery) -> Delivery:
        return Delivery(self.sent + other.sent, self.failed + other.failed, _first(self.errors + other.errors))

    def to_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "failed": self.failed, "errors": list(self.errors)}


#: At most this many distinct error messages are kept (the run summary stays small).
MAX_ERRORS = 5


def _first(errors: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(errors))[:MAX_ERRORS]


def failed_delivery(count: int, message: str) -> Delivery:
    """Nothing of ``count`` items went out, because of ``message``."""
    return Delivery(sent=0, failed=count, errors=(message,))
