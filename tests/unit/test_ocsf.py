"""OCSF output (rootwatch_cli.ocsf): every event holds the required attributes of OCSF 1.1.0 Compliance Finding.

The required attributes are copied from the OCSF schema at tag v1.1.0 (github.com/ocsf/ocsf-schema):
events/base_event.json, includes/classification.json, includes/occurrence.json, events/findings/finding.json,
events/findings/compliance_finding.json, profiles/cloud.json, and the objects/*.json named below.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from rootwatch.domain.findings import FINDINGS
from rootwatch.domain.records import AuditRecord
from rootwatch_cli import main
from rootwatch_cli.analytics.history import generate_history
from rootwatch_cli.ocsf import OCSF_VERSION, epoch_ms, missing_columns, required_columns, to_events

#: The class's required attributes (v1.1.0): classification.json activity_id, category_uid, class_uid, type_uid;
#: occurrence.json time; base_event.json severity_id, metadata; finding.json finding_info;
#: compliance_finding.json compliance; profiles/cloud.json cloud (the profile is applied: metadata.profiles).
REQUIRED = (
    "activity_id",
    "category_uid",
    "class_uid",
    "type_uid",
    "time",
    "severity_id",
    "metadata",
    "finding_info",
    "compliance",
    "cloud",
)
#: Required attributes of the objects (v1.1.0 objects/<name>.json).
REQUIRED_OF = {
    "metadata": ("version", "product"),
    "product": ("vendor_name",),
    "finding_info": ("uid", "title"),
    "compliance": ("standards",),
    "cloud": ("provider",),
    "remediation": ("desc",),
}
#: The enums' values (dictionary.json, finding.json, objects/compliance.json, objects/account.json).
ACTIVITY_IDS = {0, 1, 2, 3, 99}
SEVERITY_IDS = {0, 1, 2, 3, 4, 5, 6, 99}
FINDING_STATUS_IDS = {0, 1, 2, 3, 4, 99}
COMPLIANCE_STATUS_IDS = {0, 1, 2, 3, 99}
#: 2000-01-01 and 2100-01-01 in ms: a time in seconds (or microseconds) falls outside.
MS_RANGE = (946_684_800_000, 4_102_444_800_000)


def assert_compliance_finding(event: dict[str, Any]) -> None:
    """The OCSF 1.1.0 Compliance Finding rules this output must meet (a failure names the attribute)."""
    for name in REQUIRED:
        assert event.get(name) is not None, f"required attribute {name} missing"
    for name, required in REQUIRED_OF.items():
        obj = event["metadata"]["product"] if name == "product" else event.get(name)
        if obj is None:
            continue
        for attribute in required:
            assert obj.get(attribute) not in (None, "", []), f"{name}.{attribute} missing"
    product = event["metadata"]["product"]
    assert product.get("name") or product.get("uid"), "product: at least one of name, uid (_entity)"
    assert (event["category_uid"], event["class_uid"]) == (2, 2003)
    assert event["type_uid"] == event["class_uid"] * 100 + event["activity_id"]
    assert event["activity_id"] in ACTIVITY_IDS
    assert event["severity_id"] in SEVERITY_IDS
    assert event.get("status_id", 0) in FINDING_STATUS_IDS
    assert event["compliance"].get("status_id", 0) in COMPLIANCE_STATUS_IDS
    assert event["metadata"]["version"] == OCSF_VERSION == "1.1.0"
    assert "cloud" in event["metadata"]["profiles"]
    for time_name in ("time", "finding_info.created_time"):
        value = event["time"] if time_name == "time" else event["finding_info"]["created_time"]
        assert isinstance(value, int) and not isinstance(value, bool), time_name
        assert MS_RANGE[0] <= value < MS_RANGE[1], f"{time_name} is not milliseconds since the epoch"
    standards = event["compliance"]["standards"]
    assert isinstance(standards, list) and all(isinstance(s, str) and s for s in standards)
    assert isinstance(event["compliance"].get("control", ""), str)
    account = event["cloud"].get("account", {})
    assert account.get("uid") or account.get("name"), "cloud.account: at least one of name, uid"
    for resource in event.get("resources", []):
        assert resource.get("uid") or resource.get("name"), "resource: at least one of name, uid"
    assert isinstance(event.get("unmapped", {}), dict)
    json.dumps(event)  # JSON all the way down


def record(**fields: Any) -> dict[str, Any]:
    base = AuditRecord(run_id="scan-20260101T000000Z", scanned_at="2026-01-01T00:00:00+00:00", account_id="1" * 12)
    return {**base.to_dict(), **fields}


def test_a_clean_account_passes_every_kind() -> None:
    events = to_events([record(password_present=False, access_keys_present=False,
                               signing_certificates_present=False, mfa_enabled=False)])  # fmt: skip
    assert [e["unmapped"]["finding"] for e in events] == [kind.key for kind in FINDINGS]
    assert {e["compliance"]["status"] for e in events} == {"Pass"}
    assert {e["severity_id"] for e in events} == {1}
    for event in events:
        assert_compliance_finding(event)
    assert events[0]["time"] == epoch_ms("2026-01-01T00:00:00Z") == 1_767_225_600_000


def test_a_finding_fails_with_its_severity_and_an_exempt_one_is_suppressed() -> None:
    row = record(
        password_present=True,
        access_keys_present=True,
        active_access_keys=1,
        inactive_access_keys=0,
        signing_certificates_present=False,
        mfa_enabled=False,
        password_last_used="2025-12-31T00:00:00Z",
    )
    by_kind = {e["unmapped"]["finding"]: e for e in to_events([row])}
    assert (by_kind["active_access_key"]["compliance"]["status_id"], by_kind["active_access_key"]["severity_id"]) == (
        3,
        5,
    )
    assert (by_kind["password"]["compliance"]["status"], by_kind["password"]["severity"]) == ("Fail", "High")
    assert by_kind["password_unused"]["compliance"]["status"] == "Pass"
    assert by_kind["active_access_key"]["remediation"]["desc"].endswith("--accounts 111111111111`")
    assert by_kind["password"]["status"] == "New"
    exempt = {e["unmapped"]["finding"]: e for e in to_events([{**row, "exempt": True}])}
    assert exempt["password"]["status"] == "Suppressed" and exempt["audit_error"]["status"] == "New"


def test_a_failed_audit_fails_audit_error_and_warns_for_the_rest_and_skipped_has_none() -> None:
    events = to_events([record(status="ERROR", error_code="ACCESS_DENIED")])
    assert [e["compliance"]["status"] for e in events] == ["Fail"] + ["Warning"] * (len(FINDINGS) - 1)
    for event in events:
        assert_compliance_finding(event)
    assert to_events([record(status="SKIPPED", error_code="SUSPENDED")]) == []


def test_query_columns_it_needs_are_named() -> None:
    assert {"account_id", "status", "scanned_at", "password_present"} <= set(required_columns())
    assert missing_columns(["account_id", "last_scanned_at", "last_run_id", *required_columns()[3:], "status"]) == []
    assert missing_columns(["account_id", "credentials"])[:2] == ["status", "scanned_at"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    generate_history(root, days=3, accounts=8, seed=13)
    return str(root)


@pytest.mark.parametrize("query", ["latest_state", "SELECT * FROM {{table}}"])
def test_query_writes_compliance_findings(results, capsys, query) -> None:
    assert main(["query", query, "--results", results, "--format", "ocsf"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events
    for event in events:
        assert_compliance_finding(event)
        assert event["metadata"]["product"]["feature"]["name"] == "query"
    assert {e["compliance"]["status"] for e in events} >= {"Pass", "Fail"}


def test_query_whose_rows_are_not_records_is_refused_naming_the_columns(results, capsys) -> None:
    assert main(["query", "daily_trend", "--results", results, "--format", "ocsf"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "--format ocsf" in err and "account_id" in err and "password_present" in err


def test_output_named_ocsf_picks_the_format(results, tmp_path, capsys) -> None:
    target = tmp_path / "root.ocsf.jsonl"
    assert main(["query", "latest_state", "--results", results, "--output", str(target)]) == 0
    assert "(ocsf)" in capsys.readouterr().err
    for line in target.read_text().splitlines():
        assert_compliance_finding(json.loads(line))


def test_contracts_state_the_version_and_every_required_attribute() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "contracts.md").read_text(encoding="utf-8")
    section = text[text.index("### OCSF output") :]
    assert f"OCSF {OCSF_VERSION} Compliance Findings" in section and "`class_uid` 2003" in section
    for name in REQUIRED:
        assert f"| `{name}" in section, f"the mapping table has no row for {name}"
