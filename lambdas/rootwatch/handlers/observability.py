"""The one Powertools Logger, Tracer and Metrics set of the rootwatch service (names from the environment:
POWERTOOLS_SERVICE_NAME=rootwatch, POWERTOOLS_METRICS_NAMESPACE=rootwatch)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="rootwatch")
tracer = Tracer(service="rootwatch")
metrics = Metrics(service="rootwatch")
