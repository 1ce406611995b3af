"""Re-audit on change: event checks, one audit per account, the nightly alert path with ``trigger: event``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rootwatch.domain.errors import ThrottledError
from rootwatch.domain.root_events import (
    MALFORMED,
    NOT_A_ROOT_EVENT,
    ROOT_EVENT_NAMES,
    DroppedEvent,
    RootEvent,
    parse_root_event,
)
from rootwatch.services import reaudit, run

from tests.unit.test_handlers_run_service import (
    ACCOUNT,
    CLEAN,
    WITH_PASSWORD,
    MemoryNotifier,
    MemoryStore,
    _night,
    audit_returning,
)

MEMBER = ACCOUNT.id


def cloudtrail_event(account: Any = MEMBER, name: str = "UpdateLoginProfile", event_id: str = "e-1", **changes):
    """An EventBridge "AWS API Call via CloudTrail" event as the rule delivers it to SQS."""
    event: dict[str, Any] = {
        "version": "0",
        "id": "eb-" + event_id,
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.iam",
        "account": account,
        "time": "2026-11-25T10:00:00Z",
        "region": "us-east-1",
        "detail": {
            "eventName": name,
            "eventTime": "2026-11-25T10:00:00Z",
            "eventID": event_id,
            "eventSource": "iam.amazonaws.com",
            "recipientAccountId": account,
            "userIdentity": {"type": "Root", "accountId": account},
        },
    }
    for key, value in changes.items():
        if key.startswith("detail_"):
            event["detail"][key[len("detail_") :]] = value
        else:
            event[key.replace("_", "-")] = value
    return event


def test_a_cloudtrail_root_event_is_read_from_its_json_body():
    parsed = parse_root_event(json.dumps(cloudtrail_event()))
    assert parsed == RootEvent(MEMBER, "UpdateLoginProfile", "2026-11-25T10:00:00Z", "e-1")
    assert parsed.to_dict() == {
        "event_name": "UpdateLoginProfile",
        "event_time": "2026-11-25T10:00:00Z",
        "event_id": "e-1",
    }


def test_every_listed_event_name_is_accepted_and_password_recovery_is_among_them():
    assert "PasswordRecoveryCompleted" in ROOT_EVENT_NAMES and "CreateAccessKey" in ROOT_EVENT_NAMES
    for name in ROOT_EVENT_NAMES:
        assert isinstance(parse_root_event(cloudtrail_event(name=name)), RootEvent)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", MALFORMED),
        ("[1, 2]", MALFORMED),
        (None, MALFORMED),
        (cloudtrail_event(account="12345678901"), MALFORMED),
        (cloudtrail_event(account="\uff11" * 12), MALFORMED),  # fullwidth digits
        (cloudtrail_event(account="123456789012\n"), MALFORMED),
        (cloudtrail_event(account=123456789012), MALFORMED),
        (cloudtrail_event(detail="x"), MALFORMED),
        (cloudtrail_event(detail_recipientAccountId="222222222222"), MALFORMED),
        (cloudtrail_event(detail_eventID=None, id=None), MALFORMED),
        (cloudtrail_event(detail_eventTime="x" * 65), MALFORMED),
        (cloudtrail_event(name="CreateUser"), NOT_A_ROOT_EVENT),
        (cloudtrail_event(source="my.app"), NOT_A_ROOT_EVENT),
        (cloudtrail_event(**{"detail-type": "Forged"}), NOT_A_ROOT_EVENT),
        (cloudtrail_event(detail_userIdentity={"type": "IAMUser"}), NOT_A_ROOT_EVENT),
        (cloudtrail_event(detail_userIdentity=None), NOT_A_ROOT_EVENT),
    ],
)
def test_a_malformed_or_foreign_event_is_dropped_with_its_reason(body, reason):
    parsed = parse_root_event(json.dumps(body) if not isinstance(body, str) else body)
    assert isinstance(parsed, DroppedEvent) and parsed.reason == reason
    # Only checked values are kept for the log line.
    assert parsed.account_id in (None, MEMBER) and parsed.event_name in (None, *ROOT_EVENT_NAMES)


def test_a_burst_of_one_account_is_one_group_and_a_repeated_event_id_counts_once():
    events = [RootEvent(MEMBER, "UpdateLoginProfile", f"t{i}", f"e{i % 20}") for i in range(25)]
    events.append(RootEvent("222222222222", "CreateAccessKey", "t", "e0"))
    grouped = reaudit.group_by_account(events)
    assert list(grouped) == [MEMBER, "222222222222"] and len(grouped[MEMBER]) == 20
    assert reaudit.run_id_for(MEMBER, grouped[MEMBER]) == reaudit.run_id_for(MEMBER, grouped[MEMBER][::-1])


def member(account=ACCOUNT):
    return lambda account_id: reaudit.Membership(account=account) if account_id == account.id else None


def _reaudit(store, notifier, state, events, *, membership=None, clock=lambda: 1_764_064_800.0):
    return reaudit.reaudit_account(
        MEMBER,
        events,
        membership=membership or member(),
        audit=audit_returning(state),
        store=store,
        notifier=notifier,
        organization_id="o-example",
        clock=clock,
    )


EVENTS = [RootEvent(MEMBER, "PasswordRecoveryCompleted", "2026-11-25T10:00:00Z", "e-1")]


def test_a_change_alerts_with_trigger_event_and_the_next_night_does_not_alert_it_again():
    store, notifier = MemoryStore(), MemoryNotifier()
    _night(store, "n1", CLEAN, notifier)
    outcome = _reaudit(store, notifier, WITH_PASSWORD, EVENTS)
    assert outcome.alert_sent and outcome.appeared == ["password"] and outcome.status == "OK"
    (alert,) = notifier.published
    document = alert.document
    assert document["schema"] == "rootwatch.alert/v1" and document["trigger"] == "event"
    assert document["triggering_events"] == [e.to_dict() for e in EVENTS] and document["triggering_event_count"] == 1
    assert document["reappeared"][0]["credentials"] == ["password"] and document["run_id"] == outcome.run_id
    assert alert.subject.startswith("[CRITICAL] [rootwatch] ")
    assert alert.text.startswith("Sent on a change, not by the nightly run: PasswordRecoveryCompleted at ")

    _night(store, "n2", WITH_PASSWORD, notifier)  # the same credentials: the baseline already has them
    assert len(notifier.published) == 1


def test_the_same_events_retried_publish_once():
    store, notifier = MemoryStore(), MemoryNotifier()
    _night(store, "n1", CLEAN, notifier)
    store.commit_fails = True
    with pytest.raises(TimeoutError):
        _reaudit(store, notifier, WITH_PASSWORD, EVENTS)
    store.commit_fails = False
    _reaudit(store, notifier, WITH_PASSWORD, EVENTS)  # SQS delivers the message again: same run id, marker
    assert len(notifier.published) == 1 and store.alerted[MEMBER].kinds == {"password"}


def test_a_failed_publish_is_raised_for_sqs_to_retry_and_the_night_still_alerts():
    store = MemoryStore()
    _night(store, "n1", CLEAN, MemoryNotifier())
    with pytest.raises(ConnectionError):
        _reaudit(store, MemoryNotifier(fail=True), WITH_PASSWORD, EVENTS)
    notifier = MemoryNotifier()
    _night(store, "n2", WITH_PASSWORD, notifier)
    assert [a.document["reappeared"][0]["credentials"] for a in notifier.published] == [["password"]]


def test_throttling_is_raised_for_sqs_to_retry():
    store = MemoryStore()
    with pytest.raises(ThrottledError):
        reaudit.reaudit_account(
            MEMBER,
            EVENTS,
            membership=member(),
            audit=audit_returning(error=ThrottledError("Rate exceeded", operation="AssumeRoot")),
            store=store,
            notifier=MemoryNotifier(),
            organization_id=None,
        )
    assert store.records == {}


def test_a_non_member_audits_nothing_and_an_inactive_member_is_skipped():
    def audit(account_id):
        raise AssertionError("must not audit")

    for membership, dropped, skipped in (
        (reaudit.Membership(reason=reaudit.NOT_A_MEMBER), "not_a_member", None),
        (reaudit.Membership(reason="SUSPENDED"), None, "SUSPENDED"),
    ):
        store, notifier = MemoryStore(), MemoryNotifier()
        outcome = reaudit.reaudit_account(
            MEMBER,
            EVENTS,
            membership=lambda account_id, m=membership: m,
            audit=audit,
            store=store,
            notifier=notifier,
            organization_id=None,
        )
        assert (outcome.dropped, outcome.skipped) == (dropped, skipped)
        assert store.records == {} and notifier.published == [] and outcome.run_id is None


class FakeOrganizations:
    class exceptions:
        class AccountNotFoundException(Exception):
            pass

    def __init__(self, accounts: dict[str, dict[str, Any]]) -> None:
        self.accounts = accounts

    def describe_account(self, AccountId: str) -> dict[str, Any]:
        if AccountId not in self.accounts:
            raise self.exceptions.AccountNotFoundException("not found")
        return {"Account": self.accounts[AccountId]}


def arn(account_id: str) -> str:
    return f"arn:aws:organizations::999999999999:account/o-abc123defg/{account_id}"


def test_membership_from_describe_account_keeps_the_stored_ou_path_and_the_nightly_skip_rules():
    organizations = FakeOrganizations(
        {
            MEMBER: {"Id": MEMBER, "Name": "prod", "Email": "p@example.com", "State": "ACTIVE", "Arn": arn(MEMBER)},
            "222222222222": {"Id": "222222222222", "State": "CLOSED", "Arn": arn("222222222222")},
            "999999999999": {"Id": "999999999999", "State": "ACTIVE", "Arn": arn("999999999999")},
        }
    )
    membership = reaudit.describe_membership(organizations, ou_path=lambda a: "Root/Prod")
    assert membership(MEMBER) == reaudit.Membership(
        account=run.Account(MEMBER, "prod", "p@example.com", "ACTIVE", "Root/Prod"), organization_id="o-abc123defg"
    )
    assert membership("222222222222") == reaudit.Membership(reason="CLOSED", organization_id="o-abc123defg")
    # The management account, from the ARN (the re-audit's role has no DescribeOrganization).
    assert membership("999999999999").reason == "MANAGEMENT_ACCOUNT"
    assert membership("333333333333") == reaudit.Membership(reason=reaudit.NOT_A_MEMBER)
