"""Organizations for callers that may not read the org (issue 11, item 4), and what `rootwatch scan` makes of it.

AWS: ListAccounts / DescribeAccount from an account in no organization is AWSOrganizationsNotInUseException
("Your account is not a member of an organization."); from a plain member, AccessDeniedException. moto answered
an empty list and AccountNotFoundException, so a scan with the wrong credentials could report 0 accounts.
"""

from __future__ import annotations

import boto3
import pytest
from rootwatch_cli import main

from tests.integration.fidelity_support import REGION, build_org, error_of, member_credentials

NOT_IN_USE = {
    "Code": "AWSOrganizationsNotInUseException",
    "Message": "Your account is not a member of an organization.",
}
DENIED = {"Code": "AccessDeniedException", "Message": "You don't have permissions to access this resource."}
OUTSIDE = "999999999999"


def test_an_account_in_no_organization_is_told_so(sandbox):
    (member, _) = build_org()
    org = boto3.client("organizations", region_name=REGION, **member_credentials(OUTSIDE))

    assert error_of(org.list_accounts) == NOT_IN_USE
    assert error_of(org.describe_account, AccountId=member) == NOT_IN_USE


def test_a_plain_member_may_not_describe_other_accounts(sandbox):
    (member, other) = build_org()
    org = boto3.client("organizations", region_name=REGION, **member_credentials(member))

    assert error_of(org.describe_account, AccountId=other) == DENIED
    assert error_of(org.list_accounts) == DENIED
    management = boto3.client("organizations", region_name=REGION)
    assert management.describe_account(AccountId=other)["Account"]["Id"] == other


@pytest.mark.parametrize("who", ["outside", "member", "wrong secret"])
def test_scan_with_the_wrong_credentials_fails_in_one_line_with_exit_2(sandbox, monkeypatch, capsys, who):
    (member, _) = build_org()
    if who == "wrong secret":
        credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "not-the-secret"}
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    else:
        credentials = member_credentials(OUTSIDE if who == "outside" else member)
        monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["aws_session_token"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["aws_secret_access_key"])

    code = main(["scan"])

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: cannot list the organization's accounts: ")
