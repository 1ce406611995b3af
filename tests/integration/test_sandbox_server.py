"""The sandbox over HTTP: moto's server with rootwatch's runtime and the /_rootwatch seeding routes."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from rootwatch_sandbox import runtime, seeding
from rootwatch_sandbox.server import SandboxServer, SandboxServerError

from tests.integration import sandbox_handlers
from tests.integration.sandbox_handlers import deploy_function, distributed_map_definition, run_to_completion

BUCKET = "server-test-bucket"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    runtime.set_retry_scale(0.001)
    with SandboxServer(port=0) as running:
        yield running
    runtime.set_retry_scale(None)


def _client(server: SandboxServer, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _post(server: SandboxServer, path: str, body: bytes | None, method: str = "POST") -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 -- the test's own local server
        server.endpoint_url + path, data=body, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_distributed_map_over_s3_manifest_with_retry_and_catch_runs_through_the_server(server: SandboxServer) -> None:
    lambda_client, iam, s3, sfn = (_client(server, name) for name in ("lambda", "iam", "s3", "stepfunctions"))
    s3.create_bucket(Bucket=BUCKET)
    variables = {"BUCKET_NAME": BUCKET, "RESULT_PREFIX": "results/", "MARKER": "served"}
    function_arn = deploy_function(lambda_client, iam, "flaky-served", "flaky", variables)
    run = uuid.uuid4().hex[:8]
    items = [{"id": f"{run}-ok"}, {"id": f"{run}-throttled", "fail_times": 2}, {"id": f"{run}-bad", "permanent": True}]
    s3.put_object(Bucket=BUCKET, Key="manifests/served.json", Body=json.dumps(items).encode())
    definition = distributed_map_definition(function_arn, BUCKET, "manifests/served.json")
    machine = sfn.create_state_machine(
        name="served-map", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
    )

    execution = run_to_completion(sfn, machine["stateMachineArn"], {})

    assert execution["status"] == "SUCCEEDED"
    ok, throttled, bad = json.loads(execution["output"])["results"]
    assert ok == {"id": f"{run}-ok", "attempt": 1, "marker": "served"}
    assert throttled == {"id": f"{run}-throttled", "attempt": 3, "marker": "served"}
    assert bad["error"]["Error"] == "PermanentLikeError"
    assert sandbox_handlers.attempts(f"{run}-bad") == 1
    written = s3.list_objects_v2(Bucket=BUCKET, Prefix="results/")["Contents"]
    assert sorted(entry["Key"] for entry in written) == [f"results/{run}-ok", f"results/{run}-throttled"]


def test_handler_invoked_through_the_server_gets_its_environment_and_a_typed_error(server: SandboxServer) -> None:
    lambda_client, iam = _client(server, "lambda"), _client(server, "iam")
    deploy_function(lambda_client, iam, "echo-served", "echo", {"MARKER": "over-http"})
    deploy_function(lambda_client, iam, "permanent-served", "permanent")

    echoed = json.loads(lambda_client.invoke(FunctionName="echo-served", Payload=b'{"n": 1}')["Payload"].read())
    failed = lambda_client.invoke(FunctionName="permanent-served", Payload=b"{}")

    assert echoed["marker"] == "over-http"
    assert echoed["event"] == {"n": 1}
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "PermanentLikeError"


def test_boto3_in_a_handler_reaches_the_server_as_the_functions_role(server: SandboxServer) -> None:
    lambda_client = _client(server, "lambda")
    deploy_function(lambda_client, _client(server, "iam"), "whoami-served", "whoami")

    identity = json.loads(lambda_client.invoke(FunctionName="whoami-served")["Payload"].read())

    assert identity["arn"] == "arn:aws:sts::123456789012:assumed-role/whoami-served-role/whoami-served"


@pytest.mark.parametrize(
    ("path", "body", "status", "message_part"),
    [
        ("/_rootwatch/no-such-route", b"{}", 404, "unknown seeding route"),
        ("/_rootwatch/faults", b"{not json", 400, "not valid JSON"),
        ("/_rootwatch/faults", b"[1, 2]", 400, "JSON object"),
        ("/_rootwatch/account-state", b'"ACTIVE"', 400, "JSON object"),
        ("/_rootwatch/account-state", b'{"state": "CLOSED"}', 400, "account_id"),
        ("/_rootwatch/account-state", b'{"account_id": "999999999999", "state": "CLOSED"}', 404, "999999999999"),
        ("/_rootwatch/demo-org", b'{"accounts": "many"}', 400, "accounts"),
    ],
)
def test_bad_seeding_request_gets_a_json_error_and_the_server_keeps_serving(
    server: SandboxServer, path: str, body: bytes, status: int, message_part: str
) -> None:
    answered_status, answer = _post(server, path, body)

    assert answered_status == status
    assert message_part in answer["error"]
    assert _client(server, "sts").get_caller_identity()["Account"] == "123456789012"


@pytest.mark.parametrize(
    ("body", "message_part"),
    [
        (b"[" * 100_000, "nested"),
        (b'{"a": ' * 50_000 + b"1" + b"}" * 50_000, "nested"),
        (b'{"accounts": ' + b"[" * 200 + b"]" * 200 + b"}", "nested"),
        (b"x" * (2 * 1024 * 1024), "larger than"),
        (b"null", "JSON object"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_hostile_seeding_body_gets_a_400_naming_the_problem_and_the_server_keeps_serving(
    server: SandboxServer, body: bytes, message_part: str
) -> None:
    status, answer = _post(server, "/_rootwatch/faults", body)

    assert status == 400, answer
    assert message_part in answer["error"]
    assert _post(server, "/_rootwatch/faults/clear", b"")[0] == 200
    assert _client(server, "sts").get_caller_identity()["Account"] == "123456789012"


def test_seeding_route_answers_405_to_anything_but_post(server: SandboxServer) -> None:
    status, answer = _post(server, "/_rootwatch/faults/clear", None, method="GET")

    assert status == 405
    assert "POST" in answer["error"]


def test_unexpected_failure_in_a_route_is_a_json_500_and_the_server_survives(
    server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(body: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setitem(seeding.ROUTES, "/_rootwatch/explode", explode)

    status, answer = _post(server, "/_rootwatch/explode", b"{}")

    assert status == 500
    assert "RuntimeError: boom" in answer["error"]
    assert _post(server, "/_rootwatch/faults/clear", b"")[0] == 200


def test_demo_org_is_seeded_over_http_when_the_server_starts() -> None:
    with SandboxServer(port=0, demo_org=3) as running:
        accounts = _client(running, "organizations").list_accounts()["Accounts"]

    assert running.demo_org_result is not None
    assert len(running.demo_org_result["accounts"]) == 3
    assert len(accounts) == 4  # the management account and three members


def test_a_port_in_use_is_a_one_line_error(server: SandboxServer) -> None:
    port = int(server.endpoint_url.rsplit(":", 1)[1])

    with pytest.raises(SandboxServerError, match=rf"cannot listen on 127\.0\.0\.1:{port}"):
        SandboxServer(port=port).start()


def test_a_started_server_begins_empty() -> None:
    with SandboxServer(port=0) as first:
        _client(first, "s3").create_bucket(Bucket="left-over-bucket")
    with SandboxServer(port=0) as second:
        buckets = _client(second, "s3").list_buckets()["Buckets"]

    assert buckets == []
