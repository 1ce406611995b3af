"""Exemptions added at run time (``rootwatch exempt add``), stored in the status table.

One item per account and credential kind, in a partition of their own (docs/pipeline.md, "Exemptions")::

    pk = "EXEMPTION"   sk = "<account_id>#<kind>"
    account_id, credential, reason, expires ("YYYY-MM-DD", in effect up to and including that UTC day),
    created_by (the caller's ARN), created_at (ISO-8601 UTC), expires_at (TTL: 30 days after the expiry)

The rules decide by date (:meth:`Exemption.in_effect`), never by the TTL: the night after the expiry the
item is still there but no longer applies, so the finding alerts again; DynamoDB deletes it a month later.
One partition, read by PrepareRun with one Query a night (paged: ~3,000 items a 1 MB page), so no
function needs more than ``dynamodb:Query`` on ``dynamodb:LeadingKeys = EXEMPTION``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from rootwatch.aws.status_store import PK, SK, TTL_ATTRIBUTE, _from_item, _to_item
from rootwatch.domain.exemptions import KINDS, Exemption, ExemptionError, parse_exemptions

EXEMPTION_PK = "EXEMPTION"
#: How long an expired item stays (for ``exempt list``) before DynamoDB's TTL removes it.
GRACE_DAYS = 30


@dataclass(frozen=True)
class StoredExemption:
    """One stored item: one account, one credential kind."""

    account_id: str
    credential: str
    reason: str
    expires: date
    created_by: str
    created_at: str

    def exemption(self) -> Exemption:
        return Exemption(self.account_id, frozenset({self.credential}), self.reason, self.expires)

    def to_dict(self, *, today: date) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "credential": self.credential,
            "expires": self.expires.isoformat(),
            "status": "active" if self.exemption().in_effect(today) else "expired",
            "reason": self.reason,
            "created_by": self.created_by,
            "created_at": self.created_at,
        }


def sort_key(account_id: str, kind: str) -> str:
    return f"{account_id}#{kind}"


class ExemptionStore:
    """The ``EXEMPTION`` partition of the status table (``client``: a low-level boto3 DynamoDB client)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    def put(self, exemption: Exemption, *, created_by: str, now: datetime) -> list[StoredExemption]:
        """Store (or replace) one item per credential kind of ``exemption``; the items written."""
        expires_at = datetime.combine(exemption.expires + timedelta(days=1 + GRACE_DAYS), time(), UTC)
        created_at = now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        written = []
        for kind in (k for k in KINDS if k in exemption.credentials):
            stored = StoredExemption(
                exemption.account_id, kind, exemption.reason, exemption.expires, created_by, created_at
            )
            item = {
                PK: EXEMPTION_PK,
                SK: sort_key(exemption.account_id, kind),
                **stored.to_dict(today=exemption.expires),
                TTL_ATTRIBUTE: int(expires_at.timestamp()),
            }
            del item["status"]
            self._client.put_item(TableName=self.table_name, Item=_to_item(item))
            written.append(stored)
        return written

    def remove(self, account_id: str, kinds: Iterable[str]) -> list[StoredExemption]:
        """Delete the account's items of ``kinds``; the ones that existed (and are now gone)."""
        removed = []
        for kind in kinds:
            response = self._client.delete_item(
                TableName=self.table_name,
                Key=_to_item({PK: EXEMPTION_PK, SK: sort_key(account_id, kind)}),
                ReturnValues="ALL_OLD",
            )
            if response.get("Attributes"):
                removed.append(_stored(_from_item(response["Attributes"])))
        return removed

    def entries(self, account_id: str | None = None) -> list[StoredExemption]:
        """Every stored item (expired ones included until the TTL removes them), by account and kind."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": PK},
            "ExpressionAttributeValues": _to_item({":pk": EXEMPTION_PK}),
            "ConsistentRead": True,
        }
        if account_id is not None:
            kwargs["KeyConditionExpression"] += " AND begins_with(#sk, :prefix)"
            kwargs["ExpressionAttributeNames"]["#sk"] = SK
            kwargs["ExpressionAttributeValues"].update(_to_item({":prefix": f"{account_id}#"}))
        items = []
        for page in self._client.get_paginator("query").paginate(TableName=self.table_name, **kwargs):
            items += [_stored(_from_item(item)) for item in page.get("Items", [])]
        return sorted(items, key=lambda s: (s.account_id, KINDS.index(s.credential)))

    def in_effect(self, on: date) -> list[Exemption]:
        """The exemptions that apply on day ``on`` (PrepareRun, once a run)."""
        return [exemption for exemption in (s.exemption() for s in self.entries()) if exemption.in_effect(on)]


def _stored(item: dict[str, Any]) -> StoredExemption:
    """An item as a StoredExemption, validated like a config entry; ExemptionError naming its key when bad."""
    where = f"status table item {EXEMPTION_PK}/{item.get(SK)}"
    entry = {k: item.get(k) for k in ("account_id", "reason", "expires")}
    entry["credentials"] = [item.get("credential")]
    try:
        (exemption,) = parse_exemptions([entry], allow_expired=True)
    except ExemptionError as exc:
        raise ExemptionError(f"{where}: {str(exc).split(': ', 1)[-1]}") from None
    return StoredExemption(
        exemption.account_id,
        str(item.get("credential")),
        exemption.reason,
        exemption.expires,
        str(item.get("created_by") or ""),
        str(item.get("created_at") or ""),
    )
