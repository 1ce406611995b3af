from rootwatch.domain.records import RECORD_FIELDS, AuditRecord, AuditStatus


def test_record_round_trips_through_dict_with_every_contract_field():
    record = AuditRecord(
        run_id="r1",
        scanned_at="2026-11-22T00:00:00Z",
        account_id="111111111111",
        status=AuditStatus.OK,
        password_present=True,
        appeared=["password"],
    )
    data = record.to_dict()
    assert list(data) == [f.name for f in RECORD_FIELDS]
    assert data["status"] == "OK"
    assert AuditRecord.from_dict({**data, "unknown": 1}) == record


def test_present_kinds_lists_only_true_flags_in_contract_order():
    record = AuditRecord(
        run_id="r", scanned_at="t", account_id="1", mfa_enabled=True, password_present=True, access_keys_present=False
    )
    assert record.present_kinds() == ["password", "mfa"]


def _finding(name: str, **flags: object) -> AuditRecord:
    return AuditRecord(
        run_id="r", scanned_at="t", account_id=f"{abs(hash(name)) % 10**12:012d}", account_name=name, **flags
    )  # type: ignore[arg-type]


def test_findings_are_sorted_by_the_one_severity_order_then_by_name() -> None:
    from rootwatch.domain.findings import FINDINGS, finding_severity, findings_by_severity

    records = [
        _finding("zeta-mfa", root_credentials_present=True, mfa_enabled=True),
        _finding("clean", root_credentials_present=False),
        _finding("beta-password", root_credentials_present=True, password_present=True),
        _finding("skipped", status="SKIPPED"),
        _finding("alpha-cert", root_credentials_present=True, signing_certificates_present=True),
        _finding("Gamma-error", status="ERROR", error_code="ACCESS_DENIED"),
        _finding("key-active", root_credentials_present=True, access_keys_present=True, active_access_keys=1),
        _finding("key-inactive", root_credentials_present=True, access_keys_present=True, active_access_keys=0),
        _finding("alpha-password", root_credentials_present=True, password_present=True, mfa_enabled=True),
    ]
    ordered = [r.account_name for r in findings_by_severity(records)]
    assert ordered == [
        "Gamma-error",
        "key-active",
        "alpha-password",
        "beta-password",
        "alpha-cert",
        "key-inactive",
        "zeta-mfa",
    ]
    assert [finding_severity(r) for r in records if r.account_name in ("clean", "skipped")] == [None, None]
    assert FINDINGS[0].label == "audit error" and len(FINDINGS) == 8
