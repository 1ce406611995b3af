"""Scheduling: an EventBridge Scheduler schedule that starts the audit run, with retries and a DLQ."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.config import RootwatchConfig

#: The execution input of a scheduled run (docs/pipeline.md).
SCHEDULED_INPUT = {"trigger": "schedule"}
RETRY_ATTEMPTS = 3
MAX_EVENT_AGE = cdk.Duration.hours(2)


class Scheduling(Construct):
    """Starts the state machine on the configured cron and time zone; failed starts land in a DLQ."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: RootwatchConfig,
        state_machine: sfn.IStateMachine,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetters",
            # The stack's key rather than SQS-managed SSE: scanners (checkov CKV_AWS_27) accept only a KMS key, and
            # a message here is rare (a failed start), so its KMS requests cost nothing measurable.
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        cdk.Validations.of(self.dead_letter_queue).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-SQS3",
                reason="This queue is itself the dead-letter queue of the schedule; nothing consumes it, "
                "the schedule-dead-letters alarm watches it.",
            )
        )
        self.schedule = scheduler.Schedule(
            self,
            "Nightly",
            schedule_name=f"{config.resource_prefix}-nightly-audit",
            description="Starts the rootwatch audit run",
            schedule=scheduler.ScheduleExpression.expression(
                config.schedule_cron, cdk.TimeZone.of(config.schedule_timezone)
            ),
            target=targets.StepFunctionsStartExecution(
                state_machine,
                input=scheduler.ScheduleTargetInput.from_object(SCHEDULED_INPUT),
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=RETRY_ATTEMPTS,
                max_event_age=MAX_EVENT_AGE,
            ),
        )
        # Sending to a KMS-encrypted queue needs the key: the schedule's role (CDK's singleton role for this
        # target, created when the schedule binds it) may use it for that and nothing else.
        (role,) = [
            child
            for child in cdk.Stack.of(self).node.children
            if isinstance(child, iam.Role) and child.node.id.startswith("SchedulerRoleForTarget")
        ]
        key.grant(role, "kms:GenerateDataKey", "kms:Decrypt")
