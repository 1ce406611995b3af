"""Arguments and helpers shared by the verbs that talk to AWS (or the sandbox)."""

from __future__ import annotations

import argparse
import os
import re

import boto3

from rootwatch.cli import UsageError

ACCOUNT_ID = re.compile(r"^\d{12}$")


def add_aws_args(parser: argparse.ArgumentParser) -> None:
    """--endpoint-url (default $AWS_ENDPOINT_URL, as boto3 reads it), --profile, --region."""
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL"),
        help="AWS endpoint, e.g. a sandbox's http://127.0.0.1:4566 (default: $AWS_ENDPOINT_URL)",
    )
    parser.add_argument("--profile", default=None, help="AWS named profile")
    parser.add_argument("--region", default=None, help="AWS region (default: the profile's, else us-east-1)")


def session_from_args(args: argparse.Namespace) -> boto3.Session:
    """A boto3 session for the caller (the management account or the IAM delegated admin)."""
    try:
        session = boto3.Session(profile_name=args.profile, region_name=args.region)
    except Exception as exc:  # botocore.exceptions.ProfileNotFound and friends
        raise UsageError(f"--profile: {exc}") from exc
    if session.region_name is None:
        session = boto3.Session(profile_name=args.profile, region_name="us-east-1")
    return session


def parse_account_ids(value: str, *, flag: str = "--accounts") -> list[str]:
    """A comma-separated list of 12-digit account ids; UsageError naming the bad one."""
    ids = [part.strip() for part in value.split(",") if part.strip()]
    if not ids:
        raise UsageError(f"{flag}: give at least one 12-digit account id")
    for account_id in ids:
        if not ACCOUNT_ID.match(account_id):
            raise UsageError(f"{flag}: {account_id!r} is not a 12-digit AWS account id")
    return list(dict.fromkeys(ids))
