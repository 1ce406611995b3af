"""What deleting a member account's root credentials will do, step by step. Pure: no boto3.

The order is the observed one (docs/aws-behaviour.md), and it matters: signing certificates, then access keys,
then MFA devices (deactivated: the IAMDeleteRootUserCredentials task policy has no DeleteVirtualMFADevice), and the
login profile (the password) last, so the root user is never left with a password and no MFA while
the other credentials are still being removed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rootwatch.domain.records import CREDENTIAL_KINDS, CredentialKind

#: the observed order (docs/aws-behaviour.md#deletion-order).
DELETION_ORDER: tuple[CredentialKind, ...] = (
    CredentialKind.SIGNING_CERTIFICATES,
    CredentialKind.ACCESS_KEYS,
    CredentialKind.MFA,
    CredentialKind.PASSWORD,
)

#: The IAM action each kind's step calls, as root (no UserName).
ACTION_FOR_KIND: dict[CredentialKind, str] = {
    CredentialKind.SIGNING_CERTIFICATES: "DeleteSigningCertificate",
    CredentialKind.ACCESS_KEYS: "DeleteAccessKey",
    CredentialKind.MFA: "DeactivateMFADevice",
    CredentialKind.PASSWORD: "DeleteLoginProfile",
}


NEVER_USED = "never used"


def key_last_used_text(last_used: dict[str, object]) -> str:
    """GetAccessKeyLastUsed's ``AccessKeyLastUsed`` as ``"2026-11-20 (sts)"`` or ``"never used"``."""
    date = last_used.get("LastUsedDate")
    if date is None:
        return NEVER_USED
    day = date.date().isoformat() if hasattr(date, "date") else str(date)[:10]
    service = last_used.get("ServiceName")
    return f"{day} ({service})" if service and service != "N/A" else day


@dataclass(frozen=True)
class CredentialItem:
    """One root credential: a certificate, an access key, an MFA device or the login profile.

    ``item_id`` is the CertificateId, AccessKeyId, MFA SerialNumber, or ``"login-profile"``; ``date``
    is when it was created/uploaded/enabled (ISO-8601), ``status`` Active/Inactive where AWS has one.
    For an access key, ``last_used`` says when and where it was last used (GetAccessKeyLastUsed):
    ``"2026-11-20 (sts)"``, ``"never used"``, or None when it was not read.
    """

    kind: CredentialKind
    item_id: str
    date: str | None = None
    status: str | None = None
    last_used: str | None = None


@dataclass(frozen=True)
class RootCredentialInventory:
    """Every root credential of one member account, as listed through a root session."""

    account_id: str
    items: tuple[CredentialItem, ...] = field(default_factory=tuple)

    def of_kind(self, kind: CredentialKind) -> tuple[CredentialItem, ...]:
        return tuple(item for item in self.items if item.kind is kind)

    @property
    def empty(self) -> bool:
        return not self.items


@dataclass(frozen=True)
class DeletionStep:
    """One IAM call of a deletion, in the order it will be made."""

    account_id: str
    kind: CredentialKind
    action: str
    item: CredentialItem

    def describe(self) -> str:
        used = self.item.last_used and (
            "never used" if self.item.last_used == NEVER_USED else f"last used {self.item.last_used}"
        )
        parts = (self.item.status, self.item.date and f"since {self.item.date}", used)
        details = ", ".join(part for part in parts if part)
        return f"{self.action} {self.item.item_id}" + (f" ({details})" if details else "")


def parse_kinds(value: str | None, *, flag: str = "--credentials") -> frozenset[CredentialKind]:
    """``password,access_keys,...`` as kinds; every kind when ``value`` is None. ValueError names the bad one."""
    if value is None:
        return frozenset(CREDENTIAL_KINDS)
    kinds: set[CredentialKind] = set()
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            kinds.add(CredentialKind(part))
        except ValueError:
            allowed = ",".join(kind.value for kind in CREDENTIAL_KINDS)
            raise ValueError(f"{flag}: {part!r} is not one of {allowed}") from None
    if not kinds:
        raise ValueError(f"{flag}: give at least one credential kind")
    return frozenset(kinds)


def plan_deletion(inventory: RootCredentialInventory, kinds: Iterable[CredentialKind]) -> list[DeletionStep]:
    """The steps that delete ``kinds`` from ``inventory``, in the observed order (certificates first)."""
    selected = frozenset(kinds)
    return [
        DeletionStep(inventory.account_id, kind, ACTION_FOR_KIND[kind], item)
        for kind in DELETION_ORDER
        if kind in selected
        for item in inventory.of_kind(kind)
    ]
