"""Hostile account names in human-readable text: no terminal control characters reach a person."""

from __future__ import annotations

import pytest
from rootwatch.domain.alert import RunFailure, compose_alert
from rootwatch.domain.records import AuditRecord, AuditStatus

RUN = {"run_id": "run-2026-11-22", "organization_id": "o-abc123", "scanned_at": "2026-11-22T02:00:00Z"}
HOSTILE = "prod\x1b[2J\x1b]8;;https://evil.example\x1b\\\x9b31m\x07\x08\r\nFAKE LINE\x7f"
CONTROLS = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) != "\n"]


def _records() -> list[AuditRecord]:
    common = {"run_id": RUN["run_id"], "scanned_at": RUN["scanned_at"]}
    return [
        AuditRecord(
            **common,
            account_id="111111111111",
            account_name=HOSTILE,
            status=AuditStatus.OK,
            root_credentials_present=True,
            password_present=True,
            appeared=["password"],
        ),
        AuditRecord(
            **common,
            account_id="222222222222",
            account_name=HOSTILE,
            status=AuditStatus.ERROR,
            error_code="ACCESS_DENIED",
            error_message="denied\x1b[31m for " + HOSTILE,
        ),
    ]


def test_alert_email_text_and_subject_carry_no_control_characters() -> None:
    alert = compose_alert(_records(), **RUN)
    assert alert is not None

    for text in (alert.subject, alert.text):
        assert not [c for c in CONTROLS if c in text], repr(text)
    assert "\nFAKE LINE" not in alert.text  # a name cannot start a line of its own
    assert "111111111111" in alert.subject and "prod[2J" in alert.text and "FAKE LINE" in alert.text
    assert alert.document["reappeared"][0]["account_name"] == HOSTILE  # the JSON stays faithful


def test_run_failure_alert_has_no_control_characters() -> None:
    failure = RunFailure(error_code="FEATURE_DISABLED", error_message="off\x1b[2J\x9b")
    alert = compose_alert([], **RUN, run_failure=failure)
    assert alert is not None

    assert not [c for c in CONTROLS if c in alert.subject + alert.text]


def test_plain_text_removes_control_characters_and_turns_line_breaks_into_spaces() -> None:
    from rootwatch.domain.plaintext import plain_text

    assert plain_text("a\x1b[31mb\x9bc\x07d\x08e\x7ff") == "a[31mbcdef"
    assert plain_text("one\ntwo\r\nthree\tfour") == "one two  three four"
    assert plain_text("Prod, EU · ünïcode [/bold]") == "Prod, EU · ünïcode [/bold]"


@pytest.mark.parametrize("char", [*CONTROLS, "\n"])
def test_plain_text_leaves_no_c0_or_c1_control_character(char: str) -> None:
    from rootwatch.domain.plaintext import plain_text

    assert char not in plain_text(f"x{char}y")
