"""localize_definition: the AWS definition, made parseable by moto 5.2.5 without changing what it means."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from rootwatch_sandbox import runtime
from rootwatch_sandbox.runtime import definitions, stepfunctions_patches

from infra.definition import DEFINITION_FILE

runtime.install_step_functions()
moto_parse = AmazonStateLanguageParser.parse.__wrapped__  # moto's own parser, without the sandbox's localization


def _distributed_map(**fields: Any) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket": "bucket", "Key": "manifests/run.json"},
        },
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            "StartAt": "Work",
            "States": {"Work": {"Type": "Pass", "End": True}},
        },
        "ToleratedFailurePercentage": 5,
        "End": True,
    }
    state.update(fields)
    return state


def _definition(state: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": "Map", "States": {"Map": state}}


def test_moto_rejects_the_aws_definition_as_written() -> None:
    with pytest.raises(Exception, match="EXPRESS"):
        moto_parse(json.dumps(_definition(_distributed_map())))


def test_express_children_and_integer_tolerance_become_what_moto_parses() -> None:
    localized = definitions.localize_definition(_definition(_distributed_map()))

    state = localized["States"]["Map"]
    assert state["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert state["ToleratedFailurePercentage"] == 5.0
    assert isinstance(state["ToleratedFailurePercentage"], float)
    moto_parse(json.dumps(localized))


def test_result_writer_v2_config_is_dropped_and_a_writer_without_resource_goes_with_it() -> None:
    with_resource = _distributed_map(
        ResultWriter={
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "bucket", "Prefix": "map-results"},
            "WriterConfig": {"OutputType": "JSONL", "Transformation": "COMPACT"},
        }
    )
    without_resource = _distributed_map(ResultWriter={"WriterConfig": {"OutputType": "JSON", "Transformation": "NONE"}})

    kept = definitions.localize_definition(_definition(with_resource))["States"]["Map"]
    dropped = definitions.localize_definition(_definition(without_resource))["States"]["Map"]

    assert kept["ResultWriter"] == {
        "Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": "bucket", "Prefix": "map-results"},
    }
    assert "ResultWriter" not in dropped
    moto_parse(json.dumps(definitions.localize_definition(_definition(with_resource))))


def test_maps_nested_in_parallel_branches_and_map_processors_are_localized() -> None:
    inner = _distributed_map()
    outer = _distributed_map()
    outer["ItemProcessor"]["States"] = {"Inner": inner}
    outer["ItemProcessor"]["StartAt"] = "Inner"
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {"Type": "Parallel", "Branches": [{"StartAt": "Map", "States": {"Map": outer}}], "End": True}
        },
    }

    localized = definitions.localize_definition(definition)

    branch_map = localized["States"]["Both"]["Branches"][0]["States"]["Map"]
    nested = branch_map["ItemProcessor"]["States"]["Inner"]
    assert branch_map["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] == "STANDARD"
    assert nested["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] == "STANDARD"
    assert nested["ToleratedFailurePercentage"] == 5.0
    moto_parse(json.dumps(localized))


def test_localizing_is_idempotent_accepts_text_and_never_mutates_its_argument() -> None:
    original = _definition(_distributed_map())
    untouched = copy.deepcopy(original)

    once = definitions.localize_definition(original)

    assert original == untouched
    assert definitions.localize_definition(once) == once
    assert definitions.localize_definition(json.dumps(original)) == once


def test_a_definition_moto_already_parses_is_unchanged() -> None:
    definition = _definition(_distributed_map(ToleratedFailurePercentage=5.0))
    definition["States"]["Map"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = "STANDARD"
    definition["States"]["Map"]["Parameters"] = {"ToleratedFailurePercentage": 7, "ExecutionType": "EXPRESS"}

    assert definitions.localize_definition(definition) == definition


def test_the_projects_state_machine_parses_in_moto_once_localized() -> None:
    text = DEFINITION_FILE.read_text(encoding="utf-8")
    for name, value in {
        "PrepareRunFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:prepare",
        "AuditAccountFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:audit",
        "FinishRunFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:finish",
        "ResultsBucket": "results-bucket",
        "MaxConcurrency": "10",
        "MaxItemsPerBatch": "25",
    }.items():
        text = text.replace("${" + name + "}", value)

    moto_parse(json.dumps(definitions.without_item_batchers(definitions.localize_definition(text))))


def test_a_definition_that_is_not_an_object_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="definition"):
        definitions.localize_definition("[1, 2]")


def test_retry_waits_follow_the_retry_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(stepfunctions_patches.time, "sleep", slept.append)
    scaled = stepfunctions_patches._ScaledTime()

    runtime.set_retry_scale(0.001)
    scaled.sleep(4)
    runtime.set_retry_scale(None)
    monkeypatch.setenv(runtime.RETRY_SCALE_ENV, "0.5")
    scaled.sleep(4)
    monkeypatch.delenv(runtime.RETRY_SCALE_ENV)
    scaled.sleep(4)

    assert slept == [pytest.approx(0.004), 2.0, 4.0]


def test_a_negative_retry_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="retry scale"):
        runtime.set_retry_scale(-1)
