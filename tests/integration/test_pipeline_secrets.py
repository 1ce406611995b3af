"""No credential of any root session appears in anything the pipeline leaves behind or prints.

Runs two nights through the state machine with every log rootwatch, botocore and Powertools write
captured at DEBUG, then searches logs, DynamoDB items, every S3 object, SNS/SQS messages, the executions'
histories and `rootwatch run`'s output for every AccessKeyId, SecretAccessKey and SessionToken the
sandbox's AssumeRoot handed out.
"""

from __future__ import annotations

import gzip
import json
import logging

import boto3
import pytest
from rootwatch.handlers import dependencies
from rootwatch_cli import main
from rootwatch_sandbox import runtime
from rootwatch_sandbox.deploy import deploy_stack
from rootwatch_sandbox.rootstate import STATE

from tests.integration.stack_context import pipeline


class _Capture(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("moto", "werkzeug")):
            return  # the emulator's own logs are not rootwatch's output
        self.lines.append(f"{record.name} {record.getMessage()} {record.__dict__!r}")


@pytest.fixture
def captured_logs():
    """Every record of these loggers. One handler per logger: Powertools puts a filter on the root logger's
    handlers that drops its service's records (they would print twice), so "rootwatch" needs its own."""
    lines: list[str] = []
    loggers = [
        logging.getLogger(name)
        for name in (
            "",
            "rootwatch",
            "rootwatch_cli",
            "rootwatch_sandbox",
            "botocore",
            "boto3",
            "aws_lambda_powertools",
        )
    ]
    saved = [(lg, lg.level, _Capture(lines)) for lg in loggers]
    for lg, _, capture in saved:
        lg.addHandler(capture)
        lg.setLevel(logging.DEBUG)
    yield lines
    for lg, level, capture in saved:
        lg.removeHandler(capture)
        lg.setLevel(level)


def issued_secrets() -> set[str]:
    with STATE.lock:
        sessions = list(STATE._sessions.values())
    return {value for s in sessions for value in (s.access_key_id, s.secret_access_key, s.session_token)}


def everything_stored(outputs) -> list[str]:
    found = [json.dumps(boto3.client("dynamodb").scan(TableName=outputs["table"])["Items"])]
    s3 = boto3.client("s3")
    for item in s3.list_objects_v2(Bucket=outputs["bucket"]).get("Contents", []):
        body = s3.get_object(Bucket=outputs["bucket"], Key=item["Key"])["Body"].read()
        found.append((gzip.decompress(body) if item["Key"].endswith(".gz") else body).decode(errors="replace"))
    sfn = boto3.client("stepfunctions")
    for execution in sfn.list_executions(stateMachineArn=outputs["state_machine_arn"])["executions"]:
        found.append(json.dumps(sfn.get_execution_history(executionArn=execution["executionArn"]), default=str))
    return found


def test_no_root_session_credential_appears_in_logs_records_objects_alerts_or_cli_output(
    sandbox, captured_logs, capsys
):
    runtime.set_retry_scale(0.0)
    dependencies.reset()
    try:
        members = sorted(sandbox.create_demo_org(accounts=4, seed=2)["accounts"], key=lambda a: a["account_id"])
        for member in members:
            sandbox.set_account_state(member["account_id"], "ACTIVE")
            sandbox.set_root_credentials(
                member["account_id"],
                password=True,
                access_keys=["Active"],
                mfa_devices=["virtual"],
                signing_certificates=["Active"],
            )
        sandbox.add_fault(members[0]["account_id"], "*", "AccessDenied")
        outputs = deploy_stack(context=pipeline(logLevel="DEBUG"))
        sqs = boto3.client("sqs")
        queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        boto3.client("sns").subscribe(TopicArn=outputs["topic_arn"], Protocol="sqs", Endpoint=arn)

        codes = [
            main(["run", "--no-progress", "--state-machine-arn", outputs["state_machine_arn"], "--name", n])
            for n in ("night-1", "night-2")
        ]
        cli_output = capsys.readouterr()
    finally:
        runtime.set_retry_scale(None)
        dependencies.reset()

    assert codes == [3, 3]
    secrets = issued_secrets()
    assert len(secrets) >= 3 * 3 * 2  # three audited accounts a night, three values per session, two nights
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert messages
    haystacks = {
        "logs": "\n".join(captured_logs),
        "stored": "\n".join(everything_stored(outputs)),
        "alerts": json.dumps(messages),
        "cli": cli_output.out + cli_output.err,
    }
    assert "account audited" in haystacks["logs"]  # the capture did see the functions' logs
    for where, text in haystacks.items():
        leaked = sorted(secret[:6] + "..." for secret in secrets if secret in text)
        assert not leaked, f"root session credentials leaked into {where}: {leaked}"
