"""rootwatch's error kinds (docs/contracts.md). Pure: the ClientError mapping lives in rootwatch.aws.errors.

The class names are part of the state machine's contract: Step Functions retries and catches by the
Lambda ``errorType``, which is the exception's class name (e.g. ``ThrottledError``).
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    ACCESS_DENIED = "ACCESS_DENIED"
    FEATURE_DISABLED = "FEATURE_DISABLED"
    THROTTLED = "THROTTLED"
    EXPIRED = "EXPIRED"
    UNKNOWN = "UNKNOWN"


class RootwatchError(Exception):
    """An AWS failure, classified. ``message`` is AWS's own text, never a credential."""

    kind: ErrorKind = ErrorKind.UNKNOWN

    def __init__(self, message: str, *, operation: str | None = None, aws_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.aws_code = aws_code


class AccessDeniedError(RootwatchError):
    kind = ErrorKind.ACCESS_DENIED


class FeatureDisabledError(RootwatchError):
    kind = ErrorKind.FEATURE_DISABLED


class ThrottledError(RootwatchError):
    kind = ErrorKind.THROTTLED


class ExpiredError(RootwatchError):
    kind = ErrorKind.EXPIRED


class UnknownAwsError(RootwatchError):
    kind = ErrorKind.UNKNOWN
