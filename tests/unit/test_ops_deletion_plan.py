"""The deletion plan: the observed order (docs/aws-behaviour.md), the selected kinds only, and --credentials parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rootwatch.domain.records import CredentialKind
from rootwatch_cli.operations.deletion_plan import (
    DELETION_ORDER,
    CredentialItem,
    RootCredentialInventory,
    parse_kinds,
    plan_deletion,
)

ALL = frozenset(CredentialKind)
items = st.lists(
    st.builds(CredentialItem, st.sampled_from(list(CredentialKind)), st.text(min_size=1, max_size=8)), max_size=12
)


def inventory(*items: CredentialItem) -> RootCredentialInventory:
    return RootCredentialInventory("111111111111", tuple(items))


def test_plan_deletes_certificates_then_keys_then_mfa_then_password():
    plan = plan_deletion(
        inventory(
            CredentialItem(CredentialKind.PASSWORD, "login-profile", "2025-01-01T00:00:00Z"),
            CredentialItem(CredentialKind.MFA, "arn:aws:iam::111111111111:mfa/a"),
            CredentialItem(CredentialKind.ACCESS_KEYS, "AKIAEXAMPLE", "2025-02-01T00:00:00Z", "Inactive"),
            CredentialItem(CredentialKind.SIGNING_CERTIFICATES, "CERT1", status="Active"),
        ),
        ALL,
    )
    assert [s.action for s in plan] == [
        "DeleteSigningCertificate",
        "DeleteAccessKey",
        "DeactivateMFADevice",
        "DeleteLoginProfile",
    ]
    assert plan[1].describe() == "DeleteAccessKey AKIAEXAMPLE (Inactive, since 2025-02-01T00:00:00Z)"


@given(items, st.frozensets(st.sampled_from(list(CredentialKind))))
def test_plan_keeps_seed_002_order_and_only_the_selected_kinds(generated, kinds):
    plan = plan_deletion(inventory(*generated), kinds)
    ranks = [DELETION_ORDER.index(step.kind) for step in plan]
    assert ranks == sorted(ranks)
    assert {s.kind for s in plan} <= kinds
    assert len(plan) == sum(1 for i in generated if i.kind in kinds)


def test_parse_kinds_defaults_to_every_kind_and_names_a_bad_one():
    assert parse_kinds(None) == ALL
    assert parse_kinds("mfa, access_keys") == {CredentialKind.MFA, CredentialKind.ACCESS_KEYS}
    with pytest.raises(ValueError, match="--credentials: 'keys' is not one of"):
        parse_kinds("password,keys")
    with pytest.raises(ValueError, match="at least one"):
        parse_kinds(" , ")
