"""The sandbox deploys the template `python app.py` synthesizes: functions, roles, policies, the state machine
(definition with substitutions applied), in place on redeploy; what it cannot emulate is listed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from rootwatch_cli import main
from rootwatch_sandbox import Sandbox
from rootwatch_sandbox.cloudformation import HANDLERS, CloudAssembly, StackDeployment, deploy_assembly, synthesize
from rootwatch_sandbox.cloudformation.intrinsics import Resolver
from rootwatch_sandbox.deploy import deploy_stack
from rootwatch_sandbox.runtime.definitions import localize_definition

from tests.integration.stack_context import PIPELINE, pipeline


@pytest.fixture(scope="module")
def assembly() -> CloudAssembly:
    return synthesize(PIPELINE)


@pytest.fixture
def deployed(assembly: CloudAssembly) -> Iterator[StackDeployment]:
    with Sandbox():
        yield deploy_assembly(assembly)


def resolver(deployment: StackDeployment) -> Resolver:
    """Resolves the template's values against what was deployed (the test's own reading of the template)."""
    return Resolver(
        parameters={
            "AWS::AccountId": deployment.account,
            "AWS::Region": deployment.region,
            "AWS::Partition": "aws",
            "AWS::StackName": deployment.stack_name,
        }
        | deployment.parameters,
        ref=lambda lid: deployment.resources[lid].physical_id,
        get_att=lambda lid, attribute: deployment.resources[lid].attributes[attribute],
    )


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}


def test_the_synthesized_assembly_is_cached_per_context(assembly: CloudAssembly) -> None:
    assert synthesize(dict(PIPELINE)) is assembly


def test_functions_have_the_templates_handler_timeout_memory_environment_and_own_role(
    deployed: StackDeployment,
) -> None:
    lam = boto3.client("lambda")
    resolve = resolver(deployed).resolve
    functions = of_type(deployed.template, "AWS::Lambda::Function")
    assert len(functions) == 3
    roles = set()
    for properties in (f["Properties"] for f in functions.values()):
        configuration = lam.get_function_configuration(FunctionName=properties["FunctionName"])
        assert configuration["Handler"] == properties["Handler"]
        assert configuration["Timeout"] == properties["Timeout"]
        assert configuration["MemorySize"] == properties["MemorySize"]
        assert configuration["Runtime"] == properties["Runtime"]
        assert configuration["Environment"]["Variables"] == resolve(properties["Environment"]["Variables"])
        assert configuration["Role"] == resolve(properties["Role"])
        roles.add(configuration["Role"])
    assert len(roles) == 3  # each function its own role


def test_each_role_has_exactly_the_templates_policy_statements(deployed: StackDeployment) -> None:
    iam = boto3.client("iam")
    resolve = resolver(deployed).resolve
    template = deployed.template
    roles = of_type(template, "AWS::IAM::Role")
    assert len(roles) >= 5  # three functions, the state machine, the scheduler
    for role_id, role in roles.items():
        name = deployed.resources[role_id].physical_id
        expected = {
            policy["Properties"]["PolicyName"]: resolve(policy["Properties"]["PolicyDocument"])
            for policy in of_type(template, "AWS::IAM::Policy").values()
            if {"Ref": role_id} in policy["Properties"]["Roles"]
        }
        actual = {
            policy_name: iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
            for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]
        }
        assert actual == expected, role_id
        trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        assert trust == resolve(role["Properties"]["AssumeRolePolicyDocument"])
        assert iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == []


def test_the_state_machine_is_the_templates_definition_with_its_substitutions(
    deployed: StackDeployment, assembly: CloudAssembly
) -> None:
    resolve = resolver(deployed).resolve
    ((logical_id, machine),) = of_type(deployed.template, "AWS::StepFunctions::StateMachine").items()
    properties = machine["Properties"]
    key = properties["DefinitionS3Location"]["Key"]
    (source,) = {asset.source for asset in assembly.assets if asset.object_key == key}
    text = source.read_text()
    for name, value in resolve(properties["DefinitionSubstitutions"]).items():
        text = text.replace("${" + name + "}", str(value))
    assert json.loads(deployed.definitions[logical_id]) == json.loads(text)
    assert "${" not in text
    described = boto3.client("stepfunctions").describe_state_machine(
        stateMachineArn=deployed.resources[logical_id].physical_id
    )
    assert json.loads(described["definition"]) == localize_definition(text)
    assert described["roleArn"] == resolve(properties["RoleArn"])
    assert json.loads(text)["States"]["AuditAccounts"]["MaxConcurrency"] == 4  # PIPELINE's context reached it


def test_table_bucket_topic_queue_and_policies_are_created_from_the_template(deployed: StackDeployment) -> None:
    resolve = resolver(deployed).resolve
    template = deployed.template
    ((table_id, table),) = of_type(template, "AWS::DynamoDB::Table").items()
    name = deployed.resources[table_id].physical_id
    description = boto3.client("dynamodb").describe_table(TableName=name)["Table"]
    assert description["KeySchema"] == table["Properties"]["KeySchema"]
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == table["Properties"]["TimeToLiveSpecification"]["AttributeName"]
    s3 = boto3.client("s3")
    for policy in of_type(template, "AWS::S3::BucketPolicy").values():
        bucket = resolve(policy["Properties"]["Bucket"])
        assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == resolve(
            policy["Properties"]["PolicyDocument"]
        )
    sns = boto3.client("sns")
    for policy in of_type(template, "AWS::SNS::TopicPolicy").values():
        for topic in resolve(policy["Properties"]["Topics"]):
            attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
            assert json.loads(attributes["Policy"]) == resolve(policy["Properties"]["PolicyDocument"])
    sqs = boto3.client("sqs")
    for policy in of_type(template, "AWS::SQS::QueuePolicy").values():
        for url in resolve(policy["Properties"]["Queues"]):
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]
            assert json.loads(attributes["Policy"]) == resolve(policy["Properties"]["PolicyDocument"])
    (subscription,) = of_type(template, "AWS::SNS::Subscription").values()
    topic_arn = resolve(subscription["Properties"]["TopicArn"])
    endpoints = [s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]]
    assert endpoints == [subscription["Properties"]["Endpoint"]]


def test_redeploy_with_another_context_updates_in_place_and_keeps_the_data() -> None:
    with Sandbox():
        first = deploy_stack(context=PIPELINE)
        boto3.client("dynamodb").put_item(TableName=first["table"], Item={"pk": {"S": "k"}, "sk": {"S": "s"}})
        boto3.client("s3").put_object(Bucket=first["bucket"], Key="results/kept.json", Body=b"{}")

        second = deploy_stack(context=pipeline(mapMaxConcurrency=5, logLevel="DEBUG"))

        assert {k: second[k] for k in ("table", "bucket", "topic_arn", "state_machine_arn", "functions")} == {
            k: first[k] for k in ("table", "bucket", "topic_arn", "state_machine_arn", "functions")
        }
        item = boto3.client("dynamodb").get_item(TableName=first["table"], Key={"pk": {"S": "k"}, "sk": {"S": "s"}})
        assert "Item" in item
        assert boto3.client("s3").get_object(Bucket=first["bucket"], Key="results/kept.json")["Body"].read() == b"{}"
        lam = boto3.client("lambda")
        for name in second["functions"]:
            variables = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
            assert variables["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
        sfn = boto3.client("stepfunctions")
        definition = json.loads(sfn.describe_state_machine(stateMachineArn=second["state_machine_arn"])["definition"])
        assert definition["States"]["AuditAccounts"]["MaxConcurrency"] == 5
        assert len(sfn.list_state_machines()["stateMachines"]) == 1
        assert len(lam.list_functions()["Functions"]) == 3


def test_sandbox_deploy_with_an_assembly_lists_what_it_does_not_emulate(
    assembly: CloudAssembly, exported_sandbox_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = exported_sandbox_server.endpoint_url
    code = main(["sandbox", "deploy", "--endpoint-url", endpoint, "--assembly", str(assembly.directory)])
    captured = capsys.readouterr()
    printed = json.loads(captured.out)
    assert code == 0
    unsupported = [
        f"{r['Type']} {lid}" for lid, r in assembly.template["Resources"].items() if r["Type"] not in HANDLERS
    ]
    assert {"AWS::Scheduler::Schedule", "AWS::CloudWatch::Alarm"} <= {line.split()[0] for line in unsupported}
    assert [line for line in captured.err.splitlines() if line.startswith("not emulated: ")] == [
        f"not emulated: {line}" for line in unsupported
    ]
    assert printed["not_emulated"] == unsupported
    functions = boto3.client("lambda", endpoint_url=endpoint).list_functions()["Functions"]
    assert sorted(f["FunctionName"] for f in functions) == sorted(printed["functions"])
    machine = boto3.client("stepfunctions", endpoint_url=endpoint).describe_state_machine(
        stateMachineArn=printed["state_machine_arn"]
    )
    assert json.loads(machine["definition"])["States"]["AuditAccounts"]["MaxConcurrency"] == 4


@pytest.mark.parametrize("where", ["does-not-exist", "empty"])
def test_a_bad_assembly_path_is_one_line_and_exit_2(
    where: str, tmp_path: Any, exported_sandbox_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / where
    if where == "empty":
        path.mkdir()
    code = main(["sandbox", "deploy", "--endpoint-url", exported_sandbox_server.endpoint_url, "--assembly", str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "--assembly" in err and str(path) in err


def test_a_bad_context_value_is_one_line_and_exit_2(
    exported_sandbox_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = exported_sandbox_server.endpoint_url
    code = main(["sandbox", "deploy", "--endpoint-url", endpoint, "-c", "rootwatch:logLevel=LOUD"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "rootwatch:logLevel" in err
