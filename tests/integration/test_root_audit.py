"""audit_root_credentials against the sandbox: real AssumeRoot sessions, real root users, counted requests."""

from __future__ import annotations

import logging
from collections import Counter

import boto3
import pytest
from botocore.exceptions import ClientError
from rootwatch.aws.clients import ClientFactory
from rootwatch.aws.errors import classify
from rootwatch.aws.root_audit import audit_root_credentials
from rootwatch.domain.errors import AccessDeniedError, ExpiredError, FeatureDisabledError, ThrottledError

SCP_DENY = "User: arn:aws:iam::{id}:root is not authorized to perform: iam:GetAccountSummary with an explicit deny in a service control policy"  # noqa: E501


def build_org(members: int, *, feature: bool = True) -> list[str]:
    """An organization with ``members`` member accounts (ordinary AWS APIs); their ids."""
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    ids = [
        org.create_account(AccountName=f"member-{i:02d}", Email=f"member-{i:02d}@example.com")["CreateAccountStatus"][
            "AccountId"
        ]
        for i in range(members)
    ]
    if feature:
        org.enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
        boto3.client("iam", region_name="us-east-1").enable_organizations_root_credentials_management()
    return ids


class Recorder:
    """Counts the HTTP requests the factory's clients send, by operation, and keeps AssumeRoot's credentials."""

    def __init__(self, factory: ClientFactory) -> None:
        self.operations: Counter[str] = Counter()
        self.secrets: list[str] = []
        factory.register_event("before-send", self._sent)
        factory.register_event("after-call.sts.AssumeRoot", self._assumed)

    def _sent(self, event_name: str, **_: object) -> None:
        self.operations[event_name.rsplit(".", 1)[-1]] += 1  # before-send.<service>.<Operation>

    def _assumed(self, parsed, **_: object) -> None:
        credentials = parsed.get("Credentials") or {}
        self.secrets += [credentials[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken") if k in credentials]

    @property
    def total(self) -> int:
        return sum(self.operations.values())


@pytest.fixture
def factory(sandbox) -> ClientFactory:
    return ClientFactory(max_attempts=1)


def test_clean_account_costs_exactly_two_requests(sandbox, factory) -> None:
    (member,) = build_org(1)
    recorder = Recorder(factory)
    state = audit_root_credentials(factory, member)
    assert not state.root_credentials_present
    assert recorder.total == 2
    assert set(recorder.operations) == {"AssumeRoot", "GetAccountSummary"}


def test_account_with_everything_reads_every_detail_once(sandbox, factory) -> None:
    (member,) = build_org(1)
    sandbox.set_root_credentials(
        member,
        password=True,
        access_keys=["Active", "Inactive"],
        mfa_devices=["virtual"],
        signing_certificates=["Active", "Inactive"],
    )
    recorder = Recorder(factory)
    state = audit_root_credentials(factory, member)
    assert state.present_kinds() == {"password", "access_keys", "signing_certificates", "mfa"}
    assert (state.active_access_keys, state.inactive_access_keys) == (1, 1)
    assert state.mfa_devices == 1
    assert state.active_signing_certificates == 1
    assert recorder.operations == Counter(
        {
            "AssumeRoot": 1,
            "GetAccountSummary": 1,
            "ListAccessKeys": 1,
            "GetAccessKeyLastUsed": 2,
            "GetUser": 1,
            "ListMFADevices": 1,
            "ListSigningCertificates": 1,
        }
    )


@pytest.mark.parametrize(
    ("seed", "kinds", "calls"),
    [
        ({"password": True}, {"password"}, 3),
        ({"access_keys": ["Inactive"]}, {"access_keys"}, 4),
        ({"mfa_devices": ["hardware"]}, {"mfa"}, 3),
        ({"signing_certificates": ["Active"]}, {"signing_certificates"}, 3),
    ],
)
def test_only_the_set_flag_gets_its_detail_call(sandbox, factory, seed, kinds, calls) -> None:
    (member,) = build_org(1)
    sandbox.set_root_credentials(member, **seed)
    recorder = Recorder(factory)
    state = audit_root_credentials(factory, member)
    assert state.present_kinds() == kinds
    assert recorder.total == calls


def test_inactive_key_still_counts_as_present(sandbox, factory) -> None:
    (member,) = build_org(1)
    sandbox.set_root_credentials(member, access_keys=["Inactive"])
    state = audit_root_credentials(factory, member)
    assert state.access_keys_present and state.root_credentials_present
    assert (state.active_access_keys, state.inactive_access_keys) == (0, 1)


def test_scp_explicit_deny_is_access_denied_with_aws_message(sandbox, factory) -> None:
    (member,) = build_org(1)
    message = SCP_DENY.format(id=member)
    sandbox.add_fault(member, "GetAccountSummary", "AccessDenied", message, None)
    with pytest.raises(AccessDeniedError) as raised:
        audit_root_credentials(factory, member)
    assert raised.value.message == message


def test_feature_disabled_is_feature_disabled_not_access_denied(sandbox, factory) -> None:
    (member,) = build_org(1, feature=False)
    with pytest.raises(FeatureDisabledError) as raised:
        audit_root_credentials(factory, member)
    assert raised.value.message == "Service not enabled for AWS Organizations."


def test_throttled_assume_root_raises_throttled_error_once_retries_are_spent(sandbox, factory) -> None:
    (member,) = build_org(1)
    sandbox.add_fault(member, "AssumeRoot", "Throttling", "Rate exceeded", 1)
    with pytest.raises(ThrottledError):
        audit_root_credentials(factory, member)
    assert not audit_root_credentials(factory, member).root_credentials_present


def test_botocore_retries_absorb_throttling(sandbox, monkeypatch) -> None:
    (member,) = build_org(1)
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda self, context: 0)
    factory = ClientFactory(max_attempts=3)
    recorder = Recorder(factory)
    sandbox.add_fault(member, "AssumeRoot", "Throttling", "Rate exceeded", 2)
    assert not audit_root_credentials(factory, member).root_credentials_present
    assert recorder.operations["AssumeRoot"] == 3


def test_root_session_credentials_never_reach_logs_or_errors(sandbox, factory, caplog) -> None:
    members = build_org(2)
    sandbox.set_root_credentials(members[0], password=True, access_keys=["Active"])
    sandbox.add_fault(members[1], "GetAccountSummary", "AccessDenied", SCP_DENY.format(id=members[1]), None)
    recorder = Recorder(factory)
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        texts.append(repr(audit_root_credentials(factory, members[0])))
        with pytest.raises(AccessDeniedError) as raised:
            audit_root_credentials(factory, members[1])
    texts += [str(raised.value), repr(raised.value), str(raised.value.__cause__)]
    texts += [record.getMessage() for record in caplog.records]
    assert len(recorder.secrets) == 6
    everything = "\n".join(texts)
    for secret in recorder.secrets:
        assert secret not in everything


def test_expired_root_session_is_classified_expired(sandbox, factory) -> None:
    (member,) = build_org(1)
    with factory.root_session(member, duration_seconds=60) as root:
        sandbox.clock.advance(61)
        with pytest.raises(ClientError) as raised:
            root.client("iam").get_account_summary()
    assert isinstance(classify(raised.value), ExpiredError)
