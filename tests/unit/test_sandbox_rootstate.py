"""Pure parts of the sandbox's root-access emulation: root user flags, faults, clock, paging tokens, validation."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from rootwatch.domain.task_policies import TaskPolicy
from rootwatch_sandbox import demo_org
from rootwatch_sandbox.rootaccess.organizations import decode_page_token, encode_page_token
from rootwatch_sandbox.rootaccess.sts import _parse_assume_root
from rootwatch_sandbox.rootstate import (
    Fault,
    RootAccessKey,
    RootAccessState,
    RootLoginProfile,
    RootUser,
    SandboxClock,
)
from rootwatch_sandbox.sandbox_errors import SandboxError

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _user(**credentials) -> RootUser:
    return RootUser(account_id="111122223333", create_date=NOW, **credentials)


def test_root_without_credentials_has_all_flags_zero():
    assert set(_user().summary_flags().values()) == {0}


def test_inactive_key_counts_as_present():
    user = _user(access_keys=[RootAccessKey("AKIAEXAMPLE", "Inactive", NOW)])

    assert user.summary_flags()["AccountAccessKeysPresent"] == 1


def test_login_profile_is_the_password_flag():
    user = _user(login_profile=RootLoginProfile(create_date=NOW))

    assert user.summary_flags()["AccountPasswordPresent"] == 1


def _fault(account: str = "111122223333", operation: str = "AssumeRoot", count: int | None = 1) -> Fault:
    return Fault(account_id=account, operation=operation, error_code="Throttling", message=None, remaining=count)


def test_counted_fault_is_spent_and_then_gone():
    state = RootAccessState()
    state.add_fault(_fault(count=2))

    hits = [state.take_fault("111122223333", "AssumeRoot", root_session=False) for _ in range(3)]

    assert [hit is not None for hit in hits] == [True, True, False]
    assert state.faults() == []


def test_permanent_fault_never_runs_out():
    state = RootAccessState()
    state.add_fault(_fault(count=None))

    assert all(state.take_fault("111122223333", "AssumeRoot", root_session=False) for _ in range(50))


def test_fault_matches_only_its_account_and_operation():
    state = RootAccessState()
    state.add_fault(_fault())

    assert state.take_fault("999988887777", "AssumeRoot", root_session=False) is None
    assert state.take_fault("111122223333", "GetAccountSummary", root_session=False) is None


def test_wildcard_fault_matches_only_root_session_calls():
    state = RootAccessState()
    state.add_fault(_fault(operation="*", count=None))

    assert state.take_fault("111122223333", "ListAccounts", root_session=False) is None
    assert state.take_fault("111122223333", "GetAccountSummary", root_session=True) is not None


def test_reset_forgets_everything():
    state = RootAccessState()
    state.add_fault(_fault())
    state.root_user("111122223333")
    state.set_feature("o-abc", "RootSessions", True)
    state.clock.advance(100)

    state.reset()

    assert state.faults() == [] and state.known_root_user("111122223333") is None
    assert state.enabled_features("o-abc") == set()
    assert abs((state.clock.now() - dt.datetime.now(dt.UTC)).total_seconds()) < 2


def test_clock_advances_without_sleeping():
    clock = SandboxClock()
    before = clock.now()

    clock.advance(901)

    assert clock.now() - before >= dt.timedelta(seconds=901)


@pytest.mark.parametrize("offset", [0, 20, 10_000])
def test_page_token_round_trips(offset):
    assert decode_page_token(encode_page_token(offset)) == offset


@pytest.mark.parametrize("token", ["", "garbage", "eyJ4IjogMX0=", encode_page_token(0)[:-4]])
def test_forged_page_token_is_rejected(token):
    with pytest.raises(ValueError):
        decode_page_token(token)


def _params(target: str = "111122223333", policy: str = TaskPolicy.IAM_AUDIT_ROOT_USER_CREDENTIALS.arn, **extra):
    return {"TargetPrincipal": target, "TaskPolicyArn": {"arn": policy}, **extra}


def test_assume_root_parameters_accept_id_or_root_arn_and_default_to_900_seconds():
    assert _parse_assume_root(_params()) == ("111122223333", TaskPolicy.IAM_AUDIT_ROOT_USER_CREDENTIALS, 900)
    assert _parse_assume_root(_params("arn:aws:iam::111122223333:root", DurationSeconds=0))[::2] == ("111122223333", 0)


@pytest.mark.parametrize(
    "params",
    [
        {"TaskPolicyArn": {"arn": TaskPolicy.IAM_AUDIT_ROOT_USER_CREDENTIALS.arn}},
        _params("11112222333"),
        _params("arn:aws:iam::111122223333:role/x"),
        _params("1111222233334"),
        _params(policy="arn:aws:iam::aws:policy/root-task/Everything"),
        _params(DurationSeconds=-1),
        _params(DurationSeconds=3600),
        {"TargetPrincipal": "111122223333"},
    ],
)
def test_bad_assume_root_parameters_are_validation_errors(params):
    with pytest.raises(SandboxError) as raised:
        _parse_assume_root(params)

    assert raised.value.code == "ValidationError"


def test_demo_profiles_include_every_kind_from_ten_accounts():
    profiles = demo_org._profiles_for(10, random.Random(1))

    assert set(profiles) >= set(demo_org.PROFILES) - {"clean"}
    assert len(profiles) == 10


def test_demo_profiles_are_mostly_clean_at_scale():
    profiles = demo_org._profiles_for(5000, random.Random(2))

    assert 0.6 < profiles.count("clean") / 5000 < 0.8
