"""The one Powertools Logger, Metrics and Tracer set of the rootwatch service (names from the environment:
POWERTOOLS_SERVICE_NAME=rootwatch, POWERTOOLS_METRICS_NAMESPACE=rootwatch).

``tracer`` is created on first import of the name (PEP 562), not with this module: Powertools' Tracer
imports the X-Ray SDK, which alone costs more than the audit Lambda's whole cold-import budget (300 ms).
PrepareRun and FinishRun (one invocation each per run) use it; AuditAccount, which cold-starts once per
concurrent Map slot, does not: its invocations are still traced by the function's active tracing, without
subsegments for its two or three AWS calls.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="rootwatch")
metrics = Metrics(service="rootwatch")
_tracer: Any = None


def __getattr__(name: str) -> Any:
    if name == "tracer":
        global _tracer
        if _tracer is None:
            from aws_lambda_powertools import Tracer

            _tracer = Tracer(service="rootwatch")
        return _tracer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
