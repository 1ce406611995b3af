"""The pipeline's adapters against the sandbox's DynamoDB, S3 and SNS: state, history, results, alerts."""

from __future__ import annotations

import gzip
import json

import boto3
import pytest
from rootwatch.aws.notifier import Notifier
from rootwatch.aws.results_writer import ResultsWriter, results_key
from rootwatch.aws.status_store import LATEST_SHARDS, StatusStore, latest_pk
from rootwatch.domain.alert import compose_alert
from rootwatch.domain.findings import with_findings
from rootwatch.domain.records import RECORD_FIELDS, AuditRecord, AuditStatus

ACCOUNT = "111111111111"
NOW = 1_800_000_000


def make_table(name: str = "status") -> None:
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def store(sandbox):
    make_table()
    return StatusStore(boto3.client("dynamodb"), "status", history_ttl_days=30, clock=lambda: NOW)


def ok(run_id, *kinds, account=ACCOUNT, day="22"):
    return AuditRecord(
        run_id=run_id,
        scanned_at=f"2026-11-{day}T02:00:00Z",
        account_id=account,
        account_name="prod",
        status=AuditStatus.OK,
        password_present="password" in kinds,
        access_keys_present="access_keys" in kinds,
        signing_certificates_present=False,
        mfa_enabled="mfa" in kinds,
        root_credentials_present=bool(kinds),
    )


def failed(run_id, account=ACCOUNT, day="23"):
    return AuditRecord(
        run_id=run_id,
        scanned_at=f"2026-11-{day}T02:00:00Z",
        account_id=account,
        account_name="prod",
        status=AuditStatus.ERROR,
        error_code="ACCESS_DENIED",
        error_message="explicit deny in a service control policy",
    )


def night(store, record):
    """One account in one finished run: audited, its alert out, the alerted baseline committed by FinishRun."""
    stored = store.record_audit(record)
    store.commit_alerted([stored])
    return stored


def test_first_audit_has_no_appeared_and_a_later_new_credential_appears(store):
    first = night(store, ok("n1", "mfa"))
    assert first.first_audit and first.appeared == []
    second = night(store, ok("n2", "mfa", "password", day="23"))
    assert not second.first_audit and second.appeared == ["password"] and second.disappeared == []


def test_removed_credential_is_reported_as_disappeared(store):
    night(store, ok("n1", "mfa", "access_keys"))
    assert night(store, ok("n2", "mfa", day="23")).disappeared == ["access_keys"]


def test_error_keeps_the_last_successful_flags_in_the_latest_item(store):
    night(store, ok("n1", "password"))
    error = night(store, failed("n2"))
    latest = store.latest(ACCOUNT)
    assert error.password_present is None and error.appeared == [] and not error.first_audit
    assert latest["password_present"] is True and latest["known_kinds"] == ["password"]
    assert latest["last_status"] == "ERROR" and latest["last_error_code"] == "ACCESS_DENIED"
    assert latest["last_success_run_id"] == "n1"


def test_transition_after_an_error_is_computed_against_the_last_success(store):
    night(store, ok("n1"))
    night(store, failed("n2"))
    third = night(store, ok("n3", "password", day="24"))
    assert third.appeared == ["password"] and not third.first_audit
    assert store.latest(ACCOUNT)["last_error_code"] is None


def test_repeating_an_audit_in_the_same_run_gives_the_same_transition(store):
    night(store, ok("n1"))
    once = store.record_audit(ok("n2", "password", day="23"))
    again = store.record_audit(ok("n2", "password", day="23"))
    assert once.appeared == again.appeared == ["password"]
    assert store.latest(ACCOUNT)["alerted_run_id"] == "n1"
    store.commit_alerted([again])
    assert store.latest(ACCOUNT)["alerted_run_id"] == "n2" and store.latest(ACCOUNT)["alerted_kinds"] == ["password"]


def test_re_running_a_committed_run_gives_the_same_transition(store):
    night(store, ok("n1", "mfa"))
    first = night(store, ok("n2", "password", day="23"))
    again = store.record_audit(ok("n2", "password", day="23"))  # n2 re-run after its FinishRun committed
    assert first.appeared == again.appeared == ["password"] and first.disappeared == again.disappeared == ["mfa"]
    assert not again.first_audit


def test_a_run_that_never_committed_leaves_the_appearance_for_the_next_run(store):
    night(store, ok("n1"))
    lost = store.record_audit(ok("n2", "password", day="23"))  # FinishRun of n2 died before committing
    assert lost.appeared == ["password"]
    again = night(store, ok("n3", "password", day="24"))
    assert again.appeared == ["password"] and not again.first_audit
    assert night(store, ok("n4", "password", day="25")).appeared == []


def test_an_older_run_never_moves_the_alerted_baseline_back(store):
    night(store, ok("n1"))
    late = store.record_audit(ok("n2", "password", day="23"))
    night(store, ok("n3", day="24"))
    assert store.commit_alerted([late]) == 0  # n2 redriven after n3 audited the account again
    assert store.latest(ACCOUNT)["alerted_run_id"] == "n1" and store.latest(ACCOUNT)["alerted_kinds"] == []


def test_an_item_from_before_the_alerted_baseline_adopts_its_last_baseline_once(store):
    """rootwatch 0.1 kept only ``known`` (and ``baseline``): an upgrade must not re-report every account."""
    client = boto3.client("dynamodb")
    known = {"M": {"kinds": {"L": [{"S": "mfa"}]}, "run_id": {"S": "old"}, "scanned_at": {"S": "2026-11-21T02:00:00Z"}}}
    client.put_item(TableName="status", Item={"pk": {"S": "LATEST"}, "sk": {"S": ACCOUNT}, "known": known})
    upgraded = store.record_audit(ok("n1", "mfa", "password"))
    assert not upgraded.first_audit and upgraded.appeared == ["password"]
    assert store.latest(ACCOUNT)["alerted_run_id"] == "old"


def test_run_records_include_every_account_of_that_run_only(store):
    night(store, ok("n1", account="111111111111"))
    night(store, ok("n1", account="222222222222"))
    night(
        store,
        AuditRecord(
            run_id="n1",
            scanned_at="2026-11-22T02:00:00Z",
            account_id="333333333333",
            status=AuditStatus.SKIPPED,
            error_code="SUSPENDED",
            error_message="suspended",
        ),
    )
    night(store, ok("n2", account="111111111111", day="23"))
    records = store.run_records("n1")
    assert [r.account_id for r in records] == ["111111111111", "222222222222", "333333333333"]
    assert records[2].status == "SKIPPED"


def test_history_items_expire_after_the_configured_days(store):
    night(store, ok("n1"))
    items = boto3.client("dynamodb").scan(TableName="status")["Items"]
    expiring = [i for i in items if not i["pk"]["S"].startswith("LATEST")]
    assert expiring and all(int(i["expires_at"]["N"]) == NOW + 30 * 86400 for i in expiring)
    assert "expires_at" not in next(i for i in items if i["pk"]["S"].startswith("LATEST#"))
    assert [r.run_id for r in store.history(ACCOUNT)] == ["n1"]


def test_alert_marker_is_written_only_when_the_alert_was_sent(store):
    assert store.alert_sent("n1") is False
    store.mark_alert_sent("n1", "subject", "message-1")
    assert store.alert_sent("n1") is True and store.alert_sent("n2") is False


def test_results_object_is_gzip_json_lines_with_every_contract_field(sandbox):
    boto3.client("s3").create_bucket(Bucket="results")
    writer = ResultsWriter(boto3.client("s3"), "results")
    records = [ok("run-1", "password"), failed("run-1", account="222222222222")]
    key = writer.write_results("run-1", "2026-11-22T02:00:00Z", records)
    assert key == "results/dt=2026-11-22/run-1.json.gz" == results_key("run-1", "2026-11-22T02:00:00Z")
    body = boto3.client("s3").get_object(Bucket="results", Key=key)["Body"].read()
    lines = [json.loads(line) for line in gzip.decompress(body).decode().splitlines()]
    assert [list(line) for line in lines] == [[f.name for f in RECORD_FIELDS]] * 2
    assert lines[1]["status"] == "ERROR" and lines[1]["password_present"] is None
    assert writer.read_results("run-1", "2026-11-22T02:00:00Z") == [with_findings(r) for r in records]
    assert lines[0]["severity"] == "critical" and lines[0]["finding_kinds"][0] == "password_without_mfa"
    assert lines[1]["severity"] == "critical" and lines[1]["finding_kinds"] == ["audit_error"]


def test_run_id_that_would_escape_the_prefix_is_refused():
    with pytest.raises(ValueError, match="run_id"):
        results_key("../../etc", "2026-11-22T02:00:00Z")


def test_alert_reaches_sqs_subscribers_as_contract_json_with_event_type(sandbox, store):
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    record = ok("n2", "password")
    record.appeared = ["password"]
    alert = compose_alert([record], run_id="n2", organization_id="o-1", scanned_at="t")
    notifier = Notifier(sns, topic)
    assert notifier.publish_once(alert, sent=store.alert_sent, mark_sent=store.mark_alert_sent)
    assert notifier.publish_once(alert, sent=store.alert_sent, mark_sent=store.mark_alert_sent) is None
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    envelope = json.loads(messages[0]["Body"])
    assert envelope["Subject"] == alert.subject
    assert envelope["MessageAttributes"]["event_type"]["Value"] == "ROOT_CREDENTIALS_ALERT"
    assert json.loads(envelope["Message"]) == alert.document


# --- the store against the pure transition rules, over random histories ------------------------------------

KIND_NAMES = ["password", "access_keys", "mfa"]


def _record(run_id: str, night: int, status: str, kinds: frozenset[str]) -> AuditRecord:
    if status != AuditStatus.OK:
        return AuditRecord(
            run_id=run_id,
            scanned_at=f"2026-11-{night + 1:02d}T02:00:00Z",
            account_id=ACCOUNT,
            status=status,
            error_code="ACCESS_DENIED",
            error_message="denied",
        )
    return AuditRecord(
        run_id=run_id,
        scanned_at=f"2026-11-{night + 1:02d}T02:00:00Z",
        account_id=ACCOUNT,
        status=AuditStatus.OK,
        password_present="password" in kinds,
        access_keys_present="access_keys" in kinds,
        signing_certificates_present=False,
        mfa_enabled="mfa" in kinds,
        root_credentials_present=bool(kinds),
    )


def test_store_matches_the_transition_rules_over_random_nights_with_errors_and_retries(sandbox):
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from rootwatch.domain.transitions import compute_transition, next_baseline

    nights = st.lists(
        st.tuples(
            st.sampled_from([AuditStatus.OK, AuditStatus.OK, AuditStatus.ERROR]),
            st.frozensets(st.sampled_from(KIND_NAMES)),
            st.booleans(),
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
    )
    tables = iter(range(10_000))

    @settings(max_examples=25, deadline=None)
    @given(nights)
    def check(history):
        name = f"status-{next(tables)}"
        make_table(name)
        store = StatusStore(boto3.client("dynamodb"), name)
        baseline = None
        for night, (status, kinds, retried, finished) in enumerate(history):
            run_id = f"n{night}"
            expected = compute_transition(baseline, status, kinds)
            got = store.record_audit(_record(run_id, night, status, kinds))
            if retried:  # the same audit again in the same run (a Step Functions retry or a redrive)
                got = store.record_audit(_record(run_id, night, status, kinds))
            assert (tuple(got.appeared), tuple(got.disappeared), got.first_audit) == (
                expected.appeared,
                expected.disappeared,
                expected.first_audit,
            )
            if finished:  # FinishRun published and committed; otherwise it died and the baseline stays
                store.commit_alerted([got])
                baseline = next_baseline(baseline, status, kinds, run_id)
            latest = store.latest(ACCOUNT)
            assert latest["last_run_id"] == run_id and latest["last_status"] == status
            assert set(latest["alerted_kinds"]) == (set(baseline.kinds) if baseline else set())
            if status == AuditStatus.OK:
                assert set(latest["known_kinds"]) == set(kinds)

    check()


def test_latest_items_are_spread_over_shards_by_account_id(store):
    accounts = [f"{n:012d}" for n in range(100000000000, 100000000040)]
    for account in accounts:
        night(store, ok("n1", account=account))
    keys = {i["pk"]["S"] for i in boto3.client("dynamodb").scan(TableName="status")["Items"]}
    shards = {k for k in keys if k.startswith("LATEST")}
    assert shards == {latest_pk(a) for a in accounts} and len(shards) == LATEST_SHARDS
    assert [s["account_id"] for s in store.latest_states()] == accounts


def test_an_item_under_the_legacy_latest_key_is_read_and_its_alerted_baseline_adopted(store):
    """Upgrade from one `LATEST` partition key: nothing is re-reported, every reader still sees the account."""
    night(store, ok("n1", "password"))  # first audit, committed: alerted = password
    client = boto3.client("dynamodb")
    key = {"pk": {"S": latest_pk(ACCOUNT)}, "sk": {"S": ACCOUNT}}
    item = client.get_item(TableName="status", Key=key)["Item"]
    client.delete_item(TableName="status", Key=key)
    client.put_item(TableName="status", Item={**item, "pk": {"S": "LATEST"}})  # as an earlier version wrote it
    other = "222222222222"
    client.put_item(TableName="status", Item={**item, "pk": {"S": "LATEST"}, "sk": {"S": other}})

    assert store.latest(ACCOUNT)["alerted_run_id"] == "n1"
    assert [s["account_id"] for s in store.latest_states()] == [ACCOUNT, other]
    again = night(store, ok("n2", "password", day="23"))
    assert not again.first_audit and again.appeared == []
    assert store.latest(ACCOUNT)["alerted_run_id"] == "n1"
    third = night(store, ok("n3", "password", day="24"))
    assert not third.first_audit and third.appeared == []
