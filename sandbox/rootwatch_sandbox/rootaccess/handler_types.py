"""The shapes the request handlers share: what a handler answers, and its signature (responses.py dispatches)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.responses import BaseResponse

from rootwatch_sandbox.rootstate import RootSession

#: A raw answer: HTTP status, headers, body.
Response = tuple[int, dict[str, str], Any]
#: A handler: the moto request and the caller's root session (None when not one) -> a result, a raw answer, or
#: None to let moto answer.
Handler = Callable[[BaseResponse, RootSession | None], "dict[str, Any] | Response | None"]
