"""CDK context the integration tests deploy the synthesized stack with (over cdk.json's).

Each distinct context costs one synth per xdist worker (a few seconds, then cached), so tests share these.
"""

from __future__ import annotations

from typing import Any

#: Pipeline tests: a small Map, botocore hands every throttle straight to the state machine's Retry (1 attempt,
#: standard mode: adaptive mode's client-side rate limiting sleeps for real), no EMF lines in the output.
PIPELINE: dict[str, Any] = {
    "rootwatch:mapMaxConcurrency": 4,
    "rootwatch:sdkMaxAttempts": 1,
    "rootwatch:sdkRetryMode": "standard",
    "rootwatch:metricsEnabled": False,
}


def pipeline(**overrides: Any) -> dict[str, Any]:
    """PIPELINE with ``rootwatch:<key>`` overrides, e.g. ``pipeline(resourcePrefix="deployed")``."""
    return PIPELINE | {f"rootwatch:{key}": value for key, value in overrides.items()}
