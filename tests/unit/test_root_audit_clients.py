"""rootwatch.aws.clients: regional STS, cached clients, root sessions that never give their credentials away.

Requests are answered by a ``before-send`` hook (after signing), so these tests see the real signed
request and need no network.
"""

from __future__ import annotations

import logging
import pickle
import threading
from datetime import UTC, datetime

import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from rootwatch.aws.clients import ClientFactory, RootSessionClosedError
from rootwatch.domain.task_policies import TaskPolicy

MEMBER = "210987654321"
OTHER = "310987654321"
SECRET = "r00tSecretr00tSecretr00tSecretr00tSecret"
TOKEN = "FwoGZXIvYXdzEXAMPLETOKEN" * 8
SUMMARY_XML = (
    b'<GetAccountSummaryResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetAccountSummaryResult>'
    b"<SummaryMap><entry><key>AccountMFAEnabled</key><value>0</value></entry></SummaryMap>"
    b"</GetAccountSummaryResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
    b"</GetAccountSummaryResponse>"
)


def credentials(key_id: str) -> dict:
    return {"AccessKeyId": key_id, "SecretAccessKey": SECRET, "SessionToken": TOKEN, "Expiration": datetime.now(UTC)}


@pytest.fixture
def factory(monkeypatch: pytest.MonkeyPatch) -> ClientFactory:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACALLEREXAMPLE000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "caller")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_STS", raising=False)
    return ClientFactory(region="eu-west-1", max_attempts=1)


@pytest.fixture
def sent(factory: ClientFactory) -> list:
    """Every request the factory's clients send, answered with an IAM account summary."""
    requests: list = []

    def answer(request, **_: object) -> AWSResponse:
        requests.append(request)
        return AWSResponse(request.url, 200, {}, _Raw(SUMMARY_XML))

    factory.register_event("before-send.iam", answer)
    return requests


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: object):
        yield self._body


def stub_assume_root(factory: ClientFactory, *key_ids: str) -> Stubber:
    stubber = Stubber(factory.client("sts"))
    for key_id in key_ids:
        stubber.add_response("assume_root", {"Credentials": credentials(key_id)})
    stubber.activate()
    return stubber


def test_sts_uses_the_regional_endpoint_explicitly(factory) -> None:
    assert factory.client("sts").meta.endpoint_url == "https://sts.eu-west-1.amazonaws.com"
    assert factory.sts_endpoint_url() == "https://sts.eu-west-1.amazonaws.com"


def test_endpoint_url_overrides_every_service_for_the_sandbox() -> None:
    factory = ClientFactory(endpoint_url="http://127.0.0.1:4566")
    assert factory.client("sts").meta.endpoint_url == "http://127.0.0.1:4566"
    assert factory.client("organizations").meta.endpoint_url == "http://127.0.0.1:4566"


def test_clients_are_cached_per_service(factory) -> None:
    assert factory.client("iam") is factory.client("iam")
    assert factory.client("iam") is not factory.client("sts")


def test_retry_mode_and_attempts_reach_botocore() -> None:
    factory = ClientFactory(retry_mode="adaptive", max_attempts=7)
    assert factory.client("sts").meta.config.retries == {"mode": "adaptive", "total_max_attempts": 7}


@pytest.mark.parametrize(
    ("kwargs", "field"), [({"retry_mode": "legacy"}, "retry_mode"), ({"max_attempts": 0}, "max_attempts")]
)
def test_bad_retry_settings_are_refused_by_name(kwargs, field) -> None:
    with pytest.raises(ValueError, match=field):
        ClientFactory(**kwargs)


def test_root_client_signs_with_the_root_session_credentials(factory, sent) -> None:
    stub_assume_root(factory, "ASIAROOTSESSION00001")
    with factory.root_session(MEMBER) as root:
        root.client("iam").get_account_summary()
    headers = sent[0].headers
    assert b"Credential=ASIAROOTSESSION00001/" in headers["Authorization"]
    assert headers["X-Amz-Security-Token"] == TOKEN.encode()


def test_root_clients_are_reused_across_sessions_but_sign_for_the_current_one(factory, sent) -> None:
    stub_assume_root(factory, "ASIAROOTSESSION00001", "ASIAROOTSESSION00002")
    with factory.root_session(MEMBER) as first:
        iam = first.client("iam")
        iam.get_account_summary()
    with factory.root_session(OTHER) as second:
        assert second.client("iam") is iam
        second.client("iam").get_account_summary()
    assert b"ASIAROOTSESSION00001/" in sent[0].headers["Authorization"]
    assert b"ASIAROOTSESSION00002/" in sent[1].headers["Authorization"]


def test_root_client_refuses_to_sign_after_its_session_closed(factory, sent) -> None:
    stub_assume_root(factory, "ASIAROOTSESSION00001")
    with factory.root_session(MEMBER) as root:
        iam = root.client("iam")
    with pytest.raises(RootSessionClosedError):
        iam.get_account_summary()
    with pytest.raises(RootSessionClosedError):
        root.client("iam")
    assert sent == []


def test_root_client_refuses_to_sign_on_another_thread(factory, sent) -> None:
    stub_assume_root(factory, "ASIAROOTSESSION00001")
    failures: list[BaseException] = []
    with factory.root_session(MEMBER) as root:
        iam = root.client("iam")

        def call() -> None:
            try:
                iam.get_account_summary()
            except BaseException as exc:
                failures.append(exc)

        worker = threading.Thread(target=call)
        worker.start()
        worker.join()
    assert [type(f) for f in failures] == [RootSessionClosedError]
    assert sent == []


def test_nested_session_on_one_thread_gets_its_own_clients(factory, sent) -> None:
    stub_assume_root(factory, "ASIAROOTSESSION00001", "ASIAROOTSESSION00002")
    with (
        factory.root_session(MEMBER) as outer,
        factory.root_session(OTHER, TaskPolicy.IAM_DELETE_ROOT_USER_CREDENTIALS) as inner,
    ):
        inner.client("iam").get_account_summary()
        outer.client("iam").get_account_summary()
        assert inner.client("iam") is not outer.client("iam")
    assert b"ASIAROOTSESSION00002/" in sent[0].headers["Authorization"]
    assert b"ASIAROOTSESSION00001/" in sent[1].headers["Authorization"]


def test_root_session_shows_no_credentials_and_cannot_be_pickled(factory) -> None:
    stub_assume_root(factory, "ASIAROOTSESSION00001")
    with factory.root_session(MEMBER) as root:
        text = repr(root) + str(root) + repr(vars(type(root))) + repr(root._secret) + str(root._secret)
        assert MEMBER in repr(root)
        with pytest.raises(TypeError):
            pickle.dumps(root)
    for secret in ("ASIAROOTSESSION00001", SECRET, TOKEN):
        assert secret not in text
    assert "closed" in repr(root)


def test_assume_root_request_uses_the_task_policy_and_short_duration(factory) -> None:
    stubber = Stubber(factory.client("sts"))
    stubber.add_response(
        "assume_root",
        {"Credentials": credentials("ASIAROOTSESSION00001")},
        {
            "TargetPrincipal": MEMBER,
            "TaskPolicyArn": {"arn": "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"},
            "DurationSeconds": 30,
        },
    )
    stubber.activate()
    with factory.root_session(MEMBER, TaskPolicy.IAM_DELETE_ROOT_USER_CREDENTIALS, duration_seconds=30) as root:
        assert root.task_policy is TaskPolicy.IAM_DELETE_ROOT_USER_CREDENTIALS
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("duration", [0, 901, -5])
def test_duration_outside_assume_root_limits_is_refused(factory, duration) -> None:
    with pytest.raises(ValueError, match="duration_seconds"):
        factory.root_session(MEMBER, duration_seconds=duration)


def test_debug_logs_of_botocore_never_carry_root_credentials(factory, sent, caplog) -> None:
    stub_assume_root(factory, "ASIAROOTSESSION00001")
    with caplog.at_level(logging.DEBUG, logger="botocore"), factory.root_session(MEMBER) as root:
        root.client("iam").get_account_summary()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Authorization" in logged or "X-Amz-Security-Token" in logged or "StringToSign" in logged
    for secret in ("ASIAROOTSESSION00001", SECRET, TOKEN):
        assert secret not in logged
