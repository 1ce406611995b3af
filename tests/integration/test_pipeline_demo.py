"""`rootwatch demo` runs both nights in one process and shows the reappearance alert, text and JSON."""

from __future__ import annotations

import json

from rootwatch.handlers import dependencies
from rootwatch_cli import main


def test_demo_shows_night_two_alert_as_text_and_json_and_exits_zero(capsys):
    dependencies.reset()
    try:
        code = main(["demo", "--accounts", "12", "--seed", "5"])
    finally:
        dependencies.reset()
    out = capsys.readouterr().out
    assert code == 0
    assert "Night 1 (execution demo-night-1): SUCCEEDED" in out and "Night 2 (execution demo-night-2): SUCCEEDED" in out
    text = out.split("== The alert email of night 2")[1].split("== The same alert as JSON")[0]
    assert "ROOT CREDENTIALS APPEARED (1 account)" in text and "REAPPEARED" not in text
    assert "rootwatch remediate delete-root-credentials" in text
    subject = out.split("Night 2 (execution demo-night-2)")[1].split("Alert: ")[1].splitlines()[0]
    assert " appeared on " in subject and "reappeared" not in subject  # no earlier history of these credentials
    document = json.loads(out.split("subscribers get) ==")[1].split("== Stored state")[0])
    assert document["schema"] == "rootwatch.alert/v1"
    assert [e["credentials"] for e in document["reappeared"]] == [["password", "access_keys"]]
    assert "== Stored state" in out
    stored = out.split("== Stored state")[1]
    # The run column is the last successful audit, not when the credentials were first seen (present_since).
    assert "Last OK audit (run)" in stored and "Known since" not in stored


def test_demo_refuses_an_org_too_small_to_show_anything(capsys):
    assert main(["demo", "--accounts", "3"]) == 2
    assert capsys.readouterr().err.startswith("error: --accounts:")
