"""Timestamps as rootwatch writes them: ISO-8601 UTC with a ``Z``, to the second (``2025-12-13T22:11:47Z``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def iso_utc(value: datetime | str) -> str: ...


@overload
def iso_utc(value: None) -> None: ...


@overload
def iso_utc(value: datetime | str | None) -> str | None: ...


def iso_utc(value: datetime | str | None) -> str | None:
    """``value`` as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC; None for None.

    A string is read as ISO-8601 (a trailing ``Z`` included; ValueError when unreadable); a naive datetime
    or string is taken to be UTC already.
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_utc(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(value: str) -> datetime:
    """An ISO-8601 string (a trailing ``Z`` included) as a datetime; naive when the string has no offset.

    ValueError when unreadable."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
