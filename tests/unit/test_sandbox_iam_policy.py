"""The sandbox's IAM identity-policy evaluator and request mapping (pure functions, no moto)."""

from __future__ import annotations

from typing import Any

import pytest
from rootwatch_sandbox import iam_policy, iam_requests
from rootwatch_sandbox.iam_policy import evaluate

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/status"
AUDIT = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"


def policy(*statements: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [("p", {"Version": "2012-10-17", "Statement": list(statements)})]


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_default_deny_without_statements() -> None:
    decision = evaluate([], "dynamodb:GetItem", TABLE)
    assert not decision.allowed and not decision.explicit_deny and decision.statement is None


def test_allow_names_the_statement_and_policy() -> None:
    statement = allow("dynamodb:GetItem", TABLE, Sid="Read")
    decision = evaluate(policy(statement), "dynamodb:GetItem", TABLE)
    assert decision.allowed and decision.statement == statement and decision.policy_name == "p"


def test_statement_may_be_one_object() -> None:
    assert evaluate([("p", {"Statement": allow("s3:GetObject")})], "s3:GetObject", "arn:aws:s3:::b/k").allowed


@pytest.mark.parametrize(
    ("pattern", "action", "allowed"),
    [
        ("dynamodb:*", "dynamodb:PutItem", True),
        ("dynamodb:Get*", "dynamodb:GetItem", True),
        ("dynamodb:Get*", "dynamodb:PutItem", False),
        ("DynamoDB:getitem", "dynamodb:GetItem", True),  # actions are case-insensitive
        ("dynamodb:?etItem", "dynamodb:GetItem", True),
        ("dynamodb:?etItem", "dynamodb:BatchGetItem", False),
        ("*", "sts:AssumeRoot", True),
        ("s3:Get.bject", "s3:GetObject", False),  # a dot is a dot, not a regex
    ],
)
def test_action_wildcards(pattern: str, action: str, allowed: bool) -> None:
    assert evaluate(policy(allow(pattern)), action, "*").allowed is allowed


@pytest.mark.parametrize(
    ("pattern", "resource", "allowed"),
    [
        ("arn:aws:s3:::bucket/manifests/*", "arn:aws:s3:::bucket/manifests/run-1.json", True),
        ("arn:aws:s3:::bucket/manifests/*", "arn:aws:s3:::bucket/results/run-1.json", False),
        ("arn:aws:s3:::bucket/manifests/*", "arn:aws:s3:::bucket", False),
        ("arn:aws:iam::*:root", "arn:aws:iam::111111111111:root", True),
        ("arn:aws:s3:::bucket/run-?.json", "arn:aws:s3:::bucket/run-1.json", True),
        ("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/k", False),  # resources are case-sensitive
        (["arn:aws:s3:::x/*", TABLE], TABLE, True),
    ],
)
def test_resource_wildcards(pattern: Any, resource: str, allowed: bool) -> None:
    assert evaluate(policy(allow("*", pattern)), "s3:GetObject", resource).allowed is allowed


def test_not_action_allows_everything_else() -> None:
    statement = {"Effect": "Allow", "NotAction": ["iam:*", "sts:AssumeRoot"], "Resource": "*"}
    assert evaluate(policy(statement), "dynamodb:GetItem", TABLE).allowed
    assert not evaluate(policy(statement), "iam:ListRoles", "*").allowed
    assert not evaluate(policy(statement), "STS:assumeroot", "*").allowed


def test_not_resource() -> None:
    statement = {"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"}
    assert evaluate(policy(statement), "s3:GetObject", "arn:aws:s3:::open/k").allowed
    assert not evaluate(policy(statement), "s3:GetObject", "arn:aws:s3:::secret/k").allowed


def test_explicit_deny_wins_over_any_allow() -> None:
    deny = {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"}
    policies = [("allow", {"Statement": [allow("dynamodb:*", TABLE)]}), ("deny", {"Statement": [deny]})]
    decision = evaluate(policies, "dynamodb:DeleteItem", TABLE)
    assert not decision.allowed and decision.explicit_deny and decision.policy_name == "deny"
    assert evaluate(policies, "dynamodb:GetItem", TABLE).allowed


def test_deny_that_does_not_match_leaves_the_allow() -> None:
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    assert evaluate(policy(allow("*"), deny), "s3:GetObject", "*", {"aws:SecureTransport": True}).allowed
    assert evaluate(policy(allow("*"), deny), "s3:GetObject", "*", {"aws:SecureTransport": False}).explicit_deny


# --- conditions -------------------------------------------------------------------------------------------


def assume_root(condition: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return policy(allow("sts:AssumeRoot", "arn:aws:iam::*:root", Condition=condition))


def allowed(condition: dict[str, Any], context: dict[str, Any]) -> bool:
    return evaluate(assume_root(condition), "sts:AssumeRoot", "arn:aws:iam::111111111111:root", context).allowed


def test_string_equals_task_policy() -> None:
    condition = {"StringEquals": {"sts:TaskPolicyArn": AUDIT}}
    assert allowed(condition, {"sts:TaskPolicyArn": AUDIT})
    assert not allowed(condition, {"sts:TaskPolicyArn": AUDIT.replace("IAMAudit", "IAMDelete")})
    assert not allowed(condition, {})  # key absent: no match


def test_string_equals_is_case_sensitive_but_keys_are_not() -> None:
    assert not allowed({"StringEquals": {"sts:TaskPolicyArn": AUDIT.lower()}}, {"sts:TaskPolicyArn": AUDIT})
    assert allowed({"StringEquals": {"STS:taskpolicyarn": AUDIT}}, {"sts:TaskPolicyArn": AUDIT})
    assert allowed({"StringEqualsIgnoreCase": {"sts:TaskPolicyArn": AUDIT.lower()}}, {"sts:TaskPolicyArn": AUDIT})


def test_any_of_several_values() -> None:
    other = "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy"
    assert allowed({"StringEquals": {"sts:TaskPolicyArn": [other, AUDIT]}}, {"sts:TaskPolicyArn": AUDIT})


def test_string_like() -> None:
    condition = {"StringLike": {"sts:TaskPolicyArn": "arn:aws:iam::aws:policy/root-task/IAMAudit*"}}
    assert allowed(condition, {"sts:TaskPolicyArn": AUDIT})
    assert not allowed(
        condition, {"sts:TaskPolicyArn": "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"}
    )


def test_string_not_equals_and_absent_key() -> None:
    condition = {"StringNotEquals": {"aws:PrincipalAccount": "999999999999"}}
    assert allowed(condition, {"aws:PrincipalAccount": "123456789012"})
    assert not allowed(condition, {"aws:PrincipalAccount": "999999999999"})
    assert allowed(condition, {})  # AWS: a negated operator holds when the key is absent


def test_arn_equals_and_arn_like() -> None:
    alarm = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:rootwatch-failed-runs"
    assert allowed({"ArnEquals": {"aws:SourceArn": alarm}}, {"aws:SourceArn": alarm})
    assert allowed(
        {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:123456789012:alarm:rootwatch-*"}}, {"aws:SourceArn": alarm}
    )
    assert not allowed(
        {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:999999999999:alarm:*"}}, {"aws:SourceArn": alarm}
    )
    # a wildcard stays inside one ARN component
    assert not allowed(
        {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:alarm:rootwatch-*"}}, {"aws:SourceArn": alarm}
    )
    assert not allowed({"ArnLike": {"aws:SourceArn": "arn:aws:*"}}, {})


def test_bool() -> None:
    assert allowed({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": True})
    assert not allowed({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": False})
    assert allowed({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "false"})


def test_if_exists_and_null() -> None:
    assert allowed({"StringEqualsIfExists": {"aws:SourceAccount": "123456789012"}}, {})
    assert not allowed({"StringEqualsIfExists": {"aws:SourceAccount": "123456789012"}}, {"aws:SourceAccount": "1"})
    assert allowed({"Null": {"aws:SourceArn": "true"}}, {})
    assert not allowed({"Null": {"aws:SourceArn": "false"}}, {})


def test_set_operators() -> None:
    tags = {"aws:TagKeys": ["team", "env"]}
    assert allowed({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}, tags)
    assert not allowed({"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}, tags)
    assert allowed({"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team", "x"]}}, tags)
    assert allowed({"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}, {})  # no values: vacuously true
    assert not allowed({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}, {})


def test_all_operators_and_keys_must_hold() -> None:
    condition = {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:*:alarm:*"},
    }
    alarm = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"
    assert allowed(condition, {"aws:SourceAccount": "123456789012", "aws:SourceArn": alarm})
    assert not allowed(condition, {"aws:SourceAccount": "123456789012"})


def test_unknown_operator_never_matches(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("DEBUG", logger="rootwatch_sandbox.iam_policy"):
        assert not allowed({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, {})
    assert "not evaluated" in caplog.text


def test_unknown_key_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("DEBUG", logger="rootwatch_sandbox.iam_policy"):
        assert not allowed({"StringEquals": {"aws:SomethingNew": "x"}}, {})
    assert "aws:SomethingNew" in caplog.text


def test_wildcard_match_escapes_regex() -> None:
    assert iam_policy.wildcard_match("a+b", "a+b")
    assert not iam_policy.wildcard_match("a+b", "aab")


# --- request mapping ---------------------------------------------------------------------------------------


def test_request_mapping() -> None:
    region, account = "us-east-1", "123456789012"
    auth = iam_requests.authorization_for("dynamodb", "GetItem", {"TableName": "status"}, region, account)
    assert (auth.action, auth.resources) == ("dynamodb:GetItem", (TABLE,))
    batch = iam_requests.authorization_for(
        "dynamodb", "BatchWriteItem", {"RequestItems": {"a": [], "b": []}}, region, account
    )
    assert batch.resources == (TABLE.replace("status", "a"), TABLE.replace("status", "b"))
    invoke = iam_requests.authorization_for(
        "awslambda", "Invoke", {"FunctionName": "fn", "Qualifier": "1"}, region, account
    )
    assert (invoke.action, invoke.resources) == (
        "lambda:InvokeFunction",
        (f"arn:aws:lambda:{region}:{account}:function:fn:1",),
    )
    full = f"arn:aws:lambda:eu-west-1:{account}:function:fn"
    assert iam_requests.authorization_for("lambda", "Invoke", {"FunctionName": full}, region, account).resources == (
        full,
    )
    root = iam_requests.authorization_for(
        "sts", "AssumeRoot", {"TargetPrincipal": "111111111111", "TaskPolicyArn": {"arn": AUDIT}}, region, account
    )
    assert root.resources == ("arn:aws:iam::111111111111:root",) and root.context == {"sts:TaskPolicyArn": AUDIT}
    start = iam_requests.authorization_for(
        "stepfunctions", "StartExecution", {"stateMachineArn": "arn:sm"}, region, account
    )
    assert (start.action, start.resources) == ("states:StartExecution", ("arn:sm",))
    topic = f"arn:aws:sns:{region}:{account}:alerts"
    assert iam_requests.authorization_for("sns", "Publish", {"TopicArn": topic}, region, account).resources == (topic,)
    assert iam_requests.authorization_for("organizations", "ListAccounts", {}, region, account).resources == ("*",)
    assert iam_requests.authorization_for("kms", "Decrypt", {"KeyId": "k-1"}, region, account).resources == (
        f"arn:aws:kms:{region}:{account}:key/k-1",
    )
    assert iam_requests.s3_authorization("PutObject", "b", "results/x").resources == ("arn:aws:s3:::b/results/x",)
    assert iam_requests.s3_authorization("HeadBucket", "b", None).action == "s3:ListBucket"


def test_a_query_carries_its_partition_key_as_dynamodb_leading_keys() -> None:
    region, account = "us-east-1", "123456789012"
    params = {
        "TableName": "status",
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": "EXEMPTION"}, ":prefix": {"S": "1111"}},
    }
    auth = iam_requests.authorization_for("dynamodb", "Query", params, region, account)
    assert (auth.action, auth.resources, dict(auth.context)) == (
        "dynamodb:Query",
        (TABLE,),
        {"dynamodb:LeadingKeys": ["EXEMPTION"]},
    )
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "dynamodb:Query",
                "Resource": TABLE,
                "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["EXEMPTION"]}},
            }
        ]
    }
    other = {**params, "ExpressionAttributeValues": {":pk": {"S": "RUN#r1"}, ":prefix": {"S": "A"}}}
    denied = iam_requests.authorization_for("dynamodb", "Query", other, region, account)
    assert evaluate([("p", policy)], "dynamodb:Query", TABLE, dict(auth.context)).allowed
    assert not evaluate([("p", policy)], "dynamodb:Query", TABLE, dict(denied.context)).allowed
