"""How an account's root credentials changed since its last successful audit. Pure: no boto3.

The rules (docs/contracts.md#records):
- the baseline is the last *successful* audit; an ERROR or SKIPPED run neither moves nor erases it;
- with no baseline the audit is a ``first_audit``: nothing "appeared", because nothing was known before;
- ``appeared`` are kinds absent at the baseline and present now; ``disappeared`` the reverse;
- an audit that did not succeed reports no change at all (it learned nothing).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rootwatch.domain.records import CREDENTIAL_KINDS, AuditStatus, CredentialKind

_ORDER = {kind.value: index for index, kind in enumerate(CREDENTIAL_KINDS)}


def ordered_kinds(kinds: Iterable[str]) -> list[str]:
    """Credential kinds, de-duplicated, in the contract order (password, access_keys, signing_certificates, mfa)."""
    unique = {CredentialKind(kind).value for kind in kinds}
    return sorted(unique, key=_ORDER.__getitem__)


@dataclass(frozen=True)
class Baseline:
    """What the last successful audit of an account found: the kinds present, and which run found them."""

    kinds: frozenset[str]
    run_id: str | None = None


@dataclass(frozen=True)
class Transition:
    """The change one audit saw, relative to the baseline."""

    appeared: tuple[str, ...] = ()
    disappeared: tuple[str, ...] = ()
    first_audit: bool = False

    @property
    def reappeared(self) -> bool:
        """Credentials showed up on an account that had been audited before without them."""
        return bool(self.appeared) and not self.first_audit


def compute_transition(baseline: Baseline | None, status: str, present: Iterable[str] = ()) -> Transition:
    """The transition for an audit with ``status`` that found ``present`` kinds, against ``baseline``.

    ``baseline`` is None when the account was never audited successfully. Kinds passed for a non-OK
    audit are ignored: a failed audit cannot tell what changed.
    """
    first_audit = baseline is None
    if status != AuditStatus.OK:
        return Transition(first_audit=first_audit)
    now = frozenset(ordered_kinds(present))
    if baseline is None:
        return Transition(first_audit=True)
    return Transition(
        appeared=tuple(ordered_kinds(now - baseline.kinds)),
        disappeared=tuple(ordered_kinds(baseline.kinds - now)),
        first_audit=False,
    )


def next_baseline(baseline: Baseline | None, status: str, present: Iterable[str], run_id: str) -> Baseline | None:
    """The baseline after this audit: an OK audit replaces it, anything else keeps the old one."""
    if status != AuditStatus.OK:
        return baseline
    return Baseline(kinds=frozenset(ordered_kinds(present)), run_id=run_id)
