"""The adapters the handlers pass to the services, built on first use and kept for the container's life.

Nothing is built at import time: a test sets the environment, then invokes; a cold start builds only
what its handler needs.
"""

from __future__ import annotations

import functools

from rootwatch.aws.clients import ClientFactory
from rootwatch.aws.notifier import Notifier
from rootwatch.aws.results_writer import ResultsWriter
from rootwatch.aws.status_store import StatusStore
from rootwatch.handlers.settings import settings


@functools.cache
def client_factory() -> ClientFactory:
    """Clients in the audit region; botocore retries throttling (adaptive) before Step Functions does."""
    return ClientFactory(region=settings().audit_region, retry_mode="adaptive", max_attempts=5)


@functools.cache
def status_store() -> StatusStore:
    config = settings()
    return StatusStore(client_factory().client("dynamodb"), config.table_name, history_ttl_days=config.history_ttl_days)


@functools.cache
def results_writer() -> ResultsWriter:
    return ResultsWriter(client_factory().client("s3"), settings().bucket_name)


@functools.cache
def notifier() -> Notifier:
    return Notifier(client_factory().client("sns"), settings().topic_arn)


def reset() -> None:
    """Forget every cached adapter and the settings (tests, and the sandbox between deployments)."""
    for cached in (client_factory, status_store, results_writer, notifier, settings):
        cached.cache_clear()
