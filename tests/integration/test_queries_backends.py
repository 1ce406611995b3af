"""The remote backends of `rootwatch query`: a results bucket (the sandbox's S3) and Athena.

moto's Athena never runs SQL: it answers with canned result sets. So these tests prove what can be
proved against it: the query starts in the right workgroup and database, the poller waits through
QUEUED/RUNNING while reporting progress, the header row is dropped and values are typed from the
column metadata. Paging across several get_query_results pages, a FAILED query and the timeout are
driven with botocore's Stubber on a real Athena client, because moto never returns a NextToken or a
failed state.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber
from moto.athena.models import QueryResults, athena_backends
from moto.moto_api import state_manager
from rootwatch_cli import main
from rootwatch_cli.analytics.athena import AthenaBackend
from rootwatch_cli.analytics.catalog import QueryError, bind, get_query
from rootwatch_cli.analytics.history import generate_history

REGION = "us-east-1"
ACCOUNT = "123456789012"


def header(*names):
    return {"Data": [{"VarCharValue": name} for name in names]}


def row(*values):
    return {"Data": [{} if value is None else {"VarCharValue": value} for value in values]}


COLUMNS = [
    {"Name": "account_id", "Type": "varchar"},
    {"Name": "errors", "Type": "bigint"},
    {"Name": "failing_every_audit", "Type": "boolean"},
    {"Name": "last_error_message", "Type": "varchar"},
]


# --- the results bucket (sandbox) -------------------------------------------------------------------


def upload_history(s3, bucket, folder):
    for path in sorted((folder / "results").rglob("*.json.gz")):
        s3.put_object(Bucket=bucket, Key=str(path.relative_to(folder)), Body=path.read_bytes())


def test_bucket_backend_downloads_the_run_objects_and_queries_them(sandbox, tmp_path, capsys):
    generate_history(tmp_path, days=5, accounts=25, seed=2)
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="rootwatch-results")
    upload_history(s3, "rootwatch-results", tmp_path)
    s3.put_object(Bucket="rootwatch-results", Key="manifests/run-1.json", Body=b"[]")  # not a result: ignored

    assert main(["query", "daily_trend", "--param", "days=5", "--bucket", "rootwatch-results", "--format", "json"]) == 0
    from_bucket = json.loads(capsys.readouterr().out)
    assert main(["query", "daily_trend", "--param", "days=5", "--results", str(tmp_path), "--format", "json"]) == 0
    from_folder = json.loads(capsys.readouterr().out)
    assert len(from_bucket) == 5
    assert from_bucket == from_folder


def test_bucket_backend_names_a_missing_bucket(sandbox, capsys):
    assert main(["query", "latest_state", "--bucket", "no-such-bucket"]) == 2
    assert "error: --bucket no-such-bucket: NoSuchBucket" in capsys.readouterr().err


def test_bucket_backend_over_a_sandbox_endpoint_url(tmp_path, capsys, monkeypatch):
    from moto.server import ThreadedMotoServer

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    capsys.readouterr()  # moto prints its banner on stdout
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        generate_history(tmp_path, days=3, accounts=20, seed=4)
        s3 = boto3.client("s3", region_name=REGION, endpoint_url=endpoint)
        s3.create_bucket(Bucket="rootwatch-results-123456789012")
        s3.create_bucket(Bucket="someone-elses-bucket")
        upload_history(s3, "rootwatch-results-123456789012", tmp_path)
        # No --bucket: with a sandbox endpoint, the bucket holding results/ is found by itself.
        assert main(["query", "never_audited", "--endpoint-url", endpoint, "--format", "json"]) == 0
    finally:
        server.stop()
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_sandbox_bucket_discovery_explains_none_and_several(sandbox, tmp_path, capsys):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="unrelated")
    argv = ["query", "latest_state", "--endpoint-url", "https://s3.us-east-1.amazonaws.com"]  # moto in-process
    assert main(argv) == 2
    assert "no bucket there holds results/ yet" in capsys.readouterr().err
    for bucket in ("results-a", "results-b"):
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="results/dt=2026-01-01/r.json.gz", Body=b"")
    assert main(argv) == 2
    assert "several buckets hold results (results-a, results-b); name one" in capsys.readouterr().err


# --- Athena against moto ----------------------------------------------------------------------------


@pytest.fixture
def athena(sandbox):
    client = boto3.client("athena", region_name=REGION)
    client.create_work_group(Name="rootwatch", Configuration={"EnforceWorkGroupConfiguration": True})
    state_manager.set_transition(model_name="athena::execution", transition={"progression": "manual", "times": 2})
    yield client
    state_manager.unset_transition(model_name="athena::execution")


def queue_results(rows):
    athena_backends[ACCOUNT][REGION].query_results_queue.append(QueryResults(rows=rows, column_info=COLUMNS))


def test_athena_query_starts_in_the_workgroup_waits_with_progress_and_types_values(athena):
    queue_results(
        [
            header("account_id", "errors", "failing_every_audit", "last_error_message"),
            row("333333333333", "6", "true", "explicit deny in an SCP"),
            row("444444444444", "1", "false", None),
        ]
    )
    seen = []
    backend = AthenaBackend(
        athena,
        workgroup="rootwatch",
        database="rootwatch_db",
        progress=lambda s, t, b: seen.append(s),
        sleep=lambda _: None,
    )
    sql = bind(get_query("audit_errors"), {"days": "7"}, table=backend.table)
    result = backend.run(sql)

    assert result.columns == ["account_id", "errors", "failing_every_audit", "last_error_message"]
    assert result.rows == [
        {
            "account_id": "333333333333",
            "errors": 6,
            "failing_every_audit": True,
            "last_error_message": "explicit deny in an SCP",
        },
        {"account_id": "444444444444", "errors": 1, "failing_every_audit": False, "last_error_message": None},
    ]
    assert seen[0] == "QUEUED" and "RUNNING" in seen and seen[-1] == "SUCCEEDED"
    execution = athena.get_query_execution(QueryExecutionId=result.stats["query_execution_id"])["QueryExecution"]
    assert execution["WorkGroup"] == "rootwatch"
    assert execution["QueryExecutionContext"]["Database"] == "rootwatch_db"
    assert "FROM results" in execution["Query"] and "1 - 7" in execution["Query"]


def test_athena_cli_runs_a_named_query(athena, capsys):
    queue_results(
        [
            header("account_id", "errors", "failing_every_audit", "last_error_message"),
            row("333333333333", "2", "true", "denied"),
        ]
    )
    argv = ["query", "audit_errors", "--athena", "--workgroup", "rootwatch", "--database", "rw", "--format", "json"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)[0]["errors"] == 2


# --- Athena paging, failure and timeout (Stubber: moto cannot produce these) ------------------------


def stubbed_client():
    client = boto3.client("athena", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def execution(state, reason=None):
    status = {"State": state, "SubmissionDateTime": datetime(2026, 1, 1, tzinfo=UTC)}
    if reason:
        status["StateChangeReason"] = reason
    return {"QueryExecution": {"QueryExecutionId": "q-1", "Status": status, "Statistics": {"DataScannedInBytes": 2048}}}


def test_athena_pages_through_every_result_page_and_drops_only_the_first_header():
    client, stub = stubbed_client()
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q-1"},
        {"QueryString": "SELECT 1", "QueryExecutionContext": {"Database": "db"}, "WorkGroup": "wg"},
    )
    stub.add_response("get_query_execution", execution("RUNNING"), {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", execution("SUCCEEDED"), {"QueryExecutionId": "q-1"})
    meta = {"ColumnInfo": [{"Name": "n", "Type": "integer"}]}
    stub.add_response(
        "get_query_results",
        {"ResultSet": {"Rows": [header("n"), row("1"), row("2")], "ResultSetMetadata": meta}, "NextToken": "t2"},
        {"QueryExecutionId": "q-1", "MaxResults": 1000},
    )
    stub.add_response(
        "get_query_results",
        {"ResultSet": {"Rows": [row("3")], "ResultSetMetadata": meta}},
        {"QueryExecutionId": "q-1", "MaxResults": 1000, "NextToken": "t2"},
    )
    with stub:
        result = AthenaBackend(client, workgroup="wg", database="db", sleep=lambda _: None).run("SELECT 1")
    stub.assert_no_pending_responses()
    assert [r["n"] for r in result.rows] == [1, 2, 3]
    assert result.stats["data_scanned_bytes"] == 2048


def test_athena_failed_query_is_a_query_error_with_athenas_reason():
    client, stub = stubbed_client()
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    stub.add_response(
        "get_query_execution", execution("FAILED", "COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved")
    )
    with stub, pytest.raises(QueryError, match="Athena query q-1 FAILED: COLUMN_NOT_FOUND: line 1:8"):
        AthenaBackend(client, sleep=lambda _: None).run("SELECT x FROM results")


def test_athena_query_refused_at_start_is_a_query_error():
    client, stub = stubbed_client()
    stub.add_client_error("start_query_execution", "InvalidRequestException", "WorkGroup rootwatch is not found.")
    with (
        stub,
        pytest.raises(QueryError, match="Athena refused the query: InvalidRequestException: WorkGroup rootwatch"),
    ):
        AthenaBackend(client).run("SELECT 1")


def test_athena_query_that_runs_too_long_is_stopped():
    client, stub = stubbed_client()
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", execution("RUNNING"))
    stub.add_response("get_query_execution", execution("RUNNING"))
    stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-1"})
    ticks = iter([0.0, 1.0, 99.0])
    backend = AthenaBackend(client, timeout_seconds=30, sleep=lambda _: None, clock=lambda: next(ticks))
    with stub, pytest.raises(QueryError, match="still RUNNING after 30 s; stopped it"):
        backend.run("SELECT 1")
    stub.assert_no_pending_responses()


def test_report_footer_names_the_real_source_not_athena(sandbox, tmp_path, capsys):
    generate_history(tmp_path, days=3, accounts=10, seed=3)
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="rootwatch-results-x")
    upload_history(s3, "rootwatch-results-x", tmp_path)
    endpoint = "https://s3.us-east-1.amazonaws.com"  # moto in-process: a sandbox endpoint, no --bucket
    output = tmp_path / "report.html"
    assert main(["report", "--endpoint-url", endpoint, "--output", str(output)]) == 0
    footer = output.read_text().split("<footer>")[1]
    assert f"(bucket s3://rootwatch-results-x/results/ at {endpoint}, through DuckDB)" in footer
    assert "Athena" not in footer
    assert main(["report", "--results", str(tmp_path), "--output", str(output)]) == 0
    assert f"(folder {tmp_path}, through DuckDB)" in output.read_text().split("<footer>")[1]
