"""Workflow: the three Lambdas with their permissions, and the audit-run state machine.

The functions are made by infra/functions.py (LambdaFactory); this module gives each role what its
handler needs. The state machine is deployed from ``infra/statemachine/audit_run.asl.json``, the same
file the sandbox runs, through ``DefinitionBody.from_file`` and ``definition_substitutions``;
infra/definition.py checks the file at synth.

IAM is written out statement by statement (no ``grant_read_write`` helpers, no managed policies),
so that what each role may do is visible here and asserted in tests/infra.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from rootwatch.aws.exemption_store import EXEMPTION_PK
from rootwatch.domain.task_policies import TaskPolicy

from infra.alerting import Alerting
from infra.config import RootwatchConfig
from infra.definition import DEFINITION_FILE, load_definition, result_writer_prefixes
from infra.functions import (
    AUDIT,
    FINISH,
    PREPARE,
    REAUDIT,
    RUN_STEP_RESERVED_CONCURRENCY,
    LambdaFactory,
    audit_reserved_concurrency,
)
from infra.log_groups import encrypted_log_group
from infra.nag import acknowledge_wildcard_resources
from infra.storage import MANIFESTS_PREFIX, RESULTS_PREFIX, Storage, removal_policy

AUDIT_TASK_POLICY = TaskPolicy.IAM_AUDIT_ROOT_USER_CREDENTIALS


def assume_root_for_audit_statement(stack: cdk.Stack) -> iam.PolicyStatement:
    """sts:AssumeRoot on any member account's root user, ONLY with the audit task policy (AuditAccount's and the
    re-audit function's statement, infra/realtime.py)."""
    return iam.PolicyStatement(
        sid="AssumeRootForAuditOnly",
        actions=["sts:AssumeRoot"],
        resources=[member_roots(stack)],
        conditions={"StringEquals": {"sts:TaskPolicyArn": AUDIT_TASK_POLICY.arn}},
    )


def member_roots(stack: cdk.Stack) -> str:
    """The root user of any account (AssumeRoot's resource; the account is its TargetPrincipal)."""
    return f"arn:{stack.partition}:iam::*:root"


#: Why the AssumeRoot statement's wildcard account is acceptable (cdk-nag IAM5).
XRAY_WILDCARD_REASON = (
    "X-Ray PutTraceSegments/PutTelemetryRecords (added by CDK for active tracing) have no resource-level permissions."
)
ASSUME_ROOT_WILDCARD_REASON = (
    "The root user of any member account (the org changes; AssumeRoot takes the account as "
    "TargetPrincipal), and ONLY with the sts:TaskPolicyArn condition = IAMAuditRootUserCredentials."
)


def log_group_names(config: RootwatchConfig) -> list[str]:
    """The stack's log groups: one per function, and the state machine's (/aws/vendedlogs/ keeps the CloudWatch
    Logs resource policy small, AWS's advice for Step Functions)."""
    prefix = config.resource_prefix
    return [
        *(f"/aws/lambda/{prefix}-{spec.name}" for spec in (PREPARE, AUDIT, FINISH)),
        # The re-audit function's (infra/realtime.py), only with rootwatch:realtimeEnabled.
        *([f"/aws/lambda/{prefix}-{REAUDIT.name}"] if config.realtime_enabled else []),
        f"/aws/vendedlogs/states/{prefix}-audit-run",
    ]


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
            # The rules' thresholds (rootwatch.domain.findings.THRESHOLDS), read by FinishRun's alert.
            **config.threshold_environment(),
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

        # PrepareRun: read the org and walk its OU tree for each account's OU path (none of these actions
        # supports resource-level permissions), write the manifest, and record SKIPPED accounts in the status table.
        self.prepare.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadOrganization",
                actions=["organizations:DescribeOrganization", "iam:ListOrganizationsFeatures"],
                resources=["*"],
            )
        )
        self.prepare.add_to_role_policy(
            iam.PolicyStatement(
                sid="WalkOrganizationalUnits",
                actions=[
                    "organizations:ListRoots",
                    "organizations:ListOrganizationalUnitsForParent",
                    "organizations:ListAccountsForParent",
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
        # The exemptions added with `rootwatch exempt add`: one Query a run, of their own partition only.
        self.prepare.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadExemptions",
                actions=["dynamodb:Query"],
                resources=[table.table_arn],
                conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [EXEMPTION_PK]}},
            )
        )

        # AuditAccount: AssumeRoot with the audit task policy ONLY, then the status table.
        self.audit.add_to_role_policy(assume_root_for_audit_statement(stack))
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
        self._optional_deliveries(config)

        xray = XRAY_WILDCARD_REASON
        acknowledge_wildcard_resources(
            self.prepare.role,  # type: ignore[arg-type]
            ["*"],
            "organizations:DescribeOrganization, ListRoots, ListOrganizationalUnitsForParent, ListAccountsForParent "
            "and iam:ListOrganizationsFeatures support no resource-level permissions (Resource must be '*'). " + xray,
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
            [member_roots(stack)],
            ASSUME_ROOT_WILDCARD_REASON,
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

    def _optional_deliveries(self, config: RootwatchConfig) -> None:
        """Security Hub and EventBridge, each off unless its key is on: then FinishRun gets its variable and the
        one action it needs, on the one resource (docs/deploying.md, "Security Hub and EventBridge")."""
        stack = cdk.Stack.of(self)
        if config.security_hub_enabled:
            # The account's default product: BatchImportFindings accepts only findings whose AwsAccountId is the
            # caller's (docs/aws-behaviour.md#security-hub); the resource type is the product.
            product = (
                f"arn:{stack.partition}:securityhub:{stack.region}:{stack.account}:product/{stack.account}/default"
            )
            self.finish.add_environment("SECURITY_HUB_PRODUCT_ARN", product)
            self.finish.add_to_role_policy(
                iam.PolicyStatement(
                    sid="ImportSecurityHubFindings", actions=["securityhub:BatchImportFindings"], resources=[product]
                )
            )
        if config.event_bridge_enabled:
            bus = stack.format_arn(service="events", resource="event-bus", resource_name="default")
            self.finish.add_environment("EVENT_BUS_ARN", bus)
            self.finish.add_to_role_policy(
                iam.PolicyStatement(sid="PutChangeEvents", actions=["events:PutEvents"], resources=[bus])
            )

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
