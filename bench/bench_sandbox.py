"""The sandbox's own cost: building a 10,000-account demo org, and its overhead per AssumeRoot / GetAccountSummary.

In-process only (bench_sandbox_server covers the server). "Overhead" compares each call with the
closest plain moto call made the same way: AssumeRoot against STS AssumeRole, and a root
session's GetAccountSummary against the same call with ordinary credentials.

    python -m bench sandbox
"""

from __future__ import annotations

import time
from collections.abc import Callable

import boto3
from rootwatch.domain.task_policies import TaskPolicy
from rootwatch_sandbox import Sandbox

from bench.timing import median_ms

DEMO_ACCOUNTS = 10_000
CALLS = 300
AUDITED_ACCOUNTS = 1_000
REGION = "us-east-1"


def _per_call_ms(call: Callable[[int], object], calls: int = CALLS) -> float:
    """Median wall time of one call, in ms (after a short warm-up)."""
    return median_ms(call, calls)


def _root_client(sts: object, account_id: str) -> object:
    credentials = sts.assume_root(  # type: ignore[attr-defined]
        TargetPrincipal=account_id, TaskPolicyArn={"arn": TaskPolicy.IAM_AUDIT_ROOT_USER_CREDENTIALS.arn}
    )["Credentials"]
    return boto3.client(
        "iam",
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def main() -> None:
    """Print the figures."""
    with Sandbox() as sandbox:
        started = time.perf_counter()
        demo = sandbox.create_demo_org(accounts=DEMO_ACCOUNTS, seed=1)
        elapsed = time.perf_counter() - started
        print(f"create_demo_org({DEMO_ACCOUNTS:,} accounts): {elapsed:.2f} s")

        org = boto3.client("organizations", region_name=REGION)
        started = time.perf_counter()
        listed = sum(len(page["Accounts"]) for page in org.get_paginator("list_accounts").paginate())
        print(
            f"ListAccounts over the whole org ({listed:,} accounts, pages of 20): {time.perf_counter() - started:.2f} s"
        )

        active = [a["account_id"] for a in demo["accounts"] if a["state"] == "ACTIVE"]
        sts = boto3.client("sts", region_name=REGION, endpoint_url=f"https://sts.{REGION}.amazonaws.com")
        assume_root = _per_call_ms(
            lambda i: sts.assume_root(
                TargetPrincipal=active[i % len(active)],
                TaskPolicyArn={"arn": TaskPolicy.IAM_AUDIT_ROOT_USER_CREDENTIALS.arn},
                DurationSeconds=900,
            )
        )
        assume_role = _per_call_ms(
            lambda i: sts.assume_role(
                RoleArn=f"arn:aws:iam::{active[i % len(active)]}:role/audit", RoleSessionName="bench"
            )
        )
        root_iam = _root_client(sts, active[0])
        plain_iam = boto3.client("iam", region_name=REGION)
        root_summary = _per_call_ms(lambda i: root_iam.get_account_summary())  # type: ignore[attr-defined]
        plain_summary = _per_call_ms(lambda i: plain_iam.get_account_summary())

        print(f"in-process, {DEMO_ACCOUNTS:,}-account org, median of {CALLS} calls:")
        print(f"  AssumeRoot          {assume_root:6.2f} ms  (moto AssumeRole {assume_role:.2f} ms)")
        print(f"  GetAccountSummary   {root_summary:6.2f} ms  (moto, ordinary credentials {plain_summary:.2f} ms)")
        print(
            f"  sandbox overhead: AssumeRoot {assume_root - assume_role:+.2f} ms, "
            f"GetAccountSummary {root_summary - plain_summary:+.2f} ms"
        )

        audited = active[:AUDITED_ACCOUNTS]
        started = time.perf_counter()
        for account_id in audited:
            _root_client(sts, account_id).get_account_summary()  # type: ignore[attr-defined]
        elapsed = time.perf_counter() - started
        print(
            f"sequential audit of {len(audited):,} accounts (AssumeRoot + new boto3 client + GetAccountSummary): "
            f"{elapsed:.1f} s, {elapsed / len(audited) * 1000:.1f} ms/account"
        )
        after = _per_call_ms(lambda i: plain_iam.get_account_summary())
        print(f"  moto GetAccountSummary afterwards, with {len(audited):,} member IAM backends: {after:.2f} ms")


if __name__ == "__main__":
    main()
