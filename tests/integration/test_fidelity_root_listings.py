"""What ordinary IAM listings show of the root user (issue 11, item 3): the credential report's
``<root_account>`` row and ListVirtualMFADevices, as scanners (Prowler, the CIS checks) read them."""

from __future__ import annotations

import csv
import io

import boto3

MANAGEMENT = "123456789012"


def _report(iam) -> dict[str, dict[str, str]]:
    iam.generate_credential_report()
    content = iam.get_credential_report()["Content"].decode()
    return {row["user"]: row for row in csv.DictReader(io.StringIO(content))}


def test_the_credential_report_always_has_the_root_account_row(sandbox):
    sandbox.create_demo_org(accounts=1)
    iam = boto3.client("iam", region_name="us-east-1")

    row = _report(iam)["<root_account>"]

    assert row["arn"] == f"arn:aws:iam::{MANAGEMENT}:root"
    assert (row["password_enabled"], row["password_last_changed"], row["password_next_rotation"]) == (
        "not_supported",
        "not_supported",
        "not_supported",
    )
    assert (row["password_last_used"], row["mfa_active"], row["access_key_1_active"]) == (
        "no_information",
        "false",
        "false",
    )
    assert (row["access_key_1_last_used_date"], row["cert_1_active"], row["cert_2_active"]) == ("N/A", "false", "false")


def test_the_root_row_follows_the_seeded_root_user(sandbox):
    sandbox.create_demo_org(accounts=1)
    sandbox.set_root_credentials(
        MANAGEMENT,
        password=True,
        access_keys=["Active", "Inactive"],
        mfa_devices=["virtual"],
        signing_certificates=["Active"],
        password_last_used="2025-12-13T22:11:47Z",
        access_key_last_used="2025-12-14T10:00:00Z",
    )
    iam = boto3.client("iam", region_name="us-east-1")

    row = _report(iam)["<root_account>"]

    assert row["password_last_used"] == "2025-12-13T22:11:47+00:00"
    assert (row["mfa_active"], row["access_key_1_active"], row["access_key_2_active"]) == ("true", "true", "false")
    assert row["access_key_1_last_used_date"].startswith("2025-12-14T10:00:00")
    assert (row["cert_1_active"], row["cert_2_active"]) == ("true", "false")
    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["AccountMFAEnabled"], summary["AccountAccessKeysPresent"], summary["AccountPasswordPresent"]) == (
        1,
        1,
        1,
    )


def test_list_virtual_mfa_devices_shows_roots_virtual_device_with_the_root_user(sandbox):
    sandbox.create_demo_org(accounts=1)
    seeded = sandbox.set_root_credentials(MANAGEMENT, password=True, mfa_devices=["virtual", "hardware"])
    iam = boto3.client("iam", region_name="us-east-1")

    devices = iam.list_virtual_mfa_devices()["VirtualMFADevices"]
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]

    virtual = [serial for serial in seeded["mfa_serial_numbers"] if serial.startswith("arn:")]
    assert [device["SerialNumber"] for device in devices] == virtual
    assert devices[0]["User"]["Arn"] == f"arn:aws:iam::{MANAGEMENT}:root"
    assert unassigned == []
    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["MFADevices"], summary["MFADevicesInUse"]) == (2, 2)
