"""One account-id rule everywhere: exactly 12 ASCII digits (issue 9). `\\d` also matches Arabic-Indic,
fullwidth and other Unicode digits, and `$` matches before a trailing newline: neither may pass."""

from __future__ import annotations

from datetime import date

import pytest
from rootwatch.domain.exemptions import ExemptionError, parse_exemptions
from rootwatch_cli import UsageError
from rootwatch_cli.common import parse_account_ids

ARABIC_INDIC = "١٢٣٤٥٦٧٨٩٠١٢"
FULLWIDTH = "".join(chr(0xFF10 + int(d)) for d in "123456789012")
NOT_IDS = [
    ARABIC_INDIC,
    FULLWIDTH,
    "۱۲۳۴۵۶۷۸۹۰۱۲",  # extended Arabic-Indic (Persian)
    "12345678901٢",
    "123456789012\n",
    "12345678901",
    "1234567890123",
    "12345678901a",
    " 123456789012 x",
    "",
]


@pytest.mark.parametrize("value", NOT_IDS)
def test_the_domain_validator_takes_only_twelve_ascii_digits(value):
    from rootwatch.domain.account_ids import is_account_id, validate_account_id

    assert not is_account_id(value)
    with pytest.raises(ValueError, match="12-digit"):
        validate_account_id(value)


@pytest.mark.parametrize("value", [None, 123456789012, b"123456789012"])
def test_the_domain_validator_takes_only_strings(value):
    from rootwatch.domain.account_ids import is_account_id, validate_account_id

    assert not is_account_id(value)
    with pytest.raises(ValueError):
        validate_account_id(value)


def test_the_domain_validator_returns_a_good_id():
    from rootwatch.domain.account_ids import is_account_id, validate_account_id

    assert is_account_id("012345678901")
    assert validate_account_id("012345678901") == "012345678901"


@pytest.mark.parametrize("value", [ARABIC_INDIC, f"111122223333,{ARABIC_INDIC}", FULLWIDTH, "11112222333٣"])
def test_the_cli_rejects_non_ascii_digits(value):
    with pytest.raises(UsageError, match=r"--accounts: .* is not a 12-digit AWS account id"):
        parse_account_ids(value)


@pytest.mark.parametrize("value", ["", "   ", ",", " , ,", ",,,"])
def test_the_cli_rejects_an_empty_list(value):
    with pytest.raises(UsageError, match="--accounts: "):
        parse_account_ids(value)


def test_the_cli_keeps_the_order_and_drops_duplicates():
    assert parse_account_ids(" 222233334444,111122223333 ,222233334444") == ["222233334444", "111122223333"]


def test_exemptions_reject_non_ascii_digits():
    entry = {"account_id": ARABIC_INDIC, "credentials": ["password"], "reason": "x", "expires": "2027-03-01"}
    with pytest.raises(ExemptionError, match="account_id"):
        parse_exemptions([entry], today=date(2026, 11, 22))


def test_root_sessions_reject_non_ascii_digits():
    from rootwatch.aws.clients import ClientFactory

    with pytest.raises(ValueError, match="12-digit"):
        ClientFactory(region="us-east-1").root_session(ARABIC_INDIC, "IAMAuditRootUserCredentials")


def test_query_parameters_reject_non_ascii_digits():
    from rootwatch_cli.analytics.catalog import ParameterError, load_queries

    query = next(q for q in load_queries().values() if any(p.type == "account_id" for p in q.params))
    param = next(p for p in query.params if p.type == "account_id")
    assert param.literal("111122223333") == "'111122223333'"
    with pytest.raises(ParameterError, match="12-digit"):
        param.literal(ARABIC_INDIC)


def test_sqs_queue_urls_reject_non_ascii_digits():
    from rootwatch_cli.operations.unlock import queue_account

    with pytest.raises(ValueError):
        queue_account(f"https://sqs.us-east-1.amazonaws.com/{ARABIC_INDIC}/locked")
    assert queue_account("https://sqs.us-east-1.amazonaws.com/111122223333/locked") == "111122223333"
