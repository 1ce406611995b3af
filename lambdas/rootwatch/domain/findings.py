"""Finding kinds: one declarative entry each, read by every place that names, ranks or counts findings. Pure.

A *finding* is something about one account's root user that a person should know (docs/contracts.md#findings).
``FINDINGS`` lists the kinds, most urgent first (the one place this order is defined). Each entry says:

- ``key``: stable id (``rootwatch.alert/v1`` ``recommendations[].finding``, report anchors);
- ``label``/``plural``: the words (``{days}`` is the configured threshold, see :class:`Policy`);
- ``severity``: Prowler's scale, never increasing down the table; ``severity_reason``: why, one line;
- ``controls``: the controls it breaks (:class:`Control`: Security Hub's AWS Foundational Security Best
  Practices, CIS AWS Foundations Benchmark v3.0.0, and rootwatch's own RW.1 "root credentials should not exist
  when centralized root access is on", after AWS's advice to delete member accounts' root credentials);
- ``alerts``: whether it can make the run alert. Alerting kinds alert when their credentials *appear*
  (``rootwatch.domain.transitions``) or, for ``audit_error``, when an audit fails; the others never send
  an alert by themselves and are listed under ``recommendations`` in an alert that goes out anyway;
- ``fails_scan``: whether it makes ``rootwatch scan`` exit 3 (``--fail-on any``);
- ``credentials``: the credential kinds it concerns (an exemption of all of them silences it);
- ``fields``: the record fields its rule reads; ``applies``: the rule, over a record or a record row;
- ``remediation``: one line, what to do.

Consumers: ``alert.compose_alert`` (which appeared kinds alert, ``recommendations``, labels), ``scan``
(the Findings column, ``--only-findings`` order, the exit code), the report's Findings section, and
``finding_counts`` (the run summary's ``findings`` and the report). Adding a kind is one entry here; a kind
that reads a number adds a ``THRESHOLDS`` entry and the ``Policy`` field of the same name, here too, and the
``cdk.json`` key, the functions' environment variable and the ``scan``/``report`` flag follow from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from dataclasses import fields as dataclass_fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from rootwatch.domain.records import AuditRecord, AuditStatus, CredentialKind
from rootwatch.domain.timestamps import parse_utc

Row = AuditRecord | Mapping[str, Any]


class Severity(StrEnum):
    """Prowler's severity scale, most severe first."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFORMATIONAL = "informational"


SEVERITY_ORDER: tuple[Severity, ...] = tuple(Severity)


@dataclass(frozen=True)
class Threshold:
    """A number a rule reads, set per deployment and per command. Declared once, here; the config key
    (``cdk.json`` ``rootwatch:<context_key>``), the functions' environment variable (``env``), the CLI flag
    (``flag``, on ``scan`` and ``report``) and the bounds check all come from this entry."""

    name: str
    context_key: str
    default: int
    minimum: int
    maximum: int
    meaning: str

    @property
    def env(self) -> str:
        """The functions' environment variable: ``password_unused_days`` -> ``PASSWORD_UNUSED_DAYS``."""
        return self.name.upper()

    @property
    def flag(self) -> str:
        """The CLI flag: ``password_unused_days`` -> ``--password-unused-days``."""
        return "--" + self.name.replace("_", "-")

    def parse(self, value: object) -> int:
        """``value`` as this threshold; ValueError saying what is allowed (the caller names the source)."""
        allowed = f"an integer from {self.minimum} to {self.maximum}"
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not {allowed}")
        try:
            number = int(str(value).strip()) if isinstance(value, str) else value
        except ValueError:
            raise ValueError(f"{value!r} is not {allowed}") from None
        if not isinstance(number, int):
            raise ValueError(f"{value!r} is not {allowed}")
        if not self.minimum <= number <= self.maximum:
            raise ValueError(f"{value!r} is out of range; allowed: {allowed}")
        return number


#: Every threshold the rules read. Adding one: an entry here and a field of the same name on Policy.
THRESHOLDS: tuple[Threshold, ...] = (
    Threshold(
        name="password_unused_days",
        context_key="passwordUnusedDays",
        default=90,
        minimum=1,
        maximum=3650,
        meaning="a root password not used for this many days before the audit, or never used, is the finding "
        "'password unused for N+ days'",
    ),
)
THRESHOLD: dict[str, Threshold] = {threshold.name: threshold for threshold in THRESHOLDS}


@dataclass(frozen=True)
class Policy:
    """The configured thresholds the rules read (one field per entry of THRESHOLDS, same name and default)."""

    password_unused_days: int = THRESHOLD["password_unused_days"].default

    @classmethod
    def from_values(cls, values: Mapping[str, int]) -> Policy:
        """A policy from ``{threshold name: value}``; a threshold left out keeps its default."""
        return cls(**{name: values[name] for name in THRESHOLD if name in values})


if tuple(f.name for f in dataclass_fields(Policy)) != tuple(THRESHOLD) or any(
    f.default != THRESHOLD[f.name].default for f in dataclass_fields(Policy)
):
    raise AssertionError("Policy's fields must be THRESHOLDS' names with their defaults")


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class Control:
    """A control a finding kind breaks: ``standard`` (e.g. ``AWS Foundational Security Best Practices``,
    ``CIS AWS Foundations Benchmark v3.0.0``, ``rootwatch``), its ``id`` there (``IAM.4``, ``1.4``, ``RW.1``),
    the control's own ``title``, and ``url``, where it is written down."""

    standard: str
    id: str
    title: str
    url: str = ""

    @property
    def reference(self) -> str:
        """``AWS Foundational Security Best Practices IAM.4``: the standard and the id, one string."""
        return f"{self.standard} {self.id}"

    @property
    def short(self) -> str:
        """``Security Hub IAM.4``, ``CIS 1.4``, ``rootwatch RW.1``: how tables name it."""
        prefix = {FSBP: "Security Hub", CIS: "CIS"}.get(self.standard, self.standard)
        return f"{prefix} {self.id}"


FSBP = "AWS Foundational Security Best Practices"
#: The CIS version cited (the version Security Hub's CIS v3.0.0 standard checks; later versions renumber).
CIS = "CIS AWS Foundations Benchmark v3.0.0"
ROOTWATCH = "rootwatch"
_FSBP_URL = "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html"
_CIS_URL = "https://docs.aws.amazon.com/securityhub/latest/userguide/cis-aws-foundations-benchmark.html"

#: Every control a finding kind can break, by reference. Security Hub's titles; CIS v3.0.0's titles.
CONTROLS: dict[str, Control] = {
    control.reference: control
    for control in (
        Control(FSBP, "IAM.4", "IAM root user access key should not exist", _FSBP_URL + "#iam-4"),
        Control(FSBP, "IAM.6", "Hardware MFA should be enabled for the root user", _FSBP_URL + "#iam-6"),
        Control(FSBP, "IAM.9", "MFA should be enabled for the root user", _FSBP_URL + "#iam-9"),
        Control(CIS, "1.4", "Ensure no 'root' user account access key exists", _CIS_URL),
        Control(CIS, "1.5", "Ensure MFA is enabled for the 'root' user account", _CIS_URL),
        Control(CIS, "1.6", "Ensure hardware MFA is enabled for the 'root' user account", _CIS_URL),
        # AWS: after centralizing root access, delete member accounts' root credentials (IAM User Guide,
        # "Centralize root access for member accounts").
        Control(
            ROOTWATCH,
            "RW.1",
            "Root credentials should not exist when centralized root access is on",
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-enable-root-access.html",
        ),
    )
}


def _controls(*references: str) -> tuple[Control, ...]:
    return tuple(CONTROLS[reference] for reference in references)


@dataclass(frozen=True)
class FindingKind:
    """One kind of finding (see the module docstring for each field)."""

    key: str
    label: str
    plural: str
    severity: Severity
    severity_reason: str
    controls: tuple[Control, ...]
    alerts: bool
    fails_scan: bool
    credentials: tuple[str, ...]
    fields: tuple[str, ...]
    applies: Callable[[Row, Policy], bool]
    remediation: str

    def text(self, policy: Policy = DEFAULT_POLICY, count: int = 1) -> str:
        """The label (or plural when ``count`` is not 1), with the policy's threshold filled in."""
        return (self.label if count == 1 else self.plural).format(days=policy.password_unused_days)


#: How the words name each credential kind (alert text, report chips, scan).
CREDENTIAL_LABEL: dict[str, str] = {
    CredentialKind.PASSWORD: "password",
    CredentialKind.ACCESS_KEYS: "access keys",
    CredentialKind.SIGNING_CERTIFICATES: "signing certificates",
    CredentialKind.MFA: "MFA",
}


def credential_label(kind: str, *, capitalized: bool = False) -> str:
    """``access_keys`` as ``access keys`` (``Access keys`` when capitalized); an unknown kind as itself."""
    label = CREDENTIAL_LABEL.get(kind, kind)
    return label[:1].upper() + label[1:] if capitalized else label


def plural(count: int, word: str) -> str:
    """``1 account``, ``2 accounts``."""
    return f"{count} {word}" + ("" if count == 1 else "s")


def field_of(row: Row, name: str) -> Any:
    """A field of a record, or of a record row (a dict, e.g. a query's answer)."""
    if isinstance(row, Mapping):
        return row.get(name)
    return getattr(row, name, None)


def _active_key(row: Row) -> bool:
    active = field_of(row, "active_access_keys")
    return (active or 0) > 0 or (field_of(row, "access_keys_present") is True and active is None)


def _active_certificate(row: Row) -> bool:
    active = field_of(row, "active_signing_certificates")
    return (active or 0) > 0 or (field_of(row, "signing_certificates_present") is True and active is None)


def _inactive_key_or_certificate(row: Row) -> bool:
    keys = field_of(row, "access_keys_present") is True
    certificates = field_of(row, "signing_certificates_present") is True
    return (
        (field_of(row, "inactive_access_keys") or 0) > 0
        or (keys and not _active_key(row))
        or (certificates and not _active_certificate(row))
    )


def _password_without_mfa(row: Row) -> bool:
    return field_of(row, "password_present") is True and field_of(row, "mfa_enabled") is False


def _mfa_only(row: Row) -> bool:
    others = ("password_present", "access_keys_present", "signing_certificates_present")
    return field_of(row, "mfa_enabled") is True and not any(field_of(row, name) is True for name in others)


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return parse_utc(str(value))
    except ValueError:
        return None


def password_unused(row: Row, policy: Policy) -> bool:
    """A root password is present and was not used in the ``policy.password_unused_days`` days before the audit.

    ``password_last_used`` null with a password present means never used (AWS leaves ``PasswordLastUsed`` out
    of GetUser for a password never signed in with, since tracking began in October 2014): unused. The age
    is measured from the audit's own ``scanned_at``, so the finding is a pure function of the record; a
    password last used exactly N days before counts as unused for N days.
    """
    if field_of(row, "password_present") is not True:
        return False
    last_used = field_of(row, "password_last_used")
    if last_used is None:
        return True
    used, scanned = _parse_time(last_used), _parse_time(field_of(row, "scanned_at"))
    if used is None or scanned is None:
        return False
    return scanned - used >= timedelta(days=policy.password_unused_days)


FINDINGS: tuple[FindingKind, ...] = (
    FindingKind(
        key="audit_error",
        label="audit error",
        plural="audit errors",
        severity=Severity.CRITICAL,
        severity_reason="nothing is known about that root user: it may hold any credential, and no control "
        "can be checked",
        controls=_controls("rootwatch RW.1"),
        alerts=True,
        fails_scan=True,
        credentials=(),
        fields=("status",),
        applies=lambda row, _: str(field_of(row, "status")) == AuditStatus.ERROR,
        remediation="run `rootwatch doctor --account <id>` and fix what stops the audit",
    ),
    FindingKind(
        key="active_access_key",
        label="active access key",
        plural="active access keys",
        severity=Severity.CRITICAL,
        severity_reason="long-lived keys that call any API as root, from anywhere, with no MFA asked",
        controls=_controls(f"{FSBP} IAM.4", f"{CIS} 1.4", "rootwatch RW.1"),
        alerts=True,
        fails_scan=True,
        credentials=(CredentialKind.ACCESS_KEYS,),
        fields=("active_access_keys", "access_keys_present"),
        applies=lambda row, _: _active_key(row),
        remediation="delete the root access keys: `rootwatch remediate delete-root-credentials --accounts <id>`",
    ),
    FindingKind(
        key="password_without_mfa",
        label="password without MFA",
        plural="passwords without MFA",
        severity=Severity.CRITICAL,
        severity_reason="a console sign-in as root with the password alone: one factor guards the whole account",
        controls=_controls(f"{FSBP} IAM.9", f"{FSBP} IAM.6", f"{CIS} 1.5", f"{CIS} 1.6", "rootwatch RW.1"),
        alerts=True,
        fails_scan=True,
        credentials=(CredentialKind.PASSWORD,),
        fields=("password_present", "mfa_enabled"),
        applies=lambda row, _: _password_without_mfa(row),
        remediation="delete the root password (`rootwatch remediate delete-root-credentials --accounts <id> "
        "--credentials password`); a break-glass password that stays needs an MFA device",
    ),
    FindingKind(
        key="password",
        label="password",
        plural="passwords",
        severity=Severity.HIGH,
        severity_reason="a console sign-in as root for whoever holds the password (and the MFA device, if any)",
        controls=_controls("rootwatch RW.1"),
        alerts=True,
        fails_scan=True,
        credentials=(CredentialKind.PASSWORD,),
        fields=("password_present",),
        applies=lambda row, _: field_of(row, "password_present") is True,
        remediation="delete the root password unless it is a documented break-glass password (then exempt it)",
    ),
    FindingKind(
        key="active_signing_certificate",
        label="active signing certificate",
        plural="active signing certificates",
        severity=Severity.HIGH,
        severity_reason="an X.509 certificate that signs requests as root until it is deleted or expires",
        controls=_controls("rootwatch RW.1"),
        alerts=True,
        fails_scan=True,
        credentials=(CredentialKind.SIGNING_CERTIFICATES,),
        fields=("active_signing_certificates", "signing_certificates_present"),
        applies=lambda row, _: _active_certificate(row),
        remediation="delete the root signing certificates: "
        "`rootwatch remediate delete-root-credentials --accounts <id>`",
    ),
    FindingKind(
        key="inactive_access_key_or_signing_certificate",
        label="inactive access key or signing certificate",
        plural="inactive access keys or signing certificates",
        severity=Severity.MEDIUM,
        severity_reason="unusable until re-activated, but one call away from an active root credential",
        controls=_controls(f"{FSBP} IAM.4", f"{CIS} 1.4", "rootwatch RW.1"),
        alerts=True,
        fails_scan=True,
        credentials=(CredentialKind.ACCESS_KEYS, CredentialKind.SIGNING_CERTIFICATES),
        fields=(
            "access_keys_present",
            "inactive_access_keys",
            "signing_certificates_present",
            "active_signing_certificates",
        ),
        applies=lambda row, _: _inactive_key_or_certificate(row),
        remediation="delete them: `rootwatch remediate delete-root-credentials --accounts <id>`",
    ),
    FindingKind(
        key="mfa_only",
        label="other root credential (MFA device only)",
        plural="other root credentials (MFA device only)",
        severity=Severity.LOW,
        severity_reason="an MFA device alone signs nobody in; it is a leftover that keeps the account from "
        "a clean state",
        controls=_controls("rootwatch RW.1"),
        alerts=True,
        fails_scan=True,
        credentials=(CredentialKind.MFA,),
        fields=("mfa_enabled", "password_present", "access_keys_present", "signing_certificates_present"),
        applies=lambda row, _: _mfa_only(row),
        remediation="deactivate the root MFA device: `rootwatch remediate delete-root-credentials --accounts <id>`",
    ),
    FindingKind(
        key="password_unused",
        label="password unused for {days}+ days",
        plural="passwords unused for {days}+ days",
        severity=Severity.LOW,
        severity_reason="adds no risk beyond the password finding; says nobody needs it, so it can go",
        controls=_controls("rootwatch RW.1"),
        alerts=False,
        fails_scan=True,
        credentials=(CredentialKind.PASSWORD,),
        fields=("password_present", "password_last_used", "scanned_at"),
        applies=password_unused,
        remediation="nobody signs in with it: delete the root password "
        "(`rootwatch remediate delete-root-credentials --accounts <id> --credentials password`)",
    ),
)

FINDING: dict[str, FindingKind] = {kind.key: kind for kind in FINDINGS}

if [SEVERITY_ORDER.index(kind.severity) for kind in FINDINGS] != sorted(
    SEVERITY_ORDER.index(kind.severity) for kind in FINDINGS
):
    raise AssertionError("FINDINGS must list the kinds most severe first")


def severity_table(policy: Policy = DEFAULT_POLICY) -> str:
    """FINDINGS as a Markdown table (kind, severity, why, controls): the README's, kept equal by a test."""
    lines = ["| finding | severity | why | controls it breaks |", "|---|---|---|---|"]
    for kind in FINDINGS:
        controls = ", ".join(control.short for control in kind.controls)
        lines.append(
            f"| {kind.text(policy)} (`{kind.key}`) | {kind.severity.upper()} | {kind.severity_reason} | {controls} |"
        )
    return "\n".join(lines) + "\n"


def findings_of(row: Row, policy: Policy = DEFAULT_POLICY) -> list[FindingKind]:
    """The finding kinds that apply to a record or record row, most urgent first."""
    return [kind for kind in FINDINGS if kind.applies(row, policy)]


def highest_severity(row: Row, policy: Policy = DEFAULT_POLICY) -> Severity | None:
    """The severity of the row's most urgent finding (FINDINGS' order), or None when it has none."""
    kinds = findings_of(row, policy)
    return kinds[0].severity if kinds else None


def with_findings(record: AuditRecord, policy: Policy = DEFAULT_POLICY) -> AuditRecord:
    """The record with its derived ``severity`` and ``finding_kinds`` filled in (the S3 record, scan's output)."""
    kinds = findings_of(record, policy)
    return replace(
        record,
        severity=str(kinds[0].severity) if kinds else None,
        finding_kinds=[kind.key for kind in kinds],
    )


def most_severe(severities: Iterable[Severity | str | None]) -> Severity | None:
    """The most severe of ``severities`` (None and unknown values ignored), or None."""
    known = [Severity(s) for s in severities if s in set(Severity)]
    return min(known, key=SEVERITY_ORDER.index) if known else None


def finding_severity(row: Row, policy: Policy = DEFAULT_POLICY) -> int | None:
    """The index in FINDINGS of the row's most urgent finding, or None when it has none (clean OK, SKIPPED)."""
    return next((index for index, kind in enumerate(FINDINGS) if kind.applies(row, policy)), None)


def findings_by_severity(records: Iterable[AuditRecord], policy: Policy = DEFAULT_POLICY) -> list[AuditRecord]:
    """Only the records with a finding, most urgent first, then by account name (case-insensitive), then id."""
    ranked = [(rank, r) for r in records if (rank := finding_severity(r, policy)) is not None]
    ranked.sort(key=lambda item: (item[0], (item[1].account_name or "").casefold(), item[1].account_id))
    return [record for _, record in ranked]


def fails_scan(records: Iterable[Row], policy: Policy = DEFAULT_POLICY) -> bool:
    """Whether any record has a finding that makes ``scan`` exit 3."""
    return any(kind.fails_scan for record in records for kind in findings_of(record, policy))


def finding_counts(records: Iterable[Row], policy: Policy = DEFAULT_POLICY) -> dict[str, int]:
    """``{key: accounts}`` for every finding kind (0 included), in table order."""
    counts = {kind.key: 0 for kind in FINDINGS}
    for record in records:
        for kind in findings_of(record, policy):
            counts[kind.key] += 1
    return counts


def alerting_credentials() -> frozenset[str]:
    """The credential kinds whose appearance alerts: those of the alerting finding kinds."""
    return frozenset(c for kind in FINDINGS if kind.alerts for c in kind.credentials)
