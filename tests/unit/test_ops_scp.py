"""SCP explicit-deny detection for root sessions (docs/aws-behaviour.md#scp-denies-root-sessions)."""

from __future__ import annotations

import json

from rootwatch_cli.operations.scp import ServiceControlPolicy, Verdict, find_root_session_denials

ACCOUNT = "111111111111"
AUDIT = ["iam:GetAccountSummary", "iam:ListAccessKeys"]


def scp(*statements: dict) -> ServiceControlPolicy:
    return ServiceControlPolicy("p-1", "root-guard", "r-root", {"Version": "2012-10-17", "Statement": list(statements)})


# The SCP field report's original SCP: deny everything to any root principal.
SEED_003_DENY_ALL_ROOT = {
    "Sid": "AllDenyRoot",
    "Effect": "Deny",
    "Action": "*",
    "Resource": "*",
    "Condition": {"StringLike": {"aws:PrincipalARN": "arn:aws:iam::*:root"}},
}


def test_seed_003_deny_all_to_root_denies_the_audit():
    denials = find_root_session_denials([scp(SEED_003_DENY_ALL_ROOT)], ACCOUNT, AUDIT)
    assert {d.action for d in denials} == set(AUDIT)
    assert all(d.verdict is Verdict.DENIES for d in denials)
    assert denials[0].statement_id == "AllDenyRoot"


def test_seed_003_fixed_scp_with_notaction_exempts_the_audit_actions_but_not_others():
    fixed = {
        **SEED_003_DENY_ALL_ROOT,
        "Action": None,
        "NotAction": ["iam:GetAccountSummary", "iam:ListAccessKeys", "iam:GetUser", "iam:CreateLoginProfile"],
    }
    del fixed["Action"]
    denials = find_root_session_denials([scp(fixed)], ACCOUNT, [*AUDIT, "iam:DeleteAccessKey"])
    assert [d.action for d in denials] == ["iam:DeleteAccessKey"]


def test_assumed_root_null_condition_exempts_root_sessions():
    exempt = {
        **SEED_003_DENY_ALL_ROOT,
        "Condition": {**SEED_003_DENY_ALL_ROOT["Condition"], "Null": {"aws:AssumedRoot": "true"}},
    }
    assert find_root_session_denials([scp(exempt)], ACCOUNT, AUDIT) == []


def test_seed_003_create_login_profile_deny_for_everyone_blocks_password_recovery():
    deny_all_users = {"Sid": "Statement3", "Effect": "Deny", "Action": ["iam:CreateLoginProfile"], "Resource": "*"}
    denials = find_root_session_denials([scp(deny_all_users)], ACCOUNT, ["iam:CreateLoginProfile", *AUDIT])
    assert [d.action for d in denials] == ["iam:CreateLoginProfile"]


def test_string_not_like_root_arn_exempts_root_as_in_seed_003_fix():
    fixed = {
        "Effect": "Deny",
        "Action": ["iam:CreateLoginProfile"],
        "Resource": "*",
        "Condition": {"StringNotLike": {"aws:PrincipalARN": "arn:aws:iam::*:root"}},
    }
    assert find_root_session_denials([scp(fixed)], ACCOUNT, ["iam:CreateLoginProfile"]) == []


def test_action_wildcards_match_case_insensitively():
    statement = {"Effect": "Deny", "Action": "IAM:List*", "Resource": "*"}
    denials = find_root_session_denials([scp(statement)], ACCOUNT, AUDIT)
    assert [d.action for d in denials] == ["iam:ListAccessKeys"]


def test_condition_on_an_unknown_key_is_reported_as_may_deny():
    statement = {
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}},
    }
    denials = find_root_session_denials([scp(statement)], ACCOUNT, ["iam:GetAccountSummary"])
    assert [d.verdict for d in denials] == [Verdict.MAY_DENY]
    assert "aws:RequestedRegion" in denials[0].reason


def test_allow_statements_and_other_accounts_conditions_do_not_deny():
    full_access = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    other_account = {**SEED_003_DENY_ALL_ROOT, "Condition": {"StringEquals": {"aws:PrincipalAccount": "222222222222"}}}
    assert find_root_session_denials([scp(full_access, other_account)], ACCOUNT, AUDIT) == []


def test_from_json_parses_the_organizations_content_string():
    policy = ServiceControlPolicy.from_json("p-2", "x", "ou-1", json.dumps({"Statement": SEED_003_DENY_ALL_ROOT}))
    denials = find_root_session_denials([policy], ACCOUNT, ["iam:GetAccountSummary"])
    assert denials[0].attached_to == "ou-1"
    assert "root-guard" not in denials[0].describe() and "'x'" in denials[0].describe()
