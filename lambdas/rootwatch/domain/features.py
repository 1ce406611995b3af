"""The IAM organization features behind centralized root access (docs/aws-behaviour.md#root-task-policies).

``RootCredentialsManagement`` is needed by the IAM* task policies (so by the audit); ``RootSessions`` by the
S3/SQS unlock policies. ``FEATURE_DISABLED_MESSAGES`` is what AssumeRoot answers (AccessDenied) when the
feature a task policy needs is off, as observed in real AWS (docs/aws-behaviour.md#feature-disabled-messages).
"""

from __future__ import annotations

ROOT_CREDENTIALS_MANAGEMENT = "RootCredentialsManagement"
ROOT_SESSIONS = "RootSessions"
ORGANIZATION_FEATURES = (ROOT_CREDENTIALS_MANAGEMENT, ROOT_SESSIONS)

SERVICE_NOT_ENABLED = "Service not enabled for AWS Organizations."
ROOT_SESSIONS_NOT_ENABLED = "Root sessions feature is not enabled for your AWS Organization."

#: Feature -> AssumeRoot's AccessDenied message while it is off.
FEATURE_DISABLED_MESSAGES: dict[str, str] = {
    ROOT_CREDENTIALS_MANAGEMENT: SERVICE_NOT_ENABLED,
    ROOT_SESSIONS: ROOT_SESSIONS_NOT_ENABLED,
}
