"""The sandbox runtime's process-wide settings: the Step Functions retry-wait scale and the handlers' endpoint."""

from __future__ import annotations

import logging
import os

LOG = logging.getLogger(__name__)

RETRY_SCALE_ENV = "ROOTWATCH_SANDBOX_RETRY_SCALE"
"""Environment variable: a factor applied to every Step Functions retry wait (e.g. 0.001 in tests)."""

_retry_scale: float | None = None
_endpoint_url: str | None = None


def set_retry_scale(scale: float | None) -> None:
    """Multiply every Step Functions retry wait by ``scale`` (0 disables the waits); None falls back to the env.

    AWS requires ``IntervalSeconds`` to be a whole number of seconds and moto waits for real, so a test that
    exercises Retry would sleep for seconds; with a scale of 0.001 a 2 s interval becomes 2 ms. The setting is
    process-wide and also read by a server in this process.
    """
    global _retry_scale
    if scale is not None and scale < 0:
        raise ValueError(f"retry scale: must be >= 0, got {scale}")
    _retry_scale = scale


def retry_scale() -> float:
    """The factor applied to retry waits: :func:`set_retry_scale`, else ``$ROOTWATCH_SANDBOX_RETRY_SCALE``, else 1."""
    if _retry_scale is not None:
        return _retry_scale
    raw = os.environ.get(RETRY_SCALE_ENV)
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        LOG.warning("%s=%r is not a number; retry waits are not scaled", RETRY_SCALE_ENV, raw)
        return 1.0
    return max(value, 0.0)


def set_endpoint_url(url: str | None) -> None:
    """Where handlers' boto3 calls go when no in-process mock is active (set by ``SandboxServer``)."""
    global _endpoint_url
    _endpoint_url = url


def handler_endpoint_url() -> str | None:
    """The endpoint for boto3 calls made inside the sandbox (handlers', the state machine's), or None when moto's
    in-process mock intercepts them."""
    from moto.core.models import botocore_stubber

    if botocore_stubber.enabled:
        return None
    if _endpoint_url:
        return _endpoint_url
    from moto.settings import moto_server_port

    return f"http://localhost:{moto_server_port()}"
