"""Batched children: the Distributed Map hands each EXPRESS child a batch of accounts (ItemBatcher), and an
inline Map inside the child audits each account with its own Lambda invocation, Retry and Catch.

Checked in the sandbox, on the deployed definition: a 100-account night starts at most 100 / batch-size
children (DescribeMapRun), audits every account exactly once (one AuditAccount invocation, one run item, one
history item each), and one failing account ends without a record (NOT_AUDITED) while its batch-mates
are audited.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest
from rootwatch.aws.status_store import StatusStore
from rootwatch.handlers import dependencies
from rootwatch_cli.commands.run import start_and_follow
from rootwatch_sandbox import runtime
from rootwatch_sandbox.deploy import deploy_stack
from rootwatch_sandbox.runtime import definitions, lambda_runner

from tests.integration.stack_context import PIPELINE

#: cdk.json's batch size (PIPELINE does not override it, so the synth is shared with the other pipeline tests).
BATCH = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]["rootwatch:mapBatchSize"]


def _night(outputs: dict[str, Any], name: str) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions")
    return start_and_follow(sfn, outputs["state_machine_arn"], name=name, progress=False, poll_seconds=0.02)


def _map_run(execution_arn: str) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions")
    (run,) = sfn.list_map_runs(executionArn=execution_arn)["mapRuns"]
    return sfn.describe_map_run(mapRunArn=run["mapRunArn"])


@pytest.fixture
def deployed(sandbox):
    runtime.set_retry_scale(0.0)
    dependencies.reset()
    outputs = deploy_stack(context=PIPELINE)
    yield outputs
    runtime.set_retry_scale(None)
    dependencies.reset()


def _count_audit_invocations(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    calls: Counter[str] = Counter()
    original = lambda_runner.invoke_function

    def counting(fn: Any, event: Any, **kwargs: Any) -> Any:
        if isinstance(event, dict) and isinstance(event.get("account"), dict):
            calls[event["account"]["id"]] += 1
        return original(fn, event, **kwargs)

    monkeypatch.setattr(lambda_runner, "invoke_function", counting)
    return calls


def test_a_100_account_night_starts_one_child_per_batch_and_audits_every_account_once(sandbox, deployed, monkeypatch):
    members = sorted(a["account_id"] for a in sandbox.create_demo_org(accounts=100, seed=11)["accounts"])
    for member in members:
        sandbox.set_account_state(member, "ACTIVE")
    invocations = _count_audit_invocations(monkeypatch)

    described = _night(deployed, "batched-1")

    assert described["status"] == "SUCCEEDED"
    run = _map_run(described["executionArn"])
    assert run["executionCounts"]["total"] <= math.ceil(100 / BATCH)
    assert run["executionCounts"]["succeeded"] == run["executionCounts"]["total"]
    assert run["itemCounts"]["total"] == run["itemCounts"]["succeeded"] == 100
    assert set(invocations) == set(members) and set(invocations.values()) == {1}
    store = StatusStore(boto3.client("dynamodb"), deployed["table"])
    records = store.run_records("batched-1")
    audited = [r.account_id for r in records if r.account_id in members]
    assert sorted(audited) == members
    assert all(len(store.history(member)) == 1 for member in members[:5])


def test_one_failing_account_ends_without_a_record_and_never_fails_its_batch(sandbox, deployed, monkeypatch):
    members = sorted(a["account_id"] for a in sandbox.create_demo_org(accounts=6, seed=12)["accounts"])
    for member in members:
        sandbox.set_account_state(member, "ACTIVE")
    broken = members[2]
    original = lambda_runner.invoke_function

    def failing(fn: Any, event: Any, **kwargs: Any) -> Any:
        if isinstance(event, dict) and (event.get("account") or {}).get("id") == broken:
            event = {"account": "not an account"}  # the handler refuses it: a function error, then the Catch
        return original(fn, event, **kwargs)

    monkeypatch.setattr(lambda_runner, "invoke_function", failing)

    described = _night(deployed, "batched-2")

    run = _map_run(described["executionArn"])
    assert run["executionCounts"]["total"] == 1 and run["executionCounts"]["failed"] == 0
    store = StatusStore(boto3.client("dynamodb"), deployed["table"])
    by_account = {r.account_id: r for r in store.run_records("batched-2")}
    assert by_account[broken].error_code == "NOT_AUDITED"
    assert all(by_account[m].status == "OK" for m in members if m != broken)


def test_batches_keep_order_and_limits_and_carry_the_batch_input():
    batches = definitions.make_batches(list(range(7)), {"MaxItemsPerBatch": 3}, {"run_id": "r"})
    assert batches == [
        {"Items": [0, 1, 2], "BatchInput": {"run_id": "r"}},
        {"Items": [3, 4, 5], "BatchInput": {"run_id": "r"}},
        {"Items": [6], "BatchInput": {"run_id": "r"}},
    ]
    by_bytes = definitions.make_batches(["x" * 10] * 4, {"MaxInputBytesPerBatch": 40})
    assert [len(b["Items"]) for b in by_bytes] == [2, 2] and "BatchInput" not in by_bytes[0]


def test_what_the_sandbox_cannot_batch_faithfully_is_refused_naming_the_state():
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemSelector": {"a.$": "$"},
                "ItemBatcher": {"MaxItemsPerBatch": 2},
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                "End": True,
            }
        },
    }
    with pytest.raises(ValueError, match="state M: the sandbox does not run ItemSelector with ItemBatcher"):
        definitions.item_batchers(definition)
    del definition["States"]["M"]["ItemSelector"]
    definition["States"]["M"]["ItemBatcher"] = {"MaxItemsPerBatchPath": "$.n"}
    with pytest.raises(ValueError, match="MaxItemsPerBatchPath"):
        definitions.item_batchers(definition)
