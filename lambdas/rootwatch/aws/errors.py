"""The one place where AWS errors become rootwatch error kinds (errors are types, never strings).

``classify`` maps a botocore ``ClientError`` to a ``RootwatchError`` subclass by its error *code*, through
``KIND_FOR_CODE``. There is exactly one exception to "codes, never messages": AssumeRoot answers
``AccessDenied`` both for a real denial (an SCP, a missing ``sts:AssumeRoot`` permission) and for an
organization feature that is not enabled (docs/aws-behaviour.md#feature-disabled-messages). Those feature
answers are told apart by their exact
message, in ``FEATURE_DISABLED_MESSAGES``, and nowhere else.

The returned error keeps AWS's own message (an SCP explicit deny explains itself), with anything that looks
like a credential scrubbed out, so that it is safe to log, store in a record, or put in an alert.
"""

from __future__ import annotations

import re

from botocore.exceptions import ClientError

from rootwatch.domain import features
from rootwatch.domain.errors import (
    AccessDeniedError,
    ErrorKind,
    ExpiredError,
    FeatureDisabledError,
    RootwatchError,
    ThrottledError,
    UnknownAwsError,
)

#: AWS error code -> kind. Codes not listed are UNKNOWN.
KIND_FOR_CODE: dict[str, ErrorKind] = {
    # Denied by IAM, an SCP or a task policy. EC2 says UnauthorizedOperation, SNS AuthorizationError
    # (docs/aws-behaviour.md#task-policy-deny).
    "AccessDenied": ErrorKind.ACCESS_DENIED,
    "AccessDeniedException": ErrorKind.ACCESS_DENIED,
    "UnauthorizedOperation": ErrorKind.ACCESS_DENIED,
    "AuthorizationError": ErrorKind.ACCESS_DENIED,
    # IAM's organization features need trusted access for iam.amazonaws.com first
    # (docs/aws-behaviour.md#iam-organization-features).
    "ServiceAccessNotEnabledException": ErrorKind.FEATURE_DISABLED,
    # The throttling codes botocore's standard retry mode recognises, minus the quota ones
    # (LimitExceededException is IAM's "too many keys", not a rate).
    "Throttling": ErrorKind.THROTTLED,
    "ThrottlingException": ErrorKind.THROTTLED,
    "ThrottledException": ErrorKind.THROTTLED,
    "RequestThrottledException": ErrorKind.THROTTLED,
    "RequestThrottled": ErrorKind.THROTTLED,
    "TooManyRequestsException": ErrorKind.THROTTLED,
    "ProvisionedThroughputExceededException": ErrorKind.THROTTLED,
    "RequestLimitExceeded": ErrorKind.THROTTLED,
    "BandwidthLimitExceeded": ErrorKind.THROTTLED,
    "SlowDown": ErrorKind.THROTTLED,
    "PriorRequestNotComplete": ErrorKind.THROTTLED,
    "EC2ThrottledException": ErrorKind.THROTTLED,
    # The caller's (or the root session's) temporary credentials ran out.
    "ExpiredToken": ErrorKind.EXPIRED,
    "ExpiredTokenException": ErrorKind.EXPIRED,
}

#: AssumeRoot's AccessDenied answers that mean "the organization feature is off", not "you are denied"
#: (observed in real AWS: docs/aws-behaviour.md#feature-disabled-messages). Compared exactly, after trimming
#: whitespace and a trailing period.
FEATURE_DISABLED_MESSAGES: frozenset[str] = frozenset(
    message.rstrip(".") for message in features.FEATURE_DISABLED_MESSAGES.values()
)

ERROR_CLASS: dict[ErrorKind, type[RootwatchError]] = {
    ErrorKind.ACCESS_DENIED: AccessDeniedError,
    ErrorKind.FEATURE_DISABLED: FeatureDisabledError,
    ErrorKind.THROTTLED: ThrottledError,
    ErrorKind.EXPIRED: ExpiredError,
    ErrorKind.UNKNOWN: UnknownAwsError,
}

# Anything shaped like an AWS credential: access key ids, 40-character secrets, long session tokens.
_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16}\b")
_SECRET_OR_TOKEN = re.compile(r"(?<![A-Za-z0-9/+=])(?:[A-Za-z0-9/+]{40}|[A-Za-z0-9/+=]{64,})(?![A-Za-z0-9/+=])")
REDACTED = "[REDACTED]"


def classify(error: BaseException, operation: str | None = None) -> RootwatchError:
    """The rootwatch error for an AWS failure; never raises.

    ``error`` is normally a botocore ``ClientError``; any other exception (a connection error, missing
    credentials) becomes UNKNOWN with its text. ``operation`` defaults to the ClientError's own operation
    name. The message is AWS's, with credential-shaped strings replaced by ``[REDACTED]``. The original
    exception is set as ``__cause__`` so tracebacks stay useful.
    """
    if isinstance(error, RootwatchError):
        return error
    if isinstance(error, ClientError):
        details = error.response.get("Error", {}) or {}
        code = str(details.get("Code") or "Unknown")
        message = scrub(str(details.get("Message") or code))
        operation = operation or getattr(error, "operation_name", None)
        kind = kind_for(code, message, operation)
    else:
        code = type(error).__name__
        message = scrub(str(error) or code)
        kind = ErrorKind.UNKNOWN
    result = ERROR_CLASS[kind](message, operation=operation, aws_code=code)
    result.__cause__ = error
    return result


def kind_for(code: str, message: str = "", operation: str | None = None) -> ErrorKind:
    """The kind for an AWS error code (and, for AssumeRoot's AccessDenied only, its exact message)."""
    kind = KIND_FOR_CODE.get(code, ErrorKind.UNKNOWN)
    if kind is ErrorKind.ACCESS_DENIED and operation in (None, "AssumeRoot") and _is_feature_message(message):
        return ErrorKind.FEATURE_DISABLED
    return kind


def scrub(text: str) -> str:
    """``text`` with anything shaped like an access key id, secret key or session token redacted."""
    return _SECRET_OR_TOKEN.sub(REDACTED, _ACCESS_KEY_ID.sub(REDACTED, text))


def _is_feature_message(message: str) -> bool:
    return message.strip().rstrip(".").strip() in FEATURE_DISABLED_MESSAGES
