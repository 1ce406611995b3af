"""The deletion report (deleting a member's root credentials with IAMDeleteRootUserCredentials, in its order)."""

from __future__ import annotations

from tests.integration.fidelity_support import AUDIT, DELETE, build_org, error_of, root_session, summary_flags


def test_deletion_sequence_removes_every_root_credential(sandbox):
    (member, _) = build_org()
    sandbox.set_root_credentials(
        member,
        password=True,
        access_keys=["Active", "Inactive"],
        mfa_devices=["virtual"],
        signing_certificates=["Active"],
    )
    # The script targets arn:aws:iam::<id>:root and exports the session.
    iam = root_session(f"arn:aws:iam::{member}:root", DELETE).client("iam")

    for certificate in iam.list_signing_certificates()["Certificates"]:
        iam.delete_signing_certificate(CertificateId=certificate["CertificateId"])
    for key in iam.list_access_keys()["AccessKeyMetadata"]:
        iam.delete_access_key(AccessKeyId=key["AccessKeyId"])
    for device in iam.list_mfa_devices()["MFADevices"]:
        iam.deactivate_mfa_device(SerialNumber=device["SerialNumber"])
    iam.delete_login_profile()

    assert set(summary_flags(root_session(member, AUDIT)).values()) == {0}
    assert error_of(iam.get_login_profile)["Message"] == "Login Profile for User null cannot be found."


def test_delete_login_profile_without_password_fails_as_no_such_entity(sandbox):
    (member, _) = build_org()
    iam = root_session(member, DELETE).client("iam")

    error = error_of(iam.delete_login_profile)

    assert error == {"Code": "NoSuchEntity", "Message": "Login Profile for User null cannot be found."}


def test_deleting_an_unknown_access_key_is_no_such_entity(sandbox):
    (member, _) = build_org()
    iam = root_session(member, DELETE).client("iam")

    assert error_of(iam.delete_access_key, AccessKeyId="AKIAEXAMPLEEXAMPLE00")["Code"] == "NoSuchEntity"


def test_audit_session_cannot_delete_credentials(sandbox):
    (member, _) = build_org()
    seeded = sandbox.set_root_credentials(member, access_keys=["Active"])
    iam = root_session(member, AUDIT).client("iam")

    error = error_of(iam.delete_access_key, AccessKeyId=seeded["access_key_ids"][0])

    assert error["Code"] == "AccessDenied"
    assert "iam:DeleteAccessKey with an explicit deny in an identity-based policy" in error["Message"]
    assert summary_flags(root_session(member))["AccountAccessKeysPresent"] == 1


def test_delete_session_cannot_create_a_password(sandbox):
    (member, _) = build_org()

    error = error_of(root_session(member, DELETE).client("iam").create_login_profile)

    assert error["Code"] == "AccessDenied"
