"""Quality gates on the synthesized app: cdk-nag AwsSolutions, cfn-lint, checkov, the pinned CDK CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from infra.app import FEATURE_FLAGS
from infra.monitoring import PIPELINE_METRICS

REPO = Path(__file__).resolve().parents[2]


def test_cdk_nag_aws_solutions_has_no_unacknowledged_findings(synthesized):
    violations = [
        (v["ruleName"], c["constructPath"])
        for plugin in (synthesized.report or {}).get("pluginReports", [])
        for v in plugin["violations"]
        for c in v["violatingConstructs"]
    ]
    assert violations == []
    assert synthesized.synth_error is None


def _acknowledgements(synthesized) -> list[tuple[str, str, str]]:
    """(construct path, rule, reason) of every cdk-nag acknowledgement in the stack's metadata."""
    metadata = json.loads((synthesized.outdir / "rootwatch.metadata.json").read_text())
    return [
        (path, rule.removeprefix("Annotation::"), reason)
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for rule, reason in entry["data"].items()
    ]


def test_every_acknowledgement_names_one_rule_and_gives_a_real_reason(synthesized):
    acknowledgements = _acknowledgements(synthesized)
    assert acknowledgements
    for path, rule, reason in acknowledgements:
        assert rule.startswith("AwsSolutions-"), (path, rule)
        assert rule != "AwsSolutions-IAM5", f"{path}: acknowledge IAM5 per resource, never wholesale"
        assert len(reason) >= 60, f"{path} {rule}: reason too thin: {reason!r}"


def test_wildcard_resources_are_acknowledged_exactly_where_aws_gives_no_narrower_form(synthesized):
    found: dict[str, set[str]] = {}
    for path, rule, _ in _acknowledgements(synthesized):
        if rule.startswith("AwsSolutions-IAM5[Resource::"):
            resource = rule.removeprefix("AwsSolutions-IAM5[Resource::").removesuffix("]")
            found.setdefault(path.rsplit("/", 1)[-1], set()).add(
                re.sub(r"<StorageResults\w+\.Arn>", "<bucket>", resource)
            )
    assert found == {
        "PrepareRunRole": {"*", "<bucket>/manifests/*"},
        "AuditAccountRole": {"*", "arn:aws:iam::*:root"},
        "FinishRunRole": {"*", "<bucket>/manifests/*", "<bucket>/results/*"},
        "StateMachineRole": {
            "*",
            "<bucket>/manifests/*",
            "<bucket>/map-results/*",
            "arn:aws:states:eu-west-1:111111111111:execution:rootwatch-audit-run/*",
        },
    }


def test_cfn_lint_finds_nothing_in_the_template(synthesized):
    from cfnlint.api import ManualArgs, lint_file

    template = synthesized.outdir / "rootwatch.template.json"
    # W3005 (an explicit DependsOn that a GetAtt already implies) is how CDK writes Lambda roles.
    matches = lint_file(template, config=ManualArgs(ignore_checks=["W3005"], regions=["eu-west-1"]))
    assert [f"{m.rule.id} {m.message}" for m in matches] == []


#: checkov's pinned release (requirements-checkov.txt, its own venv .venv-checkov built by make test).
CHECKOV_VERSION = "3.3.30"


def _checkov_binary() -> Path | None:
    configured = os.environ.get("ROOTWATCH_CHECKOV")
    candidate = Path(configured) if configured else REPO / ".venv-checkov" / "bin" / "checkov"
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


def test_checkov_pin_is_the_one_the_gate_expects():
    pins = (REPO / "requirements-checkov.txt").read_text().splitlines()
    assert f"checkov=={CHECKOV_VERSION}" in pins


def test_checkov_finds_nothing_and_every_skip_gives_a_reason(synthesized, tmp_path):
    checkov = _checkov_binary()
    if checkov is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("checkov is not installed (make .venv-checkov/.rootwatch-installed); required in CI")
        pytest.skip("checkov is not installed (.venv-checkov, built by make test)")
    # One template in its own directory: checkov scans only it (no assets, no other frameworks). Not --quiet:
    # that drops the skipped checks from the report, and the skips' reasons are what this test reads.
    template = tmp_path / "rootwatch.template.json"
    shutil.copyfile(synthesized.outdir / "rootwatch.template.json", template)
    # --skip-download: offline, no Prisma Cloud guideline lookups.
    command = ["-f", str(template), "--framework", "cloudformation", "--compact", "-o", "json", "--skip-download"]
    completed = subprocess.run(
        [str(checkov), *command],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.stdout.strip(), completed.stderr[-2000:]
    report = json.loads(completed.stdout)
    report = report[0] if isinstance(report, list) else report
    assert report["summary"]["checkov_version"] == CHECKOV_VERSION
    assert report["summary"]["parsing_errors"] == 0
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == [], failed
    skipped = report["results"]["skipped_checks"]
    assert skipped, "the template's checkov skips were not read"
    for check in skipped:
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason.strip()) >= 60, f"{check['check_id']} {check['resource']}: reason too thin: {reason!r}"
    # Every skip in the template is one checkov applied (no stale skip for a check that no longer applies).
    in_template = {
        (skip["id"], f"{resource['Type']}.{logical_id}")
        for logical_id, resource in synthesized.resources.items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }
    assert in_template == {(c["check_id"], c["resource"]) for c in skipped}


def test_package_json_pins_a_cdk_cli_2x_that_reads_schema_55():
    package = json.loads((REPO / "package.json").read_text())
    pinned = package["devDependencies"]["aws-cdk"]
    major, minor, _ = (int(part) for part in pinned.split("."))
    assert (major, minor) >= (2, 1148) and major == 2, pinned  # 3.x cannot read aws-cdk-lib 2.275 output
    lock = json.loads((REPO / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/aws-cdk"]["version"] == pinned


def test_cloud_assembly_schema_is_the_one_the_pinned_cli_reads(synthesized):
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    assert manifest["version"].split(".")[0] == "55"


def test_feature_flags_in_code_match_cdk_json(synthesized):
    assert {k: synthesized.context[k] for k in FEATURE_FLAGS} == FEATURE_FLAGS


def test_alarmed_and_charted_metrics_are_the_ones_the_handlers_emit():
    from rootwatch.handlers import finish_run

    source = Path(finish_run.__file__).read_text()
    emitted = set(finish_run._COUNT_METRICS) | ({"RunDuration"} if '"RunDuration"' in source else set())
    assert set(PIPELINE_METRICS) <= emitted
