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
    from rootwatch.sandbox import Sandbox

    with Sandbox() as sb:
        yield sb
