"""One synth of the real app (cdk.json context, cdk-nag on) per test session, shared by every infra test.

Synth takes seconds, so it happens once: under pytest-xdist the workers share one output directory,
and a file lock makes the first worker synthesize while the others wait and read the result.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

ACCOUNT = "111111111111"
REGION = "eu-west-1"


@dataclass(frozen=True)
class Synthesized:
    """The synthesized cloud assembly, as plain data."""

    outdir: Path
    template: dict[str, Any]
    report: dict[str, Any] | None
    context: dict[str, Any]
    synth_error: str | None

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Resources of one CloudFormation type, by logical id."""
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def one(self, resource_type: str) -> dict[str, Any]:
        """The only resource of a type (fails if there are several)."""
        found = list(self.of_type(resource_type).values())
        assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
        return found[0]


def _synthesize(outdir: Path) -> None:
    import aws_cdk as cdk

    from infra.app import build_app, cdk_json_context

    app, stack = build_app(cdk_json_context(), outdir=str(outdir), env=cdk.Environment(account=ACCOUNT, region=REGION))
    error = None
    try:
        app.synth()
    except RuntimeError as exc:  # cdk-nag findings: the validation report says which
        error = str(exc)
    (outdir / "rootwatch-synth.json").write_text(
        json.dumps({"template": f"{stack.artifact_id}.template.json", "error": error})
    )


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The app synthesized once (per session, across xdist workers) with the committed cdk.json context."""
    from infra.app import cdk_json_context

    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker's basetemp sits in the session's directory, which the workers share.
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "rootwatch-cdk-out"
    shared.mkdir(parents=True, exist_ok=True)
    with open(shared.parent / "rootwatch-cdk-out.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (shared / "rootwatch-synth.json").exists():
                _synthesize(shared)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    meta = json.loads((shared / "rootwatch-synth.json").read_text())
    report_file = shared / "validation-report.json"
    return Synthesized(
        outdir=shared,
        template=json.loads((shared / meta["template"]).read_text()),
        report=json.loads(report_file.read_text()) if report_file.exists() else None,
        context=cdk_json_context(),
        synth_error=meta["error"],
    )
