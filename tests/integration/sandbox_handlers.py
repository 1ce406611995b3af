"""Lambda handlers the sandbox runtime tests deploy (Handler = "tests.integration.sandbox_handlers.<name>").

They read their settings from the function's environment at call time, as rootwatch's handlers do.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
import uuid
import zipfile
from collections import Counter
from typing import Any

import boto3


class ThrottledLikeError(Exception):
    """Stands for a throttling error: the state machine retries it by this class name."""


class PermanentLikeError(Exception):
    """Stands for an error no retry fixes: the state machine catches it by this class name."""


_attempts: Counter[str] = Counter()
_attempts_lock = threading.Lock()


def reset_attempts() -> None:
    """Forget how often each item was attempted (call between tests)."""
    with _attempts_lock:
        _attempts.clear()


def attempts(key: str) -> int:
    """How many times ``flaky`` was called for ``key``."""
    with _attempts_lock:
        return _attempts[key]


def echo(event: Any, context: Any) -> dict[str, Any]:
    """Returns the event with the function's MARKER variable and what the context says about the function.

    ``event["sleep_ms"]`` delays the read of MARKER, so that concurrent invocations overlap.
    """
    if isinstance(event, dict) and event.get("sleep_ms"):
        time.sleep(event["sleep_ms"] / 1000)
    return {
        "event": event,
        "marker": os.environ.get("MARKER"),
        "function_name": context.function_name,
        "remaining_ms_positive": context.get_remaining_time_in_millis() > 0,
        "region": os.environ.get("AWS_REGION"),
    }


def flaky(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Raises ThrottledLikeError for the first ``event["fail_times"]`` calls per ``event["id"]``, then records it.

    On success it writes ``<RESULT_PREFIX><id>`` to the bucket named by ``BUCKET_NAME``, proving boto3 inside
    a handler reaches the sandbox, and returns the id, the attempt number and the function's MARKER.
    """
    item_id = str(event["id"])
    with _attempts_lock:
        _attempts[item_id] += 1
        attempt = _attempts[item_id]
    if event.get("permanent"):
        raise PermanentLikeError(f"item {item_id} can never succeed")
    if attempt <= int(event.get("fail_times", 0)):
        raise ThrottledLikeError(f"Rate exceeded for item {item_id} (attempt {attempt})")
    s3 = boto3.client("s3", region_name=os.environ["AWS_REGION"])
    s3.put_object(Bucket=os.environ["BUCKET_NAME"], Key=f"{os.environ['RESULT_PREFIX']}{item_id}", Body=b"done")
    return {"id": item_id, "attempt": attempt, "marker": os.environ.get("MARKER")}


def permanent(event: Any, context: Any) -> None:
    """Always fails with PermanentLikeError."""
    raise PermanentLikeError("this function always fails")


def whoami(event: Any, context: Any) -> dict[str, Any]:
    """The caller identity boto3 sees inside the handler."""
    identity = boto3.client("sts", region_name=os.environ["AWS_REGION"]).get_caller_identity()
    return {"account": identity["Account"], "arn": identity["Arn"]}


def returns_unserializable(event: Any, context: Any) -> object:
    """Returns something JSON cannot carry (AWS answers Runtime.MarshalError)."""
    return object()


# --- deploying them and running state machines (what the runtime and server tests share) -----------------------

ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def placeholder_zip() -> bytes:
    """A minimal deployment package: the sandbox runs the handler from this process, not from the zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "rootwatch sandbox: the handler is imported from the sandbox's process\n")
    return buffer.getvalue()


ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def deploy_function(
    lambda_client: Any,
    iam_client: Any,
    name: str,
    handler: str,
    variables: dict[str, str] | None = None,
    policy: dict[str, Any] | None = ALLOW_ALL,
) -> str:
    """Create a python3.13 function running ``tests.integration.sandbox_handlers.<handler>``; returns its ARN.

    moto checks that the execution role exists, so the role ``<name>-role`` is created first, with ``policy``
    inline (the sandbox enforces it; the default allows everything, None gives the role no policy).
    """
    role = iam_client.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(ROLE_POLICY))
    if policy is not None:
        iam_client.put_role_policy(RoleName=f"{name}-role", PolicyName="inline", PolicyDocument=json.dumps(policy))
    function = lambda_client.create_function(
        FunctionName=name,
        Role=role["Role"]["Arn"],
        Runtime="python3.13",
        Handler=f"tests.integration.sandbox_handlers.{handler}",
        Code={"ZipFile": placeholder_zip()},
        Environment={"Variables": variables or {}},
        Timeout=30,
    )
    return str(function["FunctionArn"])


def distributed_map_definition(function_arn: str, bucket: str, manifest_key: str, **map_fields: Any) -> dict[str, Any]:
    """A Distributed Map over a JSON manifest in S3 invoking ``function_arn`` per item.

    Written as it would be for AWS (EXPRESS children, an integer tolerance): Retry on ThrottledLikeError with
    backoff, then Catch of anything into ``$.error`` so the run carries on.
    """
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
        "OutputPath": "$.Payload",
        "Retry": [
            {"ErrorEquals": ["ThrottledLikeError"], "IntervalSeconds": 1, "BackoffRate": 2, "MaxAttempts": 3},
        ],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}],
        "End": True,
    }
    audit_map: dict[str, Any] = {
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket": bucket, "Key": manifest_key},
        },
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            "StartAt": "Process",
            "States": {"Process": task, "RecordFailure": {"Type": "Pass", "End": True}},
        },
        "MaxConcurrency": 4,
        "ToleratedFailurePercentage": 0,
        "ResultPath": "$.results",
        "End": True,
    }
    audit_map.update(map_fields)
    return {"Comment": "sandbox runtime test", "StartAt": "ProcessItems", "States": {"ProcessItems": audit_map}}


def run_to_completion(sfn_client: Any, state_machine_arn: str, execution_input: Any, timeout: float = 60.0) -> dict:
    """Start an execution (unique name) and poll DescribeExecution until it leaves RUNNING; fail after ``timeout``."""
    started = sfn_client.start_execution(
        stateMachineArn=state_machine_arn, name=f"test-{uuid.uuid4().hex[:16]}", input=json.dumps(execution_input)
    )
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = sfn_client.describe_execution(executionArn=started["executionArn"])
        if described["status"] != "RUNNING":
            return described
        if time.monotonic() > deadline:
            raise AssertionError(f"execution {started['executionArn']} still RUNNING after {timeout} s")
        time.sleep(0.01)
