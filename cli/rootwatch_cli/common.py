"""Arguments and helpers shared by the verbs that talk to AWS (or the sandbox)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import botocore.session
from botocore.exceptions import ProfileNotFound
from rootwatch.aws.clients import DEFAULT_REGION, ClientFactory, RedactCredentials
from rootwatch.domain.account_ids import is_account_id
from rootwatch.domain.findings import THRESHOLDS, Policy, Threshold

from rootwatch_cli import UsageError


def add_aws_args(parser: argparse.ArgumentParser) -> None:
    """--endpoint-url (default $AWS_ENDPOINT_URL, as boto3 reads it), --profile, --region."""
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL"),
        help="AWS endpoint, e.g. a sandbox's http://127.0.0.1:4566 (default: $AWS_ENDPOINT_URL)",
    )
    parser.add_argument("--profile", default=None, help="AWS named profile")
    parser.add_argument("--region", default=None, help="AWS region (default: the profile's, else us-east-1)")


def factory_from_args(args: argparse.Namespace, *, max_pool_connections: int = 10) -> ClientFactory:
    """The caller's AWS clients (the management account or the IAM delegated admin), as --profile, --region
    and --endpoint-url describe them: region from the flag, else the profile's, else us-east-1.

    The one place the command line builds AWS clients; an unknown --profile is a UsageError here, before
    any call. ``max_pool_connections`` should be at least the number of threads sharing a client.
    """
    session = botocore.session.Session(profile=args.profile)
    try:
        session.get_scoped_config()  # an unknown --profile fails here, not at the first call
        region = args.region or session.get_config_variable("region") or DEFAULT_REGION
    except ProfileNotFound as exc:
        raise UsageError(f"--profile: {exc}") from None
    return ClientFactory(
        region=region,
        endpoint_url=args.endpoint_url or None,
        botocore_session=session,
        max_pool_connections=max_pool_connections,
    )


def boto3_client(factory: ClientFactory, service: str) -> Any:
    """A boto3 client (with boto3's additions, e.g. S3 ``download_file``) on ``factory``'s session, region and
    endpoint: for the few callers that need more than ``factory.client``'s botocore client."""
    import boto3

    session = boto3.Session(botocore_session=factory.session)
    return session.client(service, region_name=factory.region, endpoint_url=factory.endpoint_url)


def parse_account_ids(value: str, *, flag: str = "--accounts") -> list[str]:
    """A comma-separated list of 12-digit account ids; UsageError naming the flag and the bad id.

    An empty, blank or comma-only value is an error, never "no list": an empty selection must not widen
    into "every account" further down.
    """
    ids = [part.strip() for part in value.split(",") if part.strip()]
    if not ids:
        raise UsageError(f"{flag}: empty; give at least one 12-digit account id")
    for account_id in ids:
        if not is_account_id(account_id):
            raise UsageError(f"{flag}: {account_id!r} is not a 12-digit AWS account id")
    return list(dict.fromkeys(ids))


def parse_account_id(value: str, *, flag: str = "--account") -> str:
    """Exactly one 12-digit account id (surrounding blanks ignored); UsageError naming the flag otherwise."""
    ids = parse_account_ids(value, flag=flag)
    if len(ids) != 1 or "," in value:
        raise UsageError(f"{flag}: takes exactly one 12-digit account id, got {value!r}")
    return ids[0]


def account_ids_type(flag: str = "--accounts") -> Callable[[str], list[str]]:
    """An argparse ``type=`` for a comma-separated id list: the flag's value becomes ``list[str]``."""

    def convert(value: str) -> list[str]:
        return parse_account_ids(value, flag=flag)

    return convert


def account_id_type(flag: str = "--account") -> Callable[[str], str]:
    """An argparse ``type=`` for one account id."""

    def convert(value: str) -> str:
        return parse_account_id(value, flag=flag)

    return convert


def add_account_arg(parser: argparse.ArgumentParser, help: str, *, required: bool = True) -> None:
    """``--account ID``: exactly one 12-digit member account id (an empty or listed value is a usage error)."""
    parser.add_argument("--account", metavar="ID", required=required, type=account_id_type("--account"), help=help)


def add_verbosity_args(parser: argparse.ArgumentParser) -> None:
    """--quiet and --verbose, meaning the same in every command (build_parser adds them to each one)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--quiet", action="store_true", help="only results and errors: no progress bars, no banners or side remarks"
    )
    group.add_argument(
        "--verbose",
        action="store_true",
        help="debug logging of rootwatch on stderr (credentials are never logged; botocore stays quiet)",
    )


_VERBOSE_HANDLER: logging.Handler | None = None
#: The loggers --verbose turns up: the three packages' (README, "Where the code lives").
OUR_LOGGERS = ("rootwatch", "rootwatch_cli", "rootwatch_sandbox")


def apply_verbosity(args: argparse.Namespace) -> None:
    """Act on --quiet/--verbose (main calls it before the command runs)."""
    global _VERBOSE_HANDLER
    from rootwatch_cli import output

    output.QUIET = bool(getattr(args, "quiet", False))
    loggers = [logging.getLogger(name) for name in OUR_LOGGERS]
    if _VERBOSE_HANDLER is not None:
        for logger in loggers:
            logger.removeHandler(_VERBOSE_HANDLER)
        _VERBOSE_HANDLER = None
    if getattr(args, "verbose", False):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactCredentials())
        for logger in loggers:
            logger.addHandler(handler)
            logger.setLevel(logging.DEBUG)
        _VERBOSE_HANDLER = handler
    else:
        for logger in loggers:
            logger.setLevel(logging.NOTSET)


FAIL_ON = ("any", "new", "none")


def add_fail_on_arg(parser: argparse.ArgumentParser, *, new_help: str) -> None:
    """``--fail-on any|new|none``: which findings make the command exit 3 (for CI jobs and cron)."""
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="any",
        help=f"exit 3 on: any finding (root credentials, audit errors; the default), {new_help}, or none "
        "(exit 0 whatever is found; usage and setup errors still exit 2)",
    )


def add_threshold_args(parser: argparse.ArgumentParser) -> None:
    """One flag per threshold of the rules (rootwatch.domain.findings.THRESHOLDS): ``--password-unused-days N``."""
    for threshold in THRESHOLDS:
        parser.add_argument(
            threshold.flag,
            metavar="N",
            type=_threshold_type(threshold),
            default=threshold.default,
            help=f"{threshold.meaning}, {threshold.minimum}-{threshold.maximum} (default: {threshold.default}, "
            f"as the stack's rootwatch:{threshold.context_key})",
        )


def _threshold_type(threshold: Threshold) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            return threshold.parse(text)
        except ValueError as exc:
            raise UsageError(f"{threshold.flag}: {exc}") from None

    return parse


def policy_from_args(args: argparse.Namespace) -> Policy:
    """The rules' thresholds as given by the flags add_threshold_args added (defaults when absent)."""
    return Policy.from_values({t.name: getattr(args, t.name) for t in THRESHOLDS if hasattr(args, t.name)})


def caller_arn(factory: ClientFactory) -> str:
    """Who is making the call (STS GetCallerIdentity): recorded as ``created_by``, ``sent_by``, in the action log."""
    return str(factory.client("sts").get_caller_identity()["Arn"])
