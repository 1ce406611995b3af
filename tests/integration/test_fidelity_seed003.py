"""The SCP field report (an SCP denying root blocks the audit; password recovery shows only the password)."""

from __future__ import annotations

from tests.integration.fidelity_support import (
    AUDIT,
    CREATE_PASSWORD,
    DELETE,
    assume_root,
    build_org,
    error_of,
    root_session,
    summary_flags,
)


def test_scp_denying_root_makes_the_audit_access_denied(sandbox):
    (member, _) = build_org()
    sandbox.add_fault(member, "*", "AccessDenied")  # the seed's "AllDenyRoot" SCP

    iam = root_session(member, AUDIT).client("iam")  # AssumeRoot itself still works
    error = error_of(iam.get_account_summary)

    assert error == {
        "Code": "AccessDenied",
        "Message": f"User: arn:aws:iam::{member}:root is not authorized to perform: iam:GetAccountSummary "
        "with an explicit deny in a service control policy",
    }


def test_scp_deny_applies_only_to_the_account_it_is_attached_to(sandbox):
    (denied, allowed) = build_org()
    sandbox.add_fault(denied, "*", "AccessDenied")

    assert summary_flags(root_session(allowed))["AccountPasswordPresent"] == 0


def test_scp_deny_does_not_touch_non_root_callers(sandbox):
    (member, _) = build_org()
    sandbox.add_fault(member, "*", "AccessDenied")

    assert assume_root(member)["Credentials"]  # the management account's call


def test_password_recovery_makes_only_the_password_present(sandbox):
    (member, _) = build_org()
    sandbox.set_root_credentials(member, password=True, access_keys=["Active"], mfa_devices=["virtual"])
    deleting = root_session(member, DELETE).client("iam")
    for key in deleting.list_access_keys()["AccessKeyMetadata"]:
        deleting.delete_access_key(AccessKeyId=key["AccessKeyId"])
    for device in deleting.list_mfa_devices()["MFADevices"]:
        deleting.deactivate_mfa_device(SerialNumber=device["SerialNumber"])
    deleting.delete_login_profile()

    recovering = root_session(member, CREATE_PASSWORD).client("iam")
    profile = recovering.create_login_profile()["LoginProfile"]

    assert "CreateDate" in profile
    assert summary_flags(root_session(member)) == {
        "AccountMFAEnabled": 0,
        "AccountAccessKeysPresent": 0,
        "AccountPasswordPresent": 1,
        "AccountSigningCertificatesPresent": 0,
    }


def test_create_password_session_can_read_only_the_login_profile(sandbox):
    (member, _) = build_org()
    iam = root_session(member, CREATE_PASSWORD).client("iam")

    assert error_of(iam.get_login_profile)["Code"] == "NoSuchEntity"
    assert error_of(iam.get_account_summary)["Code"] == "AccessDenied"
