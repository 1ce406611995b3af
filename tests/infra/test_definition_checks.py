"""Synth refuses a broken state machine definition with one clear line (checked without a synth)."""

from __future__ import annotations

import pytest

from infra.definition import DEFINITION_FILE, DefinitionError, load_definition, result_writer_prefixes


def test_the_real_definition_loads_and_writes_map_results_under_its_own_prefix():
    definition = load_definition()
    assert definition["StartAt"]
    assert result_writer_prefixes(definition) == ["map-results/"]


def test_missing_definition_names_the_file(tmp_path):
    with pytest.raises(DefinitionError, match=r"audit_run\.asl\.json is missing"):
        load_definition(tmp_path / "audit_run.asl.json")


def test_unknown_placeholder_is_refused(tmp_path):
    path = tmp_path / "audit_run.asl.json"
    path.write_text(DEFINITION_FILE.read_text().replace("${ResultsBucket}", "${ResultBucket}", 1))
    with pytest.raises(DefinitionError, match=r"unknown placeholders \['ResultBucket'\]"):
        load_definition(path)


def test_unused_placeholder_is_refused_so_config_cannot_silently_miss_the_definition(tmp_path):
    path = tmp_path / "audit_run.asl.json"
    path.write_text(DEFINITION_FILE.read_text().replace("${MaxConcurrency}", "40"))
    with pytest.raises(DefinitionError, match=r"\['MaxConcurrency'\] are not used"):
        load_definition(path)


def test_invalid_json_is_refused_with_the_position(tmp_path):
    path = tmp_path / "audit_run.asl.json"
    path.write_text(DEFINITION_FILE.read_text().replace('"StartAt"', "StartAt", 1))
    with pytest.raises(DefinitionError, match=r"not valid JSON after substitution: .*line"):
        load_definition(path)


def _batch_worst_case_seconds() -> float:
    """A batch's child lasts as long as its slowest account (the inline Map runs every account at once); an
    account's worst case is every attempt its retriers allow running to the Lambda timeout, plus every wait."""
    from infra.functions import AUDIT_TIMEOUT_SECONDS

    definition = load_definition()
    processor = definition["States"]["AuditAccounts"]["ItemProcessor"]["States"]["AuditBatch"]
    task = processor["ItemProcessor"]["States"]["AuditAccount"]
    attempts, waits = 1, 0.0
    for retrier in task["Retry"]:
        attempts += retrier["MaxAttempts"]
        interval, cap = retrier["IntervalSeconds"], retrier.get("MaxDelaySeconds", float("inf"))
        waits += sum(min(interval * retrier["BackoffRate"] ** k, cap) for k in range(retrier["MaxAttempts"]))
    return attempts * AUDIT_TIMEOUT_SECONDS + waits


def test_a_batch_child_ends_inside_the_express_limit_whatever_its_accounts_do():
    from infra.definition import EXPRESS_LIMIT_SECONDS

    definition = load_definition()
    batch = definition["States"]["AuditAccounts"]["ItemProcessor"]["States"]["AuditBatch"]
    assert batch["MaxConcurrency"] == definition["States"]["AuditAccounts"]["ItemBatcher"]["MaxItemsPerBatch"]
    assert _batch_worst_case_seconds() < EXPRESS_LIMIT_SECONDS  # 10 attempts x 20 s + 68 s of waits = 268 s


def test_each_account_keeps_its_own_retry_and_catch_inside_the_batch():
    definition = load_definition()
    task = definition["States"]["AuditAccounts"]["ItemProcessor"]["States"]["AuditBatch"]["ItemProcessor"]["States"][
        "AuditAccount"
    ]
    (throttled,) = [r for r in task["Retry"] if r["ErrorEquals"] == ["ThrottledError"]]
    assert task["Parameters"]["Payload"]["max_retries"] == throttled["MaxAttempts"]
    assert task["Catch"][0]["ErrorEquals"] == ["States.ALL"] and task["Catch"][0]["Next"] == "AuditNotRecorded"
