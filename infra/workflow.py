"""Workflow: the three Lambdas (one factory) and the state machine (from THE definition file).

The state machine is deployed from ``infra/statemachine/audit_run.asl.json``, the same
file the sandbox runs, through ``DefinitionBody.from_file`` and ``definition_substitutions``. There
is no second definition: this module only checks that the file exists, has the agreed
placeholders and is valid JSON once they are substituted, so a broken file fails synth with one
clear line instead of a failed deployment.

IAM is written out statement by statement (no ``grant_read_write`` helpers, no managed policies),
so that what each role may do is visible here and asserted in tests/infra.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from rootwatch.domain.task_policies import TaskPolicy

from infra.alerting import Alerting
from infra.checkov import skip_checkov
from infra.config import LOG_RETENTION_DAYS, RootwatchConfig
from infra.lambda_asset import asset_exclude, has_bytecode, powertools_version, stage_asset
from infra.storage import MANIFESTS_PREFIX, MAP_RESULTS_PREFIX, RESULTS_PREFIX, Storage, removal_policy

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDAS_DIR = REPO_ROOT / "lambdas"
DEFINITION_FILE = REPO_ROOT / "infra" / "statemachine" / "audit_run.asl.json"
DEFINITION_PLACEHOLDERS = (
    "PrepareRunFunctionArn",
    "AuditAccountFunctionArn",
    "FinishRunFunctionArn",
    "ResultsBucket",
    "MaxConcurrency",
    "MaxItemsPerBatch",
)

#: AWS's public SSM parameters naming the Powertools for AWS Lambda (Python) layer of each release
#: (the value is the layer version ARN in the deploying region): ``<prefix>/<arch>/python3.13/<version>``.
POWERTOOLS_SSM_PREFIX = "/aws/service/powertools/python"
LAMBDA_PYTHON = "python3.13"
AUDIT_TASK_POLICY = TaskPolicy.IAM_AUDIT_ROOT_USER_CREDENTIALS
#: The AuditAccount function's timeout: one attempt's longest run (see AUDIT below).
AUDIT_TIMEOUT_SECONDS = 20
#: An EXPRESS execution's hard limit; a batch's child must end well inside it.
EXPRESS_LIMIT_SECONDS = 300
#: PrepareRun's and FinishRun's reserved concurrency: each runs once a run, and one run at a time is the design;
#: 2 leaves room for a manual run started while the nightly one is finishing.
RUN_STEP_RESERVED_CONCURRENCY = 2


class DefinitionError(RuntimeError):
    """The state machine definition file is missing or malformed (one line, names the file)."""


def load_definition(path: Path | None = None) -> dict[str, Any]:
    """Read the definition, check its placeholders, and return it parsed with sample substitutions."""
    path = path or DEFINITION_FILE
    if not path.is_file():
        shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
        raise DefinitionError(f"state machine definition {shown} is missing (the pipeline owns it)")
    text = path.read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{(\w+)\}", text))
    unknown = used - set(DEFINITION_PLACEHOLDERS)
    if unknown:
        raise DefinitionError(f"{path.name}: unknown placeholders {sorted(unknown)}; allowed {DEFINITION_PLACEHOLDERS}")
    missing = [name for name in DEFINITION_PLACEHOLDERS if name not in used]
    if missing:
        raise DefinitionError(
            f"{path.name}: placeholders {missing} are not used; the stack's values would not reach it"
        )
    numeric = ("MaxConcurrency", "MaxItemsPerBatch")
    samples = {name: "1" if name in numeric else f"sample-{name}" for name in DEFINITION_PLACEHOLDERS}
    substituted = re.sub(r"\$\{(\w+)\}", lambda m: samples[m.group(1)], text)
    try:
        return json.loads(substituted)
    except json.JSONDecodeError as exc:
        raise DefinitionError(f"{path.name}: not valid JSON after substitution: {exc}") from None


def result_writer_prefixes(definition: dict[str, Any]) -> list[str]:
    """The S3 prefixes the definition's Distributed Map ResultWriters write to (may be empty)."""
    prefixes: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            writer = node.get("ResultWriter")
            if isinstance(writer, dict):
                args = writer.get("Parameters") or writer.get("Arguments") or writer.get("WriterConfig") or {}
                prefix = args.get("Prefix") if isinstance(args, dict) else None
                prefixes.append(prefix.rstrip("/") + "/" if isinstance(prefix, str) else MAP_RESULTS_PREFIX)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(definition)
    return sorted(set(prefixes))


@dataclass(frozen=True)
class FunctionSpec:
    """What differs between the three functions."""

    construct_id: str
    name: str
    handler: str
    description: str
    timeout: cdk.Duration
    memory_mb: int


PREPARE = FunctionSpec(
    "PrepareRun",
    "prepare-run",
    "rootwatch.handlers.prepare_run.handler",
    "Checks the IAM org features, lists member accounts, writes the run manifest",
    cdk.Duration.minutes(5),
    512,
)
AUDIT = FunctionSpec(
    "AuditAccount",
    "audit-account",
    "rootwatch.handlers.audit_account.handler",
    "Audits one member account's root credentials via sts:AssumeRoot (IAMAuditRootUserCredentials)",
    # Room for botocore's own retries (3 attempts, <= 3 s of backoff a call) on AssumeRoot and each IAM call
    # to run out and raise ThrottledError, which the state machine retries; a timeout would not be retried.
    # Short enough that a batch's Express child ends inside 5 minutes whatever happens (docs/pipeline.md,
    # "A batch's worst case"; tests/infra/test_definition_checks.py computes it).
    cdk.Duration.seconds(AUDIT_TIMEOUT_SECONDS),
    256,
)
FINISH = FunctionSpec(
    "FinishRun",
    "finish-run",
    "rootwatch.handlers.finish_run.handler",
    "Reconciles the run, writes the results object, sends the alert",
    cdk.Duration.minutes(10),
    1024,
)


_RETENTION_NAMES = (
    *("ONE_DAY", "THREE_DAYS", "FIVE_DAYS", "ONE_WEEK", "TWO_WEEKS", "ONE_MONTH", "TWO_MONTHS", "THREE_MONTHS"),
    *("FOUR_MONTHS", "FIVE_MONTHS", "SIX_MONTHS", "ONE_YEAR", "THIRTEEN_MONTHS", "EIGHTEEN_MONTHS", "TWO_YEARS"),
    *("THREE_YEARS", "FIVE_YEARS", "SIX_YEARS", "SEVEN_YEARS", "EIGHT_YEARS", "NINE_YEARS", "TEN_YEARS"),
)


def log_retention(days: int) -> logs.RetentionDays:
    """The CDK enum member for a retention in days (config has already checked it is a valid value)."""
    return getattr(logs.RetentionDays, dict(zip(LOG_RETENTION_DAYS, _RETENTION_NAMES, strict=True))[days])


def acknowledge_wildcard_resources(construct: Construct, resources: list[str], reason: str) -> None:
    """Acknowledge cdk-nag IAM5 for exactly these wildcard resources on ``construct`` (not IAM5 at large)."""
    stack = cdk.Stack.of(construct)
    for resource in resources:
        shown = _nag_resource_form(stack, resource)
        cdk.Validations.of(construct).acknowledge(
            cdk.Acknowledgment(id=f"AwsSolutions-IAM5[Resource::{shown}]", reason=reason)
        )


def _nag_resource_form(stack: cdk.Stack, resource: str) -> str:
    """How cdk-nag prints a resource: Fn::GetAtt as ``<LogicalId.Attr>``, Ref as ``<LogicalId>``, joined."""
    resolved = stack.resolve(resource)

    def render(value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            return f"<{logical_id}.{attribute}>"
        if isinstance(value, dict) and "Ref" in value:
            return f"<{value['Ref']}>"
        if isinstance(value, dict) and "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(render(part) for part in parts)
        raise ValueError(f"cannot render {value!r} for a cdk-nag acknowledgement")

    return render(resolved)


def audit_reserved_concurrency(config: RootwatchConfig) -> int:
    """AuditAccount's reserved concurrency: the audits a run has in flight at most (children x batch size)."""
    return config.map_max_concurrency * config.map_batch_size


def log_group_names(config: RootwatchConfig) -> list[str]:
    """The stack's log groups: one per function, and the state machine's (/aws/vendedlogs/ keeps the CloudWatch
    Logs resource policy small, AWS's advice for Step Functions)."""
    prefix = config.resource_prefix
    return [
        *(f"/aws/lambda/{prefix}-{spec.name}" for spec in (PREPARE, AUDIT, FINISH)),
        f"/aws/vendedlogs/states/{prefix}-audit-run",
    ]


def encrypted_log_group(
    scope: Construct, construct_id: str, name: str, config: RootwatchConfig, alerting: Alerting
) -> logs.LogGroup:
    """A log group with the configured retention, encrypted with the stack's key (the logs name accounts and
    e-mails); Workflow lets CloudWatch Logs use the key for the stack's log groups only (log_group_names)."""
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        retention=log_retention(config.log_retention_days),
        encryption_key=alerting.key,
        removal_policy=removal_policy(config),
    )


def powertools_layer_parameter(architecture: str, version: str | None = None) -> str:
    """The public SSM parameter whose value is the Powertools layer ARN for this architecture and release
    (``version`` defaults to the aws-lambda-powertools pin in requirements.txt)."""
    return f"{POWERTOOLS_SSM_PREFIX}/{architecture}/{LAMBDA_PYTHON}/{version or powertools_version()}"


class LambdaFactory(Construct):
    """Makes every rootwatch function the same way: runtime, architecture, layer, tracing, JSON logs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: RootwatchConfig,
        environment: dict[str, str],
        alerting: Alerting,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._environment = environment
        self._alerting = alerting
        # rootwatch's Lambda code and the pinned boto3/botocore, staged from this interpreter (infra/lambda_asset.py).
        staged = stage_asset()
        self.code = lambda_.Code.from_asset(str(staged), exclude=asset_exclude())
        if not has_bytecode(staged):
            cdk.Annotations.of(self).add_warning_v2(
                "rootwatch:asset-without-bytecode",
                "no python3.13 on this host (set ROOTWATCH_LAMBDA_PYTHON): the Lambda asset ships botocore as "
                "source only, so every cold start compiles it (about +0.3 s)",
            )
        self.architecture = (
            lambda_.Architecture.ARM_64 if config.lambda_architecture == "arm64" else lambda_.Architecture.X86_64
        )
        # The layer ARN is read at deploy time from AWS's public parameter for the pinned release (a CloudFormation
        # parameter of type AWS::SSM::Parameter::Value<String>): no guessed layer version, and synth stays offline.
        self.layer = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "Powertools",
            ssm.StringParameter.value_for_string_parameter(
                self, powertools_layer_parameter(config.lambda_architecture)
            ),
        )

    def create(self, spec: FunctionSpec, *, reserved_concurrency: int) -> lambda_.Function:
        """A function for ``spec`` with its own role (logs only), its own encrypted log group with retention, and
        a reserved concurrency (a bound on what it can take from the account, and a guarantee it gets that)."""
        config = self._config
        name = f"{config.resource_prefix}-{spec.name}"
        log_group = encrypted_log_group(self, f"{spec.construct_id}Logs", f"/aws/lambda/{name}", config, self._alerting)
        role = iam.Role(
            self,
            f"{spec.construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{name}: least privilege, see infra/workflow.py",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )
        function = lambda_.Function(
            self,
            spec.construct_id,
            function_name=name,
            description=spec.description,
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=self.architecture,
            handler=spec.handler,
            code=self.code,
            layers=[self.layer],
            role=role,
            timeout=spec.timeout,
            memory_size=spec.memory_mb,
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=getattr(lambda_.ApplicationLogLevel, config.log_level),
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            log_group=log_group,
            environment=self._environment,
            reserved_concurrent_executions=reserved_concurrency,
        )
        skip_checkov(
            function,
            "CKV_AWS_116",
            "Invoked only synchronously (Step Functions lambda:invoke): an async dead-letter queue would never "
            "receive anything. Failures go to the state machine's Retry/Catch and into the run's summary and alert.",
        )
        skip_checkov(
            function,
            "CKV_AWS_117",
            "Calls only AWS APIs (STS, IAM, Organizations, DynamoDB, S3, SNS) over TLS with IAM auth and reaches "
            "nothing private: a VPC would add NAT or 6 interface endpoints (~$45+ a month) and a failure mode, and "
            "protect nothing.",
        )
        skip_checkov(
            function,
            "CKV_AWS_173",
            "The environment holds no secrets: resource names and ARNs, the region, log level, retry settings and "
            "the exemption list (account ids). Lambda encrypts it at rest with an AWS-owned key; a CMK would add "
            "a KMS call per cold start and protect nothing.",
        )
        cdk.Validations.of(function).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-L1",
                reason="Pinned to python3.13, the runtime the code is tested for and whose Powertools layer "
                "(AWSLambdaPowertoolsPythonV3-python313, the pinned release) it uses; supported until 2029.",
            )
        )
        return function


class Workflow(Construct):
    """The PrepareRun, AuditAccount and FinishRun functions and the audit-run state machine."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: RootwatchConfig,
        storage: Storage,
        alerting: Alerting,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self._alerting = alerting
        alerting.allow_log_groups(log_group_names(config))
        definition = load_definition()
        table, bucket = storage.table, storage.bucket

        environment = {
            "TABLE_NAME": table.table_name,
            "BUCKET_NAME": bucket.bucket_name,
            "TOPIC_ARN": alerting.topic.topic_arn,
            "AUDIT_REGION": config.audit_region or stack.region,
            "HISTORY_TTL_DAYS": str(config.history_retention_days),
            "ROOTWATCH_EXEMPTIONS": config.exemptions_json,
            "POWERTOOLS_SERVICE_NAME": "rootwatch",
            "POWERTOOLS_METRICS_NAMESPACE": "rootwatch",
            "POWERTOOLS_LOG_LEVEL": config.log_level,
            "POWERTOOLS_METRICS_DISABLED": "false" if config.metrics_enabled else "true",
            # botocore's own retries before a throttle reaches the state machine's Retry (handlers/settings.py).
            "AWS_RETRY_MODE": config.sdk_retry_mode,
            "AWS_MAX_ATTEMPTS": str(config.sdk_max_attempts),
            # Belt and braces: the global STS endpoint does not serve AssumeRoot (docs/aws-behaviour.md).
            "AWS_STS_REGIONAL_ENDPOINTS": "regional",
        }
        factory = LambdaFactory(self, "Functions", config=config, environment=environment, alerting=alerting)
        self.factory = factory
        self.prepare = factory.create(PREPARE, reserved_concurrency=RUN_STEP_RESERVED_CONCURRENCY)
        # The most audits a run has in flight: Map children x accounts a child audits at once. Reserving exactly
        # that means a run can never starve the account's other functions, and is never throttled by its own
        # reservation (docs/deploying.md, "Reserved concurrency").
        self.audit = factory.create(AUDIT, reserved_concurrency=audit_reserved_concurrency(config))
        self.finish = factory.create(FINISH, reserved_concurrency=RUN_STEP_RESERVED_CONCURRENCY)

        def objects(prefix: str) -> str:
            return bucket.arn_for_objects(prefix + "*")

        # PrepareRun: read the org (none of these three actions supports resource-level permissions),
        # write the manifest, and record SKIPPED accounts in the status table.
        self.prepare.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadOrganization",
                actions=[
                    "organizations:ListAccounts",
                    "organizations:DescribeOrganization",
                    "iam:ListOrganizationsFeatures",
                ],
                resources=["*"],
            )
        )
        self.prepare.add_to_role_policy(
            iam.PolicyStatement(sid="WriteManifest", actions=["s3:PutObject"], resources=[objects(MANIFESTS_PREFIX)])
        )
        self.prepare.add_to_role_policy(
            iam.PolicyStatement(
                sid="RecordSkippedAccounts",
                # GetItem: an account with no sharded latest item yet reads its legacy `LATEST` item once.
                actions=["dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:GetItem"],
                resources=[table.table_arn],
            )
        )

        # AuditAccount: AssumeRoot with the audit task policy ONLY, then the status table.
        self.audit.add_to_role_policy(
            iam.PolicyStatement(
                sid="AssumeRootForAuditOnly",
                actions=["sts:AssumeRoot"],
                resources=[f"arn:{stack.partition}:iam::*:root"],
                conditions={"StringEquals": {"sts:TaskPolicyArn": AUDIT_TASK_POLICY.arn}},
            )
        )
        self.audit.add_to_role_policy(
            iam.PolicyStatement(
                sid="RecordAuditState",
                # GetItem: an account with no sharded latest item yet reads its legacy `LATEST` item once.
                actions=["dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:GetItem"],
                resources=[table.table_arn],
            )
        )

        # FinishRun: read the manifest and the run's records, write results/ only, publish the alert.
        self.finish.add_to_role_policy(
            iam.PolicyStatement(sid="ReadManifest", actions=["s3:GetObject"], resources=[objects(MANIFESTS_PREFIX)])
        )
        self.finish.add_to_role_policy(
            iam.PolicyStatement(
                sid="WriteRunResults",
                actions=["s3:PutObject"],
                resources=[objects(RESULTS_PREFIX)],
            )
        )
        self.finish.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReconcileRunAndRecordSummary",
                # No DeleteItem: the alert marker is written after the publish and never removed.
                actions=["dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                resources=[table.table_arn],
            )
        )
        # When PrepareRun failed, FinishRun names the organization in the run alert (services/run.py
        # organization_of): DescribeOrganization, which has no resource-level permissions.
        self.finish.add_to_role_policy(
            iam.PolicyStatement(
                sid="NameOrganizationInRunAlert",
                actions=["organizations:DescribeOrganization"],
                resources=["*"],
            )
        )
        alerting.grant_publish(self.finish)

        xray = (
            "X-Ray PutTraceSegments/PutTelemetryRecords (added by CDK for active tracing) "
            "have no resource-level permissions."
        )
        acknowledge_wildcard_resources(
            self.prepare.role,  # type: ignore[arg-type]
            ["*"],
            "organizations:ListAccounts, organizations:DescribeOrganization and iam:ListOrganizationsFeatures "
            "support no resource-level permissions (Resource must be '*'). " + xray,
        )
        acknowledge_wildcard_resources(
            self.prepare.role,  # type: ignore[arg-type]
            [objects(MANIFESTS_PREFIX)],
            "PrepareRun writes one new manifest per run, manifests/<run_id>.json; it can write nothing else.",
        )
        acknowledge_wildcard_resources(
            self.audit.role,  # type: ignore[arg-type]
            ["*"],
            xray,
        )
        acknowledge_wildcard_resources(
            self.audit.role,  # type: ignore[arg-type]
            [f"arn:{stack.partition}:iam::*:root"],
            "The root user of any member account (the org changes; AssumeRoot takes the account as "
            "TargetPrincipal), and ONLY with the sts:TaskPolicyArn condition = IAMAuditRootUserCredentials.",
        )
        acknowledge_wildcard_resources(
            self.finish.role,  # type: ignore[arg-type]
            ["*"],
            "organizations:DescribeOrganization (naming the organization in the alert of a run whose PrepareRun "
            "failed) supports no resource-level permissions (Resource must be '*'). " + xray,
        )
        acknowledge_wildcard_resources(
            self.finish.role,  # type: ignore[arg-type]
            [objects(MANIFESTS_PREFIX), objects(RESULTS_PREFIX)],
            "FinishRun reads the run's manifest (manifests/<run_id>.json) and writes the run's one object, "
            "results/dt=<day>/<run_id>.json.gz; keys are new each run, so the grant is per prefix.",
        )

        self.state_machine = self._state_machine(config, storage, definition)

    def _state_machine(self, config: RootwatchConfig, storage: Storage, definition: dict[str, Any]) -> sfn.StateMachine:
        stack = cdk.Stack.of(self)
        name = f"{config.resource_prefix}-audit-run"
        functions = (self.prepare, self.audit, self.finish)
        log_group = encrypted_log_group(
            self, "StateMachineLogs", f"/aws/vendedlogs/states/{name}", config, self._alerting
        )
        role = iam.Role(
            self,
            "StateMachineRole",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=f"{name}: exactly what a Distributed Map needs, see infra/workflow.py",
        )
        own_arn = stack.format_arn(
            service="states", resource="stateMachine", resource_name=name, arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME
        )
        own_executions = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{name}/*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="InvokeOwnFunctions",
                actions=["lambda:InvokeFunction"],
                resources=[fn.function_arn for fn in functions],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(sid="StartChildExecutions", actions=["states:StartExecution"], resources=[own_arn])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ManageChildExecutions",
                actions=["states:DescribeExecution", "states:StopExecution"],
                resources=[own_executions],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadManifest",
                actions=["s3:GetObject"],
                resources=[storage.bucket.arn_for_objects(MANIFESTS_PREFIX + "*")],
            )
        )
        writer_prefixes = result_writer_prefixes(definition)
        if writer_prefixes:
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="WriteMapResults",
                    actions=["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"],
                    resources=[storage.bucket.arn_for_objects(prefix + "*") for prefix in writer_prefixes],
                )
            )
        state_machine = sfn.StateMachine(
            self,
            "AuditRun",
            state_machine_name=name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_file(str(DEFINITION_FILE)),
            definition_substitutions={
                "PrepareRunFunctionArn": self.prepare.function_arn,
                "AuditAccountFunctionArn": self.audit.function_arn,
                "FinishRunFunctionArn": self.finish.function_arn,
                "ResultsBucket": storage.bucket.bucket_name,
                "MaxConcurrency": str(config.map_max_concurrency),
                "MaxItemsPerBatch": str(config.map_batch_size),
            },
            role=role,
            # ERROR without execution data: failures only, and no account names or e-mails in the logs. The
            # Map Run keeps every child's status, and the run's summary and alert name what failed. At ALL with
            # execution data this log was the largest variable cost (~7 KB an account a night, docs/cost.md).
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ERROR, include_execution_data=False),
            tracing_enabled=True,
            # No `timeout=` here: with a definition file CDK silently drops it. The run timeout is the
            # definition's own top-level TimeoutSeconds (4 h), which the run-timed-out alarm watches.
            removal_policy=removal_policy(config),
        )
        cdk.Validations.of(state_machine).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-SF1",
                reason="Logs ERROR events without execution data on purpose: at ALL with execution data the log "
                "was the largest variable cost (~7 KB an account a night) and held account e-mails. Each child's "
                "status stays in the Map Run, each account's outcome in the run's summary, alert and S3 results.",
            )
        )
        acknowledge_wildcard_resources(
            role,
            ["*"],
            "Log delivery (logs:*LogDelivery, logs:PutResourcePolicy, ...) and X-Ray (PutTraceSegments, ...) "
            "have no resource-level permissions; CDK grants them on '*' for state machine logging and tracing.",
        )
        acknowledge_wildcard_resources(
            role,
            [own_executions],
            "A Distributed Map's child executions get ARNs AWS generates under this state machine's own "
            "execution namespace; Describe/StopExecution are scoped to execution:<this state machine>/*.",
        )
        acknowledge_wildcard_resources(
            role,
            [storage.bucket.arn_for_objects(prefix + "*") for prefix in (MANIFESTS_PREFIX, *writer_prefixes)],
            "The Map reads the run's manifest (manifests/<run_id>.json, a new key each run) and, if the "
            "definition has a ResultWriter, writes under its own prefix only.",
        )
        return state_machine
