"""Root access through the sandbox's HTTP server: the same behaviours, seeded over HTTP, under concurrency."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from rootwatch_sandbox.server import SandboxServer

from tests.integration.fidelity_support import AUDIT, REGION

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(port=0) as running:
        yield running


def _post(server: SandboxServer, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 -- the test's own local server
        server.endpoint_url + path, data=json.dumps(body).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _client(server: SandboxServer, service: str, **credentials: str) -> Any:
    credentials = credentials or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    return boto3.client(service, endpoint_url=server.endpoint_url, region_name=REGION, config=NO_RETRIES, **credentials)


def _root_client(server: SandboxServer, account_id: str, service: str = "iam") -> Any:
    credentials = _client(server, "sts").assume_root(TargetPrincipal=account_id, TaskPolicyArn={"arn": AUDIT})[
        "Credentials"
    ]
    return _client(
        server,
        service,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def _flags(iam: Any) -> tuple[int, int, int, int]:
    summary = iam.get_account_summary()["SummaryMap"]
    return (
        summary["AccountMFAEnabled"],
        summary["AccountAccessKeysPresent"],
        summary["AccountPasswordPresent"],
        summary["AccountSigningCertificatesPresent"],
    )


def test_root_credentials_seeded_over_http_are_what_the_audit_reads(server):
    status, demo = _post(server, "/_rootwatch/demo-org", {"accounts": 3, "seed": 1})
    member = demo["accounts"][0]["account_id"]

    status, answer = _post(
        server, "/_rootwatch/root-credentials", {"account_id": member, "password": True, "access_keys": ["Inactive"]}
    )

    assert status == 200 and len(answer["access_key_ids"]) == 1
    iam = _root_client(server, member)
    assert _flags(iam) == (0, 1, 1, 0)
    assert iam.get_user()["User"]["Arn"] == f"arn:aws:iam::{member}:root"


def test_scope_and_scp_denies_come_back_through_the_server(server):
    _, demo = _post(server, "/_rootwatch/demo-org", {"accounts": 2, "seed": 1})
    member = demo["accounts"][0]["account_id"]
    root_ec2 = _root_client(server, member, "ec2")

    with pytest.raises(root_ec2.exceptions.ClientError) as denied:
        root_ec2.describe_instances()
    assert denied.value.response["Error"]["Code"] == "UnauthorizedOperation"

    status, _ = _post(
        server,
        "/_rootwatch/faults",
        {"account_id": member, "operation": "*", "error_code": "AccessDenied", "message": None, "count": None},
    )
    assert status == 200
    iam = _root_client(server, member)
    with pytest.raises(iam.exceptions.ClientError) as scp:
        iam.get_account_summary()
    assert scp.value.response["Error"]["Message"].endswith("with an explicit deny in a service control policy")
    assert scp.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unknown_account_in_a_seeding_request_is_404(server):
    _post(server, "/_rootwatch/demo-org", {"accounts": 1, "seed": 1})

    status, answer = _post(server, "/_rootwatch/account-state", {"account_id": "999988887777", "state": "CLOSED"})

    assert status == 404
    assert "account_id" in json.dumps(answer)


def test_concurrent_audits_each_see_their_own_account(server):
    _, demo = _post(server, "/_rootwatch/demo-org", {"accounts": 24, "seed": 5})
    expected = {
        a["account_id"]: (
            int(bool(a["credentials"]["mfa_serial_numbers"])),
            int(bool(a["credentials"]["access_key_ids"])),
            int(a["credentials"]["password"]),
            int(bool(a["credentials"]["signing_certificate_ids"])),
        )
        for a in demo["accounts"]
        if a["state"] == "ACTIVE"
    }

    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = dict(
            zip(expected, pool.map(lambda account: _flags(_root_client(server, account)), expected), strict=True)
        )

    assert seen == expected


def test_moto_reset_clears_the_root_access_state(server):
    _, demo = _post(server, "/_rootwatch/demo-org", {"accounts": 2, "seed": 1})

    reset = urllib.request.Request(server.endpoint_url + "/moto-api/reset", method="POST")  # noqa: S310
    urllib.request.urlopen(reset, timeout=30).read()  # noqa: S310 -- the test's own local server

    status, _ = _post(server, "/_rootwatch/root-credentials", {"account_id": demo["accounts"][0]["account_id"]})
    assert status == 404  # the org and its accounts are gone
