"""Resource handlers: each AWS resource type the sandbox emulates, created (or updated in place) with boto3.

A handler gets the resource's properties with every intrinsic already resolved and answers its physical id
(what ``Ref`` gives) and its ``Fn::GetAtt`` attributes. Every handler is idempotent: deploying again updates
the resource in place and keeps its data (a table's items, a bucket's objects). Names a template leaves to
CloudFormation are generated as CloudFormation does (``<stack>-<LogicalId>-<SUFFIX>``), with a suffix derived
from the stack and logical id rather than random, so a redeploy finds the same resource.

Types without a handler are not emulated; the deployer lists them (``HANDLERS`` is the whole list).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rootwatch_sandbox.cloudformation.intrinsics import TemplateError

#: Tags the sandbox puts on resources it can only find again by tag (KMS keys have no name).
STACK_TAG = "rootwatch-sandbox:stack-name"
LOGICAL_ID_TAG = "rootwatch-sandbox:logical-id"


@dataclass(frozen=True)
class Deployed:
    """A created resource: its physical id (``Ref``) and attributes (``Fn::GetAtt``)."""

    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeployContext:
    """What handlers need: clients for the sandbox, the stack's name and environment, a name generator."""

    client: Callable[[str], Any]
    stack_name: str
    account: str
    region: str
    partition: str = "aws"
    #: State machine definitions with substitutions applied, before localization, by logical id.
    definitions: dict[str, str] = field(default_factory=dict)
    #: Steps to run once every resource exists (see ``bucket``'s access logging).
    deferred: list[Callable[[], None]] = field(default_factory=list)

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        """An ARN in this stack's partition, region and account."""
        where = self.region if region else ""
        owner = self.account if account else ""
        return f"arn:{self.partition}:{service}:{where}:{owner}:{resource}"

    def generated_name(self, logical_id: str, max_length: int, *, lowercase: bool = False) -> str:
        """CloudFormation's name for an unnamed resource, ``<stack>-<LogicalId>-<SUFFIX>``, made deterministic."""
        digest = hashlib.sha256(f"{self.stack_name}/{logical_id}".encode()).digest()
        suffix = base64.b32encode(digest).decode()[:12]
        room = max_length - len(suffix) - 2
        stack_part = self.stack_name[: max(room // 2, room - len(logical_id))]
        logical_part = logical_id[: room - len(stack_part)]
        name = f"{stack_part}-{logical_part}-{suffix}"
        return name.lower() if lowercase else name


Handler = Callable[[DeployContext, str, dict[str, Any]], Deployed]


def _json(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document, separators=(",", ":"))


def _strings(mapping: dict[str, Any]) -> dict[str, str]:
    return {
        k: str(v).lower() if isinstance(v, bool) else _json(v) if isinstance(v, dict | list) else str(v)
        for k, v in mapping.items()
    }


# --- IAM ------------------------------------------------------------------------------------------


def role(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::IAM::Role: trust policy, description, managed policies and inline ``Policies``."""
    iam = ctx.client("iam")
    name = props.get("RoleName") or ctx.generated_name(logical_id, 64)
    trust = _json(props["AssumeRolePolicyDocument"])
    optional = {k: props[k] for k in ("Description", "MaxSessionDuration") if k in props}
    try:
        created = iam.create_role(
            RoleName=name, Path=props.get("Path", "/"), AssumeRolePolicyDocument=trust, **optional
        )["Role"]
    except iam.exceptions.EntityAlreadyExistsException:
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust)
        if optional:
            iam.update_role(RoleName=name, **optional)
        created = iam.get_role(RoleName=name)["Role"]
    for arn in props.get("ManagedPolicyArns", []):
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    for policy in props.get("Policies", []):
        iam.put_role_policy(
            RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=_json(policy["PolicyDocument"])
        )
    return Deployed(name, {"Arn": created["Arn"], "RoleId": created["RoleId"]})


def policy(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::IAM::Policy: an inline policy on each of its roles, users and groups (put_*_policy replaces)."""
    iam = ctx.client("iam")
    name, document = props["PolicyName"], _json(props["PolicyDocument"])
    for role_name in props.get("Roles", []):
        iam.put_role_policy(RoleName=role_name, PolicyName=name, PolicyDocument=document)
    for user in props.get("Users", []):
        iam.put_user_policy(UserName=user, PolicyName=name, PolicyDocument=document)
    for group in props.get("Groups", []):
        iam.put_group_policy(GroupName=group, PolicyName=name, PolicyDocument=document)
    return Deployed(name)


# --- Lambda ---------------------------------------------------------------------------------------

_FUNCTION_CONFIGURATION = (
    "Role",
    "Handler",
    "Description",
    "Timeout",
    "MemorySize",
    "Environment",
    "Runtime",
    "Layers",
    "TracingConfig",
    "LoggingConfig",
    "EphemeralStorage",
    "DeadLetterConfig",
    "KMSKeyArn",
    "VpcConfig",
)


def function(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::Lambda::Function: code from S3 (the uploaded asset) or inline, and its configuration."""
    lam = ctx.client("lambda")
    name = props.get("FunctionName") or ctx.generated_name(logical_id, 64)
    code = props["Code"]
    if "ZipFile" in code:
        raise TemplateError(f"{logical_id}: inline Code.ZipFile source is not supported in the sandbox")
    s3_code = {k: code[k] for k in ("S3Bucket", "S3Key", "S3ObjectVersion") if k in code}
    configuration = {k: props[k] for k in _FUNCTION_CONFIGURATION if k in props}
    if "Environment" in configuration:
        configuration["Environment"] = {"Variables": _strings(configuration["Environment"].get("Variables", {}))}
    architectures = props.get("Architectures")
    try:
        created = lam.create_function(
            FunctionName=name,
            Code=s3_code,
            PackageType=props.get("PackageType", "Zip"),
            **({"Architectures": architectures} if architectures else {}),
            **configuration,
        )
    except lam.exceptions.ResourceConflictException:
        lam.update_function_code(
            FunctionName=name, **s3_code, **({"Architectures": architectures} if architectures else {})
        )
        created = lam.update_function_configuration(FunctionName=name, **configuration)
    return Deployed(name, {"Arn": created["FunctionArn"]})


# --- Step Functions -------------------------------------------------------------------------------


def state_machine(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::StepFunctions::StateMachine: the definition (inline, string or S3) with ``DefinitionSubstitutions``
    applied as CloudFormation does; the sandbox then localizes it for moto's interpreter."""
    from rootwatch_sandbox.runtime.definitions import localize_definition

    sfn = ctx.client("stepfunctions")
    name = props.get("StateMachineName") or ctx.generated_name(logical_id, 80)
    if "Definition" in props:
        text = json.dumps(props["Definition"])
    elif "DefinitionString" in props:
        text = str(props["DefinitionString"])
    elif "DefinitionS3Location" in props:
        where = props["DefinitionS3Location"]
        extra = {"VersionId": where["Version"]} if "Version" in where else {}
        text = ctx.client("s3").get_object(Bucket=where["Bucket"], Key=where["Key"], **extra)["Body"].read().decode()
    else:
        raise TemplateError(f"{logical_id}: no Definition, DefinitionString or DefinitionS3Location")
    for key, value in (props.get("DefinitionSubstitutions") or {}).items():
        text = text.replace("${" + key + "}", str(value))
    ctx.definitions[logical_id] = text
    definition = json.dumps(localize_definition(text))
    optional: dict[str, Any] = {}
    if "LoggingConfiguration" in props:
        logging = props["LoggingConfiguration"]
        optional["loggingConfiguration"] = {
            "level": logging.get("Level", "OFF"),
            "includeExecutionData": bool(logging.get("IncludeExecutionData", False)),
            "destinations": [
                {"cloudWatchLogsLogGroup": {"logGroupArn": d["CloudWatchLogsLogGroup"]["LogGroupArn"]}}
                for d in logging.get("Destinations", [])
            ],
        }
    if "TracingConfiguration" in props:
        optional["tracingConfiguration"] = {"enabled": bool(props["TracingConfiguration"].get("Enabled"))}
    arn = ctx.arn("states", f"stateMachine:{name}")
    try:
        sfn.describe_state_machine(stateMachineArn=arn)
    except sfn.exceptions.StateMachineDoesNotExist:
        arn = sfn.create_state_machine(
            name=name,
            definition=definition,
            roleArn=props["RoleArn"],
            type=props.get("StateMachineType", "STANDARD"),
            **optional,
        )["stateMachineArn"]
    else:
        sfn.update_state_machine(stateMachineArn=arn, definition=definition, roleArn=props["RoleArn"], **optional)
    return Deployed(arn, {"Arn": arn, "Name": name})


# --- DynamoDB -------------------------------------------------------------------------------------


def table(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::DynamoDB::Table: keys, billing, indexes, streams, SSE, TTL. An existing table keeps its items."""
    dynamodb = ctx.client("dynamodb")
    name = props.get("TableName") or ctx.generated_name(logical_id, 255)
    create = {
        k: props[k]
        for k in (
            "KeySchema",
            "AttributeDefinitions",
            "BillingMode",
            "ProvisionedThroughput",
            "GlobalSecondaryIndexes",
            "LocalSecondaryIndexes",
            "StreamSpecification",
            "SSESpecification",
            "DeletionProtectionEnabled",
        )
        if k in props
    }
    if "SSESpecification" in create:
        sse = create["SSESpecification"]
        create["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled"))} | (
            {"SSEType": sse["SSEType"], "KMSMasterKeyId": sse["KMSMasterKeyId"]} if "KMSMasterKeyId" in sse else {}
        )
    try:
        description = dynamodb.create_table(TableName=name, **create)["TableDescription"]
    except dynamodb.exceptions.ResourceInUseException:
        description = dynamodb.describe_table(TableName=name)["Table"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        current = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        enabled = current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
        if enabled != bool(ttl.get("Enabled")) or current.get("AttributeName") != ttl.get("AttributeName"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": bool(ttl["Enabled"]), "AttributeName": ttl["AttributeName"]},
            )
    pitr = props.get("PointInTimeRecoverySpecification")
    if pitr:
        dynamodb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": bool(pitr.get("PointInTimeRecoveryEnabled"))
            },
        )
    return Deployed(name, {"Arn": description["TableArn"], "StreamArn": description.get("LatestStreamArn")})


# --- S3 -------------------------------------------------------------------------------------------


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {"ID": rule.get("Id", ""), "Status": rule["Status"]}
    converted["Filter"] = {"Prefix": rule.get("Prefix", "")}
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        converted["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
        }
    if "AbortIncompleteMultipartUpload" in rule:
        converted["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        }
    return converted


def bucket(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::S3::Bucket: versioning, encryption, public access block, ownership, lifecycle, access logging.
    An existing bucket keeps its objects."""
    s3 = ctx.client("s3")
    name = props.get("BucketName") or ctx.generated_name(logical_id, 63, lowercase=True)
    create: dict[str, Any] = {"Bucket": name}
    if ctx.region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        s3.create_bucket(**create)
    if "VersioningConfiguration" in props:
        s3.put_bucket_versioning(
            Bucket=name, VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]}
        )
    if "BucketEncryption" in props:
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                    | ({"BucketKeyEnabled": bool(rule["BucketKeyEnabled"])} if "BucketKeyEnabled" in rule else {})
                    for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                ]
            },
        )
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
    if "OwnershipControls" in props:
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
    if "LifecycleConfiguration" in props:
        s3.put_bucket_lifecycle_configuration(
            Bucket=name,
            LifecycleConfiguration={
                "Rules": [_lifecycle_rule(rule) for rule in props["LifecycleConfiguration"]["Rules"]]
            },
        )
    if "LoggingConfiguration" in props:
        # Last: moto (like S3) wants the target bucket's policy to admit log delivery first, and CDK's target
        # policy names this bucket, so CloudFormation's dependency order cannot put the policy before it.
        logging = props["LoggingConfiguration"]
        status = {
            "LoggingEnabled": {
                "TargetBucket": logging.get("DestinationBucketName", name),
                "TargetPrefix": logging.get("LogFilePrefix", ""),
            }
        }
        ctx.deferred.append(lambda: s3.put_bucket_logging(Bucket=name, BucketLoggingStatus=status))
    return Deployed(
        name,
        {
            "Arn": f"arn:{ctx.partition}:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{ctx.region}.amazonaws.com",
        },
    )


def bucket_policy(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::S3::BucketPolicy: stored on the bucket (``get_bucket_policy`` answers it; not evaluated)."""
    ctx.client("s3").put_bucket_policy(Bucket=props["Bucket"], Policy=_json(props["PolicyDocument"]))
    return Deployed(str(props["Bucket"]))


# --- KMS ------------------------------------------------------------------------------------------


def _find_key(kms: Any, stack_name: str, logical_id: str) -> str | None:
    for page in kms.get_paginator("list_keys").paginate():
        for key in page["Keys"]:
            tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])}
            if tags.get(STACK_TAG) == stack_name and tags.get(LOGICAL_ID_TAG) == logical_id:
                return str(key["KeyId"])
    return None


def key(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::KMS::Key: description, key policy, rotation. Found again on redeploy by the sandbox's tags."""
    kms = ctx.client("kms")
    key_policy = _json(props["KeyPolicy"]) if "KeyPolicy" in props else None
    key_id = _find_key(kms, ctx.stack_name, logical_id)
    if key_id is None:
        key_id = kms.create_key(
            Description=props.get("Description", ""),
            KeyUsage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
            KeySpec=props.get("KeySpec", "SYMMETRIC_DEFAULT"),
            Tags=[
                {"TagKey": STACK_TAG, "TagValue": ctx.stack_name},
                {"TagKey": LOGICAL_ID_TAG, "TagValue": logical_id},
            ],
            **({"Policy": key_policy} if key_policy else {}),
        )["KeyMetadata"]["KeyId"]
    else:
        kms.update_key_description(KeyId=key_id, Description=props.get("Description", ""))
        if key_policy:
            kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=key_policy)
    if props.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=key_id)
    return Deployed(key_id, {"Arn": ctx.arn("kms", f"key/{key_id}"), "KeyId": key_id})


# --- SNS ------------------------------------------------------------------------------------------

_TOPIC_ATTRIBUTES = ("DisplayName", "KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication", "TracingConfig")


def topic(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::SNS::Topic: display name, KMS key and the other attributes (set again on redeploy)."""
    sns = ctx.client("sns")
    name = props.get("TopicName") or ctx.generated_name(logical_id, 256)
    attributes = _strings({k: props[k] for k in _TOPIC_ATTRIBUTES if k in props})
    arn = sns.create_topic(Name=name)["TopicArn"]
    for attribute, value in attributes.items():
        sns.set_topic_attributes(TopicArn=arn, AttributeName=attribute, AttributeValue=value)
    return Deployed(arn, {"TopicArn": arn, "TopicName": name})


def topic_policy(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::SNS::TopicPolicy: the ``Policy`` attribute of each topic (stored; not evaluated)."""
    sns = ctx.client("sns")
    for arn in props["Topics"]:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=_json(props["PolicyDocument"]))
    return Deployed(ctx.generated_name(logical_id, 256))


def subscription(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::SNS::Subscription: subscribed once (a redeploy finds the same protocol and endpoint)."""
    sns = ctx.client("sns")
    topic_arn, protocol, endpoint = props["TopicArn"], props["Protocol"], props.get("Endpoint")
    pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
    for page in pages:
        for existing in page["Subscriptions"]:
            if existing["Protocol"] == protocol and existing.get("Endpoint") == endpoint:
                return Deployed(existing["SubscriptionArn"])
    attributes = _strings(
        {
            k: props[k]
            for k in ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy")
            if k in props
        }
    )
    arn = sns.subscribe(
        TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint, Attributes=attributes, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    return Deployed(arn)


# --- SQS ------------------------------------------------------------------------------------------

_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "RedrivePolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
)


def queue(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::SQS::Queue: its attributes (set again on redeploy)."""
    sqs = ctx.client("sqs")
    fifo = bool(props.get("FifoQueue"))
    name = props.get("QueueName") or ctx.generated_name(logical_id, 75 if fifo else 80) + (".fifo" if fifo else "")
    attributes = _strings({k: props[k] for k in _QUEUE_ATTRIBUTES if k in props})
    try:
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    except sqs.exceptions.QueueNameExists:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        if attributes:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    arn = ctx.arn("sqs", name)
    return Deployed(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})


def queue_policy(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::SQS::QueuePolicy: the ``Policy`` attribute of each queue (stored; not evaluated)."""
    sqs = ctx.client("sqs")
    for url in props["Queues"]:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _json(props["PolicyDocument"])})
    return Deployed(ctx.generated_name(logical_id, 256))


# --- CloudWatch Logs ------------------------------------------------------------------------------


def log_group(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::Logs::LogGroup: the group and its retention."""
    logs = ctx.client("logs")
    name = props.get("LogGroupName") or ctx.generated_name(logical_id, 512)
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=name)
    if "RetentionInDays" in props:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
    return Deployed(name, {"Arn": ctx.arn("logs", f"log-group:{name}:*")})


# --- EventBridge, event source mappings, StackSets (root-credential events; rootwatch_sandbox.realtime) ---------


def event_bus(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::Events::EventBus: a custom bus (``Ref`` its name)."""
    events = ctx.client("events")
    name = props["Name"]
    with contextlib.suppress(events.exceptions.ResourceAlreadyExistsException):
        events.create_event_bus(Name=name)
    arn = ctx.arn("events", f"event-bus/{name}")
    return Deployed(name, {"Arn": arn, "Name": name})


def event_bus_policy(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::Events::EventBusPolicy: recorded as its statement id (not evaluated: moto does not check PutEvents)."""
    return Deployed(str(props.get("StatementId") or ctx.generated_name(logical_id, 64)))


def event_rule(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::Events::Rule: the rule on its bus and its targets (moto delivers to SQS targets)."""
    events = ctx.client("events")
    name = props.get("Name") or ctx.generated_name(logical_id, 64)
    bus = str(props.get("EventBusName") or "default").rsplit("/", 1)[-1]
    rule: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
    if "EventPattern" in props:
        rule["EventPattern"] = _json(props["EventPattern"])
    if "ScheduleExpression" in props:
        rule["ScheduleExpression"] = props["ScheduleExpression"]
    if "Description" in props:
        rule["Description"] = props["Description"]
    events.put_rule(**rule)
    if props.get("Targets"):
        events.put_targets(Rule=name, EventBusName=bus, Targets=props["Targets"])
    resource = f"rule/{name}" if bus == "default" else f"rule/{bus}/{name}"
    return Deployed(name if bus == "default" else f"{bus}|{name}", {"Arn": ctx.arn("events", resource)})


def event_source_mapping(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::Lambda::EventSourceMapping (SQS): recorded, not created in moto; rootwatch_sandbox.realtime.drain
    invokes the function with the queue's messages (docs/sandbox.md)."""
    from rootwatch_sandbox import realtime

    source = str(props["EventSourceArn"])
    if ":sqs:" not in source:
        raise TemplateError(f"event source {source}: the sandbox emulates SQS event sources only")
    mapping_id = str(uuid.UUID(bytes=hashlib.sha256(f"{ctx.stack_name}/{logical_id}".encode()).digest()[:16]))
    realtime.record_mapping(
        realtime.MappingRecord(
            uuid=mapping_id,
            account=ctx.account,
            region=ctx.region,
            queue_arn=source,
            function_name=str(props["FunctionName"]).rsplit(":", 1)[-1],
            batch_size=int(props.get("BatchSize", 10)),
            enabled=bool(props.get("Enabled", True)),
        )
    )
    return Deployed(mapping_id, {"Id": mapping_id})


def stack_set(ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Deployed:
    """AWS::CloudFormation::StackSet (service-managed): its template, parameters and target OUs recorded; its
    stacks are not created, rootwatch_sandbox.realtime treats each account under a target OU as having them."""
    from rootwatch_sandbox import realtime

    name = props.get("StackSetName") or ctx.generated_name(logical_id, 128)
    template = props.get("TemplateBody")
    if template is None:
        raise TemplateError("the sandbox emulates StackSets with a TemplateBody only")
    realtime.record_stack_set(
        realtime.StackSetRecord(
            name=name,
            account=ctx.account,
            region=ctx.region,
            template=json.loads(template) if isinstance(template, str) else template,
            parameters={p["ParameterKey"]: str(p["ParameterValue"]) for p in props.get("Parameters", [])},
            target_ous=[
                ou
                for group in props.get("StackInstancesGroup", [])
                for ou in group.get("DeploymentTargets", {}).get("OrganizationalUnitIds", [])
            ],
            regions=[region for group in props.get("StackInstancesGroup", []) for region in group.get("Regions", [])],
        )
    )
    stack_set_id = f"{name}:{uuid.UUID(bytes=hashlib.sha256(f'{ctx.account}/{name}'.encode()).digest()[:16])}"
    return Deployed(stack_set_id, {"StackSetId": stack_set_id})


#: The resource types the sandbox emulates, and how. Any other type in a template is listed as not emulated.
HANDLERS: dict[str, Handler] = {
    "AWS::IAM::Role": role,
    "AWS::IAM::Policy": policy,
    "AWS::Lambda::Function": function,
    "AWS::StepFunctions::StateMachine": state_machine,
    "AWS::DynamoDB::Table": table,
    "AWS::S3::Bucket": bucket,
    "AWS::S3::BucketPolicy": bucket_policy,
    "AWS::KMS::Key": key,
    "AWS::SNS::Topic": topic,
    "AWS::SNS::TopicPolicy": topic_policy,
    "AWS::SNS::Subscription": subscription,
    "AWS::SQS::Queue": queue,
    "AWS::SQS::QueuePolicy": queue_policy,
    "AWS::Logs::LogGroup": log_group,
    "AWS::Events::EventBus": event_bus,
    "AWS::Events::EventBusPolicy": event_bus_policy,
    "AWS::Events::Rule": event_rule,
    "AWS::Lambda::EventSourceMapping": event_source_mapping,
    "AWS::CloudFormation::StackSet": stack_set,
}
