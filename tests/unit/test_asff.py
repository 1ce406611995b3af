"""Security Hub findings (rootwatch.domain.asff) and their importer (rootwatch.aws.securityhub)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from rootwatch.aws.securityhub import SecurityHubImporter
from rootwatch.domain.asff import (
    MAX_BATCH,
    asff_findings,
    finding_id,
    parse_product_arn,
    product_arn,
    related_requirements,
    severity_label,
)
from rootwatch.domain.findings import FINDING, Severity, findings_of
from rootwatch.domain.records import AuditRecord, AuditStatus

ROOTWATCH = "999988887777"
MEMBER = "111122223333"
PRODUCT = product_arn(ROOTWATCH, "eu-west-1")
SCANNED = "2026-11-20T02:00:00Z"


def _record(**fields: Any) -> AuditRecord:
    base: dict[str, Any] = {
        "run_id": "night-1",
        "scanned_at": SCANNED,
        "account_id": MEMBER,
        "account_name": "Prod",
        "password_present": False,
        "access_keys_present": False,
        "signing_certificates_present": False,
        "mfa_enabled": False,
    }
    return AuditRecord(**(base | fields))


def _build(*records: AuditRecord, exempt: dict[str, frozenset[str]] | None = None):
    return asff_findings(records, product_arn=PRODUCT, run_id="night-1", scanned_at=SCANNED, exempt_kinds=exempt)


def test_the_default_product_arn_and_its_parts():
    assert f"arn:aws:securityhub:eu-west-1:{ROOTWATCH}:product/{ROOTWATCH}/default" == PRODUCT
    assert parse_product_arn(PRODUCT) == ("aws", "eu-west-1", ROOTWATCH)
    with pytest.raises(ValueError, match="default product"):
        parse_product_arn(f"arn:aws:securityhub:eu-west-1:{ROOTWATCH}:product/{MEMBER}/default")


def test_a_present_credential_is_one_failed_finding_of_the_calling_account_naming_the_member():
    result = _build(_record(password_present=True, password_last_used="2026-11-19T00:00:00Z"))
    (finding,) = result.current
    assert result.archive == []
    assert finding["Id"] == finding_id(MEMBER, "password") == f"rootwatch/{MEMBER}/password"
    assert finding["AwsAccountId"] == ROOTWATCH  # the caller: the only one the default product may import for
    assert finding["ProductArn"] == PRODUCT
    assert finding["Resources"][0]["Type"] == "AwsAccount"
    assert finding["Resources"][0]["Id"] == f"AWS::::Account:{MEMBER}"
    assert finding["Compliance"]["Status"] == "FAILED"
    assert finding["RecordState"] == "ACTIVE"
    applying = [k for k in findings_of(_record(password_present=True)) if "password" in k.credentials]
    assert finding["Severity"]["Label"] == severity_label(applying[0].severity)  # the most severe that applies
    assert finding["FindingProviderFields"]["Severity"] == finding["Severity"]
    assert (
        f"rootwatch remediate delete-root-credentials --accounts {MEMBER} --credentials password"
        in (finding["Remediation"]["Recommendation"]["Text"])
    )
    assert "Workflow" not in finding and "Note" not in finding
    for required in ("SchemaVersion", "GeneratorId", "Types", "CreatedAt", "UpdatedAt", "Title", "Description"):
        assert finding[required]


def test_the_same_account_and_kind_keep_the_same_id_night_after_night():
    night_1 = _build(_record(access_keys_present=True, active_access_keys=1)).current
    night_2 = asff_findings(
        [_record(run_id="night-2", scanned_at="2026-11-21T02:00:00Z", access_keys_present=True, active_access_keys=1)],
        product_arn=PRODUCT,
        run_id="night-2",
        scanned_at="2026-11-21T02:00:00Z",
    ).current
    assert [f["Id"] for f in night_1] == [f["Id"] for f in night_2] == [f"rootwatch/{MEMBER}/access_keys"]
    assert night_1[0]["Severity"]["Label"] == severity_label(FINDING["active_access_key"].severity)


def test_severity_comes_from_the_most_severe_applying_kind_of_the_table():
    inactive = _build(_record(access_keys_present=True, active_access_keys=0, inactive_access_keys=1)).current
    assert inactive[0]["Severity"]["Label"] == severity_label(
        FINDING["inactive_access_key_or_signing_certificate"].severity
    )
    mfa_with_password = _build(_record(mfa_enabled=True, password_present=True)).current
    by_kind = {f["ProductFields"]["rootwatch/CredentialKind"]: f for f in mfa_with_password}
    assert by_kind["mfa"]["Severity"]["Label"] == severity_label(FINDING["mfa_only"].severity)
    assert {label for label in map(severity_label, Severity)} == {"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"}


def test_a_credential_that_went_away_turns_passed_then_archived():
    result = _build(_record(disappeared=["password"]))
    (passed,) = result.current
    (archived,) = result.archive
    assert passed["Id"] == archived["Id"] == f"rootwatch/{MEMBER}/password"
    assert passed["Compliance"]["Status"] == archived["Compliance"]["Status"] == "PASSED"
    assert passed["RecordState"] == "ACTIVE" and archived["RecordState"] == "ARCHIVED"
    assert passed["Severity"]["Label"] == "INFORMATIONAL"
    assert archived["UpdatedAt"] > passed["UpdatedAt"]


def test_an_absent_credential_that_did_not_just_go_away_sends_nothing_nor_does_a_failed_audit():
    assert len(_build(_record())) == 0
    assert len(_build(_record(status=AuditStatus.ERROR, error_code="ACCESS_DENIED", password_present=None))) == 0
    assert len(_build(_record(status=AuditStatus.SKIPPED, password_present=None))) == 0


def test_an_exempt_credential_is_suppressed_with_its_reason_and_expiry_in_a_note():
    reason = "password until 2027-03-01: break-glass account"
    record = _record(password_present=True, mfa_enabled=True, exempt=False, exemption_reason=reason)
    result = _build(record, exempt={MEMBER: frozenset({"password"})})
    by_kind = {f["ProductFields"]["rootwatch/CredentialKind"]: f for f in result.current}
    assert by_kind["password"]["Workflow"] == {"Status": "SUPPRESSED"}
    assert by_kind["password"]["Note"]["Text"] == reason
    assert by_kind["password"]["ProductFields"]["rootwatch/Exempt"] == "true"
    assert by_kind["password"]["Compliance"]["Status"] == "FAILED"  # still true; only the workflow says accepted
    assert "Workflow" not in by_kind["mfa"] and by_kind["mfa"]["ProductFields"]["rootwatch/Exempt"] == "false"


def test_related_requirements_are_the_controls_of_the_kinds_concerning_the_credential():
    expected = {
        c.reference
        for kind in (FINDING["active_access_key"], FINDING["inactive_access_key_or_signing_certificate"])
        for c in kind.controls
    }
    assert set(related_requirements("access_keys")) == expected
    finding = _build(_record(access_keys_present=True, active_access_keys=1)).current[0]
    assert finding["Compliance"]["RelatedRequirements"] == related_requirements("access_keys")
    assert "CIS AWS Foundations Benchmark v3.0.0 1.4" in finding["Compliance"]["RelatedRequirements"]


class _Client:
    def __init__(self, refuse: set[str] = frozenset(), error: Exception | None = None) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.refuse, self.error = refuse, error

    def batch_import_findings(self, Findings):
        self.calls.append(Findings)
        if self.error:
            raise self.error
        failed = [
            {"Id": f["Id"], "ErrorCode": "InvalidInput", "ErrorMessage": "no"}
            for f in Findings
            if f["Id"] in self.refuse
        ]
        return {"FailedCount": len(failed), "SuccessCount": len(Findings) - len(failed), "FailedFindings": failed}


def _many(count: int) -> list[dict[str, Any]]:
    return [{"Id": f"rootwatch/{index:012d}/password"} for index in range(count)]


def test_the_importer_sends_at_most_100_a_call_current_before_archive_and_counts_refusals():
    client = _Client(refuse={"rootwatch/000000000003/password"})
    delivery = SecurityHubImporter(client, PRODUCT).import_findings(_many(MAX_BATCH + 1), [{"Id": "archived"}])
    assert [len(call) for call in client.calls] == [MAX_BATCH, 1, 1]
    assert client.calls[-1] == [{"Id": "archived"}]
    assert (delivery.sent, delivery.failed) == (MAX_BATCH + 1, 1)
    assert "rootwatch/000000000003/password" in delivery.errors[0]


def test_the_importer_counts_a_failed_call_and_never_raises():
    error = ClientError(
        {"Error": {"Code": "InvalidAccessException", "Message": "not subscribed"}}, "BatchImportFindings"
    )
    delivery = SecurityHubImporter(_Client(error=error), PRODUCT).import_findings(_many(3))
    assert (delivery.sent, delivery.failed) == (0, 3)
    assert "not subscribed" in delivery.errors[0]


def test_an_exempt_kind_that_is_gone_is_sent_resolved_since_no_baseline_says_it_went_away():
    result = _build(_record(), exempt={MEMBER: frozenset({"mfa"})})
    assert [f["Id"] for f in result.current] == [f"rootwatch/{MEMBER}/mfa"]
    assert result.current[0]["Compliance"]["Status"] == "PASSED"
    assert result.archive[0]["RecordState"] == "ARCHIVED"
