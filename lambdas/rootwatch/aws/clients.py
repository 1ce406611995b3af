"""boto3/botocore clients for rootwatch, built cheaply and safely.

``ClientFactory`` is the one way rootwatch code gets an AWS client:

- **One botocore session per factory.** Service models, endpoint rules and the credential chain are
  loaded once; every client (the caller's and the root sessions') shares them. A naive per-account loop built a
  new ``boto3.Session`` per account, which reloads the IAM model from disk each time (about 100 ms).
- **Clients are cached** per service (botocore clients are thread-safe).
- **STS goes to the regional endpoint, explicitly** (``https://sts.<region>.amazonaws.com``): AssumeRoot is
  not served by the global endpoint (docs/aws-behaviour.md#regional-sts-endpoint). An endpoint URL (the
  sandbox) overrides it.
- **botocore retries** in ``standard`` or ``adaptive`` mode, ``max_attempts`` in total.

``root_session(account_id, task_policy, duration_seconds)`` calls AssumeRoot and returns a
``RootSession``: ``.client(service)`` gives clients signed as the member account's root user, scoped by
the task policy. The session's credentials never leave it: no attribute, repr, log line, pickle or
exception message carries them, and they are forgotten when the session closes.

Root clients are reused, not rebuilt per account: each thread keeps one client per service whose
credentials object reads the root session currently open *on that thread*. Building an IAM client costs
several milliseconds (botocore creates ~180 methods and copies its event hooks), more than the two API
calls of a clean account. Such a client refuses to sign on another thread, or after its session closed.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import CredentialProvider, CredentialResolver, Credentials, ReadOnlyCredentials
from botocore.exceptions import ClientError

from rootwatch import __version__
from rootwatch.aws.errors import classify, scrub
from rootwatch.domain.account_ids import is_account_id
from rootwatch.domain.task_policies import TaskPolicy

DEFAULT_REGION = "us-east-1"
DEFAULT_MAX_ATTEMPTS = 5
#: AssumeRoot accepts 0-900 s. An audit needs a few seconds; a short session limits what a leak could do.
DEFAULT_ROOT_SESSION_SECONDS = 60
MAX_ROOT_SESSION_SECONDS = 900
RETRY_MODES = ("standard", "adaptive")


class RootSessionClosedError(RuntimeError):
    """A root-session client was used after its session closed, or on another thread."""


class ClientFactory:
    """Cached AWS clients from one botocore session, plus AssumeRoot sessions (see the module docstring).

    ``region`` is the region of regional clients and of the STS endpoint (Lambda: ``AUDIT_REGION``).
    ``endpoint_url`` sends every client there (the sandbox); without it, ``AWS_ENDPOINT_URL_STS`` or
    ``AWS_ENDPOINT_URL`` is honoured for STS as botocore honours them for the others, else the regional STS
    endpoint. ``profile`` is a named AWS profile (``botocore.exceptions.ProfileNotFound`` when it does not
    exist). ``max_pool_connections`` should be at least the number of threads sharing a client.
    """

    def __init__(
        self,
        region: str = DEFAULT_REGION,
        endpoint_url: str | None = None,
        profile: str | None = None,
        retry_mode: str = "standard",
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        *,
        max_pool_connections: int = 10,
        botocore_session: botocore.session.Session | None = None,
    ) -> None:
        if retry_mode not in RETRY_MODES:
            raise ValueError(f"retry_mode: {retry_mode!r} is not one of {', '.join(RETRY_MODES)}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts: {max_attempts} must be at least 1")
        self.region = region
        self.endpoint_url = endpoint_url
        self.session = botocore_session or botocore.session.Session(profile=profile)
        if profile is not None:
            self.session.get_scoped_config()  # raises ProfileNotFound now, not at the first call
        self.config = Config(
            region_name=region,
            retries={"mode": retry_mode, "total_max_attempts": max_attempts},  # attempts, first included
            max_pool_connections=max_pool_connections,
            user_agent_extra=f"rootwatch/{__version__}",
        )
        self._clients: dict[str, BaseClient] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._hooks: list[tuple[str, Callable[..., Any]]] = []
        self._thread_roots: weakref.WeakSet[_ThreadRoot] = weakref.WeakSet()  # dies with its thread
        _install_log_redaction()

    def __repr__(self) -> str:
        return f"ClientFactory(region={self.region!r}, endpoint_url={self.endpoint_url!r})"

    def client(self, service: str) -> BaseClient:
        """The caller's client for ``service`` (cached; thread-safe). STS uses the regional endpoint."""
        client = self._clients.get(service)
        if client is None:
            with self._lock:
                client = self._clients.get(service)
                if client is None:
                    client = self.session.create_client(
                        service, region_name=self.region, endpoint_url=self._endpoint_for(service), config=self.config
                    )
                    self._clients[service] = client
        return client

    def register_event(self, event_name: str, handler: Callable[..., Any]) -> None:
        """Register a botocore event handler (e.g. ``before-send`` to count requests) on every client.

        It reaches the caller's clients and the root-session clients alike, but only clients created after
        this call: register before the first ``client()``/``root_session()``.
        """
        with self._lock:
            self._hooks.append((event_name, handler))
            self.session.register(event_name, handler)
            for thread_root in self._thread_roots:
                thread_root.register(event_name, handler)

    def sts_endpoint_url(self) -> str:
        """Where AssumeRoot goes: the sandbox/override, else ``https://sts.<region>.amazonaws.com``."""
        return self._endpoint_for("sts") or f"https://sts.{self.region}.amazonaws.com"

    def root_session(
        self,
        account_id: str,
        task_policy: TaskPolicy = TaskPolicy.IAM_AUDIT_ROOT_USER_CREDENTIALS,
        duration_seconds: int = DEFAULT_ROOT_SESSION_SECONDS,
    ) -> RootSession:
        """AssumeRoot into ``account_id`` with ``task_policy``; use the result as a context manager.

        Raises ``ValueError`` for a malformed account id or duration, and a ``RootwatchError`` subclass
        (through ``classify``) when AssumeRoot fails: ``FeatureDisabledError`` when the org feature is off,
        ``AccessDeniedError`` for an SCP or a missing permission, ``ThrottledError`` once botocore's
        retries are spent.
        """
        if not is_account_id(account_id):
            raise ValueError(f"account_id: {account_id!r} is not a 12-digit AWS account id")
        if not 0 < duration_seconds <= MAX_ROOT_SESSION_SECONDS:
            raise ValueError(f"duration_seconds: {duration_seconds} must be between 1 and {MAX_ROOT_SESSION_SECONDS}")
        try:
            answer = self.client("sts").assume_root(
                TargetPrincipal=account_id,
                TaskPolicyArn={"arn": TaskPolicy(task_policy).arn},
                DurationSeconds=duration_seconds,
            )
        except ClientError as exc:
            raise classify(exc, "AssumeRoot") from exc
        raw = answer.pop("Credentials")
        secret = _Secret(raw["AccessKeyId"], raw["SecretAccessKey"], raw["SessionToken"], account_id)
        expiration = raw.get("Expiration")
        del answer, raw
        return RootSession(self, account_id, TaskPolicy(task_policy), secret, expiration)

    # -- internals -------------------------------------------------------------------------------------

    def _endpoint_for(self, service: str) -> str | None:
        if self.endpoint_url:
            return self.endpoint_url
        if service == "sts":
            configured = os.environ.get("AWS_ENDPOINT_URL_STS") or os.environ.get("AWS_ENDPOINT_URL")
            return configured or f"https://sts.{self.region}.amazonaws.com"
        return None

    def _thread_root(self) -> _ThreadRoot:
        root = getattr(self._local, "root", None)
        if root is None:
            root = _ThreadRoot(self)
            with self._lock:
                for event_name, handler in self._hooks:
                    root.register(event_name, handler)
                self._thread_roots.add(root)
            self._local.root = root
        return root


class RootSession:
    """An open AssumeRoot session for one member account. Its credentials cannot be read back.

    ``client(service)`` returns a client signed as ``arn:aws:iam::<account_id>:root`` and limited by the
    task policy. Its calls raise botocore ``ClientError``: map them with ``rootwatch.aws.errors.classify``.
    Use the clients on the thread that opened the session, before it closes.
    """

    __slots__ = ("_bound", "_clients", "_factory", "_secret", "account_id", "expiration", "task_policy")

    def __init__(
        self,
        factory: ClientFactory,
        account_id: str,
        task_policy: TaskPolicy,
        secret: ReadOnlyCredentials,
        expiration: datetime | None,
    ) -> None:
        self._factory = factory
        self.account_id = account_id
        self.task_policy = task_policy
        self.expiration = expiration
        self._secret: ReadOnlyCredentials | None = secret
        self._clients: dict[str, BaseClient] = {}
        self._bound = factory._thread_root().bind(secret)

    def client(self, service: str) -> BaseClient:
        """A client for ``service`` signed with this root session's credentials."""
        if self._secret is None:
            raise RootSessionClosedError(f"the root session for {self.account_id} is closed")
        if self._bound:
            return self._factory._thread_root().client(service)
        client = self._clients.get(service)
        if client is None:
            # Nested sessions on one thread get clients of their own (rare: remediation flows).
            client = self._factory.session.create_client(
                service,
                region_name=self._factory.region,
                endpoint_url=self._factory._endpoint_for(service),
                config=self._factory.config,
                aws_access_key_id=self._secret.access_key,
                aws_secret_access_key=self._secret.secret_key,
                aws_session_token=self._secret.token,
            )
            self._clients[service] = client
        return client

    @property
    def closed(self) -> bool:
        return self._secret is None

    def close(self) -> None:
        """Forget the credentials; clients from this session stop signing. Idempotent."""
        if self._secret is not None and self._bound:
            self._factory._thread_root().unbind(self._secret)
        self._secret = None
        self._clients.clear()

    def __enter__(self) -> RootSession:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._secret is None else "open"
        return f"RootSession(account_id={self.account_id!r}, task_policy={self.task_policy.value!r}, {state})"

    def __reduce__(self) -> Any:
        raise TypeError("a RootSession cannot be pickled or copied")

    def __getstate__(self) -> Any:
        raise TypeError("a RootSession cannot be pickled or copied")


class _Secret(ReadOnlyCredentials):
    """botocore's frozen credentials, with a repr that never shows them (tracebacks with locals, debuggers)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<root-session credentials>"

    __str__ = __repr__


class _SlotCredentials(Credentials):
    """botocore credentials read at signing time from the root session open on the owning thread."""

    method = "rootwatch-root-session"

    def __init__(self) -> None:  # no super().__init__: there are no static keys to store
        self._owner = threading.get_ident()
        self._current: ReadOnlyCredentials | None = None

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        if threading.get_ident() != self._owner:
            raise RootSessionClosedError("a root-session client was used on another thread than its session's")
        if self._current is None:
            raise RootSessionClosedError("a root-session client was used after its session closed")
        return self._current

    @property  # type: ignore[override]
    def access_key(self) -> str:
        return self.get_frozen_credentials().access_key

    @property  # type: ignore[override]
    def secret_key(self) -> str:
        return self.get_frozen_credentials().secret_key

    @property  # type: ignore[override]
    def token(self) -> str | None:
        return self.get_frozen_credentials().token

    @property  # type: ignore[override]
    def account_id(self) -> str | None:
        return self.get_frozen_credentials().account_id

    def __repr__(self) -> str:
        return "<root-session credentials>"


class _SlotProvider(CredentialProvider):
    METHOD = _SlotCredentials.method

    def __init__(self, slot: _SlotCredentials) -> None:
        super().__init__()
        self._slot = slot

    def load(self) -> Credentials:
        return self._slot


class _ThreadRoot:
    """One thread's reusable root clients and the credentials slot they sign with."""

    def __init__(self, factory: ClientFactory) -> None:
        self._factory = factory
        self.slot = _SlotCredentials()
        self._clients: dict[str, BaseClient] = {}
        # A session of its own (its credential chain is the slot), sharing the factory's loaded models.
        self._session = botocore.session.Session(profile=factory.session.profile)  # same config file settings
        self._session.register_component("data_loader", factory.session.get_component("data_loader"))
        self._session.register_component("credential_provider", CredentialResolver([_SlotProvider(self.slot)]))

    def register(self, event_name: str, handler: Callable[..., Any]) -> None:
        self._session.register(event_name, handler)

    def bind(self, secret: ReadOnlyCredentials) -> bool:
        """Make ``secret`` this thread's signing credentials; False when another session holds the slot."""
        if self.slot._current is not None:
            return False
        self.slot._current = secret
        return True

    def unbind(self, secret: ReadOnlyCredentials) -> None:
        if self.slot._current is secret:
            self.slot._current = None

    def client(self, service: str) -> BaseClient:
        client = self._clients.get(service)
        if client is None:
            client = self._session.create_client(
                service,
                region_name=self._factory.region,
                endpoint_url=self._factory._endpoint_for(service),
                config=self._factory.config,
            )
            self._clients[service] = client
        return client


class RedactCredentials(logging.Filter):
    """Scrubs credential-shaped text from log records (botocore's signed headers and STS bodies, rootwatch's own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_REDACTED_LOGGERS = ("botocore.auth", "botocore.endpoint", "botocore.parsers")
_redaction_installed = False


def _install_log_redaction() -> None:
    """botocore logs signed requests and response bodies at DEBUG; never let root credentials through."""
    global _redaction_installed
    if _redaction_installed:
        return
    redact = RedactCredentials()
    for name in _REDACTED_LOGGERS:
        logging.getLogger(name).addFilter(redact)
    _redaction_installed = True
