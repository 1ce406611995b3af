"""Shared fixtures: a fresh in-process sandbox per test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "rootwatch-test")


@pytest.fixture
def sandbox() -> Iterator[object]:
    from rootwatch_sandbox import Sandbox

    with Sandbox() as sb:
        yield sb


@pytest.fixture(scope="module")
def exported_sandbox_server() -> Iterator[object]:
    """A sandbox server, with the environment a user has after pasting `rootwatch sandbox serve`'s exports:
    test credentials, a region, and no profile, session token or endpoint override of their own."""
    from rootwatch_sandbox.server import SandboxServer

    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            env.setenv(name, "testing")
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS"):
            env.delenv(name, raising=False)
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        with SandboxServer(port=0) as running:
            yield running


@pytest.fixture(autouse=True)
def _no_terminal_size_from_the_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest-xdist workers export COLUMNS=80 and LINES=24; output that honours $COLUMNS must not depend on
    how the tests were started. A test about widths sets COLUMNS itself."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
