"""The running function's environment, per thread: ``os.environ`` and boto3's default session.

In Lambda each function has its own process, so its Variables and its role's credentials are simply the
process's environment. In the sandbox many functions share one process and run concurrently, so while a
thread runs a handler it sees the function's environment layered over the process's (:class:`_InvocationEnviron`,
:func:`function_environment`), and ``boto3.client(...)`` there uses a session made for the function's
credentials. :func:`install` puts both in place (rootwatch_sandbox.runtime.install does, once).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

_UNSET = object()
_overlays = threading.local()


def _current_overlay() -> dict[str, Any] | None:
    stack = getattr(_overlays, "stack", None)
    return stack[-1] if stack else None


class _InvocationEnviron(os._Environ):  # type: ignore[name-defined,misc]
    """``os.environ`` that shows the running invocation's environment to the invoking thread only.

    Lambda gives each function its own process, so its Variables are simply the environment. Here many
    functions share one process and run concurrently (a Distributed Map invokes from many threads), and
    ``os.environ`` is process-global. Options were a global lock around each invocation (serializes every
    Map item, deadlocks when a handler waits on another invocation over HTTP) or an overlay per thread. This is
    the overlay: while a thread runs a handler, reads and writes of ``os.environ`` (and ``os.getenv``) in that
    thread see the function's environment layered over the process's; other threads see the process's.
    Limits: threads a handler starts see the process environment (read settings in the handler's thread and
    pass them down), and child processes inherit the real process environment.
    """

    def __getitem__(self, key: str) -> str:
        overlay = _current_overlay()
        if overlay is not None and key in overlay:
            value = overlay[key]
            if value is _UNSET:
                raise KeyError(key)
            return value  # type: ignore[no-any-return]
        return super().__getitem__(key)  # type: ignore[no-any-return]

    def __setitem__(self, key: str, value: str) -> None:
        overlay = _current_overlay()
        if overlay is None:
            super().__setitem__(key, value)
            return
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"str expected, not {type(value).__name__}")
        overlay[key] = value

    def __delitem__(self, key: str) -> None:
        overlay = _current_overlay()
        if overlay is None:
            super().__delitem__(key)
            return
        self[key]  # KeyError when the key is absent, as os.environ does
        overlay[key] = _UNSET

    def __iter__(self) -> Iterator[str]:
        overlay = _current_overlay()
        if overlay is None:
            yield from super().__iter__()
            return
        overlay = dict(overlay)
        for key in super().__iter__():
            if key not in overlay:
                yield key
        for key, value in overlay.items():
            if value is not _UNSET:
                yield key

    def __len__(self) -> int:
        if _current_overlay() is None:
            return super().__len__()  # type: ignore[no-any-return]
        return sum(1 for _ in self)

    def copy(self) -> dict[str, str]:
        return dict(self)


@contextmanager
def function_environment(variables: Mapping[str, str | None]) -> Iterator[None]:
    """Show ``variables`` (None hides a variable) through ``os.environ`` in this thread only, for the block."""
    overlay: dict[str, Any] = {key: (_UNSET if value is None else str(value)) for key, value in variables.items()}
    stack = getattr(_overlays, "stack", None)
    if stack is None:
        stack = _overlays.stack = []
    stack.append(overlay)
    try:
        yield
    finally:
        stack.pop()


_MAX_SESSIONS = 16  # one per live role session; a sandbox reset makes new keys, so old sessions age out
_sessions: OrderedDict[tuple[str, str | None], Any] = OrderedDict()
_sessions_lock = threading.Lock()


def _patched_default_session(original: Callable[[], Any]) -> Callable[[], Any]:
    """``boto3.client(...)`` inside a handler uses a session with the function's credentials and region.

    boto3's default session resolves credentials once per process; in Lambda that process belongs to one
    function. Here it is shared, so inside an invocation the default session is one made (and cached) for the
    function's role credentials instead.
    """

    def _get_default_session() -> Any:
        overlay = _current_overlay()
        key_id = overlay.get("AWS_ACCESS_KEY_ID") if overlay is not None else None
        if not isinstance(key_id, str):
            return original()
        region = overlay.get("AWS_REGION") if overlay is not None else None
        key = (key_id, region if isinstance(region, str) else None)
        with _sessions_lock:
            session = _sessions.get(key)
            if session is None:
                import boto3

                session = _sessions[key] = boto3.session.Session()  # resolves from this thread's overlay
                while len(_sessions) > _MAX_SESSIONS:
                    _sessions.popitem(last=False)
            else:
                _sessions.move_to_end(key)
        return session

    _get_default_session.__wrapped__ = original  # type: ignore[attr-defined]
    return _get_default_session


def install() -> None:
    """Make ``os.environ`` the per-thread overlay and ``boto3``'s default session per function.

    Once per process: rootwatch_sandbox.runtime.install calls it.
    """
    import boto3

    if not isinstance(os.environ, _InvocationEnviron):
        os.environ.__class__ = _InvocationEnviron
    boto3._get_default_session = _patched_default_session(boto3._get_default_session)
