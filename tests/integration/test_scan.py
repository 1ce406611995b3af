"""`rootwatch scan` against the sandbox: every output format, every exit code, bad input, no leaked credentials."""

from __future__ import annotations

import csv
import io
import json
import re
import threading

import boto3
import pytest
from rootwatch.aws.clients import ClientFactory
from rootwatch.domain.records import RECORD_FIELDS, AuditRecord
from rootwatch.services import scan as scan_service
from rootwatch_cli import main
from rootwatch_cli.commands import scan
from rootwatch_sandbox import MANAGEMENT_ACCOUNT_ID

SCP_DENY = "User: arn:aws:iam::{id}:root is not authorized to perform: iam:GetAccountSummary with an explicit deny in a service control policy"  # noqa: E501
FIELDS = [f.name for f in RECORD_FIELDS]


@pytest.fixture(autouse=True)
def no_endpoint_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process sandbox answers boto3 directly; an inherited endpoint would send scan elsewhere."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_STS", raising=False)


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every credential AssumeRoot hands to the scan (captured by a botocore hook, for leak checks)."""
    captured: list[str] = []
    build = scan.factory_from_args

    def factory_with_capture(args, **kwargs) -> ClientFactory:
        factory = build(args, **kwargs)

        def keep(parsed, **_: object) -> None:
            creds = parsed.get("Credentials") or {}
            captured.extend(creds[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken") if k in creds)

        factory.register_event("after-call.sts.AssumeRoot", keep)
        return factory

    monkeypatch.setattr(scan, "factory_from_args", factory_with_capture)
    return captured


def build_org(members: int, *, feature: bool = True) -> list[str]:
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    ids = [
        org.create_account(AccountName=f"member-{i:02d}", Email=f"member-{i:02d}@example.com")["CreateAccountStatus"][
            "AccountId"
        ]
        for i in range(members)
    ]
    if feature:
        org.enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
        boto3.client("iam", region_name="us-east-1").enable_organizations_root_credentials_management()
    return ids


@pytest.fixture
def mixed_org(sandbox) -> dict[str, str]:
    """clean, password-only, everything, suspended, SCP-denied."""
    clean, password, everything, suspended, denied = build_org(5)
    sandbox.set_root_credentials(password, password=True)
    sandbox.set_root_credentials(
        everything, password=True, access_keys=["Active", "Inactive"], mfa_devices=["virtual"],
        signing_certificates=["Active"],
    )  # fmt: skip
    sandbox.set_account_state(suspended, "SUSPENDED")
    sandbox.add_fault(denied, "GetAccountSummary", "AccessDenied", SCP_DENY.format(id=denied), None)
    return {"clean": clean, "password": password, "everything": everything, "suspended": suspended, "denied": denied}


def run_scan(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["scan", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def by_account(records: list[dict]) -> dict[str, dict]:
    return {r["account_id"]: r for r in records}


def test_json_has_one_contract_record_per_account(mixed_org, capsys) -> None:
    code, out, err = run_scan(capsys, "--format", "json")
    records = json.loads(out)
    assert code == 3
    assert all(list(r) == FIELDS for r in records)
    rows = by_account(records)
    assert set(rows) == {*mixed_org.values(), MANAGEMENT_ACCOUNT_ID}
    assert rows[mixed_org["clean"]]["status"] == "OK"
    assert rows[mixed_org["clean"]]["root_credentials_present"] is False
    assert rows[mixed_org["password"]]["password_present"] is True
    everything = rows[mixed_org["everything"]]
    assert (everything["active_access_keys"], everything["inactive_access_keys"]) == (1, 1)
    assert everything["mfa_devices"] == 1 and everything["active_signing_certificates"] == 1
    denied = rows[mixed_org["denied"]]
    assert (denied["status"], denied["error_code"]) == ("ERROR", "ACCESS_DENIED")
    assert denied["error_message"] == SCP_DENY.format(id=mixed_org["denied"])
    assert denied["password_present"] is None
    assert (rows[mixed_org["suspended"]]["status"], rows[mixed_org["suspended"]]["error_code"]) == (
        "SKIPPED",
        "SUSPENDED",
    )
    assert rows[MANAGEMENT_ACCOUNT_ID]["error_code"] == "MANAGEMENT_ACCOUNT"
    assert len({r["run_id"] for r in records}) == 1
    assert re.fullmatch(r"scan-\d{8}T\d{6}Z", records[0]["run_id"])
    assert "1 audit errors" in err and "2 with root credentials" in err


def test_json_and_the_table_carry_the_severity_from_the_finding_table(mixed_org, capsys) -> None:
    _, out, _ = run_scan(capsys, "--format", "json")
    rows = by_account(json.loads(out))
    assert (rows[mixed_org["password"]]["severity"], rows[mixed_org["password"]]["finding_kinds"][:2]) == (
        "critical",
        ["password_without_mfa", "password"],
    )
    assert rows[mixed_org["everything"]]["finding_kinds"] == [
        "active_access_key",
        "password",
        "active_signing_certificate",
        "inactive_access_key_or_signing_certificate",
        "password_unused",
    ]
    assert rows[mixed_org["denied"]]["severity"] == "critical" and rows[mixed_org["denied"]]["finding_kinds"] == [
        "audit_error"
    ]
    assert (rows[mixed_org["clean"]]["severity"], rows[mixed_org["clean"]]["finding_kinds"]) == (None, [])
    assert rows[MANAGEMENT_ACCOUNT_ID]["severity"] is None
    row = scan.table_row(AuditRecord.from_dict(rows[mixed_org["everything"]]))
    assert list(row)[3:5] == ["status", "severity"] and row["severity"] == "CRITICAL"


def test_jsonl_has_one_record_per_line(mixed_org, capsys) -> None:
    code, out, _ = run_scan(capsys, "--format", "jsonl")
    lines = out.splitlines()
    assert code == 3
    assert len(lines) == 6
    assert by_account([json.loads(line) for line in lines])[mixed_org["everything"]]["mfa_enabled"] is True


@pytest.mark.parametrize(("fmt", "delimiter"), [("csv", ","), ("tsv", "\t")])
def test_csv_and_tsv_have_the_contract_header_and_text_values(mixed_org, capsys, fmt, delimiter) -> None:
    code, out, _ = run_scan(capsys, "--format", fmt)
    rows = list(csv.DictReader(io.StringIO(out), delimiter=delimiter))
    assert code == 3
    assert list(rows[0]) == FIELDS
    table = by_account(rows)
    assert table[mixed_org["password"]]["password_present"] == "true"
    assert table[mixed_org["clean"]]["access_keys_present"] == "false"
    assert table[mixed_org["suspended"]]["password_present"] == ""
    assert table[mixed_org["denied"]]["error_message"] == SCP_DENY.format(id=mixed_org["denied"])


def test_table_names_accounts_credentials_and_errors(mixed_org, capsys) -> None:
    code, out, _ = run_scan(capsys)
    assert code == 3
    for account_id in mixed_org.values():
        assert account_id in out
    assert "password, access_keys, signing_certificates, mfa" in out
    assert "1 active, 1 inactive" in out
    assert "ACCESS_DENIED: User: arn:aws:iam::" in out
    assert "SKIPPED" in out and "MANAGEMENT_ACCOUNT" in out


def test_output_file_gets_the_records_and_stdout_stays_empty(mixed_org, capsys, tmp_path) -> None:
    target = tmp_path / "scan.jsonl"
    code, out, _ = run_scan(capsys, "--format", "jsonl", "--output", str(target))
    assert code == 3
    assert out == ""
    assert len(target.read_text().splitlines()) == 6


def test_clean_org_exits_zero_even_with_skipped_accounts(sandbox, capsys) -> None:
    ids = build_org(3)
    sandbox.set_account_state(ids[0], "CLOSED")
    code, out, _ = run_scan(capsys, "--format", "json", "--concurrency", "2")
    records = json.loads(out)
    assert code == 0
    assert sorted(r["status"] for r in records) == ["OK", "OK", "SKIPPED", "SKIPPED"]


def test_audit_error_alone_exits_three(sandbox, capsys) -> None:
    ids = build_org(2)
    sandbox.add_fault(ids[1], "AssumeRoot", "AccessDenied", "explicit deny in a service control policy", None)
    code, out, _ = run_scan(capsys, "--format", "json")
    assert code == 3
    assert by_account(json.loads(out))[ids[1]]["error_code"] == "ACCESS_DENIED"


def test_accounts_flag_limits_the_scan_to_those_accounts(mixed_org, capsys) -> None:
    wanted = [mixed_org["clean"], mixed_org["suspended"]]
    code, out, _ = run_scan(capsys, "--format", "json", "--accounts", ",".join(wanted))
    records = json.loads(out)
    assert code == 0
    assert sorted(r["account_id"] for r in records) == sorted(wanted)


def test_account_not_in_the_org_is_a_usage_error_naming_it(mixed_org, capsys) -> None:
    code, out, err = run_scan(capsys, "--accounts", f"{mixed_org['clean']},999999999999")
    assert code == 2
    assert out == ""
    assert "--accounts: 999999999999 is not in organization o-" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--accounts", "12345"], "--accounts: '12345' is not a 12-digit AWS account id"),
        (["--accounts", " , "], "--accounts"),
        (["--format", "xml"], "--format"),
        (["--concurrency", "0"], "--concurrency"),
        (["--concurrency", "65"], "--concurrency"),
        (["--concurrency", "many"], "--concurrency"),
        (["--profile", "no-such-profile-here"], "--profile"),
        (["--output", "/no/such/directory/scan.json"], "--output"),
    ],
)
def test_bad_input_exits_two_with_one_line_naming_the_flag(sandbox, capsys, argv, named) -> None:
    code, out, err = run_scan(capsys, *argv)
    assert code == 2
    assert out == ""
    assert named in err
    assert len(err.strip().splitlines()) == 1


def test_feature_disabled_is_one_clear_error_not_one_per_account(sandbox, capsys) -> None:
    build_org(4, feature=False)
    code, out, err = run_scan(capsys, "--format", "json")
    assert code == 2
    assert out == ""
    assert err.count("error:") == 1
    assert "Service not enabled for AWS Organizations." in err
    assert "root credentials management" in err


def test_caller_outside_an_organization_gets_a_clear_error(sandbox, capsys) -> None:
    code, _, err = run_scan(capsys)
    assert code == 2
    assert "cannot list the organization's accounts" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv", "tsv"])
def test_no_root_session_credential_appears_in_any_output(mixed_org, capsys, secrets, fmt, tmp_path) -> None:
    target = tmp_path / f"scan.{fmt}"
    _, out, err = run_scan(capsys, "--format", fmt)
    run_scan(capsys, "--format", fmt, "--output", str(target))
    assert len(secrets) >= 2 * 3 * 4  # two scans, three values, four audited accounts
    everything = out + err + target.read_text()
    for secret in secrets:
        assert secret not in everything


def test_feature_switched_off_mid_scan_still_gives_one_error(sandbox, capsys) -> None:
    ids = build_org(4)
    for account_id in ids[1:]:  # the first account audits fine; the others answer as a disabled org would
        sandbox.add_fault(account_id, "AssumeRoot", "AccessDenied", "Service not enabled for AWS Organizations.", None)
    code, out, err = run_scan(capsys, "--format", "json", "--concurrency", "2")
    assert code == 2
    assert out == ""
    assert err.count("error:") == 1
    assert "Service not enabled for AWS Organizations." in err


def test_missing_caller_credentials_is_a_config_error(sandbox, capsys, monkeypatch, tmp_path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    code, out, err = run_scan(capsys)
    assert code == 2
    assert out == ""
    assert "no AWS credentials found" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("value", ["", "  ", ",", " , ,"])
def test_an_empty_account_list_is_a_usage_error_not_the_whole_org(mixed_org, capsys, monkeypatch, value) -> None:
    """Issue 9: `--accounts ""` used to mean "no list", i.e. every account."""
    audited: list[str] = []
    original = scan_service.audit_account
    monkeypatch.setattr(scan_service, "audit_account", lambda f, a, **kw: audited.append(a.id) or original(f, a, **kw))
    code, out, err = run_scan(capsys, "--accounts", value)
    assert code == 2
    assert out == ""
    assert "--accounts: empty" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert audited == []


@pytest.mark.parametrize("value", ["١٢٣٤٥٦٧٨٩٠١٢", "{clean},١٢٣٤٥٦٧٨٩٠١٢"])
def test_non_ascii_digits_are_not_account_ids(mixed_org, capsys, value) -> None:
    code, out, err = run_scan(capsys, "--accounts", value.format(**mixed_org))
    assert code == 2
    assert out == ""
    assert "is not a 12-digit AWS account id" in err
    assert len(err.strip().splitlines()) == 1


def test_scanning_only_the_management_account_says_it_cannot_be_audited(mixed_org, capsys) -> None:
    code, out, err = run_scan(capsys, "--accounts", MANAGEMENT_ACCOUNT_ID)
    assert code == 2 and out == ""
    assert f"--accounts: {MANAGEMENT_ACCOUNT_ID} is the management account" in err
    assert "sts:AssumeRoot only targets member accounts" in err and len(err.strip().splitlines()) == 1
    # With a member account beside it, the scan runs and the management account is a SKIPPED record.
    code, out, err = run_scan(capsys, "--accounts", f"{MANAGEMENT_ACCOUNT_ID},{mixed_org['clean']}", "--format", "json")
    assert code == 0
    assert {r["account_id"]: r["error_code"] for r in json.loads(out)}[MANAGEMENT_ACCOUNT_ID] == "MANAGEMENT_ACCOUNT"


def test_ctrl_c_prints_what_was_audited_cancels_the_rest_and_exits_130(sandbox, capsys, monkeypatch) -> None:
    ids = build_org(40)
    original = scan_service.audit_account
    audited: list[str] = []
    lock = threading.Lock()

    def audit_then_interrupt(factory, account, **kw):
        with lock:
            if len(audited) >= 5:
                raise KeyboardInterrupt  # as Ctrl-C would, while the sixth account is being audited
            audited.append(account.id)
        return original(factory, account, **kw)

    monkeypatch.setattr(scan_service, "audit_account", audit_then_interrupt)
    code, out, err = run_scan(capsys, "--format", "json", "--concurrency", "2")
    assert code == 130
    records = json.loads(out)
    assert len(audited) == 5  # the other 35 were cancelled, never audited
    assert 1 <= len(records) <= 5  # the audits finished before Ctrl-C (one may still be in flight)
    assert {r["account_id"] for r in records} <= set(audited) < set(ids)
    assert re.search(r"^interrupted: \d+ of 40 accounts audited, \d+ not audited; so far ", err, re.M)
    assert "Traceback" not in err


def test_only_findings_lists_errors_and_credentials_most_severe_first(mixed_org, capsys) -> None:
    code, out, err = run_scan(capsys, "--only-findings", "--format", "json")
    assert code == 3
    ids = [r["account_id"] for r in json.loads(out)]
    # the SCP-denied audit error, then the active access key, then the password only; clean/suspended left out
    assert ids == [mixed_org["denied"], mixed_org["everything"], mixed_org["password"]]
    assert ": 3 audited, 2 with root credentials, 1 audit errors, 2 skipped" in err  # every account counted
    code, out, _ = run_scan(capsys, "--only-findings", "--format", "table")
    assert mixed_org["clean"] not in out and mixed_org["denied"] in out


def test_quiet_prints_only_results_and_verbose_logs_without_credentials(mixed_org, capsys, secrets, tmp_path) -> None:
    target = tmp_path / "out.json"
    code, out, err = run_scan(capsys, "--quiet", "--output", str(target))
    assert code == 3 and out == ""
    assert "wrote" not in err and "accounts of" in err  # no side remark; the summary is a result
    code, out, err = run_scan(capsys, "--verbose", "--format", "json")
    assert code == 3 and json.loads(out)
    assert "DEBUG rootwatch_cli.commands.scan: organization" in err
    assert f"audited {mixed_org['everything']}: root credentials password, access_keys" in err
    assert secrets and not any(secret in err for secret in secrets)
    code, _, err = run_scan(capsys, "--format", "json")
    assert "DEBUG" not in err  # --verbose does not stick to the next command


def test_fail_on_none_exits_zero_with_findings_and_still_prints_them(mixed_org, capsys) -> None:
    code, out, _ = run_scan(capsys, "--format", "json", "--fail-on", "none")
    assert code == 0
    assert any(r["root_credentials_present"] for r in json.loads(out))


def test_fail_on_new_is_refused_because_scan_keeps_no_history(mixed_org, capsys) -> None:
    code, out, err = run_scan(capsys, "--fail-on", "new")
    lines = err.strip().splitlines()
    assert code == 2 and out == ""
    assert len(lines) == 1 and "--fail-on new: scan keeps no history" in lines[0] and "rootwatch run" in lines[0]
