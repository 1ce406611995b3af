"""The status table in DynamoDB: each account's latest state, its history, and each run's records.

Table layout (one table, string keys ``pk``/``sk``, TTL attribute ``expires_at``; see docs/pipeline.md):

| pk                | sk                               | what                                             | TTL |
|-------------------|----------------------------------|--------------------------------------------------|-----|
| ``LATEST#<nn>``   | ``<account_id>``                 | latest state; last *successful* flags; *alerted* | no  |
| ``ACCOUNT#<id>``  | ``RUN#<scanned_at>#<run_id>``    | history: the full record of each audit           | yes |
| ``RUN#<run_id>``  | ``ACCOUNT#<id>``                 | the run's records (every account, SKIPPED too)   | 35d |
| ``RUN#<run_id>``  | ``SUMMARY``                      | the run summary                                  | 35d |
| ``RUN#<run_id>``  | ``ALERT``                        | marker: this run's alert was published           | 35d |

Every appearance of a root credential is alerted at least once (docs/pipeline.md, "At least once"). So an
audit is compared with the **alerted** baseline, not with the last audit seen: ``alerted`` in the latest
item is what the account looked like at the end of the last run whose alert went out (or that needed
none). Only FinishRun moves it (``commit_alerted``), after publishing. An audit writes ``known`` (the
last successful audit, for people and queries), then the history item, then the run item; the run item
is the audit's commit point, since FinishRun reconciles from the run items. Whatever single write
fails, the appearance is still there to alert: in this run (the run item exists), or in the next one
(``alerted`` never moved). Retries and redrives in the same run compare with the same ``alerted`` and so
get the same transition.

Latest-state items are spread over ``LATEST_SHARDS`` partition keys, ``LATEST#<nn>`` with ``nn`` = the account
id modulo ``LATEST_SHARDS`` (:func:`latest_pk`), so a night's writes never queue on one partition's limit
(1,000 write units/s; a latest item is ~1.5 KB, 2 units). Migration: items written under the single ``LATEST``
key by earlier versions are still read. ``latest()`` and ``latest_states()`` fall back to them, and an audit
that finds no sharded item adopts the legacy item's ``alerted`` baseline (one GetItem, once per account), so
an upgrade re-reports nothing. Legacy items are never deleted (no role may DeleteItem); see docs/pipeline.md.
"""

from __future__ import annotations

import contextlib
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from rootwatch.domain.credentials import STATE_RECORD_FIELDS
from rootwatch.domain.records import AuditRecord, AuditStatus
from rootwatch.domain.transitions import Baseline, compute_transition, ordered_kinds

PK, SK = "pk", "sk"
TTL_ATTRIBUTE = "expires_at"
LATEST_PK = "LATEST"  # the single latest-state key of earlier versions: still read, never written
LATEST_SHARDS = 16
DEFAULT_HISTORY_TTL_DAYS = 400
#: ``RUN#<run_id>`` items (the run's records, summary, alert marker) duplicate the run's S3 results object and
#: are read only while the run can still be redriven (AWS allows 14 days): kept 35 days, or the history's TTL
#: when that is shorter. ``ACCOUNT#`` history keeps ``HISTORY_TTL_DAYS``.
RUN_TTL_DAYS = 35

#: Record fields that hold what an OK audit learned; an ERROR or SKIPPED audit never overwrites them.
_KNOWN_FIELDS = STATE_RECORD_FIELDS  # derived from RootCredentialState, never listed again
_ACCOUNT_FIELDS = ("account_name", "account_email", "account_state", "ou_path")


def latest_pk(account_id: str) -> str:
    """The partition key of an account's latest-state item: ``LATEST#<nn>``, nn = account id mod LATEST_SHARDS."""
    number = int(account_id) if account_id.isdigit() else zlib.crc32(account_id.encode())
    return f"{LATEST_PK}#{number % LATEST_SHARDS:02d}"


def latest_pks() -> list[str]:
    """Every partition key latest-state items live under, the legacy one last."""
    return [f"{LATEST_PK}#{n:02d}" for n in range(LATEST_SHARDS)] + [LATEST_PK]


def _to_item(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _attribute(value) for key, value in data.items()}


def _attribute(value: Any) -> dict[str, Any]:
    """A DynamoDB attribute value for the JSON types records use (boto3's TypeSerializer costs ~25 ms of
    cold import for boto3 and s3transfer, a tenth of the audit Lambda's budget)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, float):
        return {"N": repr(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, Mapping):
        return {"M": {str(k): _attribute(v) for k, v in value.items()}}
    if isinstance(value, list | tuple | set | frozenset):
        return {"L": [_attribute(v) for v in value]}
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB: {value!r}")


def _from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _value(attribute) for key, attribute in item.items()}


def _value(attribute: Mapping[str, Any]) -> Any:
    ((kind, raw),) = attribute.items()
    if kind == "NULL":
        return None
    if kind in ("S", "BOOL"):
        return raw
    if kind == "N":
        number = Decimal(raw)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "M":
        return {k: _value(v) for k, v in raw.items()}
    if kind == "L":
        return [_value(v) for v in raw]
    if kind in ("SS", "NS"):
        return sorted(raw)
    raise TypeError(f"unexpected DynamoDB attribute type {kind}")


class StatusStore:
    """Latest state, history and run records of the audit, in one DynamoDB table.

    ``client`` is a boto3 DynamoDB client (low-level: the resource layer costs ~100 ms of cold import).
    """

    def __init__(
        self, client: Any, table_name: str, *, history_ttl_days: int = DEFAULT_HISTORY_TTL_DAYS, clock=time.time
    ) -> None:
        if history_ttl_days < 1:
            raise ValueError(f"history_ttl_days must be at least 1, got {history_ttl_days}")
        self._client = client
        self.table_name = table_name
        self._ttl_seconds = history_ttl_days * 86400
        self._run_ttl_seconds = min(RUN_TTL_DAYS, history_ttl_days) * 86400
        self._clock = clock

    # --- writes -------------------------------------------------------------------------------------

    def record_audit(self, record: AuditRecord) -> AuditRecord:
        """Store one account's result for a run and return it with appeared/disappeared/first_audit set.

        The transition is against the alerted baseline (see the module docstring). OK updates the known
        flags; ERROR and SKIPPED update only the status, so the last successful flags stay in the latest
        item. Safe to repeat for the same run (Lambda or Step Functions retries, redrives).
        """
        if record.status == AuditStatus.OK:
            known = {f: getattr(record, f) for f in _KNOWN_FIELDS}
            known.update(kinds=record.present_kinds(), run_id=record.run_id, scanned_at=record.scanned_at)
            old = self._update_latest(
                record,
                "SET known = :known, #last = :last, #account = :account, alerted = if_not_exists(alerted, :none)",
                {**self._common_values(record), ":known": known, ":none": {}},
            )
        else:
            old = self._update_latest(
                record,
                "SET #last = :last, #account = :account, alerted = if_not_exists(alerted, :none)",
                {**self._common_values(record), ":none": {}},
            )
        baseline = self._alerted_baseline(record, old)
        transition = compute_transition(baseline, record.status, record.present_kinds())
        record.appeared = list(transition.appeared)
        record.disappeared = list(transition.disappeared)
        record.first_audit = transition.first_audit
        self._put_run_records(record)
        return record

    def _latest_key(self, account_id: str) -> dict[str, Any]:
        return {PK: {"S": latest_pk(account_id)}, SK: {"S": account_id}}

    def _legacy_latest(self, account_id: str) -> dict[str, Any]:
        """The account's item under the single ``LATEST`` key of earlier versions, or {}."""
        response = self._client.get_item(
            TableName=self.table_name, Key={PK: {"S": LATEST_PK}, SK: {"S": account_id}}, ConsistentRead=True
        )
        return _from_item(response.get("Item") or {})

    def _adopt_alerted(self, record: AuditRecord, alerted: Mapping[str, Any]) -> None:
        """Store an adopted baseline in the sharded item, unless a run committed one there first."""
        # A concurrent audit may adopt it first: the same value, so its conditional failure is fine.
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
            self._client.update_item(
                TableName=self.table_name,
                Key=self._latest_key(record.account_id),
                UpdateExpression="SET alerted = :alerted",
                ConditionExpression="attribute_not_exists(alerted.run_id)",
                ExpressionAttributeValues=_to_item({":alerted": dict(alerted)}),
            )

    def _update_latest(self, record: AuditRecord, expression: str, values: dict[str, Any]) -> dict:
        response = self._client.update_item(
            TableName=self.table_name,
            Key=self._latest_key(record.account_id),
            UpdateExpression=expression,
            ExpressionAttributeNames={"#last": "last", "#account": "account"},
            ExpressionAttributeValues=_to_item(values),
            ReturnValues="ALL_OLD",
        )
        return _from_item(response.get("Attributes") or {})

    @staticmethod
    def _common_values(record: AuditRecord) -> dict[str, Any]:
        return {
            ":last": {
                "run_id": record.run_id,
                "scanned_at": record.scanned_at,
                "status": str(record.status),
                "error_code": record.error_code,
                "error_message": record.error_message,
            },
            ":account": {"account_id": record.account_id, **{f: getattr(record, f) for f in _ACCOUNT_FIELDS}},
        }

    def _alerted_baseline(self, record: AuditRecord, old: Mapping[str, Any]) -> Baseline | None:
        """What this audit is compared with: the alerted baseline of the latest item as it was."""
        if not old:
            # No sharded item yet: a new account, or one last written under the legacy ``LATEST`` key.
            old = self._legacy_latest(record.account_id)
            if (old.get("alerted") or {}).get("run_id"):
                self._adopt_alerted(record, old["alerted"])
        if "alerted" in old or not old:
            alerted = old.get("alerted") or {}
            if alerted.get("run_id") == record.run_id:
                # This run already committed (a re-run after FinishRun): compare with what it compared with.
                previous = alerted.get("previous_kinds")
                return None if previous is None else Baseline(frozenset(previous))
            return _baseline(alerted)
        # Every audit writes ``alerted`` (empty until FinishRun first commits). An item without it was
        # written before it existed (rootwatch 0.1): it has only ``known`` and the ``baseline`` that run
        # was compared with. Adopt what that version compared with, once, so an
        # upgrade does not report every account with credentials as new.
        known = old.get("known") or {}
        legacy = old.get("baseline") if known.get("run_id") == record.run_id else known
        if not legacy or not legacy.get("run_id"):
            return None
        alerted = {"kinds": list(legacy.get("kinds") or []), "run_id": legacy["run_id"]}
        alerted["scanned_at"] = legacy.get("scanned_at") or ""
        self._adopt_alerted(record, alerted)
        return _baseline(alerted)

    def _put_run_records(self, record: AuditRecord) -> None:
        data = record.to_dict()
        now = int(self._clock())
        history = {PK: f"ACCOUNT#{record.account_id}", SK: f"RUN#{record.scanned_at}#{record.run_id}"}
        run_item = {PK: f"RUN#{record.run_id}", SK: f"ACCOUNT#{record.account_id}"}
        # Two idempotent puts, history first: the run item is the audit's commit point (FinishRun reads the
        # run items), so a failure between them leaves the account NOT_AUDITED, to be alerted next night.
        for keys, ttl in ((history, self._ttl_seconds), (run_item, self._run_ttl_seconds)):
            self._client.put_item(TableName=self.table_name, Item=_to_item({**keys, **data, TTL_ATTRIBUTE: now + ttl}))

    def commit_alerted(
        self, records: Iterable[AuditRecord], *, exempt_kinds: Mapping[str, Iterable[str]] | None = None
    ) -> int:
        """Make what each OK record saw the baseline later runs compare with; the number of accounts moved.

        Call only once the run's alert is published (or when it needed none): until then a later run
        must still see the change, so that a run dying before its alert is alerted again. Only records
        that changed something are written. A run never moves the baseline past a later run's audit.

        ``exempt_kinds`` (``{account_id: kinds}`` exempt this run) are kept out of the baseline: an exempt
        credential was never alerted, so once its exemption expires it is compared as new and alerts.
        """
        moved = 0
        exempt_kinds = exempt_kinds or {}
        for record in records:
            if record.status != AuditStatus.OK:
                continue
            # What this run was compared with, so a re-run of the same run gets the same transition.
            previous = set(record.present_kinds()) - set(record.appeared) | set(record.disappeared)
            exempt = set(exempt_kinds.get(record.account_id, ()))
            present = [kind for kind in record.present_kinds() if kind not in exempt]
            if not record.first_audit and set(present) == previous:
                continue
            alerted: dict[str, Any] = {"kinds": present, "run_id": record.run_id, "scanned_at": record.scanned_at}
            alerted["previous_kinds"] = None if record.first_audit else ordered_kinds(previous)
            try:
                self._client.update_item(
                    TableName=self.table_name,
                    Key=self._latest_key(record.account_id),
                    UpdateExpression="SET alerted = :alerted",
                    # Not past a later run: neither one that committed, nor one that audited it since.
                    ConditionExpression="(attribute_not_exists(alerted.scanned_at) OR alerted.scanned_at <= :at) "
                    "AND known.scanned_at <= :at",
                    ExpressionAttributeValues=_to_item({":alerted": alerted, ":at": record.scanned_at}),
                )
            except self._client.exceptions.ConditionalCheckFailedException:
                continue  # a later run has audited this account since: its view wins
            moved += 1
        return moved

    def put_run_summary(self, run_id: str, summary: Mapping[str, Any]) -> None:
        """Store (or replace) the run summary."""
        item = {**summary, PK: f"RUN#{run_id}", SK: "SUMMARY", "run_id": run_id}
        item[TTL_ATTRIBUTE] = int(self._clock()) + self._run_ttl_seconds
        self._client.put_item(TableName=self.table_name, Item=_to_item(item))

    def mark_alert_sent(self, run_id: str, subject: str, message_id: str) -> None:
        """Record that the run's alert was published (after the publish: a lost marker costs a duplicate,
        never a lost alert)."""
        now = int(self._clock())
        item: dict[str, Any] = {PK: f"RUN#{run_id}", SK: "ALERT", "subject": subject, "message_id": message_id}
        item.update({"sent_at": now, TTL_ATTRIBUTE: now + self._run_ttl_seconds})
        self._client.put_item(TableName=self.table_name, Item=_to_item(item))

    # --- reads --------------------------------------------------------------------------------------

    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(TableName=self.table_name, **kwargs):
            for item in page.get("Items", []):
                yield _from_item(item)

    def run_records(self, run_id: str) -> list[AuditRecord]:
        """Every record stored for one run (consistent read), ordered by account id."""
        items = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=_to_item({":pk": f"RUN#{run_id}", ":prefix": "ACCOUNT#"}),
            ConsistentRead=True,
        )
        return [AuditRecord.from_dict(item) for item in items]

    def run_summary(self, run_id: str) -> dict[str, Any] | None:
        """The stored run summary, or None."""
        response = self._client.get_item(
            TableName=self.table_name, Key={PK: {"S": f"RUN#{run_id}"}, SK: {"S": "SUMMARY"}}, ConsistentRead=True
        )
        item = response.get("Item")
        return _strip_keys(_from_item(item)) if item else None

    def alert_sent(self, run_id: str) -> bool:
        """Whether the run's alert was sent."""
        response = self._client.get_item(
            TableName=self.table_name, Key={PK: {"S": f"RUN#{run_id}"}, SK: {"S": "ALERT"}}, ConsistentRead=True
        )
        return "Item" in response

    def latest(self, account_id: str) -> dict[str, Any] | None:
        """One account's latest state, flattened (see ``flatten_latest``), or None when never audited."""
        response = self._client.get_item(
            TableName=self.table_name, Key=self._latest_key(account_id), ConsistentRead=True
        )
        item = response.get("Item")
        if item:
            return flatten_latest(_from_item(item))
        legacy = self._legacy_latest(account_id)
        return flatten_latest(legacy) if legacy else None

    def latest_states(self) -> list[dict[str, Any]]:
        """Every account's latest state, flattened, ordered by account id (a sharded item wins over a legacy one)."""
        by_account: dict[str, dict[str, Any]] = {}
        for pk in latest_pks():
            items = self._query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues=_to_item({":pk": pk}))
            for item in items:
                by_account.setdefault(str(item.get(SK)), item)
        return [flatten_latest(by_account[account]) for account in sorted(by_account)]

    def history(self, account_id: str, *, limit: int | None = None) -> list[AuditRecord]:
        """An account's audits, newest first."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": _to_item({":pk": f"ACCOUNT#{account_id}", ":prefix": "RUN#"}),
            "ScanIndexForward": False,
        }
        records = []
        for item in self._query(**kwargs):
            records.append(AuditRecord.from_dict(item))
            if limit is not None and len(records) >= limit:
                break
        return records


def _strip_keys(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in (PK, SK, TTL_ATTRIBUTE)}


def _baseline(known: Mapping[str, Any] | None) -> Baseline | None:
    """The baseline a stored "known" map stands for; None when there was no successful audit."""
    if not known or not known.get("run_id"):
        return None
    return Baseline(frozenset(known.get("kinds") or ()), known["run_id"])


def flatten_latest(item: Mapping[str, Any]) -> dict[str, Any]:
    """A latest-state item as one flat dict.

    Keys: the account fields; ``last_status``, ``last_run_id``, ``last_scanned_at``, ``last_error_code``,
    ``last_error_message`` (the latest audit, whatever its outcome); the flag and detail fields of the last
    *successful* audit with ``known_kinds``, ``last_success_run_id`` and ``last_success_at``; and
    ``alerted_run_id`` and ``alerted_kinds``, the baseline the next audit is compared with (the state at the
    end of the last run whose alert went out).
    """
    account, last = item.get("account") or {}, item.get("last") or {}
    known, alerted = item.get("known") or {}, item.get("alerted") or {}
    flat: dict[str, Any] = {"account_id": item.get(SK) or account.get("account_id")}
    flat.update({f: account.get(f) for f in _ACCOUNT_FIELDS})
    flat.update(
        {f"last_{key}": last.get(key) for key in ("status", "run_id", "scanned_at", "error_code", "error_message")}
    )
    flat.update({f: known.get(f) for f in _KNOWN_FIELDS})
    flat["known_kinds"] = list(known.get("kinds") or [])
    flat["last_success_run_id"] = known.get("run_id")
    flat["last_success_at"] = known.get("scanned_at")
    flat["alerted_run_id"] = alerted.get("run_id")
    flat["alerted_kinds"] = list(alerted.get("kinds") or [])
    return flat
