"""The adapters the handlers pass to the services, built on first use and kept for the container's life.

Nothing is built at import time: a test sets the environment, then invokes; a cold start builds only
what its handler needs. The adapters are cached per ``Settings`` and per credentials (in AWS: once per
container; in the sandbox, where functions share a process, once per stack and function role).

The clients resolve credentials and endpoints from the environment once, when built. In AWS each function
has its own container, so that is its role; in the sandbox the functions of one stack share the same Settings
but not their roles, so the cache is also keyed by the environment's access key id (a public identifier, not
a secret) and ``AWS_ENDPOINT_URL``: a function never reuses a client signed with another function's role, or
one pointed at another sandbox.
"""

from __future__ import annotations

import functools
import os

from rootwatch.aws.clients import ClientFactory
from rootwatch.aws.events import EventPublisher
from rootwatch.aws.exemption_store import ExemptionStore
from rootwatch.aws.notifier import Notifier
from rootwatch.aws.results_writer import ResultsWriter
from rootwatch.aws.securityhub import SecurityHubImporter
from rootwatch.aws.status_store import StatusStore
from rootwatch.domain.exemptions import Exemption, ExemptionError, exemptions_from_env
from rootwatch.handlers.settings import ConfigError, Settings, settings


def client_factory() -> ClientFactory:
    """Clients in the audit region; botocore retries throttling (adaptive, 5 attempts by default) before
    Step Functions does (AWS_RETRY_MODE / AWS_MAX_ATTEMPTS, botocore's own variable names, override it)."""
    return _client_factory(settings(), _credentials_key())


def status_store() -> StatusStore:
    """The status table."""
    return _status_store(settings(), _credentials_key())


def results_writer() -> ResultsWriter:
    """The results bucket."""
    return _results_writer(settings(), _credentials_key())


def exemption_store() -> ExemptionStore:
    """The status table's ``EXEMPTION`` partition (PrepareRun reads it once a run; nothing here is cached)."""
    return ExemptionStore(_client_factory(settings(), _credentials_key()).client("dynamodb"), settings().table_name)


def notifier() -> Notifier:
    """The alert topic."""
    return _notifier(settings(), _credentials_key())


def security_hub() -> SecurityHubImporter | None:
    """FinishRun's Security Hub importer (in the product ARN's region), or None when the feature is off."""
    config = settings()
    if not config.security_hub_product_arn:
        return None
    return _security_hub(config, _credentials_key())


def event_publisher() -> EventPublisher | None:
    """FinishRun's EventBridge publisher (in the bus's region), or None when the feature is off."""
    config = settings()
    if not config.event_bus_arn:
        return None
    return _event_publisher(config, _credentials_key())


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


#: Which credentials (their access key id) and endpoint the environment holds: clients never cross roles.
_CredentialsKey = tuple[str | None, str | None]


def _credentials_key() -> _CredentialsKey:
    """The environment's access key id and ``AWS_ENDPOINT_URL`` (which the clients read when built)."""
    return os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_ENDPOINT_URL")


@functools.lru_cache(maxsize=8)
def _client_factory(config: Settings, credentials: _CredentialsKey | None = None) -> ClientFactory:
    return ClientFactory(region=config.audit_region, retry_mode=config.retry_mode, max_attempts=config.max_attempts)


@functools.lru_cache(maxsize=8)
def _status_store(config: Settings, credentials: _CredentialsKey | None = None) -> StatusStore:
    client = _client_factory(config, credentials).client("dynamodb")
    return StatusStore(client, config.table_name, history_ttl_days=config.history_ttl_days)


@functools.lru_cache(maxsize=8)
def _results_writer(config: Settings, credentials: _CredentialsKey | None = None) -> ResultsWriter:
    return ResultsWriter(_client_factory(config, credentials).client("s3"), config.bucket_name)


@functools.lru_cache(maxsize=8)
def _notifier(config: Settings, credentials: _CredentialsKey | None = None) -> Notifier:
    return Notifier(_client_factory(config, credentials).client("sns"), config.topic_arn)


@functools.lru_cache(maxsize=8)
def _security_hub(config: Settings, credentials: _CredentialsKey | None = None) -> SecurityHubImporter:
    arn = str(config.security_hub_product_arn)
    return SecurityHubImporter(_regional_factory(config, arn.split(":")[3], credentials).client("securityhub"), arn)


@functools.lru_cache(maxsize=8)
def _event_publisher(config: Settings, credentials: _CredentialsKey | None = None) -> EventPublisher:
    arn = str(config.event_bus_arn)
    return EventPublisher(_regional_factory(config, arn.split(":")[3], credentials).client("events"), arn)


@functools.lru_cache(maxsize=8)
def _regional_factory(config: Settings, region: str, credentials: _CredentialsKey | None) -> ClientFactory:
    """The audit region's factory, or one for ``region`` (Security Hub and the bus live in the stack's region)."""
    if region == config.audit_region:
        return _client_factory(config, credentials)
    return ClientFactory(region=region, retry_mode=config.retry_mode, max_attempts=config.max_attempts)


def reset() -> None:
    """Forget every cached adapter and the settings (tests, and the sandbox between sandboxes)."""
    for cached in (
        _client_factory,
        _status_store,
        _results_writer,
        _notifier,
        _exemptions,
        _security_hub,
        _event_publisher,
        _regional_factory,
    ):
        cached.cache_clear()
    settings.cache_clear()  # type: ignore[attr-defined]
