"""IAM identity-policy evaluation, as AWS does it for one principal's policies (pure: no moto, no I/O).

``evaluate(policies, action, resource, context)`` answers whether the policies allow ``action`` on
``resource`` for a request with the given condition ``context``:

- an explicit ``Deny`` statement that matches wins, else a matching ``Allow`` allows, else the default deny;
- ``Action``/``NotAction`` match case-insensitively, ``Resource``/``NotResource`` case-sensitively, both with
  the ``*`` and ``?`` wildcards;
- ``Condition``: every operator and every key of a statement must match (AND), any of a key's values may
  (OR). Operators: String(Not)Equals(IgnoreCase), String(Not)Like, Arn(Not)Equals, Arn(Not)Like, Bool,
  Null, Numeric*, each with ``...IfExists`` and the ``ForAnyValue:``/``ForAllValues:`` set prefixes.
  A key absent from the context makes the condition false, except for negated operators (``StringNotEquals``,
  ``ArnNotLike``, ...), ``...IfExists``, ``Null`` and ``ForAllValues:``, as documented by AWS. An operator this
  module does not know never matches (logged at debug).

Not evaluated: policy variables (``${aws:username}``), date and IP operators, session policies, permission
boundaries, SCPs and resource policies (the caller combines those it needs).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LOG = logging.getLogger(__name__)

ContextValue = str | bool | int | float | Sequence[str]
Context = Mapping[str, ContextValue]


@dataclass(frozen=True)
class Decision:
    """The outcome: ``allowed``, whether a Deny decided it, and the statement that decided it (None: default deny)."""

    allowed: bool
    explicit_deny: bool
    statement: Mapping[str, Any] | None = None
    policy_name: str | None = None


DEFAULT_DENY = Decision(allowed=False, explicit_deny=False)


def evaluate(
    policies: Iterable[tuple[str, Mapping[str, Any]]],
    action: str,
    resource: str,
    context: Context | None = None,
    principal: Mapping[str, str | Sequence[str]] | None = None,
) -> Decision:
    """Evaluate ``(name, document)`` policies for ``action`` (``service:Action``) on ``resource``.

    Identity policies: leave ``principal`` None (their statements have no Principal). Resource policies: pass
    the caller as ``{"Service": "cloudwatch.amazonaws.com"}`` or ``{"AWS": ["<session arn>", "<role arn>"]}``;
    statements whose ``Principal`` does not name it (``"*"`` and ``{"AWS": "*"}`` name everyone) are skipped.
    """
    context = context or {}
    allow: Decision | None = None
    for name, document in policies:
        for statement in statements(document):
            if principal is not None and not principal_matches(statement.get("Principal"), principal):
                continue
            if not _statement_matches(statement, action, resource, context):
                continue
            if str(statement.get("Effect", "")).lower() == "deny":
                return Decision(allowed=False, explicit_deny=True, statement=statement, policy_name=name)
            if allow is None and str(statement.get("Effect", "")).lower() == "allow":
                allow = Decision(allowed=True, explicit_deny=False, statement=statement, policy_name=name)
    return allow or DEFAULT_DENY


def statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A policy document's statements as a list (``Statement`` may be one object)."""
    raw = document.get("Statement") or []
    if isinstance(raw, Mapping):
        return [raw]
    return [statement for statement in raw if isinstance(statement, Mapping)]


def principal_matches(statement_principal: Any, principal: Mapping[str, str | Sequence[str]]) -> bool:
    """Whether a resource-policy statement's ``Principal`` names the caller (``"*"`` names everyone)."""
    if statement_principal == "*":
        return True
    if not isinstance(statement_principal, Mapping):
        return False
    for kind, values in principal.items():
        named = _as_list(statement_principal.get(kind))
        for value in _as_list(values):
            if "*" in named or value in named:
                return True
            if kind == "AWS" and value.startswith("arn:") and value.split(":")[4] in named:
                return True  # an account id names every principal of that account
    return False


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _statement_matches(statement: Mapping[str, Any], action: str, resource: str, context: Context) -> bool:
    if "NotAction" in statement:
        if any(wildcard_match(pattern, action, ignore_case=True) for pattern in _as_list(statement["NotAction"])):
            return False
    elif not any(wildcard_match(pattern, action, ignore_case=True) for pattern in _as_list(statement.get("Action"))):
        return False
    if "NotResource" in statement:
        if any(wildcard_match(pattern, resource) for pattern in _as_list(statement["NotResource"])):
            return False
    elif "Resource" in statement and not any(
        wildcard_match(pattern, resource) for pattern in _as_list(statement["Resource"])
    ):
        return False
    return conditions_match(statement.get("Condition"), context)


# --- wildcards ----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _wildcard_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: Any, value: str, *, ignore_case: bool = False) -> bool:
    """``pattern`` with ``*`` (any run) and ``?`` (any one character) matches the whole of ``value``."""
    if not isinstance(pattern, str):
        return False
    if pattern == "*":
        return True
    return _wildcard_regex(pattern, ignore_case).fullmatch(value) is not None


def arn_like(pattern: str, value: str) -> bool:
    """ArnLike: each of the six colon-separated ARN components matches on its own (wildcards stay inside one)."""
    pattern_parts = pattern.split(":", 5)
    value_parts = value.split(":", 5)
    if len(pattern_parts) != 6 or len(value_parts) != 6:
        return False
    return all(wildcard_match(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))


# --- conditions -----------------------------------------------------------------------------------------


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _numeric(expected: str, actual: str, compare: Callable[[float, float], bool]) -> bool:
    try:
        return compare(float(actual), float(expected))
    except ValueError:
        return False


#: operator -> (compare(expected, actual), negated)
_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda e, a: e == a, False),
    "StringNotEquals": (lambda e, a: e == a, True),
    "StringEqualsIgnoreCase": (lambda e, a: e.lower() == a.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda e, a: e.lower() == a.lower(), True),
    "StringLike": (lambda e, a: wildcard_match(e, a), False),
    "StringNotLike": (lambda e, a: wildcard_match(e, a), True),
    "ArnEquals": (lambda e, a: e == a, False),
    "ArnNotEquals": (lambda e, a: e == a, True),
    "ArnLike": (arn_like, False),
    "ArnNotLike": (arn_like, True),
    "Bool": (lambda e, a: e.lower() == a.lower(), False),
    "NumericEquals": (lambda e, a: _numeric(e, a, lambda x, y: x == y), False),
    "NumericNotEquals": (lambda e, a: _numeric(e, a, lambda x, y: x == y), True),
    "NumericLessThan": (lambda e, a: _numeric(e, a, lambda x, y: x < y), False),
    "NumericLessThanEquals": (lambda e, a: _numeric(e, a, lambda x, y: x <= y), False),
    "NumericGreaterThan": (lambda e, a: _numeric(e, a, lambda x, y: x > y), False),
    "NumericGreaterThanEquals": (lambda e, a: _numeric(e, a, lambda x, y: x >= y), False),
}


def _lookup(context: Context, key: str) -> list[str] | None:
    """The context's values for ``key`` (condition keys are case-insensitive), or None when absent."""
    if key in context:
        value = context[key]
    else:
        lowered = key.lower()
        for name, candidate in context.items():
            if name.lower() == lowered:
                value = candidate
                break
        else:
            return None
    if isinstance(value, list | tuple):
        return [_string(item) for item in value]
    return [_string(value)]


def conditions_match(condition_block: Any, context: Context) -> bool:
    """Whether a statement's ``Condition`` block holds for ``context`` (no block: it holds)."""
    if not condition_block:
        return True
    if not isinstance(condition_block, Mapping):
        return False
    return all(
        isinstance(keys, Mapping)
        and all(_condition_holds(operator, key, expected, context) for key, expected in keys.items())
        for operator, keys in condition_block.items()
    )


def _condition_holds(operator: str, key: str, expected: Any, context: Context) -> bool:
    set_prefix = None
    if ":" in operator:
        set_prefix, operator = operator.split(":", 1)
        if set_prefix not in ("ForAnyValue", "ForAllValues"):
            LOG.debug("IAM condition operator %s:%s is not evaluated by the sandbox: no match", set_prefix, operator)
            return False
    if_exists = operator.endswith("IfExists") and operator != "IfExists"
    base = operator[: -len("IfExists")] if if_exists else operator
    actual = _lookup(context, key)
    expected_values = [_string(value) for value in _as_list(expected)]
    if base == "Null":
        is_null = actual is None or actual == []
        return any((value.lower() == "true") == is_null for value in expected_values)
    known = _OPERATORS.get(base)
    if known is None:
        LOG.debug("IAM condition operator %s is not evaluated by the sandbox: no match", operator)
        return False
    compare, negated = known
    if actual is None:
        LOG.debug("IAM condition key %s is not in the request context", key)
        if set_prefix == "ForAllValues":
            return True
        return if_exists or negated
    if set_prefix == "ForAllValues":
        return all(_value_holds(compare, negated, expected_values, value) for value in actual)
    # ForAnyValue and single-valued keys alike: any of the request's values.
    return any(_value_holds(compare, negated, expected_values, value) for value in actual)


def _value_holds(compare: Callable[[str, str], bool], negated: bool, expected: list[str], actual: str) -> bool:
    matched = any(compare(value, actual) for value in expected)
    return not matched if negated else matched


__all__ = [
    "DEFAULT_DENY",
    "Context",
    "Decision",
    "arn_like",
    "conditions_match",
    "evaluate",
    "principal_matches",
    "statements",
    "wildcard_match",
]
