"""Consent: dry run by default, --yes never asks, --execute asks a person and refuses without a terminal."""

from __future__ import annotations

import io

import pytest
from rootwatch_cli.operations.consent import Consent, ConsentMode, NoTerminalError, consent_mode


def test_no_flags_means_dry_run_and_nothing_is_confirmed():
    consent = Consent(consent_mode(dry_run=False, execute=False, yes=False))
    assert consent.dry_run
    assert consent.confirm("Delete?") is False


def test_yes_implies_execute_and_never_asks():
    stdin = io.StringIO("")
    consent = Consent(consent_mode(dry_run=False, execute=False, yes=True), stdin=stdin, is_terminal=lambda: False)
    assert consent.mode is ConsentMode.YES
    assert consent.confirm("Delete?") is True


def test_dry_run_with_yes_is_a_usage_error():
    with pytest.raises(ValueError, match="--dry-run"):
        consent_mode(dry_run=True, execute=False, yes=True)


def test_execute_without_a_terminal_refuses_before_anything_happens():
    consent = Consent(ConsentMode.ASK, stdin=io.StringIO("y\n"), is_terminal=lambda: False)
    with pytest.raises(NoTerminalError, match="--yes"):
        consent.require_someone_to_ask()


@pytest.mark.parametrize(
    ("answer", "expected"), [("y\n", True), ("YES\n", True), ("n\n", False), ("\n", False), ("", False)]
)
def test_execute_asks_and_only_y_or_yes_confirms(answer, expected):
    out = io.StringIO()
    consent = Consent(ConsentMode.ASK, stdin=io.StringIO(answer), stdout=out, is_terminal=lambda: True)
    assert consent.confirm("Delete 2 credentials?") is expected
    assert "Delete 2 credentials? [y/N]" in out.getvalue()
