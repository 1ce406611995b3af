"""rootwatch.aws.organizations with botocore's Stubber: the paging and State rules of real AWS, no network.

The sandbox reproduces pages of 20; these tests pin the AWS behaviours that are awkward to provoke
there: an empty page in the middle, an entry with only the retired ``Status`` field.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from botocore.stub import Stubber
from rootwatch.aws.clients import ClientFactory
from rootwatch.aws.organizations import MANAGEMENT_ACCOUNT, account_from_listing, list_member_accounts
from rootwatch.domain.alert import ACCOUNT_STATE_NOT_REPORTED
from rootwatch.domain.errors import AccessDeniedError, ThrottledError

MANAGEMENT = "123456789012"
ORG = {
    "Organization": {
        "Id": "o-abcdefghij",
        "Arn": "arn:aws:organizations::123456789012:organization/o-abcdefghij",
        "FeatureSet": "ALL",
        "MasterAccountId": MANAGEMENT,
    }
}


def account(account_id: str, state: str | None = "ACTIVE", status: str | None = None) -> dict:
    entry = {"Id": account_id, "Name": f"acct-{account_id[-2:]}", "Email": f"{account_id}@example.com"}
    if state is not None:
        entry["State"] = state
    if status is not None:
        entry["Status"] = status
    return entry


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACALLEREXAMPLE000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "caller")
    factory = ClientFactory(max_attempts=1)
    stubber = Stubber(factory.client("organizations"))
    stubber.activate()
    yield factory, stubber
    stubber.assert_no_pending_responses()


def test_listing_follows_next_token_through_an_empty_page(stubbed) -> None:
    factory, stubber = stubbed
    stubber.add_response("describe_organization", ORG)
    stubber.add_response("list_accounts", {"Accounts": [account(MANAGEMENT), account("111111111111")],
                                           "NextToken": "t1"}, {"MaxResults": 20})  # fmt: skip
    stubber.add_response("list_accounts", {"Accounts": [], "NextToken": "t2"}, {"MaxResults": 20, "NextToken": "t1"})
    stubber.add_response(
        "list_accounts", {"Accounts": [account("222222222222")]}, {"MaxResults": 20, "NextToken": "t2"}
    )
    members = list_member_accounts(factory)
    assert [a.id for a in members.to_audit] == ["111111111111", "222222222222"]
    assert members.organization_id == "o-abcdefghij"
    assert members.management_account_id == MANAGEMENT


def test_management_account_is_skipped_with_its_reason(stubbed) -> None:
    factory, stubber = stubbed
    stubber.add_response("describe_organization", ORG)
    stubber.add_response("list_accounts", {"Accounts": [account(MANAGEMENT), account("111111111111")]})
    members = list_member_accounts(factory)
    assert [(s.account.id, s.reason) for s in members.skipped] == [(MANAGEMENT, MANAGEMENT_ACCOUNT)]
    assert "management account" in members.skipped[0].message


def test_non_active_states_are_skipped_with_the_state_as_reason(stubbed) -> None:
    factory, stubber = stubbed
    stubber.add_response("describe_organization", ORG)
    states = ["SUSPENDED", "PENDING_CLOSURE", "CLOSED", "PENDING_ACTIVATION"]
    accounts = [account(f"11111111111{i}", state) for i, state in enumerate(states)]
    stubber.add_response("list_accounts", {"Accounts": [*accounts, account("222222222222")]})
    members = list_member_accounts(factory)
    assert [a.id for a in members.to_audit] == ["222222222222"]
    assert [s.reason for s in members.skipped] == states


def test_state_is_read_first_and_status_only_when_state_is_missing(stubbed) -> None:
    factory, stubber = stubbed
    stubber.add_response("describe_organization", ORG)
    stubber.add_response(
        "list_accounts",
        {"Accounts": [account("111111111111", state="CLOSED", status="SUSPENDED"),
                      account("222222222222", state=None, status="SUSPENDED"),
                      account("333333333333", state=None, status="ACTIVE")]},
    )  # fmt: skip
    members = list_member_accounts(factory)
    assert {s.account.id: s.account.state for s in members.skipped} == {
        "111111111111": "CLOSED",
        "222222222222": "SUSPENDED",
    }
    assert [a.id for a in members.to_audit] == ["333333333333"]


def test_too_many_requests_becomes_throttled_error(stubbed) -> None:
    factory, stubber = stubbed
    stubber.add_response("describe_organization", ORG)
    stubber.add_client_error(
        "list_accounts", "TooManyRequestsException", "AWS Organizations can't complete your request"
    )
    with pytest.raises(ThrottledError):
        list_member_accounts(factory)


def test_member_account_caller_gets_access_denied_with_aws_message(stubbed) -> None:
    factory, stubber = stubbed
    message = "You don't have permissions to access this resource."
    stubber.add_client_error("describe_organization", "AccessDeniedException", message)
    with pytest.raises(AccessDeniedError, match="permissions"):
        list_member_accounts(factory)


def test_an_organizations_client_works_as_the_source_too(stubbed) -> None:
    factory, stubber = stubbed
    stubber.add_response("describe_organization", ORG)
    stubber.add_response("list_accounts", {"Accounts": [account("111111111111")]})
    members = list_member_accounts(factory.client("organizations"))
    assert members.find("111111111111") is not None
    assert members.find("999999999999") is None


def test_missing_or_unknown_state_is_audited_anyway_and_named(stubbed) -> None:
    """An old botocore drops State (Status is retired): the account is audited, not skipped, and its record says so."""
    factory, stubber = stubbed
    stubber.add_response("describe_organization", ORG)
    stubber.add_response(
        "list_accounts",
        {"Accounts": [account("111111111111", state=None), account("222222222222", state="MIGRATING"),
                      account("333333333333", state="SUSPENDED")]},
    )  # fmt: skip
    members = list_member_accounts(factory)
    assert [(a.id, a.state) for a in members.to_audit] == [
        ("111111111111", ACCOUNT_STATE_NOT_REPORTED),
        ("222222222222", "MIGRATING"),
    ]
    assert [(s.account.id, s.reason) for s in members.skipped] == [("333333333333", "SUSPENDED")]
    assert not [s for s in members.skipped if s.reason == "UNKNOWN_STATE"]


def test_alert_names_an_account_whose_state_organizations_did_not_report() -> None:
    from rootwatch.domain.alert import compose_alert
    from rootwatch.domain.credentials import RootCredentialState
    from rootwatch.domain.outcomes import error_record, ok_record

    unreported = account_from_listing({"Id": "111111111111", "Name": "legacy"})
    unknown = account_from_listing({"Id": "222222222222", "Name": "moving", "State": "MIGRATING"})
    active = account_from_listing({"Id": "333333333333", "Name": "prod", "State": "ACTIVE"})
    assert unreported.state == ACCOUNT_STATE_NOT_REPORTED
    with_password = RootCredentialState(
        password_present=True, access_keys_present=False, signing_certificates_present=False, mfa_enabled=False
    )
    records = [
        replace(ok_record("r1", "2026-10-01T02:00:00Z", unreported, with_password), first_audit=True),
        error_record("r1", "2026-10-01T02:00:00Z", unknown, "ACCESS_DENIED", "not an active member"),
        replace(ok_record("r1", "2026-10-01T02:00:00Z", active, with_password), first_audit=True),
    ]
    alert = compose_alert(records, run_id="r1", organization_id="o-abcdefghij", scanned_at="2026-10-01T02:00:00Z")
    assert alert is not None
    assert "legacy (111111111111) [state unknown (not reported by Organizations)]" in alert.text
    assert "moving (222222222222) [state MIGRATING (unknown to rootwatch)]" in alert.text
    assert "prod (333333333333):" in alert.text and "prod (333333333333) [" not in alert.text
    notes = {e["account_id"]: e.get("account_state_note") for e in alert.document["new_with_credentials"]}
    assert notes == {"111111111111": "state unknown (not reported by Organizations)", "333333333333": None}
    assert alert.document["audit_errors"][0]["account_state_note"] == "state MIGRATING (unknown to rootwatch)"
