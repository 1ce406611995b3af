"""Exemptions: "this account may keep this root credential until that date, because of X". Pure: no boto3.

One entry, the same shape in ``cdk.json`` context (``rootwatch:exemptions``), in the Lambdas' environment
(``ROOTWATCH_EXEMPTIONS``, a JSON list) and in a local file (``--exemptions exemptions.json``)::

    {"account_id": "111122223333", "credentials": ["password", "mfa"],
     "reason": "break-glass account, ticket SEC-42", "expires": "2027-03-01"}

- ``credentials``: credential kinds (``password``, ``access_keys``, ``signing_certificates``, ``mfa``).
- ``expires``: an exemption is in effect up to and including that day (UTC); from the day after, the
  finding alerts again.

How the pipeline uses it (the whole API, in order)::

    exemptions = exemptions_from_env(os.environ.get("ROOTWATCH_EXEMPTIONS"))   # at the run's start
    record = apply_exemptions(record, exemptions, on=scan_date)    # sets record.exempt / exemption_reason
    compose_alert(records, ..., exempt_kinds=exempt_kinds_by_account(exemptions, on=scan_date))

Why expired entries are strict at synth but tolerated at run time: a past expiry in the config being
deployed is a mistake, so :func:`parse_exemptions` rejects it (synth fails naming the entry). An entry
that expires *after* deployment is the mechanism by which alerts resume, so the running pipeline must
not stop auditing the whole organization because of it: :func:`exemptions_from_env` keeps it, and it
simply stops applying.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from rootwatch.domain.account_ids import is_account_id
from rootwatch.domain.records import CREDENTIAL_KINDS, AuditRecord, AuditStatus

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
KINDS: tuple[str, ...] = tuple(kind.value for kind in CREDENTIAL_KINDS)
FIELDS: tuple[str, ...] = ("account_id", "credentials", "reason", "expires")
MAX_REASON = 500


class ExemptionError(ValueError):
    """An exemption entry is invalid. The message is one line naming the entry and the field."""


@dataclass(frozen=True)
class Exemption:
    """One accepted root credential finding, until ``expires`` (inclusive, UTC)."""

    account_id: str
    credentials: frozenset[str]
    reason: str
    expires: date

    def in_effect(self, on: date) -> bool:
        """True on every day up to and including ``expires``."""
        return on <= self.expires

    def describe(self) -> str:
        """Human text, e.g. ``password, mfa until 2027-03-01: break-glass account``."""
        kinds = ", ".join(k for k in KINDS if k in self.credentials)
        return f"{kinds} until {self.expires.isoformat()}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """The entry in its config shape (the inverse of parsing)."""
        return {
            "account_id": self.account_id,
            "credentials": [k for k in KINDS if k in self.credentials],
            "reason": self.reason,
            "expires": self.expires.isoformat(),
        }


@dataclass(frozen=True)
class ExemptionMatch:
    """Which present credential kinds of one record are exempt on a day, and by which entries."""

    present: frozenset[str]
    exempt: dict[str, Exemption]

    @property
    def fully_exempt(self) -> bool:
        """There are credentials and every one of them is covered: nothing about them needs a human."""
        return bool(self.present) and self.present <= set(self.exempt)

    @property
    def reason(self) -> str | None:
        """The reason(s) of the entries that cover something present, or None when none does."""
        entries = list(dict.fromkeys(self.exempt.values()))
        if not entries:
            return None
        return "; ".join(
            f"{', '.join(k for k in KINDS if k in self.exempt and self.exempt[k] is e)} "
            f"until {e.expires.isoformat()}: {e.reason}"
            for e in entries
        )


def utc_today() -> date:
    """Today's date in UTC: exemptions expire by UTC days, like the ``dt`` partitions."""
    return datetime.now(UTC).date()


def parse_exemptions(
    raw: list[Any] | str | None, *, today: date | None = None, allow_expired: bool = False
) -> list[Exemption]:
    """Validate config entries (a list, or its JSON text) into :class:`Exemption` objects.

    Raises :class:`ExemptionError` naming the entry (``exemptions[2] (account 111122223333)``) for a bad
    account id, an unknown credential kind, a missing/empty reason, a malformed date, an unknown key,
    a duplicate (same account and kind twice) or, unless ``allow_expired``, an expiry before ``today``
    (default: today in UTC). ``None`` or an empty string means no exemptions.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ExemptionError(
                f"exemptions: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
            ) from None
    if not isinstance(raw, list):
        raise ExemptionError(f"exemptions: expected a list of entries, got {type(raw).__name__}")
    today = today or utc_today()
    parsed: list[Exemption] = []
    seen: dict[tuple[str, str], int] = {}
    for index, entry in enumerate(raw):
        exemption = _parse_entry(index, entry, today=today, allow_expired=allow_expired)
        for kind in exemption.credentials:
            key = (exemption.account_id, kind)
            if key in seen:
                raise ExemptionError(
                    f"{_where(index, entry)}: {kind} is already exempted by exemptions[{seen[key]}]; "
                    "keep one entry per account and credential kind"
                )
            seen[key] = index
        parsed.append(exemption)
    return parsed


def exemptions_from_env(value: str | None) -> list[Exemption]:
    """The pipeline's loader for ``ROOTWATCH_EXEMPTIONS``: validated, but entries expired since deploy are kept.

    They no longer apply (see :meth:`Exemption.in_effect`), so their findings alert again; the run does
    not fail because of them. Anything else invalid raises :class:`ExemptionError`.
    """
    return parse_exemptions(value, allow_expired=True)


def load_exemptions_file(path: str) -> list[Exemption]:
    """Read a local exemptions file (the same JSON list as ``cdk.json``); expired entries are kept."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ExemptionError(f"exemptions file {path}: {exc.strerror or exc}") from None
    try:
        return parse_exemptions(text, allow_expired=True)
    except ExemptionError as exc:
        raise ExemptionError(f"{path}: {exc}") from None


def exempt_kinds(record: AuditRecord, exemptions: Iterable[Exemption], *, on: date) -> ExemptionMatch:
    """Which of the record's present credential kinds are exempt on ``on``, and by which entry.

    Only an OK record has known credentials; an ERROR or SKIPPED record matches nothing.
    """
    present = frozenset(record.present_kinds()) if record.status == AuditStatus.OK else frozenset()
    covering: dict[str, Exemption] = {}
    for exemption in exemptions:
        if exemption.account_id != record.account_id or not exemption.in_effect(on):
            continue
        for kind in KINDS:
            if kind in present and kind in exemption.credentials and kind not in covering:
                covering[kind] = exemption
    return ExemptionMatch(present=present, exempt=covering)


def apply_exemptions(record: AuditRecord, exemptions: Iterable[Exemption], *, on: date) -> AuditRecord:
    """A copy of the record with ``exempt`` and ``exemption_reason`` set for day ``on``.

    ``exempt`` is true when the record has root credentials and all of them are covered; the reason
    is set whenever at least one present kind is covered (so a partly exempt account shows why).
    """
    match = exempt_kinds(record, exemptions, on=on)
    return replace(record, exempt=match.fully_exempt, exemption_reason=match.reason)


def exempt_kinds_by_account(exemptions: Iterable[Exemption], *, on: date) -> dict[str, frozenset[str]]:
    """``{account_id: kinds}`` in effect on ``on``: the ``exempt_kinds`` argument of ``compose_alert``."""
    kinds: dict[str, set[str]] = {}
    for exemption in exemptions:
        if exemption.in_effect(on):
            kinds.setdefault(exemption.account_id, set()).update(exemption.credentials)
    return {account_id: frozenset(values) for account_id, values in kinds.items()}


#: How far ahead an exemption added at run time (``rootwatch exempt add``) may expire: a year and a day.
MAX_HORIZON_DAYS = 366


def new_exemption(
    account_id: str, credentials: Iterable[str], reason: str, expires: str, *, today: date | None = None
) -> Exemption:
    """Validate an exemption an operator adds (``rootwatch exempt add``): the config rules, plus an expiry not in
    the past and at most ``MAX_HORIZON_DAYS`` ahead. Raises :class:`ExemptionError` with one line."""
    today = today or utc_today()
    entry = {"account_id": account_id, "credentials": list(credentials), "reason": reason, "expires": expires}
    try:
        (exemption,) = parse_exemptions([entry], today=today)
    except ExemptionError as exc:
        raise ExemptionError(str(exc).replace(f"{_where(0, entry)}: ", "", 1)) from None
    if (exemption.expires - today).days > MAX_HORIZON_DAYS:
        raise ExemptionError(
            f"expires {expires} is more than {MAX_HORIZON_DAYS} days ahead (today is {today.isoformat()}); "
            "exempt for at most a year, then review"
        )
    return exemption


def merge_exempt_kinds(*maps: Mapping[str, Iterable[str]] | None) -> dict[str, frozenset[str]]:
    """The union of ``exempt_kinds`` maps (cdk.json's and the status table's): a kind is exempt if either says so."""
    merged: dict[str, set[str]] = {}
    for kinds_by_account in maps:
        for account_id, kinds in (kinds_by_account or {}).items():
            merged.setdefault(account_id, set()).update(kinds)
    return {account_id: frozenset(kinds) for account_id, kinds in merged.items()}


def _where(index: int, entry: Any) -> str:
    account = entry.get("account_id") if isinstance(entry, Mapping) else None
    return f"exemptions[{index}]" + (f" (account {account})" if isinstance(account, str) and account else "")


def _parse_entry(index: int, entry: Any, *, today: date, allow_expired: bool) -> Exemption:
    where = _where(index, entry)
    if not isinstance(entry, Mapping):
        raise ExemptionError(f"{where}: expected an object with {', '.join(FIELDS)}, got {type(entry).__name__}")
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        raise ExemptionError(f"{where}: unknown key {unknown[0]!r}; allowed keys: {', '.join(FIELDS)}")
    missing = [name for name in FIELDS if name not in entry]
    if missing:
        raise ExemptionError(f"{where}: missing {missing[0]!r}")

    account_id = entry["account_id"]
    if not is_account_id(account_id):
        raise ExemptionError(f"{where}: account_id {account_id!r} is not a 12-digit AWS account id (as a string)")

    credentials = entry["credentials"]
    if isinstance(credentials, str) or not isinstance(credentials, list) or not credentials:
        raise ExemptionError(f"{where}: credentials must be a non-empty list of {', '.join(KINDS)}")
    for kind in credentials:
        if kind not in KINDS:
            raise ExemptionError(f"{where}: unknown credential kind {kind!r}; known kinds: {', '.join(KINDS)}")

    reason = entry["reason"]
    if not isinstance(reason, str) or not reason.strip():
        raise ExemptionError(f"{where}: reason must say why (a non-empty string)")
    if len(reason) > MAX_REASON or "\n" in reason:
        raise ExemptionError(f"{where}: reason must be one line of at most {MAX_REASON} characters")

    expires_text = entry["expires"]
    if not isinstance(expires_text, str) or not _DATE.match(expires_text):
        raise ExemptionError(f"{where}: expires {expires_text!r} is not a date of the form YYYY-MM-DD")
    try:
        expires = date.fromisoformat(expires_text)
    except ValueError:
        raise ExemptionError(f"{where}: expires {expires_text!r} is not a real date") from None
    if expires < today and not allow_expired:
        raise ExemptionError(
            f"{where}: expires {expires_text} is in the past (today is {today.isoformat()}); "
            "remove the entry or set a later date"
        )
    return Exemption(account_id=account_id, credentials=frozenset(credentials), reason=reason.strip(), expires=expires)
