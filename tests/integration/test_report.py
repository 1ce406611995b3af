"""`rootwatch report`: one self-contained HTML page, checked as text and as rendered by headless Chromium.

The Chromium tests need Debian's `chromium` (``make test`` installs it when missing). Without it they
are skipped locally, and fail in CI (CI=true), where a silent skip would hide a broken report.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import time, timedelta

import pytest
from rootwatch.domain.exemptions import parse_exemptions, utc_today
from rootwatch.domain.records import AuditStatus
from rootwatch_cli import main
from rootwatch_cli.analytics.history import MANAGEMENT_ACCOUNT_ID, Audit, HistoryWriter

TODAY = utc_today()
KEYS, BREAK_GLASS, DENIED, CLEAN, LEGACY = (
    "111111111111",
    "222222222222",
    "333333333333",
    "444444444444",
    "555555555555",
)
OUS = {KEYS: "Root/Workloads/Prod", CLEAN: "Root/Workloads/NonProd"}
NAMES = {KEYS: "payments-prod", BREAK_GLASS: "break-glass", DENIED: "data-lake", CLEAN: "web-dev", LEGACY: "legacy-crm"}
EXEMPTIONS = [
    {
        "account_id": BREAK_GLASS,
        "credentials": ["password", "mfa"],
        "reason": "break-glass SEC-42",
        "expires": (TODAY + timedelta(days=90)).isoformat(),
    },
    {
        "account_id": LEGACY,
        "credentials": ["access_keys"],
        "reason": "vendor integration",
        "expires": (TODAY - timedelta(days=3)).isoformat(),
    },
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """Twelve nights: KEYS gets access keys 4 nights ago (needs action), BREAK_GLASS has an exempt password
    and MFA, DENIED is always denied by an SCP, LEGACY has keys whose exemption expired 3 days ago."""
    root = tmp_path_factory.mktemp("report")
    writer = HistoryWriter(root / "history", exemptions=parse_exemptions(EXEMPTIONS, allow_expired=True))
    for offset in range(-11, 1):
        night = TODAY + timedelta(days=offset)
        audits = [
            Audit(KEYS, kinds=frozenset({"access_keys"}) if offset >= -4 else frozenset()),
            Audit(BREAK_GLASS, kinds=frozenset({"password", "mfa"})),
            Audit(
                DENIED,
                status=AuditStatus.ERROR,
                error_code="ACCESS_DENIED",
                error_message="... with an explicit deny in a service control policy",
            ),
            Audit(CLEAN),
            Audit(LEGACY, kinds=frozenset({"access_keys"})),
            Audit(MANAGEMENT_ACCOUNT_ID, status=AuditStatus.SKIPPED, error_code="MANAGEMENT_ACCOUNT"),
        ]
        writer.run(
            night,
            [
                Audit(**{**a.__dict__, "account_name": NAMES.get(a.account_id), "ou_path": OUS.get(a.account_id)})
                for a in audits
            ],
            at=time(2),
        )
    exemptions_file = root / "exemptions.json"
    exemptions_file.write_text(json.dumps(EXEMPTIONS))
    output = root / "report.html"
    argv = ["report", "--results", str(root / "history"), "--output", str(output), "--exemptions", str(exemptions_file)]
    assert main(argv) == 0
    return output


def test_report_is_one_self_contained_file(report):
    html = report.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "the page must not load anything"
    assert "<link" not in html and "@import" not in html
    assert html.count("<style>") == 1 and html.count("<script>") == 1


def test_report_states_totals_and_the_headline(report):
    html = report.read_text()
    assert "2 accounts have root credentials that need action." in html  # KEYS, and LEGACY whose exemption expired
    assert re.search(r'data-total="accounts"><div class="value">6<', html)
    assert re.search(r'data-total="exempt"><div class="value">1<', html)
    assert re.search(r'data-total="skipped"><div class="value">1<', html)  # the management account
    assert re.search(r'data-total="reappeared"><div class="value">1<', html)


def test_report_shows_each_accounts_ou_path(report):
    html = report.read_text()
    row = next(r for r in html.split("<tr") if "payments-prod" in r and 'class="ou"' in r)
    assert '<td class="ou" data-sort="Root/Workloads/Prod">Root/Workloads/Prod</td>' in row
    legacy = next(r for r in html.split("<tr") if "legacy-crm" in r and 'class="ou"' in r)
    assert '<td class="ou" data-sort="~">' in legacy  # no OU known (records written before the OU walk)


def test_report_findings_show_each_kinds_severity_reason_and_controls(report):
    from rootwatch.domain.findings import FINDING

    html = report.read_text()
    kind = FINDING["active_access_key"]
    row = html[html.index('<tr data-finding="active_access_key">') :]
    row = row[: row.index("</tr>")]
    assert f'title="{kind.severity_reason}"' in row and ">critical</span>" in row
    assert ">Security Hub IAM.4</span>" in row and ">CIS 1.4</span>" in row and ">rootwatch RW.1</span>" in row
    assert "<th>Controls</th>" in html
    accounts = html[html.index('id="accounts"') :]
    assert '<th data-type="num">Severity</th>' in accounts and 'class="pill severity-critical"' in accounts


def test_report_shows_the_errors_with_cause_and_fix(report):
    html = report.read_text()
    assert "an SCP denies root actions on this account" in html
    assert "aws:AssumedRoot" in html
    assert "Never audited successfully: data-lake (333333333333)" in html


def test_report_shows_exemptions_with_their_state(report):
    html = report.read_text()
    assert "break-glass SEC-42" in html and "90 days left" in html
    assert f"expired {(TODAY - timedelta(days=3)).isoformat()}: alerts again" in html
    # BREAK_GLASS's kinds are shown as exempt; LEGACY's keys, whose exemption expired, are not.
    assert html.count('class="chip password waived"') == 1 and html.count('class="chip mfa waived"') == 1
    assert 'class="chip access_keys waived"' not in html


# --- rendered in Chromium ---------------------------------------------------------------------------


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail("chromium is not installed: `apt-get install -y chromium` (make test installs it when missing)")
    pytest.skip("chromium is not installed (apt-get install -y chromium); required in CI")


def rendered_dom(path, tmp_path, fragment: str = "") -> str:
    """The DOM after the page's scripts ran, as headless Chromium dumps it."""
    command = [
        chromium_binary(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--dump-dom",
        f"file://{path}{fragment}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def account_rows(dom: str) -> list[tuple[str, str]]:
    """(group, account name) of each row of the accounts table, in the order the page shows them."""
    table = dom[dom.index('id="accounts"') : dom.index("</table>", dom.index('id="accounts"'))]
    return re.findall(r'<tr data-group="(\w+)"[^>]*>.*?<div class="name">([^<]*)</div>', table, flags=re.S)


def test_chromium_runs_the_page_script_and_puts_what_needs_action_first(report, tmp_path):
    dom = rendered_dom(report, tmp_path)
    assert 'data-ready="true"' in dom  # the inline script ran to the end
    assert "Showing 5 of 5 accounts" in dom
    rows = account_rows(dom)
    assert [group for group, _ in rows] == ["action", "action", "error", "exempt", "clean"]
    assert {name for group, name in rows if group == "action"} == {"payments-prod", "legacy-crm"}
    assert dom.count('<figure class="chart"') == 4
    for label in ("Password", "Access keys", "Signing certificates", "MFA"):
        assert f'<span class="kind">{label}</span>' in dom


def test_chromium_sorts_the_accounts_table_by_a_column(report, tmp_path):
    dom = rendered_dom(report, tmp_path, "#sort=1:desc")
    names = [name for _, name in account_rows(dom)]
    assert names == sorted(NAMES.values(), reverse=True)
    assert 'aria-sort="descending"' in dom


def test_report_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["report", "--output", str(tmp_path / "r.html")]) == 2
    assert "choose where the results are" in capsys.readouterr().err
    bad = tmp_path / "exemptions.json"
    bad.write_text(
        json.dumps([{"account_id": "1", "credentials": ["password"], "reason": "x", "expires": "2030-01-01"}])
    )
    assert main(["report", "--results", str(tmp_path), "--exemptions", str(bad)]) == 2
    assert "is not a 12-digit AWS account id" in capsys.readouterr().err
