"""The stack's log groups: retention from config, encrypted with the stack's key."""

from __future__ import annotations

from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.alerting import Alerting
from infra.config import LOG_RETENTION_DAYS, RootwatchConfig
from infra.storage import removal_policy

_RETENTION_NAMES = (
    *("ONE_DAY", "THREE_DAYS", "FIVE_DAYS", "ONE_WEEK", "TWO_WEEKS", "ONE_MONTH", "TWO_MONTHS", "THREE_MONTHS"),
    *("FOUR_MONTHS", "FIVE_MONTHS", "SIX_MONTHS", "ONE_YEAR", "THIRTEEN_MONTHS", "EIGHTEEN_MONTHS", "TWO_YEARS"),
    *("THREE_YEARS", "FIVE_YEARS", "SIX_YEARS", "SEVEN_YEARS", "EIGHT_YEARS", "NINE_YEARS", "TEN_YEARS"),
)


def log_retention(days: int) -> logs.RetentionDays:
    """The CDK enum member for a retention in days (config has already checked it is a valid value)."""
    return getattr(logs.RetentionDays, dict(zip(LOG_RETENTION_DAYS, _RETENTION_NAMES, strict=True))[days])


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
