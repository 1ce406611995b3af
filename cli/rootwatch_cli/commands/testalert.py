"""`rootwatch test-alert`: publish a clearly marked test message through the deployed alert topic.

The topic is --topic-arn, else the deployed stack's: the ``TOPIC_ARN`` of the functions that the state machine
named ``*audit-run`` invokes (found as the action log finds the status table). The message is built like a
real alert (``MessageStructure=json``: text for email, a JSON document for SQS/Lambda/HTTPS/email-json), with
the subject ``[rootwatch] TEST: ...`` and the message attribute ``event_type`` = ``ROOTWATCH_TEST``, so a
subscription filtering on ``ROOT_CREDENTIALS_ALERT`` does not page anyone for it.

Exit codes: 0 published; 2 bad usage or no topic found; 1 anything else (e.g. the publish was denied).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from rootwatch.aws.notifier import Notifier
from rootwatch.domain.alert import TEST_EVENT_TYPE, compose_test_alert
from rootwatch.domain.timestamps import iso_utc

from rootwatch_cli import EXIT_OK, UsageError
from rootwatch_cli.common import add_aws_args, caller_arn, factory_from_args
from rootwatch_cli.flags import operator_command
from rootwatch_cli.operations.action_log import StatusTableNotFoundError, discover_stack_setting
from rootwatch_cli.output import note


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``test-alert`` verb."""
    parser = subparsers.add_parser(
        "test-alert",
        help="send a clearly marked test message through the deployed alert topic",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_aws_args(parser)
    parser.add_argument(
        "--topic-arn",
        metavar="ARN",
        default=None,
        help="the SNS topic (default: the deployed stack's, from its functions' TOPIC_ARN)",
    )
    parser.set_defaults(func=run)


@operator_command
def run(args: argparse.Namespace) -> int:
    """Publish the test message and say where it went."""
    factory = factory_from_args(args)
    topic_arn = args.topic_arn
    if not topic_arn:
        try:
            topic_arn = discover_stack_setting(factory, "TOPIC_ARN", "alert topic")
        except StatusTableNotFoundError as exc:
            raise UsageError(f"--topic-arn: no alert topic found: {exc}; give --topic-arn ARN") from None
    sent_by = caller_arn(factory)
    alert = compose_test_alert(sent_at=iso_utc(datetime.now(UTC)) or "", sent_by=sent_by, topic_arn=topic_arn)
    message_id = Notifier(factory.client("sns"), topic_arn).publish(alert)
    print(
        f"published test message {message_id} to {topic_arn} (subject {alert.subject!r}, event_type {TEST_EVENT_TYPE})"
    )
    note("check that it reached every subscriber (email, chat, ticketing); no action is needed on it")
    return EXIT_OK
