"""The one definition of a run's totals, used by every place that counts (docs/contracts.md#totals). Pure.

``accounts`` is every account the records cover, one record each, the management account included (it is
a SKIPPED record, ``MANAGEMENT_ACCOUNT``), so ``accounts == audited + errors + skipped`` always:

- ``audited``: status OK;
- ``errors``: status ERROR (including NOT_AUDITED);
- ``skipped``: status SKIPPED (the management account, SUSPENDED, CLOSED, ...);
- ``with_root_credentials``: ``root_credentials_present`` is true. In a run's records that flag is null
  unless the status is OK; in the latest state the report reads, an account whose latest audit failed keeps
  the flags of its last successful audit (an ERROR never erases what is known).

Used by FinishRun's run summary (``rootwatch run``), the alert's ``totals``, ``rootwatch scan``'s summary
line and ``rootwatch report``'s cards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rootwatch.domain.records import AuditRecord

TOTAL_KEYS: tuple[str, ...] = ("accounts", "audited", "with_root_credentials", "errors", "skipped")


def _field(record: AuditRecord | Mapping[str, Any], name: str) -> Any:
    if isinstance(record, Mapping):
        return record.get(name)
    return getattr(record, name)


def run_totals(records: Iterable[AuditRecord | Mapping[str, Any]]) -> dict[str, int]:
    """``accounts``, ``audited``, ``with_root_credentials``, ``errors``, ``skipped`` of records or record rows."""
    totals = dict.fromkeys(TOTAL_KEYS, 0)
    for record in records:
        status = str(_field(record, "status"))
        totals["accounts"] += 1
        if status == "OK":
            totals["audited"] += 1
        elif status == "ERROR":
            totals["errors"] += 1
        elif status == "SKIPPED":
            totals["skipped"] += 1
        if _field(record, "root_credentials_present") is True:
            totals["with_root_credentials"] += 1
    return totals
