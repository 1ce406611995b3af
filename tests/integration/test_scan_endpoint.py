"""`rootwatch scan` over HTTP against a running sandbox server, as against AWS: --endpoint-url and AWS_ENDPOINT_URL."""

from __future__ import annotations

import json

import pytest
from rootwatch_cli import main
from rootwatch_sandbox.server import SandboxServer

MEMBERS = 12


@pytest.fixture(scope="module")
def server(exported_sandbox_server: SandboxServer) -> SandboxServer:
    return exported_sandbox_server


@pytest.fixture(scope="module")
def org(server: SandboxServer) -> dict:
    return server.seed("demo-org", {"accounts": MEMBERS, "seed": 11})


def expected_statuses(org: dict) -> dict[str, str]:
    statuses = {a["account_id"]: ("OK" if a["state"] == "ACTIVE" else "SKIPPED") for a in org["accounts"]}
    return {**statuses, org["management_account_id"]: "SKIPPED"}


def test_scan_with_endpoint_url_audits_the_server_org(server, org, capsys) -> None:
    code = main(["scan", "--endpoint-url", server.endpoint_url, "--format", "json", "--concurrency", "4"])
    records = json.loads(capsys.readouterr().out)
    assert code == 3  # a demo org of 12 has every credential profile at least once
    assert {r["account_id"]: r["status"] for r in records} == expected_statuses(org)
    with_credentials = {
        a["account_id"] for a in org["accounts"] if a["profile"] not in ("clean", "suspended", "closed")
    }
    assert {r["account_id"] for r in records if r["root_credentials_present"]} == with_credentials


def test_scan_reads_the_endpoint_from_aws_endpoint_url(server, org, capsys, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint_url)
    code = main(["scan", "--format", "jsonl"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 3
    assert len(lines) == MEMBERS + 1


def test_scp_deny_injected_over_http_becomes_an_error_row(server, org, capsys) -> None:
    target = next(a["account_id"] for a in org["accounts"] if a["state"] == "ACTIVE")
    message = f"User: arn:aws:iam::{target}:root is not authorized to perform: iam:GetAccountSummary"
    server.seed("faults", {"account_id": target, "operation": "GetAccountSummary", "error_code": "AccessDenied",
                           "message": message, "count": 1})  # fmt: skip
    code = main(["scan", "--endpoint-url", server.endpoint_url, "--format", "json", "--accounts", target])
    (record,) = json.loads(capsys.readouterr().out)
    assert code == 3
    assert (record["status"], record["error_code"], record["error_message"]) == ("ERROR", "ACCESS_DENIED", message)
