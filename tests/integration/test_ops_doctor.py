"""`rootwatch doctor` against the sandbox: ok/warn/fail per check, the fix, and the exit code."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from rootwatch.aws.clients import ClientFactory
from rootwatch_cli import main
from rootwatch_cli.operations.doctor import Status, check_stacksets, check_sts_endpoint
from rootwatch_cli.operations.enable import STACKSETS_SERVICE_PRINCIPAL
from rootwatch_cli.operations.preflight import identify_caller
from rootwatch_sandbox import MANAGEMENT_ACCOUNT_ID

from tests.integration import stacksets_api

DENY_ALL_ROOT = {  # the SCP of the SCP field report (docs/aws-behaviour.md#scp-denies-root-sessions)
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllDenyRoot",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringLike": {"aws:PrincipalARN": "arn:aws:iam::*:root"}},
        }
    ],
}


@pytest.fixture
def member(sandbox: Any) -> str:
    return sandbox.create_demo_org(accounts=2, seed=11)["accounts"][0]["account_id"]


def doctor(*args: str) -> tuple[int, dict[str, dict[str, Any]]]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["doctor", "--format", "json", *args])
    return code, {check["check"]: check for check in json.loads(out.getvalue())}


def attach_scp(target: str, content: dict[str, Any]) -> None:
    org = boto3.client("organizations", region_name="us-east-1")
    policy = org.create_policy(
        Content=json.dumps(content), Description="guard", Name="deny-root", Type="SERVICE_CONTROL_POLICY"
    )["Policy"]["PolicySummary"]
    org.attach_policy(PolicyId=policy["Id"], TargetId=target)


def test_a_ready_organization_passes_with_only_the_delegated_admin_warning(member, capsys):
    assert main(["doctor", "--account", member]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].endswith("0 fail")
    assert "warn  delegated admin" in out and "fix: rootwatch enable --delegated-admin" in out
    assert f"ok    trial audit {member}" in out


def test_every_check_has_a_status_and_the_trial_uses_the_audit_policy(member):
    code, checks = doctor("--account", member)
    assert code == 0
    assert {
        "botocore",
        "sts endpoint",
        "caller",
        "trusted access",
        "RootCredentialsManagement",
        "RootSessions",
        "delegated admin",
        f"trial audit {member}",
        "scp audit",
    } <= set(checks)
    assert "IAMAuditRootUserCredentials" in checks[f"trial audit {member}"]["detail"]


def test_root_credentials_management_off_fails_with_the_fix(member):
    boto3.client("iam", region_name="us-east-1").disable_organizations_root_credentials_management()
    code, checks = doctor("--account", member)
    assert code == 3
    assert checks["RootCredentialsManagement"]["status"] == Status.FAIL
    assert checks["RootCredentialsManagement"]["fix"] == "rootwatch enable"
    assert checks[f"trial audit {member}"]["status"] == Status.FAIL
    assert "Service not enabled for AWS Organizations" in checks[f"trial audit {member}"]["detail"]


def test_root_sessions_off_is_only_a_warning(member):
    boto3.client("iam", region_name="us-east-1").disable_organizations_root_sessions()
    code, checks = doctor("--account", member)
    assert code == 0
    assert checks["RootSessions"]["status"] == Status.WARN
    assert "rootwatch enable --root-sessions" in checks["RootSessions"]["fix"]


def test_seed_003_scp_denying_root_fails_with_the_exemption_advice(member):
    attach_scp(member, DENY_ALL_ROOT)
    code, checks = doctor("--account", member)
    assert code == 3
    scp = checks["scp audit"]
    assert scp["status"] == Status.FAIL
    assert "'AllDenyRoot'" in scp["detail"] and "iam:GetAccountSummary" in scp["detail"]
    assert "aws:AssumedRoot" in scp["fix"] and "ExemptAssumeRoot" in scp["fix"]
    assert checks["scp remediation"]["status"] == Status.WARN


def test_an_scp_on_the_root_applies_to_every_member(member):
    root_id = boto3.client("organizations", region_name="us-east-1").list_roots()["Roots"][0]["Id"]
    attach_scp(root_id, DENY_ALL_ROOT)
    _, checks = doctor("--account", member)
    assert checks["scp audit"]["status"] == Status.FAIL
    assert root_id in checks["scp audit"]["detail"]


def test_an_scp_style_deny_at_run_time_fails_the_trial_with_advice(member, sandbox):
    sandbox.add_fault(member, "*", "AccessDenied")
    code, checks = doctor("--account", member)
    assert code == 3
    trial = checks[f"trial audit {member}"]
    assert trial["status"] == Status.FAIL and "aws:AssumedRoot" in trial["fix"]


def test_a_member_account_caller_fails_the_caller_check(member, monkeypatch):
    creds = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/x", RoleSessionName="member"
    )["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
    code, checks = doctor()
    assert code == 3
    assert checks["caller"]["status"] == Status.FAIL
    assert "rootwatch enable --delegated-admin" in checks["caller"]["fix"]


def test_the_management_account_as_trial_target_fails(member):
    code, checks = doctor("--account", MANAGEMENT_ACCOUNT_ID)
    assert code == 3
    assert checks["trial audit"]["status"] == Status.FAIL


def test_the_global_sts_endpoint_fails(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "https://sts.amazonaws.com")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    check = check_sts_endpoint(ClientFactory(region="eu-west-1"))
    assert check.status is Status.FAIL
    assert "https://sts.eu-west-1.amazonaws.com" in (check.fix or "")


def test_the_default_sts_endpoint_is_regional(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_STS", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    check = check_sts_endpoint(ClientFactory(region="ap-northeast-1"))
    assert check.status is Status.OK and "sts.ap-northeast-1.amazonaws.com" in check.detail


def test_a_bare_organization_fails_trusted_access_and_the_feature_with_fixes(sandbox):
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    status = org.create_account(Email="m@example.com", AccountName="m")["CreateAccountStatus"]
    member_id = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"][
        "AccountId"
    ]
    code, checks = doctor("--account", member_id)
    assert code == 3
    assert checks["trusted access"]["status"] == Status.FAIL and checks["trusted access"]["fix"] == "rootwatch enable"
    assert checks["RootCredentialsManagement"]["status"] == Status.FAIL
    assert checks[f"trial audit {member_id}"]["status"] == Status.FAIL


@pytest.mark.parametrize("value", ["", " ", ",", "١٢٣٤٥٦٧٨٩٠١٢", "{m},{m}"])
def test_account_must_be_exactly_one_ascii_id(member, capsys, value):
    """Issue 9: `--account ""` used to mean "no account", i.e. the first ACTIVE member."""
    assert main(["doctor", "--account", value.format(m=member)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "--account" in err and "Traceback" not in err


def as_account(monkeypatch: pytest.MonkeyPatch, account_id: str) -> None:
    creds = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/x", RoleSessionName="operator"
    )["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])


def test_stacksets_without_trusted_access_is_only_a_warning_with_the_enable_fix(member):
    code, checks = doctor("--account", member)
    assert code == 0
    assert checks["stacksets"]["status"] == Status.WARN
    assert "only the optional real-time path" in checks["stacksets"]["detail"]
    assert checks["stacksets"]["fix"].startswith("rootwatch enable --stacksets")


def test_stacksets_with_trusted_access_is_ok_from_the_management_account(member, monkeypatch, capsys):
    stacksets_api.install(monkeypatch)
    assert main(["enable", "--stacksets"]) == 0
    capsys.readouterr()
    code, checks = doctor("--account", member)
    assert code == 0
    assert checks["stacksets"]["status"] == Status.OK
    assert STACKSETS_SERVICE_PRINCIPAL in checks["stacksets"]["detail"]


def test_stacksets_from_a_delegated_admin_needs_its_stacksets_registration(member, monkeypatch, capsys):
    """The sandbox answers a member's Organizations reads from that member's own (empty) view, while AWS answers
    a delegated admin with the organization's: so identify the delegated-admin caller, then let the check read
    with the management account's credentials, as AWS would answer the delegated admin."""
    stacksets_api.install(monkeypatch)
    assert main(["enable", "--stacksets", "--delegated-admin", member]) == 0
    capsys.readouterr()
    with monkeypatch.context() as env:
        as_account(env, member)
        caller = identify_caller(ClientFactory(region="us-east-1"))
    assert caller.delegated_admin and not caller.is_management
    factory = ClientFactory(region="us-east-1")
    assert check_stacksets(factory, caller).status is Status.OK
    org = boto3.client("organizations", region_name="us-east-1")
    org.deregister_delegated_administrator(AccountId=member, ServicePrincipal=STACKSETS_SERVICE_PRINCIPAL)
    check = check_stacksets(factory, caller)
    assert check.status is Status.WARN and "is not a StackSets delegated administrator" in check.detail
    assert check.fix is not None and check.fix.startswith(f"rootwatch enable --stacksets --delegated-admin {member}")
