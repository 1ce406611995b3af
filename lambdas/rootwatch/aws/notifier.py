"""Publishes a run's alert to the SNS topic (docs/contracts.md#the-alert).

One publish with ``MessageStructure=json``: email subscribers get the plain text, SQS/Lambda/HTTPS and
email-json subscribers get the ``rootwatch.alert/v1`` JSON. The message attribute ``event_type``
(``ROOT_CREDENTIALS_ALERT``) lets subscribers filter. ``publish_once`` sends a run's alert unless a marker
says it already went out; the marker is written after the publish, so a failure in between can repeat the
alert but never lose it (docs/pipeline.md, "At least once").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rootwatch.domain.alert import Alert


class Notifier:
    """Sends alerts to one SNS topic. ``client`` is a boto3 SNS client."""

    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client = client
        self.topic_arn = topic_arn

    def publish(self, alert: Alert) -> str:
        """Publish the alert now and return the SNS message id."""
        response = self._client.publish(
            TopicArn=self.topic_arn,
            Subject=alert.subject,
            Message=alert.sns_message(),
            MessageStructure="json",
            MessageAttributes={"event_type": {"DataType": "String", "StringValue": alert.event_type}},
        )
        return response["MessageId"]

    def publish_once(
        self, alert: Alert, *, sent: Callable[[str], bool], mark_sent: Callable[[str, str, str], None]
    ) -> str | None:
        """Publish unless this run's alert was already sent; the message id, or None when it was.

        ``sent(run_id)`` reads the run's marker; ``mark_sent(run_id, subject, message_id)`` writes it after
        a successful publish. A failed publish raises, with no marker: a retry or redrive sends it.
        """
        if sent(alert.run_id):
            return None
        message_id = self.publish(alert)
        mark_sent(alert.run_id, alert.subject, message_id)
        return message_id
