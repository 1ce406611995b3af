"""The sandbox's seeding and fault API (docs/contracts.md#the-sandboxs-seeding-and-fault-api).

Each function takes the JSON body of its ``POST /_rootwatch/...`` route as a dict and returns the
JSON answer. ``Sandbox`` exposes the same functions as keyword-argument methods; the HTTP server
maps ``ROUTES`` onto its endpoint. Bad input raises ``SeedingError`` with the HTTP status to answer
(400 malformed, 404 unknown account) and a message that names the field.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from rootwatch.domain.account_ids import is_account_id

from rootwatch_sandbox import orgview, realtime
from rootwatch_sandbox.builders import apply_account_state, build_root_user, describe_root_user
from rootwatch_sandbox.rootstate import (
    STATE,
    Fault,
)

ACCOUNT_STATES = ("ACTIVE", "SUSPENDED", "PENDING_CLOSURE", "CLOSED", "PENDING_ACTIVATION")
KEY_STATUSES = ("Active", "Inactive")
MFA_KINDS = ("virtual", "hardware")
MAX_DEMO_ACCOUNTS = 50_000


class SeedingError(Exception):
    """A seeding request the sandbox refuses: ``status`` 400 (malformed) or 404 (unknown account)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --- validation ---------------------------------------------------------------------------------
def _body(body: object) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise SeedingError(400, "body: expected a JSON object")
    return body


def _known_account_id(body: dict[str, Any]) -> str:
    account_id = body.get("account_id")
    if not isinstance(account_id, str) or not is_account_id(account_id):
        raise SeedingError(400, f"account_id: expected a 12-digit account id string, got {account_id!r}")
    backend = orgview.management_backend(account_id)
    if backend is None or orgview.find_account(backend, account_id) is None:
        raise SeedingError(404, f"account_id: {account_id} is not an account of any organization in the sandbox")
    return account_id


def _bool(body: dict[str, Any], name: str, default: bool = False) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise SeedingError(400, f"{name}: expected true or false, got {value!r}")
    return value


def _choices(body: dict[str, Any], name: str, allowed: tuple[str, ...]) -> list[str]:
    value = body.get(name, [])
    if value is None:
        return []
    if not isinstance(value, list) or any(item not in allowed for item in value):
        raise SeedingError(400, f"{name}: expected a list of {' / '.join(allowed)}, got {value!r}")
    return list(value)


def _timestamp(body: dict[str, Any], name: str) -> dt.datetime | None:
    value = body.get(name)
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise SeedingError(400, f"{name}: expected an ISO-8601 timestamp, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# --- root credentials ---------------------------------------------------------------------------
def set_root_credentials(body: dict[str, Any]) -> dict[str, Any]:
    """Replace an account's root credentials: ``password``, ``access_keys``, ``mfa_devices``, ``signing_certificates``.

    Optional ``password_last_used`` and ``access_key_last_used`` (ISO-8601) set the last-used dates. Optional
    ``emit_event`` (a root event name, e.g. ``PasswordRecoveryCompleted``): the change's CloudTrail event is emitted
    and delivered when a realtime stack is deployed (rootwatch_sandbox.realtime; nothing otherwise).
    """
    body = _body(body)
    account_id = _known_account_id(body)
    password = _bool(body, "password")
    access_keys = _choices(body, "access_keys", KEY_STATUSES)
    mfa_devices = _choices(body, "mfa_devices", MFA_KINDS)
    certificates = _choices(body, "signing_certificates", KEY_STATUSES)
    password_last_used = _timestamp(body, "password_last_used")
    access_key_last_used = _timestamp(body, "access_key_last_used")
    emit_event = body.get("emit_event")
    if emit_event is not None and emit_event not in realtime.EVENT_NAMES:
        raise SeedingError(400, f"emit_event: expected a root-credential event name, got {emit_event!r}")
    from rootwatch_sandbox.rootaccess.root_user import root_user_for

    with STATE.lock:
        current = root_user_for(account_id)
        user = build_root_user(
            account_id,
            create_date=current.create_date,
            now=STATE.clock.now(),
            password=password,
            access_keys=access_keys,
            mfa_devices=mfa_devices,
            signing_certificates=certificates,
            password_last_used=password_last_used or current.password_last_used,
            access_key_last_used=access_key_last_used,
        )
        STATE.replace_root_user(user)
    if emit_event is not None:
        realtime.emit_root_event(account_id, emit_event)
    return describe_root_user(user)


# --- account state ------------------------------------------------------------------------------
def set_account_state(body: dict[str, Any]) -> dict[str, Any]:
    """Set an account's Organizations ``State`` (ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED, PENDING_ACTIVATION)."""
    body = _body(body)
    account_id = _known_account_id(body)
    state = body.get("state")
    if state not in ACCOUNT_STATES:
        raise SeedingError(400, f"state: expected one of {', '.join(ACCOUNT_STATES)}, got {state!r}")
    backend = orgview.management_backend(account_id)
    account = orgview.find_account(backend, account_id) if backend is not None else None
    assert account is not None  # _known_account_id checked it
    with STATE.lock:
        apply_account_state(account, state)
    return {"account_id": account_id, "state": account.state, "status": account.status}


# --- faults -------------------------------------------------------------------------------------
def add_fault(body: dict[str, Any]) -> dict[str, Any]:
    """Make ``operation`` fail for ``account_id`` with ``error_code``: after letting ``after`` matching calls
    through (default 0), ``count`` times, or always when null.

    For AssumeRoot the account is the target; for any other call, the caller's account. Operation
    ``"*"`` is an SCP-style deny on every call a root session makes in that account; with
    ``message`` null a deny answers AWS's SCP wording for the actual action.
    """
    body = _body(body)
    account_id = _known_account_id(body)
    operation = body.get("operation")
    if not isinstance(operation, str) or not operation:
        raise SeedingError(400, f"operation: expected an API name such as AssumeRoot, or '*', got {operation!r}")
    error_code = body.get("error_code")
    if not isinstance(error_code, str) or not error_code:
        raise SeedingError(400, f"error_code: expected an AWS error code such as Throttling, got {error_code!r}")
    message = body.get("message")
    if message is not None and not isinstance(message, str):
        raise SeedingError(400, f"message: expected a string or null, got {message!r}")
    count = body.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise SeedingError(400, f"count: expected a positive integer or null (always), got {count!r}")
    after = body.get("after", 0)
    if after is None:
        after = 0
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise SeedingError(400, f"after: expected a non-negative integer (calls to let through first), got {after!r}")
    fault = Fault(
        account_id=account_id, operation=operation, error_code=error_code, message=message, remaining=count, after=after
    )
    STATE.add_fault(fault)
    return {"fault": fault.describe(), "faults": len(STATE.faults())}


def clear_faults(body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Remove every injected fault."""
    _body(body)
    return {"cleared": STATE.clear_faults()}


def create_demo_org(body: dict[str, Any]) -> dict[str, Any]:
    """An org with ``accounts`` member accounts in a ``seed``-determined mix of root credential states."""
    body = _body(body)
    accounts = body.get("accounts")
    if isinstance(accounts, bool) or not isinstance(accounts, int) or not 0 <= accounts <= MAX_DEMO_ACCOUNTS:
        raise SeedingError(400, f"accounts: expected an integer from 0 to {MAX_DEMO_ACCOUNTS}, got {accounts!r}")
    seed = body.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise SeedingError(400, f"seed: expected an integer, got {seed!r}")
    from rootwatch_sandbox import demo_org

    return demo_org.create(accounts, random.Random(seed))


ROUTES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "/_rootwatch/root-credentials": set_root_credentials,
    "/_rootwatch/account-state": set_account_state,
    "/_rootwatch/faults": add_fault,
    "/_rootwatch/faults/clear": clear_faults,
    "/_rootwatch/demo-org": create_demo_org,
}
