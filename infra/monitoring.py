"""Monitoring: alarms that go to the alert topic (no dashboard: see below and docs/cost.md).

Alarms (each notifies the SNS topic when it fires):
- the audit-run execution failed, timed out or was aborted;
- audits failed (the ``AuditErrors`` metric FinishRun emits per run; it counts every ERROR and NOT_AUDITED
  account). Not the audit Lambda's own ``Errors``: it raises ThrottledError on purpose so that the state
  machine retries with backoff, and throttling under fan-out is expected, not a page;
- no successful run in 26 hours (a schedule that silently stopped is the failure nobody notices);
- the scheduler could not start a run (a message in its dead-letter queue).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.alerting import Alerting
from infra.config import RootwatchConfig
from infra.workflow import Workflow

METRICS_NAMESPACE = "rootwatch"
#: Powertools Metrics adds a ``service`` dimension (POWERTOOLS_SERVICE_NAME) to every metric.
SERVICE_DIMENSION = {"service": "rootwatch"}
#: The pipeline metrics emitted by the handlers (Powertools EMF); names agreed with the pipeline.
PIPELINE_METRICS = (
    "AccountsAudited",
    "AccountsWithRootCredentials",
    "CredentialsReappeared",
    "AuditErrors",
    "AccountsSkipped",
    "RunDuration",
)
NO_SUCCESS_HOURS = 26


def pipeline_metric(name: str, period: cdk.Duration, statistic: str = "Sum") -> cloudwatch.Metric:
    """One of the handlers' Powertools metrics."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map=SERVICE_DIMENSION,
        period=period,
        statistic=statistic,
    )


class Monitoring(Construct):
    """Alarms wired to the alert topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: RootwatchConfig,
        workflow: Workflow,
        alerting: Alerting,
        schedule_dlq: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        prefix = config.resource_prefix
        state_machine = workflow.state_machine
        five_minutes = cdk.Duration.minutes(5)
        notify = actions.SnsAction(alerting.topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        def alarm(construct_id: str, metric: cloudwatch.IMetric, description: str, **kwargs: object) -> None:
            options = {
                "threshold": 1,
                "evaluation_periods": 1,
                "comparison_operator": cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                "treat_missing_data": cloudwatch.TreatMissingData.NOT_BREACHING,
            } | kwargs
            created = cloudwatch.Alarm(
                self,
                construct_id,
                alarm_name=f"{prefix}-{construct_id}",
                alarm_description=description,
                metric=metric,
                **options,  # type: ignore[arg-type]
            )
            created.add_alarm_action(notify)
            self.alarms[construct_id] = created

        alarm(
            "run-failed",
            state_machine.metric_failed(period=five_minutes, statistic="Sum"),
            "An audit run failed. Open the execution in the Step Functions console.",
        )
        alarm(
            "run-timed-out",
            state_machine.metric_timed_out(period=five_minutes, statistic="Sum"),
            "An audit run timed out.",
        )
        alarm(
            "run-aborted",
            state_machine.metric_aborted(period=five_minutes, statistic="Sum"),
            "An audit run was aborted.",
        )
        alarm(
            "audit-errors",
            pipeline_metric("AuditErrors", five_minutes),
            "Audits of member accounts failed (see the run's alert e-mail for the accounts and causes).",
        )
        alarm(
            "no-successful-run",
            state_machine.metric_succeeded(period=cdk.Duration.hours(1), statistic="Sum"),
            f"No audit run succeeded in the last {NO_SUCCESS_HOURS} hours: is the schedule running?",
            evaluation_periods=NO_SUCCESS_HOURS,
            datapoints_to_alarm=NO_SUCCESS_HOURS,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        alarm(
            "schedule-dead-letters",
            schedule_dlq.metric_approximate_number_of_messages_visible(period=five_minutes, statistic="Maximum"),
            "EventBridge Scheduler could not start an audit run; the event is in the dead-letter queue.",
        )

        # The optional deliveries never fail a run (docs/pipeline.md): their failures reach an operator here.
        if config.security_hub_enabled:
            alarm(
                "security-hub-findings-failed",
                pipeline_metric("SecurityHubFindingsFailed", five_minutes),
                "FinishRun could not import some Security Hub findings (the run and its alert went out; the run "
                "summary's deliveries.security_hub has AWS's message).",
            )
        if config.event_bridge_enabled:
            alarm(
                "change-events-failed",
                pipeline_metric("EventsFailed", five_minutes),
                "FinishRun could not put some change events on the default bus (the run and its alert went out; "
                "the run summary's deliveries.events has AWS's message).",
            )

        # No dashboard ($3 a month, a third of the bill at 10,000 accounts, docs/cost.md): it charted the metrics
        # the run summary (`rootwatch run`), the run's alert and the `daily_trend` Athena query already give, and
        # the Step Functions console's Map Run view shows each night's children. The alarms above are what an
        # operator must hear of; the metrics stay for them and for ad-hoc graphs in the CloudWatch console.
