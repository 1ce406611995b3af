"""`rootwatch sandbox serve` and `rootwatch sandbox deploy` as a user runs them."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import boto3
import pytest
from rootwatch_cli import main
from rootwatch_sandbox.server import SandboxServer

SERVE = [sys.executable, "-m", "rootwatch_cli", "sandbox", "serve", "--host", "127.0.0.1"]


class _Lines:
    """What a process prints, line by line, readable with a timeout (a thread drains the pipe)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        stdout = process.stdout
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(
            target=lambda: [self._queue.put(line) for line in iter(stdout.readline, "")], daemon=True
        ).start()

    def take(self, count: int, timeout: float = 30.0) -> list[str]:
        read: list[str] = []
        deadline = time.monotonic() + timeout
        while len(read) < count:
            try:
                read.append(self._queue.get(timeout=max(deadline - time.monotonic(), 0.01)).rstrip("\n"))
            except queue.Empty:
                raise AssertionError(f"serve printed only {read!r} within {timeout} s") from None
        return read


@pytest.fixture
def serving() -> Iterator[tuple[subprocess.Popen[str], _Lines]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [*SERVE, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        yield process, _Lines(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_serve_prints_the_endpoint_and_the_exports_then_stops_cleanly_on_ctrl_c(
    serving: tuple[subprocess.Popen[str], _Lines],
) -> None:
    process, output = serving
    lines = output.take(6)
    endpoint = lines[0].split()[4]
    sts = boto3.client(
        "sts",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    identity = sts.get_caller_identity()
    process.send_signal(signal.SIGINT)
    last = output.take(1)

    assert lines[0] == f"rootwatch sandbox listening on {endpoint} (Ctrl-C stops it)"
    assert endpoint.startswith("http://127.0.0.1:")
    assert [line.strip() for line in lines[2:]] == [
        f"export AWS_ENDPOINT_URL={endpoint}",
        "export AWS_ACCESS_KEY_ID=testing",
        "export AWS_SECRET_ACCESS_KEY=testing",
        "export AWS_DEFAULT_REGION=us-east-1",
    ]
    assert identity["Account"] == "123456789012"
    assert last == ["rootwatch sandbox stopped"]
    assert process.wait(timeout=30) == 0
    assert "Traceback" not in (process.stderr.read() if process.stderr else "")


def test_serve_on_a_port_in_use_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        code = main(["sandbox", "serve", "--host", "127.0.0.1", "--port", str(port)])

    assert code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: --port: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_serve_refuses_a_port_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "serve", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


def test_deploy_creates_the_stack_in_a_running_sandbox_and_prints_its_names(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with SandboxServer(port=0) as server:
        code = main(["sandbox", "deploy", "--endpoint-url", server.endpoint_url])
        printed = json.loads(capsys.readouterr().out)
        sfn = boto3.client("stepfunctions", endpoint_url=server.endpoint_url, region_name="us-east-1")
        machines = [machine["stateMachineArn"] for machine in sfn.list_state_machines()["stateMachines"]]

    assert code == 0
    assert {"table", "bucket", "topic_arn", "state_machine_arn"} <= set(printed)
    assert machines == [printed["state_machine_arn"]]


def test_deploy_without_an_endpoint_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)

    assert main(["sandbox", "deploy", "--endpoint-url", ""]) == 2
    assert "--endpoint-url" in capsys.readouterr().err
