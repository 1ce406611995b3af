"""`rootwatch exempt add|list|remove` against the sandbox: dry run by default, validation, the action log, and the
short exemption `remediate allow-password-recovery` offers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from rootwatch.aws.exemption_store import ExemptionStore
from rootwatch_cli import main

from tests.integration.test_ops_remediate import Terminal, action_items, create_status_table

ACCOUNT = "111122223333"


def _day(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


@pytest.fixture
def table(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    name = create_status_table()
    monkeypatch.setenv("ROOTWATCH_TABLE", name)
    monkeypatch.setattr("sys.stdin", None)
    return name


def _stored(table: str) -> list[dict[str, Any]]:
    store = ExemptionStore(boto3.client("dynamodb", region_name="us-east-1"), table)
    return [s.to_dict(today=datetime.now(UTC).date()) for s in store.entries()]


def _add(*extra: str) -> list[str]:
    return ["exempt", "add", "--account", ACCOUNT, "--credentials", "password,mfa", "--reason", "SEC-42", *extra]


def test_add_is_a_dry_run_by_default(table, capsys):
    assert main(_add("--expires", _day(10))) == 0
    assert "dry run: nothing was stored" in capsys.readouterr().out
    assert _stored(table) == []


def test_add_stores_one_item_per_kind_with_who_and_when_and_logs_it(table, capsys):
    assert main([*_add("--expires", _day(10)), "--yes"]) == 0
    stored = _stored(table)
    assert [(s["credential"], s["expires"], s["status"]) for s in stored] == [
        ("password", _day(10), "active"),
        ("mfa", _day(10), "active"),
    ]
    assert all(s["created_by"].startswith("arn:aws:") and s["created_at"] for s in stored)
    (entry,) = action_items(table, ACCOUNT)
    assert (entry["operation"], entry["action"], entry["target"]) == ("exempt", "add", "password,mfa")
    assert entry["who"] == stored[0]["created_by"] and "SEC-42" in entry["message"]
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=table, Key={"pk": {"S": "EXEMPTION"}, "sk": {"S": f"{ACCOUNT}#password"}}
    )["Item"]
    assert int(item["expires_at"]["N"]) > datetime.now(UTC).timestamp() + 30 * 86400  # TTL: a month after expiry


def test_list_shows_table_and_json(table, capsys):
    assert main([*_add("--expires", _day(3)), "--yes"]) == 0
    capsys.readouterr()
    assert main(["exempt", "list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["credential"] for r in rows} == {"password", "mfa"} and rows[0]["reason"] == "SEC-42"
    assert main(["exempt", "list", "--account", "444455556666", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["exempt", "list"]) == 0
    assert ACCOUNT in capsys.readouterr().out


def test_remove_one_kind_then_the_rest_each_logged(table, capsys):
    assert main([*_add("--expires", _day(3)), "--yes"]) == 0
    assert main(["exempt", "remove", "--account", ACCOUNT, "--credentials", "mfa"]) == 0  # dry run
    assert len(_stored(table)) == 2
    assert main(["exempt", "remove", "--account", ACCOUNT, "--credentials", "mfa", "--yes"]) == 0
    assert [s["credential"] for s in _stored(table)] == ["password"]
    assert main(["exempt", "remove", "--account", ACCOUNT, "--yes"]) == 0
    assert _stored(table) == []
    assert [(e["action"], e["target"]) for e in action_items(table, ACCOUNT)] == [
        ("add", "password,mfa"),
        ("remove", "mfa"),
        ("remove", "password"),
    ]
    assert main(["exempt", "remove", "--account", ACCOUNT, "--yes"]) == 0
    assert "no stored exemption to remove" in capsys.readouterr().out


def test_remove_declined_at_the_prompt_changes_nothing(table, monkeypatch, capsys):
    assert main([*_add("--expires", _day(3)), "--yes"]) == 0
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    assert main(["exempt", "remove", "--account", ACCOUNT, "--execute"]) == 1
    assert len(_stored(table)) == 2


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--expires", _day(-1)], "is in the past"),
        (["--expires", _day(400)], "more than 366 days ahead"),
        (["--expires", "2027-02-30"], "is not a real date"),
        (["--expires", "tomorrow"], "not a date of the form YYYY-MM-DD"),
    ],
)
def test_bad_expiry_is_one_line_and_nothing_is_stored(table, capsys, args, words):
    assert main([*_add(*args), "--yes"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err
    assert _stored(table) == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["exempt", "add", "--account", "12345", "--credentials", "password", "--reason", "x"], "--account"),
        (["exempt", "add", "--account", ACCOUNT, "--credentials", "passwd", "--reason", "x"], "unknown credential"),
        (["exempt", "add", "--account", ACCOUNT, "--credentials", "password", "--reason", " "], "reason must say why"),
        (["exempt", "add", "--account", ACCOUNT, "--credentials", "password"], "--reason"),
    ],
)
def test_bad_input_is_one_line(table, capsys, args, words):
    assert main([*args, "--expires", _day(2), "--yes"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err
    assert _stored(table) == []


def test_without_a_status_table_add_is_refused(sandbox, monkeypatch, capsys):
    monkeypatch.delenv("ROOTWATCH_TABLE", raising=False)
    assert main([*_add("--expires", _day(2)), "--yes"]) == 2
    assert "--table" in capsys.readouterr().err


# -- remediate allow-password-recovery offers a short exemption ---------------------------------------------


@pytest.fixture
def member(sandbox: Any, table: str) -> str:
    account = sandbox.create_demo_org(accounts=2, seed=7)["accounts"][0]["account_id"]
    sandbox.set_root_credentials(account)
    return account


def test_password_recovery_with_yes_exempts_the_password_until_tomorrow(member, table, capsys):
    assert main(["remediate", "allow-password-recovery", "--account", member, "--yes"]) == 0
    assert f"exempted: password of account {member} until {_day(1)}" in capsys.readouterr().out
    stored = _stored(table)
    assert [(s["account_id"], s["credential"], s["expires"]) for s in stored] == [(member, "password", _day(1))]
    assert [e["action"] for e in action_items(table, member)] == ["CreateLoginProfile", "add"]


def test_password_recovery_exempt_days_and_no_exempt(member, table, capsys):
    assert main(["remediate", "allow-password-recovery", "--account", member, "--no-exempt", "--yes"]) == 0
    assert _stored(table) == []
    assert main(["remediate", "allow-password-recovery", "--account", member, "--exempt-days", "0"]) == 2
    assert "--exempt-days" in capsys.readouterr().err


def test_password_recovery_asks_for_the_exemption_separately(member, table, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", Terminal("y\nn\n"))
    args = ["remediate", "allow-password-recovery", "--account", member, "--execute", "--exempt-days", "3"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"until {_day(3)}" in out and "not exempted: the password alerts at the next run" in out
    assert _stored(table) == []


def test_password_recovery_dry_run_names_the_offer(member, table, capsys):
    assert main(["remediate", "allow-password-recovery", "--account", member]) == 0
    assert f"would offer: exempt the password until {_day(1)}" in capsys.readouterr().out
