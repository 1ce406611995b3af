"""rootwatch.aws.organizations with botocore's Stubber: the paging and State rules of real AWS, no network.

The sandbox reproduces pages of 20; these tests pin the AWS behaviours that are awkward to provoke
there: an empty page in the middle, an entry with only the retired ``Status`` field.
"""

from __future__ import annotations

import pytest
from botocore.stub import Stubber
from rootwatch.aws.clients import ClientFactory
from rootwatch.aws.organizations import MANAGEMENT_ACCOUNT, list_member_accounts
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
