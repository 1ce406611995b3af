"""`rootwatch enable` against the sandbox: ordered, idempotent, dry run, management account only."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from rootwatch_cli import main
from rootwatch_cli.operations.enable import STACKSETS_SERVICE_PRINCIPAL
from rootwatch_sandbox import MANAGEMENT_ACCOUNT_ID

from tests.integration import stacksets_api


def org_client() -> Any:
    return boto3.client("organizations", region_name="us-east-1")


def iam_client() -> Any:
    return boto3.client("iam", region_name="us-east-1")


@pytest.fixture
def bare_org(sandbox: Any) -> str:
    """An all-features organization with one member account and nothing of root access enabled."""
    org = org_client()
    org.create_organization(FeatureSet="ALL")
    status = org.create_account(Email="member@example.com", AccountName="member")["CreateAccountStatus"]
    return org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]


def state() -> dict[str, Any]:
    """Trusted access, IAM organization features and delegated admins as AWS reports them."""
    principals = {
        p["ServicePrincipal"]
        for p in org_client().list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    }
    try:
        features = set(iam_client().list_organizations_features()["EnabledFeatures"])
    except iam_client().exceptions.ClientError:
        features = set()
    try:
        admins = {
            a["Id"]
            for a in org_client().list_delegated_administrators(ServicePrincipal="iam.amazonaws.com")[
                "DelegatedAdministrators"
            ]
        }
    except org_client().exceptions.ClientError:
        admins = set()
    return {"trusted": "iam.amazonaws.com" in principals, "features": features, "admins": admins}


def test_enable_turns_everything_on_in_order_and_a_second_run_changes_nothing(bare_org, capsys):
    args = ["enable", "--root-sessions", "--delegated-admin", bare_org]
    assert main(args) == 0
    first = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in first[:4]] == ["changed"] * 4
    assert "trusted access" in first[0] and "RootCredentialsManagement" in first[1]
    assert "RootSessions" in first[2] and "delegated administrator" in first[3]
    assert state() == {"trusted": True, "features": {"RootCredentialsManagement", "RootSessions"}, "admins": {bare_org}}
    assert main(args) == 0
    second = capsys.readouterr().out
    assert "changed  " not in second and second.count("already") >= 4
    assert "enable: 0 changed" in second


def test_enable_without_root_sessions_leaves_it_off(bare_org):
    assert main(["enable"]) == 0
    assert state()["features"] == {"RootCredentialsManagement"}


def test_dry_run_reports_what_would_change_and_changes_nothing(bare_org, capsys):
    before = state()
    assert main(["enable", "--root-sessions", "--delegated-admin", bare_org, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert state() == before
    assert out.count("would change") >= 4 and "DRY RUN" in out


def test_enable_refuses_outside_the_management_account(bare_org, monkeypatch, capsys):
    creds = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{bare_org}:role/admin", RoleSessionName="member"
    )["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
    assert main(["enable"]) == 2
    err = capsys.readouterr().err
    assert f"must run in the management account {MANAGEMENT_ACCOUNT_ID}" in err
    monkeypatch.undo()
    assert state()["trusted"] is False


def test_the_management_account_cannot_be_the_delegated_admin(bare_org, capsys):
    before = state()
    assert main(["enable", "--delegated-admin", MANAGEMENT_ACCOUNT_ID]) == 2
    assert "is the management account" in capsys.readouterr().err
    assert state() == before


def test_an_unknown_delegated_admin_is_refused(bare_org, capsys):
    assert main(["enable", "--delegated-admin", "999999999999"]) == 2
    assert "not a member of organization" in capsys.readouterr().err


def test_no_organization_is_refused_clearly(sandbox, capsys):
    assert main(["enable"]) == 2
    assert "not in an organization" in capsys.readouterr().err


def test_an_organization_without_all_features_is_refused(sandbox, capsys):
    org_client().create_organization(FeatureSet="CONSOLIDATED_BILLING")
    assert main(["enable"]) == 2
    assert "all features" in capsys.readouterr().err
    assert state()["trusted"] is False


def test_another_registered_delegated_admin_fails_that_step_with_the_fix(bare_org, capsys):
    other = org_client().create_account(Email="other@example.com", AccountName="other")["CreateAccountStatus"]
    other_id = org_client().describe_create_account_status(CreateAccountRequestId=other["Id"])["CreateAccountStatus"][
        "AccountId"
    ]
    assert main(["enable", "--delegated-admin", other_id]) == 0
    capsys.readouterr()
    assert main(["enable", "--delegated-admin", bare_org]) == 3
    out = capsys.readouterr().out
    assert "FAILED" in out and f"deregister-delegated-administrator --account-id {other_id}" in out
    assert state()["admins"] == {other_id}


@pytest.mark.parametrize("value", ["", " ", ",", "١٢٣٤٥٦٧٨٩٠١٢", "{a},{a}"])
def test_delegated_admin_must_be_exactly_one_ascii_id_and_nothing_changes(bare_org, capsys, value):
    """Issue 9: `--delegated-admin ""` used to mean "none" and enable went ahead with the other steps."""
    before = state()
    assert main(["enable", "--delegated-admin", value.format(a=bare_org)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--delegated-admin" in err and "Traceback" not in err
    assert state() == before


@pytest.fixture
def stacksets(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return stacksets_api.install(monkeypatch)


def stacksets_state() -> dict[str, Any]:
    principals = {
        p["ServicePrincipal"]
        for p in org_client().list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    }
    admins = org_client().list_delegated_administrators(ServicePrincipal=STACKSETS_SERVICE_PRINCIPAL)
    return {
        "trusted": STACKSETS_SERVICE_PRINCIPAL in principals,
        "admins": {a["Id"] for a in admins["DelegatedAdministrators"]},
    }


def test_enable_stacksets_activates_trusted_access_and_registers_the_delegated_admin_once(bare_org, stacksets, capsys):
    args = ["enable", "--stacksets", "--delegated-admin", bare_org]
    assert main(args) == 0
    first = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in first[:5]] == ["changed"] * 5
    assert "trusted access for StackSets" in first[3] and "ActivateOrganizationsAccess" in first[3]
    assert "StackSets delegated administrator" in first[4] and STACKSETS_SERVICE_PRINCIPAL in first[4]
    assert stacksets == [MANAGEMENT_ACCOUNT_ID]
    assert stacksets_state() == {"trusted": True, "admins": {bare_org}}
    assert state()["admins"] == {bare_org}
    assert main(args) == 0
    second = capsys.readouterr().out
    assert "enable: 0 changed, 0 would change, 5 already done" in second
    assert stacksets == [MANAGEMENT_ACCOUNT_ID]


def test_enable_stacksets_without_a_delegated_admin_only_activates_trusted_access(bare_org, stacksets, capsys):
    assert main(["enable", "--stacksets"]) == 0
    out = capsys.readouterr().out
    assert "trusted access for StackSets" in out and "StackSets delegated administrator" not in out
    assert stacksets_state() == {"trusted": True, "admins": set()}


def test_enable_stacksets_dry_run_changes_nothing(bare_org, stacksets, capsys):
    assert main(["enable", "--stacksets", "--delegated-admin", bare_org, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("would change") >= 5
    assert "would call cloudformation ActivateOrganizationsAccess" in out
    assert f"would register {bare_org} for {STACKSETS_SERVICE_PRINCIPAL}" in out
    assert stacksets == []
    assert stacksets_state() == {"trusted": False, "admins": set()}


def test_enable_without_stacksets_leaves_stacksets_alone(bare_org, stacksets, capsys):
    assert main(["enable", "--delegated-admin", bare_org]) == 0
    assert "StackSets" not in capsys.readouterr().out
    assert stacksets == [] and stacksets_state() == {"trusted": False, "admins": set()}
