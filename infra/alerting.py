"""Alerting: the SNS topic that carries the run alert and the CloudWatch alarms, with email subscribers.

The topic is encrypted with a customer-managed KMS key. The alert names accounts and their root
credential state, which is worth keeping out of an AWS-managed key that any principal with SNS
access in the account could use; and CloudWatch alarms cannot publish to a topic encrypted with
the AWS-managed ``alias/aws/sns`` key, because its key policy cannot be changed to let
``cloudwatch.amazonaws.com`` use it. One key costs $1 a month.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import RootwatchConfig
from infra.storage import removal_policy

#: Managing a symmetric key: what CloudFormation and an administrator need (PutKeyPolicy included, so the
#: key can never become unmanageable).
KEY_ADMIN_ACTIONS = tuple(
    f"kms:{action}"
    for action in (
        "DescribeKey",
        "GetKeyPolicy",
        "PutKeyPolicy",
        "ListKeyPolicies",
        "GetKeyRotationStatus",
        "EnableKeyRotation",
        "DisableKeyRotation",
        "RotateKeyOnDemand",
        "ListKeyRotations",
        "EnableKey",
        "DisableKey",
        "ScheduleKeyDeletion",
        "CancelKeyDeletion",
        "UpdateKeyDescription",
        "TagResource",
        "UntagResource",
        "ListResourceTags",
        "CreateAlias",
        "DeleteAlias",
        "UpdateAlias",
        "CreateGrant",
        "ListGrants",
        "RevokeGrant",
        "RetireGrant",
    )
)
#: Using a symmetric encryption key.
KEY_USE_ACTIONS = tuple(
    f"kms:{action}"
    for action in (
        "Encrypt",
        "Decrypt",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "ReEncryptFrom",
        "ReEncryptTo",
    )
)


#: What CloudWatch Logs does with a log group's key (AWS's documented Encrypt*, Decrypt*, ReEncrypt*,
#: GenerateDataKey*, Describe* for a symmetric key, spelled out).
LOGS_KEY_ACTIONS = tuple(
    f"kms:{action}"
    for action in (
        "Encrypt",
        "Decrypt",
        "ReEncryptFrom",
        "ReEncryptTo",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "DescribeKey",
    )
)


#: Reserved example domains (RFC 2606): an address there is cdk.json's placeholder, never a real inbox.
PLACEHOLDER_DOMAINS = ("@example.com", "@example.org", "@example.net")


def alarm_arn_pattern(stack: cdk.Stack, resource_prefix: str) -> str:
    """The ARNs of this stack's CloudWatch alarms (infra/monitoring.py names each ``<prefix>-<name>``)."""
    return stack.format_arn(
        service="cloudwatch",
        resource="alarm",
        resource_name=f"{resource_prefix}-*",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


def alarm_source_conditions(stack: cdk.Stack, resource_prefix: str) -> dict[str, dict[str, str]]:
    """Confused-deputy conditions for cloudwatch.amazonaws.com: this account, this stack's alarms."""
    return {
        "StringEquals": {"aws:SourceAccount": stack.account},
        "ArnLike": {"aws:SourceArn": alarm_arn_pattern(stack, resource_prefix)},
    }


class Alerting(Construct):
    """The alert topic (TLS-only, KMS-encrypted) and one email subscription per configured address."""

    def __init__(self, scope: Construct, construct_id: str, *, config: RootwatchConfig) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)

        self.key = kms.Key(
            self,
            "TopicKey",
            description=f"{config.resource_prefix}: encrypts the alert topic, the log groups and the schedule's DLQ",
            enable_key_rotation=True,
            removal_policy=removal_policy(config),
            policy=iam.PolicyDocument(
                statements=[
                    # The account's IAM policies decide who may administer and use the key (AWS's default key
                    # policy, with the actions a symmetric key has spelled out instead of "kms:*").
                    iam.PolicyStatement(
                        sid="DelegateToAccountIamPolicies",
                        principals=[iam.AccountRootPrincipal()],
                        actions=[*KEY_ADMIN_ACTIONS, *KEY_USE_ACTIONS],
                        resources=["*"],  # in a key policy, "*" means this key
                    ),
                    # CloudWatch alarms publish to the encrypted topic as the cloudwatch service principal, and SNS
                    # uses the key on their behalf: this stack's alarms only (the same conditions as the topic's).
                    # GenerateDataKey is spelled out (not GenerateDataKey*): SNS calls nothing else to encrypt.
                    iam.PolicyStatement(
                        sid="AllowCloudWatchAlarmsToPublish",
                        principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                        actions=["kms:Decrypt", "kms:GenerateDataKey"],
                        resources=["*"],
                        conditions=alarm_source_conditions(stack, config.resource_prefix),
                    ),
                ]
            ),
        )

        self.topic = sns.Topic(
            self,
            "Alerts",
            display_name="rootwatch alerts",
            master_key=self.key,
            enforce_ssl=True,
        )
        # enforce_ssl replaces SNS's default topic policy, which let the account's services publish; without this
        # statement CloudWatch (the alarms' action) would be refused. Only this stack's alarms, in this account.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=alarm_source_conditions(stack, config.resource_prefix),
            )
        )
        for email in config.alert_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        placeholders = [e for e in config.alert_emails if e.lower().endswith(PLACEHOLDER_DOMAINS)]
        if placeholders:
            cdk.Annotations.of(self).add_warning_v2(
                "rootwatch:placeholder-email",
                f"rootwatch:alertEmails {placeholders} is the cdk.json placeholder: nobody will receive alerts; "
                "deploy with -c rootwatch:alertEmails=you@yourcompany.example",
            )

    def allow_log_groups(self, log_group_names: list[str]) -> None:
        """Let CloudWatch Logs encrypt and decrypt exactly these log groups with the key: the actions AWS documents
        for a log group's KMS key, spelled out (no wildcards), each only with the encryption context CloudWatch
        Logs sends, ``aws:logs:arn`` = one of these groups (so no other log group can be put on this key)."""
        stack = cdk.Stack.of(self)
        arns = [
            stack.format_arn(
                service="logs", resource="log-group", resource_name=name, arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME
            )
            for name in log_group_names
        ]
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsForThisStacksLogGroups",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=list(LOGS_KEY_ACTIONS),
                resources=["*"],  # in a key policy, "*" means this key
                conditions={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": arns}},
            )
        )

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        """Let ``grantee`` publish to the topic (sns:Publish on it, and the key use that needs)."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[self.topic.topic_arn])
        )
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[self.key.key_arn])
        )
