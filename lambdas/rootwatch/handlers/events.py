"""The events the state machine sends each Lambda, as models parsed at the boundary.

A malformed event raises ``InvalidEventError`` whose message names the field (``account.id: ...``), so a
bad input fails loudly and clearly instead of as a KeyError deep in a service.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from aws_lambda_powertools.utilities.parser import parse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from rootwatch.domain.account_ids import validate_account_id
from rootwatch.domain.timestamps import iso_utc

RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$"
#: 12 ASCII digits, checked by the domain rule (a ``pattern`` with ``\d`` would let Unicode digits through).
AccountId = Annotated[str, AfterValidator(validate_account_id)]

Model = TypeVar("Model", bound=BaseModel)


class InvalidEventError(ValueError):
    """The Lambda's event does not have the expected shape; the message names the field."""


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Timestamped(_Event):
    @field_validator("scanned_at", check_fields=False)
    @classmethod
    def _iso(cls, value: str) -> str:
        try:
            return iso_utc(value)
        except ValueError as exc:
            raise ValueError(f"not an ISO-8601 timestamp: {value!r}") from exc


class PrepareRunEvent(_Timestamped):
    """PrepareRun's input: the execution's name (the run id) and start time."""

    run_id: str = Field(pattern=RUN_ID_PATTERN)
    scanned_at: str


class AccountItem(_Event):
    """One manifest entry."""

    id: AccountId
    name: str | None = None
    email: str | None = None
    state: str | None = None
    ou_path: str | None = None  # absent in a manifest written before the OU walk
    #: The account's exemptions from the status table in effect on the run's day (cdk.json's shape); PrepareRun
    #: writes the key only for an account that has some.
    exemptions: list[dict[str, Any]] = Field(default_factory=list)


class AuditAccountEvent(_Timestamped):
    """AuditAccount's input: one Map item plus where the retries stand."""

    run_id: str = Field(pattern=RUN_ID_PATTERN)
    scanned_at: str
    account: AccountItem
    retry_count: int = Field(default=0, ge=0)
    max_retries: int = Field(default=0, ge=0)

    @property
    def final_attempt(self) -> bool:
        return self.retry_count >= self.max_retries


class PreparedRunModel(_Event):
    run_id: str = Field(pattern=RUN_ID_PATTERN)
    scanned_at: str
    organization_id: str = ""
    manifest_key: str
    accounts: int = Field(ge=0)
    skipped: int = Field(ge=0)


class CaughtError(_Event):
    """A Step Functions Catch output."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)
    Error: str = "States.Runtime"
    Cause: str = ""


class RunState(_Event):
    """The execution's state when it reaches FinishRun: PrepareRun's output, or what a Catch caught."""

    prepared: PreparedRunModel | None = None
    failure: CaughtError | None = None  # PrepareRun failed: nobody was audited
    map_failure: CaughtError | None = None  # the Map failed part-way


class FinishRunEvent(_Timestamped):
    """FinishRun's input: the run and the execution's state."""

    run_id: str = Field(pattern=RUN_ID_PATTERN)
    scanned_at: str
    state: RunState = RunState()

    @property
    def failure(self) -> CaughtError | None:
        return self.state.failure or self.state.map_failure


def parse_event(event: Any, model: type[Model]) -> Model:
    """``event`` as ``model``; ``InvalidEventError`` naming the first bad field."""
    if not isinstance(event, dict):
        raise InvalidEventError(f"event: expected a JSON object, got {type(event).__name__}")
    try:
        return parse(event=event, model=model)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "event"
        raise InvalidEventError(f"event field {where}: {first['msg']}") from None
