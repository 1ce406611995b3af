"""rootwatch.aws.organizations with botocore's Stubber: the paging and State rules of real AWS, no network.

The sandbox reproduces pages of 20; these tests pin the AWS behaviours that are awkward to provoke
there: an empty page in the middle, an entry with only the retired ``Status`` field, a repeated NextToken.
The OU walk is listed one call after another here (``workers=1``: Stubber answers in order); ``FakeOrg``
answers by parent and token, so the threaded walk is tested with it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from botocore.stub import Stubber
from rootwatch.aws.clients import ClientFactory
from rootwatch.aws.organizations import (
    MANAGEMENT_ACCOUNT,
    account_from_listing,
    list_member_accounts,
    walk_organization,
)
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


ROOT_ID = "r-ab12"
ROOTS = {"Roots": [{"Id": ROOT_ID, "Arn": f"arn:aws:organizations::{MANAGEMENT}:root/o-abcdefghij/{ROOT_ID}",
                    "Name": "Root", "PolicyTypes": []}]}  # fmt: skip


def flat_org(stubber: Stubber, *pages: dict) -> None:
    """DescribeOrganization, then the walk of an org whose accounts all sit under the root, in ``pages``."""
    stubber.add_response("describe_organization", ORG)
    stubber.add_response("list_roots", ROOTS, {"MaxResults": 20})
    stubber.add_response(
        "list_organizational_units_for_parent", {"OrganizationalUnits": []}, {"MaxResults": 20, "ParentId": ROOT_ID}
    )
    for page in pages:
        stubber.add_response("list_accounts_for_parent", page)


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
    flat_org(stubber)
    stubber.add_response("list_accounts_for_parent", {"Accounts": [account(MANAGEMENT), account("111111111111")],
                         "NextToken": "t1"}, {"MaxResults": 20, "ParentId": ROOT_ID})  # fmt: skip
    stubber.add_response("list_accounts_for_parent", {"Accounts": [], "NextToken": "t2"},
                         {"MaxResults": 20, "ParentId": ROOT_ID, "NextToken": "t1"})  # fmt: skip
    stubber.add_response("list_accounts_for_parent", {"Accounts": [account("222222222222")]},
                         {"MaxResults": 20, "ParentId": ROOT_ID, "NextToken": "t2"})  # fmt: skip
    members = list_member_accounts(factory, workers=1)
    assert [a.id for a in members.to_audit] == ["111111111111", "222222222222"]
    assert members.organization_id == "o-abcdefghij"
    assert members.management_account_id == MANAGEMENT
    assert {a.ou_path for a in members.all_accounts} == {"Root"}


def test_management_account_is_skipped_with_its_reason(stubbed) -> None:
    factory, stubber = stubbed
    flat_org(stubber, {"Accounts": [account(MANAGEMENT), account("111111111111")]})
    members = list_member_accounts(factory, workers=1)
    assert [(s.account.id, s.reason) for s in members.skipped] == [(MANAGEMENT, MANAGEMENT_ACCOUNT)]
    assert "management account" in members.skipped[0].message


def test_non_active_states_are_skipped_with_the_state_as_reason(stubbed) -> None:
    factory, stubber = stubbed
    states = ["SUSPENDED", "PENDING_CLOSURE", "CLOSED", "PENDING_ACTIVATION"]
    accounts = [account(f"11111111111{i}", state) for i, state in enumerate(states)]
    flat_org(stubber, {"Accounts": [*accounts, account("222222222222")]})
    members = list_member_accounts(factory, workers=1)
    assert [a.id for a in members.to_audit] == ["222222222222"]
    assert [s.reason for s in members.skipped] == states


def test_state_is_read_first_and_status_only_when_state_is_missing(stubbed) -> None:
    factory, stubber = stubbed
    flat_org(
        stubber,
        {"Accounts": [account("111111111111", state="CLOSED", status="SUSPENDED"),
                      account("222222222222", state=None, status="SUSPENDED"),
                      account("333333333333", state=None, status="ACTIVE")]},
    )  # fmt: skip
    members = list_member_accounts(factory, workers=1)
    assert {s.account.id: s.account.state for s in members.skipped} == {
        "111111111111": "CLOSED",
        "222222222222": "SUSPENDED",
    }
    assert [a.id for a in members.to_audit] == ["333333333333"]


def test_too_many_requests_becomes_throttled_error(stubbed) -> None:
    factory, stubber = stubbed
    flat_org(stubber)
    stubber.add_client_error(
        "list_accounts_for_parent", "TooManyRequestsException", "AWS Organizations can't complete your request"
    )
    with pytest.raises(ThrottledError):
        list_member_accounts(factory, workers=1)


def test_member_account_caller_gets_access_denied_with_aws_message(stubbed) -> None:
    factory, stubber = stubbed
    message = "You don't have permissions to access this resource."
    stubber.add_client_error("describe_organization", "AccessDeniedException", message)
    with pytest.raises(AccessDeniedError, match="permissions"):
        list_member_accounts(factory, workers=1)


def test_an_organizations_client_works_as_the_source_too(stubbed) -> None:
    factory, stubber = stubbed
    flat_org(stubber, {"Accounts": [account("111111111111")]})
    members = list_member_accounts(factory.client("organizations"), workers=1)
    assert members.find("111111111111") is not None
    assert members.find("999999999999") is None


def test_missing_or_unknown_state_is_audited_anyway_and_named(stubbed) -> None:
    """An old botocore drops State (Status is retired): the account is audited, not skipped, and its record says so."""
    factory, stubber = stubbed
    flat_org(
        stubber,
        {"Accounts": [account("111111111111", state=None), account("222222222222", state="MIGRATING"),
                      account("333333333333", state="SUSPENDED")]},
    )  # fmt: skip
    members = list_member_accounts(factory, workers=1)
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


class FakeOrg:
    """An organizations client that answers the walk by parent and token, from any thread.

    ``tree`` maps a parent id to ``(ou_pages, account_pages)``: each a list of pages, each page a list of
    ``(id, name)`` OUs or account entries. Every page but the last carries a NextToken; ``calls`` counts them.
    """

    def __init__(self, tree: dict[str, tuple[list[list[tuple[str, str]]], list[list[dict]]]], *,
                 repeat_token: bool = False) -> None:  # fmt: skip
        self.tree = tree
        self.repeat_token = repeat_token
        self.calls: list[tuple[str, str | None, int]] = []

    def describe_organization(self) -> dict:
        return ORG

    def list_roots(self, MaxResults: int) -> dict:
        assert MaxResults <= 20
        self.calls.append(("ListRoots", None, MaxResults))
        return ROOTS

    def _page(self, parent: str, pages: list, token: str | None, key: str, render) -> dict:
        index = int(token.rsplit(":", 1)[1]) if token else 0
        answer: dict = {key: [render(item) for item in pages[index]] if pages else []}
        if index + 1 < len(pages):
            answer["NextToken"] = f"{parent}:{key}:{0 if self.repeat_token else index + 1}"
            if self.repeat_token and index == 0:
                answer["NextToken"] = f"{parent}:{key}:0"
        return answer

    def list_organizational_units_for_parent(self, ParentId: str, MaxResults: int, NextToken: str | None = None):
        assert MaxResults <= 20
        self.calls.append(("ListOrganizationalUnitsForParent", ParentId, MaxResults))
        pages = self.tree.get(ParentId, ([], []))[0]
        return self._page(ParentId, pages, NextToken, "OrganizationalUnits", lambda ou: {"Id": ou[0], "Name": ou[1]})

    def list_accounts_for_parent(self, ParentId: str, MaxResults: int, NextToken: str | None = None):
        assert MaxResults <= 20
        self.calls.append(("ListAccountsForParent", ParentId, MaxResults))
        pages = self.tree.get(ParentId, ([], []))[1]
        return self._page(ParentId, pages, NextToken, "Accounts", lambda item: item)


NESTED = {
    ROOT_ID: ([[("ou-w", "Workloads")], [], [("ou-s", "Sandbox")]], [[account(MANAGEMENT)]]),  # an empty OU page
    "ou-w": ([[("ou-p", "Prod"), ("ou-d", "Dev")]], [[]]),  # no account of its own
    "ou-p": ([], [[account("111111111111")], [], [account("222222222222")]]),  # an empty account page
    "ou-d": ([], [[account("333333333333", "SUSPENDED")]]),
    "ou-s": ([[("ou-e", "Empty")]], [[account("444444444444")]]),
    "ou-e": ([], []),  # an empty OU
}


@pytest.mark.parametrize("workers", [1, 4])
def test_the_walk_gives_each_account_its_ou_path_in_breadth_first_order(workers: int) -> None:
    client = FakeOrg(NESTED)
    accounts = walk_organization(client, workers=workers)  # type: ignore[arg-type]
    assert [(a.id, a.ou_path) for a in accounts] == [
        (MANAGEMENT, "Root"),
        ("444444444444", "Root/Sandbox"),
        ("111111111111", "Root/Workloads/Prod"),
        ("222222222222", "Root/Workloads/Prod"),
        ("333333333333", "Root/Workloads/Dev"),
    ]
    assert accounts[-1].state == "SUSPENDED"


def test_the_walk_lists_each_parent_once_and_follows_every_token() -> None:
    client = FakeOrg(NESTED)
    members = list_member_accounts(client, workers=4)  # type: ignore[arg-type]
    assert [a.id for a in members.to_audit] == ["444444444444", "111111111111", "222222222222"]
    assert [(s.account.id, s.reason) for s in members.skipped] == [
        (MANAGEMENT, MANAGEMENT_ACCOUNT),
        ("333333333333", "SUSPENDED"),
    ]
    by_operation = {op: [parent for o, parent, _ in client.calls if o == op] for op, _, _ in client.calls}
    assert by_operation["ListRoots"] == [None]
    # One call per parent, plus one per further page: root 3 OU pages, ou-p 3 account pages.
    assert sorted(by_operation["ListOrganizationalUnitsForParent"]) == sorted(
        [ROOT_ID] * 3 + ["ou-w", "ou-p", "ou-d", "ou-s", "ou-e"]
    )
    assert sorted(by_operation["ListAccountsForParent"]) == sorted(
        [ROOT_ID, "ou-w", "ou-d", "ou-s", "ou-e"] + ["ou-p"] * 3
    )
    assert {size for _, _, size in client.calls} == {20}


def test_a_repeated_next_token_raises_instead_of_looping() -> None:
    client = FakeOrg({ROOT_ID: ([], [[account("111111111111")], [account("222222222222")], []])}, repeat_token=True)
    with pytest.raises(RuntimeError, match="ListAccountsForParent returned the same NextToken twice"):
        walk_organization(client, workers=2)  # type: ignore[arg-type]


def test_a_caller_without_the_walk_permissions_gets_access_denied_not_a_fallback(stubbed) -> None:
    factory, stubber = stubbed
    stubber.add_response("describe_organization", ORG)
    message = "User: arn:aws:sts::123456789012:assumed-role/x/y is not authorized to perform: organizations:ListRoots"
    stubber.add_client_error("list_roots", "AccessDeniedException", message)
    with pytest.raises(AccessDeniedError, match="organizations:ListRoots"):
        list_member_accounts(factory, workers=1)
