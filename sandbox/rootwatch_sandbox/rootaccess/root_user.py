"""IAM calls on the root user: the account's root user, and IAM's no-UserName calls made by a root session.

The operations themselves are rootwatch_sandbox.rootuser_api's; this module finds the user they act on.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from moto.core.responses import BaseResponse

from rootwatch_sandbox import orgview, realtime, rootuser_api
from rootwatch_sandbox.rootstate import STATE, RootSession, RootUser

if TYPE_CHECKING:
    from rootwatch_sandbox.rootaccess.handler_types import Handler


def root_user_for(account_id: str) -> RootUser:
    """The account's root user; a new one is dated just before the account joined the org (as observed)."""
    user = STATE.known_root_user(account_id)
    if user is not None:
        return user
    created = None
    backend = orgview.management_backend(account_id)
    account = orgview.find_account(backend, account_id) if backend is not None else None
    if account is not None:
        created = account.create_time.replace(tzinfo=dt.UTC, microsecond=0) - dt.timedelta(seconds=1)
    return STATE.root_user(account_id, create_date=created)


def root_user_call(operation: str) -> Handler:
    def handle(resp: BaseResponse, session: RootSession | None) -> dict[str, Any] | None:
        if session is None or resp.params.get("UserName"):
            return None  # an IAM user's call: moto's business
        with STATE.lock:  # the server serves requests on many threads
            answer = rootuser_api.HANDLERS[operation](root_user_for(session.account_id), resp.params)
        if operation in realtime.EVENT_NAMES:  # a change: its CloudTrail event, when a realtime stack is deployed
            realtime.emit_root_event(session.account_id, operation)
        return answer

    return handle
