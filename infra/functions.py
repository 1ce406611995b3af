"""The three rootwatch Lambda functions: what differs between them (FunctionSpec) and one factory.

LambdaFactory makes every function the same way (runtime, architecture, the Powertools layer, tracing,
JSON logs, the staged asset of infra/lambda_asset.py) with its own role that may only write its own
logs; what else each role may do is written out in infra/workflow.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.alerting import Alerting
from infra.checkov import skip_checkov
from infra.config import RootwatchConfig
from infra.lambda_asset import asset_exclude, has_bytecode, powertools_version, stage_asset
from infra.log_groups import encrypted_log_group

#: AWS's public SSM parameters naming the Powertools for AWS Lambda (Python) layer of each release
#: (the value is the layer version ARN in the deploying region): ``<prefix>/<arch>/python3.13/<version>``.
POWERTOOLS_SSM_PREFIX = "/aws/service/powertools/python"
LAMBDA_PYTHON = "python3.13"
#: The AuditAccount function's timeout: one attempt's longest run (see AUDIT below).
AUDIT_TIMEOUT_SECONDS = 20
#: PrepareRun's and FinishRun's reserved concurrency: each runs once a run, and one run at a time is the design;
#: 2 leaves room for a manual run started while the nightly one is finishing.
RUN_STEP_RESERVED_CONCURRENCY = 2


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

#: The re-audit function (infra/realtime.py, only with rootwatch:realtimeEnabled): audits the accounts of a batch of
#: root-credential-change events from the queue; up to REAUDIT_BATCH_SIZE accounts at AUDIT_TIMEOUT_SECONDS each.
REAUDIT_BATCH_SIZE = 10
REAUDIT = FunctionSpec(
    "Reaudit",
    "reaudit",
    "rootwatch.handlers.reaudit.handler",
    "Re-audits the accounts whose root credentials just changed (events from the realtime queue)",
    cdk.Duration.seconds(REAUDIT_BATCH_SIZE * AUDIT_TIMEOUT_SECONDS + 30),
    256,
)


def audit_reserved_concurrency(config: RootwatchConfig) -> int:
    """AuditAccount's reserved concurrency: the audits a run has in flight at most (children x batch size)."""
    return config.map_max_concurrency * config.map_batch_size


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
            "Never invoked asynchronously (Step Functions lambda:invoke; the re-audit: an SQS event source mapping): "
            "an async dead-letter queue would never receive anything. Failures go to the state machine's "
            "Retry/Catch and the run's summary and alert, or back to SQS and its dead-letter queue.",
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
