"""Realtime re-audit (issue 15): off by default (no resources); on, one synth with cdk-nag checks the event path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rootwatch.domain.root_events import ROOT_EVENT_NAMES

from infra.config import ConfigError, load_config
from tests.infra.conftest import ACCOUNT, REGION, Synthesized

ORG = "o-abcdef1234"
ON = {
    "rootwatch:realtimeEnabled": True,
    "rootwatch:organizationId": ORG,
    "rootwatch:realtimeTargetOus": ["ou-ab12-cdefgh12", "ou-ab12-ijklmn34"],
    "rootwatch:realtimeBatchWindowSeconds": 30,
    "rootwatch:realtimeMaxConcurrency": 7,
}
BASE = {"rootwatch:alertEmails": ["security@example.org"]}


@pytest.fixture(scope="module")
def realtime(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The app with realtime on, cdk-nag on (one extra synth for this module)."""
    import aws_cdk as cdk

    from infra.app import build_app, cdk_json_context

    outdir: Path = tmp_path_factory.mktemp("realtime-cdk-out")
    app, stack = build_app(
        cdk_json_context() | ON, outdir=str(outdir), env=cdk.Environment(account=ACCOUNT, region=REGION)
    )
    error = None
    try:
        app.synth()
    except RuntimeError as exc:
        error = str(exc)
    report = outdir / "validation-report.json"
    return Synthesized(
        outdir=outdir,
        template=json.loads((outdir / f"{stack.artifact_id}.template.json").read_text()),
        report=json.loads(report.read_text()) if report.exists() else None,
        context=cdk_json_context() | ON,
        synth_error=error,
    )


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


# --- config ---------------------------------------------------------------------------------------------------


def test_realtime_is_off_by_default_with_its_defaults():
    config = load_config(BASE)
    assert (config.realtime_enabled, config.organization_id, config.realtime_target_ous) == (False, None, ())
    assert (config.realtime_batch_window_seconds, config.realtime_max_concurrency) == (60, 5)
    assert config.realtime_stackset_call_as == "DELEGATED_ADMIN"


def test_realtime_config_values_are_validated_with_one_line_errors_naming_the_key():
    on = load_config(BASE | ON | {"rootwatch:realtimeTargetOus": "r-ab12, ou-ab12-cdefgh12"})
    assert on.realtime_target_ous == ("r-ab12", "ou-ab12-cdefgh12") and on.organization_id == ORG
    assert load_config(BASE | ON | {"rootwatch:realtimeStackSetCallAs": "self"}).realtime_stackset_call_as == "SELF"
    bad = {
        "organizationId": [None, "o-short", "123456789012"],
        "realtimeTargetOus": [[], ["ou-bad"], ["r-ab12", "r-ab12"]],
        "realtimeBatchWindowSeconds": [301, -1],
        "realtimeMaxConcurrency": [1, 101],
        "realtimeStackSetCallAs": ["ADMIN"],
        "realtimeEnabled": ["yes"],
    }
    for key, values in bad.items():
        for value in values:
            with pytest.raises(ConfigError) as caught:
                load_config(BASE | ON | {f"rootwatch:{key}": value})
            assert f"rootwatch:{key}" in str(caught.value) and "\n" not in str(caught.value), (key, value)
    # Off, the realtime keys are still validated, but organizationId and the OUs are not required.
    with pytest.raises(ConfigError, match="rootwatch:organizationId"):
        load_config(BASE | {"rootwatch:organizationId": "o-BAD"})


def test_default_synth_has_no_realtime_resource(synthesized: Synthesized):
    assert not synthesized.of_type("AWS::CloudFormation::StackSet")
    assert not synthesized.of_type("AWS::Events::EventBus")
    assert not synthesized.of_type("AWS::Lambda::EventSourceMapping")
    assert "reaudit" not in json.dumps(synthesized.template).lower()


# --- realtime on ----------------------------------------------------------------------------------------------


def test_on_cdk_nag_is_clean(realtime: Synthesized):
    findings = [
        finding
        for plugin in (realtime.report or {}).get("pluginReports", [])
        for finding in plugin.get("violations", [])
    ]
    assert findings == [] and realtime.synth_error is None, realtime.synth_error


def test_central_bus_accepts_put_events_from_the_organization_only(realtime: Synthesized):
    policy = realtime.one("AWS::Events::EventBusPolicy")["Properties"]["Statement"]
    assert policy["Action"] == "events:PutEvents" and policy["Effect"] == "Allow"
    assert policy["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG}}


def test_stack_set_deploys_the_member_rule_to_the_ous_in_us_east_1(realtime: Synthesized):
    props = realtime.one("AWS::CloudFormation::StackSet")["Properties"]
    assert props["PermissionModel"] == "SERVICE_MANAGED" and props["CallAs"] == "DELEGATED_ADMIN"
    assert props["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    (group,) = props["StackInstancesGroup"]
    assert group["Regions"] == ["us-east-1"]
    assert group["DeploymentTargets"]["OrganizationalUnitIds"] == ON["rootwatch:realtimeTargetOus"]
    (parameter,) = props["Parameters"]
    assert parameter["ParameterKey"] == "CentralBusArn" and "Fn::GetAtt" in parameter["ParameterValue"]
    member = json.loads(props["TemplateBody"])
    (rule,) = [r for r in member["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.iam", "aws.signin"]
    assert pattern["detail"]["userIdentity"] == {"type": ["Root"]}
    assert pattern["detail"]["eventName"] == list(ROOT_EVENT_NAMES)  # exactly what the re-audit accepts
    assert {"CreateAccessKey", "DeactivateMFADevice", "UploadSigningCertificate", "ConsoleLogin"} <= set(
        pattern["detail"]["eventName"]
    )
    assert rule["Properties"]["EventBusName"] == "default"
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": "CentralBusArn"} and "RoleArn" in target
    (role,) = [r for r in member["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    (statement,) = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert statement == {"Effect": "Allow", "Action": "events:PutEvents", "Resource": {"Ref": "CentralBusArn"}}


def test_queue_and_dlq_are_encrypted_tls_only_and_redrive(realtime: Synthesized):
    queues = realtime.of_type("AWS::SQS::Queue")
    realtime_queues = {k: v for k, v in queues.items() if k.startswith("Realtime")}
    assert len(realtime_queues) == 2
    assert all(q["Properties"]["SqsManagedSseEnabled"] is True for q in realtime_queues.values())
    (main,) = [q for q in realtime_queues.values() if "RedrivePolicy" in q["Properties"]]
    assert main["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5
    policies = [p for k, p in realtime.of_type("AWS::SQS::QueuePolicy").items() if k.startswith("Realtime")]
    assert len(policies) == 2
    for policy in policies:
        (deny,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_event_source_caps_concurrency_and_batches(realtime: Synthesized):
    mapping = realtime.one("AWS::Lambda::EventSourceMapping")["Properties"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 7}
    assert mapping["MaximumBatchingWindowInSeconds"] == 30
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    (function,) = [
        f
        for f in realtime.of_type("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "rootwatch.handlers.reaudit.handler"
    ]
    assert function["Properties"]["ReservedConcurrentExecutions"] == 7
    variables = function["Properties"]["Environment"]["Variables"]
    assert {"TABLE_NAME", "TOPIC_ARN", "AUDIT_REGION", "ROOTWATCH_EXEMPTIONS"} <= set(variables)
    assert variables["ORGANIZATION_ID"] == ORG


def test_reaudit_role_has_exactly_its_statements(realtime: Synthesized):
    (policy,) = [
        p
        for k, p in realtime.of_type("AWS::IAM::Policy").items()
        if "ReauditRole" in json.dumps(p["Properties"]["Roles"])
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    actions = sorted(sorted(_actions(s)) for s in statements)
    assert actions == sorted(
        [
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
            [
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:ReceiveMessage",
            ],
            ["sts:AssumeRoot"],
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"],
            ["organizations:DescribeAccount"],
            ["sns:Publish"],
            ["kms:Decrypt", "kms:GenerateDataKey"],
        ]
    )
    (assume,) = [s for s in statements if _actions(s) == {"sts:AssumeRoot"}]
    audit = [
        s
        for p in realtime.of_type("AWS::IAM::Policy").values()
        if "AuditAccountRole" in json.dumps(p["Properties"]["Roles"])
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if _actions(s) == {"sts:AssumeRoot"}
    ]
    assert audit == [assume]
    (describe,) = [s for s in statements if _actions(s) == {"organizations:DescribeAccount"}]
    assert describe["Resource"] == f"arn:aws:organizations::*:account/{ORG}/*"
