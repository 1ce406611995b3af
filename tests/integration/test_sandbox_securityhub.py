"""The sandbox applies Security Hub's import rules that moto does not (rootwatch_sandbox.securityhub_rules)."""

from __future__ import annotations

from typing import Any

import boto3
from rootwatch.domain.asff import product_arn


def _finding(caller: str, **fields: Any) -> dict[str, Any]:
    base = {
        "SchemaVersion": "2018-10-08",
        "Id": "rootwatch/111122223333/password",
        "ProductArn": product_arn(caller, "us-east-1"),
        "GeneratorId": "rootwatch/root-credentials",
        "AwsAccountId": caller,
        "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
        "CreatedAt": "2026-11-20T02:00:00Z",
        "UpdatedAt": "2026-11-20T02:00:00Z",
        "Severity": {"Label": "HIGH"},
        "Title": "t",
        "Description": "d",
        "Resources": [{"Type": "AwsAccount", "Id": "AWS::::Account:111122223333"}],
    }
    return base | fields


def test_the_default_product_imports_only_for_the_calling_account(sandbox):
    caller = boto3.client("sts").get_caller_identity()["Account"]
    hub = boto3.client("securityhub")
    answer = hub.batch_import_findings(
        Findings=[
            _finding(caller),
            _finding(caller, Id="for-a-member", AwsAccountId="111122223333"),
            _finding(caller, Id="other-product", ProductArn=product_arn("111122223333", "us-east-1")),
        ]
    )
    assert (answer["SuccessCount"], answer["FailedCount"]) == (1, 2)
    assert {f["Id"] for f in answer["FailedFindings"]} == {"for-a-member", "other-product"}
    assert [f["Id"] for f in hub.get_findings()["Findings"]] == ["rootwatch/111122223333/password"]


def test_an_update_keeps_the_workflow_and_note_set_at_creation(sandbox):
    caller = boto3.client("sts").get_caller_identity()["Account"]
    hub = boto3.client("securityhub")
    note = {"Text": "exempt", "UpdatedBy": "rootwatch", "UpdatedAt": "2026-11-20T02:00:00Z"}
    hub.batch_import_findings(Findings=[_finding(caller, Workflow={"Status": "SUPPRESSED"}, Note=note)])
    hub.batch_import_findings(
        Findings=[
            _finding(
                caller,
                UpdatedAt="2026-11-21T02:00:00Z",
                Workflow={"Status": "NEW"},
                Note={**note, "Text": "changed"},
                Compliance={"Status": "PASSED"},
            )
        ]
    )
    (finding,) = hub.get_findings()["Findings"]
    assert finding["Workflow"] == {"Status": "SUPPRESSED"} and finding["Note"]["Text"] == "exempt"
    assert finding["Compliance"] == {"Status": "PASSED"} and finding["UpdatedAt"] == "2026-11-21T02:00:00Z"
