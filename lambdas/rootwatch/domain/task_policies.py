"""The five root-task managed policies (docs/aws-behaviour.md#root-task-policies).

One table, used by the audit (which policy to request), the operations commands (the narrowest
policy for each job), the sandbox (which calls a root session may make) and the CDK stack (the
``sts:TaskPolicyArn`` condition). Each AWS policy is Deny-only with NotAction: everything below is
what it leaves allowed.
"""

from __future__ import annotations

from enum import StrEnum

from rootwatch.domain.features import ROOT_CREDENTIALS_MANAGEMENT, ROOT_SESSIONS

TASK_POLICY_ARN_PREFIX = "arn:aws:iam::aws:policy/root-task/"


class TaskPolicy(StrEnum):
    IAM_AUDIT_ROOT_USER_CREDENTIALS = "IAMAuditRootUserCredentials"
    IAM_DELETE_ROOT_USER_CREDENTIALS = "IAMDeleteRootUserCredentials"
    IAM_CREATE_ROOT_USER_PASSWORD = "IAMCreateRootUserPassword"  # noqa: S105 (a policy name)
    S3_UNLOCK_BUCKET_POLICY = "S3UnlockBucketPolicy"
    SQS_UNLOCK_QUEUE_POLICY = "SQSUnlockQueuePolicy"

    @property
    def arn(self) -> str:
        return TASK_POLICY_ARN_PREFIX + self.value

    @property
    def required_feature(self) -> str:
        """The IAM organization feature AssumeRoot checks for this policy (docs/aws-behaviour.md)."""
        return ROOT_CREDENTIALS_MANAGEMENT if self.value.startswith("IAM") else ROOT_SESSIONS

    @classmethod
    def from_arn(cls, arn: str) -> TaskPolicy:
        """The policy for a task-policy ARN; ValueError when it is not one of the five."""
        if not arn.startswith(TASK_POLICY_ARN_PREFIX):
            raise ValueError(f"not a root-task policy ARN: {arn!r}")
        return cls(arn.removeprefix(TASK_POLICY_ARN_PREFIX))


#: Actions each task policy leaves allowed, as "service:Action".
ALLOWED_ACTIONS: dict[TaskPolicy, frozenset[str]] = {
    TaskPolicy.IAM_AUDIT_ROOT_USER_CREDENTIALS: frozenset(
        f"iam:{a}"
        for a in (
            "GetAccountSummary",
            "GetUser",
            "GetLoginProfile",
            "ListAccessKeys",
            "GetAccessKeyLastUsed",
            "ListMFADevices",
            "ListSigningCertificates",
        )
    ),
    TaskPolicy.IAM_DELETE_ROOT_USER_CREDENTIALS: frozenset(
        f"iam:{a}"
        for a in (
            "DeleteAccessKey",
            "DeleteSigningCertificate",
            "DeleteLoginProfile",
            "DeactivateMFADevice",
            "ListAccessKeys",
            "ListSigningCertificates",
            "GetLoginProfile",
            "ListMFADevices",
            "GetUser",
            "GetAccessKeyLastUsed",
        )
    ),
    TaskPolicy.IAM_CREATE_ROOT_USER_PASSWORD: frozenset({"iam:CreateLoginProfile", "iam:GetLoginProfile"}),
    TaskPolicy.S3_UNLOCK_BUCKET_POLICY: frozenset(
        {"s3:DeleteBucketPolicy", "s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:ListAllMyBuckets"}
    ),
    TaskPolicy.SQS_UNLOCK_QUEUE_POLICY: frozenset(
        {"sqs:SetQueueAttributes", "sqs:GetQueueAttributes", "sqs:ListQueues", "sqs:GetQueueUrl"}
    ),
}
