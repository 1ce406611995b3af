"""`rootwatch remediate` against the sandbox: dry run by default, the deletion order, refusals, the action log."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import boto3
import botocore.client
import pytest
from rootwatch_cli import main
from rootwatch_sandbox import MANAGEMENT_ACCOUNT_ID
from rootwatch_sandbox.builders import describe_root_user
from rootwatch_sandbox.rootstate import STATE

from tests.integration.stack_context import PIPELINE, pipeline

FULLWIDTH = "".join(chr(0xFF10 + int(d)) for d in "123456789012")  # fullwidth digits
EVERYTHING = {
    "password": True,
    "access_keys": ["Active", "Inactive"],
    "mfa_devices": ["virtual"],
    "signing_certificates": ["Active"],
}


class Terminal(io.StringIO):
    """A stdin that says it is a terminal, with the operator's answers already typed."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def org(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Two member accounts: A and B with every kind of root credential; C with none.

    A status table exists and $ROOTWATCH_TABLE names it, as after a deployment: executing needs an action log.
    """
    monkeypatch.setenv("ROOTWATCH_TABLE", create_status_table())
    created = sandbox.create_demo_org(accounts=3, seed=7)
    a, b, c = (account["account_id"] for account in created["accounts"])
    sandbox.set_root_credentials(a, **EVERYTHING)
    sandbox.set_root_credentials(b, **EVERYTHING)
    sandbox.set_root_credentials(c)
    return {"a": a, "b": b, "c": c, "organization_id": created["organization_id"]}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Every API call made by any botocore client (the caller's and the root sessions'), in order."""
    made: list[tuple[str, dict[str, Any]]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        made.append((operation_name, dict(api_params)))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return made


def root_state(account_id: str) -> dict[str, Any]:
    user = STATE.known_root_user(account_id)
    return describe_root_user(user) if user is not None else {}


def all_root_states(org: dict[str, Any]) -> dict[str, Any]:
    return {key: root_state(org[key]) for key in ("a", "b", "c")}


def member_credentials(monkeypatch: pytest.MonkeyPatch, account_id: str) -> None:
    """Make the CLI run as a role in a member account (moto maps assumed-role credentials to that account)."""
    creds = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/operator", RoleSessionName="not-management"
    )["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])


def create_status_table(name: str = "rootwatch-status") -> str:
    dynamodb = boto3.Session().client("dynamodb", region_name="us-east-1")  # the credentials in force now
    if name in dynamodb.list_tables()["TableNames"]:
        return name
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def action_items(table: str, account_id: str) -> list[dict[str, str]]:
    items = boto3.client("dynamodb", region_name="us-east-1").query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ACTION#{account_id}"}},
    )["Items"]
    return [{k: v["S"] for k, v in item.items()} for item in items]


def test_default_is_a_dry_run_that_lists_ids_and_dates_and_changes_nothing(org, calls, capsys):
    before = all_root_states(org)
    code = main(["remediate", "delete-root-credentials", "--accounts", f"{org['a']},{org['c']}"])
    out = capsys.readouterr().out
    assert code == 0
    assert all_root_states(org) == before
    made = {name for name, _ in calls}
    assert not {n for n in made if n.startswith(("Delete", "Deactivate", "Create", "Put", "Update"))}
    assert {p["TaskPolicyArn"]["arn"].rsplit("/", 1)[1] for n, p in calls if n == "AssumeRoot"} == {
        "IAMAuditRootUserCredentials"
    }
    assert "DRY RUN" in out and "dry run: nothing was changed" in out
    for key_id in before["a"]["access_key_ids"]:
        assert key_id in out
    assert before["a"]["signing_certificate_ids"][0] in out
    assert before["a"]["mfa_serial_numbers"][0] in out
    assert "DeleteLoginProfile login-profile (since " in out
    assert "nothing to delete" in out  # account C


def test_yes_deletes_in_seed_002_order_with_the_delete_task_policy_and_reaudits(org, calls, capsys):
    seeded = root_state(org["a"])
    code = main(["remediate", "delete-root-credentials", "--accounts", org["a"], "--yes"])
    out = capsys.readouterr().out
    assert code == 0, out
    deletions = [(name, params) for name, params in calls if name.startswith(("Delete", "Deactivate"))]
    assert [name for name, _ in deletions] == [
        "DeleteSigningCertificate",
        "DeleteAccessKey",
        "DeleteAccessKey",
        "DeactivateMFADevice",
        "DeleteLoginProfile",
    ]
    assert deletions[0][1] == {"CertificateId": seeded["signing_certificate_ids"][0]}
    assert {p["AccessKeyId"] for _, p in deletions[1:3]} == set(seeded["access_key_ids"])
    assert all("UserName" not in params for _, params in deletions)  # as root, never a named user
    policies = [p["TaskPolicyArn"]["arn"].rsplit("/", 1)[1] for name, p in calls if name == "AssumeRoot"]
    # read-only plan, then the delete session, then the audit engine's re-audit
    assert policies == ["IAMAuditRootUserCredentials", "IAMDeleteRootUserCredentials", "IAMAuditRootUserCredentials"]
    after = root_state(org["a"])
    assert after["password"] is False and not after["access_key_ids"] and not after["mfa_serial_numbers"]
    assert not after["signing_certificate_ids"]
    assert "now: no root credentials" in out


def test_credentials_flag_limits_the_kinds_deleted(org, capsys):
    seeded = root_state(org["a"])
    assert (
        main(["remediate", "delete-root-credentials", "--accounts", org["a"], "--credentials", "access_keys", "--yes"])
        == 0
    )
    after = root_state(org["a"])
    assert after["access_key_ids"] == []
    assert after["password"] is True
    assert after["mfa_serial_numbers"] == seeded["mfa_serial_numbers"]
    assert "root credentials present: password, signing_certificates, mfa" in capsys.readouterr().out


def test_a_failed_step_stops_that_account_and_the_others_continue(org, sandbox, capsys):
    sandbox.add_fault(org["a"], "DeleteAccessKey", "AccessDenied", "explicit deny in a service control policy")
    code = main(["remediate", "delete-root-credentials", "--accounts", f"{org['a']},{org['b']}", "--yes"])
    out = capsys.readouterr().out
    assert code == 3
    a, b = root_state(org["a"]), root_state(org["b"])
    assert a["signing_certificate_ids"] == []  # step 1 ran
    assert len(a["access_key_ids"]) == 2  # step 2 failed
    assert a["mfa_serial_numbers"] and a["password"]  # steps 3-4 not attempted
    assert b == {**b, "password": False, "access_key_ids": [], "mfa_serial_numbers": [], "signing_certificate_ids": []}
    assert "FAILED        DeleteAccessKey" in out and "not attempted" in out
    assert "1 cleaned, 1 failed" in out


def test_the_management_account_is_refused_and_nothing_changes(org, capsys):
    before = all_root_states(org)
    code = main(["remediate", "delete-root-credentials", "--accounts", f"{org['a']},{MANAGEMENT_ACCOUNT_ID}", "--yes"])
    assert code == 2
    assert "is the management account" in capsys.readouterr().err
    assert all_root_states(org) == before


def test_an_account_outside_the_organization_is_refused(org, capsys):
    assert main(["remediate", "delete-root-credentials", "--accounts", "999999999999", "--yes"]) == 2
    assert "999999999999 is not a member of organization" in capsys.readouterr().err


def test_a_disabled_feature_is_refused_with_seed_000_message(org, capsys):
    boto3.client("iam", region_name="us-east-1").disable_organizations_root_credentials_management()
    before = all_root_states(org)
    assert main(["remediate", "delete-root-credentials", "--accounts", org["a"], "--yes"]) == 2
    err = capsys.readouterr().err
    assert "RootCredentialsManagement is not enabled" in err and "Service not enabled for AWS Organizations." in err
    assert "rootwatch enable" in err
    assert all_root_states(org) == before


def test_a_member_account_caller_is_refused(org, monkeypatch, capsys):
    member_credentials(monkeypatch, org["c"])
    before = all_root_states(org)
    assert main(["remediate", "delete-root-credentials", "--accounts", org["a"], "--yes"]) == 2
    assert "neither the management account" in capsys.readouterr().err
    assert all_root_states(org) == before


def test_execute_without_a_terminal_and_without_yes_is_refused(org, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    before = all_root_states(org)
    assert main(["remediate", "delete-root-credentials", "--accounts", org["a"], "--execute"]) == 2
    assert "stdin is not a terminal" in capsys.readouterr().err
    assert all_root_states(org) == before


def test_each_account_is_confirmed_separately_and_a_no_leaves_it_untouched(org, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", Terminal("y\nn\n"))
    before_b = root_state(org["b"])
    code = main(["remediate", "delete-root-credentials", "--accounts", f"{org['a']},{org['b']}", "--execute"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("[y/N]") == 2
    assert root_state(org["a"])["access_key_ids"] == []
    assert root_state(org["b"]) == before_b
    assert "1 cleaned, 0 failed, 1 declined" in out


def test_declining_every_confirmation_changes_nothing_and_exits_1(org, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    before = all_root_states(org)
    assert main(["remediate", "delete-root-credentials", "--accounts", org["a"], "--execute"]) == 1
    assert all_root_states(org) == before


def test_all_with_credentials_targets_only_members_with_credentials(org, calls, capsys):
    code = main(["remediate", "delete-root-credentials", "--all-with-credentials", "--yes"])
    out = capsys.readouterr().out
    assert code == 0, out
    deleting = {
        p["TargetPrincipal"]
        for name, p in calls
        if name == "AssumeRoot" and p["TaskPolicyArn"]["arn"].endswith("IAMDeleteRootUserCredentials")
    }
    assert deleting == {org["a"], org["b"]}
    assert MANAGEMENT_ACCOUNT_ID not in {p.get("TargetPrincipal") for name, p in calls if name == "AssumeRoot"}
    assert "2 cleaned, 0 failed" in out


def test_every_action_is_appended_to_the_status_table_with_who_and_when(org, capsys):
    table = create_status_table()
    assert main(["remediate", "delete-root-credentials", "--accounts", org["a"], "--yes", "--table", table]) == 0
    items = action_items(table, org["a"])
    assert [i["action"] for i in items] == [
        "DeleteSigningCertificate",
        "DeleteAccessKey",
        "DeleteAccessKey",
        "DeactivateMFADevice",
        "DeleteLoginProfile",
    ]
    assert {i["who"] for i in items} == {"arn:aws:sts::123456789012:user/moto"}
    assert all(i["result"] == "done" and i["when"].startswith("20") for i in items)
    assert all(i["task_policy"] == "IAMDeleteRootUserCredentials" for i in items)
    assert f"DynamoDB table {table}" in capsys.readouterr().out


def test_a_missing_table_is_refused_before_anything_is_deleted(org, capsys):
    before = all_root_states(org)
    assert main(["remediate", "delete-root-credentials", "--accounts", org["a"], "--yes", "--table", "nope"]) == 2
    assert "--table" in capsys.readouterr().err
    assert all_root_states(org) == before


# -- allow-password-recovery --------------------------------------------------------------------------------


def test_password_recovery_dry_run_explains_and_changes_nothing(org, capsys):
    assert main(["remediate", "allow-password-recovery", "--account", org["c"]]) == 0
    out = capsys.readouterr().out
    assert "only the password shows as present" in out
    assert root_state(org["c"])["password"] is False


def test_password_recovery_creates_the_login_profile_and_only_the_password_appears(org, calls, capsys):
    table = create_status_table()
    assert main(["remediate", "allow-password-recovery", "--account", org["c"], "--yes", "--table", table]) == 0
    out = capsys.readouterr().out
    assert root_state(org["c"])["password"] is True
    assert "now: root credentials present: password" in out
    policies = [p["TaskPolicyArn"]["arn"].rsplit("/", 1)[1] for name, p in calls if name == "AssumeRoot"]
    assert "IAMCreateRootUserPassword" in policies
    assert "IAMDeleteRootUserCredentials" not in policies
    assert [i["action"] for i in action_items(table, org["c"])] == ["CreateLoginProfile", "add"]  # + its exemption


def test_password_recovery_when_a_password_exists_does_nothing(org, capsys):
    assert main(["remediate", "allow-password-recovery", "--account", org["a"], "--yes"]) == 0
    assert "already has a login profile" in capsys.readouterr().out


def test_password_recovery_refuses_the_management_account(org, capsys):
    assert main(["remediate", "allow-password-recovery", "--account", MANAGEMENT_ACCOUNT_ID, "--yes"]) == 2
    assert "is the management account" in capsys.readouterr().err


def test_password_recovery_denied_by_an_scp_is_reported_as_failed(org, sandbox, capsys):
    sandbox.add_fault(org["c"], "CreateLoginProfile", "AccessDenied")
    assert main(["remediate", "allow-password-recovery", "--account", org["c"], "--yes"]) == 3
    assert "FAILED  CreateLoginProfile: AccessDenied" in capsys.readouterr().out
    assert root_state(org["c"])["password"] is False


def test_the_iam_delegated_admin_can_remediate_but_never_the_management_account(org, monkeypatch, capsys):
    assert main(["enable", "--delegated-admin", org["c"]]) == 0
    member_credentials(monkeypatch, org["c"])
    create_status_table()  # the stack, with its status table, is deployed in the delegated admin account
    assert main(["remediate", "delete-root-credentials", "--accounts", org["a"], "--yes"]) == 0
    assert "now: no root credentials" in capsys.readouterr().out
    assert root_state(org["a"])["access_key_ids"] == []
    assert main(["remediate", "delete-root-credentials", "--accounts", MANAGEMENT_ACCOUNT_ID, "--yes"]) == 2
    assert "is the management account" in capsys.readouterr().err


def test_root_session_credentials_never_reach_the_output_or_the_action_log(org, monkeypatch, capsys):
    handed_out: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        answer = original(self, operation_name, api_params)
        if operation_name == "AssumeRoot":
            handed_out.extend(answer["Credentials"][k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken"))
        return answer

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    table = create_status_table()
    assert main(["remediate", "delete-root-credentials", "--accounts", org["a"], "--yes", "--table", table]) == 0
    captured = capsys.readouterr()
    stored = repr(action_items(table, org["a"]))
    assert len(handed_out) == 9  # plan, delete, re-audit sessions
    assert [s for s in handed_out if s in captured.out + captured.err + stored] == []


def test_json_format_gives_one_row_per_step_and_keeps_prompts_off_stdout(org, capsys):
    import json

    code = main(
        ["remediate", "delete-root-credentials", "--accounts", f"{org['a']},{org['c']}", "--yes", "--format", "json"]
    )
    captured = capsys.readouterr()
    assert code == 0
    rows = json.loads(captured.out)
    a_rows = [r for r in rows if r["account_id"] == org["a"]]
    assert [r["action"] for r in a_rows] == [
        "DeleteSigningCertificate",
        "DeleteAccessKey",
        "DeleteAccessKey",
        "DeactivateMFADevice",
        "DeleteLoginProfile",
    ]
    assert {r["result"] for r in a_rows} == {"done"} and a_rows[0]["credentials_after"] == []
    assert [r["result"] for r in rows if r["account_id"] == org["c"]] == ["nothing_to_delete"]
    assert "summary:" in captured.err


def test_csv_dry_run_rows_say_planned(org, capsys):
    assert main(["remediate", "delete-root-credentials", "--accounts", org["a"], "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("account_id,account_name,order,kind,action,target")
    assert len(lines) == 6 and all(line.split(",")[8] == "planned" for line in lines[1:])


def test_password_recovery_cancelled_at_the_prompt_changes_nothing(org, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    assert main(["remediate", "allow-password-recovery", "--account", org["c"], "--execute"]) == 1
    assert "cancelled: nothing changed" in capsys.readouterr().out
    assert root_state(org["c"])["password"] is False


def test_all_with_credentials_reports_an_account_it_cannot_read_as_failed(org, sandbox, capsys):
    sandbox.add_fault(org["c"], "*", "AccessDenied")
    code = main(["remediate", "delete-root-credentials", "--all-with-credentials", "--yes"])
    out = capsys.readouterr().out
    assert code == 3
    assert f"account {org['c']}" in out and "ERROR reading the root credentials" in out
    assert "2 cleaned, 1 failed" in out


# -- never act on more than asked (issue 9) ------------------------------------------------------------------


def one_error_line(err: str, *words: str) -> None:
    """A usage error: exactly one line on stderr, naming the flag and the problem, no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], err


@pytest.mark.parametrize("value", ["", "  ", ",", " , ,"])
@pytest.mark.parametrize("consent", ["--yes", "--execute"])
def test_an_empty_account_list_is_a_usage_error_and_changes_nothing(org, calls, monkeypatch, capsys, value, consent):
    monkeypatch.setattr("sys.stdin", Terminal("y\ny\ny\n"))
    before = all_root_states(org)
    code = main(["remediate", "delete-root-credentials", "--accounts", value, consent, "--no-action-log"])
    captured = capsys.readouterr()
    assert code == 2, captured.out
    one_error_line(captured.err, "--accounts", "empty")
    assert all_root_states(org) == before
    assert calls == []  # refused while parsing: not even a read


def test_an_empty_account_list_without_the_opt_out_also_changes_nothing(org, capsys):
    """The hostile review's exact command: it used to clean all 3 accounts."""
    before = all_root_states(org)
    assert main(["remediate", "delete-root-credentials", "--accounts", "", "--yes"]) == 2
    captured = capsys.readouterr()
    assert "cleaned" not in captured.out
    one_error_line(captured.err, "--accounts")
    assert all_root_states(org) == before


@pytest.mark.parametrize("value", ["١٢٣٤٥٦٧٨٩٠١٢", FULLWIDTH, "{a},١٢٣٤٥٦٧٨٩٠١٢", "{a}x"])
def test_non_ascii_digits_are_not_account_ids(org, calls, capsys, value):
    before = all_root_states(org)
    args = ["remediate", "delete-root-credentials", "--accounts", value.format(a=org["a"]), "--yes", "--no-action-log"]
    assert main(args) == 2
    one_error_line(capsys.readouterr().err, "--accounts", "is not a 12-digit AWS account id")
    assert all_root_states(org) == before
    assert calls == []


@pytest.mark.parametrize("value", ["", " ", ",", "١٢٣٤٥٦٧٨٩٠١٢", "{c},{a}", "{c},"])
def test_password_recovery_takes_exactly_one_ascii_account_id(org, calls, capsys, value):
    before = all_root_states(org)
    args = ["remediate", "allow-password-recovery", "--account", value.format(a=org["a"], c=org["c"]), "--yes"]
    assert main([*args, "--no-action-log"]) == 2
    one_error_line(capsys.readouterr().err, "--account")
    assert all_root_states(org) == before
    assert calls == []


@pytest.mark.parametrize(
    "args",
    [
        ["remediate", "delete-root-credentials", "--yes", "--no-action-log"],
        ["remediate", "allow-password-recovery", "--yes", "--no-action-log"],
    ],
)
def test_a_missing_selection_is_a_usage_error_never_all(org, calls, capsys, args):
    before = all_root_states(org)
    assert main(args) == 2
    assert "--account" in capsys.readouterr().err
    assert all_root_states(org) == before
    assert calls == []


@pytest.mark.parametrize("consent", ["--yes", "--execute"])
def test_executing_without_a_findable_status_table_is_refused(org, monkeypatch, capsys, consent):
    monkeypatch.delenv("ROOTWATCH_TABLE", raising=False)
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    before = all_root_states(org)
    assert main(["remediate", "delete-root-credentials", "--accounts", org["a"], consent]) == 2
    captured = capsys.readouterr()
    one_error_line(captured.err, "--table", "--no-action-log")
    assert "Delete these" not in captured.out + captured.err  # refused before anyone was asked
    assert all_root_states(org) == before


def test_password_recovery_without_a_findable_status_table_is_refused(org, monkeypatch, capsys):
    monkeypatch.delenv("ROOTWATCH_TABLE", raising=False)
    before = all_root_states(org)
    assert main(["remediate", "allow-password-recovery", "--account", org["c"], "--yes"]) == 2
    one_error_line(capsys.readouterr().err, "--table", "--no-action-log")
    assert all_root_states(org) == before


def test_a_dry_run_needs_no_status_table(org, monkeypatch, capsys):
    monkeypatch.delenv("ROOTWATCH_TABLE", raising=False)
    assert main(["remediate", "delete-root-credentials", "--accounts", org["a"]]) == 0
    assert main(["remediate", "allow-password-recovery", "--account", org["c"]]) == 0


def test_no_action_log_opts_out_explicitly_and_says_so(org, monkeypatch, capsys):
    monkeypatch.delenv("ROOTWATCH_TABLE", raising=False)
    assert main(["remediate", "delete-root-credentials", "--accounts", org["a"], "--yes", "--no-action-log"]) == 0
    out = capsys.readouterr().out
    assert "audit log: skipped: --no-action-log" in out
    assert root_state(org["a"])["password"] is False


def test_table_and_no_action_log_together_are_a_usage_error(org, capsys):
    before = all_root_states(org)
    args = ["remediate", "delete-root-credentials", "--accounts", org["a"], "--yes"]
    assert main([*args, "--table", create_status_table(), "--no-action-log"]) == 2
    one_error_line(capsys.readouterr().err, "--no-action-log", "--table")
    assert all_root_states(org) == before


def test_an_empty_table_name_is_a_usage_error(org, capsys):
    before = all_root_states(org)
    assert main(["remediate", "delete-root-credentials", "--accounts", org["a"], "--yes", "--table", ""]) == 2
    one_error_line(capsys.readouterr().err, "--table")
    assert all_root_states(org) == before


def test_the_deployed_stacks_status_table_is_discovered_and_gets_the_action_items(org, monkeypatch, capsys):
    from rootwatch_sandbox.deploy import deploy_stack

    monkeypatch.delenv("ROOTWATCH_TABLE", raising=False)
    table = deploy_stack(context=pipeline(resourcePrefix="deployed"))["table"]
    assert table.startswith("deployed-")  # the org fixture's rootwatch-status is not the stack's: never picked
    assert main(["remediate", "delete-root-credentials", "--accounts", org["a"], "--yes"]) == 0
    assert f"audit log: DynamoDB table {table} " in capsys.readouterr().out
    assert [i["action"] for i in action_items(table, org["a"])] == [
        "DeleteSigningCertificate",
        "DeleteAccessKey",
        "DeleteAccessKey",
        "DeactivateMFADevice",
        "DeleteLoginProfile",
    ]
    assert action_items("rootwatch-status", org["a"]) == []
    assert main(["remediate", "allow-password-recovery", "--account", org["c"], "--yes"]) == 0
    assert [i["action"] for i in action_items(table, org["c"])] == ["CreateLoginProfile", "add"]  # + its exemption


def test_two_deployed_stacks_are_ambiguous_and_refused(org, monkeypatch, capsys):
    from rootwatch_sandbox.deploy import deploy_stack

    monkeypatch.delenv("ROOTWATCH_TABLE", raising=False)
    first = deploy_stack(context=PIPELINE)["table"]
    second = deploy_stack(context=pipeline(resourcePrefix="rootwatch-b"))["table"]
    before = all_root_states(org)
    assert main(["remediate", "delete-root-credentials", "--accounts", org["a"], "--yes"]) == 2
    err = capsys.readouterr().err
    one_error_line(err, "--table", first, second)
    assert all_root_states(org) == before


def test_a_hostile_account_name_is_printed_as_plain_text_in_the_plan(org, capsys):
    from rootwatch_sandbox import orgview

    backend = orgview.management_backend(org["a"])
    orgview.find_account(backend, org["a"]).name = "prod\r\x1b[2Kother-account\x9b"
    code = main(["remediate", "delete-root-credentials", "--accounts", org["a"]])
    out = capsys.readouterr().out
    assert code == 0 and f"account {org['a']} (prod [2Kother-account)" in out
    assert not any(ch in out for ch in "\r\x1b\x9b")


def test_the_plan_shows_when_each_access_key_was_last_used(org, sandbox, calls, capsys):
    sandbox.set_root_credentials(org["b"], **{**EVERYTHING, "access_key_last_used": "2026-11-20T08:00:00Z"})
    code = main(["remediate", "delete-root-credentials", "--accounts", f"{org['a']},{org['b']}"])
    out = capsys.readouterr().out
    assert code == 0
    a_keys, b_keys = root_state(org["a"])["access_key_ids"], root_state(org["b"])["access_key_ids"]
    for key_id in a_keys:
        assert re.search(rf"DeleteAccessKey {key_id} \((Active|Inactive), since [^,]+, never used\)", out)
    for key_id in b_keys:
        assert re.search(
            rf"DeleteAccessKey {key_id} \((Active|Inactive), since [^,]+, last used 2026-11-20 \(iam\)\)", out
        )
    assert sum(1 for name, _ in calls if name == "GetAccessKeyLastUsed") == len(a_keys) + len(b_keys)
    code = main(["remediate", "delete-root-credentials", "--accounts", org["b"], "--format", "json"])
    rows = json.loads(capsys.readouterr().out)
    assert {r["last_used"] for r in rows if r["kind"] == "access_keys"} == {"2026-11-20 (iam)"}
