"""The seeding API's root-credentials, account-state and demo-org routes, seen through the AWS APIs."""

from __future__ import annotations

from collections import Counter

import boto3
import pytest
from rootwatch_sandbox import seeding
from rootwatch_sandbox.seeding import SeedingError

from tests.integration.fidelity_support import build_org, root_session, summary_flags


def test_root_credentials_are_replaced_not_added(sandbox):
    (member, _) = build_org()
    sandbox.set_root_credentials(member, password=True, access_keys=["Active", "Active"])

    answer = sandbox.set_root_credentials(member, mfa_devices=["virtual", "hardware"])

    assert answer["access_key_ids"] == [] and answer["password"] is False
    (virtual, hardware) = answer["mfa_serial_numbers"]
    assert virtual == f"arn:aws:iam::{member}:mfa/root-account-mfa-device"
    assert not hardware.startswith("arn:")
    assert summary_flags(root_session(member)) == {
        "AccountMFAEnabled": 1,
        "AccountAccessKeysPresent": 0,
        "AccountPasswordPresent": 0,
        "AccountSigningCertificatesPresent": 0,
    }


def test_seeding_routes_cover_the_contract():
    assert set(seeding.ROUTES) == {
        "/_rootwatch/root-credentials",
        "/_rootwatch/account-state",
        "/_rootwatch/faults",
        "/_rootwatch/faults/clear",
        "/_rootwatch/demo-org",
    }


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"account_id": "12345"}, 400, "account_id"),
        ({"account_id": "999988887777"}, 404, "account_id"),
        ({"account_id": None, "password": True}, 400, "account_id"),
        ({"password": "yes"}, 400, "password"),
        ({"access_keys": ["Enabled"]}, 400, "access_keys"),
        ({"mfa_devices": "virtual"}, 400, "mfa_devices"),
        ({"signing_certificates": [1]}, 400, "signing_certificates"),
        ({"password_last_used": "yesterday"}, 400, "password_last_used"),
    ],
)
def test_malformed_root_credentials_are_rejected_naming_the_field(sandbox, body, status, field):
    (member, _) = build_org()
    request = {"account_id": member, **body}

    with pytest.raises(SeedingError) as raised:
        seeding.set_root_credentials(request)

    assert (raised.value.status, raised.value.message.split(":")[0]) == (status, field)


def test_unknown_account_state_is_rejected_naming_the_field(sandbox):
    (member, _) = build_org()

    with pytest.raises(SeedingError) as raised:
        sandbox.set_account_state(member, "DELETED")

    assert raised.value.status == 400 and raised.value.message.startswith("state:")


def test_body_that_is_not_an_object_is_rejected(sandbox):
    with pytest.raises(SeedingError) as raised:
        seeding.set_root_credentials(["not", "an", "object"])  # type: ignore[arg-type]

    assert raised.value.status == 400 and raised.value.message.startswith("body:")


@pytest.mark.parametrize("accounts", [-1, "10", True, 10**9])
def test_demo_org_rejects_a_bad_account_count(sandbox, accounts):
    with pytest.raises(SeedingError) as raised:
        seeding.create_demo_org({"accounts": accounts})

    assert raised.value.message.startswith("accounts:")


def test_demo_org_is_a_real_org_with_features_and_a_realistic_mix(sandbox):
    demo = sandbox.create_demo_org(accounts=40, seed=7)

    listed = [
        a for page in boto3.client("organizations").get_paginator("list_accounts").paginate() for a in page["Accounts"]
    ]
    profiles = Counter(account["profile"] for account in demo["accounts"])

    assert len(listed) == 41  # members + management
    assert boto3.client("iam").list_organizations_features()["EnabledFeatures"] == [
        "RootCredentialsManagement",
        "RootSessions",
    ]
    assert profiles["clean"] > len(demo["accounts"]) / 2
    assert {
        "password_only",
        "inactive_key_only",
        "mfa_only",
        "signing_certificate",
        "everything",
        "suspended",
        "closed",
    } <= set(profiles)
    states = {a["Id"]: a["State"] for a in listed}
    assert {states[a["account_id"]] for a in demo["accounts"] if a["profile"] == "closed"} == {"CLOSED"}


def test_demo_org_credentials_are_what_the_audit_reads(sandbox):
    demo = sandbox.create_demo_org(accounts=12, seed=3)
    everything = next(a for a in demo["accounts"] if a["profile"] == "everything")

    flags = summary_flags(root_session(everything["account_id"]))

    assert set(flags.values()) == {1}


def test_demo_org_is_determined_by_its_seed(sandbox):
    first = [(a["profile"], a["name"]) for a in sandbox.create_demo_org(accounts=15, seed=11)["accounts"]]
    sandbox.stop()
    sandbox.start()
    second = [(a["profile"], a["name"]) for a in sandbox.create_demo_org(accounts=15, seed=11)["accounts"]]

    assert first == second
