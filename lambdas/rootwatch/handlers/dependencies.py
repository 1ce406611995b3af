"""The adapters the handlers pass to the services, built on first use and kept for the container's life.

Nothing is built at import time: a test sets the environment, then invokes; a cold start builds only
what its handler needs. The adapters are cached per ``Settings`` (in AWS: once per container; in the
sandbox, where stacks share a process, once per stack).
"""

from __future__ import annotations

import functools

from rootwatch.aws.clients import ClientFactory
from rootwatch.aws.notifier import Notifier
from rootwatch.aws.results_writer import ResultsWriter
from rootwatch.aws.status_store import StatusStore
from rootwatch.domain.exemptions import Exemption, ExemptionError, exemptions_from_env
from rootwatch.handlers.settings import ConfigError, Settings, settings


def client_factory() -> ClientFactory:
    """Clients in the audit region; botocore retries throttling (adaptive, 5 attempts by default) before
    Step Functions does (AWS_RETRY_MODE / AWS_MAX_ATTEMPTS, botocore's own variable names, override it)."""
    return _client_factory(settings())


def status_store() -> StatusStore:
    """The status table."""
    return _status_store(settings())


def results_writer() -> ResultsWriter:
    """The results bucket."""
    return _results_writer(settings())


def notifier() -> Notifier:
    """The alert topic."""
    return _notifier(settings())


def exemptions() -> tuple[Exemption, ...]:
    """The exemptions from ROOTWATCH_EXEMPTIONS (cdk.json context), validated once.

    An invalid entry is a ``ConfigError`` naming it, so the run fails at its start (PrepareRun) with one
    alert. Entries that expired since deploy are kept but no longer apply: their findings alert again.
    """
    return _exemptions(settings())


@functools.lru_cache(maxsize=8)
def _exemptions(config: Settings) -> tuple[Exemption, ...]:
    try:
        return tuple(exemptions_from_env(config.exemptions_json))
    except ExemptionError as exc:
        raise ConfigError(f"environment variable ROOTWATCH_EXEMPTIONS: {exc}") from None


@functools.lru_cache(maxsize=8)
def _client_factory(config: Settings) -> ClientFactory:
    return ClientFactory(region=config.audit_region, retry_mode=config.retry_mode, max_attempts=config.max_attempts)


@functools.lru_cache(maxsize=8)
def _status_store(config: Settings) -> StatusStore:
    client = _client_factory(config).client("dynamodb")
    return StatusStore(client, config.table_name, history_ttl_days=config.history_ttl_days)


@functools.lru_cache(maxsize=8)
def _results_writer(config: Settings) -> ResultsWriter:
    return ResultsWriter(_client_factory(config).client("s3"), config.bucket_name)


@functools.lru_cache(maxsize=8)
def _notifier(config: Settings) -> Notifier:
    return Notifier(_client_factory(config).client("sns"), config.topic_arn)


def reset() -> None:
    """Forget every cached adapter and the settings (tests, and the sandbox between sandboxes)."""
    for cached in (_client_factory, _status_store, _results_writer, _notifier, _exemptions):
        cached.cache_clear()
    settings.cache_clear()  # type: ignore[attr-defined]
