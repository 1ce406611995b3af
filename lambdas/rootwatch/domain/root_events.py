"""The events that change a member account's root credentials, and how one is read and checked. Pure.

The re-audit (``rootwatch.services.reaudit``) audits an account when one of these reaches the central bus
(docs/pipeline.md, "Re-audit on change"); infra's rule matches the same lists (``ROOT_EVENT_SOURCES``,
``ROOT_EVENT_DETAIL_TYPES``, ``ROOT_EVENT_NAMES``), so the rule and the check never disagree.

An event is data from outside: it is checked here, field by field, before any account id in it is used.
Checked: a JSON object; ``source`` and ``detail-type`` those of CloudTrail's IAM or sign-in events (a custom
``PutEvents`` cannot use an ``aws.`` source); ``account`` a 12-digit id; ``detail.recipientAccountId``, when
present, the same id; ``detail.eventName`` one of ``ROOT_EVENT_NAMES``; ``detail.userIdentity.type`` ``Root``
(the root user itself, or an ``AssumeRoot`` session, which CloudTrail records as the root user). Membership in
the organization is the caller's check (Organizations DescribeAccount), never this module's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rootwatch.domain.account_ids import is_account_id

#: CloudTrail's EventBridge sources and detail-types for the events below.
ROOT_EVENT_SOURCES = ("aws.iam", "aws.signin")
ROOT_EVENT_DETAIL_TYPES = ("AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail")

#: CloudTrail event names that add, change or remove a root credential (IAM), or are the root user's sign-in or
#: password recovery (sign-in). infra/realtime.py's member rule forwards exactly these.
ROOT_EVENT_NAMES = (
    # password
    "CreateLoginProfile",
    "UpdateLoginProfile",
    "DeleteLoginProfile",
    "ChangePassword",
    "PasswordRecoveryRequested",
    "PasswordRecoveryCompleted",
    "PasswordUpdated",
    # a root sign-in (the password is in use: worth a fresh look)
    "ConsoleLogin",
    # access keys
    "CreateAccessKey",
    "UpdateAccessKey",
    "DeleteAccessKey",
    # MFA
    "EnableMFADevice",
    "DeactivateMFADevice",
    "DeleteVirtualMFADevice",
    # signing certificates
    "UploadSigningCertificate",
    "UpdateSigningCertificate",
    "DeleteSigningCertificate",
)
_NAMES = frozenset(ROOT_EVENT_NAMES)
#: ``userIdentity.type`` of the root user, and of an AssumeRoot session acting as it.
ROOT_IDENTITY_TYPE = "Root"
#: Longest event id and time kept (CloudTrail's are a UUID and an ISO-8601 second); longer ones are malformed.
_FIELD_MAX = 64


@dataclass(frozen=True)
class RootEvent:
    """A checked root-credential event: which account, and what the alert names it by."""

    account_id: str
    event_name: str
    event_time: str
    event_id: str

    def to_dict(self) -> dict[str, str]:
        """The alert's ``triggering_events`` entry."""
        return {"event_name": self.event_name, "event_time": self.event_time, "event_id": self.event_id}


@dataclass(frozen=True)
class DroppedEvent:
    """An event that audits nothing: ``reason`` is ``malformed`` or ``not_a_root_event``.

    ``account_id`` and ``event_name`` are set only when they passed their own check (logs may show them).
    """

    reason: str
    detail: str
    account_id: str | None = None
    event_name: str | None = None


MALFORMED = "malformed"
NOT_A_ROOT_EVENT = "not_a_root_event"


def parse_root_event(body: Any) -> RootEvent | DroppedEvent:
    """An SQS message body (the EventBridge event as JSON text, or already parsed) checked as a root event."""
    if isinstance(body, str | bytes):
        try:
            body = json.loads(body)
        except ValueError:
            return DroppedEvent(MALFORMED, "the body is not JSON")
    if not isinstance(body, dict):
        return DroppedEvent(MALFORMED, "the body is not a JSON object")
    account = body.get("account")
    if not is_account_id(account):
        return DroppedEvent(MALFORMED, "account is not a 12-digit account id")
    detail = body.get("detail")
    if not isinstance(detail, dict):
        return DroppedEvent(MALFORMED, "detail is not an object", account_id=account)
    name = detail.get("eventName")
    known_name = name if isinstance(name, str) and name in _NAMES else None
    if body.get("source") not in ROOT_EVENT_SOURCES or body.get("detail-type") not in ROOT_EVENT_DETAIL_TYPES:
        return DroppedEvent(NOT_A_ROOT_EVENT, "source or detail-type is not CloudTrail's", account, known_name)
    if known_name is None:
        return DroppedEvent(NOT_A_ROOT_EVENT, "eventName is not a root-credential event", account_id=account)
    recipient = detail.get("recipientAccountId")
    if recipient is not None and recipient != account:
        return DroppedEvent(MALFORMED, "recipientAccountId is not the event's account", account, known_name)
    identity = detail.get("userIdentity")
    if not isinstance(identity, dict) or identity.get("type") != ROOT_IDENTITY_TYPE:
        return DroppedEvent(NOT_A_ROOT_EVENT, "userIdentity is not the root user", account, known_name)
    event_time, event_id = detail.get("eventTime", body.get("time")), detail.get("eventID", body.get("id"))
    if not all(isinstance(v, str) and 0 < len(v) <= _FIELD_MAX and v.isprintable() for v in (event_time, event_id)):
        return DroppedEvent(MALFORMED, "eventTime or eventID is missing or not a short string", account, known_name)
    return RootEvent(account_id=str(account), event_name=known_name, event_time=str(event_time), event_id=str(event_id))
