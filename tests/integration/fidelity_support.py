"""Set-up shared by the fidelity tests: an org built with ordinary AWS APIs; root sessions opened as in the seeds."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

REGION = "us-east-1"
#: The field report's script passes the regional endpoint explicitly (the global one does not serve AssumeRoot).
STS_ENDPOINT = f"https://sts.{REGION}.amazonaws.com"
AUDIT = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
DELETE = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"
CREATE_PASSWORD = "arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword"
S3_UNLOCK = "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy"
SQS_UNLOCK = "arn:aws:iam::aws:policy/root-task/SQSUnlockQueuePolicy"


def build_org(
    members: int = 2, *, trusted_access: bool = True, credentials_management: bool = True, root_sessions: bool = True
) -> list[str]:
    """An all-features org with ``members`` member accounts, set up the way the field reports did it; the member ids."""
    org = boto3.client("organizations", region_name=REGION)
    org.create_organization(FeatureSet="ALL")
    ids = [
        org.create_account(AccountName=f"Account{i}", Email=f"account{i}@example.com")["CreateAccountStatus"][
            "AccountId"
        ]
        for i in range(1, members + 1)
    ]
    iam = boto3.client("iam", region_name=REGION)
    if trusted_access:
        org.enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    if credentials_management:
        iam.enable_organizations_root_credentials_management()
    if root_sessions:
        iam.enable_organizations_root_sessions()
    return ids


def member_credentials(account_id: str, session_name: str = "operator") -> dict[str, str]:
    """Client keyword arguments acting in ``account_id`` as an ordinary principal (not root).

    moto maps AssumeRole credentials to the role's account even when the role does not exist (moto 5.2.5).
    """
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName=session_name
    )["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def sts_client(**credentials: Any) -> Any:
    return boto3.client("sts", region_name=REGION, endpoint_url=STS_ENDPOINT, **credentials)


def assume_root(account_id: str, policy_arn: str = AUDIT, duration: int = 900, sts: Any = None) -> dict[str, Any]:
    """``aws sts assume-root --target-principal <id> --task-policy-arn arn=<policy> --duration-seconds <n>``."""
    return (sts or sts_client()).assume_root(
        TargetPrincipal=account_id, TaskPolicyArn={"arn": policy_arn}, DurationSeconds=duration
    )


def root_session(account_id: str, policy_arn: str = AUDIT) -> boto3.Session:
    """The root session's credentials exported as the seeds do (AWS_ACCESS_KEY_ID / ..._SECRET / ..._SESSION_TOKEN)."""
    credentials = assume_root(account_id, policy_arn)["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def error_of(call: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
    """The AWS error a call answers (code and message); fails the test if it succeeds."""
    try:
        call(*args, **kwargs)
    except ClientError as error:
        return {"Code": error.response["Error"]["Code"], "Message": error.response["Error"].get("Message", "")}
    raise AssertionError(f"{getattr(call, '__name__', call)} succeeded but an AWS error was expected")


def summary_flags(session: boto3.Session) -> dict[str, int]:
    """The four root flags of ``aws iam get-account-summary`` (docs/aws-behaviour.md#getaccountsummary)."""
    summary = session.client("iam").get_account_summary()["SummaryMap"]
    return {
        name: summary[name]
        for name in (
            "AccountMFAEnabled",
            "AccountAccessKeysPresent",
            "AccountPasswordPresent",
            "AccountSigningCertificatesPresent",
        )
    }
