"""Synth refuses a broken state machine definition with one clear line (checked without a synth)."""

from __future__ import annotations

import pytest

from infra.workflow import DEFINITION_FILE, DefinitionError, load_definition, result_writer_prefixes


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
