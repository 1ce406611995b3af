"""What an AWS account id is, once for every layer: exactly 12 ASCII digits (``0``-``9``). Pure.

The CLI flags, the Lambda event models, the exemptions, the root-session factory, the query parameters and
the SQS queue URLs all check ids here. ``\\d`` is not enough: in Python and in pydantic's regex engine it
also matches Arabic-Indic, fullwidth and other Unicode digits, and ``$`` lets a trailing newline through.
"""

from __future__ import annotations

import re
from typing import Any

#: The id as a regular expression (no anchors): use it with ``re.fullmatch``.
ACCOUNT_ID_REGEX = "[0-9]{12}"
_ACCOUNT_ID = re.compile(ACCOUNT_ID_REGEX, re.ASCII)


def is_account_id(value: Any) -> bool:
    """True for a string of exactly 12 ASCII digits."""
    return isinstance(value, str) and _ACCOUNT_ID.fullmatch(value) is not None


def validate_account_id(value: Any) -> str:
    """``value`` when it is an account id, else ``ValueError`` quoting it."""
    if not is_account_id(value):
        raise ValueError(f"{value!r} is not a 12-digit AWS account id (ASCII digits 0-9)")
    return str(value)
