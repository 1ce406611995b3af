"""The in-process sandbox and the caller's environment."""

import os

import boto3
from rootwatch_sandbox import Sandbox


def test_sandbox_hides_an_exported_endpoint_url_while_it_runs_and_restores_it(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    with Sandbox():
        assert "AWS_ENDPOINT_URL" not in os.environ
        assert boto3.client("sts").get_caller_identity()["Account"] == "123456789012"
    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"
