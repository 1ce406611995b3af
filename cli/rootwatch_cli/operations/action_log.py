"""The remediation audit log: who changed which root credential or resource policy, when, and how it went.

Entries go into the status table (the one the nightly audit writes), as items of their own partition
``ACTION#<account_id>`` with a sort key that starts with the UTC timestamp, so one Query lists an account's
actions in order. The key attribute names are read from the table itself (DescribeTable), so the log follows
the status store's schema instead of repeating it. Entries are only ever added (a conditional put), never
updated. Nothing secret goes in: ids of the credentials acted on, never a credential.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from rootwatch.aws.clients import ClientFactory

from rootwatch_cli.commands.run import STATE_MACHINE_SUFFIX

ACTION_PK_PREFIX = "ACTION#"
ITEM_TYPE = "action"


@dataclass(frozen=True)
class ActionEntry:
    """One action an operator made through rootwatch."""

    who: str
    account_id: str
    operation: str
    action: str
    target: str
    result: str
    task_policy: str | None = None
    error_code: str | None = None
    message: str | None = None
    when: str = ""

    def stamped(self, now: datetime) -> ActionEntry:
        """This entry with ``when`` set to ``now`` (UTC, ISO-8601) unless already set."""
        if self.when:
            return self
        return ActionEntry(**{**asdict(self), "when": now.astimezone(UTC).isoformat(timespec="milliseconds")})


class ActionLog(Protocol):
    """Where action entries go. ``destination`` says where, for the operator."""

    destination: str

    def append(self, entry: ActionEntry) -> None: ...


class SkippedActionLog:
    """The operator opted out (``--no-action-log``): entries are kept in memory for this run's report only."""

    destination = "skipped: --no-action-log was given, so actions are NOT recorded in the status table"

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.entries: list[ActionEntry] = []
        self._clock = clock

    def append(self, entry: ActionEntry) -> None:
        self.entries.append(entry.stamped(self._clock()))


class DynamoActionLog:
    """Appends entries to the status table as ``ACTION#<account>`` items (see the module docstring)."""

    def __init__(
        self, factory: ClientFactory, table_name: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.table_name = table_name
        self.destination = f"DynamoDB table {table_name} (partition {ACTION_PK_PREFIX}<account_id>)"
        self.entries: list[ActionEntry] = []
        self._client = factory.client("dynamodb")
        self._clock = clock
        self._keys: tuple[str, str | None] | None = None

    def key_names(self) -> tuple[str, str | None]:
        """The table's (partition key, sort key) attribute names."""
        if self._keys is None:
            schema = self._client.describe_table(TableName=self.table_name)["Table"]["KeySchema"]
            hash_key = next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
            range_key = next((k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"), None)
            self._keys = (hash_key, range_key)
        return self._keys

    def append(self, entry: ActionEntry) -> None:
        """Write one entry; raises botocore's ClientError when the table refuses it."""
        entry = entry.stamped(self._clock())
        hash_key, range_key = self.key_names()
        sort_value = f"{entry.when}#{uuid.uuid4().hex[:12]}"
        item: dict[str, Any] = {
            "item_type": {"S": ITEM_TYPE},
            **{name: {"S": value} for name, value in asdict(entry).items() if value not in (None, "")},
        }
        if range_key is None:
            item[hash_key] = {"S": f"{ACTION_PK_PREFIX}{entry.account_id}#{sort_value}"}
        else:
            item[hash_key] = {"S": f"{ACTION_PK_PREFIX}{entry.account_id}"}
            item[range_key] = {"S": sort_value}
        self._client.put_item(
            TableName=self.table_name,
            Item=item,
            ConditionExpression="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": hash_key},
        )
        self.entries.append(entry)

    def read(self, account_id: str) -> list[dict[str, str]]:
        """An account's entries, oldest first (for tests and `--show` style reporting)."""
        hash_key, range_key = self.key_names()
        if range_key is None:
            raise NotImplementedError("reading the action log needs a table with a sort key")
        pages = self._client.get_paginator("query").paginate(
            TableName=self.table_name,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": hash_key},
            ExpressionAttributeValues={":pk": {"S": f"{ACTION_PK_PREFIX}{account_id}"}},
        )
        return [{k: v["S"] for k, v in item.items() if "S" in v} for page in pages for item in page["Items"]]


class StatusTableNotFoundError(LookupError):
    """No single deployed status table could be found; the message says what was looked at."""


def discover_status_table(factory: ClientFactory) -> str:
    """The status table of the deployed rootwatch stack, found the way ``rootwatch run`` finds its state machine.

    The state machine named ``*audit-run`` invokes the pipeline's functions; their ``TABLE_NAME`` environment
    variable is the table the nightly audit writes. This works for a CDK-deployed stack (whose table has a
    CloudFormation-generated name) and for ``rootwatch sandbox deploy``. Raises ``StatusTableNotFoundError``
    when no such state machine exists, when they name no table or more than one (two stacks: ambiguous), or
    when they cannot be read.
    """
    return discover_stack_setting(factory, "TABLE_NAME", "status table")


def discover_stack_setting(factory: ClientFactory, variable: str, what: str) -> str:
    """One environment ``variable`` of the deployed stack's functions (e.g. ``TOPIC_ARN``), as above.

    ``what`` names it in errors ("status table", "alert topic"). Raises ``StatusTableNotFoundError``.
    """
    try:
        sfn = factory.client("stepfunctions")
        machines = sfn.get_paginator("list_state_machines").paginate().build_full_result()["stateMachines"]
        arns = sorted(m["stateMachineArn"] for m in machines if m["name"].endswith(STATE_MACHINE_SUFFIX))
        values: set[str] = set()
        for arn in arns:
            definition = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
            for function in sorted(_function_names(definition)):
                configuration = factory.client("lambda").get_function_configuration(FunctionName=function)
                value = ((configuration.get("Environment") or {}).get("Variables") or {}).get(variable)
                if value:
                    values.add(value)
    except (ClientError, BotoCoreError, ValueError, KeyError) as exc:
        raise StatusTableNotFoundError(f"could not look for the deployed stack's {what} ({exc})") from exc
    if not arns:
        raise StatusTableNotFoundError(
            f"found no deployed rootwatch stack (no state machine named *{STATE_MACHINE_SUFFIX})"
        )
    if len(values) != 1:
        found = "none" if not values else ", ".join(sorted(values))
        raise StatusTableNotFoundError(
            f"the state machine(s) named *{STATE_MACHINE_SUFFIX} ({', '.join(arns)}) give "
            f"{'no' if not values else 'more than one'} {what}: {found}"
        )
    return next(iter(values))


def _function_names(document: Any) -> set[str]:
    """Every ``FunctionName`` of a Lambda task anywhere in a state machine definition (nested Maps included)."""
    found: set[str] = set()
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "FunctionName" and isinstance(value, str):
                found.add(value)
            else:
                found |= _function_names(value)
    elif isinstance(document, list):
        for value in document:
            found |= _function_names(value)
    return found
