"""Credentials for an IAM role, as Lambda gives a function and Step Functions a state machine.

Both the in-process Lambda runner (the function's execution role) and the Step Functions patches (the state
machine's role, so the sandbox's IAM enforcement holds it to that role's policies) use :func:`role_credentials`.
"""

from __future__ import annotations

import threading
import time
from typing import Any

_ROLE_SESSION_SECONDS = 3600
_role_sessions: dict[tuple[str, str, str], tuple[Any, float]] = {}
_role_sessions_lock = threading.Lock()


def role_credentials(role_arn: str, session_name: str, region: str) -> tuple[str, str, str]:
    """Credentials for a role, as Lambda (or Step Functions) gives them (moto's assume_role, cached per role and
    session name until five minutes before they expire). Never logged: only the invocation's environment has them.

    The role need not exist (moto maps the ARN's account); calls with these credentials act in that account.
    A cached session is dropped when the sandbox was reset (its key is gone) or when it nears expiry.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends
    from moto.utilities.utils import get_partition

    partition = get_partition(region)
    with _role_sessions_lock:
        cached = _role_sessions.get((role_arn, session_name, region))
        if cached is not None:
            session, renew_at = cached
            if time.monotonic() < renew_at and session.access_key_id in (
                iam_backends[session.account_id][partition].access_keys
            ):
                return session.access_key_id, session.secret_access_key, session.session_token
        session = sts_backends[DEFAULT_ACCOUNT_ID][partition].assume_role(
            region_name=region,
            role_session_name=session_name[:64],
            role_arn=role_arn,
            policy="",
            duration=_ROLE_SESSION_SECONDS,
            external_id="",
        )
        _role_sessions[(role_arn, session_name, region)] = (session, time.monotonic() + _ROLE_SESSION_SECONDS - 300)
    return session.access_key_id, session.secret_access_key, session.session_token
