"""The sandbox enforces the identity policies of assumed-role callers, with each service's own AccessDenied."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from rootwatch_sandbox import Sandbox, iam_enforcement
from rootwatch_sandbox.runtime import env_overlay

from tests.integration.sandbox_handlers import deploy_function, run_to_completion

ACCOUNT = "123456789012"
REGION = "us-east-1"
TABLE = "iam-status"
BUCKET = "iam-results"
AUDIT = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
DELETE = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
TESTING = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": REGION}


def admin(service: str) -> Any:
    return boto3.client(service, **TESTING)


def role_with(name: str, *statements: dict[str, Any], trust: str = "lambda.amazonaws.com") -> str:
    """A role with ``statements`` as its inline policy; returns its ARN."""
    iam = admin("iam")
    trust_policy = {"Statement": [{"Effect": "Allow", "Principal": {"Service": trust}, "Action": "sts:AssumeRole"}]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust_policy))["Role"]["Arn"]
    if statements:
        document = {"Version": "2012-10-17", "Statement": list(statements)}
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(document))
    return str(arn)


def as_role(role_arn: str, session: str = "tester") -> Any:
    """A boto3 session with credentials of ``role_arn`` (sts:AssumeRole by the sandbox's administrator)."""
    credentials = admin("sts").assume_role(RoleArn=role_arn, RoleSessionName=session)["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def denied(error: ClientError) -> tuple[int, str, str]:
    return (
        error.response["ResponseMetadata"]["HTTPStatusCode"],
        error.response["Error"]["Code"],
        error.response["Error"]["Message"],
    )


def no_allow(role: str, action: str, resource: str, session: str = "tester", quote: bool = False) -> str:
    shown = f'"{resource}"' if quote else resource
    return (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session} is not authorized to perform: {action} "
        f"on resource: {shown} because no identity-based policy allows the {action} action"
    )


@pytest.fixture
def stack(sandbox: Any) -> Any:
    admin("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    admin("s3").create_bucket(Bucket=BUCKET)
    admin("s3").put_object(Bucket=BUCKET, Key="manifests/run.json", Body=b"[]")
    return sandbox


# --- JSON protocol: DynamoDB, Lambda, Step Functions, Organizations ------------------------------------------


def test_dynamodb_allows_what_the_role_allows_and_denies_the_rest_as_json(stack: Any) -> None:
    role = role_with("reader", {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE_ARN})
    dynamodb = as_role(role).client("dynamodb")

    dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "a"}})
    with pytest.raises(ClientError) as raised:
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "a"}})

    assert denied(raised.value) == (403, "AccessDeniedException", no_allow("reader", "dynamodb:PutItem", TABLE_ARN))
    assert "Item" not in admin("dynamodb").get_item(TableName=TABLE, Key={"pk": {"S": "a"}})


def test_an_explicit_deny_wins_and_says_so(stack: Any) -> None:
    role = role_with(
        "denied-delete",
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": TABLE_ARN},
    )
    dynamodb = as_role(role).client("dynamodb")
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "a"}})

    with pytest.raises(ClientError) as raised:
        dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "a"}})

    assert denied(raised.value) == (
        403,
        "AccessDeniedException",
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/denied-delete/tester is not authorized to perform: "
        f"dynamodb:DeleteItem on resource: {TABLE_ARN} with an explicit deny in an identity-based policy",
    )


def test_attached_managed_policies_count(stack: Any) -> None:
    role = role_with("managed")
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "dynamodb:Query", "Resource": TABLE_ARN}],
    }
    policy = admin("iam").create_policy(PolicyName="query-status", PolicyDocument=json.dumps(document))
    admin("iam").attach_role_policy(RoleName="managed", PolicyArn=policy["Policy"]["Arn"])
    dynamodb = as_role(role).client("dynamodb")

    dynamodb.query(TableName=TABLE, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": "a"}})
    with pytest.raises(ClientError):
        dynamodb.scan(TableName=TABLE)


def test_lambda_invoke_is_denied_as_lambda_denies_it(stack: Any) -> None:
    function_arn = deploy_function(admin("lambda"), admin("iam"), "target-fn", "echo")
    role = role_with("no-invoke", {"Effect": "Allow", "Action": "lambda:GetFunction", "Resource": function_arn})
    lam = as_role(role).client("lambda")

    lam.get_function(FunctionName="target-fn")
    with pytest.raises(ClientError) as raised:
        lam.invoke(FunctionName="target-fn", Payload=b"{}")

    assert denied(raised.value) == (
        403,
        "AccessDeniedException",
        no_allow("no-invoke", "lambda:InvokeFunction", function_arn),
    )


def test_step_functions_and_organizations_deny_as_json(stack: Any) -> None:
    session = as_role(role_with("nothing"))

    with pytest.raises(ClientError) as states:
        session.client("stepfunctions").list_state_machines()
    with pytest.raises(ClientError) as organizations:
        session.client("organizations").describe_organization()

    assert denied(states.value)[:2] == (403, "AccessDeniedException")
    assert denied(organizations.value) == (
        403,
        "AccessDeniedException",
        no_allow("nothing", "organizations:DescribeOrganization", "*", session="tester"),
    )


# --- XML: S3, SNS, STS, IAM ------------------------------------------------------------------------------------


def test_s3_object_and_bucket_arns_with_s3s_xml_access_denied(stack: Any) -> None:
    role = role_with(
        "manifest-reader",
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/manifests/*"},
    )
    s3 = as_role(role).client("s3")

    assert s3.get_object(Bucket=BUCKET, Key="manifests/run.json")["Body"].read() == b"[]"
    with pytest.raises(ClientError) as put:
        s3.put_object(Bucket=BUCKET, Key="manifests/run.json", Body=b"x")
    with pytest.raises(ClientError) as listing:
        s3.list_objects_v2(Bucket=BUCKET)

    object_arn = f"arn:aws:s3:::{BUCKET}/manifests/run.json"
    assert denied(put.value) == (
        403,
        "AccessDenied",
        no_allow("manifest-reader", "s3:PutObject", object_arn, quote=True),
    )
    assert denied(listing.value) == (
        403,
        "AccessDenied",
        no_allow("manifest-reader", "s3:ListBucket", f"arn:aws:s3:::{BUCKET}", quote=True),
    )


def test_sns_publish_denied_with_snss_authorization_error(stack: Any) -> None:
    topic = admin("sns").create_topic(Name="alerts")["TopicArn"]
    other = admin("sns").create_topic(Name="other")["TopicArn"]
    role = role_with("publisher", {"Effect": "Allow", "Action": "sns:Publish", "Resource": topic})
    sns = as_role(role).client("sns")

    sns.publish(TopicArn=topic, Message="hello")
    with pytest.raises(ClientError) as raised:
        sns.publish(TopicArn=other, Message="hello")

    assert denied(raised.value) == (
        403,
        "AuthorizationError",
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/publisher/tester is not authorized to perform: SNS:Publish "
        f"on resource: {other} because no identity-based policy allows the SNS:Publish action",
    )


def test_assume_root_only_for_the_task_policy_the_condition_names(stack: Any) -> None:
    accounts = stack.create_demo_org(accounts=3, seed=0)["accounts"]
    member = next(account["account_id"] for account in accounts if account["state"] == "ACTIVE")
    role = role_with(
        "auditor",
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRoot",
            "Resource": "arn:aws:iam::*:root",
            "Condition": {"StringEquals": {"sts:TaskPolicyArn": AUDIT}},
        },
    )
    sts = as_role(role).client("sts")

    sts.assume_root(TargetPrincipal=member, TaskPolicyArn={"arn": AUDIT})
    with pytest.raises(ClientError) as raised:
        sts.assume_root(TargetPrincipal=member, TaskPolicyArn={"arn": DELETE})

    assert denied(raised.value) == (
        403,
        "AccessDenied",
        no_allow("auditor", "sts:AssumeRoot", f"arn:aws:iam::{member}:root", session="tester"),
    )
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/auditor/tester"  # always allowed


def test_iam_read_denied_as_xml(stack: Any) -> None:
    with pytest.raises(ClientError) as raised:
        as_role(role_with("nothing-iam")).client("iam").list_roles()
    assert denied(raised.value) == (403, "AccessDenied", no_allow("nothing-iam", "iam:ListRoles", "*"))


# --- who is not enforced ------------------------------------------------------------------------------------------


def test_default_testing_credentials_and_unknown_roles_are_not_enforced(stack: Any) -> None:
    admin("dynamodb").put_item(TableName=TABLE, Item={"pk": {"S": "admin"}})
    # moto lets any ARN be assumed; a role the sandbox does not have is not modelled, so not enforced.
    ghost = as_role(f"arn:aws:iam::{ACCOUNT}:role/does-not-exist").client("dynamodb")
    ghost.put_item(TableName=TABLE, Item={"pk": {"S": "ghost"}})


# --- functions run as their role -------------------------------------------------------------------------------


def _invoke(name: str, event: Any = None) -> tuple[dict[str, Any], Any]:
    response = admin("lambda").invoke(FunctionName=name, Payload=json.dumps(event or {}).encode())
    return response, json.loads(response["Payload"].read())


def test_a_function_runs_with_its_roles_credentials_and_is_denied_what_the_role_lacks(stack: Any) -> None:
    deploy_function(admin("lambda"), admin("iam"), "whoami-narrow", "whoami", policy=None)
    variables = {"BUCKET_NAME": BUCKET, "RESULT_PREFIX": "out/"}
    deploy_function(admin("lambda"), admin("iam"), "writer-narrow", "flaky", variables, policy=None)

    _, identity = _invoke("whoami-narrow")
    response, error = _invoke("writer-narrow", {"id": "1"})

    assert identity["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/whoami-narrow-role/whoami-narrow"
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "AccessDenied"  # botocore names the exception class after the code
    assert "(AccessDenied) when calling the PutObject operation" in error["errorMessage"]
    object_arn = f"arn:aws:s3:::{BUCKET}/out/1"
    assert (
        no_allow("writer-narrow-role", "s3:PutObject", object_arn, "writer-narrow", quote=True) in error["errorMessage"]
    )


def test_handler_clients_are_cached_per_credentials_not_only_per_settings(stack: Any) -> None:
    from rootwatch.handlers import dependencies

    settings = {"TABLE_NAME": TABLE, "BUCKET_NAME": BUCKET, "TOPIC_ARN": f"arn:aws:sns:{REGION}:{ACCOUNT}:t"}
    settings["AUDIT_REGION"] = REGION
    dependencies.reset()
    try:
        with env_overlay.function_environment({**settings, "AWS_ACCESS_KEY_ID": "ASIAFIRSTFUNCTION000"}):
            first = dependencies.client_factory()
            first_store = dependencies.status_store()
        with env_overlay.function_environment({**settings, "AWS_ACCESS_KEY_ID": "ASIASECONDFUNCTION00"}):
            second = dependencies.client_factory()
            second_store = dependencies.status_store()
        with env_overlay.function_environment({**settings, "AWS_ACCESS_KEY_ID": "ASIAFIRSTFUNCTION000"}):
            again = dependencies.client_factory()
    finally:
        dependencies.reset()

    assert first is not second and first_store is not second_store
    assert again is first


# --- the state machine's own calls ---------------------------------------------------------------------------------


def _task_machine(name: str, role_arn: str, function_arn: str) -> str:
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }
    machine = admin("stepfunctions").create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=role_arn
    )
    return str(machine["stateMachineArn"])


def test_state_machine_role_without_invoke_fails_the_task_as_aws_does(stack: Any) -> None:
    function_arn = deploy_function(admin("lambda"), admin("iam"), "sfn-target", "echo")
    allowed = role_with(
        "sfn-allowed",
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function_arn},
        trust="states.amazonaws.com",
    )
    lacking = role_with(
        "sfn-lacking", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, trust="states.amazonaws.com"
    )
    sfn = admin("stepfunctions")

    ok = run_to_completion(sfn, _task_machine("with-invoke", allowed, function_arn), {"x": 1})
    failed = run_to_completion(sfn, _task_machine("without-invoke", lacking, function_arn), {"x": 1})

    assert ok["status"] == "SUCCEEDED", ok
    assert failed["status"] == "FAILED"
    assert failed["error"] == "Lambda.AWSLambdaException"
    assert "assumed-role/sfn-lacking/" in failed["cause"]
    assert f"is not authorized to perform: lambda:InvokeFunction on resource: {function_arn}" in failed["cause"]
    assert "Error Code: AccessDeniedException" in failed["cause"]


# --- the switch -------------------------------------------------------------------------------------------------


def _put_denied_item() -> None:
    admin("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    as_role(role_with(f"off-{uuid.uuid4().hex[:6]}")).client("dynamodb").put_item(
        TableName=TABLE, Item={"pk": {"S": "a"}}
    )


def test_the_switch_turns_enforcement_off() -> None:
    with Sandbox(iam_enforcement=False):
        assert not iam_enforcement.enabled()
        _put_denied_item()
    assert iam_enforcement.enabled()  # back to the default once stopped


@pytest.fixture
def iam_off_in_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(iam_enforcement.ENV, "off")
    yield


def test_the_environment_turns_enforcement_off(iam_off_in_env: None) -> None:
    with Sandbox():
        _put_denied_item()
    with Sandbox(iam_enforcement=True), pytest.raises(ClientError):  # an explicit choice beats the environment
        _put_denied_item()


def test_server_enforces_over_http_and_the_flag_turns_it_off() -> None:
    from rootwatch_sandbox.server import SandboxServer

    for enforcement in (None, False):
        with SandboxServer(port=0, iam_enforcement=enforcement) as server:
            kwargs = {**TESTING, "endpoint_url": server.endpoint_url}
            iam = boto3.client("iam", **kwargs)
            iam.create_role(RoleName="served", AssumeRolePolicyDocument="{}")
            credentials = boto3.client("sts", **kwargs).assume_role(
                RoleArn=f"arn:aws:iam::{ACCOUNT}:role/served", RoleSessionName="http"
            )["Credentials"]
            s3 = boto3.client(
                "s3",
                endpoint_url=server.endpoint_url,
                region_name=REGION,
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            )
            if enforcement is None:
                with pytest.raises(ClientError) as raised:
                    s3.list_buckets()
                assert denied(raised.value)[:2] == (403, "AccessDenied")
            else:
                s3.list_buckets()


# --- resource policies -------------------------------------------------------------------------------------------


def test_tls_only_bucket_policy_lets_sandbox_calls_through_but_its_explicit_denies_apply(stack: Any) -> None:
    bucket_arn = f"arn:aws:s3:::{BUCKET}"
    tls_only = {  # the stack's enforceSSL statement; the sandbox's requests count as TLS
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    no_results = {  # names the role: moto's own (anonymous) bucket check leaves it to the sandbox's
        "Effect": "Deny",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/bucket-reader"},
        "Action": "s3:GetObject",
        "Resource": f"{bucket_arn}/results/*",
    }
    admin("s3").put_object(Bucket=BUCKET, Key="results/x.json", Body=b"{}")
    role = role_with("bucket-reader", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket_arn}/*"})
    admin("s3").put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Statement": [tls_only, no_results]}))
    s3 = as_role(role).client("s3")

    admin("s3").put_object(Bucket=BUCKET, Key="results/y.json", Body=b"{}")  # the administrator, after the policy
    s3.get_object(Bucket=BUCKET, Key="manifests/run.json")
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=BUCKET, Key="results/x.json")

    assert denied(raised.value) == (
        403,
        "AccessDenied",
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/bucket-reader/tester is not authorized to perform: s3:GetObject "
        f'on resource: "{bucket_arn}/results/x.json" with an explicit deny in a resource-based policy',
    )
