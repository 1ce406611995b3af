"""Does a service control policy explicitly deny a root session? Pure: policy JSON in, findings out.

An organization was observed with an SCP denying ``*`` to ``arn:aws:iam::*:root``; the console then showed "access
denied" for every member account, because an AssumeRoot session *is* the member's root user. Only
explicit denies matter here (SCPs never grant); an allow-list SCP that lacks the action is out of scope.

A statement is evaluated against what AWS knows about a root session: ``aws:PrincipalArn`` is
``arn:aws:iam::<account>:root``, ``aws:PrincipalAccount`` is the account, and ``aws:AssumedRoot`` is
``"true"``. A condition on any other key cannot be decided offline, so such a statement is reported as
"may deny" rather than guessed either way.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: The fix (docs/aws-behaviour.md#aws-assumedroot, #control-tower).
SCP_ADVICE = (
    "exempt root sessions from that statement: add the condition "
    '"Null": {"aws:AssumedRoot": "true"} (the key exists only on AssumeRoot sessions), '
    "or list the needed actions in its NotAction; for Control Tower's AWS-GR_RESTRICT_ROOT_USER, "
    "set its ExemptAssumeRoot parameter"
)


class Verdict(StrEnum):
    DENIES = "denies"
    MAY_DENY = "may_deny"


@dataclass(frozen=True)
class ServiceControlPolicy:
    """One SCP in force on an account, and where it is attached (the account, an OU or the root)."""

    policy_id: str
    name: str
    attached_to: str
    content: Mapping[str, Any]

    @classmethod
    def from_json(cls, policy_id: str, name: str, attached_to: str, content: str) -> ServiceControlPolicy:
        """Parse the policy document Organizations returns as a JSON string."""
        return cls(policy_id, name, attached_to, json.loads(content))


@dataclass(frozen=True)
class ScpDenial:
    """A statement that (maybe) denies ``action`` to the account's root session."""

    policy_id: str
    policy_name: str
    attached_to: str
    statement_id: str | None
    action: str
    verdict: Verdict
    reason: str

    def describe(self) -> str:
        sid = f" statement {self.statement_id!r}" if self.statement_id else ""
        return (
            f"SCP {self.policy_name!r} ({self.policy_id}, attached to {self.attached_to}){sid} "
            f"{'denies' if self.verdict is Verdict.DENIES else 'may deny'} {self.action} to root sessions"
            f"{': ' + self.reason if self.reason else ''}"
        )


def root_session_context(account_id: str) -> dict[str, str]:
    """The condition keys AWS sets on an AssumeRoot session in ``account_id``, lower-cased."""
    return {
        "aws:principalarn": f"arn:aws:iam::{account_id}:root",
        "aws:principalaccount": account_id,
        "aws:assumedroot": "true",
    }


def find_root_session_denials(
    policies: Iterable[ServiceControlPolicy], account_id: str, actions: Iterable[str]
) -> list[ScpDenial]:
    """Every Deny statement of ``policies`` that matches one of ``actions`` for ``account_id``'s root session."""
    context = root_session_context(account_id)
    resource = f"arn:aws:iam::{account_id}:root"
    wanted = sorted(set(actions))
    found: list[ScpDenial] = []
    for policy in policies:
        for statement in _statements(policy.content):
            if str(statement.get("Effect", "")).lower() != "deny":
                continue
            for action in wanted:
                verdict, reason = evaluate_deny(statement, action, resource, context)
                if verdict is not None:
                    found.append(
                        ScpDenial(
                            policy.policy_id,
                            policy.name,
                            policy.attached_to,
                            statement.get("Sid"),
                            action,
                            verdict,
                            reason,
                        )
                    )
    return found


def evaluate_deny(
    statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]
) -> tuple[Verdict | None, str]:
    """Whether one Deny statement applies to ``action`` on ``resource`` in ``context`` (None: it does not)."""
    if "Action" in statement:
        if not _any_match(_as_list(statement["Action"]), action):
            return None, ""
    elif "NotAction" in statement:
        if _any_match(_as_list(statement["NotAction"]), action):
            return None, ""
    else:
        return None, ""
    uncertain: list[str] = []
    if "Resource" in statement:
        patterns = _as_list(statement["Resource"])
        if not any(p == "*" or fnmatch.fnmatchcase(resource, p) for p in patterns):
            return None, ""
    elif "NotResource" in statement:
        uncertain.append("NotResource cannot be decided offline")
    for operator, block in (statement.get("Condition") or {}).items():
        if not isinstance(block, Mapping):
            uncertain.append(f"malformed condition {operator}")
            continue
        for key, values in block.items():
            outcome = _condition(operator, key, _as_list(values), context)
            if outcome is False:
                return None, ""
            if outcome is None:
                uncertain.append(f"condition {operator} on {key} depends on the request")
    if uncertain:
        return Verdict.MAY_DENY, "; ".join(uncertain)
    return Verdict.DENIES, ""


def _statements(content: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = content.get("Statement", [])
    if isinstance(statements, Mapping):
        return [statements]
    return [s for s in statements if isinstance(s, Mapping)]


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def _any_match(patterns: list[str], action: str) -> bool:
    # Action names are case-insensitive in IAM.
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def _condition(operator: str, key: str, values: list[str], context: Mapping[str, str]) -> bool | None:
    """True/False when decidable for a root session, None when it depends on something else."""
    if operator.lower().startswith(("foranyvalue:", "forallvalues:")):
        return None
    # Every key decided on below is present on a root session, so "IfExists" changes nothing.
    base = operator.removesuffix("IfExists")
    name = key.lower()
    if name not in context:
        return None
    actual = context[name]
    if base == "Null":
        # {"Null": {key: "true"}} holds when the key is absent; every key we know is present.
        return any(v.lower() == "false" for v in values)
    matchers = {
        "StringEquals": lambda v: actual == v,
        "StringEqualsIgnoreCase": lambda v: actual.lower() == v.lower(),
        "StringLike": lambda v: fnmatch.fnmatchcase(actual, v),
        "ArnEquals": lambda v: fnmatch.fnmatchcase(actual, v),
        "ArnLike": lambda v: fnmatch.fnmatchcase(actual, v),
        "Bool": lambda v: actual.lower() == v.lower(),
    }
    negated = {
        "StringNotEquals": "StringEquals",
        "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
        "StringNotLike": "StringLike",
        "ArnNotEquals": "ArnEquals",
        "ArnNotLike": "ArnLike",
    }
    if base in matchers:
        return any(matchers[base](v) for v in values)
    if base in negated:
        return not any(matchers[negated[base]](v) for v in values)
    return None
