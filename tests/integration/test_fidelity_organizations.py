"""Organizations and the IAM organization features as AWS serves them (docs/aws-behaviour.md)."""

from __future__ import annotations

import boto3
import pytest

from tests.integration.fidelity_support import REGION, build_org, error_of, member_credentials


def test_list_accounts_pages_hold_at_most_20(sandbox):
    sandbox.create_demo_org(accounts=45, seed=1)
    org = boto3.client("organizations")

    pages = list(org.get_paginator("list_accounts").paginate())

    assert [len(page["Accounts"]) for page in pages] == [20, 20, 6]
    assert len({a["Id"] for page in pages for a in page["Accounts"]}) == 46


def test_list_accounts_honours_a_smaller_max_results(sandbox):
    build_org(members=3)

    page = boto3.client("organizations").list_accounts(MaxResults=2)

    assert len(page["Accounts"]) == 2
    assert page["NextToken"]


@pytest.mark.parametrize("max_results", [21, 100])
def test_list_accounts_rejects_max_results_over_20(sandbox, max_results):
    build_org()

    error = error_of(boto3.client("organizations").list_accounts, MaxResults=max_results)

    assert error == {
        "Code": "InvalidInputException",
        "Message": "You provided a value that exceeds the maximum allowed value.",
    }


def test_list_accounts_rejects_a_forged_next_token(sandbox):
    build_org()

    error = error_of(boto3.client("organizations").list_accounts, NextToken="not-a-token")

    assert error["Code"] == "InvalidInputException"


@pytest.mark.parametrize(
    ("state", "status"), [("SUSPENDED", "SUSPENDED"), ("PENDING_CLOSURE", "PENDING_CLOSURE"), ("CLOSED", "SUSPENDED")]
)
def test_account_state_set_by_seeding_shows_in_list_and_describe(sandbox, state, status):
    (member, _) = build_org()
    sandbox.set_account_state(member, state)
    org = boto3.client("organizations")

    listed = next(a for a in org.list_accounts()["Accounts"] if a["Id"] == member)
    described = org.describe_account(AccountId=member)["Account"]

    assert (listed["State"], listed["Status"]) == (state, status)
    assert (described["State"], described["Status"]) == (state, status)


def test_close_account_leaves_the_account_pending_closure(sandbox):
    (member, _) = build_org()
    org = boto3.client("organizations")

    org.close_account(AccountId=member)

    assert org.describe_account(AccountId=member)["Account"]["State"] == "PENDING_CLOSURE"


def test_iam_is_accepted_for_trusted_access_and_delegated_administration(sandbox):
    (_, admin) = build_org(trusted_access=False, credentials_management=False, root_sessions=False)
    org = boto3.client("organizations")

    org.enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    org.register_delegated_administrator(AccountId=admin, ServicePrincipal="iam.amazonaws.com")

    principals = [
        s["ServicePrincipal"] for s in org.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    ]
    assert "iam.amazonaws.com" in principals
    admins = org.list_delegated_administrators(ServicePrincipal="iam.amazonaws.com")["DelegatedAdministrators"]
    assert [a["Id"] for a in admins] == [admin]


def test_features_can_be_disabled_again(sandbox):
    build_org()
    iam = boto3.client("iam", region_name=REGION)

    answer = iam.disable_organizations_root_sessions()

    assert answer["EnabledFeatures"] == ["RootCredentialsManagement"]
    assert iam.disable_organizations_root_credentials_management()["EnabledFeatures"] == []
    assert iam.list_organizations_features()["EnabledFeatures"] == []


def test_enabling_features_without_trusted_access_is_service_access_not_enabled(sandbox):
    build_org(trusted_access=False, credentials_management=False, root_sessions=False)

    error = error_of(boto3.client("iam", region_name=REGION).enable_organizations_root_credentials_management)

    assert error["Code"] == "ServiceAccessNotEnabledException"


def test_features_without_an_organization_is_organization_not_found(sandbox):
    error = error_of(boto3.client("iam", region_name=REGION).list_organizations_features)

    assert error["Code"] == "OrganizationNotFoundException"


def test_features_from_a_plain_member_is_not_management_or_delegated_admin(sandbox):
    (member, _) = build_org()

    error = error_of(boto3.client("iam", region_name=REGION, **member_credentials(member)).list_organizations_features)

    assert error["Code"] == "AccountNotManagementOrDelegatedAdministratorException"


def test_delegated_admin_may_list_but_not_enable_features(sandbox):
    (_, admin) = build_org(root_sessions=False)
    boto3.client("organizations").register_delegated_administrator(
        AccountId=admin, ServicePrincipal="iam.amazonaws.com"
    )
    iam = boto3.client("iam", region_name=REGION, **member_credentials(admin))

    assert iam.list_organizations_features()["EnabledFeatures"] == ["RootCredentialsManagement"]
    assert error_of(iam.enable_organizations_root_sessions)["Code"] == "CallerIsNotManagementAccountException"


def test_features_need_an_all_features_organization(sandbox):
    org = boto3.client("organizations")
    org.create_organization(FeatureSet="CONSOLIDATED_BILLING")
    org.enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")

    error = error_of(boto3.client("iam", region_name=REGION).enable_organizations_root_sessions)

    assert error["Code"] == "OrganizationNotInAllFeaturesModeException"


def test_delegated_admin_lists_the_organizations_accounts_like_the_management_account(sandbox):
    members = build_org(3)
    admin = members[0]
    boto3.client("organizations").register_delegated_administrator(
        AccountId=admin, ServicePrincipal="iam.amazonaws.com"
    )
    org = boto3.client("organizations", region_name=REGION, **member_credentials(admin))

    listed = [a["Id"] for page in org.get_paginator("list_accounts").paginate() for a in page["Accounts"]]

    assert set(members) <= set(listed)
    assert "123456789012" in listed


def test_plain_member_account_is_denied_list_accounts(sandbox):
    members = build_org(2)
    org = boto3.client("organizations", region_name=REGION, **member_credentials(members[1]))

    error = error_of(org.list_accounts)

    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == "You don't have permissions to access this resource."


def _root_id() -> str:
    return str(boto3.client("organizations").list_roots()["Roots"][0]["Id"])


def test_the_for_parent_listings_page_like_list_accounts(sandbox):
    sandbox.create_demo_org(accounts=45, seed=1)
    org = boto3.client("organizations")
    parent = org.create_organizational_unit(ParentId=_root_id(), Name="Moved")["OrganizationalUnit"]["Id"]
    for index in range(23):
        org.create_organizational_unit(ParentId=parent, Name=f"child-{index:02d}")
    listed = [a["Id"] for page in org.get_paginator("list_accounts").paginate() for a in page["Accounts"]]
    for account_id in listed[:25]:
        source = org.list_parents(ChildId=account_id)["Parents"][0]["Id"]
        org.move_account(AccountId=account_id, SourceParentId=source, DestinationParentId=parent)

    accounts = list(org.get_paginator("list_accounts_for_parent").paginate(ParentId=parent))
    ous = list(org.get_paginator("list_organizational_units_for_parent").paginate(ParentId=parent))

    assert [len(page["Accounts"]) for page in accounts] == [20, 5]
    assert all("State" in a for page in accounts for a in page["Accounts"])
    assert [len(page["OrganizationalUnits"]) for page in ous] == [20, 3]


@pytest.mark.parametrize("operation", ["list_accounts_for_parent", "list_organizational_units_for_parent"])
def test_the_for_parent_listings_reject_max_results_over_20_and_an_unknown_parent(sandbox, operation):
    build_org()
    call = getattr(boto3.client("organizations"), operation)

    assert error_of(call, ParentId=_root_id(), MaxResults=21)["Code"] == "InvalidInputException"
    assert error_of(call, ParentId=_root_id(), NextToken="not-a-token")["Code"] == "InvalidInputException"
    assert error_of(call, ParentId="ou-abcd-12345678")["Code"] == "ParentNotFoundException"


@pytest.mark.parametrize(
    "operation", ["list_roots", "list_accounts_for_parent", "list_organizational_units_for_parent"]
)
def test_plain_member_account_is_denied_the_ou_walk(sandbox, operation):
    members = build_org(2)
    root = _root_id()
    org = boto3.client("organizations", region_name=REGION, **member_credentials(members[1]))
    kwargs = {} if operation == "list_roots" else {"ParentId": root}

    error = error_of(getattr(org, operation), **kwargs)

    assert error["Code"] == "AccessDeniedException"
