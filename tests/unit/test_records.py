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
