"""Typed deployment config, read from ``cdk.json`` context and validated at synth.

Every key lives under the ``rootwatch:`` prefix in the ``context`` block of ``cdk.json`` and can be
overridden on the command line (``cdk deploy -c rootwatch:alertEmails=a@x.com,b@x.com``). Values
given with ``-c`` arrive as strings, so lists also accept a comma-separated string and numbers a
string of digits.

A bad value raises :class:`ConfigError` whose message is ONE line naming the key, the offending
value and what is allowed; ``app.py`` prints it and exits non-zero.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rootwatch.domain.exemptions import ExemptionError, parse_exemptions
from rootwatch.domain.findings import THRESHOLDS, Policy

PREFIX = "rootwatch:"

ARCHITECTURES = ("arm64", "x86_64")
REMOVAL_POLICIES = ("retain", "destroy")
#: The functions' log level (Lambda's ApplicationLogLevel and Powertools' POWERTOOLS_LOG_LEVEL; both accept these).
LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
#: botocore retry modes the functions' clients may use (AWS_RETRY_MODE).
SDK_RETRY_MODES = ("standard", "adaptive")
#: The most attempts (first included) a function's botocore client may make per call (AWS_MAX_ATTEMPTS).
MAX_SDK_ATTEMPTS = 20
#: The values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
#: Lambda allows 4 KB of environment variables in all; the other variables take well under 1 KB.
MAX_EXEMPTIONS_JSON = 3000
#: A Distributed Map runs at most 10,000 child executions in parallel.
MAX_MAP_CONCURRENCY = 10_000
#: ItemBatcher.MaxItemsPerBatch bounds: every account of a batch is audited at once inside its Express child
#: (the inline Map's MaxConcurrency is the batch size), so the batch size is also that child's fan-out.
MAX_BATCH_SIZE = 100

#: Every key the app reads (all under the ``rootwatch:`` prefix); any other rootwatch: key is an error.
CONFIG_KEYS = tuple(
    PREFIX + key
    for key in (
        "resourcePrefix",
        "scheduleCron",
        "scheduleTimezone",
        "alertEmails",
        "mapMaxConcurrency",
        "mapBatchSize",
        "historyRetentionDays",
        "resultsRetentionDays",
        "logRetentionDays",
        "lambdaArchitecture",
        "removalPolicy",
        "auditRegion",
        "athenaBytesScannedCutoffMb",
        "exemptions",
        "logLevel",
        "metricsEnabled",
        "sdkRetryMode",
        "sdkMaxAttempts",
        "securityHubEnabled",
        "eventBridgeEnabled",
        "realtimeEnabled",
        "organizationId",
        "realtimeTargetOus",
        "realtimeBatchWindowSeconds",
        "realtimeMaxConcurrency",
        "realtimeStackSetCallAs",
        *(threshold.context_key for threshold in THRESHOLDS),
    )
)

#: Keys that existed once, and what replaced them (named in the error rather than "unknown key").
REMOVED_KEYS = {
    PREFIX + "powertoolsLayerVersion": "removed: the Powertools layer is the public one for the aws-lambda-powertools "
    "version pinned in requirements.txt, resolved at deploy time from its SSM parameter (docs/deploying.md)",
}

_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_PREFIX_RE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_ORG_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
#: An organization's root (r-...) or an OU (ou-<root>-<suffix>), the ids a StackSet's OrganizationalUnitIds take.
_OU_ID = re.compile(r"^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$")
#: Who creates the re-audit StackSet (CloudFormation's CallAs): the management account (SELF) or a delegated
#: administrator for StackSets (DELEGATED_ADMIN; docs/realtime.md).
STACKSET_CALL_AS = ("DELEGATED_ADMIN", "SELF")
#: MaximumBatchingWindowInSeconds bounds (an SQS event source mapping).
MAX_REALTIME_BATCH_WINDOW = 300
#: ScalingConfig.MaximumConcurrency bounds (an SQS event source mapping): 2 to 1,000; rootwatch caps it at 100.
REALTIME_CONCURRENCY_BOUNDS = (2, 100)


class ConfigError(ValueError):
    """A ``cdk.json`` context value is missing or invalid. ``str()`` is one line naming the key."""

    def __init__(self, key: str, problem: str, allowed: str) -> None:
        super().__init__(f"cdk.json context {PREFIX}{key}: {problem}; allowed: {allowed}")
        self.key = PREFIX + key


@dataclass(frozen=True)
class RootwatchConfig:
    """The validated settings the stack is built from."""

    resource_prefix: str
    schedule_cron: str
    schedule_timezone: str
    alert_emails: tuple[str, ...]
    map_max_concurrency: int
    history_retention_days: int
    results_retention_days: int
    log_retention_days: int
    lambda_architecture: str
    removal_policy: str
    audit_region: str | None
    athena_bytes_scanned_cutoff_mb: int
    exemptions: tuple[dict[str, Any], ...]
    log_level: str = "INFO"
    metrics_enabled: bool = True
    sdk_retry_mode: str = "adaptive"
    sdk_max_attempts: int = 3
    #: Accounts per Express child (ItemBatcher.MaxItemsPerBatch); audits in flight = this x map_max_concurrency.
    map_batch_size: int = 40
    #: FinishRun imports its findings into Security Hub (the account's default product) when on.
    security_hub_enabled: bool = False
    #: FinishRun puts one event per change on the default event bus when on.
    event_bridge_enabled: bool = False
    #: Re-audit an account minutes after its root credentials change (infra/realtime.py, docs/realtime.md).
    realtime_enabled: bool = False
    #: The organization's id (o-...): the central bus accepts events from this organization only.
    organization_id: str | None = None
    #: The OUs (or the root) the member-account rule is deployed to; empty: the whole organization.
    realtime_target_ous: tuple[str, ...] = ()
    #: The SQS event source's MaximumBatchingWindowInSeconds.
    realtime_batch_window_seconds: int = 60
    #: The SQS event source's MaximumConcurrency: the most re-audits in flight.
    realtime_max_concurrency: int = 5
    #: CloudFormation CallAs for the StackSet: DELEGATED_ADMIN (this account is a StackSets delegated admin) or SELF.
    realtime_stackset_call_as: str = "DELEGATED_ADMIN"
    #: The rules' thresholds by name (rootwatch.domain.findings.THRESHOLDS: key, default, bounds).
    thresholds: Mapping[str, int] = field(default_factory=dict)

    @property
    def policy(self) -> Policy:
        """The thresholds as the rules read them."""
        return Policy.from_values(self.thresholds)

    def threshold_environment(self) -> dict[str, str]:
        """The functions' environment variables for the thresholds (``PASSWORD_UNUSED_DAYS``, ...)."""
        return {t.env: str(self.thresholds.get(t.name, t.default)) for t in THRESHOLDS}

    @property
    def exemptions_json(self) -> str:
        """The exemptions as the JSON the Lambdas read from ``ROOTWATCH_EXEMPTIONS``."""
        return json.dumps(list(self.exemptions), separators=(",", ":"), sort_keys=True)

    @property
    def glue_name(self) -> str:
        """The prefix in a form Glue and Athena accept unquoted (no hyphens)."""
        return self.resource_prefix.replace("-", "_")


# --- cron ---------------------------------------------------------------------------------------

_CRON_HELP = (
    "cron(minutes hours day-of-month month day-of-week year) with '?' in exactly one of "
    "day-of-month/day-of-week, e.g. cron(0 2 * * ? *)"
)
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


def _cron_value(token: str, low: int, high: int, names: list[str]) -> bool:
    if token.isdigit():
        return low <= int(token) <= high
    return token.upper() in names


def _cron_field_ok(field: str, low: int, high: int, names: list[str], extra: str) -> bool:
    """One cron field: '*', or a comma list of values, ranges and increments (plus the field's extras)."""
    if field == "*":
        return True
    for part in field.split(","):
        base, _, step = part.partition("/")
        if step and not (step.isdigit() and int(step) >= 1):
            return False
        if base == "*" and step:
            continue
        if "L" in extra and re.fullmatch(r"L|\d{1,2}L|LW|L-\d{1,2}", base.upper()):
            continue
        if "W" in extra and re.fullmatch(r"\d{1,2}W", base.upper()):
            if not _cron_value(base[:-1], low, high, names):
                return False
            continue
        if "#" in extra and re.fullmatch(r"[1-7]#[1-5]|[A-Za-z]{3}#[1-5]", base):
            continue
        start, _, end = base.partition("-")
        if not _cron_value(start, low, high, names) or (end and not _cron_value(end, low, high, names)):
            return False
    return True


def validate_cron(expression: str) -> str:
    """Return the EventBridge Scheduler cron expression unchanged, or raise ValueError."""
    match = re.fullmatch(r"cron\((.*)\)", expression.strip())
    if not match:
        raise ValueError("not of the form cron(...)")
    fields = match.group(1).split()
    if len(fields) != 6:
        raise ValueError(f"has {len(fields)} fields, needs 6")
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ValueError("needs '?' in exactly one of day-of-month and day-of-week")
    checks: tuple[tuple[str, str, int, int, list[str], str], ...] = (
        ("minutes", minutes, 0, 59, [], ""),
        ("hours", hours, 0, 23, [], ""),
        ("day-of-month", dom, 1, 31, [], "LW"),
        ("month", month, 1, 12, _MONTHS, ""),
        ("day-of-week", dow, 1, 7, _DAYS, "L#"),
        ("year", year, 1970, 2199, [], ""),
    )
    for name, value, low, high, names, extra in checks:
        if value == "?" and name in ("day-of-month", "day-of-week"):
            continue
        if not _cron_field_ok(value, low, high, names, extra):
            raise ValueError(f"bad {name} field {value!r}")
    return expression.strip()


# --- readers --------------------------------------------------------------------------------------


def _int(key: str, raw: Any, low: int, high: int) -> int:
    allowed = f"an integer from {low} to {high}"
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise ConfigError(key, f"{raw!r} is not an integer", allowed)
    if isinstance(raw, str):
        if not raw.strip().isdigit():
            raise ConfigError(key, f"{raw!r} is not an integer", allowed)
        raw = int(raw)
    if not low <= raw <= high:
        raise ConfigError(key, f"{raw} is out of range", allowed)
    return raw


def _choice(key: str, raw: Any, choices: tuple[Any, ...]) -> Any:
    allowed = ", ".join(str(c) for c in choices)
    candidate = raw.strip().lower() if isinstance(raw, str) else raw
    if isinstance(candidate, str) and candidate.isdigit() and all(isinstance(c, int) for c in choices):
        candidate = int(candidate)
    if candidate not in choices:
        raise ConfigError(key, f"{raw!r} is not allowed", allowed)
    return candidate


def _bool(key: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise ConfigError(key, f"{raw!r} is not a boolean", "true, false")


def _upper_choice(key: str, raw: Any, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (upper case), whatever the case and surrounding blanks it was written with."""
    candidate = raw.strip().upper() if isinstance(raw, str) else raw
    if candidate not in choices:
        raise ConfigError(key, f"{raw!r} is not allowed", ", ".join(choices))
    return str(candidate)


def _emails(key: str, raw: Any) -> tuple[str, ...]:
    allowed = "a non-empty list of email addresses (or a comma-separated string)"
    if isinstance(raw, str):
        raw = [part.strip() for part in raw.split(",") if part.strip()]
    if not isinstance(raw, list) or not raw:
        raise ConfigError(key, "no alert email address is configured", allowed)
    for email in raw:
        if not isinstance(email, str) or not _EMAIL.match(email.strip()):
            raise ConfigError(key, f"{email!r} is not an email address", allowed)
    emails = tuple(e.strip() for e in raw)
    if len(set(emails)) != len(emails):
        raise ConfigError(key, "an address is listed twice", allowed)
    return emails


def _exemptions(key: str, raw: Any) -> tuple[dict[str, Any], ...]:
    """Shape-check the exemption entries, then let the domain model validate each one (a past expiry fails)."""
    allowed = "a list of {account_id, credentials, reason, expires} objects (see docs/deploying.md)"
    if raw is None:
        return ()
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise ConfigError(key, "is not valid JSON", allowed) from None
    if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
        raise ConfigError(key, f"{raw!r} is not a list of objects", allowed)
    try:
        parse_exemptions(raw)
    except ExemptionError as exc:
        raise ConfigError(key, str(exc).splitlines()[0], allowed) from None
    encoded = json.dumps(raw, separators=(",", ":"), sort_keys=True)
    if len(encoded) > MAX_EXEMPTIONS_JSON:
        raise ConfigError(
            key,
            f"{len(raw)} entries take {len(encoded)} bytes as JSON, over the {MAX_EXEMPTIONS_JSON} that fit in "
            "the Lambda environment (4 KB in all)",
            "fewer or shorter entries (shorten the reasons)",
        )
    return tuple(raw)


def _target_ous(key: str, raw: Any, realtime: bool) -> tuple[str, ...]:
    allowed = (
        "a list of OU ids (ou-xxxx-xxxxxxxx), or the root id (r-xxxx, aws organizations list-roots) for every account"
    )
    if raw is None or raw == "" or raw == []:
        if realtime:
            # A service-managed StackSet targets OUs (or the root) by id; the root's id cannot be derived from the
            # organization's, and a lookup at synth would need the management account's credentials.
            raise ConfigError(key, "is empty but realtimeEnabled is true", allowed)
        return ()
    if isinstance(raw, str):
        raw = [part.strip() for part in raw.split(",") if part.strip()]
    if not isinstance(raw, list):
        raise ConfigError(key, f"{raw!r} is not a list", allowed)
    for ou in raw:
        if not isinstance(ou, str) or not _OU_ID.match(ou.strip()):
            raise ConfigError(key, f"{ou!r} is not an OU or root id", allowed)
    ous = tuple(ou.strip() for ou in raw)
    if len(set(ous)) != len(ous):
        raise ConfigError(key, "an id is listed twice", allowed)
    return ous


def _organization_id(context: Mapping[str, Any], realtime: bool) -> str | None:
    raw = _get(context, "organizationId")
    allowed = (
        "the organization's id: o- and 10 to 32 lowercase letters or digits (aws organizations describe-organization)"
    )
    if raw in (None, ""):
        if realtime:
            raise ConfigError("organizationId", "is required when realtimeEnabled is true", allowed)
        return None
    if not isinstance(raw, str) or not _ORG_ID.match(raw.strip()):
        raise ConfigError("organizationId", f"{raw!r} is not an organization id", allowed)
    return raw.strip()


def _get(context: Mapping[str, Any], key: str, default: Any = None) -> Any:
    return context.get(PREFIX + key, default)


def load_config(context: Mapping[str, Any]) -> RootwatchConfig:
    """Build the typed config from a context mapping (keys ``rootwatch:*``); ConfigError on bad input."""
    prefix = _get(context, "resourcePrefix", "rootwatch")
    if not isinstance(prefix, str) or not _PREFIX_RE.match(prefix):
        raise ConfigError("resourcePrefix", f"{prefix!r} is not allowed", "lowercase letters, digits, '-'; 1-20 chars")

    cron = _get(context, "scheduleCron", "cron(0 2 * * ? *)")
    try:
        cron = validate_cron(cron if isinstance(cron, str) else "")
    except ValueError as exc:
        raise ConfigError("scheduleCron", f"{cron!r} {exc}", _CRON_HELP) from None

    timezone = _get(context, "scheduleTimezone", "UTC")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError("scheduleTimezone", f"{timezone!r} is not a time zone", "an IANA name, e.g. UTC") from None

    audit_region = _get(context, "auditRegion")
    if audit_region in ("", None):
        audit_region = None
    elif not isinstance(audit_region, str) or not _REGION.match(audit_region):
        raise ConfigError("auditRegion", f"{audit_region!r} is not a region", "null (the stack's region) or a name")

    realtime = _bool("realtimeEnabled", _get(context, "realtimeEnabled", False))

    return RootwatchConfig(
        resource_prefix=prefix,
        schedule_cron=cron,
        schedule_timezone=timezone,
        alert_emails=_emails("alertEmails", _get(context, "alertEmails")),
        map_max_concurrency=_int("mapMaxConcurrency", _get(context, "mapMaxConcurrency", 8), 1, MAX_MAP_CONCURRENCY),
        map_batch_size=_int("mapBatchSize", _get(context, "mapBatchSize", 40), 1, MAX_BATCH_SIZE),
        history_retention_days=_int("historyRetentionDays", _get(context, "historyRetentionDays", 400), 1, 3650),
        results_retention_days=_int("resultsRetentionDays", _get(context, "resultsRetentionDays", 1096), 1, 3650),
        log_retention_days=_choice("logRetentionDays", _get(context, "logRetentionDays", 90), LOG_RETENTION_DAYS),
        lambda_architecture=_choice("lambdaArchitecture", _get(context, "lambdaArchitecture", "arm64"), ARCHITECTURES),
        removal_policy=_choice("removalPolicy", _get(context, "removalPolicy", "retain"), REMOVAL_POLICIES),
        audit_region=audit_region,
        athena_bytes_scanned_cutoff_mb=_int(
            "athenaBytesScannedCutoffMb", _get(context, "athenaBytesScannedCutoffMb", 1024), 10, 10_000_000
        ),
        exemptions=_exemptions("exemptions", _get(context, "exemptions")),
        log_level=_upper_choice("logLevel", _get(context, "logLevel", "INFO"), LOG_LEVELS),
        metrics_enabled=_bool("metricsEnabled", _get(context, "metricsEnabled", True)),
        sdk_retry_mode=_choice("sdkRetryMode", _get(context, "sdkRetryMode", "adaptive"), SDK_RETRY_MODES),
        sdk_max_attempts=_int("sdkMaxAttempts", _get(context, "sdkMaxAttempts", 3), 1, MAX_SDK_ATTEMPTS),
        security_hub_enabled=_bool("securityHubEnabled", _get(context, "securityHubEnabled", False)),
        event_bridge_enabled=_bool("eventBridgeEnabled", _get(context, "eventBridgeEnabled", False)),
        realtime_enabled=realtime,
        organization_id=_organization_id(context, realtime),
        realtime_target_ous=_target_ous("realtimeTargetOus", _get(context, "realtimeTargetOus"), realtime),
        realtime_batch_window_seconds=_int(
            "realtimeBatchWindowSeconds", _get(context, "realtimeBatchWindowSeconds", 60), 0, MAX_REALTIME_BATCH_WINDOW
        ),
        realtime_max_concurrency=_int(
            "realtimeMaxConcurrency", _get(context, "realtimeMaxConcurrency", 5), *REALTIME_CONCURRENCY_BOUNDS
        ),
        realtime_stackset_call_as=_upper_choice(
            "realtimeStackSetCallAs", _get(context, "realtimeStackSetCallAs", "DELEGATED_ADMIN"), STACKSET_CALL_AS
        ),
        thresholds={
            threshold.name: _int(
                threshold.context_key,
                _get(context, threshold.context_key, threshold.default),
                threshold.minimum,
                threshold.maximum,
            )
            for threshold in THRESHOLDS
        },
    )
