"""rootwatch.aws.errors: every AWS error code maps to one kind, in one table."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from rootwatch.aws.errors import FEATURE_DISABLED_MESSAGES, KIND_FOR_CODE, classify, scrub
from rootwatch.domain.errors import (
    AccessDeniedError,
    ErrorKind,
    ExpiredError,
    FeatureDisabledError,
    RootwatchError,
    ThrottledError,
    UnknownAwsError,
)

SCP_DENY = (
    "User: arn:aws:iam::210987654321:root is not authorized to perform: iam:GetAccountSummary "
    "with an explicit deny in a service control policy"
)


def client_error(code: str, message: str, operation: str = "GetAccountSummary") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("AccessDenied", AccessDeniedError),
        ("AccessDeniedException", AccessDeniedError),
        ("UnauthorizedOperation", AccessDeniedError),
        ("Throttling", ThrottledError),
        ("ThrottlingException", ThrottledError),
        ("TooManyRequestsException", ThrottledError),
        ("RequestLimitExceeded", ThrottledError),
        ("ExpiredToken", ExpiredError),
        ("ExpiredTokenException", ExpiredError),
        ("NoSuchEntity", UnknownAwsError),
        ("InternalFailure", UnknownAwsError),
    ],
)
def test_error_code_maps_to_its_kind(code: str, expected: type[RootwatchError]) -> None:
    error = classify(client_error(code, "some message"))
    assert type(error) is expected
    assert error.aws_code == code
    assert error.operation == "GetAccountSummary"


def test_scp_explicit_deny_keeps_aws_message() -> None:
    error = classify(client_error("AccessDenied", SCP_DENY))
    assert isinstance(error, AccessDeniedError)
    assert error.kind is ErrorKind.ACCESS_DENIED
    assert error.message == SCP_DENY
    assert str(error) == SCP_DENY


@pytest.mark.parametrize(
    "message",
    ["Service not enabled for AWS Organizations.", "Root sessions feature is not enabled for your AWS Organization."],
)
def test_assume_root_feature_answers_are_feature_disabled_not_access_denied(message: str) -> None:
    error = classify(client_error("AccessDenied", message, operation="AssumeRoot"))
    assert isinstance(error, FeatureDisabledError)
    assert error.message == message


def test_assume_root_denied_by_policy_stays_access_denied() -> None:
    message = "User: arn:aws:iam::123456789012:user/ops is not authorized to perform: sts:AssumeRoot"
    assert isinstance(classify(client_error("AccessDenied", message, operation="AssumeRoot")), AccessDeniedError)


def test_feature_message_from_another_operation_is_still_access_denied() -> None:
    error = classify(client_error("AccessDenied", "Service not enabled for AWS Organizations.", "GetAccountSummary"))
    assert isinstance(error, AccessDeniedError)


def test_feature_message_must_match_exactly_not_by_substring() -> None:
    message = "Denied. Service not enabled for AWS Organizations. (SCP)"
    assert isinstance(classify(client_error("AccessDenied", message, "AssumeRoot")), AccessDeniedError)


def test_only_two_messages_are_ever_looked_at() -> None:
    assert len(FEATURE_DISABLED_MESSAGES) == 2


def test_quota_error_is_not_mistaken_for_throttling() -> None:
    assert "LimitExceededException" not in KIND_FOR_CODE
    assert isinstance(classify(client_error("LimitExceededException", "Cannot exceed quota")), UnknownAwsError)


def test_classified_error_keeps_the_client_error_as_cause() -> None:
    original = client_error("Throttling", "Rate exceeded")
    assert classify(original).__cause__ is original


def test_transport_failure_becomes_unknown_with_its_text() -> None:
    error = classify(EndpointConnectionError(endpoint_url="https://sts.us-east-1.amazonaws.com"))
    assert isinstance(error, UnknownAwsError)
    assert "sts.us-east-1.amazonaws.com" in error.message
    assert error.aws_code == "EndpointConnectionError"


def test_already_classified_error_passes_through() -> None:
    error = ThrottledError("slow down")
    assert classify(error) is error


def test_credentials_in_an_aws_message_are_redacted() -> None:
    key_id, secret = "ASIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    token = "IQoJb3JpZ2luX2VjEF4aDmFwLW5vcnRoZWFzdC0xIkgwRgIhAPHj/KRjoLqTF9v4WiJYqFyBkBfnCmjBO7yVxnJHCneJ=="
    error = classify(client_error("InvalidClientTokenId", f"bad token {token} for {key_id} with {secret}"))
    for credential in (key_id, secret, token):
        assert credential not in error.message
    assert error.message.count("[REDACTED]") == 3


def test_scrub_leaves_arns_and_account_ids_alone() -> None:
    assert scrub(SCP_DENY) == SCP_DENY
