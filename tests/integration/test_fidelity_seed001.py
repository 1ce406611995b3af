"""The boto3 field report (the org-wide TSV of GetAccountSummary root flags from a boto3 loop)."""

from __future__ import annotations

import boto3
from rootwatch_sandbox import MANAGEMENT_ACCOUNT_ID

from tests.integration.fidelity_support import (
    REGION,
    build_org,
    member_credentials,
    root_session,
    sts_client,
    summary_flags,
)


def test_summary_flags_show_password_only(sandbox):
    (member, _) = build_org()
    sandbox.set_root_credentials(member, password=True)

    flags = summary_flags(root_session(member))

    assert flags == {
        "AccountMFAEnabled": 0,
        "AccountAccessKeysPresent": 0,
        "AccountPasswordPresent": 1,
        "AccountSigningCertificatesPresent": 0,
    }


def test_summary_flags_are_all_zero_for_root_without_credentials(sandbox):
    (member, _) = build_org()

    assert set(summary_flags(root_session(member)).values()) == {0}


def test_inactive_access_key_still_counts_as_present(sandbox):
    (member, _) = build_org()
    sandbox.set_root_credentials(member, access_keys=["Inactive"])

    assert summary_flags(root_session(member))["AccountAccessKeysPresent"] == 1


def test_summary_flags_show_mfa_and_signing_certificates(sandbox):
    (member, _) = build_org()
    sandbox.set_root_credentials(member, mfa_devices=["hardware"], signing_certificates=["Inactive"])

    flags = summary_flags(root_session(member))

    assert (flags["AccountMFAEnabled"], flags["AccountSigningCertificatesPresent"]) == (1, 1)


def test_summary_keeps_the_ordinary_iam_counters(sandbox):
    (member, _) = build_org()

    summary = root_session(member).client("iam").get_account_summary()["SummaryMap"]

    assert {"Users", "Roles", "Policies", "UsersQuota", "MFADevices"} <= set(summary)


def test_summary_for_a_non_root_caller_reports_that_accounts_root_flags(sandbox):
    (member, _) = build_org()
    sandbox.set_root_credentials(member, password=True, mfa_devices=["virtual"])
    iam = boto3.client("iam", region_name=REGION, **member_credentials(member))

    summary = iam.get_account_summary()["SummaryMap"]

    assert (summary["AccountPasswordPresent"], summary["AccountMFAEnabled"]) == (1, 1)


def test_seed_script_builds_the_org_tsv(sandbox):
    """The report's script, as written: recursive list_accounts, skip the management account, DurationSeconds=123."""
    members = build_org(members=4)
    sandbox.set_root_credentials(members[0], password=True)
    sandbox.set_root_credentials(members[1], password=True)
    sandbox.set_root_credentials(members[2], password=True)
    orgclient = boto3.client("organizations", region_name=REGION)
    stsclient = sts_client()

    def list_organizations_accounts(next_token=None):
        response = orgclient.list_accounts(NextToken=next_token) if next_token else orgclient.list_accounts()
        accounts = response["Accounts"]
        if "NextToken" in response:
            accounts.extend(list_organizations_accounts(response["NextToken"]))
        return accounts

    rows = []
    for account in list_organizations_accounts():
        if account["Id"] == MANAGEMENT_ACCOUNT_ID:
            continue
        credentials = stsclient.assume_root(
            TargetPrincipal=account["Id"],
            TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"},
            DurationSeconds=123,
        )["Credentials"]
        iam_client = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=REGION,
        ).client("iam")
        summary = iam_client.get_account_summary()["SummaryMap"]
        rows.append(
            (
                account["Id"],
                summary["AccountMFAEnabled"],
                summary["AccountAccessKeysPresent"],
                summary["AccountPasswordPresent"],
                summary["AccountSigningCertificatesPresent"],
            )
        )

    # The seed's TSV: three accounts with a password only, one with nothing.
    assert sorted(rows) == sorted(
        [(members[0], 0, 0, 1, 0), (members[1], 0, 0, 1, 0), (members[2], 0, 0, 1, 0), (members[3], 0, 0, 0, 0)]
    )
