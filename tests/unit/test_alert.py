"""The run's alert: when it is sent, what it says, and the rootwatch.alert/v1 contract."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from rootwatch.domain.alert import CONSOLE_URL, SCHEMA, Alert, RunFailure, compose_alert
from rootwatch.domain.records import AuditRecord, AuditStatus

RUN = {"run_id": "run-2026-11-22", "organization_id": "o-abc123", "scanned_at": "2026-11-22T02:00:00Z"}


def ok(account_id, name, *, kinds=(), appeared=(), disappeared=(), first_audit=False):
    flags = {
        "password_present": "password" in kinds,
        "access_keys_present": "access_keys" in kinds,
        "signing_certificates_present": "signing_certificates" in kinds,
        "mfa_enabled": "mfa" in kinds,
    }
    return AuditRecord(
        run_id=RUN["run_id"],
        scanned_at=RUN["scanned_at"],
        account_id=account_id,
        account_name=name,
        status=AuditStatus.OK,
        root_credentials_present=bool(kinds),
        appeared=list(appeared),
        disappeared=list(disappeared),
        first_audit=first_audit,
        **flags,
    )


def error(account_id, name, code, message):
    return AuditRecord(
        run_id=RUN["run_id"],
        scanned_at=RUN["scanned_at"],
        account_id=account_id,
        account_name=name,
        status=AuditStatus.ERROR,
        error_code=code,
        error_message=message,
    )


def skipped(account_id):
    return AuditRecord(
        run_id=RUN["run_id"],
        scanned_at=RUN["scanned_at"],
        account_id=account_id,
        status=AuditStatus.SKIPPED,
        error_code="SUSPENDED",
        error_message="account is SUSPENDED",
    )


SCP_MESSAGE = (
    "User: arn:aws:sts::123456789012:assumed-role/scanner/x is not authorized to perform: sts:AssumeRoot "
    "on resource: arn:aws:iam::222222222222:root with an explicit deny in a service control policy"
)


def test_quiet_run_with_unchanged_credentials_sends_no_alert():
    records = [ok("111111111111", "prod", kinds=["mfa"]), ok("222222222222", "dev"), skipped("333333333333")]
    assert compose_alert(records, **RUN) is None


def test_only_resolved_credentials_send_no_alert():
    records = [ok("111111111111", "prod", disappeared=["password"])]
    assert compose_alert(records, **RUN) is None


def test_reappearance_names_account_and_credential_and_leaves_unchanged_accounts_out():
    records = [
        ok("111111111111", "prod-payments", kinds=["password", "mfa"], appeared=["password"]),
        ok("222222222222", "steady-with-mfa", kinds=["mfa"]),
        ok("444444444444", "clean"),
    ]
    alert = compose_alert(records, **RUN)
    assert isinstance(alert, Alert)
    assert alert.document["reappeared"] == [
        {
            "account_id": "111111111111",
            "account_name": "prod-payments",
            "ou_path": None,
            "credentials": ["password"],
            "severity": "high",
        }
    ]
    assert "prod-payments (111111111111)" in alert.subject and "password" in alert.subject
    assert "o-abc123" in alert.subject
    assert "prod-payments (111111111111): password (high)" in alert.text
    assert alert.document["severity"] == "high" and alert.subject.startswith("[HIGH] [rootwatch] ")
    # Absent at the last audit is all rootwatch knows: "appeared", never "reappeared", in the human words.
    assert " appeared on " in alert.subject and "reappeared" not in alert.subject.lower()
    assert "ROOT CREDENTIALS APPEARED (1 account)" in alert.text and "reappeared" not in alert.text.lower()
    assert "222222222222" not in alert.text and "steady-with-mfa" not in alert.text


def test_alert_json_follows_the_v1_contract_exactly():
    alert = compose_alert([ok("111111111111", "a", kinds=["access_keys"], first_audit=True), skipped("2" * 12)], **RUN)
    assert alert is not None
    assert list(alert.document) == [
        "schema",
        "run_id",
        "organization_id",
        "scanned_at",
        "reappeared",
        "new_with_credentials",
        "audit_errors",
        "resolved",
        "totals",
        "recommendations",  # added at the end, additively (rootwatch.domain.findings)
        "severity",  # added at the end, additively: the highest of the entries'
    ]
    assert alert.document["schema"] == SCHEMA
    assert alert.document["new_with_credentials"] == [
        {
            "account_id": "111111111111",
            "account_name": "a",
            "ou_path": None,
            "credentials": ["access_keys"],
            "severity": "critical",
        }
    ]
    assert alert.document["totals"] == {
        "accounts": 2,
        "audited": 1,
        "with_root_credentials": 1,
        "errors": 0,
        "skipped": 1,
    }


def test_sns_envelope_carries_text_for_email_and_json_for_machines():
    alert = compose_alert([ok("111111111111", "a", kinds=["password"], appeared=["password"])], **RUN)
    envelope = json.loads(alert.sns_message())
    assert envelope["default"] == envelope["email"] == alert.text
    for protocol in ("sqs", "lambda", "https", "email-json"):
        assert json.loads(envelope[protocol]) == alert.document


def test_text_gives_the_console_link_and_the_remediation_command_for_every_flagged_account():
    records = [
        ok("111111111111", "a", kinds=["password"], appeared=["password"]),
        ok("555555555555", "b", kinds=["access_keys"], first_audit=True),
    ]
    alert = compose_alert(records, **RUN)
    assert CONSOLE_URL in alert.text
    assert "rootwatch remediate delete-root-credentials --accounts 111111111111,555555555555" in alert.text


def test_scp_denial_is_listed_with_aws_message_cause_and_fix():
    alert = compose_alert([error("222222222222", "locked-down", "ACCESS_DENIED", SCP_MESSAGE)], **RUN)
    assert alert.document["audit_errors"] == [
        {
            "account_id": "222222222222",
            "account_name": "locked-down",
            "ou_path": None,
            "error_code": "ACCESS_DENIED",
            "error_message": SCP_MESSAGE,
            "severity": "critical",
        }
    ]
    assert SCP_MESSAGE in alert.text
    assert "an SCP denies root actions" in alert.text and "aws:AssumedRoot" in alert.text
    assert "1 audit failed" in alert.subject and alert.subject.startswith("[CRITICAL] [rootwatch] ")
    assert "locked-down (222222222222): ACCESS_DENIED (critical)" in alert.text


def test_feature_disabled_run_failure_is_one_alert_telling_to_run_enable():
    failure = RunFailure("FEATURE_DISABLED", "RootCredentialsManagement is not enabled", account_id="123456789012")
    alert = compose_alert([], run_failure=failure, **RUN)
    assert alert is not None
    assert len(alert.document["audit_errors"]) == 1
    assert alert.document["audit_errors"][0]["error_code"] == "FEATURE_DISABLED"
    assert "rootwatch enable" in alert.text and "RootCredentialsManagement" in alert.text
    assert "failed" in alert.subject.lower() and "FEATURE_DISABLED" in alert.subject
    assert alert.subject.startswith("[CRITICAL] [rootwatch] Audit run failed")


def test_exempt_kinds_do_not_alert_but_other_kinds_on_the_same_account_do():
    records = [
        ok("111111111111", "a", kinds=["password"], appeared=["password"]),
        ok("222222222222", "b", kinds=["password", "access_keys"], appeared=["password", "access_keys"]),
    ]
    exempt = {"111111111111": {"password"}, "222222222222": {"password"}}
    alert = compose_alert(records, exempt_kinds=exempt, **RUN)
    assert alert.document["reappeared"] == [
        {
            "account_id": "222222222222",
            "account_name": "b",
            "ou_path": None,
            "credentials": ["access_keys"],
            "severity": "critical",
        }
    ]
    assert compose_alert(records[:1], exempt_kinds=exempt, **RUN) is None


@given(
    st.lists(
        st.tuples(st.text(min_size=1, max_size=80), st.sampled_from(["password", "mfa", "access_keys"])),
        min_size=1,
        max_size=30,
    ),
    st.integers(min_value=0, max_value=5),
)
def test_subject_is_one_line_of_at_most_100_characters(accounts, errors):
    records = [ok(f"{i:012d}", name, kinds=[kind], appeared=[kind]) for i, (name, kind) in enumerate(accounts)]
    records += [error(f"9{i:011d}", "e\nx", "UNKNOWN", "boom") for i in range(errors)]
    alert = compose_alert(records, **{**RUN, "organization_id": "o-" + "x" * 30})
    assert alert.subject.startswith(f"[{alert.document['severity'].upper()}] [rootwatch] ")
    assert len(alert.subject) <= 100 and "\n" not in alert.subject


def test_long_names_are_dropped_from_the_subject_before_the_account_id_is_cut():
    name = "payments-production-eu-west-1-primary-workload-account"
    records = [
        ok("245023119797", name, kinds=["password", "access_keys"], appeared=["password", "access_keys"]),
        error("881030329225", "web", "ACCESS_DENIED", "denied"),
    ]
    alert = compose_alert(records, **{**RUN, "organization_id": "o-md129t2g3e"})
    assert alert.subject == (
        "[CRITICAL] [rootwatch] o-md129t2g3e: Root credentials appeared on 245023119797; 1 audit failed"
    )
    assert f"{name} (245023119797): password, access keys" in alert.text


def test_large_first_night_caps_every_text_list_but_keeps_every_json_entry():
    from rootwatch.domain.alert import REMEDIATE_ALL_COMMAND, REMEDIATE_COMMAND, TEXT_LIST_MAX

    many = [ok(f"{100000000000 + i}", f"acct-{i:04d}", kinds=["password"], first_audit=True) for i in range(3000)]
    errors = [error(f"{200000000000 + i}", f"err-{i:03d}", "ACCESS_DENIED", SCP_MESSAGE) for i in range(40)]
    alert = compose_alert(many + errors, **RUN)
    assert alert is not None
    text = alert.text
    assert text.count("  - acct-") == TEXT_LIST_MAX
    assert "  … and 2975 more (see `rootwatch query with_root_credentials` or the report)" in text
    assert text.count("  - err-") == TEXT_LIST_MAX
    assert "  … and 15 more (see `rootwatch query audit_errors` or the report)" in text
    assert REMEDIATE_ALL_COMMAND in text and REMEDIATE_COMMAND not in text
    assert "100000002999" not in text  # no command line carrying thousands of ids
    doc = alert.document
    assert len(doc["new_with_credentials"]) == 3000 and len(doc["audit_errors"]) == 40
    assert len(alert.subject) <= 100


def test_up_to_the_cap_every_account_and_the_id_list_command_are_shown():
    from rootwatch.domain.alert import REMEDIATE_ALL_COMMAND, REMEDIATE_COMMAND, TEXT_LIST_MAX

    few = [
        ok(f"{100000000000 + i}", f"acct-{i:04d}", kinds=["password"], first_audit=True) for i in range(TEXT_LIST_MAX)
    ]
    text = compose_alert(few, **RUN).text
    assert text.count("  - acct-") == TEXT_LIST_MAX and "more (see" not in text
    assert f"{REMEDIATE_COMMAND} {','.join(r.account_id for r in few)}" in text
    assert REMEDIATE_ALL_COMMAND not in text


def test_each_account_entry_carries_its_ou_path_and_the_text_shows_it_after_the_name():
    from dataclasses import replace

    records = [
        replace(
            ok("111111111111", "prod-payments", kinds=["password"], appeared=["password"]),
            ou_path="Root/Workloads/Prod",
        ),
        replace(error("222222222222", "sandbox-7", "ACCESS_DENIED", SCP_MESSAGE), ou_path="Root/Sandbox"),
        ok("333333333333", "legacy", kinds=["access_keys"], first_audit=True),  # a record from before the OU walk
    ]
    alert = compose_alert(records, **RUN)
    assert alert is not None
    assert alert.document["reappeared"][0]["ou_path"] == "Root/Workloads/Prod"
    assert alert.document["audit_errors"][0]["ou_path"] == "Root/Sandbox"
    assert alert.document["new_with_credentials"][0]["ou_path"] is None
    assert "  - prod-payments (111111111111) in Root/Workloads/Prod: password" in alert.text
    assert "  - sandbox-7 (222222222222) in Root/Sandbox: ACCESS_DENIED" in alert.text
    assert "  - legacy (333333333333): " in alert.text
    assert "Root/" not in alert.subject  # the subject keeps its 100 characters for what happened


def test_the_subject_leads_with_the_highest_severity_of_what_alerts():
    records = [
        ok("111111111111", "a", kinds=["mfa"], appeared=["mfa"]),
        ok("222222222222", "b", kinds=["password", "mfa"], appeared=["password"]),
    ]
    alert = compose_alert(records, **RUN)
    assert [e["severity"] for e in alert.document["reappeared"]] == ["low", "high"]
    assert alert.document["severity"] == "high" and alert.subject.startswith("[HIGH] [rootwatch] o-abc123: ")
    only_mfa = compose_alert(records[:1], **RUN)
    assert only_mfa.subject.startswith("[LOW] [rootwatch] ") and "a (111111111111): MFA (low)" in only_mfa.text
