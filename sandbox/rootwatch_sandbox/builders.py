"""Building blocks shared by the seeding API (seeding.py) and the demo org (demo_org.py): a root user holding
given credentials, its description as the seeding API answers it, and an account's State with its legacy Status."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rootwatch_sandbox.rootstate import (
    RootAccessKey,
    RootLoginProfile,
    RootMfaDevice,
    RootSigningCertificate,
    RootUser,
    random_id,
)

#: The retired ``Status`` field had no CLOSED or PENDING_ACTIVATION; this is what it shows for each State.
LEGACY_STATUS = {
    "ACTIVE": "ACTIVE",
    "SUSPENDED": "SUSPENDED",
    "PENDING_CLOSURE": "PENDING_CLOSURE",
    "CLOSED": "SUSPENDED",
    "PENDING_ACTIVATION": "ACTIVE",
}


def _certificate_body(certificate_id: str) -> str:
    """A PEM-armoured body; not a parseable certificate, which nothing in the sandbox needs."""
    payload = (certificate_id * 24)[:704]
    lines = [payload[i : i + 64] for i in range(0, len(payload), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def build_root_user(
    account_id: str,
    create_date: dt.datetime,
    now: dt.datetime,
    password: bool = False,
    access_keys: list[str] | None = None,
    mfa_devices: list[str] | None = None,
    signing_certificates: list[str] | None = None,
    password_last_used: dt.datetime | None = None,
    access_key_last_used: dt.datetime | None = None,
) -> RootUser:
    """A root user holding exactly these credentials (statuses / MFA kinds as in the seeding API)."""
    user = RootUser(account_id=account_id, create_date=create_date, password_last_used=password_last_used)
    if password:
        user.login_profile = RootLoginProfile(create_date=create_date)
    for status in access_keys or []:
        user.access_keys.append(
            RootAccessKey(
                access_key_id=random_id("AKIA", 20),
                status=status,
                create_date=now,
                last_used_date=access_key_last_used,
                last_used_service="iam" if access_key_last_used else None,
                last_used_region="us-east-1" if access_key_last_used else None,
            )
        )
    for index, kind in enumerate(mfa_devices or [], start=1):
        if kind == "virtual":
            name = "root-account-mfa-device" if index == 1 else f"root-account-mfa-device-{index}"
            serial = f"arn:aws:iam::{account_id}:mfa/{name}"
        else:
            serial = random_id("GAHT", 12)
        user.mfa_devices.append(RootMfaDevice(serial_number=serial, enable_date=now, kind=kind))
    for status in signing_certificates or []:
        certificate_id = random_id("", 32)
        user.signing_certificates.append(
            RootSigningCertificate(
                certificate_id=certificate_id, body=_certificate_body(certificate_id), status=status, upload_date=now
            )
        )
    return user


def describe_root_user(user: RootUser) -> dict[str, Any]:
    """The created ids, as the seeding API answers them."""
    return {
        "account_id": user.account_id,
        "password": user.login_profile is not None,
        "access_key_ids": [key.access_key_id for key in user.access_keys],
        "mfa_serial_numbers": [device.serial_number for device in user.mfa_devices],
        "signing_certificate_ids": [certificate.certificate_id for certificate in user.signing_certificates],
    }


def apply_account_state(account: Any, state: str) -> None:
    """Set a moto FakeAccount's ``State`` and the legacy ``Status`` that goes with it."""
    account.state = state
    account.status = LEGACY_STATUS[state]
