"""Lambda without Docker and Step Functions, in-process: handlers run in this process through moto."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from rootwatch_sandbox import runtime
from rootwatch_sandbox.runtime import env_overlay

from tests.integration import sandbox_handlers
from tests.integration.sandbox_handlers import deploy_function, distributed_map_definition, run_to_completion

BUCKET = "runtime-test-bucket"


@pytest.fixture(autouse=True)
def fast_retries() -> Iterator[None]:
    runtime.set_retry_scale(0.001)
    yield
    runtime.set_retry_scale(None)


@pytest.fixture(scope="module")
def module_clients() -> dict[str, Any]:
    """Built once: moto intercepts whichever sandbox is running when they are used (building one costs ~10 ms)."""
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
    return {name: boto3.client(name, **credentials) for name in ("lambda", "iam", "s3", "stepfunctions")}


@pytest.fixture
def clients(sandbox: Any, module_clients: dict[str, Any]) -> dict[str, Any]:
    module_clients["s3"].create_bucket(Bucket=BUCKET)
    return module_clients


def _invoke(clients: dict[str, Any], name: str, event: Any = None, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    payload = json.dumps(event if event is not None else {})
    response = clients["lambda"].invoke(FunctionName=name, Payload=payload, **kwargs)
    body = response["Payload"].read()
    return response, json.loads(body) if body else None


def test_handler_runs_in_process_with_the_functions_environment_and_context(clients: dict[str, Any]) -> None:
    deploy_function(clients["lambda"], clients["iam"], "echo-fn", "echo", {"MARKER": "from-function-config"})

    response, result = _invoke(clients, "echo-fn", {"hello": "world"})

    assert "FunctionError" not in response
    assert result == {
        "event": {"hello": "world"},
        "marker": "from-function-config",
        "function_name": "echo-fn",
        "remaining_ms_positive": True,
        "region": "us-east-1",
    }
    assert "MARKER" not in os.environ  # the function's environment stays with the invocation


def test_exception_becomes_an_unhandled_function_error_typed_by_its_class_name(clients: dict[str, Any]) -> None:
    deploy_function(clients["lambda"], clients["iam"], "permanent-fn", "permanent")

    response, error = _invoke(clients, "permanent-fn", LogType="Tail")

    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "PermanentLikeError"
    assert error["errorMessage"] == "this function always fails"
    assert any("sandbox_handlers.py" in frame and "in permanent" in frame for frame in error["stackTrace"])
    assert "[ERROR] PermanentLikeError" in base64.b64decode(response["LogResult"]).decode()


@pytest.mark.parametrize(
    ("handler", "error_type", "message_part"),
    [
        ("tests.integration.no_such_module.handler", "Runtime.ImportModuleError", "Unable to import module"),
        ("tests.integration.sandbox_handlers.no_such_function", "Runtime.HandlerNotFound", "missing on module"),
        ("handler_without_a_module", "Runtime.MalformedHandlerName", "Bad handler"),
    ],
)
def test_handler_that_cannot_be_loaded_is_a_runtime_function_error(
    clients: dict[str, Any], handler: str, error_type: str, message_part: str
) -> None:
    role = clients["iam"].create_role(RoleName="broken-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    clients["lambda"].create_function(
        FunctionName="broken-fn", Role=role, Runtime="python3.13", Handler=handler, Code={"ZipFile": b"PK"}
    )

    response, error = _invoke(clients, "broken-fn")

    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == error_type
    assert message_part in error["errorMessage"]


def test_result_json_cannot_carry_is_a_marshal_error(clients: dict[str, Any]) -> None:
    deploy_function(clients["lambda"], clients["iam"], "unserializable-fn", "returns_unserializable")

    response, error = _invoke(clients, "unserializable-fn")

    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.MarshalError"


def test_boto3_in_a_handler_acts_as_the_functions_execution_role(clients: dict[str, Any]) -> None:
    deploy_function(clients["lambda"], clients["iam"], "whoami-fn", "whoami")

    _, identity = _invoke(clients, "whoami-fn")

    assert identity == {
        "account": "123456789012",
        "arn": "arn:aws:sts::123456789012:assumed-role/whoami-fn-role/whoami-fn",
    }


def test_concurrent_invocations_each_see_their_own_functions_environment(clients: dict[str, Any]) -> None:
    deploy_function(clients["lambda"], clients["iam"], "echo-a", "echo", {"MARKER": "a"})
    deploy_function(clients["lambda"], clients["iam"], "echo-b", "echo", {"MARKER": "b"})
    calls = [("echo-a" if i % 2 else "echo-b", i) for i in range(24)]

    def call(name_and_index: tuple[str, int]) -> tuple[str, str]:
        name, index = name_and_index
        _, result = _invoke(clients, name, {"i": index, "sleep_ms": 20})
        return name, result["marker"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        markers = list(pool.map(call, calls))

    assert markers == [(name, name[-1]) for name, _ in calls]


def test_function_environment_is_invisible_to_other_threads_during_an_invocation() -> None:
    seen_inside: list[str | None] = []
    seen_outside: list[str | None] = []
    inside = threading.Event()
    release = threading.Event()

    def invocation() -> None:
        with env_overlay.function_environment({"ONLY_IN_FUNCTION": "yes", "HOME": None}):
            seen_inside.extend([os.environ.get("ONLY_IN_FUNCTION"), os.getenv("HOME")])
            inside.set()
            release.wait(5)

    runtime.install()
    worker = threading.Thread(target=invocation)
    worker.start()
    inside.wait(5)
    seen_outside.append(os.environ.get("ONLY_IN_FUNCTION"))
    release.set()
    worker.join()

    assert seen_inside == ["yes", None]
    assert seen_outside == [None]
    assert "ONLY_IN_FUNCTION" not in os.environ


def test_event_invocation_runs_the_handler_in_the_background(clients: dict[str, Any]) -> None:
    variables = {"BUCKET_NAME": BUCKET, "RESULT_PREFIX": "async/"}
    deploy_function(clients["lambda"], clients["iam"], "flaky-fn", "flaky", variables)
    item = f"event-{uuid.uuid4().hex[:8]}"

    response = clients["lambda"].invoke(
        FunctionName="flaky-fn", InvocationType="Event", Payload=json.dumps({"id": item})
    )

    assert response["StatusCode"] == 202
    deadline = time.monotonic() + 10
    keys: list[str] = []
    while time.monotonic() < deadline and not keys:
        listed = clients["s3"].list_objects_v2(Bucket=BUCKET, Prefix=f"async/{item}")
        keys = [entry["Key"] for entry in listed.get("Contents", [])]
        time.sleep(0.01)
    assert keys == [f"async/{item}"]


def test_dry_run_invocation_does_not_run_the_handler(clients: dict[str, Any]) -> None:
    deploy_function(clients["lambda"], clients["iam"], "flaky-dry", "flaky", {"BUCKET_NAME": BUCKET})
    item = f"dry-{uuid.uuid4().hex[:8]}"

    response = clients["lambda"].invoke(
        FunctionName="flaky-dry", InvocationType="DryRun", Payload=json.dumps({"id": item})
    )

    assert response["StatusCode"] == 204
    assert sandbox_handlers.attempts(item) == 0


def test_payload_that_is_not_json_is_rejected_before_the_handler_runs(clients: dict[str, Any]) -> None:
    deploy_function(clients["lambda"], clients["iam"], "echo-json", "echo")

    with pytest.raises(clients["lambda"].exceptions.ClientError) as raised:
        clients["lambda"].invoke(FunctionName="echo-json", Payload=b"{not json")

    assert raised.value.response["Error"]["Code"] == "InvalidRequestContentException"


def _manifest(clients: dict[str, Any], items: list[dict[str, Any]]) -> str:
    key = f"manifests/{uuid.uuid4().hex[:8]}.json"
    clients["s3"].put_object(Bucket=BUCKET, Key=key, Body=json.dumps(items).encode())
    return key


def test_distributed_map_over_s3_manifest_retries_throttles_and_catches_permanent_errors(
    clients: dict[str, Any],
) -> None:
    variables = {"BUCKET_NAME": BUCKET, "RESULT_PREFIX": "results/", "MARKER": "map-run"}
    function_arn = deploy_function(clients["lambda"], clients["iam"], "flaky-map", "flaky", variables)
    run = uuid.uuid4().hex[:8]
    items = [
        {"id": f"{run}-ok"},
        {"id": f"{run}-throttled-twice", "fail_times": 2},
        {"id": f"{run}-permanent", "permanent": True},
        {"id": f"{run}-throttled-always", "fail_times": 99},
    ]
    definition = distributed_map_definition(function_arn, BUCKET, _manifest(clients, items))
    machine = clients["stepfunctions"].create_state_machine(
        name="map-test", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
    )

    execution = run_to_completion(clients["stepfunctions"], machine["stateMachineArn"], {"run": run})

    assert execution["status"] == "SUCCEEDED"
    ok, throttled_twice, permanent, throttled_always = json.loads(execution["output"])["results"]
    assert ok == {"id": f"{run}-ok", "attempt": 1, "marker": "map-run"}
    assert throttled_twice == {"id": f"{run}-throttled-twice", "attempt": 3, "marker": "map-run"}
    assert permanent["error"]["Error"] == "PermanentLikeError"
    assert json.loads(permanent["error"]["Cause"])["errorMessage"] == f"item {run}-permanent can never succeed"
    assert throttled_always["error"]["Error"] == "ThrottledLikeError"
    assert sandbox_handlers.attempts(f"{run}-throttled-always") == 4  # the first try and MaxAttempts=3 retries
    assert sandbox_handlers.attempts(f"{run}-permanent") == 1  # not retried: Retry names ThrottledLikeError only
    written = clients["s3"].list_objects_v2(Bucket=BUCKET, Prefix="results/")["Contents"]
    assert sorted(entry["Key"] for entry in written) == [f"results/{run}-ok", f"results/{run}-throttled-twice"]


def test_deployed_definition_is_kept_as_written_although_moto_runs_a_localized_one(clients: dict[str, Any]) -> None:
    function_arn = deploy_function(clients["lambda"], clients["iam"], "echo-def", "echo")
    definition = json.dumps(distributed_map_definition(function_arn, BUCKET, "manifests/none.json"))

    machine = clients["stepfunctions"].create_state_machine(
        name="as-written", definition=definition, roleArn="arn:aws:iam::123456789012:role/sfn"
    )

    described = clients["stepfunctions"].describe_state_machine(stateMachineArn=machine["stateMachineArn"])
    assert described["definition"] == definition


def test_failed_item_without_catch_fails_the_map_beyond_its_tolerance(clients: dict[str, Any]) -> None:
    function_arn = deploy_function(clients["lambda"], clients["iam"], "permanent-map", "permanent")
    key = _manifest(clients, [{"n": n} for n in range(4)])
    untolerant = distributed_map_definition(function_arn, BUCKET, key)
    del untolerant["States"]["ProcessItems"]["ItemProcessor"]["States"]["Process"]["Catch"]
    tolerant = json.loads(json.dumps(untolerant))
    tolerant["States"]["ProcessItems"]["ToleratedFailurePercentage"] = 100
    sfn = clients["stepfunctions"]
    role = "arn:aws:iam::123456789012:role/sfn"

    failed = run_to_completion(
        sfn,
        sfn.create_state_machine(name="untolerant", definition=json.dumps(untolerant), roleArn=role)["stateMachineArn"],
        {},
    )
    tolerated = run_to_completion(
        sfn,
        sfn.create_state_machine(name="tolerant", definition=json.dumps(tolerant), roleArn=role)["stateMachineArn"],
        {},
    )

    assert failed["status"] == "FAILED"
    assert failed["error"] == "States.ExceedToleratedFailureThreshold"
    assert tolerated["status"] == "SUCCEEDED"


def test_execution_output_holding_datetimes_can_be_described(clients: dict[str, Any]) -> None:
    clients["s3"].put_object(Bucket=BUCKET, Key="some-object", Body=b"x")
    definition = {
        "StartAt": "List",
        "States": {
            "List": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:listObjectsV2",
                "Parameters": {"Bucket": BUCKET},
                "End": True,
            }
        },
    }
    sfn = clients["stepfunctions"]
    machine = sfn.create_state_machine(
        name="datetimes", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
    )

    execution = run_to_completion(sfn, machine["stateMachineArn"], {})

    assert execution["status"] == "SUCCEEDED"
    (listed,) = json.loads(execution["output"])["Contents"]
    assert listed["Key"] == "some-object"
    assert listed["LastModified"].startswith(str(time.gmtime().tm_year))


def test_list_map_runs_answers_while_the_execution_is_starting(clients: dict[str, Any]) -> None:
    function_arn = deploy_function(clients["lambda"], clients["iam"], "echo-runs", "echo")
    definition = distributed_map_definition(function_arn, BUCKET, _manifest(clients, [{"sleep_ms": 1}]))
    sfn = clients["stepfunctions"]
    machine = sfn.create_state_machine(
        name="map-runs", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
    )
    started = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="map-runs-1", input="{}")

    runs = sfn.list_map_runs(executionArn=started["executionArn"])["mapRuns"]

    assert len(runs) <= 1
    execution = run_to_completion(sfn, machine["stateMachineArn"], {})
    assert execution["status"] == "SUCCEEDED"
