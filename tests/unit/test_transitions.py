"""Transition rules, checked as properties over every combination of baseline and audit outcome."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rootwatch.domain.records import CREDENTIAL_KINDS, AuditStatus
from rootwatch.domain.transitions import Baseline, compute_transition, next_baseline, ordered_kinds

KINDS = [k.value for k in CREDENTIAL_KINDS]
kind_sets = st.frozensets(st.sampled_from(KINDS))
baselines = st.none() | st.builds(Baseline, kinds=kind_sets, run_id=st.text(min_size=1, max_size=8))
statuses = st.sampled_from([s.value for s in AuditStatus])


@given(baselines, kind_sets)
def test_appeared_and_disappeared_are_exactly_the_set_differences(baseline, present):
    t = compute_transition(baseline, AuditStatus.OK, present)
    if baseline is None:
        assert t.first_audit and t.appeared == () and t.disappeared == ()
    else:
        assert set(t.appeared) == present - baseline.kinds
        assert set(t.disappeared) == baseline.kinds - present
        assert not t.first_audit


@given(baselines, kind_sets)
def test_appeared_and_disappeared_never_overlap_and_follow_contract_order(baseline, present):
    t = compute_transition(baseline, AuditStatus.OK, present)
    assert not set(t.appeared) & set(t.disappeared)
    assert list(t.appeared) == ordered_kinds(t.appeared)
    assert list(t.disappeared) == ordered_kinds(t.disappeared)


@given(baselines, st.sampled_from([AuditStatus.ERROR, AuditStatus.SKIPPED]), kind_sets)
def test_failed_audit_reports_no_change_and_keeps_the_baseline(baseline, status, present):
    t = compute_transition(baseline, status, present)
    assert t.appeared == () and t.disappeared == ()
    assert t.first_audit == (baseline is None)
    assert next_baseline(baseline, status, present, "run-x") == baseline


@given(baselines, st.lists(st.tuples(statuses, kind_sets), max_size=6), kind_sets)
def test_errors_between_two_successes_do_not_change_what_the_second_success_sees(baseline, middle, present):
    direct = compute_transition(baseline, AuditStatus.OK, present)
    current = baseline
    for i, (status, kinds) in enumerate(middle):
        if status != AuditStatus.OK:
            current = next_baseline(current, status, kinds, f"r{i}")
    assert compute_transition(current, AuditStatus.OK, present) == direct


@given(kind_sets, kind_sets)
def test_reappeared_means_new_kinds_on_a_previously_audited_account(before, now):
    t = compute_transition(Baseline(before, "r1"), AuditStatus.OK, now)
    assert t.reappeared == bool(now - before)


@given(kind_sets)
def test_first_audit_is_never_a_reappearance_even_with_credentials(present):
    t = compute_transition(None, AuditStatus.OK, present)
    assert t.first_audit and not t.reappeared


@given(baselines, kind_sets, st.text(min_size=1, max_size=5))
def test_ok_audit_becomes_the_new_baseline(baseline, present, run_id):
    assert next_baseline(baseline, AuditStatus.OK, present, run_id) == Baseline(frozenset(present), run_id)


@given(kind_sets)
def test_same_state_twice_is_no_transition(present):
    t = compute_transition(Baseline(present, "r1"), AuditStatus.OK, present)
    assert t.appeared == () and t.disappeared == () and not t.first_audit
