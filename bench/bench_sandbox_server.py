"""The sandbox server's cost per call, and Distributed Map throughput in-process vs through the server.

Per call: the same boto3 calls (one client each, reused) against the in-process sandbox and against a
``SandboxServer`` on localhost, in a small demo org. "Plain" calls are moto's own (GetCallerIdentity,
AssumeRole, GetAccountSummary with ordinary credentials); AssumeRoot and the root session's
GetAccountSummary are the sandbox's extensions. Map: one execution of a Distributed Map over an S3 manifest
invoking an in-process Python handler per item.

    python -m bench sandbox_server
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
from rootwatch.domain.task_policies import TaskPolicy
from rootwatch_sandbox import Sandbox
from rootwatch_sandbox.server import SandboxServer

from bench.timing import median_ms

REGION = "us-east-1"
DEMO_ACCOUNTS = 50
CALLS = 200
MAP_ITEMS = 200
MAP_CONCURRENCY = 10
BUCKET = "bench-map-bucket"
AUDIT_POLICY = {"arn": TaskPolicy.IAM_AUDIT_ROOT_USER_CREDENTIALS.arn}


def echo_handler(event: Any, context: Any) -> Any:
    """The benchmark's Lambda handler: returns its event (the cost measured is the sandbox's, not the handler's)."""
    return event


def _median_ms(call: Callable[[int], object], calls: int = CALLS) -> float:
    """Median wall time of one call, in ms (after a short warm-up)."""
    return median_ms(call, calls)


def _client(service: str, endpoint_url: str | None, **credentials: str) -> Any:
    credentials = credentials or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    if service == "sts" and endpoint_url is None:
        endpoint_url = f"https://sts.{REGION}.amazonaws.com"  # AssumeRoot wants the regional endpoint
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint_url, **credentials)


def _per_call(endpoint_url: str | None, members: list[str]) -> dict[str, float]:
    sts = _client("sts", endpoint_url)
    iam = _client("iam", endpoint_url)
    root = sts.assume_root(TargetPrincipal=members[0], TaskPolicyArn=AUDIT_POLICY, DurationSeconds=900)["Credentials"]
    root_iam = _client(
        "iam",
        endpoint_url,
        aws_access_key_id=root["AccessKeyId"],
        aws_secret_access_key=root["SecretAccessKey"],
        aws_session_token=root["SessionToken"],
    )
    return {
        "GetCallerIdentity (plain moto)": _median_ms(lambda i: sts.get_caller_identity()),
        "AssumeRole (plain moto)": _median_ms(
            lambda i: sts.assume_role(
                RoleArn=f"arn:aws:iam::{members[i % len(members)]}:role/x", RoleSessionName="bench"
            )
        ),
        "AssumeRoot (sandbox)": _median_ms(
            lambda i: sts.assume_root(
                TargetPrincipal=members[i % len(members)], TaskPolicyArn=AUDIT_POLICY, DurationSeconds=900
            )
        ),
        "GetAccountSummary, ordinary credentials (plain moto)": _median_ms(lambda i: iam.get_account_summary()),
        "GetAccountSummary, root session (sandbox)": _median_ms(lambda i: root_iam.get_account_summary()),
    }


def _map_run(endpoint_url: str | None) -> tuple[float, str]:
    """Seconds for one Distributed Map execution over MAP_ITEMS items, and its status."""
    s3, iam = _client("s3", endpoint_url), _client("iam", endpoint_url)
    lambda_client, sfn = _client("lambda", endpoint_url), _client("stepfunctions", endpoint_url)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="manifest.json", Body=json.dumps([{"n": n} for n in range(MAP_ITEMS)]).encode())
    role = iam.create_role(RoleName="bench-fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    function_arn = lambda_client.create_function(
        FunctionName="bench-echo",
        Role=role,
        Runtime="python3.13",
        Handler="bench.bench_sandbox_server.echo_handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},  # an empty zip: the handler comes from this process
    )["FunctionArn"]
    definition = {
        "StartAt": "Map",
        "States": {
            "Map": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket": BUCKET, "Key": "manifest.json"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                    "StartAt": "Echo",
                    "States": {
                        "Echo": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
                            "OutputPath": "$.Payload",
                            "End": True,
                        }
                    },
                },
                "MaxConcurrency": MAP_CONCURRENCY,
                "End": True,
            }
        },
    }
    machine = sfn.create_state_machine(
        name="bench-map", definition=json.dumps(definition), roleArn=f"arn:aws:iam::123456789012:role/{uuid.uuid4()}"
    )
    started = time.perf_counter()
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="bench", input="{}")
    while (described := sfn.describe_execution(executionArn=execution["executionArn"]))["status"] == "RUNNING":
        time.sleep(0.01)
    return time.perf_counter() - started, described["status"]


def _warm_up_interpreter() -> None:
    """moto's first state machine in a process pays for loading its ANTLR parser; keep that out of the figures."""
    with Sandbox():
        sfn = _client("stepfunctions", None)
        pass_machine = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
        arn = sfn.create_state_machine(
            name="warm", definition=json.dumps(pass_machine), roleArn="arn:aws:iam::123456789012:role/w"
        )["stateMachineArn"]
        sfn.start_execution(stateMachineArn=arn, name="warm", input="{}")


def main() -> None:
    """Print the figures."""
    _warm_up_interpreter()
    with Sandbox() as sandbox:
        in_process = _per_call(None, _active(sandbox.create_demo_org(accounts=DEMO_ACCOUNTS, seed=1)))
    with Sandbox():
        in_process_map = _map_run(None)
    with SandboxServer(port=0, demo_org=DEMO_ACCOUNTS) as server:
        assert server.demo_org_result is not None
        served = _per_call(server.endpoint_url, _active(server.demo_org_result))
    with SandboxServer(port=0) as server:
        served_map = _map_run(server.endpoint_url)

    print(f"per call, median of {CALLS}, {DEMO_ACCOUNTS}-account demo org (ms):")
    print(f"  {'call':55s} {'in-process':>10s} {'server':>8s} {'server cost':>11s}")
    for name, local in in_process.items():
        print(f"  {name:55s} {local:10.2f} {served[name]:8.2f} {served[name] - local:+11.2f}")
    root_summary = served["GetAccountSummary, root session (sandbox)"]
    plain_summary = served["GetAccountSummary, ordinary credentials (plain moto)"]
    print(
        "  the sandbox's own overhead through the server: AssumeRoot vs AssumeRole "
        f"{served['AssumeRoot (sandbox)'] - served['AssumeRole (plain moto)']:+.2f} ms, "
        f"root-session GetAccountSummary vs ordinary {root_summary - plain_summary:+.2f} ms"
    )
    print(f"Distributed Map, {MAP_ITEMS} items, MaxConcurrency {MAP_CONCURRENCY}, in-process handler:")
    for label, (seconds, status) in (("in-process", in_process_map), ("server", served_map)):
        print(
            f"  {label:10s} {status:9s} {seconds:6.2f} s  {MAP_ITEMS / seconds:6.0f} items/s  "
            f"{seconds / MAP_ITEMS * 1000:5.1f} ms/item"
        )


def _active(demo_org: dict[str, Any]) -> list[str]:
    """The demo accounts AssumeRoot accepts: the ACTIVE members."""
    return [account["account_id"] for account in demo_org["accounts"] if account["state"] == "ACTIVE"]


if __name__ == "__main__":
    main()
