"""Which IAM action, resource ARN(s) and condition keys a request is authorized against (pure: no moto).

``authorization_for(service, operation, params, region, account)`` maps one API request as moto parsed it
(moto's service name, the operation name, its parameters) to what IAM evaluates: the action
(``dynamodb:GetItem``), the resources it touches (the table ARN; several for BatchWriteItem) and
request-specific condition keys (``sts:TaskPolicyArn`` for AssumeRoot). ``s3_authorization`` does the same
from the bucket and key S3's request path hands over.

Covered: the operations the pipeline, the CLI and the Step Functions role use (DynamoDB, S3, SNS, Lambda,
Step Functions, STS, Organizations, IAM, KMS, CloudWatch, X-Ray, Logs, SQS, Security Hub's BatchImportFindings,
EventBridge's PutEvents). Anything else is authorized
against resource ``*``, which only a statement with ``"Resource": "*"`` (or a matching wildcard) allows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: moto service name -> IAM action prefix, where they differ.
ACTION_PREFIX = {"stepfunctions": "states", "elbv2": "elasticloadbalancing", "awslambda": "lambda"}

#: (service, operation) -> IAM action name, where the operation is not the action.
_ACTION_NAME = {
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeAsync"): "InvokeAsync",
    ("lambda", "InvokeWithResponseStream"): "InvokeFunction",
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "HeadObject"): "GetObject",
    ("s3", "CreateMultipartUpload"): "PutObject",
    ("s3", "UploadPart"): "PutObject",
    ("s3", "CompleteMultipartUpload"): "PutObject",
    ("s3", "ListParts"): "ListMultipartUploadParts",
    ("s3", "ListBuckets"): "ListAllMyBuckets",
    ("s3", "DeleteObjects"): "DeleteObject",
    ("cloudwatch", "PutMetricData"): "PutMetricData",
}


@dataclass(frozen=True)
class Authorization:
    """What one request is authorized against: ``action`` (``service:Action``), ``resources``, extra context."""

    action: str
    resources: tuple[str, ...]
    context: Mapping[str, Any] = field(default_factory=dict)


def iam_action(service: str, operation: str) -> str:
    """A moto operation's IAM action (``stepfunctions`` ``StartExecution``: ``states:StartExecution``)."""
    prefix = ACTION_PREFIX.get(service, service)
    return f"{prefix}:{_ACTION_NAME.get((prefix, operation), operation)}"


def _param(params: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        value = params.get(name)
        if value not in (None, ""):
            return value
    return None


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


# --- per service -------------------------------------------------------------------------------------


def _dynamodb(operation: str, params: Mapping[str, Any], region: str, account: str) -> tuple[str, ...]:
    def table(name: str) -> str:
        if name.startswith("arn:"):
            return name
        return f"arn:aws:dynamodb:{region}:{account}:table/{name}"

    if operation in ("BatchWriteItem", "BatchGetItem"):
        return tuple(table(name) for name in (params.get("RequestItems") or {}))
    if operation in ("TransactWriteItems", "TransactGetItems"):
        names: list[str] = []
        for item in params.get("TransactItems") or []:
            for body in (item or {}).values():
                name = (body or {}).get("TableName")
                if name and table(name) not in names:
                    names.append(table(name))
        return tuple(names)
    name = _param(params, "TableName", "ResourceArn")
    if name:
        if operation in ("DescribeStream", "GetRecords", "GetShardIterator") and "StreamArn" in params:
            return (str(params["StreamArn"]),)
        return (table(str(name)),)
    if operation in ("DescribeBackup", "DeleteBackup", "RestoreTableFromBackup") and params.get("BackupArn"):
        return (str(params["BackupArn"]),)
    return ("*",)


_EQUALITY = re.compile(r"(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)")


def _query_leading_key(params: Mapping[str, Any]) -> str | None:
    """``dynamodb:LeadingKeys`` of a Query: the value of the first equality of its KeyConditionExpression.

    A Query's partition key condition is its one required equality; the sandbox does not read the table's key
    schema, so it takes the first equality (rootwatch writes the partition key first). Item operations
    (GetItem, PutItem, ...) get no LeadingKeys: a ``ForAllValues:`` condition on them then holds, and no
    rootwatch statement conditions them.
    """
    match = _EQUALITY.search(str(params.get("KeyConditionExpression") or ""))
    if match is None:
        return None
    value = (params.get("ExpressionAttributeValues") or {}).get(match.group(2)) or {}
    return str(value["S"]) if isinstance(value, Mapping) and "S" in value else None


def _sns(operation: str, params: Mapping[str, Any], region: str, account: str) -> tuple[str, ...]:
    if operation == "CreateTopic" and params.get("Name"):
        return (f"arn:aws:sns:{region}:{account}:{params['Name']}",)
    arn = _param(params, "TopicArn", "TargetArn", "ResourceArn")
    if arn:
        return (str(arn),)
    if operation in ("Unsubscribe", "GetSubscriptionAttributes", "SetSubscriptionAttributes") and params.get(
        "SubscriptionArn"
    ):
        # IAM authorizes subscription calls against the subscription's topic.
        return (str(params["SubscriptionArn"]).rsplit(":", 1)[0],)
    return ("*",)


_LAMBDA_NAME = re.compile(
    r"^(?:arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:)?"
    r"(?:(?P<account2>\d{12}):function:)?(?P<name>[A-Za-z0-9_-]+)(?::(?P<qualifier>[A-Za-z0-9$_-]+))?$"
)


def lambda_function_arn(function_name: str, region: str, account: str, qualifier: str | None = None) -> str:
    """The ARN IAM authorizes a Lambda call against: name, partial or full ARN, plus the qualifier if any."""
    match = _LAMBDA_NAME.match(function_name)
    if match is None:
        return function_name
    region = match.group("region") or region
    account = match.group("account") or match.group("account2") or account
    arn = f"arn:aws:lambda:{region}:{account}:function:{match.group('name')}"
    qualifier = match.group("qualifier") or qualifier
    return f"{arn}:{qualifier}" if qualifier else arn


def _lambda(operation: str, params: Mapping[str, Any], region: str, account: str) -> tuple[str, ...]:
    name = _param(params, "FunctionName")
    if name:
        return (lambda_function_arn(str(name), region, account, _param(params, "Qualifier")),)
    if params.get("Resource"):  # ListTags/TagResource
        return (str(params["Resource"]),)
    return ("*",)


def _states(operation: str, params: Mapping[str, Any], region: str, account: str) -> tuple[str, ...]:
    if operation == "CreateStateMachine" and params.get("name"):
        return (f"arn:aws:states:{region}:{account}:stateMachine:{params['name']}",)
    arn = _param(params, "stateMachineArn", "executionArn", "mapRunArn", "resourceArn", "activityArn")
    return (str(arn),) if arn else ("*",)


def _sts(
    operation: str, params: Mapping[str, Any], region: str, account: str
) -> tuple[tuple[str, ...], dict[str, Any]]:
    if operation == "AssumeRoot":
        target = str(params.get("TargetPrincipal") or "")
        resource = target if target.startswith("arn:") else f"arn:aws:iam::{target}:root"
        policy_arn = (params.get("TaskPolicyArn") or {}).get("arn")
        context = {"sts:TaskPolicyArn": policy_arn} if policy_arn else {}
        return (resource,), context
    if operation.startswith("AssumeRole") and params.get("RoleArn"):
        return (str(params["RoleArn"]),), {}
    return ("*",), {}


def _iam(operation: str, params: Mapping[str, Any], region: str, account: str) -> tuple[str, ...]:
    role = _first(params.get("RoleName"))
    if role:
        return (f"arn:aws:iam::{account}:role/{role}",)
    user = _first(params.get("UserName"))
    if user:
        return (f"arn:aws:iam::{account}:user/{user}",)
    policy = _first(params.get("PolicyArn"))
    if policy:
        return (str(policy),)
    # The root user's no-UserName calls and the organization features act on the account itself.
    return ("*",)


def _kms(operation: str, params: Mapping[str, Any], region: str, account: str) -> tuple[str, ...]:
    key = _param(params, "KeyId", "TargetKeyId")
    if not key:
        return ("*",)
    key = str(key)
    if key.startswith("arn:"):
        return (key,)
    if key.startswith("alias/"):
        return (f"arn:aws:kms:{region}:{account}:{key}",)
    return (f"arn:aws:kms:{region}:{account}:key/{key}",)


def _logs(operation: str, params: Mapping[str, Any], region: str, account: str) -> tuple[str, ...]:
    group = _param(params, "logGroupName")
    if not group:
        return ("*",)
    arn = f"arn:aws:logs:{region}:{account}:log-group:{group}"
    stream = _param(params, "logStreamName")
    if stream:
        return (f"{arn}:log-stream:{stream}",)
    return (f"{arn}:*",)


def _sqs(operation: str, params: Mapping[str, Any], region: str, account: str) -> tuple[str, ...]:
    if operation == "CreateQueue" and params.get("QueueName"):
        return (f"arn:aws:sqs:{region}:{account}:{params['QueueName']}",)
    url = _first(_param(params, "QueueUrl"))
    if url:
        parts = str(url).rstrip("/").split("/")
        owner = parts[-2] if len(parts) >= 2 and parts[-2].isdigit() else account
        return (f"arn:aws:sqs:{region}:{owner}:{parts[-1]}",)
    return ("*",)


def _securityhub(operation: str, params: Mapping[str, Any], region: str, account: str) -> tuple[str, ...]:
    """BatchImportFindings: the product ARN of each finding (its resource type is the product)."""
    if operation == "BatchImportFindings":
        findings = params.get("Findings") or []
        return tuple(dict.fromkeys(str(f.get("ProductArn")) for f in findings if isinstance(f, Mapping))) or ("*",)
    return ("*",)


def _events(operation: str, params: Mapping[str, Any], region: str, account: str) -> tuple[str, ...]:
    """PutEvents: the bus of each entry (a name or an ARN; no name is the default bus)."""
    if operation == "PutEvents":
        buses = []
        for entry in params.get("Entries") or []:
            name = str(entry.get("EventBusName") or "default") if isinstance(entry, Mapping) else "default"
            buses.append(name if name.startswith("arn:") else f"arn:aws:events:{region}:{account}:event-bus/{name}")
        return tuple(dict.fromkeys(buses)) or ("*",)
    return ("*",)


def _organizations(operation: str, params: Mapping[str, Any], region: str, account: str) -> tuple[str, ...]:
    """DescribeAccount: the account's ARN in the caller's organization
    (``arn:aws:organizations::<management>:account/<org id>/<account id>``); other operations ``*``."""
    account_id = params.get("AccountId")
    if operation != "DescribeAccount" or not isinstance(account_id, str):
        return ("*",)
    from rootwatch_sandbox import orgview

    backend = orgview.management_backend(account)
    if backend is None or backend.org is None:
        return ("*",)
    return (f"arn:aws:organizations::{backend.org.master_account_id}:account/{backend.org.id}/{account_id}",)


_RESOURCES = {
    "organizations": _organizations,
    "dynamodb": _dynamodb,
    "securityhub": _securityhub,
    "events": _events,
    "sns": _sns,
    "lambda": _lambda,
    "awslambda": _lambda,
    "stepfunctions": _states,
    "iam": _iam,
    "kms": _kms,
    "logs": _logs,
    "sqs": _sqs,
}


def authorization_for(
    service: str, operation: str, params: Mapping[str, Any] | None, region: str, account: str
) -> Authorization:
    """What IAM evaluates for ``operation`` of moto service ``service`` with ``params`` in ``account``/``region``."""
    params = params or {}
    action = iam_action(service, operation)
    if service == "sts":
        resources, context = _sts(operation, params, region, account)
        return Authorization(action, resources, context)
    if service == "dynamodb" and operation == "Query":
        leading = _query_leading_key(params)
        context = {} if leading is None else {"dynamodb:LeadingKeys": [leading]}
        return Authorization(action, _dynamodb(operation, params, region, account), context)
    resolve = _RESOURCES.get(service)
    resources = resolve(operation, params, region, account) if resolve is not None else ("*",)
    return Authorization(action, resources or ("*",))


def s3_authorization(operation: str, bucket: str | None, key: str | None) -> Authorization:
    """S3: the object ARN for object calls, the bucket ARN for bucket calls, ``*`` for ListBuckets."""
    action = iam_action("s3", operation)
    if bucket and key:
        resource = f"arn:aws:s3:::{bucket}/{key}"
    elif bucket:
        resource = f"arn:aws:s3:::{bucket}"
    else:
        resource = "*"
    return Authorization(action, (resource,))


__all__ = [
    "ACTION_PREFIX",
    "Authorization",
    "authorization_for",
    "iam_action",
    "lambda_function_arn",
    "s3_authorization",
]
