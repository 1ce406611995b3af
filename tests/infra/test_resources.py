"""Properties of the synthesized resources: storage, Lambdas, state machine, schedule, analytics, alarms."""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

from rootwatch.domain.records import RECORD_FIELDS
from rootwatch.handlers.settings import REQUIRED as LAMBDA_REQUIRED_ENV

from infra.definition import DEFINITION_FILE, DEFINITION_PLACEHOLDERS
from infra.lambda_asset import pinned_version

from .conftest import ACCOUNT, REGION


def _logical_id(synthesized, resource_type: str, prefix: str) -> str:
    found = [k for k in synthesized.of_type(resource_type) if k.startswith(prefix)]
    assert len(found) == 1, found
    return found[0]


def _props(synthesized, resource_type: str, prefix: str) -> dict[str, Any]:
    return synthesized.resources[_logical_id(synthesized, resource_type, prefix)]["Properties"]


# --- storage ----------------------------------------------------------------------------------------


def test_status_table_is_encrypted_with_pitr_ttl_and_deletion_protection(synthesized):
    table = synthesized.one("AWS::DynamoDB::Table")
    props = table["Properties"]
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["DeletionProtectionEnabled"] is True
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert table["DeletionPolicy"] == "Retain"


def test_table_keys_match_the_status_store_the_pipeline_uses(synthesized):
    from rootwatch.aws import status_store

    props = synthesized.one("AWS::DynamoDB::Table")["Properties"]
    assert [k["AttributeName"] for k in props["KeySchema"]] == [status_store.PK, status_store.SK]
    assert props["TimeToLiveSpecification"]["AttributeName"] == status_store.TTL_ATTRIBUTE


def test_every_bucket_is_encrypted_private_tls_only_and_expires_objects(synthesized):
    buckets = synthesized.of_type("AWS::S3::Bucket")
    assert len(buckets) == 3
    policies = {
        p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]
        for p in synthesized.of_type("AWS::S3::BucketPolicy").values()
    }
    for logical_id, bucket in buckets.items():
        props = bucket["Properties"]
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", logical_id
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, logical_id
        assert props["LifecycleConfiguration"]["Rules"], logical_id
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}, logical_id
        deny_plain_http = [
            s
            for s in policies[logical_id]["Statement"]
            if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert deny_plain_http, f"{logical_id} does not enforce TLS"


def test_results_bucket_is_versioned_logged_and_expires_per_prefix(synthesized):
    props = _props(synthesized, "AWS::S3::Bucket", "StorageResults")
    logs_bucket = _logical_id(synthesized, "AWS::S3::Bucket", "StorageAccessLogs")
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_bucket}
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-results"]["Prefix"] == "results/"
    assert rules["expire-results"]["ExpirationInDays"] == synthesized.context["rootwatch:resultsRetentionDays"]
    assert rules["expire-manifests"]["Prefix"] == "manifests/"
    assert rules["expire-old-versions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}


# --- alerting -------------------------------------------------------------------------------------------


def test_topic_is_kms_encrypted_tls_only_with_one_email_subscription_per_address(synthesized):
    topic_id = _logical_id(synthesized, "AWS::SNS::Topic", "AlertingAlerts")
    key_id = _logical_id(synthesized, "AWS::KMS::Key", "AlertingTopicKey")
    topic = synthesized.resources[topic_id]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert synthesized.resources[key_id]["Properties"]["EnableKeyRotation"] is True
    (policy,) = synthesized.of_type("AWS::SNS::TopicPolicy").values()
    (statement,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert statement["Principal"] == "*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    subscriptions = synthesized.of_type("AWS::SNS::Subscription").values()
    assert sorted(s["Properties"]["Endpoint"] for s in subscriptions) == sorted(
        synthesized.context["rootwatch:alertEmails"]
    )
    assert {s["Properties"]["Protocol"] for s in subscriptions} == {"email"}
    assert all(s["Properties"]["TopicArn"] == {"Ref": topic_id} for s in subscriptions)


ALARM_SOURCE = {
    "StringEquals": {"aws:SourceAccount": ACCOUNT},
    "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:rootwatch-*"},
}


def test_cloudwatch_may_use_the_topic_key_so_alarms_can_publish(synthesized):
    key = synthesized.one("AWS::KMS::Key")["Properties"]["KeyPolicy"]
    (statement,) = [s for s in key["Statement"] if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert statement["Effect"] == "Allow"
    assert set(statement["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert statement["Condition"] == ALARM_SOURCE


def test_topic_policy_lets_this_stacks_alarms_publish(synthesized):
    """enforce_ssl replaces SNS's default topic policy: without an Allow for cloudwatch.amazonaws.com the
    alarms' notifications would be refused."""
    topic_id = _logical_id(synthesized, "AWS::SNS::Topic", "AlertingAlerts")
    (policy,) = synthesized.of_type("AWS::SNS::TopicPolicy").values()
    assert policy["Properties"]["Topics"] == [{"Ref": topic_id}]
    (statement,) = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sns:Publish"
    assert statement["Resource"] == {"Ref": topic_id}
    assert statement["Condition"] == ALARM_SOURCE


def test_every_alarm_matches_the_source_arn_the_topic_and_key_allow(synthesized):
    pattern = ALARM_SOURCE["ArnLike"]["aws:SourceArn"]
    alarms = synthesized.of_type("AWS::CloudWatch::Alarm").values()
    assert alarms
    for alarm in alarms:
        name = alarm["Properties"]["AlarmName"]
        assert fnmatch.fnmatchcase(f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}", pattern), name


# --- Lambdas ----------------------------------------------------------------------------------------


def test_lambdas_run_python313_arm64_with_the_pinned_powertools_layer_tracing_and_json_logs(synthesized):
    functions = synthesized.of_type("AWS::Lambda::Function")
    version = pinned_version("aws-lambda-powertools")
    # The layer ARN is AWS's public SSM parameter for the pinned release, read by CloudFormation at deploy time.
    (parameter,) = [
        k for k, p in synthesized.template["Parameters"].items() if p.get("Default", "").startswith("/aws/service/")
    ]
    assert synthesized.template["Parameters"][parameter] == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": f"/aws/service/powertools/python/arm64/python3.13/{version}",
    }
    layer = {"Ref": parameter}
    handlers = set()
    for logical_id, function in functions.items():
        props = function["Properties"]
        handlers.add(props["Handler"])
        assert props["Runtime"] == "python3.13", logical_id
        assert props["Architectures"] == ["arm64"], logical_id
        assert props["Layers"] == [layer], logical_id
        assert props["TracingConfig"] == {"Mode": "Active"}, logical_id
        assert props["LoggingConfig"]["LogFormat"] == "JSON", logical_id
        log_group = props["LoggingConfig"]["LogGroup"]["Ref"]
        assert (
            synthesized.resources[log_group]["Properties"]["RetentionInDays"]
            == synthesized.context["rootwatch:logRetentionDays"]
        )
    assert handlers == {
        "rootwatch.handlers.prepare_run.handler",
        "rootwatch.handlers.audit_account.handler",
        "rootwatch.handlers.finish_run.handler",
    }


def test_lambdas_get_every_environment_variable_the_handlers_require(synthesized):
    for logical_id, function in synthesized.of_type("AWS::Lambda::Function").items():
        env = function["Properties"]["Environment"]["Variables"]
        assert set(LAMBDA_REQUIRED_ENV) <= set(env), logical_id
        assert env["POWERTOOLS_SERVICE_NAME"] == "rootwatch"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "rootwatch"
        assert env["AUDIT_REGION"] == REGION  # config auditRegion null: the stack's region
        assert env["HISTORY_TTL_DAYS"] == str(synthesized.context["rootwatch:historyRetentionDays"])
        assert env["PASSWORD_UNUSED_DAYS"] == str(synthesized.context["rootwatch:passwordUnusedDays"])
        assert json.loads(env["ROOTWATCH_EXEMPTIONS"]) == synthesized.context["rootwatch:exemptions"]


# --- state machine ---------------------------------------------------------------------------------------


def _deployed_definition(synthesized) -> tuple[str, dict[str, Any]]:
    props = synthesized.one("AWS::StepFunctions::StateMachine")["Properties"]
    key = props["DefinitionS3Location"]["Key"]
    return (synthesized.outdir / f"asset.{key}").read_text(), props["DefinitionSubstitutions"]


def test_state_machine_is_deployed_from_the_one_definition_file(synthesized):
    deployed, substitutions = _deployed_definition(synthesized)
    assert deployed == DEFINITION_FILE.read_text()
    assert set(re.findall(r"\$\{(\w+)\}", deployed)) == set(substitutions) == set(DEFINITION_PLACEHOLDERS)
    functions = {
        name: {"Fn::GetAtt": [_logical_id(synthesized, "AWS::Lambda::Function", f"WorkflowFunctions{name}"), "Arn"]}
        for name in ("PrepareRun", "AuditAccount", "FinishRun")
    }
    for name, arn in functions.items():
        assert substitutions[f"{name}FunctionArn"] == arn
    assert substitutions["ResultsBucket"] == {"Ref": _logical_id(synthesized, "AWS::S3::Bucket", "StorageResults")}


def test_map_is_distributed_with_express_children_at_the_configured_concurrency(synthesized):
    deployed, substitutions = _deployed_definition(synthesized)
    rendered = re.sub(
        r"\$\{(\w+)\}",
        lambda m: substitutions[m.group(1)] if m.group(1) in ("MaxConcurrency", "MaxItemsPerBatch") else "x",
        deployed,
    )
    definition = json.loads(rendered)
    maps = [s for s in definition["States"].values() if s["Type"] == "Map"]
    assert len(maps) == 1
    (map_state,) = maps
    assert map_state["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}
    assert map_state["MaxConcurrency"] == synthesized.context["rootwatch:mapMaxConcurrency"]
    assert map_state["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"


def test_run_has_a_timeout_so_the_timed_out_alarm_can_fire(synthesized):
    deployed, _ = _deployed_definition(synthesized)
    definition = json.loads(re.sub(r"\$\{(\w+)\}", "1", deployed))
    assert 0 < definition["TimeoutSeconds"] <= 24 * 3600


def test_state_machine_logs_failures_without_execution_data_and_traces(synthesized):
    props = synthesized.one("AWS::StepFunctions::StateMachine")["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["LoggingConfiguration"]["Level"] == "ERROR"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False  # no account e-mails in the logs
    assert props["TracingConfiguration"] == {"Enabled": True}
    log_group = props["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]
    group = synthesized.resources[log_group["Fn::GetAtt"][0]]["Properties"]
    assert group["LogGroupName"].startswith("/aws/vendedlogs/states/")
    assert group["RetentionInDays"] == synthesized.context["rootwatch:logRetentionDays"]


# --- schedule ---------------------------------------------------------------------------------------------


def test_schedule_starts_the_state_machine_nightly_with_retries_and_a_dead_letter_queue(synthesized):
    schedule = synthesized.one("AWS::Scheduler::Schedule")["Properties"]
    assert schedule["ScheduleExpression"] == synthesized.context["rootwatch:scheduleCron"]
    assert schedule["ScheduleExpressionTimezone"] == synthesized.context["rootwatch:scheduleTimezone"]
    assert schedule["State"] == "ENABLED"
    target = schedule["Target"]
    assert target["Arn"] == {"Ref": _logical_id(synthesized, "AWS::StepFunctions::StateMachine", "WorkflowAuditRun")}
    assert json.loads(target["Input"]) == {"trigger": "schedule"}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 7200, "MaximumRetryAttempts": 3}
    queue = _logical_id(synthesized, "AWS::SQS::Queue", "SchedulingDeadLetters")
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}
    key = _logical_id(synthesized, "AWS::KMS::Key", "AlertingTopicKey")
    assert synthesized.resources[queue]["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}


# --- analytics -------------------------------------------------------------------------------------------


def test_glue_columns_come_from_the_record_model(synthesized):
    table = synthesized.one("AWS::Glue::Table")["Properties"]["TableInput"]
    columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
    assert columns == [(f.name, f.athena_type) for f in RECORD_FIELDS]
    assert table["PartitionKeys"] == [{"Name": "dt", "Type": "string", "Comment": "run date, UTC"}]
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"


def test_dt_is_a_projected_date_partition_over_results(synthesized):
    table = synthesized.one("AWS::Glue::Table")["Properties"]["TableInput"]
    bucket = _logical_id(synthesized, "AWS::S3::Bucket", "StorageResults")
    params = table["Parameters"]
    assert params["projection.enabled"] == "true"
    assert params["projection.dt.type"] == "date"
    assert params["projection.dt.format"] == "yyyy-MM-dd"
    assert params["projection.dt.range"].endswith(",NOW")
    assert params["projection.dt.interval.unit"] == "DAYS"
    assert params["storage.location.template"] == {"Fn::Join": ["", ["s3://", {"Ref": bucket}, "/results/dt=${dt}/"]]}
    assert table["StorageDescriptor"]["Location"] == {"Fn::Join": ["", ["s3://", {"Ref": bucket}, "/results/"]]}


def test_workgroup_has_its_own_encrypted_result_location_and_a_scan_cutoff(synthesized):
    workgroup = synthesized.one("AWS::Athena::WorkGroup")["Properties"]
    config = workgroup["WorkGroupConfiguration"]
    results_bucket = _logical_id(synthesized, "AWS::S3::Bucket", "AnalyticsQueryResults")
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["BytesScannedCutoffPerQuery"] == synthesized.context["rootwatch:athenaBytesScannedCutoffMb"] * 2**20
    assert config["ResultConfiguration"]["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    assert config["ResultConfiguration"]["OutputLocation"] == {
        "Fn::Join": ["", ["s3://", {"Ref": results_bucket}, "/"]]
    }


def test_every_query_file_becomes_a_named_query_on_the_glue_table(synthesized):
    from rootwatch_cli.analytics.catalog import load_queries

    queries = load_queries()
    assert len(queries) >= 6
    named = {q["Properties"]["Name"]: q["Properties"] for q in synthesized.of_type("AWS::Athena::NamedQuery").values()}
    prefix = synthesized.context["rootwatch:resourcePrefix"]
    assert set(named) == {f"{prefix}-{name}" for name in queries}
    for props in named.values():
        assert props["WorkGroup"] == prefix
        assert props["Database"] == prefix.replace("-", "_")
        assert f"FROM {prefix.replace('-', '_')}.results" in props["QueryString"]
        assert "{{" not in props["QueryString"]


# --- monitoring ---------------------------------------------------------------------------------------------


def test_alarms_cover_failures_audit_errors_and_a_missing_run_and_all_notify_the_topic(synthesized):
    topic = {"Ref": _logical_id(synthesized, "AWS::SNS::Topic", "AlertingAlerts")}
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"] for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()
    }
    prefix = synthesized.context["rootwatch:resourcePrefix"]
    expected = (
        "run-failed",
        "run-timed-out",
        "run-aborted",
        "audit-errors",
        "no-successful-run",
        "schedule-dead-letters",
    )
    assert set(alarms) == {f"{prefix}-{name}" for name in expected}
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [topic], name

    assert alarms[f"{prefix}-run-failed"]["MetricName"] == "ExecutionsFailed"
    assert alarms[f"{prefix}-run-timed-out"]["MetricName"] == "ExecutionsTimedOut"
    errors = alarms[f"{prefix}-audit-errors"]
    assert (errors["Namespace"], errors["MetricName"]) == ("rootwatch", "AuditErrors")
    assert errors["Dimensions"] == [{"Name": "service", "Value": "rootwatch"}]
    assert errors["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert errors["Threshold"] == 1


def test_no_successful_run_alarm_fires_after_26_hours_without_a_success(synthesized):
    prefix = synthesized.context["rootwatch:resourcePrefix"]
    (alarm,) = [
        a["Properties"]
        for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"] == f"{prefix}-no-successful-run"
    ]
    assert alarm["MetricName"] == "ExecutionsSucceeded"
    assert alarm["Period"] * alarm["EvaluationPeriods"] == 26 * 3600
    assert alarm["DatapointsToAlarm"] == alarm["EvaluationPeriods"]
    assert alarm["ComparisonOperator"] == "LessThanThreshold"
    assert alarm["Threshold"] == 1
    assert alarm["TreatMissingData"] == "breaching"  # no data at all is exactly the failure


def test_no_dashboard_its_three_dollars_a_month_bought_nothing_the_summary_and_alarms_do_not_give(synthesized):
    assert not synthesized.of_type("AWS::CloudWatch::Dashboard")


def test_the_placeholder_alert_address_warns_at_synth(synthesized):
    metadata = json.loads((synthesized.outdir / "rootwatch.metadata.json").read_text())
    warnings = [e["data"] for entries in metadata.values() for e in entries if e["type"] == "aws:cdk:warning"]
    assert synthesized.context["rootwatch:alertEmails"] == ["security-alerts@example.com"]
    assert any("rootwatch:alertEmails" in w and "placeholder" in w for w in warnings)


def test_every_log_group_is_on_the_stacks_key_and_the_key_lets_logs_use_it_for_exactly_those(synthesized):
    key = _logical_id(synthesized, "AWS::KMS::Key", "AlertingTopicKey")
    groups = synthesized.of_type("AWS::Logs::LogGroup").values()
    assert len(groups) == 4
    assert all(g["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key, "Arn"]} for g in groups)
    statements = synthesized.resources[key]["Properties"]["KeyPolicy"]["Statement"]
    (logs,) = [s for s in statements if s.get("Principal", {}).get("Service") == f"logs.{REGION}.amazonaws.com"]
    assert "kms:*" not in logs["Action"] and all("*" not in a for a in logs["Action"])
    arns = logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    assert sorted(arns) == sorted(
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{g['Properties']['LogGroupName']}" for g in groups
    )


def test_reserved_concurrency_bounds_the_audit_at_what_the_map_can_have_in_flight(synthesized):
    context = synthesized.context
    in_flight = context["rootwatch:mapMaxConcurrency"] * context["rootwatch:mapBatchSize"]
    reserved = {
        props["FunctionName"]: props["ReservedConcurrentExecutions"]
        for props in (f["Properties"] for f in synthesized.of_type("AWS::Lambda::Function").values())
    }
    assert reserved == {"rootwatch-prepare-run": 2, "rootwatch-audit-account": in_flight, "rootwatch-finish-run": 2}
