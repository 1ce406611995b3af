"""Root-credential change events in the sandbox: change → member rule → central bus → queue → re-audit function.

Only once a stack with ``rootwatch:realtimeEnabled`` is deployed (its StackSet and event source mapping are
recorded here by the deployer's handlers); otherwise every function here does nothing.

What is emulated and what is real (docs/sandbox.md, "Root-credential events"):

* **Emission** (emulated): an emulated root-credential change (CreateLoginProfile, i.e. password recovery, and the
  other root-user calls of an AssumeRoot session; the seeding API's ``emit_event``) builds the event CloudTrail
  would deliver to EventBridge: ``source`` aws.iam or aws.signin, its ``detail-type``, and a ``detail`` with
  ``eventName``, ``eventTime`` (the sandbox clock), a fresh ``eventID``, ``userIdentity.type`` Root and
  ``recipientAccountId``.
* **The member rule** (emulated, "virtual"): the StackSet is not deployed into member accounts; each account under
  one of its target OUs (OUs nested below them too) is treated as having the StackSet's ``ForwardRule``, matched
  with moto's EventBridge pattern matcher against the template's own ``EventPattern``.
* **The central bus, its rule and the SQS target** (moto): the event is handed to the central bus's deployed rules
  as EventBridge forwards it (the member's ``account`` kept), and moto's rule sends it to the queue.
* **The event source mapping** (emulated): recorded, not created in moto; :func:`drain` receives the queue's
  messages in batches of the mapping's size and invokes the deployed function in-process (the sandbox's Lambda
  runtime) with an SQS-shaped event, deleting the messages it did not report as failed. It runs synchronously,
  right after the emission: no batching window, so the alert is published at the change's sandbox time.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from rootwatch.domain.root_events import ROOT_EVENT_NAMES

#: Sign-in events (source aws.signin); every other root event name is an IAM API call.
SIGNIN_EVENT_NAMES = frozenset(
    {"PasswordRecoveryRequested", "PasswordRecoveryCompleted", "PasswordUpdated", "ConsoleLogin"}
)
EVENT_NAMES = frozenset(ROOT_EVENT_NAMES)


@dataclass
class StackSetRecord:
    """A deployed service-managed StackSet: its template, parameter values and deployment targets."""

    name: str
    account: str
    region: str
    template: dict[str, Any]
    parameters: dict[str, str]
    target_ous: list[str]
    regions: list[str]


@dataclass
class MappingRecord:
    """A deployed SQS event source mapping: which queue feeds which function, how many messages at a time."""

    uuid: str
    account: str
    region: str
    queue_arn: str
    function_name: str
    batch_size: int = 10
    enabled: bool = True


@dataclass
class _Registry:
    lock: threading.RLock = field(default_factory=threading.RLock)
    stack_sets: dict[str, StackSetRecord] = field(default_factory=dict)
    mappings: dict[str, MappingRecord] = field(default_factory=dict)


_REGISTRY = _Registry()


def reset() -> None:
    """Forget every deployed StackSet and mapping (moto was reset)."""
    with _REGISTRY.lock:
        _REGISTRY.stack_sets.clear()
        _REGISTRY.mappings.clear()


def record_stack_set(record: StackSetRecord) -> None:
    with _REGISTRY.lock:
        _REGISTRY.stack_sets[f"{record.account}/{record.name}"] = record


def record_mapping(record: MappingRecord) -> None:
    with _REGISTRY.lock:
        _REGISTRY.mappings[record.uuid] = record


def enabled() -> bool:
    """True once a stack that forwards root-credential events is deployed."""
    return bool(_REGISTRY.stack_sets)


def root_event(account_id: str, event_name: str, when: dt.datetime) -> dict[str, Any]:
    """The EventBridge event CloudTrail delivers for ``event_name`` by the root user of ``account_id``."""
    signin = event_name in SIGNIN_EVENT_NAMES
    event_id = str(uuid.uuid4())
    stamp = when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS Console Sign In via CloudTrail" if signin else "AWS API Call via CloudTrail",
        "source": "aws.signin" if signin else "aws.iam",
        "account": account_id,
        "time": stamp,
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "eventName": event_name,
            "eventTime": stamp,
            "eventID": event_id,
            "eventSource": "signin.amazonaws.com" if signin else "iam.amazonaws.com",
            "eventType": "AwsConsoleSignIn" if signin else "AwsApiCall",
            "awsRegion": "us-east-1",
            "recipientAccountId": account_id,
            "userIdentity": {
                "type": "Root",
                "principalId": account_id,
                "arn": f"arn:aws:iam::{account_id}:root",
                "accountId": account_id,
            },
        },
    }


def emit_root_event(account_id: str, event_name: str) -> dict[str, Any]:
    """An emulated root-credential change in ``account_id``: its event, forwarded by the member rule if the account
    has one, delivered and consumed. ``{"event", "forwarded_to", "invocations"}``; nothing at all (``{}``) when no
    realtime stack is deployed."""
    if not enabled():
        return {}
    from rootwatch_sandbox.rootstate import STATE

    event = root_event(account_id, event_name, STATE.clock.now())
    buses = [bus for bus, pattern in _member_rules(account_id) if _matches(pattern, event)]
    invocations: list[dict[str, Any]] = []
    for bus in buses:
        invocations += put_on_central_bus(bus, event)
    return {"event": event, "forwarded_to": buses, "invocations": invocations}


def central_buses() -> list[str]:
    """The central bus ARN of every deployed StackSet (its ``CentralBusArn`` parameter)."""
    with _REGISTRY.lock:
        return sorted({arn for s in _REGISTRY.stack_sets.values() for arn in _bus_targets(s)})


def put_on_central_bus(bus_arn: str, event: dict[str, Any]) -> list[dict[str, Any]]:
    """Deliver ``event`` (as given: a forged one too) to the central bus's rules, then drain the queues."""
    from moto.events.models import events_backends

    _, _, _, region, account, resource = bus_arn.split(":", 5)
    bus = events_backends[account][region].event_buses.get(resource.split("/", 1)[1])
    if bus is None:
        return []
    when = dt.datetime.fromisoformat(str(event.get("time", "")).replace("Z", "+00:00"))
    for rule in list(bus.rules.values()):
        if rule.state == "ENABLED":
            # The event as EventBridge delivers it: moto's default input template would drop "account", so no
            # transform (the central rule's target has no InputTransformer). moto's SQS target writes "time"
            # back as ISO-8601 from a Unix timestamp.
            rule.send_to_targets(dict(event, time=when.timestamp()), transform_input=False)  # type: ignore[arg-type]
    return drain()


def drain() -> list[dict[str, Any]]:
    """Run every recorded event source mapping until its queue is empty: one invocation per batch."""
    from moto.awslambda.utils import get_backend
    from moto.sqs.models import sqs_backends

    from rootwatch_sandbox.runtime.lambda_runner import invoke_function

    invocations: list[dict[str, Any]] = []
    with _REGISTRY.lock:
        mappings = [m for m in _REGISTRY.mappings.values() if m.enabled]
    for mapping in mappings:
        queue_name = mapping.queue_arn.rsplit(":", 1)[1]
        sqs = sqs_backends[mapping.account][mapping.region]
        fn = get_backend(mapping.account, mapping.region).get_function(mapping.function_name)
        while True:
            messages = sqs.receive_message(queue_name, mapping.batch_size, 0, int(fn.timeout or 3) * 6)
            if not messages:
                break
            records = [_record(m, mapping) for m in messages]
            result = invoke_function(fn, {"Records": records})
            answer = json.loads(result.payload) if result.payload else None
            failed = set() if result.function_error is None else {r["messageId"] for r in records}
            if isinstance(answer, dict) and result.function_error is None:
                failed = {f.get("itemIdentifier") for f in answer.get("batchItemFailures") or []}
            for record in records:
                if record["messageId"] not in failed:
                    sqs.delete_message(queue_name, record["receiptHandle"])
            invocations.append({"function": mapping.function_name, "records": len(records), "response": answer})
            if failed:
                break  # left for the next drain, as Lambda retries after the visibility timeout
    return invocations


def _record(message: Any, mapping: MappingRecord) -> dict[str, Any]:
    return {
        "messageId": message.id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": {"ApproximateReceiveCount": str(message.approximate_receive_count)},
        "messageAttributes": {},
        "md5OfBody": message.body_md5,
        "eventSource": "aws:sqs",
        "eventSourceARN": mapping.queue_arn,
        "awsRegion": mapping.region,
    }


def _bus_targets(stack_set: StackSetRecord) -> list[str]:
    return [bus for bus, _ in _rules_of(stack_set)]


def _rules_of(stack_set: StackSetRecord) -> list[tuple[str, dict[str, Any]]]:
    """``(target bus ARN, pattern)`` of each default-bus rule in the StackSet's template."""
    rules = []
    for resource in stack_set.template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        if resource.get("Type") != "AWS::Events::Rule" or props.get("EventBusName", "default") != "default":
            continue
        for target in props.get("Targets", []):
            arn = target.get("Arn")
            if isinstance(arn, dict) and "Ref" in arn:
                arn = stack_set.parameters.get(arn["Ref"])
            if isinstance(arn, str) and ":event-bus/" in arn:
                rules.append((arn, props.get("EventPattern", {})))
    return rules


def _member_rules(account_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The forwarding rules the StackSets put on ``account_id``'s default bus in us-east-1."""
    from rootwatch_sandbox import orgview

    with _REGISTRY.lock:
        stack_sets = list(_REGISTRY.stack_sets.values())
    backend = orgview.management_backend(account_id)
    account = orgview.find_account(backend, account_id) if backend is not None else None
    if backend is None or backend.org is None or account is None or account_id == backend.org.master_account_id:
        return []  # service-managed StackSets never deploy to the management account
    parents = _ancestors(backend, account.parent_id)
    return [
        rule
        for stack_set in stack_sets
        if "us-east-1" in stack_set.regions and parents & set(stack_set.target_ous)
        for rule in _rules_of(stack_set)
    ]


def _ancestors(backend: Any, parent_id: str) -> set[str]:
    units = {ou.id: ou for ou in backend.ou}
    found: set[str] = set()
    while parent_id and parent_id not in found:
        found.add(parent_id)
        parent = units.get(parent_id)
        parent_id = getattr(parent, "parent_id", None) or ""
    return found


def _matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    from moto.events.models import EventPattern

    return bool(EventPattern.load(json.dumps(pattern)).matches_event(event))  # type: ignore[arg-type]
