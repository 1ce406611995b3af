"""The synthesized topic policy, evaluated by the sandbox's policy evaluator (alarms are not emulated)."""

from __future__ import annotations

from typing import Any

from rootwatch_sandbox import iam_policy

from tests.infra.conftest import ACCOUNT, REGION


def _resolve(value: Any, resources: dict[str, Any]) -> Any:
    """Enough of CloudFormation's intrinsics for policy documents: Ref, Fn::GetAtt .Arn, Fn::Join."""
    if isinstance(value, list):
        return [_resolve(item, resources) for item in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        ref = value["Ref"]
        pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws"}
        if ref in pseudo:
            return pseudo[ref]
        if resources[ref]["Type"] == "AWS::SNS::Topic":
            return f"arn:aws:sns:{REGION}:{ACCOUNT}:{ref}"
        return ref
    if "Fn::GetAtt" in value:
        return f"arn:aws:resource:::{value['Fn::GetAtt'][0]}"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(_resolve(part, resources)) for part in parts)
    return {key: _resolve(item, resources) for key, item in value.items()}


def _topic_policy(synthesized: Any) -> tuple[str, dict[str, Any]]:
    policy = synthesized.one("AWS::SNS::TopicPolicy")["Properties"]
    topic = _resolve(policy["Topics"][0], synthesized.resources)
    return topic, _resolve(policy["PolicyDocument"], synthesized.resources)


def _decide(synthesized: Any, principal: dict[str, str], context: dict[str, Any]) -> iam_policy.Decision:
    topic, document = _topic_policy(synthesized)
    return iam_policy.evaluate([("topic", document)], "sns:Publish", topic, context, principal=principal)


ALARM = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:rootwatch-failed-runs"
CLOUDWATCH = {"Service": "cloudwatch.amazonaws.com"}


def test_the_stacks_alarms_may_publish_to_the_topic(synthesized: Any) -> None:
    decision = _decide(
        synthesized, CLOUDWATCH, {"aws:SecureTransport": True, "aws:SourceAccount": ACCOUNT, "aws:SourceArn": ALARM}
    )
    assert decision.allowed


def test_another_accounts_or_another_prefixs_alarms_may_not(synthesized: Any) -> None:
    other_account = {"aws:SecureTransport": True, "aws:SourceAccount": "999999999999", "aws:SourceArn": ALARM}
    other_alarm = {
        "aws:SecureTransport": True,
        "aws:SourceAccount": ACCOUNT,
        "aws:SourceArn": ALARM.replace("rootwatch-", "x-"),
    }
    assert not _decide(synthesized, CLOUDWATCH, other_account).allowed
    assert not _decide(synthesized, CLOUDWATCH, other_alarm).allowed
    assert not _decide(synthesized, CLOUDWATCH, {"aws:SecureTransport": True}).allowed  # no source: no match


def test_publishing_without_tls_is_explicitly_denied_to_everyone(synthesized: Any) -> None:
    role = {"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/finish/finish"}
    plain = {"aws:SecureTransport": False, "aws:SourceAccount": ACCOUNT, "aws:SourceArn": ALARM}
    assert _decide(synthesized, CLOUDWATCH, plain).explicit_deny
    assert _decide(synthesized, role, {"aws:SecureTransport": False}).explicit_deny
    assert not _decide(
        synthesized, role, {"aws:SecureTransport": True}
    ).explicit_deny  # FinishRun's identity policy decides
