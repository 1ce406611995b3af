"""rootwatch.aws.root_audit with botocore's Stubber: the exact calls per credential state, no network.

The Stubber fails a test on any call it was not told to expect, so each test proves the call budget:
a clean account costs AssumeRoot + GetAccountSummary and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from botocore.stub import Stubber
from rootwatch.aws.clients import ClientFactory
from rootwatch.aws.root_audit import audit_root_credentials
from rootwatch.domain.errors import AccessDeniedError, FeatureDisabledError, ThrottledError
from rootwatch.domain.timestamps import iso_utc

MEMBER = "210987654321"
# Real AWS answers UserId=<account id> for root (docs/aws-behaviour.md), shorter than the model's 16-character minimum,
# which the Stubber enforces; the parser does not, so the audit never relies on it.
ROOT_USER_ID = "AIDAROOTUSER00000001"
AUDIT_ARN = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
ROOT_CREDENTIALS = {
    "AccessKeyId": "ASIAROOTSESSIONEXAMP",
    "SecretAccessKey": "r00tSecretr00tSecretr00tSecretr00tSecret",
    "SessionToken": "FwoGZXIvYXdzEXAMPLETOKEN" * 8,
    "Expiration": datetime(2026, 1, 1, tzinfo=UTC),
}


def summary(password: int = 0, keys: int = 0, certs: int = 0, mfa: int = 0) -> dict:
    return {
        "SummaryMap": {
            "AccountPasswordPresent": password,
            "AccountAccessKeysPresent": keys,
            "AccountSigningCertificatesPresent": certs,
            "AccountMFAEnabled": mfa,
            "Users": 3,
        }
    }


class Stubs:
    def __init__(self, factory: ClientFactory) -> None:
        self.sts = Stubber(factory.client("sts"))
        # Root clients are reused per thread: open one session to get this thread's IAM client.
        self.sts.add_response("assume_root", {"Credentials": ROOT_CREDENTIALS})
        self.sts.activate()
        with factory.root_session(MEMBER) as root:
            self.iam = Stubber(root.client("iam"))
        self.iam.activate()

    def assume_root(self) -> None:
        expected = {"TargetPrincipal": MEMBER, "TaskPolicyArn": {"arn": AUDIT_ARN}, "DurationSeconds": 60}
        self.sts.add_response("assume_root", {"Credentials": ROOT_CREDENTIALS}, expected)

    def verify(self) -> None:
        self.sts.assert_no_pending_responses()
        self.iam.assert_no_pending_responses()


@pytest.fixture
def factory(monkeypatch: pytest.MonkeyPatch) -> ClientFactory:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACALLEREXAMPLE000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "caller")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_STS", raising=False)
    return ClientFactory(max_attempts=1)


@pytest.fixture
def stubs(factory: ClientFactory) -> Iterator[Stubs]:
    stubs = Stubs(factory)
    yield stubs
    stubs.verify()


def test_clean_account_costs_exactly_assume_root_and_get_account_summary(factory, stubs) -> None:
    stubs.assume_root()
    stubs.iam.add_response("get_account_summary", summary())
    state = audit_root_credentials(factory, MEMBER)
    assert not state.root_credentials_present
    assert state.active_access_keys is None and state.mfa_devices is None and state.password_last_used is None


def test_inactive_key_still_counts_as_present(factory, stubs) -> None:
    stubs.assume_root()
    stubs.iam.add_response("get_account_summary", summary(keys=1))
    stubs.iam.add_response(
        "list_access_keys",
        {
            "AccessKeyMetadata": [
                {"AccessKeyId": "AKIAROOTKEY000000001", "Status": "Inactive", "CreateDate": datetime(2025, 1, 1)}
            ]
        },
    )
    stubs.iam.add_response(
        "get_access_key_last_used",
        {"AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"}},
        {"AccessKeyId": "AKIAROOTKEY000000001"},
    )
    state = audit_root_credentials(factory, MEMBER)
    assert state.access_keys_present and state.root_credentials_present
    assert (state.active_access_keys, state.inactive_access_keys) == (0, 1)
    assert state.access_key_last_used is None


def test_key_detail_counts_by_status_and_keeps_the_latest_use(factory, stubs) -> None:
    stubs.assume_root()
    stubs.iam.add_response("get_account_summary", summary(keys=1))
    stubs.iam.add_response(
        "list_access_keys",
        {
            "AccessKeyMetadata": [
                {"AccessKeyId": "AKIAROOTKEY000000001", "Status": "Active"},
                {"AccessKeyId": "AKIAROOTKEY000000002", "Status": "Inactive"},
            ]
        },
    )
    for key, used in (("AKIAROOTKEY000000001", datetime(2025, 3, 1, 12, 0, tzinfo=UTC)),
                      ("AKIAROOTKEY000000002", datetime(2025, 5, 2, 9, 30, 5, tzinfo=UTC))):  # fmt: skip
        stubs.iam.add_response(
            "get_access_key_last_used",
            {"AccessKeyLastUsed": {"LastUsedDate": used, "ServiceName": "s3", "Region": "us-east-1"}},
            {"AccessKeyId": key},
        )
    state = audit_root_credentials(factory, MEMBER)
    assert (state.active_access_keys, state.inactive_access_keys) == (1, 1)
    assert state.access_key_last_used == "2025-05-02T09:30:05Z"


def test_password_reads_last_use_from_get_user(factory, stubs) -> None:
    stubs.assume_root()
    stubs.iam.add_response("get_account_summary", summary(password=1))
    stubs.iam.add_response(
        "get_user",
        {
            "User": {
                "UserId": ROOT_USER_ID,
                "Arn": f"arn:aws:iam::{MEMBER}:root",
                "Path": "/",
                "UserName": "root",
                "CreateDate": datetime(2023, 3, 27, 23, 19, 57, tzinfo=UTC),
                "PasswordLastUsed": datetime(2025, 12, 14, 7, 11, 47, tzinfo=timezone(timedelta(hours=9))),
            }
        },
    )
    state = audit_root_credentials(factory, MEMBER)
    assert state.password_present and not state.access_keys_present
    assert state.password_last_used == "2025-12-13T22:11:47Z"


def test_mfa_only_counts_devices(factory, stubs) -> None:
    stubs.assume_root()
    stubs.iam.add_response("get_account_summary", summary(mfa=1))
    stubs.iam.add_response(
        "list_mfa_devices",
        {
            "MFADevices": [
                {
                    "UserName": "root",
                    "SerialNumber": f"arn:aws:iam::{MEMBER}:mfa/Authapp",
                    "EnableDate": datetime(2025, 1, 1),
                }
            ]
        },
    )
    state = audit_root_credentials(factory, MEMBER)
    assert state.mfa_enabled and state.mfa_devices == 1
    assert state.active_access_keys is None


def test_signing_certificates_count_only_active_ones(factory, stubs) -> None:
    stubs.assume_root()
    stubs.iam.add_response("get_account_summary", summary(certs=1))
    certificates = [
        {"UserName": "root", "CertificateId": f"CERT{i:028d}", "CertificateBody": "-----BEGIN CERTIFICATE-----",
         "Status": status}
        for i, status in enumerate(("Active", "Inactive"))
    ]  # fmt: skip
    stubs.iam.add_response("list_signing_certificates", {"Certificates": certificates})
    state = audit_root_credentials(factory, MEMBER)
    assert state.signing_certificates_present and state.active_signing_certificates == 1


def test_everything_set_makes_every_detail_call_once(factory, stubs) -> None:
    stubs.assume_root()
    stubs.iam.add_response("get_account_summary", summary(1, 1, 1, 1))
    stubs.iam.add_response(
        "list_access_keys", {"AccessKeyMetadata": [{"AccessKeyId": "AKIAROOTKEY000000001", "Status": "Active"}]}
    )
    stubs.iam.add_response("get_access_key_last_used", {"AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"}})
    root_user = {"UserId": ROOT_USER_ID, "Arn": f"arn:aws:iam::{MEMBER}:root", "Path": "/", "UserName": "root"}
    stubs.iam.add_response("get_user", {"User": {**root_user, "CreateDate": datetime(2023, 1, 1)}})
    stubs.iam.add_response("list_mfa_devices", {"MFADevices": []})
    stubs.iam.add_response("list_signing_certificates", {"Certificates": []})
    state = audit_root_credentials(factory, MEMBER)
    assert state.present_kinds() == {"password", "access_keys", "signing_certificates", "mfa"}
    assert state.password_last_used is None  # never used: GetUser has no PasswordLastUsed


def test_feature_disabled_answer_from_assume_root_raises_feature_disabled(factory, stubs) -> None:
    stubs.sts.add_client_error("assume_root", "AccessDenied", "Service not enabled for AWS Organizations.", 403)
    with pytest.raises(FeatureDisabledError):
        audit_root_credentials(factory, MEMBER)


def test_scp_deny_on_get_account_summary_is_access_denied_with_aws_message(factory, stubs) -> None:
    message = (
        f"User: arn:aws:iam::{MEMBER}:root is not authorized to perform: iam:GetAccountSummary with an explicit deny"
    )
    stubs.assume_root()
    stubs.iam.add_client_error("get_account_summary", "AccessDenied", message, 403)
    with pytest.raises(AccessDeniedError) as raised:
        audit_root_credentials(factory, MEMBER)
    assert raised.value.message == message


def test_throttled_assume_root_raises_throttled_error(factory, stubs) -> None:
    stubs.sts.add_client_error("assume_root", "Throttling", "Rate exceeded", 400)
    with pytest.raises(ThrottledError):
        audit_root_credentials(factory, MEMBER)


def test_malformed_account_id_is_refused_before_any_call(factory, stubs) -> None:
    with pytest.raises(ValueError, match="account_id"):
        audit_root_credentials(factory, "12345")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2025, 12, 13, 22, 11, 47, 123456, tzinfo=UTC), "2025-12-13T22:11:47Z"),
        (datetime(2025, 12, 14, 7, 11, 47, tzinfo=timezone(timedelta(hours=9))), "2025-12-13T22:11:47Z"),
        (datetime(2025, 12, 13, 22, 11, 47), "2025-12-13T22:11:47Z"),
        ("2025-12-13T22:11:47+00:00", "2025-12-13T22:11:47Z"),
        (None, None),
    ],
)
def test_iso_utc_normalises_to_utc_z(value, expected) -> None:
    assert iso_utc(value) == expected
