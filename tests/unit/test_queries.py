"""The named query files: headers, parameters, and that every one is valid Trino (Athena) SQL."""

from __future__ import annotations

import re

import pytest
import sqlglot
from rootwatch.domain.records import RECORD_FIELDS
from rootwatch_cli.analytics.catalog import (
    ParameterError,
    QueryError,
    UnknownQueryError,
    bind,
    get_query,
    load_queries,
    named_query_sql,
    parse_param_args,
    parse_query,
)
from rootwatch_cli.analytics.local import duckdb_columns, to_duckdb

REQUIRED = {"latest_state", "with_root_credentials", "reappearances", "audit_errors", "daily_trend", "never_audited"}
SAMPLE_VALUES = {"account_id": "111122223333", "days": "7"}


def sample_values(query):
    return {p.name: SAMPLE_VALUES[p.name] for p in query.params if p.name in SAMPLE_VALUES}


def test_the_required_named_queries_exist_with_descriptions():
    queries = load_queries()
    assert set(queries) >= REQUIRED
    for query in queries.values():
        assert len(query.description) > 30, query.name
        assert "{{table}}" in query.body, query.name


@pytest.mark.parametrize("name", sorted(load_queries()))
def test_each_query_parses_as_trino_sql_and_translates_to_duckdb(name):
    query = get_query(name)
    sql = bind(query, sample_values(query), table="rootwatch.results")
    assert "{{" not in sql
    tree = sqlglot.parse_one(sql, read="trino")
    assert tree.find(sqlglot.exp.Select) is not None
    assert "rootwatch.results" in tree.sql(dialect="trino")
    assert to_duckdb(sql)


@pytest.mark.parametrize("name", sorted(load_queries()))
def test_each_athena_named_query_text_is_complete_trino_sql(name):
    sql = named_query_sql(get_query(name), table="rootwatch_results")
    assert "{{" not in sql
    assert sql.startswith("-- ")
    sqlglot.parse_one(sql, read="trino")


def test_queries_only_use_record_columns_that_exist():
    known = {spec.name for spec in RECORD_FIELDS} | {"dt"}
    record_like = re.compile(
        r"\b(\w+_present|\w+_at|exempt\w*|error_\w+|account_\w+|first_audit|appeared|disappeared)\b"
    )
    for query in load_queries().values():
        for column in record_like.findall(query.body):
            if column.endswith("_at") and column not in known:
                continue  # aliases such as last_ok_at, first_error_at are computed in the query
            if column in {"present_since"}:
                continue
            assert column in known, f"{query.name}: {column}"


def test_duckdb_view_columns_come_from_the_record_contract():
    columns = duckdb_columns()
    assert list(columns) == [spec.name for spec in RECORD_FIELDS]
    assert columns["appeared"] == "VARCHAR[]"
    assert columns["exempt"] == "BOOLEAN"
    assert columns["active_access_keys"] == "INTEGER"


def test_default_parameters_are_inlined():
    sql = bind(get_query("reappearances"), {}, table="results")
    assert "date_add('day', 1 - 30, current_date)" in sql


def test_unknown_query_name_lists_the_available_ones():
    with pytest.raises(UnknownQueryError) as info:
        get_query("latest_states")
    assert "no query named 'latest_states'" in str(info.value)
    assert "latest_state" in str(info.value) and "daily_trend" in str(info.value)


@pytest.mark.parametrize(
    ("name", "values", "message"),
    [
        ("reappearances", {"days": "seven"}, "--param days: 'seven' is not an integer"),
        ("reappearances", {"days": "0"}, "--param days: 0 is out of range (1 to 3650)"),
        ("reappearances", {"days": "1; DROP TABLE x"}, "is not an integer"),
        ("reappearances", {"day": "7"}, "--param day: query 'reappearances' has no such parameter (parameters: days)"),
        ("latest_state", {"days": "7"}, "(parameters: none)"),
        ("account_history", {}, "--param account_id: required by query 'account_history'"),
        ("account_history", {"account_id": "1234' OR '1'='1"}, "is not a 12-digit AWS account id"),
    ],
)
def test_bad_parameters_get_a_message_naming_the_parameter(name, values, message):
    with pytest.raises(ParameterError) as info:
        bind(get_query(name), values, table="results")
    assert message in str(info.value)


def test_param_pairs_must_be_name_equals_value_and_unique():
    assert parse_param_args(["days=7", "account_id=111122223333"]) == {"days": "7", "account_id": "111122223333"}
    with pytest.raises(ParameterError, match="expected NAME=VALUE"):
        parse_param_args(["days"])
    with pytest.raises(ParameterError, match="given twice"):
        parse_param_args(["days=1", "days=2"])


def test_a_query_file_with_an_undeclared_placeholder_is_rejected():
    with pytest.raises(QueryError, match=r"placeholder \{\{days\}\} has no '-- param' line"):
        parse_query("broken", "-- description: something long enough\nSELECT {{days}} FROM {{table}}")


def test_a_query_file_without_a_description_is_rejected():
    with pytest.raises(QueryError, match="needs a '-- description:' line"):
        parse_query("broken", "SELECT 1 FROM {{table}}")


def test_table_must_be_a_plain_identifier():
    with pytest.raises(QueryError, match="not a plain identifier"):
        bind(get_query("latest_state"), {}, table="results; DROP TABLE x")


def test_sql_that_is_not_trino_gets_the_parser_message():
    with pytest.raises(QueryError, match="does not parse as Trino/Athena SQL"):
        to_duckdb("SELEC 1 FROM")
