"""The severity and control table: every kind has a severity, a reason and controls; the README shows it."""

from __future__ import annotations

from pathlib import Path

from rootwatch.domain.findings import (
    CONTROLS,
    DEFAULT_POLICY,
    FINDING,
    FINDINGS,
    SEVERITY_ORDER,
    Severity,
    highest_severity,
    most_severe,
    severity_table,
    with_findings,
)
from rootwatch.domain.records import AuditRecord, AuditStatus

REPO = Path(__file__).resolve().parents[2]


def test_every_kind_has_a_severity_a_reason_and_the_controls_it_breaks() -> None:
    for kind in FINDINGS:
        assert isinstance(kind.severity, Severity), kind.key
        assert kind.severity_reason.strip() and "\n" not in kind.severity_reason, kind.key
        assert kind.controls, kind.key
        assert all(CONTROLS[c.reference] is c and c.title and c.url.startswith("https://") for c in kind.controls)
    ranks = [SEVERITY_ORDER.index(kind.severity) for kind in FINDINGS]
    assert ranks == sorted(ranks), "most severe first"


def test_the_issues_severities() -> None:
    expected = {
        "active_access_key": Severity.CRITICAL,
        "password": Severity.HIGH,
        "active_signing_certificate": Severity.HIGH,
        "inactive_access_key_or_signing_certificate": Severity.MEDIUM,
        "mfa_only": Severity.LOW,
    }
    assert {key: FINDING[key].severity for key in expected} == expected


def test_each_security_hub_and_cis_control_is_mapped_and_rw1_covers_every_credential_kind() -> None:
    mapped = {c.short for kind in FINDINGS for c in kind.controls}
    for short in ("Security Hub IAM.4", "Security Hub IAM.6", "Security Hub IAM.9", "CIS 1.4", "CIS 1.5", "CIS 1.6"):
        assert short in mapped
    assert [c.short for c in FINDING["active_access_key"].controls] == [
        "Security Hub IAM.4",
        "CIS 1.4",
        "rootwatch RW.1",
    ]
    assert all("rootwatch RW.1" in {c.short for c in kind.controls} for kind in FINDINGS)
    rw1 = CONTROLS["rootwatch RW.1"]
    assert rw1.url == "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-enable-root-access.html"


def _ok(**flags: object) -> AuditRecord:
    base: dict[str, object] = {
        "password_present": False,
        "access_keys_present": False,
        "signing_certificates_present": False,
        "mfa_enabled": False,
    }
    return AuditRecord(run_id="r", scanned_at="2026-11-22T02:00:00Z", account_id="1" * 12, **(base | flags))  # type: ignore[arg-type]


def test_signing_certificates_split_by_status() -> None:
    active = _ok(signing_certificates_present=True, active_signing_certificates=1)
    inactive = _ok(signing_certificates_present=True, active_signing_certificates=0)
    unknown = _ok(signing_certificates_present=True)
    assert with_findings(active).finding_kinds == ["active_signing_certificate"]
    assert with_findings(inactive).finding_kinds == ["inactive_access_key_or_signing_certificate"]
    assert with_findings(unknown).finding_kinds == ["active_signing_certificate"]  # no count: assume the worst


def test_the_record_fields_severity_and_finding_kinds() -> None:
    record = with_findings(_ok(password_present=True, access_keys_present=True, active_access_keys=0))
    assert record.severity == "critical"
    assert record.finding_kinds == [
        "password_without_mfa",
        "password",
        "inactive_access_key_or_signing_certificate",
        "password_unused",
    ]
    with_mfa = with_findings(_ok(password_present=True, mfa_enabled=True, password_last_used="2026-11-21T00:00:00Z"))
    assert (with_mfa.severity, with_mfa.finding_kinds) == ("high", ["password"])
    clean = with_findings(_ok())
    assert (clean.severity, clean.finding_kinds) == (None, [])
    error = AuditRecord(run_id="r", scanned_at="x", account_id="2" * 12, status=AuditStatus.ERROR)
    assert highest_severity(error) == Severity.CRITICAL and with_findings(error).finding_kinds == ["audit_error"]
    assert list(record.to_dict())[-2:] == ["severity", "finding_kinds"]


def test_most_severe() -> None:
    assert most_severe(["low", None, "high", "medium"]) == Severity.HIGH
    assert most_severe([None]) is None


def test_the_readme_table_is_the_finding_table() -> None:
    readme = (REPO / "README.md").read_text()
    start = readme.index("<!-- severity table:")
    start = readme.index("\n", start) + 1
    end = readme.index("<!-- end severity table -->")
    assert readme[start:end] == severity_table(DEFAULT_POLICY), "README's severity table drifted: regenerate it"
