"""Realtime: re-audit an account minutes after its root credentials change (issue 15, docs/realtime.md).

Only with ``rootwatch:realtimeEnabled``. A service-managed StackSet puts one EventBridge rule on the default bus of
every member account in us-east-1 (IAM and sign-in are global services: CloudTrail delivers their events there); it
forwards the root-credential events to a central bus in this account, which accepts events from the organization
only. A rule there sends them to an SQS queue (DLQ, TLS only); the re-audit function consumes it in batches, at
most ``realtimeMaxConcurrency`` at a time, and audits each account with the same AssumeRoot statement as
AuditAccount.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudformation as cloudformation
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from rootwatch.domain.root_events import (
    ROOT_EVENT_DETAIL_TYPES,
    ROOT_EVENT_NAMES,
    ROOT_EVENT_SOURCES,
    ROOT_IDENTITY_TYPE,
)

from infra.alerting import Alerting
from infra.checkov import skip_checkov
from infra.config import RootwatchConfig
from infra.functions import REAUDIT, REAUDIT_BATCH_SIZE
from infra.nag import acknowledge_wildcard_resources
from infra.storage import Storage
from infra.workflow import (
    ASSUME_ROOT_WILDCARD_REASON,
    XRAY_WILDCARD_REASON,
    Workflow,
    assume_root_for_audit_statement,
    member_roots,
)

#: IAM and AWS sign-in are global services: CloudTrail delivers their events to EventBridge in us-east-1 only.
MEMBER_RULE_REGIONS = ("us-east-1",)
#: Lambda's advice for an SQS source: a message goes to the DLQ after 5 receives, not 1 (a throttle is a receive).
MAX_RECEIVE_COUNT = 5


def member_event_pattern() -> dict[str, Any]:
    """The member-account rule's pattern: root (or AssumeRoot session) credential changes and root sign-ins only,
    exactly the events the re-audit accepts (rootwatch.domain.root_events; docs/realtime.md)."""
    return {
        "source": list(ROOT_EVENT_SOURCES),
        "detail-type": list(ROOT_EVENT_DETAIL_TYPES),
        "detail": {
            "eventName": list(ROOT_EVENT_NAMES),
            # The root user, and an AssumeRoot session (it acts as the member's root user; docs/realtime.md).
            "userIdentity": {"type": [ROOT_IDENTITY_TYPE]},
        },
    }


def member_template() -> dict[str, Any]:
    """The StackSet's template: a rule on the member's default bus forwarding to the central bus, and its role."""
    bus = {"Ref": "CentralBusArn"}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "rootwatch: forwards root-credential change events to the rootwatch account (docs/realtime.md)",
        "Parameters": {"CentralBusArn": {"Type": "String", "Description": "rootwatch's central event bus"}},
        "Resources": {
            "ForwardRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Description": "rootwatch: EventBridge puts root-credential events on the central bus",
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                            }
                        ],
                    },
                    "Policies": [
                        {
                            "PolicyName": "PutOnCentralBus",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus}],
                            },
                        }
                    ],
                },
            },
            "ForwardRule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Description": "rootwatch: root-credential changes to the central bus",
                    "EventBusName": "default",
                    "State": "ENABLED",
                    "EventPattern": member_event_pattern(),
                    "Targets": [
                        {"Id": "RootwatchCentralBus", "Arn": bus, "RoleArn": {"Fn::GetAtt": ["ForwardRole", "Arn"]}}
                    ],
                },
            },
        },
    }


class Realtime(Construct):
    """The central bus, the member-account StackSet, the queue and the re-audit function."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: RootwatchConfig,
        storage: Storage,
        alerting: Alerting,
        workflow: Workflow,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        assert config.organization_id, "load_config requires organizationId with realtimeEnabled"
        prefix = config.resource_prefix

        # The central bus: PutEvents from principals of this organization only (the members' forwarding roles).
        self.bus = events.EventBus(self, "CentralBus", event_bus_name=f"{prefix}-root-credential-changes")
        self.bus.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PutEventsFromOrganization",
                principals=[iam.AnyPrincipal()],
                actions=["events:PutEvents"],
                resources=[self.bus.event_bus_arn],
                conditions={"StringEquals": {"aws:PrincipalOrgID": config.organization_id}},
            )
        )

        # The member accounts' rule, deployed by CloudFormation StackSets to the configured OUs (or the root), to
        # accounts that join them later too (auto-deployment), in us-east-1.
        self.stack_set = cloudformation.CfnStackSet(
            self,
            "MemberRule",
            stack_set_name=f"{prefix}-root-credential-events",
            description="rootwatch: forwards member accounts' root-credential changes to the central bus",
            permission_model="SERVICE_MANAGED",
            call_as=config.realtime_stackset_call_as,
            auto_deployment=cloudformation.CfnStackSet.AutoDeploymentProperty(
                enabled=True, retain_stacks_on_account_removal=False
            ),
            capabilities=["CAPABILITY_IAM"],
            managed_execution={"Active": True},
            operation_preferences=cloudformation.CfnStackSet.OperationPreferencesProperty(
                failure_tolerance_percentage=10,
                max_concurrent_percentage=25,
                region_concurrency_type="PARALLEL",
            ),
            parameters=[
                cloudformation.CfnStackSet.ParameterProperty(
                    parameter_key="CentralBusArn", parameter_value=self.bus.event_bus_arn
                )
            ],
            stack_instances_group=[
                cloudformation.CfnStackSet.StackInstancesProperty(
                    deployment_targets=cloudformation.CfnStackSet.DeploymentTargetsProperty(
                        organizational_unit_ids=list(config.realtime_target_ous)
                    ),
                    regions=list(MEMBER_RULE_REGIONS),
                )
            ],
            template_body=json.dumps(member_template(), indent=1, sort_keys=True),
        )

        # The queue: SSE-SQS (EventBridge can send to it without a key grant, and a storm costs no KMS requests).
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        cdk.Validations.of(self.dead_letter_queue).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-SQS3",
                reason="This queue is itself the dead-letter queue of the re-audit queue and of the central rule's "
                "target; nothing consumes it, the nightly run audits every account anyway.",
            )
        )
        batch_window = config.realtime_batch_window_seconds
        self.queue = sqs.Queue(
            self,
            "Events",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(1),
            # Lambda's advice: at least 6 x the function's timeout, plus the batching window.
            visibility_timeout=cdk.Duration.seconds(6 * int(REAUDIT.timeout.to_seconds()) + batch_window),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letter_queue, max_receive_count=MAX_RECEIVE_COUNT),
        )
        for queue in (self.queue, self.dead_letter_queue):
            skip_checkov(
                queue,
                "CKV_AWS_27",
                "Encrypted with SSE-SQS: the messages are CloudTrail events of credential changes (no secrets), and "
                "a KMS key would need a grant to events.amazonaws.com and cost a KMS request per message in a storm.",
            )
        self.rule = events.Rule(
            self,
            "ToQueue",
            event_bus=self.bus,
            description="rootwatch: root-credential changes forwarded by the member accounts, to the re-audit queue",
            event_pattern=events.EventPattern(
                source=list(ROOT_EVENT_SOURCES), detail_type=list(ROOT_EVENT_DETAIL_TYPES)
            ),
            targets=[targets.SqsQueue(self.queue, dead_letter_queue=self.dead_letter_queue, retry_attempts=8)],
        )

        # The re-audit function: FinishRun's environment, made by the same factory, its concurrency capped by the
        # event source (so a storm stays within AssumeRoot's rate and leaves the nightly run its concurrency).
        self.function = workflow.factory.create(REAUDIT, reserved_concurrency=config.realtime_max_concurrency)
        self.function.add_environment("ORGANIZATION_ID", config.organization_id)
        self.function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=REAUDIT_BATCH_SIZE,
                max_batching_window=cdk.Duration.seconds(batch_window) if batch_window else None,
                report_batch_item_failures=True,
                max_concurrency=config.realtime_max_concurrency,
            )
        )
        self.function.add_to_role_policy(assume_root_for_audit_statement(stack))
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                sid="RecordAuditStateAndAlertMarker",
                # AuditAccount's writes (latest, history and run items) and FinishRun's alert marker (Query and
                # GetItem to find it, PutItem/UpdateItem to record it); no DeleteItem.
                actions=["dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                resources=[storage.table.table_arn],
            )
        )
        member_accounts = f"arn:{stack.partition}:organizations::*:account/{config.organization_id}/*"
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                sid="CheckEventAccountIsMember",
                actions=["organizations:DescribeAccount"],
                resources=[member_accounts],
            )
        )
        alerting.grant_publish(self.function)

        role = self.function.role
        acknowledge_wildcard_resources(
            role,  # type: ignore[arg-type]
            ["*"],
            XRAY_WILDCARD_REASON,
        )
        acknowledge_wildcard_resources(role, [member_roots(stack)], ASSUME_ROOT_WILDCARD_REASON)  # type: ignore[arg-type]
        acknowledge_wildcard_resources(
            role,  # type: ignore[arg-type]
            [member_accounts],
            "organizations:DescribeAccount on any account of THIS organization (the management account's id is "
            "the ARN's account field and not known at synth; the organization id scopes it).",
        )
        cdk.CfnOutput(stack, "RealtimeEventBusArn", value=self.bus.event_bus_arn)
