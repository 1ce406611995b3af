"""Deploys the rootwatch stack into a sandbox: the same resources CDK creates in AWS, made with boto3.

``deploy_stack()`` creates the status table, the results bucket, the alert topic, the functions' role,
the three functions (Handler names and environment as in AWS) and the state machine from THE definition
file (placeholders substituted as CDK's ``definition_substitutions`` does, then
``rootwatch.sandbox.runtime.localize_definition``). In-process (``endpoint_url=None``) it talks to the
running in-process sandbox; with an endpoint URL, to a sandbox server. Deploying again updates in place.
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from importlib import resources
from typing import Any

import boto3

from rootwatch.aws.status_store import PK, SK, TTL_ATTRIBUTE

DEFAULT_PREFIX = "rootwatch"
DEFAULT_REGION = "us-east-1"
FUNCTIONS = {
    "prepare_run": ("PrepareRun", "rootwatch.handlers.prepare_run.handler", 300),
    "audit_account": ("AuditAccount", "rootwatch.handlers.audit_account.handler", 60),
    "finish_run": ("FinishRun", "rootwatch.handlers.finish_run.handler", 300),
}
PLACEHOLDERS = (
    "PrepareRunFunctionArn",
    "AuditAccountFunctionArn",
    "FinishRunFunctionArn",
    "ResultsBucket",
    "MaxConcurrency",
)
_ASSUME = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ],
}


def definition_template() -> str:
    """The state machine definition file, with its ``${...}`` placeholders."""
    return resources.files("rootwatch.statemachine").joinpath("audit_run.asl.json").read_text()


def render_definition(substitutions: dict[str, str]) -> str:
    """The definition with every placeholder replaced (as CDK does); ValueError naming one left unset."""
    text = definition_template()
    for name in PLACEHOLDERS:
        if name not in substitutions:
            raise ValueError(f"definition substitution {name} is missing")
        text = text.replace("${" + name + "}", str(substitutions[name]))
    if "${" in text:
        raise ValueError("the definition has a placeholder deploy_stack does not know")
    return text


def deploy_stack(endpoint_url: str | None = None, **options: Any) -> dict[str, Any]:
    """Create (or update) the stack in a sandbox; returns names and ARNs.

    Options: ``prefix`` (resource names, default ``rootwatch``), ``region``, ``max_concurrency`` (the Map's,
    default 10), ``history_ttl_days`` (default 400), ``exemptions`` (JSON text for ROOTWATCH_EXEMPTIONS),
    ``log_level`` (the functions' POWERTOOLS_LOG_LEVEL, default INFO), ``metrics`` (False to silence the
    functions' EMF output, e.g. in the demo), ``botocore_max_attempts`` (the functions' AWS_MAX_ATTEMPTS: 1 hands
    every throttle straight to the state machine's Retry, as tests want), ``botocore_retry_mode`` (AWS_RETRY_MODE;
    ``standard`` avoids adaptive mode's client-side rate limiting, which sleeps for real).

    Returns ``{"table", "bucket", "topic_arn", "state_machine_arn", "functions", "role_arn", "region"}``.
    """
    prefix = str(options.get("prefix", DEFAULT_PREFIX))
    region = str(options.get("region", DEFAULT_REGION))
    max_concurrency = int(options.get("max_concurrency", 10))
    if not 1 <= max_concurrency <= 10000:
        raise ValueError(f"max_concurrency: {max_concurrency} must be between 1 and 10000")
    history_ttl_days = int(options.get("history_ttl_days", 400))

    def client(service: str) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=endpoint_url)

    account = client("sts").get_caller_identity()["Account"]
    table, bucket = f"{prefix}-status", f"{prefix}-results-{account}"
    _create_table(client("dynamodb"), table)
    _create_bucket(client("s3"), bucket, region)
    topic_arn = client("sns").create_topic(Name=f"{prefix}-alerts")["TopicArn"]
    role_arn = _create_role(client("iam"), f"{prefix}-sandbox")

    environment = {
        "TABLE_NAME": table,
        "BUCKET_NAME": bucket,
        "TOPIC_ARN": topic_arn,
        "AUDIT_REGION": region,
        "HISTORY_TTL_DAYS": str(history_ttl_days),
        "POWERTOOLS_SERVICE_NAME": "rootwatch",
        "POWERTOOLS_METRICS_NAMESPACE": "rootwatch",
        "POWERTOOLS_LOG_LEVEL": str(options.get("log_level", "INFO")),
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon in a sandbox
    }
    if options.get("exemptions"):
        environment["ROOTWATCH_EXEMPTIONS"] = str(options["exemptions"])
    if options.get("botocore_retry_mode"):
        environment["AWS_RETRY_MODE"] = str(options["botocore_retry_mode"])
    if options.get("botocore_max_attempts"):
        environment["AWS_MAX_ATTEMPTS"] = str(int(options["botocore_max_attempts"]))
    if options.get("metrics") is False:
        environment["POWERTOOLS_METRICS_DISABLED"] = "true"
    functions = {
        key: _create_function(client("lambda"), f"{prefix}-{name}", handler, timeout, role_arn, environment)
        for key, (name, handler, timeout) in FUNCTIONS.items()
    }
    definition = render_definition(
        {
            "PrepareRunFunctionArn": functions["prepare_run"],
            "AuditAccountFunctionArn": functions["audit_account"],
            "FinishRunFunctionArn": functions["finish_run"],
            "ResultsBucket": bucket,
            "MaxConcurrency": str(max_concurrency),
        }
    )
    from rootwatch.sandbox.runtime import localize_definition

    localized = json.dumps(localize_definition(definition))
    state_machine_arn = _create_state_machine(client("stepfunctions"), f"{prefix}-audit-run", localized, role_arn)
    return {
        "table": table,
        "bucket": bucket,
        "topic_arn": topic_arn,
        "state_machine_arn": state_machine_arn,
        "functions": functions,
        "role_arn": role_arn,
        "region": region,
    }


def _create_table(dynamodb: Any, name: str) -> None:
    try:
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": PK, "KeyType": "HASH"}, {"AttributeName": SK, "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": PK, "AttributeType": "S"},
                {"AttributeName": SK, "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    except dynamodb.exceptions.ResourceInUseException:
        return
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )


def _create_bucket(s3: Any, name: str, region: str) -> None:
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        s3.create_bucket(**kwargs)


def _create_role(iam: Any, name: str) -> str:
    try:
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(_ASSUME))["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        arn = iam.get_role(RoleName=name)["Role"]["Arn"]
    # TEMPORARY (until the deployer of the synthesized template replaces this file): the sandbox enforces IAM
    # for assumed-role callers, and this one shared role stands for all of the stack's roles, so it may do anything.
    iam.put_role_policy(RoleName=name, PolicyName="sandbox-allow-all", PolicyDocument=json.dumps(_ALLOW_ALL))
    return str(arn)


_ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _placeholder_zip() -> bytes:
    """The sandbox runs handlers from the installed package; Lambda still wants a code bundle."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "rootwatch sandbox function: the handler runs from the installed package\n")
    return buffer.getvalue()


def _create_function(
    lam: Any, name: str, handler: str, timeout: int, role_arn: str, environment: dict[str, str]
) -> str:
    config = {
        "Runtime": "python3.13",
        "Handler": handler,
        "Role": role_arn,
        "Timeout": timeout,
        "MemorySize": 256,
        "Environment": {"Variables": environment},
    }
    try:
        return lam.create_function(FunctionName=name, Code={"ZipFile": _placeholder_zip()}, **config)["FunctionArn"]
    except lam.exceptions.ResourceConflictException:
        return lam.update_function_configuration(FunctionName=name, **config)["FunctionArn"]


def _create_state_machine(sfn: Any, name: str, definition: str, role_arn: str) -> str:
    for machine in sfn.get_paginator("list_state_machines").paginate().build_full_result()["stateMachines"]:
        if machine["name"] == name:
            sfn.update_state_machine(
                stateMachineArn=machine["stateMachineArn"], definition=definition, roleArn=role_arn
            )
            return machine["stateMachineArn"]
    return sfn.create_state_machine(name=name, definition=definition, roleArn=role_arn, type="STANDARD")[
        "stateMachineArn"
    ]
