"""The in-process sandbox: a started moto mock with rootwatch's extensions installed."""

from __future__ import annotations

import os
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from moto import mock_aws

from rootwatch_sandbox import iam_enforcement, orgview, patches, seeding
from rootwatch_sandbox.rootstate import STATE, SandboxClock

MANAGEMENT_ACCOUNT_ID = orgview.MANAGEMENT_ACCOUNT_ID
DEFAULT_REGION = "us-east-1"

MOTO_CONFIG = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
    "core": {"mock_credentials": True, "passthrough": {"urls": [], "services": []}, "reset_boto3_session": True},
}


class Sandbox:
    """moto plus centralized root access, in this process. Use as a context manager.

    ``iam_enforcement``: hold assumed-role callers to their role's policies (docs/sandbox.md, "IAM
    enforcement"); None (the default) means on unless ``ROOTWATCH_SANDBOX_IAM=off``.
    """

    def __init__(self, region: str = DEFAULT_REGION, *, iam_enforcement: bool | None = None) -> None:
        self.region = region
        self.iam_enforcement = iam_enforcement
        self._mock = mock_aws(config=MOTO_CONFIG)  # type: ignore[call-overload]
        self._saved_env: dict[str, str | None] = {}

    def start(self) -> Sandbox:
        """Start the emulator with empty state; boto3 clients created afterwards talk to it."""
        patches.install()
        for key, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": self.region,
        }.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        # An exported AWS_ENDPOINT_URL[_<SERVICE>] would send boto3 past the in-process mock (to a server,
        # or to nothing): hide it while the sandbox runs, and give it back on stop().
        for key in [k for k in os.environ if k == "AWS_ENDPOINT_URL" or k.startswith("AWS_ENDPOINT_URL_")]:
            self._saved_env.setdefault(key, os.environ.pop(key))
        self._mock.start()
        iam_enforcement.set_enabled(self.iam_enforcement)
        return self

    def stop(self) -> None:
        """Stop the emulator and restore the environment it changed."""
        self._mock.stop()
        iam_enforcement.set_enabled(None)
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    # --- seeding and faults (the same API as POST /_rootwatch/... on a server) -------------------
    @property
    def clock(self) -> SandboxClock:
        """The sandbox's clock: ``sandbox.clock.advance(901)`` expires a 900-second root session."""
        return STATE.clock

    def set_root_credentials(
        self,
        account_id: str,
        password: bool = False,
        access_keys: Iterable[str] = (),
        mfa_devices: Iterable[str] = (),
        signing_certificates: Iterable[str] = (),
        password_last_used: str | None = None,
        access_key_last_used: str | None = None,
        emit_event: str | None = None,
    ) -> dict[str, Any]:
        """Replace an account's root credentials; answers with the created ids (see seeding.set_root_credentials).
        ``emit_event``: also emit that root event (delivered when a realtime stack is deployed)."""
        return seeding.set_root_credentials(
            {
                "account_id": account_id,
                "password": password,
                "access_keys": list(access_keys),
                "mfa_devices": list(mfa_devices),
                "signing_certificates": list(signing_certificates),
                "password_last_used": password_last_used,
                "access_key_last_used": access_key_last_used,
                "emit_event": emit_event,
            }
        )

    def set_account_state(self, account_id: str, state: str) -> dict[str, Any]:
        """Set an account's Organizations State (ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED)."""
        return seeding.set_account_state({"account_id": account_id, "state": state})

    def add_fault(
        self,
        account_id: str,
        operation: str,
        error_code: str,
        message: str | None = None,
        count: int | None = None,
        after: int = 0,
    ) -> dict[str, Any]:
        """Make ``operation`` fail for ``account_id``: after ``after`` matching calls succeed, ``count`` times,
        or always when None (see docs/sandbox.md)."""
        return seeding.add_fault(
            {
                "account_id": account_id,
                "operation": operation,
                "error_code": error_code,
                "message": message,
                "count": count,
                "after": after,
            }
        )

    def clear_faults(self) -> dict[str, Any]:
        """Remove every injected fault."""
        return seeding.clear_faults({})

    def create_demo_org(self, accounts: int, seed: int = 0) -> dict[str, Any]:
        """An org with ``accounts`` members, its root-access features on, in a seeded mix of credential states."""
        return seeding.create_demo_org({"accounts": accounts, "seed": seed})

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
