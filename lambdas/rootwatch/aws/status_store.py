"""The status table in DynamoDB: each account's latest state, its history, and each run's records.

Table layout (one table, string keys ``pk``/``sk``, TTL attribute ``expires_at``; see docs/pipeline.md):

| pk                | sk                               | what                                             | TTL |
|-------------------|----------------------------------|--------------------------------------------------|-----|
| ``LATEST``        | ``<account_id>``                 | latest state; flags of the last *successful* audit | no  |
| ``ACCOUNT#<id>``  | ``RUN#<scanned_at>#<run_id>``    | history: the full record of each audit           | yes |
| ``RUN#<run_id>``  | ``ACCOUNT#<id>``                 | the run's records (every account, SKIPPED too)   | yes |
| ``RUN#<run_id>``  | ``SUMMARY``                      | the run summary                                  | yes |
| ``RUN#<run_id>``  | ``ALERT``                        | marker: this run's alert was sent (sent once)    | yes |

The transition (appeared/disappeared/first_audit) is found atomically: one UpdateItem writes the latest
item and returns the item as it was (``ReturnValues=ALL_OLD``), so two runs auditing the same account
can never both read the same "before". The latest item also keeps the baseline that the last successful
run was compared against, so a retried or redriven audit in the same run gets the same transition again
instead of comparing the run against itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from rootwatch.domain.records import AuditRecord, AuditStatus
from rootwatch.domain.transitions import Baseline, compute_transition

PK, SK = "pk", "sk"
TTL_ATTRIBUTE = "expires_at"
LATEST_PK = "LATEST"
DEFAULT_HISTORY_TTL_DAYS = 400

#: Record fields that hold what an OK audit learned; an ERROR or SKIPPED audit never overwrites them.
_KNOWN_FIELDS = (
    "password_present",
    "access_keys_present",
    "signing_certificates_present",
    "mfa_enabled",
    "root_credentials_present",
    "active_access_keys",
    "inactive_access_keys",
    "mfa_devices",
    "active_signing_certificates",
    "password_last_used",
    "access_key_last_used",
)
_ACCOUNT_FIELDS = ("account_name", "account_email", "account_state")


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
        self._clock = clock

    # --- writes -------------------------------------------------------------------------------------

    def record_audit(self, record: AuditRecord) -> AuditRecord:
        """Store one account's result for a run and return it with appeared/disappeared/first_audit set.

        OK updates the known flags; ERROR and SKIPPED update only the status, so the last successful
        flags stay in the latest item. Safe to repeat for the same run (Lambda or Step Functions retries).
        """
        if record.status == AuditStatus.OK:
            baseline = self._update_latest_ok(record)
        else:
            baseline = self._update_latest_other(record)
        transition = compute_transition(baseline, record.status, record.present_kinds())
        record.appeared = list(transition.appeared)
        record.disappeared = list(transition.disappeared)
        record.first_audit = transition.first_audit
        self._put_history(record)
        return record

    def _latest_key(self, account_id: str) -> dict[str, Any]:
        return {PK: {"S": LATEST_PK}, SK: {"S": account_id}}

    def _update_latest(self, record: AuditRecord, expression: str, values: dict[str, Any], **kwargs: Any) -> dict:
        response = self._client.update_item(
            TableName=self.table_name,
            Key=self._latest_key(record.account_id),
            UpdateExpression=expression,
            ExpressionAttributeNames={"#last": "last", "#account": "account"},
            ExpressionAttributeValues=_to_item(values),
            ReturnValues="ALL_OLD",
            **kwargs,
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

    def _update_latest_ok(self, record: AuditRecord) -> Baseline | None:
        known = {f: getattr(record, f) for f in _KNOWN_FIELDS}
        known.update(kinds=record.present_kinds(), run_id=record.run_id, scanned_at=record.scanned_at)
        values = {**self._common_values(record), ":known": known}
        try:
            old = self._update_latest(
                record,
                # The old "known" becomes the baseline this run is compared with (kept for retries, below).
                "SET baseline = if_not_exists(known, :none), known = :known, #last = :last, #account = :account",
                {**values, ":none": {}, ":run": record.run_id},
                # A second audit of the same account in the same run must not move the baseline.
                ConditionExpression="attribute_not_exists(known) OR known.run_id <> :run",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            # Same run again (a Lambda or Step Functions retry, a redrive): compare with the stored baseline.
            old = self._update_latest(record, "SET known = :known, #last = :last, #account = :account", values)
            return _baseline(old.get("baseline"))
        return _baseline(old.get("known"))

    def _update_latest_other(self, record: AuditRecord) -> Baseline | None:
        old = self._update_latest(record, "SET #last = :last, #account = :account", self._common_values(record))
        known = old.get("known") or {}
        if known.get("run_id") == record.run_id:
            # This run already succeeded for the account once; what it was compared with is the baseline.
            return _baseline(old.get("baseline"))
        return _baseline(known)

    def _put_history(self, record: AuditRecord) -> None:
        data = record.to_dict()
        expires = int(self._clock()) + self._ttl_seconds
        history = {PK: f"ACCOUNT#{record.account_id}", SK: f"RUN#{record.scanned_at}#{record.run_id}"}
        run_item = {PK: f"RUN#{record.run_id}", SK: f"ACCOUNT#{record.account_id}"}
        # Two plain puts, not a transaction: both are idempotent, a retry rewrites the same items, and a
        # transaction's extra write cost buys nothing here.
        for keys in (run_item, history):
            self._client.put_item(TableName=self.table_name, Item=_to_item({**keys, **data, TTL_ATTRIBUTE: expires}))

    def put_run_summary(self, run_id: str, summary: Mapping[str, Any]) -> None:
        """Store (or replace) the run summary."""
        item = {**summary, PK: f"RUN#{run_id}", SK: "SUMMARY", "run_id": run_id}
        item[TTL_ATTRIBUTE] = int(self._clock()) + self._ttl_seconds
        self._client.put_item(TableName=self.table_name, Item=_to_item(item))

    def claim_alert(self, run_id: str, subject: str) -> bool:
        """Mark the run's alert as sent; False when it already was (a retried or redriven run)."""
        item = {PK: f"RUN#{run_id}", SK: "ALERT", "subject": subject, "claimed_at": int(self._clock())}
        item[TTL_ATTRIBUTE] = int(self._clock()) + self._ttl_seconds
        try:
            self._client.put_item(
                TableName=self.table_name, Item=_to_item(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release_alert(self, run_id: str) -> None:
        """Undo ``claim_alert`` after a failed publish, so a retry can send it."""
        self._client.delete_item(TableName=self.table_name, Key={PK: {"S": f"RUN#{run_id}"}, SK: {"S": "ALERT"}})

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
        return flatten_latest(_from_item(item)) if item else None

    def latest_states(self) -> list[dict[str, Any]]:
        """Every account's latest state, flattened, ordered by account id."""
        items = self._query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues=_to_item({":pk": LATEST_PK}))
        return [flatten_latest(item) for item in items]

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
    ``baseline_run_id``, the successful run before that one.
    """
    account, last = item.get("account") or {}, item.get("last") or {}
    known, baseline = item.get("known") or {}, item.get("baseline") or {}
    flat: dict[str, Any] = {"account_id": item.get(SK) or account.get("account_id")}
    flat.update({f: account.get(f) for f in _ACCOUNT_FIELDS})
    flat.update(
        {f"last_{key}": last.get(key) for key in ("status", "run_id", "scanned_at", "error_code", "error_message")}
    )
    flat.update({f: known.get(f) for f in _KNOWN_FIELDS})
    flat["known_kinds"] = list(known.get("kinds") or [])
    flat["last_success_run_id"] = known.get("run_id")
    flat["last_success_at"] = known.get("scanned_at")
    flat["baseline_run_id"] = baseline.get("run_id")
    return flat
