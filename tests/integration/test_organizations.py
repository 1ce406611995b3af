"""list_member_accounts against the sandbox: the OU walk, pages of 20, the management account and account states."""

from __future__ import annotations

from collections import Counter

import boto3
from rootwatch.aws.clients import ClientFactory
from rootwatch.aws.organizations import MANAGEMENT_ACCOUNT, list_member_accounts
from rootwatch_sandbox import MANAGEMENT_ACCOUNT_ID


def build_org(members: int) -> list[str]:
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    return [
        org.create_account(AccountName=f"member-{i:02d}", Email=f"member-{i:02d}@example.com")["CreateAccountStatus"][
            "AccountId"
        ]
        for i in range(members)
    ]


def test_45_members_are_listed_across_pages_of_at_most_20(sandbox) -> None:
    ids = build_org(45)
    factory = ClientFactory(max_attempts=1)
    pages: Counter[str] = Counter()
    sizes: list[int] = []
    factory.register_event(
        "before-send.organizations", lambda event_name, **_: pages.update([event_name.split(".")[-1]])
    )
    factory.register_event(
        "after-call.organizations.ListAccountsForParent", lambda parsed, **_: sizes.append(len(parsed["Accounts"]))
    )
    members = list_member_accounts(factory)
    assert sorted(a.id for a in members.to_audit) == sorted(ids)
    assert pages["ListAccountsForParent"] == 3  # 46 accounts under the root, 20 a page
    assert max(sizes) <= 20
    assert pages["ListAccounts"] == 0 and pages["ListRoots"] == 1
    assert {a.ou_path for a in members.all_accounts} == {"Root"}


def test_each_account_gets_its_ou_path_from_the_walk(sandbox) -> None:
    ids = build_org(25)
    org = boto3.client("organizations", region_name="us-east-1")
    root = org.list_roots()["Roots"][0]["Id"]

    def ou(parent: str, name: str) -> str:
        return str(org.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]["Id"])

    workloads = ou(root, "Workloads")
    prod, dev = ou(workloads, "Prod"), ou(workloads, "Dev")
    ou(root, "Empty")
    for account_id in ids[:22]:  # more than a page in one OU
        org.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=prod)
    org.move_account(AccountId=ids[22], SourceParentId=root, DestinationParentId=dev)
    members = list_member_accounts(ClientFactory(max_attempts=1))
    paths = {a.id: a.ou_path for a in members.all_accounts}
    assert paths == {
        **dict.fromkeys(ids[:22], "Root/Workloads/Prod"),
        ids[22]: "Root/Workloads/Dev",
        ids[23]: "Root",
        ids[24]: "Root",
        MANAGEMENT_ACCOUNT_ID: "Root",
    }


def test_management_account_is_skipped_not_audited(sandbox) -> None:
    build_org(2)
    members = list_member_accounts(ClientFactory(max_attempts=1))
    assert members.management_account_id == MANAGEMENT_ACCOUNT_ID
    assert MANAGEMENT_ACCOUNT_ID not in {a.id for a in members.to_audit}
    assert [(s.account.id, s.reason) for s in members.skipped] == [(MANAGEMENT_ACCOUNT_ID, MANAGEMENT_ACCOUNT)]
    assert members.organization_id.startswith("o-")


def test_suspended_closed_and_pending_closure_accounts_are_skipped_with_their_state(sandbox) -> None:
    ids = build_org(4)
    sandbox.set_account_state(ids[0], "SUSPENDED")
    sandbox.set_account_state(ids[1], "CLOSED")
    sandbox.set_account_state(ids[2], "PENDING_CLOSURE")
    members = list_member_accounts(ClientFactory(max_attempts=1))
    assert [a.id for a in members.to_audit] == [ids[3]]
    reasons = {s.account.id: s.reason for s in members.skipped}
    assert reasons == {
        MANAGEMENT_ACCOUNT_ID: MANAGEMENT_ACCOUNT,
        ids[0]: "SUSPENDED",
        ids[1]: "CLOSED",
        ids[2]: "PENDING_CLOSURE",
    }


def test_account_name_and_email_come_from_organizations(sandbox) -> None:
    (member,) = build_org(1)
    account = list_member_accounts(ClientFactory(max_attempts=1)).find(member)
    assert account is not None
    assert (account.name, account.email, account.state) == ("member-00", "member-00@example.com", "ACTIVE")
