"""Exemptions: parsing names the bad entry; expiry is inclusive; records and the alert see the same thing."""

from __future__ import annotations

import json
from datetime import date

import pytest
from rootwatch.domain.alert import compose_alert
from rootwatch.domain.exemptions import (
    ExemptionError,
    apply_exemptions,
    exempt_kinds,
    exempt_kinds_by_account,
    exemptions_from_env,
    load_exemptions_file,
    parse_exemptions,
)
from rootwatch.domain.records import AuditRecord, AuditStatus

TODAY = date(2026, 11, 22)
ACCOUNT = "111122223333"


def entry(**overrides):
    base = {
        "account_id": ACCOUNT,
        "credentials": ["password"],
        "reason": "break-glass, SEC-42",
        "expires": "2027-03-01",
    }
    base.update(overrides)
    return base


def record(account_id=ACCOUNT, status=AuditStatus.OK, **flags):
    return AuditRecord(
        run_id="r",
        scanned_at="2026-11-22T02:00:00Z",
        account_id=account_id,
        account_name="prod",
        status=status,
        **flags,
    )


def test_valid_entry_parses_from_list_and_from_json_text():
    from_list = parse_exemptions([entry(credentials=["password", "mfa"])], today=TODAY)
    from_text = parse_exemptions(json.dumps([entry(credentials=["password", "mfa"])]), today=TODAY)
    assert from_list == from_text
    assert from_list[0].credentials == {"password", "mfa"}
    assert from_list[0].expires == date(2027, 3, 1)
    assert from_list[0].to_dict()["credentials"] == ["password", "mfa"]


def test_empty_config_means_no_exemptions():
    assert parse_exemptions(None) == []
    assert parse_exemptions("") == []
    assert parse_exemptions("[]") == []


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (entry(account_id="12345"), "exemptions[1] (account 12345): account_id '12345' is not a 12-digit"),
        (entry(account_id=111122223333), "exemptions[1]: account_id 111122223333 is not a 12-digit"),
        (entry(credentials=["root_password"]), "unknown credential kind 'root_password'"),
        (entry(credentials="password"), "credentials must be a non-empty list"),
        (entry(credentials=[]), "credentials must be a non-empty list"),
        (entry(expires="2026-11-21"), "expires 2026-11-21 is in the past (today is 2026-11-22)"),
        (entry(expires="01/03/2027"), "expires '01/03/2027' is not a date of the form YYYY-MM-DD"),
        (entry(expires="2027-02-30"), "expires '2027-02-30' is not a real date"),
        (entry(reason="  "), "reason must say why"),
        (entry(kinds=["password"]), "unknown key 'kinds'"),
        ({"account_id": ACCOUNT, "credentials": ["mfa"], "reason": "x"}, "missing 'expires'"),
        ("111122223333", "exemptions[1]: expected an object"),
    ],
)
def test_invalid_entry_raises_naming_the_entry_and_the_problem(bad, expected):
    good = entry(account_id="999988887777")
    with pytest.raises(ExemptionError) as info:
        parse_exemptions([good, bad], today=TODAY)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_exemption_error_is_a_value_error_for_config_loaders():
    with pytest.raises(ValueError):
        parse_exemptions([entry(account_id="x")], today=TODAY)


def test_duplicate_account_and_kind_is_rejected():
    with pytest.raises(ExemptionError, match=r"exemptions\[1\] \(account 111122223333\): password is already"):
        parse_exemptions([entry(), entry(credentials=["mfa", "password"])], today=TODAY)


def test_not_json_and_not_a_list_are_rejected_clearly():
    with pytest.raises(ExemptionError, match="not valid JSON"):
        parse_exemptions("[{", today=TODAY)
    with pytest.raises(ExemptionError, match="expected a list of entries, got dict"):
        parse_exemptions({"exemptions": []}, today=TODAY)  # type: ignore[arg-type]


def test_expiry_today_is_still_valid_and_in_effect_through_that_day():
    (exemption,) = parse_exemptions([entry(expires="2026-11-22")], today=TODAY)
    assert exemption.in_effect(date(2026, 11, 22))
    assert not exemption.in_effect(date(2026, 11, 23))


def test_pipeline_loader_keeps_entries_that_expired_since_deploy():
    (exemption,) = exemptions_from_env(json.dumps([entry(expires="2020-01-01")]))
    assert not exemption.in_effect(TODAY)
    with pytest.raises(ExemptionError, match="account_id"):
        exemptions_from_env(json.dumps([entry(account_id="nope")]))


def test_exempt_kinds_tells_which_present_kinds_are_covered_and_by_what():
    exemptions = parse_exemptions([entry(credentials=["password", "access_keys"])], today=TODAY)
    match = exempt_kinds(record(password_present=True, mfa_enabled=True), exemptions, on=TODAY)
    assert set(match.exempt) == {"password"}
    assert not match.fully_exempt  # MFA is present and not covered
    assert match.reason == "password until 2027-03-01: break-glass, SEC-42"


def test_record_with_every_present_kind_covered_is_exempt_with_reason():
    exemptions = parse_exemptions([entry(credentials=["password", "mfa"])], today=TODAY)
    result = apply_exemptions(record(password_present=True, mfa_enabled=True), exemptions, on=TODAY)
    assert result.exempt is True
    assert result.exemption_reason == "password, mfa until 2027-03-01: break-glass, SEC-42"


def test_exemption_stops_applying_the_day_after_expiry():
    exemptions = exemptions_from_env(json.dumps([entry(expires="2026-11-22")]))
    on_expiry = apply_exemptions(record(password_present=True), exemptions, on=date(2026, 11, 22))
    after = apply_exemptions(record(password_present=True), exemptions, on=date(2026, 11, 23))
    assert on_expiry.exempt is True
    assert after.exempt is False
    assert after.exemption_reason is None


def test_error_record_and_clean_record_are_never_exempt():
    exemptions = parse_exemptions([entry()], today=TODAY)
    errored = apply_exemptions(record(status=AuditStatus.ERROR, error_code="ACCESS_DENIED"), exemptions, on=TODAY)
    clean = apply_exemptions(record(password_present=False), exemptions, on=TODAY)
    assert (errored.exempt, errored.exemption_reason) == (False, None)
    assert (clean.exempt, clean.exemption_reason) == (False, None)


def test_other_accounts_are_not_affected():
    exemptions = parse_exemptions([entry()], today=TODAY)
    result = apply_exemptions(record(account_id="444455556666", password_present=True), exemptions, on=TODAY)
    assert result.exempt is False


def test_exempt_kinds_by_account_feeds_compose_alert_until_expiry_then_alerts_again():
    exemptions = exemptions_from_env(json.dumps([entry(expires="2026-11-22")]))
    reappeared = record(password_present=True, root_credentials_present=True, appeared=["password"])

    def alert_on(day):
        return compose_alert(
            [reappeared],
            run_id="r",
            organization_id="o-x",
            scanned_at="t",
            exempt_kinds=exempt_kinds_by_account(exemptions, on=day),
        )

    assert exempt_kinds_by_account(exemptions, on=TODAY) == {ACCOUNT: frozenset({"password"})}
    assert alert_on(date(2026, 11, 22)) is None
    alert = alert_on(date(2026, 11, 23))
    assert alert is not None
    assert alert.document["reappeared"][0]["account_id"] == ACCOUNT


def test_exemptions_file_is_the_same_shape_and_errors_name_the_file(tmp_path):
    good = tmp_path / "exemptions.json"
    good.write_text(json.dumps([entry()]))
    assert load_exemptions_file(str(good))[0].account_id == ACCOUNT
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([entry(credentials=["pasword"])]))
    with pytest.raises(ExemptionError, match=r"bad.json: exemptions\[0\] .*unknown credential kind 'pasword'"):
        load_exemptions_file(str(bad))
    with pytest.raises(ExemptionError, match=r"missing\.json"):
        load_exemptions_file(str(tmp_path / "missing.json"))


# -- exemptions added at run time (rootwatch exempt add) and the merge with cdk.json's -----------------------


def test_new_exemption_validates_like_config_and_bounds_the_expiry():
    from rootwatch.domain.exemptions import MAX_HORIZON_DAYS, new_exemption

    made = new_exemption(ACCOUNT, ["mfa", "password"], " SEC-7 ", "2026-11-22", today=TODAY)
    assert made.credentials == {"password", "mfa"} and made.reason == "SEC-7" and made.in_effect(TODAY)
    last = date.fromordinal(TODAY.toordinal() + MAX_HORIZON_DAYS).isoformat()
    assert new_exemption(ACCOUNT, ["password"], "x", last, today=TODAY).expires.isoformat() == last
    for args, words in [
        ((ACCOUNT, ["password"], "x", "2026-11-21"), "is in the past"),
        ((ACCOUNT, ["password"], "x", "2027-11-24"), "more than 366 days ahead"),
        (("12345", ["password"], "x", "2026-12-01"), "not a 12-digit AWS account id"),
        ((ACCOUNT, ["passwd"], "x", "2026-12-01"), "unknown credential kind"),
        ((ACCOUNT, ["password"], "", "2026-12-01"), "reason must say why"),
    ]:
        with pytest.raises(ExemptionError, match=words) as caught:
            new_exemption(*args, today=TODAY)
        assert "exemptions[0]" not in str(caught.value) and "\n" not in str(caught.value)


def test_merge_exempt_kinds_is_the_union_of_cdk_json_and_the_table():
    from rootwatch.domain.exemptions import merge_exempt_kinds

    merged = merge_exempt_kinds({ACCOUNT: {"password"}}, None, {ACCOUNT: ["mfa"], "444455556666": ["access_keys"]})
    assert merged == {ACCOUNT: frozenset({"password", "mfa"}), "444455556666": frozenset({"access_keys"})}
