"""The Lambdas' configuration: read from the environment once, into a typed model.

The handlers are the only code that reads the environment. A missing or bad variable is a
``ConfigError`` naming it, raised at the first invocation (never at import, so tests can set the
environment first).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rootwatch.domain.account_ids import ACCOUNT_ID_REGEX
from rootwatch.domain.asff import parse_product_arn
from rootwatch.domain.findings import THRESHOLDS, Policy

REQUIRED = ("TABLE_NAME", "BUCKET_NAME", "TOPIC_ARN", "AUDIT_REGION")


#: Settings fields whose variable is not simply the field name upper-cased.
_VARIABLE_FOR_FIELD = {
    "exemptions_json": "ROOTWATCH_EXEMPTIONS",
    "retry_mode": "AWS_RETRY_MODE",
    "max_attempts": "AWS_MAX_ATTEMPTS",
}


class ConfigError(RuntimeError):
    """The Lambda's environment is missing a variable or has a bad value (the message names it)."""


class Settings(BaseModel):
    """What every rootwatch Lambda needs to know about its stack."""

    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=3, max_length=255)
    bucket_name: str = Field(min_length=3, max_length=63)
    topic_arn: str = Field(pattern=rf"^arn:aws[a-z-]*:sns:[a-z0-9-]+:{ACCOUNT_ID_REGEX}:[A-Za-z0-9_.-]{{1,256}}$")
    audit_region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    history_ttl_days: int = Field(default=400, ge=1, le=3650)
    exemptions_json: str | None = None
    retry_mode: Literal["standard", "adaptive"] = "adaptive"
    max_attempts: int = Field(default=5, ge=1, le=20)
    #: The rules' thresholds (rootwatch.domain.findings.THRESHOLDS) set by their variables, as ``(name, value)``
    #: pairs: Settings stays hashable (the handlers cache what they build from it).
    thresholds: tuple[tuple[str, int], ...] = ()
    #: FinishRun imports Security Hub findings as this default product when set (rootwatch:securityHubEnabled).
    security_hub_product_arn: str | None = Field(
        default=None,
        pattern=rf"^arn:aws[a-z-]*:securityhub:[a-z0-9-]+:{ACCOUNT_ID_REGEX}:product/{ACCOUNT_ID_REGEX}/default$",
    )
    #: FinishRun puts change events on this bus when set (rootwatch:eventBridgeEnabled).
    event_bus_arn: str | None = Field(
        default=None, pattern=rf"^arn:aws[a-z-]*:events:[a-z0-9-]+:{ACCOUNT_ID_REGEX}:event-bus/[A-Za-z0-9._/-]+$"
    )

    @field_validator("security_hub_product_arn")
    @classmethod
    def _own_default_product(cls, value: str | None) -> str | None:
        """The default product of one account (``product/<account>/default`` under that same account)."""
        if value is not None:
            parse_product_arn(value)  # ValueError, which pydantic reports naming the field
        return value

    @property
    def policy(self) -> Policy:
        """The thresholds as the rules read them (a threshold not set keeps its default)."""
        return Policy.from_values(dict(self.thresholds))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Settings from an environment mapping; ``ConfigError`` naming the first missing or bad variable."""
        missing = [name for name in REQUIRED if not environ.get(name)]
        if missing:
            raise ConfigError(f"missing environment variable {missing[0]} (the stack sets {', '.join(REQUIRED)})")
        raw: dict[str, object] = {
            "table_name": environ["TABLE_NAME"],
            "bucket_name": environ["BUCKET_NAME"],
            "topic_arn": environ["TOPIC_ARN"],
            "audit_region": environ["AUDIT_REGION"],
            "exemptions_json": environ.get("ROOTWATCH_EXEMPTIONS") or None,
        }
        optional = {
            "HISTORY_TTL_DAYS": "history_ttl_days",
            "AWS_RETRY_MODE": "retry_mode",
            "AWS_MAX_ATTEMPTS": "max_attempts",
            "SECURITY_HUB_PRODUCT_ARN": "security_hub_product_arn",
            "EVENT_BUS_ARN": "event_bus_arn",
        }
        raw.update({field: environ[name] for name, field in optional.items() if environ.get(name)})
        thresholds: dict[str, int] = {}
        for threshold in THRESHOLDS:
            if environ.get(threshold.env):
                try:
                    thresholds[threshold.name] = threshold.parse(environ[threshold.env])
                except ValueError as exc:
                    raise ConfigError(f"environment variable {threshold.env}: {exc}") from None
        raw["thresholds"] = tuple(thresholds.items())
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            variable = _VARIABLE_FOR_FIELD.get(str(first["loc"][0]), str(first["loc"][0]).upper())
            raise ConfigError(f"environment variable {variable}: {first['msg']} (got {first.get('input')!r})") from None


_VARIABLES = (
    *REQUIRED,
    "HISTORY_TTL_DAYS",
    "ROOTWATCH_EXEMPTIONS",
    "AWS_RETRY_MODE",
    "AWS_MAX_ATTEMPTS",
    "SECURITY_HUB_PRODUCT_ARN",
    "EVENT_BUS_ARN",
    *(threshold.env for threshold in THRESHOLDS),
)


def settings() -> Settings:
    """This Lambda's settings, parsed once per distinct environment (once per container in AWS).

    Keyed by the variables' values rather than cached outright: in the sandbox several functions and
    stacks share one process, each invocation seeing its own function's environment.
    """
    return _parsed(tuple(os.environ.get(name) for name in _VARIABLES))


@functools.lru_cache(maxsize=16)
def _parsed(values: tuple[str | None, ...]) -> Settings:
    return Settings.from_environ({k: v for k, v in zip(_VARIABLES, values, strict=True) if v is not None})


settings.cache_clear = _parsed.cache_clear  # type: ignore[attr-defined]
