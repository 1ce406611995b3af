"""Security Hub and EventBridge are off by default; each key adds FinishRun's variable and one statement, no more."""

from __future__ import annotations

from typing import Any

import pytest
from rootwatch_sandbox.cloudformation import synthesize

from infra.config import ConfigError, load_config
from tests.integration.stack_context import PIPELINE, pipeline

BOTH = {"rootwatch:securityHubEnabled": True, "rootwatch:eventBridgeEnabled": True}


def _finish(template: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """FinishRun's environment variables and its role's statements."""
    resources = template["Resources"]
    function = next(
        r
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function" and "FinishRun" in str(r["Properties"]["Role"])
    )
    statements = [
        statement
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and "FinishRunRole" in str(r["Properties"]["Roles"])
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    return function["Properties"]["Environment"]["Variables"], statements


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


def test_both_are_off_by_default_and_a_bad_value_names_the_key():
    config = load_config({"rootwatch:alertEmails": ["security@example.org"]})
    assert (config.security_hub_enabled, config.event_bridge_enabled) == (False, False)
    assert load_config(
        {"rootwatch:alertEmails": "a@example.org", "rootwatch:securityHubEnabled": "true"}
    ).security_hub_enabled
    with pytest.raises(ConfigError, match="rootwatch:eventBridgeEnabled"):
        load_config({"rootwatch:alertEmails": "a@example.org", "rootwatch:eventBridgeEnabled": "yes"})


def test_off_finish_run_has_neither_variable_nor_permission():
    variables, statements = _finish(synthesize(PIPELINE).template)
    assert not {"SECURITY_HUB_PRODUCT_ARN", "EVENT_BUS_ARN"} & set(variables)
    assert not {a for a in _actions(statements) if a.startswith(("securityhub:", "events:"))}


def test_on_finish_run_imports_to_its_default_product_and_puts_on_the_default_bus_only():
    template = synthesize(pipeline(securityHubEnabled=True, eventBridgeEnabled=True)).template
    variables, statements = _finish(template)
    assert "SECURITY_HUB_PRODUCT_ARN" in variables and "EVENT_BUS_ARN" in variables
    (hub,) = [s for s in statements if "securityhub:BatchImportFindings" in _actions([s])]
    (bus,) = [s for s in statements if "events:PutEvents" in _actions([s])]
    assert _actions([hub]) == {"securityhub:BatchImportFindings"} and _actions([bus]) == {"events:PutEvents"}
    assert ":product/" in str(hub["Resource"]) and "/default" in str(hub["Resource"])
    assert "event-bus/default" in str(bus["Resource"])
    assert {a for a in _actions(statements) if a.startswith(("securityhub:", "events:"))} == {
        "securityhub:BatchImportFindings",
        "events:PutEvents",
    }
    for other in ("PrepareRunRole", "AuditAccountRole", "StateMachineRole"):
        policies = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy" and other in str(r)]
        assert "securityhub:" not in str(policies) and "events:PutEvents" not in str(policies)


def test_on_each_delivery_has_an_alarm_on_its_failures_and_off_there_is_none():
    def alarms(template: dict[str, Any]) -> set[str]:
        return {
            r["Properties"].get("MetricName")
            for r in template["Resources"].values()
            if r["Type"] == "AWS::CloudWatch::Alarm"
        }

    assert not {"SecurityHubFindingsFailed", "EventsFailed"} & alarms(synthesize(PIPELINE).template)
    on = alarms(synthesize(pipeline(securityHubEnabled=True, eventBridgeEnabled=True)).template)
    assert {"SecurityHubFindingsFailed", "EventsFailed"} <= on
