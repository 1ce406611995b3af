"""Lambda handlers the sandbox runtime tests deploy (Handler = "tests.integration.sandbox_handlers.<name>").

They read their settings from the function's environment at call time, as rootwatch's handlers do.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from typing import Any

import boto3


class ThrottledLikeError(Exception):
    """Stands for a throttling error: the state machine retries it by this class name."""


class PermanentLikeError(Exception):
    """Stands for an error no retry fixes: the state machine catches it by this class name."""


_attempts: Counter[str] = Counter()
_attempts_lock = threading.Lock()


def reset_attempts() -> None:
    """Forget how often each item was attempted (call between tests)."""
    with _attempts_lock:
        _attempts.clear()


def attempts(key: str) -> int:
    """How many times ``flaky`` was called for ``key``."""
    with _attempts_lock:
        return _attempts[key]


def echo(event: Any, context: Any) -> dict[str, Any]:
    """Returns the event with the function's MARKER variable and what the context says about the function."""
    return {
        "event": event,
        "marker": os.environ.get("MARKER"),
        "function_name": context.function_name,
        "remaining_ms_positive": context.get_remaining_time_in_millis() > 0,
        "region": os.environ.get("AWS_REGION"),
    }


def flaky(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Raises ThrottledLikeError for the first ``event["fail_times"]`` calls per ``event["id"]``, then records it.

    On success it writes ``<RESULT_PREFIX><id>`` to the bucket named by ``BUCKET_NAME``, proving boto3 inside
    a handler reaches the sandbox, and returns the id, the attempt number and the function's MARKER.
    """
    item_id = str(event["id"])
    with _attempts_lock:
        _attempts[item_id] += 1
        attempt = _attempts[item_id]
    if event.get("permanent"):
        raise PermanentLikeError(f"item {item_id} can never succeed")
    if attempt <= int(event.get("fail_times", 0)):
        raise ThrottledLikeError(f"Rate exceeded for item {item_id} (attempt {attempt})")
    s3 = boto3.client("s3", region_name=os.environ["AWS_REGION"])
    s3.put_object(Bucket=os.environ["BUCKET_NAME"], Key=f"{os.environ['RESULT_PREFIX']}{item_id}", Body=b"done")
    return {"id": item_id, "attempt": attempt, "marker": os.environ.get("MARKER")}


def permanent(event: Any, context: Any) -> None:
    """Always fails with PermanentLikeError."""
    raise PermanentLikeError("this function always fails")


def whoami(event: Any, context: Any) -> dict[str, Any]:
    """The caller identity boto3 sees inside the handler."""
    identity = boto3.client("sts", region_name=os.environ["AWS_REGION"]).get_caller_identity()
    return {"account": identity["Account"], "arn": identity["Arn"]}


def returns_unserializable(event: Any, context: Any) -> object:
    """Returns something JSON cannot carry (AWS answers Runtime.MarshalError)."""
    return object()
