"""`rootwatch scan --format ocsf` against the sandbox: OCSF 1.1.0 Compliance Findings, one per account and kind."""

from __future__ import annotations

import json

from rootwatch.domain.findings import FINDINGS
from rootwatch_cli import main

from tests.integration.test_scan import mixed_org, no_endpoint_override  # noqa: F401 (fixtures)
from tests.unit.test_ocsf import assert_compliance_finding


def test_scan_writes_a_compliance_finding_per_audited_account_and_kind(mixed_org, capsys) -> None:  # noqa: F811
    code = main(["scan", "--format", "ocsf"])
    out, err = capsys.readouterr()
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 3
    for event in events:
        assert_compliance_finding(event)
        assert event["metadata"]["product"]["feature"]["name"] == "scan"
    # clean, password and everything are audited, denied failed; suspended and the management account are not.
    accounts = {e["cloud"]["account"]["uid"] for e in events}
    assert accounts == {mixed_org[name] for name in ("clean", "password", "everything", "denied")}
    assert len(events) == 4 * len(FINDINGS)
    status = {(e["cloud"]["account"]["uid"], e["unmapped"]["finding"]): e["compliance"]["status"] for e in events}
    assert {status[(mixed_org["clean"], kind.key)] for kind in FINDINGS} == {"Pass"}
    assert status[(mixed_org["password"], "password")] == "Fail"
    assert status[(mixed_org["everything"], "active_access_key")] == "Fail"
    assert status[(mixed_org["denied"], "audit_error")] == "Fail"
    assert status[(mixed_org["denied"], "password")] == "Warning"
    assert "2 with root credentials" in err  # the summary line is as with any other format


def test_scan_output_named_ocsf_says_how_many_findings_it_wrote(mixed_org, tmp_path, capsys) -> None:  # noqa: F811
    target = tmp_path / "scan.ocsf"
    assert main(["scan", "--output", str(target)]) == 3
    assert f"wrote {target}: {4 * len(FINDINGS)} OCSF findings (ocsf)" in capsys.readouterr().err
    assert len(target.read_text().splitlines()) == 4 * len(FINDINGS)
