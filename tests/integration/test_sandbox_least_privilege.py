"""The least-privilege roles, exactly as synthesized, are what the pipeline needs: not one statement less.

Each test removes ONE statement from one role's policy in the synthesized template, deploys that template
into the sandbox (IAM enforcement on), runs a night, and finds the AccessDenied naming that statement's
action, the way the first real deploy would. ``test_every_statement_is_proved_or_named_as_not_emulated``
keeps the list honest: every statement of the template is either proved here or named, with the reason,
in ``NOT_EXERCISED_LOCALLY``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from typing import Any

import boto3
import pytest
from rootwatch.aws.status_store import StatusStore
from rootwatch.handlers import dependencies
from rootwatch_cli.commands.run import start_and_follow
from rootwatch_sandbox import runtime
from rootwatch_sandbox.cloudformation import deploy_assembly, synthesize

from tests.integration.stack_context import pipeline

#: (role, the statement's first action) -> the scenario that needs it. A scenario is a night on a two-member
#: org whose first member has a root password (so the run alerts); "feature-off" runs it with
#: RootCredentialsManagement disabled, so PrepareRun fails and FinishRun names the organization.
PROVED = {
    ("PrepareRun", "organizations:DescribeOrganization"): "night",
    ("PrepareRun", "organizations:ListRoots"): "night",
    ("PrepareRun", "s3:PutObject"): "night",
    ("PrepareRun", "dynamodb:UpdateItem"): "night",
    ("PrepareRun", "dynamodb:Query"): "night",  # ReadExemptions (dynamodb:LeadingKeys EXEMPTION)
    ("AuditAccount", "sts:AssumeRoot"): "night",
    ("AuditAccount", "dynamodb:UpdateItem"): "night",
    ("FinishRun", "s3:GetObject"): "night",
    ("FinishRun", "s3:PutObject"): "night",
    ("FinishRun", "dynamodb:Query"): "night",
    ("FinishRun", "organizations:DescribeOrganization"): "feature-off",
    ("FinishRun", "sns:Publish"): "night",
    ("FinishRun", "securityhub:BatchImportFindings"): "night",
    ("FinishRun", "events:PutEvents"): "night",
    ("StateMachine", "lambda:InvokeFunction"): "night",
    ("StateMachine", "s3:GetObject"): "night",
    ("StateMachine", "s3:PutObject"): "night",
}
#: Statements the sandbox cannot prove, and why (docs/sandbox.md, "IAM enforcement").
NOT_EXERCISED_LOCALLY = {
    ("PrepareRun", "logs:CreateLogStream"): "Lambda's own log delivery is not emulated",
    ("AuditAccount", "logs:CreateLogStream"): "Lambda's own log delivery is not emulated",
    ("FinishRun", "logs:CreateLogStream"): "Lambda's own log delivery is not emulated",
    ("PrepareRun", "xray:PutTraceSegments"): "X-Ray is not emulated (tracing is off in the sandbox)",
    ("AuditAccount", "xray:PutTraceSegments"): "X-Ray is not emulated (tracing is off in the sandbox)",
    ("FinishRun", "xray:PutTraceSegments"): "X-Ray is not emulated (tracing is off in the sandbox)",
    ("StateMachine", "xray:PutTraceSegments"): "X-Ray is not emulated (tracing is off in the sandbox)",
    ("FinishRun", "kms:Decrypt"): "KMS permissions of SNS's server-side encryption are not evaluated",
    ("StateMachine", "states:StartExecution"): "moto runs Distributed Map children in-process, with no API call",
    ("StateMachine", "states:DescribeExecution"): "moto runs Distributed Map children in-process, with no API call",
    ("StateMachine", "logs:CreateLogDelivery"): "Step Functions' log delivery is not emulated",
    ("Scheduler", "states:StartExecution"): "EventBridge Scheduler is not emulated",
    ("Scheduler", "sqs:SendMessage"): "EventBridge Scheduler is not emulated",
    ("Scheduler", "kms:GenerateDataKey"): "EventBridge Scheduler is not emulated",
}
_ROLE_OF_POLICY = {
    "WorkflowFunctionsPrepareRunRole": "PrepareRun",
    "WorkflowFunctionsAuditAccountRole": "AuditAccount",
    "WorkflowFunctionsFinishRunRole": "FinishRun",
    "WorkflowStateMachineRole": "StateMachine",
    "SchedulerRoleForTarget": "Scheduler",
}


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def _statements(template: dict[str, Any]) -> dict[tuple[str, str], tuple[str, int]]:
    """(role, first action) -> (the policy's logical id, the statement's index), for every role policy."""
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        (role_ref,) = resource["Properties"]["Roles"]
        role = next(name for prefix, name in _ROLE_OF_POLICY.items() if role_ref["Ref"].startswith(prefix))
        for index, statement in enumerate(resource["Properties"]["PolicyDocument"]["Statement"]):
            key = (role, _actions(statement)[0])
            assert key not in found, f"two statements of {role} start with {key[1]}: name them apart"
            found[key] = (logical_id, index)
    return found


@pytest.fixture(scope="module")
def assembly():
    # With the optional deliveries on, so that their statements are in the template and proved too. A night
    # without one of them still succeeds (a delivery never fails the run): its AccessDenied is in the summary.
    return synthesize(pipeline(securityHubEnabled=True, eventBridgeEnabled=True))


def _without(assembly: Any, role: str, action: str) -> tuple[Any, list[str]]:
    """The assembly with that one statement removed, and the statement's actions."""
    template = copy.deepcopy(assembly.template)
    logical_id, index = _statements(template)[(role, action)]
    statements = template["Resources"][logical_id]["Properties"]["PolicyDocument"]["Statement"]
    removed = statements.pop(index)
    return dataclasses.replace(assembly, template=template), _actions(removed)


def _night(sandbox: Any, assembly: Any, scenario: str, caplog: pytest.LogCaptureFixture) -> tuple[str, str]:
    """Deploy, run one night; everything a person could read about it, as one text, and the organization id."""
    runtime.set_retry_scale(0.0)
    dependencies.reset()
    try:
        deployment = deploy_assembly(assembly)
        org = sandbox.create_demo_org(accounts=2, seed=3)
        members = sorted(m["account_id"] for m in org["accounts"])
        for member in members:
            sandbox.set_account_state(member, "ACTIVE")
            sandbox.set_root_credentials(member, password=member == members[0])
        if scenario == "feature-off":
            boto3.client("iam").disable_organizations_root_credentials_management()
        with caplog.at_level(logging.DEBUG, logger="rootwatch_sandbox.runtime"):
            execution = start_and_follow(
                boto3.client("stepfunctions"),
                deployment.outputs["StateMachineArn"],
                name="night-1",
                progress=False,
                poll_seconds=0.02,
            )
        store = StatusStore(boto3.client("dynamodb"), deployment.outputs["TableName"])
        records = [r.to_dict() for r in store.run_records("night-1")]
    finally:
        runtime.set_retry_scale(None)
        dependencies.reset()
    return json.dumps({"execution": execution, "records": records}, default=str) + caplog.text, org["organization_id"]


def _denials(evidence: str) -> str:
    return evidence.lower().replace("\\", "")


def test_the_synthesized_roles_run_a_night_with_no_denial(sandbox, assembly, caplog):
    evidence, _ = _night(sandbox, assembly, "night", caplog)
    assert '"status": "succeeded"' in evidence.lower()
    assert "not authorized" not in evidence.lower()


def test_the_synthesized_roles_name_the_organization_when_the_feature_is_off(sandbox, assembly, caplog):
    evidence, organization_id = _night(sandbox, assembly, "feature-off", caplog)
    assert "not authorized" not in evidence.lower() and f"organization {organization_id}" in evidence


@pytest.mark.parametrize(("role", "action"), sorted(PROVED), ids=[f"{r}-{a}" for r, a in sorted(PROVED)])
def test_removing_one_statement_fails_the_night_with_access_denied_naming_it(sandbox, assembly, caplog, role, action):
    reduced, actions = _without(assembly, role, action)
    evidence = _denials(_night(sandbox, reduced, PROVED[(role, action)], caplog)[0])
    named = [a for a in actions if f"is not authorized to perform: {a.lower()}" in evidence]
    assert named, f"no AccessDenied for any of {actions} after removing {role}'s statement"


def test_every_statement_is_proved_or_named_as_not_emulated(assembly):
    statements = set(_statements(assembly.template))
    assert statements == set(PROVED) | set(NOT_EXERCISED_LOCALLY)
    assert not set(PROVED) & set(NOT_EXERCISED_LOCALLY)
