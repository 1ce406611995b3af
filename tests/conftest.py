"""Shared fixtures: a fresh in-process sandbox per test; which tests are ``slow`` (``make test-fast`` skips them)."""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Iterator
from pathlib import Path

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


#: Fixtures that make a test slow: one synthesizes the CDK app (tests/infra/conftest.py: one cdk-nag synth per
#: session, ~15 s on 2 cores); the other serves a sandbox over HTTP (a server thread and real HTTP per call).
SLOW_FIXTURES = frozenset({"synthesized", "exported_sandbox_server"})
#: Calls that make a test slow, made by the test itself or by any fixture it uses: building or synthesizing the
#: CDK app (a jsii/node process and the Lambda asset: seconds each, per context and worker; deploy_stack deploys a
#: synthesized stack, and so does the CLI's `sandbox deploy` given no --assembly), and starting a sandbox server.
SLOW_CALLS = re.compile(
    r"\b(?:deploy_stack|synthesize|build_app|SandboxServer)\("
    r"|\"sandbox\", \"deploy\", \"--endpoint-url\", [\w.]+\]"
)
#: End-to-end files. test_pipeline_*: each test deploys the stack and runs its state machine (or the demo) over
#: an organization; test_scan*: a scan of a whole organization; test_ops_*: an operation (enable, doctor,
#: remediate, unlock) run through the CLI against a seeded organization. test_pipeline_store.py tests the
#: pipeline's adapters against the sandbox, without the state machine, in seconds: it stays in the fast set.
SLOW_FILES = ("integration/test_pipeline_*.py", "integration/test_scan*.py", "integration/test_ops_*.py")
FAST_FILES = ("integration/test_pipeline_store.py",)


def _source(function: object) -> str:
    try:
        return inspect.getsource(function)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return ""


def _is_slow(item: pytest.Item, sources: dict[object, str]) -> bool:
    path = Path(str(item.path))
    if any(path.match(pattern) for pattern in SLOW_FILES) and not any(path.match(name) for name in FAST_FILES):
        return True
    fixture_info = getattr(item, "_fixtureinfo", None)
    if fixture_info is None:
        return False
    if SLOW_FIXTURES & set(fixture_info.names_closure):
        return True
    functions = [getattr(item, "function", None)]
    functions += [d.func for defs in fixture_info.name2fixturedefs.values() for d in defs]
    for function in functions:
        if function is not None and function not in sources:
            sources[function] = _source(function)
    return any(function is not None and SLOW_CALLS.search(sources[function]) for function in functions)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``slow`` what synthesizes the CDK app or runs the pipeline end to end: ``make test-fast`` runs
    ``-m "not slow and not prowler"`` (every unit test and the fast integration tests), ``make test`` everything."""
    sources: dict[object, str] = {}
    for item in items:
        if _is_slow(item, sources):
            item.add_marker(pytest.mark.slow)
