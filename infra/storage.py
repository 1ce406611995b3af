"""Storage: the status table (DynamoDB) and the results bucket (S3), plus the access-log bucket.

S3 layout (docs/contracts.md): ``results/dt=YYYY-MM-DD/<run_id>.json.gz`` (Athena's table
location, written by FinishRun), ``manifests/<run_id>.json`` (the Map's input, written by PrepareRun)
and ``map-results/`` (the Distributed Map's ResultWriter output). Run summaries live in DynamoDB.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.checkov import skip_checkov
from infra.config import RootwatchConfig

RESULTS_PREFIX = "results/"
MANIFESTS_PREFIX = "manifests/"
MAP_RESULTS_PREFIX = "map-results/"

#: The status table's key schema and TTL attribute: the contract with rootwatch.aws.status_store,
#: which the sandbox deploys from this stack's synthesized template (rootwatch_sandbox.cloudformation).
TABLE_PARTITION_KEY = "pk"
TABLE_SORT_KEY = "sk"
TABLE_TTL_ATTRIBUTE = "expires_at"


def removal_policy(config: RootwatchConfig) -> cdk.RemovalPolicy:
    """The CloudFormation removal policy for stateful resources, from config."""
    return cdk.RemovalPolicy.DESTROY if config.removal_policy == "destroy" else cdk.RemovalPolicy.RETAIN


def private_bucket(
    scope: Construct,
    construct_id: str,
    *,
    removal: cdk.RemovalPolicy,
    lifecycle_rules: list[s3.LifecycleRule],
    versioned: bool = False,
    access_logs: s3.IBucket | None = None,
    access_logs_prefix: str | None = None,
) -> s3.Bucket:
    """A bucket with the project's baseline: SSE-S3, all public access blocked, TLS only, objects owned by the
    bucket (ACLs off), a lifecycle, and server access logging into ``access_logs`` when given. SSE-S3 rather
    than KMS because server access logging only delivers to SSE-S3 buckets and Athena reads results with it."""
    return s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=versioned,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=access_logs_prefix,
        lifecycle_rules=lifecycle_rules,
        removal_policy=removal,
    )


class Storage(Construct):
    """The DynamoDB status table and the S3 results bucket, encrypted, TLS-only, with retention."""

    def __init__(self, scope: Construct, construct_id: str, *, config: RootwatchConfig) -> None:
        super().__init__(scope, construct_id)
        policy = removal_policy(config)

        # Logs arrive through the bucket policy (ACLs stay off).
        self.access_logs = private_bucket(
            self,
            "AccessLogs",
            removal=policy,
            lifecycle_rules=[s3.LifecycleRule(id="expire-access-logs", expiration=cdk.Duration.days(365))],
        )
        cdk.Validations.of(self.access_logs).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-S1",
                reason="This is the access-log bucket itself; logging it into itself would loop and into "
                "another bucket would only move the same finding there.",
            )
        )
        skip_checkov(
            self.access_logs,
            "CKV_AWS_18",
            "This is the access-log bucket itself: logging it into itself would loop, and into another bucket "
            "would only move the same finding there (cdk-nag S1 is acknowledged for the same reason).",
        )
        skip_checkov(
            self.access_logs,
            "CKV_AWS_21",
            "Server access logs are written once by the S3 logging service and never overwritten; the bucket "
            "is SSE-S3, TLS-only and expires them after 365 days. Versioning would add cost and nothing to recover.",
        )

        self.bucket = private_bucket(
            self,
            "Results",
            removal=policy,
            versioned=True,
            access_logs=self.access_logs,
            access_logs_prefix="results-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-results",
                    prefix=RESULTS_PREFIX,
                    expiration=cdk.Duration.days(config.results_retention_days),
                ),
                s3.LifecycleRule(id="expire-manifests", prefix=MANIFESTS_PREFIX, expiration=cdk.Duration.days(30)),
                s3.LifecycleRule(id="expire-map-results", prefix=MAP_RESULTS_PREFIX, expiration=cdk.Duration.days(30)),
                s3.LifecycleRule(
                    id="expire-old-versions",
                    noncurrent_version_expiration=cdk.Duration.days(30),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                ),
            ],
        )

        self.table = dynamodb.Table(
            self,
            "Status",
            partition_key=dynamodb.Attribute(name=TABLE_PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=TABLE_SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=TABLE_TTL_ATTRIBUTE,
            deletion_protection=config.removal_policy == "retain",
            removal_policy=policy,
        )
        skip_checkov(
            self.table,
            "CKV_AWS_119",
            "Encrypted at rest with the AWS-managed DynamoDB key; who can read it is decided by IAM (only this "
            "stack's Lambda roles are granted the table). The same records go to the results bucket under SSE-S3 "
            "(required there by access logging and Athena), so a CMK here would not narrow access to the data.",
        )
