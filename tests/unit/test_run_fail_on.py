"""`rootwatch run --fail-on any|new|none`: which run outcomes exit 3 (for CI jobs and cron)."""

from __future__ import annotations

import pytest
from rootwatch_cli.commands.run import exit_code


def described(status: str = "SUCCEEDED", **totals: int) -> dict:
    base = {"with_root_credentials": 0, "reappeared": 0, "new_with_credentials": 0, "errors": 0}
    return {"status": status, "summary": {"totals": base | totals}}


@pytest.mark.parametrize(
    ("run", "any_", "new", "none"),
    [
        (described(), 0, 0, 0),
        (described(with_root_credentials=4), 3, 0, 0),  # known credentials, nothing new since the last alert
        (described(with_root_credentials=4, reappeared=1), 3, 3, 0),
        (described(with_root_credentials=1, new_with_credentials=1), 3, 3, 0),
        (described(errors=2), 3, 3, 0),
        (described("FAILED"), 3, 3, 0),
    ],
)
def test_fail_on_decides_which_findings_exit_3(run, any_, new, none):
    assert (exit_code(run, "any"), exit_code(run, "new"), exit_code(run, "none")) == (any_, new, none)


def test_any_is_the_default():
    assert exit_code(described(with_root_credentials=1)) == 3
