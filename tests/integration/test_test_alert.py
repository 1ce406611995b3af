"""`rootwatch test-alert` against the sandbox: the deployed topic is found, the message is marked as a test."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from rootwatch.domain.alert import EVENT_TYPE, TEST_EVENT_TYPE, TEST_SCHEMA
from rootwatch_cli import main

from tests.integration.stack_context import PIPELINE


@pytest.fixture(autouse=True)
def no_endpoint_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def subscribed_queue(topic_arn: str, name: str, filter_policy: dict[str, Any] | None = None) -> str:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {"FilterPolicy": json.dumps(filter_policy)} if filter_policy else {}
    boto3.client("sns", region_name="us-east-1").subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes
    )
    return url


def received(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_test_alert_goes_through_the_deployed_topic_marked_as_a_test(sandbox, capsys) -> None:
    from rootwatch_sandbox.deploy import deploy_stack

    sandbox.create_demo_org(accounts=2, seed=1)
    topic_arn = deploy_stack(context=PIPELINE)["topic_arn"]
    everything = subscribed_queue(topic_arn, "everything")
    real_alerts_only = subscribed_queue(topic_arn, "pager", {"event_type": [EVENT_TYPE]})

    assert main(["test-alert"]) == 0
    out, err = capsys.readouterr()
    assert f"to {topic_arn}" in out and TEST_EVENT_TYPE in out
    assert "check that it reached every subscriber" in err

    [envelope] = received(everything)
    assert envelope["Subject"].startswith("[rootwatch] TEST: ") and len(envelope["Subject"]) <= 100
    assert envelope["MessageAttributes"]["event_type"]["Value"] == TEST_EVENT_TYPE
    document = json.loads(envelope["Message"])  # the sqs part of MessageStructure=json: the JSON document
    assert document["schema"] == TEST_SCHEMA and document["test"] is True
    assert document["event_type"] == TEST_EVENT_TYPE and document["topic_arn"] == topic_arn
    assert received(real_alerts_only) == []  # a filter on real alerts does not page for the test


def test_topic_arn_flag_and_no_deployed_stack(sandbox, capsys) -> None:
    assert main(["test-alert"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--topic-arn" in err and "no deployed rootwatch stack" in err

    topic_arn = boto3.client("sns", region_name="us-east-1").create_topic(Name="elsewhere")["TopicArn"]
    queue = subscribed_queue(topic_arn, "elsewhere")
    assert main(["test-alert", "--topic-arn", topic_arn, "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert topic_arn in out and err == ""
    [envelope] = received(queue)
    assert envelope["MessageAttributes"]["event_type"]["Value"] == TEST_EVENT_TYPE
