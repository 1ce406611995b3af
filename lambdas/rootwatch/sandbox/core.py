"""The in-process sandbox: a started moto mock with rootwatch's extensions installed."""

from __future__ import annotations

import os
from types import TracebackType

from moto import mock_aws

from rootwatch.sandbox import patches

MANAGEMENT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"

MOTO_CONFIG = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
    "core": {"mock_credentials": True, "passthrough": {"urls": [], "services": []}, "reset_boto3_session": True},
}


class Sandbox:
    """moto plus centralized root access, in this process. Use as a context manager."""

    def __init__(self, region: str = DEFAULT_REGION) -> None:
        self.region = region
        self._mock = mock_aws(config=MOTO_CONFIG)  # type: ignore[arg-type]
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
        self._mock.start()
        return self

    def stop(self) -> None:
        """Stop the emulator and restore the environment it changed."""
        self._mock.stop()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
