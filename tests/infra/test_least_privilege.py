"""Least privilege, proven on the synthesized IAM policies (not on the Python that builds them)."""

from __future__ import annotations

from typing import Any

import pytest
from rootwatch.domain.task_policies import TaskPolicy

AUDIT_TASK_POLICY_ARN = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
XRAY_LAMBDA = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement.get("Action", [])
    return {action} if isinstance(action, str) else set(action)


def _resources(statement: dict[str, Any]) -> list[Any]:
    resource = statement.get("Resource", [])
    return resource if isinstance(resource, list) else [resource]


def _role_statements(synthesized, role_logical_prefix: str) -> list[dict[str, Any]]:
    """All statements attached to the role whose logical id starts with the prefix (inline + policies)."""
    roles = [k for k in synthesized.of_type("AWS::IAM::Role") if k.startswith(role_logical_prefix)]
    assert len(roles) == 1, roles
    role = roles[0]
    statements: list[dict[str, Any]] = []
    for policy in synthesized.of_type("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    for inline in synthesized.resources[role]["Properties"].get("Policies", []):
        statements += inline["PolicyDocument"]["Statement"]
    assert not synthesized.resources[role]["Properties"].get("ManagedPolicyArns"), "no managed policies"
    return statements


def _all_actions(statements: list[dict[str, Any]]) -> set[str]:
    return set().union(*(_actions(s) for s in statements))


def _logical_id(synthesized, resource_type: str, prefix: str) -> str:
    found = [k for k in synthesized.of_type(resource_type) if k.startswith(prefix)]
    assert len(found) == 1, found
    return found[0]


def _object_arn(synthesized, prefix: str) -> dict[str, Any]:
    bucket = _logical_id(synthesized, "AWS::S3::Bucket", "StorageResults")
    return {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, f"/{prefix}*"]]}


def test_no_allow_statement_anywhere_has_a_wildcard_action(synthesized):
    """Roles, resource policies and the key policy alike: wildcard actions appear only in Deny statements
    (the TLS-only bucket, queue and topic policies); the key policy spells out the key's actions."""
    offenders = []
    for logical_id, resource in synthesized.resources.items():
        properties = resource.get("Properties", {})
        documents = [properties.get("PolicyDocument"), properties.get("KeyPolicy")]
        documents += [p.get("PolicyDocument") for p in properties.get("Policies", [])]
        for document in filter(None, documents):
            for statement in document["Statement"]:
                wildcards = {a for a in _actions(statement) if "*" in a}
                if statement.get("NotAction") or (wildcards and statement["Effect"] == "Allow"):
                    offenders.append((logical_id, statement))
    assert offenders == []


def test_key_policy_delegates_to_the_account_without_kms_star_and_keeps_the_key_manageable(synthesized):
    policy = synthesized.one("AWS::KMS::Key")["Properties"]["KeyPolicy"]
    (delegation,) = [s for s in policy["Statement"] if s.get("Sid") == "DelegateToAccountIamPolicies"]
    assert delegation["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"}
    assert {"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:Decrypt"} <= _actions(delegation)


def test_audit_lambda_may_assume_root_only_for_the_audit_task_policy(synthesized):
    statements = _role_statements(synthesized, "WorkflowFunctionsAuditAccountRole")
    assume = [s for s in statements if "sts:AssumeRoot" in _actions(s)]
    assert len(assume) == 1
    (statement,) = assume
    assert _actions(statement) == {"sts:AssumeRoot"}
    assert statement["Effect"] == "Allow"
    assert statement["Condition"] == {"StringEquals": {"sts:TaskPolicyArn": AUDIT_TASK_POLICY_ARN}}
    assert TaskPolicy.IAM_AUDIT_ROOT_USER_CREDENTIALS.arn == AUDIT_TASK_POLICY_ARN
    assert statement["Resource"] == "arn:aws:iam::*:root"
    assert not any(a.startswith("sts:") for s in statements if s is not statement for a in _actions(s))


@pytest.mark.parametrize("role", ["PrepareRun", "FinishRun", "StateMachine"])
def test_no_other_role_can_assume_root(synthesized, role):
    prefix = f"Workflow{role}Role" if role == "StateMachine" else f"WorkflowFunctions{role}Role"
    assert not any(a.startswith("sts:") for a in _all_actions(_role_statements(synthesized, prefix)))


def test_audit_lambda_writes_only_the_status_table(synthesized):
    statements = _role_statements(synthesized, "WorkflowFunctionsAuditAccountRole")
    table = _logical_id(synthesized, "AWS::DynamoDB::Table", "StorageStatus")
    assert _all_actions(statements) == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        *XRAY_LAMBDA,
        "sts:AssumeRoot",
        "dynamodb:UpdateItem",
        "dynamodb:PutItem",
        "dynamodb:GetItem",  # an account's legacy `LATEST` item, read once after the upgrade to sharded keys
    }
    for statement in statements:
        if any(a.startswith("dynamodb:") for a in _actions(statement)):
            assert _resources(statement) == [{"Fn::GetAtt": [table, "Arn"]}]


def test_prepare_lambda_reads_the_org_and_nothing_else_outside_its_own_data(synthesized):
    statements = _role_statements(synthesized, "WorkflowFunctionsPrepareRunRole")
    org = [s for s in statements if any(a.split(":")[0] in {"organizations", "iam"} for a in _actions(s))]
    read_org = set().union(*(_actions(s) for s in org))
    # The OU walk (ListRoots + the two for-parent listings) replaced ListAccounts: no ListParents, no ListAccounts.
    assert read_org == {
        "organizations:DescribeOrganization",
        "iam:ListOrganizationsFeatures",
        "organizations:ListRoots",
        "organizations:ListOrganizationalUnitsForParent",
        "organizations:ListAccountsForParent",
    }
    assert all(_resources(s) == ["*"] for s in org)
    assert _all_actions(statements) == {
        *read_org,
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        *XRAY_LAMBDA,
        "s3:PutObject",
        "dynamodb:UpdateItem",
        "dynamodb:PutItem",
        "dynamodb:GetItem",
        "dynamodb:Query",  # the exemptions `rootwatch exempt add` stored, and only those (below)
    }
    (put,) = [s for s in statements if "s3:PutObject" in _actions(s)]
    assert _resources(put) == [_object_arn(synthesized, "manifests/")]
    (query,) = [s for s in statements if "dynamodb:Query" in _actions(s)]
    table = _logical_id(synthesized, "AWS::DynamoDB::Table", "StorageStatus")
    assert _actions(query) == {"dynamodb:Query"} and _resources(query) == [{"Fn::GetAtt": [table, "Arn"]}]
    assert query["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["EXEMPTION"]}}


def test_finish_lambda_writes_only_results_and_publishes_only_to_its_topic(synthesized):
    statements = _role_statements(synthesized, "WorkflowFunctionsFinishRunRole")
    topic = _logical_id(synthesized, "AWS::SNS::Topic", "AlertingAlerts")
    key = _logical_id(synthesized, "AWS::KMS::Key", "AlertingTopicKey")

    writes = [s for s in statements if _actions(s) & {"s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl"}]
    assert len(writes) == 1
    assert _actions(writes[0]) == {"s3:PutObject"}
    assert _resources(writes[0]) == [_object_arn(synthesized, "results/")]

    (publish,) = [s for s in statements if "sns:Publish" in _actions(s)]
    assert _actions(publish) == {"sns:Publish"}
    assert _resources(publish) == [{"Ref": topic}]
    (kms,) = [s for s in statements if any(a.startswith("kms:") for a in _actions(s))]
    assert _actions(kms) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert _resources(kms) == [{"Fn::GetAtt": [key, "Arn"]}]

    reads = [s for s in statements if "s3:GetObject" in _actions(s)]
    assert [_resources(s) for s in reads] == [[_object_arn(synthesized, "manifests/")]]
    assert {a for a in _all_actions(statements) if a.startswith("s3:")} == {"s3:GetObject", "s3:PutObject"}


def test_finish_lambda_never_deletes_from_the_status_table(synthesized):
    """The alert marker is written after the publish and never released, so nothing needs DeleteItem."""
    statements = _role_statements(synthesized, "WorkflowFunctionsFinishRunRole")
    dynamodb = {a for a in _all_actions(statements) if a.startswith("dynamodb:")}
    assert dynamodb == {"dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}


def test_finish_lambda_may_describe_the_organization_and_nothing_else_in_organizations(synthesized):
    """FinishRun names the organization in the alert when PrepareRun failed (services/run.py organization_of)."""
    statements = _role_statements(synthesized, "WorkflowFunctionsFinishRunRole")
    org = [s for s in statements if any(a.startswith(("organizations:", "iam:")) for a in _actions(s))]
    assert len(org) == 1
    assert _actions(org[0]) == {"organizations:DescribeOrganization"}
    assert _resources(org[0]) == ["*"]  # DescribeOrganization has no resource-level permissions
    assert org[0]["Effect"] == "Allow" and "Condition" not in org[0]


def test_each_lambda_writes_only_its_own_log_group(synthesized):
    for name in ("PrepareRun", "AuditAccount", "FinishRun"):
        statements = _role_statements(synthesized, f"WorkflowFunctions{name}Role")
        (logs,) = [s for s in statements if "logs:PutLogEvents" in _actions(s)]
        log_group = _logical_id(synthesized, "AWS::Logs::LogGroup", f"WorkflowFunctions{name}Logs")
        assert _resources(logs) == [{"Fn::GetAtt": [log_group, "Arn"]}]


def test_state_machine_role_has_exactly_what_a_distributed_map_needs(synthesized):
    statements = _role_statements(synthesized, "WorkflowStateMachineRole")
    by_sid = {s.get("Sid"): s for s in statements}
    functions = [
        {"Fn::GetAtt": [_logical_id(synthesized, "AWS::Lambda::Function", f"WorkflowFunctions{name}"), "Arn"]}
        for name in ("PrepareRun", "AuditAccount", "FinishRun")
    ]
    assert _actions(by_sid["InvokeOwnFunctions"]) == {"lambda:InvokeFunction"}
    assert _resources(by_sid["InvokeOwnFunctions"]) == functions

    name = synthesized.one("AWS::StepFunctions::StateMachine")["Properties"]["StateMachineName"]
    region_account = "eu-west-1:111111111111"
    assert _actions(by_sid["StartChildExecutions"]) == {"states:StartExecution"}
    assert _resources(by_sid["StartChildExecutions"]) == [f"arn:aws:states:{region_account}:stateMachine:{name}"]
    assert _actions(by_sid["ManageChildExecutions"]) == {"states:DescribeExecution", "states:StopExecution"}
    assert _resources(by_sid["ManageChildExecutions"]) == [f"arn:aws:states:{region_account}:execution:{name}/*"]

    assert _actions(by_sid["ReadManifest"]) == {"s3:GetObject"}
    assert _resources(by_sid["ReadManifest"]) == [_object_arn(synthesized, "manifests/")]
    # The definition has a ResultWriter to map-results/: it may write there and nowhere else.
    assert _resources(by_sid["WriteMapResults"]) == [_object_arn(synthesized, "map-results/")]

    unscoped = [s for s in statements if s.get("Resource") == "*"]
    assert _all_actions(unscoped) <= {
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
    }
    assert {a.split(":")[0] for a in _all_actions(statements)} == {"lambda", "states", "s3", "logs", "xray"}


def test_scheduler_role_can_only_start_the_state_machine_and_dead_letter(synthesized):
    statements = _role_statements(synthesized, "SchedulerRoleForTarget")
    state_machine = _logical_id(synthesized, "AWS::StepFunctions::StateMachine", "WorkflowAuditRun")
    queue = _logical_id(synthesized, "AWS::SQS::Queue", "SchedulingDeadLetters")
    key = _logical_id(synthesized, "AWS::KMS::Key", "AlertingTopicKey")
    assert {(frozenset(_actions(s)), str(_resources(s))) for s in statements} == {
        (frozenset({"states:StartExecution"}), str([{"Ref": state_machine}])),
        (frozenset({"sqs:SendMessage"}), str([{"Fn::GetAtt": [queue, "Arn"]}])),
        # The dead-letter queue is encrypted with the stack's key: sending to it needs exactly these two.
        (frozenset({"kms:GenerateDataKey", "kms:Decrypt"}), str([{"Fn::GetAtt": [key, "Arn"]}])),
    }
