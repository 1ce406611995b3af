"""Publishes a run's alert to the SNS topic (DESIGN.md, "The alert", a contract).

One publish with ``MessageStructure=json``: email subscribers get the plain text, SQS/Lambda/HTTPS and
email-json subscribers get the ``rootwatch.alert/v1`` JSON. The message attribute ``event_type``
(``ROOT_CREDENTIALS_ALERT``) lets subscribers filter. ``publish_once`` sends a run's alert at most once,
using a marker that ``claim`` sets atomically (the status store's conditional write).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rootwatch.domain.alert import EVENT_TYPE, Alert


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
            MessageAttributes={"event_type": {"DataType": "String", "StringValue": EVENT_TYPE}},
        )
        return response["MessageId"]

    def publish_once(
        self, alert: Alert, *, claim: Callable[[str, str], bool], release: Callable[[str], None]
    ) -> str | None:
        """Publish unless this run's alert was already sent; the message id, or None when it was.

        ``claim(run_id, subject)`` must atomically mark the run's alert as sent and say whether it
        won; ``release(run_id)`` undoes that when the publish fails, so a retry can send it.
        """
        if not claim(alert.run_id, alert.subject):
            return None
        try:
            return self.publish(alert)
        except BaseException:
            release(alert.run_id)
            raise
