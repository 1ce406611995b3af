"""`rootwatch demo` runs both nights in one process and shows the reappearance alert, text and JSON.

The output is read by the structure the demo guarantees, not by its wording: numbered steps (``N. ...`` with
indented detail lines) up to the first ``== heading ==`` line, then one section per heading. The alert
sections are found by content (the email text starts ``Subject:``; the JSON document is the one whose
``schema`` is ``rootwatch.alert/v1``), so rewording a banner does not break this test.
"""

from __future__ import annotations

import json
import re

from rootwatch.handlers import dependencies
from rootwatch_cli import main

HEADING = re.compile(r"^== (?P<title>.+) ==$", re.MULTILINE)
STEP = re.compile(r"^(?P<number>\d+)\. ", re.MULTILINE)
NIGHT = re.compile(r"^Night (?P<night>\d+) \(execution (?P<execution>[\w-]+)\): (?P<status>[A-Z_]+)\b")


def _steps(preamble: str) -> dict[int, list[str]]:
    """The numbered steps before the first heading: number -> [first line without the number, detail lines]."""
    starts = list(STEP.finditer(preamble))
    steps = {}
    for match, following in zip(starts, [*starts[1:], None], strict=True):
        block = preamble[match.end() : following.start() if following else len(preamble)]
        steps[int(match["number"])] = [line.strip() for line in block.strip().splitlines()]
    return steps


def _sections(out: str) -> tuple[str, list[tuple[str, str]]]:
    """The text before the first heading, and (heading title, body) for each ``== heading ==``, in order."""
    headings = list(HEADING.finditer(out))
    assert headings, f"no '== heading ==' line in the demo output:\n{out}"
    sections = [
        (match["title"], out[match.end() : following.start() if following else len(out)].strip("\n"))
        for match, following in zip(headings, [*headings[1:], None], strict=True)
    ]
    return out[: headings[0].start()], sections


def _nights(steps: dict[int, list[str]]) -> dict[str, dict[str, str]]:
    """Each night's step by execution name: its status and its ``Label: value`` detail lines."""
    nights = {}
    for lines in steps.values():
        night = NIGHT.match(lines[0])
        if night:
            details = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            nights[night["execution"]] = {"status": night["status"], **details}
    return nights


def _alert_document(sections: list[tuple[str, str]]) -> dict:
    documents = []
    for _, body in sections:
        try:
            document = json.loads(body)
        except ValueError:
            continue
        if isinstance(document, dict) and document.get("schema") == "rootwatch.alert/v1":
            documents.append(document)
    assert len(documents) == 1, f"expected one rootwatch.alert/v1 document, found {len(documents)}"
    return documents[0]


def test_demo_shows_night_two_alert_as_text_and_json_and_exits_zero(capsys):
    dependencies.reset()
    try:
        code = main(["demo", "--accounts", "12", "--seed", "5"])
    finally:
        dependencies.reset()
    out = capsys.readouterr().out
    assert code == 0
    preamble, sections = _sections(out)
    nights = _nights(_steps(preamble))
    assert set(nights) == {"demo-night-1", "demo-night-2"}, preamble
    assert all(night["status"] == "SUCCEEDED" for night in nights.values()), nights
    subject = nights["demo-night-2"]["Alert"]
    assert " appeared on " in subject and "reappeared" not in subject  # no earlier history of these credentials

    emails = [body for _, body in sections if body.startswith("Subject: ")]
    assert len(emails) == 1, [title for title, _ in sections]
    email_subject, _, text = emails[0].partition("\n")
    assert email_subject == f"Subject: {subject}"  # the email is night 2's alert
    assert "ROOT CREDENTIALS APPEARED (1 account)" in text and "REAPPEARED" not in text
    assert "rootwatch remediate delete-root-credentials" in text

    document = _alert_document(sections)
    assert document["run_id"] == "demo-night-2"
    assert [e["credentials"] for e in document["reappeared"]] == [["password", "access_keys"]]
    assert document["reappeared"][0]["account_id"] in subject

    # The stored state follows the alert: one table row per account of the alert's totals.
    stored = next((body for title, body in sections if title.startswith("Stored state")), None)
    assert stored is not None, [title for title, _ in sections]
    account_rows = [line for line in stored.splitlines() if re.match(r"^\d{12}\b", line)]
    assert len(account_rows) == document["totals"]["accounts"]
    # The run column is the last successful audit, not when the credentials were first seen (present_since).
    assert "Last OK audit (run)" in stored and "Known since" not in stored


def test_demo_refuses_an_org_too_small_to_show_anything(capsys):
    assert main(["demo", "--accounts", "3"]) == 2
    assert capsys.readouterr().err.startswith("error: --accounts:")
