"""The sandbox's own state for centralized root access: root users, root sessions, org features, faults.

moto has no model of an account's root user, of AssumeRoot sessions or of the IAM organization
features, so the sandbox keeps them here. Everything is guarded by one re-entrant lock because the
sandbox also runs as a threaded server. ``reset()`` empties it; it runs whenever moto resets its
backends (a new in-process ``Sandbox``, or ``POST /moto-api/reset`` on a server).
"""

from __future__ import annotations

import datetime as dt
import random
import string
import threading
from dataclasses import dataclass, field

from rootwatch.domain.features import ORGANIZATION_FEATURES as ORGANIZATION_FEATURES
from rootwatch.domain.features import ROOT_CREDENTIALS_MANAGEMENT as ROOT_CREDENTIALS_MANAGEMENT
from rootwatch.domain.features import ROOT_SESSIONS as ROOT_SESSIONS
from rootwatch.domain.task_policies import TaskPolicy

_ID_ALPHABET = string.ascii_uppercase + string.digits
_rng = random.SystemRandom()


def random_id(prefix: str, length: int) -> str:
    """An AWS-looking identifier: ``prefix`` followed by upper-case letters and digits up to ``length``."""
    return prefix + "".join(_rng.choice(_ID_ALPHABET) for _ in range(length - len(prefix)))


class SandboxClock:
    """The sandbox's notion of "now" (UTC). Tests move it forward instead of sleeping."""

    def __init__(self) -> None:
        self._offset = dt.timedelta(0)

    def now(self) -> dt.datetime:
        """The current sandbox time, timezone-aware UTC, whole seconds."""
        return (dt.datetime.now(dt.UTC) + self._offset).replace(microsecond=0)

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (for example past a root session's expiry)."""
        self._offset += dt.timedelta(seconds=seconds)

    def reset(self) -> None:
        """Back to the real time."""
        self._offset = dt.timedelta(0)


@dataclass
class RootAccessKey:
    access_key_id: str
    status: str
    create_date: dt.datetime
    last_used_date: dt.datetime | None = None
    last_used_service: str | None = None
    last_used_region: str | None = None


@dataclass
class RootMfaDevice:
    serial_number: str
    enable_date: dt.datetime
    kind: str  # "virtual" or "hardware"


@dataclass
class RootSigningCertificate:
    certificate_id: str
    body: str
    status: str
    upload_date: dt.datetime


@dataclass
class RootLoginProfile:
    create_date: dt.datetime
    password_reset_required: bool = False


@dataclass
class RootUser:
    """One account's root user and its long-term credentials. Exists even with no credentials (observed)."""

    account_id: str
    create_date: dt.datetime
    login_profile: RootLoginProfile | None = None
    password_last_used: dt.datetime | None = None
    access_keys: list[RootAccessKey] = field(default_factory=list)
    mfa_devices: list[RootMfaDevice] = field(default_factory=list)
    signing_certificates: list[RootSigningCertificate] = field(default_factory=list)

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:root"

    def summary_flags(self) -> dict[str, int]:
        """The four GetAccountSummary root flags. An inactive key or certificate still counts as present (observed)."""
        return {
            "AccountMFAEnabled": int(bool(self.mfa_devices)),
            "AccountAccessKeysPresent": int(bool(self.access_keys)),
            "AccountPasswordPresent": int(self.login_profile is not None),
            "AccountSigningCertificatesPresent": int(bool(self.signing_certificates)),
        }


@dataclass(frozen=True)
class RootSession:
    """Credentials handed out by AssumeRoot: the target account's root, limited to one task policy."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    account_id: str
    task_policy: TaskPolicy
    expiration: dt.datetime

    @property
    def principal_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:root"


@dataclass
class Fault:
    """An injected failure: after letting ``after`` more matching calls through, ``operation`` in
    ``account_id`` fails ``remaining`` more times (None: always)."""

    account_id: str
    operation: str
    error_code: str
    message: str | None
    remaining: int | None
    after: int = 0

    def describe(self) -> dict[str, object]:
        return {
            "account_id": self.account_id,
            "operation": self.operation,
            "error_code": self.error_code,
            "message": self.message,
            "count": self.remaining,
            "after": self.after,
        }


class RootAccessState:
    """All of the sandbox's root-access state. Every public method takes the lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clock = SandboxClock()
        self._root_users: dict[str, RootUser] = {}
        self._sessions: dict[str, RootSession] = {}
        self._features: dict[str, set[str]] = {}
        self._faults: list[Fault] = []

    def reset(self) -> None:
        """Forget everything (moto was reset)."""
        with self.lock:
            self._root_users.clear()
            self._sessions.clear()
            self._features.clear()
            self._faults.clear()
            self.clock.reset()

    # --- root users -------------------------------------------------------------------------
    def root_user(self, account_id: str, create_date: dt.datetime | None = None) -> RootUser:
        """The account's root user, created without credentials on first use."""
        with self.lock:
            user = self._root_users.get(account_id)
            if user is None:
                user = RootUser(account_id=account_id, create_date=create_date or self.clock.now())
                self._root_users[account_id] = user
            return user

    def known_root_user(self, account_id: str) -> RootUser | None:
        """The root user if the sandbox has ever touched it (no side effect)."""
        with self.lock:
            return self._root_users.get(account_id)

    def replace_root_user(self, user: RootUser) -> None:
        with self.lock:
            self._root_users[user.account_id] = user

    # --- root sessions ----------------------------------------------------------------------
    def add_session(self, session: RootSession) -> None:
        with self.lock:
            self._sessions[session.access_key_id] = session

    def session_for(self, access_key_id: str | None) -> RootSession | None:
        """The root session these credentials belong to, expired or not; None for any other key."""
        if not access_key_id:
            return None
        with self.lock:
            return self._sessions.get(access_key_id)

    # --- organization features --------------------------------------------------------------
    def enabled_features(self, organization_id: str) -> set[str]:
        with self.lock:
            return set(self._features.get(organization_id, ()))

    def set_feature(self, organization_id: str, feature: str, enabled: bool) -> set[str]:
        with self.lock:
            features = self._features.setdefault(organization_id, set())
            if enabled:
                features.add(feature)
            else:
                features.discard(feature)
            return set(features)

    # --- faults -----------------------------------------------------------------------------
    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self._faults.append(fault)

    def clear_faults(self) -> int:
        with self.lock:
            removed = len(self._faults)
            self._faults.clear()
            return removed

    def faults(self) -> list[Fault]:
        with self.lock:
            return list(self._faults)

    def take_fault(self, account_id: str, operation: str, root_session: bool) -> Fault | None:
        """The first fault matching this call, its count spent by one; None when the call should run.

        A fault on a named operation matches any caller in that account. A fault on ``"*"`` is the
        SCP-style deny: it matches every call a root session makes in that account. A fault with
        ``after`` left lets the matching call through and counts it.
        """
        with self.lock:
            for fault in self._faults:
                if fault.account_id != account_id:
                    continue
                if fault.operation != operation and not (fault.operation == "*" and root_session):
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
            return None


STATE = RootAccessState()
