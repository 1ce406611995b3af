"""The rootwatch stack: one stack, one construct per concern."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from infra.alerting import Alerting
from infra.analytics import Analytics
from infra.config import RootwatchConfig
from infra.monitoring import Monitoring
from infra.realtime import Realtime
from infra.scheduling import Scheduling
from infra.storage import Storage
from infra.workflow import Workflow


class RootwatchStack(cdk.Stack):
    """Storage, alerting, workflow, scheduling, analytics and monitoring for the nightly root audit."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: RootwatchConfig, env: cdk.Environment | None = None
    ) -> None:
        super().__init__(
            scope, construct_id, env=env, description="rootwatch: nightly audit of member-account root credentials"
        )
        self.config = config
        self.storage = Storage(self, "Storage", config=config)
        self.alerting = Alerting(self, "Alerting", config=config)
        self.workflow = Workflow(self, "Workflow", config=config, storage=self.storage, alerting=self.alerting)
        self.scheduling = Scheduling(
            self, "Scheduling", config=config, state_machine=self.workflow.state_machine, key=self.alerting.key
        )
        # Only with rootwatch:realtimeEnabled (off by default: no resources).
        self.realtime = (
            Realtime(
                self,
                "Realtime",
                config=config,
                storage=self.storage,
                alerting=self.alerting,
                workflow=self.workflow,
            )
            if config.realtime_enabled
            else None
        )
        self.analytics = Analytics(self, "Analytics", config=config, storage=self.storage)
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            workflow=self.workflow,
            alerting=self.alerting,
            schedule_dlq=self.scheduling.dead_letter_queue,
        )
        for name, value in {
            "StateMachineArn": self.workflow.state_machine.state_machine_arn,
            "TableName": self.storage.table.table_name,
            "BucketName": self.storage.bucket.bucket_name,
            "TopicArn": self.alerting.topic.topic_arn,
            "AthenaWorkGroup": self.analytics.workgroup_name,
            "GlueDatabase": self.analytics.database_name,
        }.items():
            cdk.CfnOutput(self, name, value=value)
