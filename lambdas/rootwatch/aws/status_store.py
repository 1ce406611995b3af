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

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from rootwatch.domain.records import CREDENTIAL_KINDS, FLAG_FOR_KIND, AuditRecord, AuditStatus
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

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_item(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(_dynamo_value(value)) for key, value in data.items()}


def _dynamo_value(value: Any) -> Any:
    """DynamoDB numbers are Decimals; floats (durations) go through their shortest text form."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _dynamo_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_dynamo_value(v) for v in value]
    return value


def _from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _plain(_deserializer.deserialize(value)) for key, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    return value


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

    def _update_latest_ok(self, record: AuditRecord) -> Baseline | None:
        kinds = record.present_kinds()
        values: dict[str, Any] = {
            **{f: getattr(record, f) for f in _KNOWN_FIELDS + _ACCOUNT_FIELDS},
            "account_id": record.account_id,
            "known_kinds": kinds,
            "last_success_run_id": record.run_id,
            "last_success_at": record.scanned_at,
            "last_run_id": record.run_id,
            "last_scanned_at": record.scanned_at,
            "last_status": str(record.status),
        }
        names = {f"#{i}": name for i, name in enumerate(values)}
        attr_values = {f":{i}": value for i, value in enumerate(values.values())}
        sets = [f"#{i} = :{i}" for i in range(len(values))]
        remove = "REMOVE last_error_code, last_error_message"
        shift = (
            "baseline_kinds = if_not_exists(known_kinds, :no_kinds), "
            "baseline_run_id = if_not_exists(last_success_run_id, :no_run)"
        )
        try:
            response = self._client.update_item(
                TableName=self.table_name,
                Key=self._latest_key(record.account_id),
                UpdateExpression=f"SET {shift}, {', '.join(sets)} {remove}",
                # A second audit of the same account in the same run must not move the baseline.
                ConditionExpression="attribute_not_exists(last_success_run_id) OR last_success_run_id <> :run",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=_to_item(
                    {**attr_values, ":no_kinds": [], ":no_run": "", ":run": record.run_id}
                ),
                ReturnValues="ALL_OLD",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            pass
        else:
            old = _from_item(response.get("Attributes") or {})
            if not old.get("last_success_run_id"):
                return None
            return Baseline(frozenset(old.get("known_kinds") or ()), old["last_success_run_id"])
        # Same run again: keep the baseline stored by the first attempt, refresh the rest.
        response = self._client.update_item(
            TableName=self.table_name,
            Key=self._latest_key(record.account_id),
            UpdateExpression=f"SET {', '.join(sets)} {remove}",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=_to_item(attr_values),
            ReturnValues="ALL_OLD",
        )
        old = _from_item(response.get("Attributes") or {})
        if not old.get("baseline_run_id"):
            return None
        return Baseline(frozenset(old.get("baseline_kinds") or ()), old["baseline_run_id"])

    def _update_latest_other(self, record: AuditRecord) -> Baseline | None:
        values = {
            **{f: getattr(record, f) for f in _ACCOUNT_FIELDS},
            "account_id": record.account_id,
            "last_run_id": record.run_id,
            "last_scanned_at": record.scanned_at,
            "last_status": str(record.status),
            "last_error_code": record.error_code,
            "last_error_message": record.error_message,
        }
        names = {f"#{i}": name for i, name in enumerate(values)}
        response = self._client.update_item(
            TableName=self.table_name,
            Key=self._latest_key(record.account_id),
            UpdateExpression="SET " + ", ".join(f"#{i} = :{i}" for i in range(len(values))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=_to_item({f":{i}": v for i, v in enumerate(values.values())}),
            ReturnValues="ALL_OLD",
        )
        old = _from_item(response.get("Attributes") or {})
        if old.get("last_success_run_id") == record.run_id:
            # This run already succeeded for the account once; what it was compared with is the baseline.
            old_run = old.get("baseline_run_id")
            return Baseline(frozenset(old.get("baseline_kinds") or ()), old_run) if old_run else None
        if not old.get("last_success_run_id"):
            return None
        return Baseline(frozenset(old.get("known_kinds") or ()), old["last_success_run_id"])

    def _put_history(self, record: AuditRecord) -> None:
        data = record.to_dict()
        expires = int(self._clock()) + self._ttl_seconds
        history = {PK: f"ACCOUNT#{record.account_id}", SK: f"RUN#{record.scanned_at}#{record.run_id}"}
        run_item = {PK: f"RUN#{record.run_id}", SK: f"ACCOUNT#{record.account_id}"}
        self._client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": self.table_name, "Item": _to_item({**keys, **data, TTL_ATTRIBUTE: expires})}}
                for keys in (history, run_item)
            ]
        )

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
        """The latest-state item of one account (flags of its last successful audit), or None."""
        response = self._client.get_item(
            TableName=self.table_name, Key=self._latest_key(account_id), ConsistentRead=True
        )
        item = response.get("Item")
        return _strip_keys(_from_item(item)) if item else None

    def latest_states(self) -> list[dict[str, Any]]:
        """Every account's latest-state item, ordered by account id."""
        items = self._query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues=_to_item({":pk": LATEST_PK}))
        return [_strip_keys(item) for item in items]

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


def known_kinds(latest_item: Mapping[str, Any]) -> list[str]:
    """The credential kinds the latest-state item says are present (from the last successful audit)."""
    return [kind.value for kind in CREDENTIAL_KINDS if latest_item.get(FLAG_FOR_KIND[kind]) is True]
