"""Prowler as a referee: its root-user checks, run against a seeded sandbox server, agree with the seeded state.

Prowler (pinned in requirements-prowler.txt) reads the root user the way any scanner does: the credential
report's ``<root_account>`` row, GetAccountSummary and ListVirtualMFADevices. Run with ``make check-prowler``
(which builds ``.venv-prowler``); skipped when no Prowler is installed (``ROOTWATCH_PROWLER`` may name one).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROWLER = Path(os.environ.get("ROOTWATCH_PROWLER") or REPO / ".venv-prowler" / "bin" / "prowler")
ROOT_CHECKS = (
    "iam_no_root_access_key",
    "iam_root_mfa_enabled",
    "iam_root_hardware_mfa_enabled",
    "iam_avoid_root_usage",
    "iam_root_credentials_management_enabled",
)
MANAGEMENT = "123456789012"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.prowler,
    pytest.mark.skipif(not PROWLER.exists(), reason=f"no Prowler at {PROWLER} (make check-prowler installs it)"),
]


def _run_prowler(endpoint_url: str, out: Path) -> dict[str, tuple[str, str]]:
    """Prowler's findings for the root checks: check id -> (status, status_extended)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key not in ("VIRTUAL_ENV", "PYTHONPATH")
    }
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint_url,
        AWS_EC2_METADATA_DISABLED="true",
    )
    command = [
        str(PROWLER),
        "aws",
        "--checks",
        *ROOT_CHECKS,
        "--region",
        "us-east-1",
        "--output-formats",
        "json-ocsf",
        "--output-directory",
        str(out),
        "--output-filename",
        "root",
        "--no-banner",
        "--ignore-exit-code-3",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    findings = json.loads((out / "root.ocsf.json").read_text() or "[]")
    return {
        finding["metadata"]["event_code"]: (finding["status_code"], finding["status_detail"]) for finding in findings
    }


def test_prowler_root_checks_agree_with_the_seeded_root_user(tmp_path):
    from rootwatch_sandbox.server import SandboxServer

    with SandboxServer(port=0) as server:
        server.seed("/demo-org", {"accounts": 3, "seed": 1})
        used = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        server.seed(
            "/root-credentials",
            {
                "account_id": MANAGEMENT,
                "password": True,
                "access_keys": ["Active"],
                "mfa_devices": ["virtual"],
                "password_last_used": used,
                "access_key_last_used": used,
            },
        )
        found = _run_prowler(server.endpoint_url, tmp_path)

    print(json.dumps(found, indent=1))  # the report's evidence: what Prowler said
    assert found["iam_no_root_access_key"][0] == "FAIL"  # one active root access key
    assert found["iam_root_mfa_enabled"][0] == "PASS"  # a virtual MFA device
    assert found["iam_root_hardware_mfa_enabled"][0] == "FAIL"  # ... which is not a hardware one
    assert found["iam_avoid_root_usage"][0] == "FAIL"  # used two hours ago
    assert found["iam_root_credentials_management_enabled"][0] == "PASS"
