"""CloudFormation intrinsic functions, resolved the way CloudFormation does for a template's values.

Supported: ``Ref`` (parameters, pseudo parameters, resources), ``Fn::GetAtt`` (both forms), ``Fn::Sub`` (string
and ``[string, variables]`` forms, ``${!Literal}`` escapes), ``Fn::Join``, ``Fn::Select``, ``Fn::Split``,
``Fn::If`` with the template's ``Conditions`` (``Fn::Equals``, ``Fn::And``, ``Fn::Or``, ``Fn::Not``,
``Condition``), ``Fn::FindInMap``, ``Fn::Base64``, ``Fn::GetAZs`` and ``AWS::NoValue``. Anything else is a
:class:`TemplateError` naming the function.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

PSEUDO_PARAMETERS = (
    "AWS::AccountId",
    "AWS::Region",
    "AWS::Partition",
    "AWS::URLSuffix",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::NotificationARNs",
)
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class TemplateError(ValueError):
    """The template uses something this resolver does not know, or refers to something that is not there."""


class _NoValue:
    """``Ref: AWS::NoValue``: the property is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


@dataclass
class Resolver:
    """Resolves intrinsics against parameter values and the resources created so far.

    ``ref(logical_id)`` and ``get_att(logical_id, attribute)`` answer for resources; they raise
    :class:`TemplateError` (or ``KeyError``) for one not deployed.
    """

    parameters: dict[str, Any]
    ref: Callable[[str], Any]
    get_att: Callable[[str, str], Any]
    conditions: Mapping[str, Any] = field(default_factory=dict)
    mappings: Mapping[str, Any] = field(default_factory=dict)
    _evaluated: dict[str, bool] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic replaced by its result (``AWS::NoValue`` properties dropped)."""
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key == "Condition" and isinstance(argument, str):
                return self.condition(argument)
            if key.startswith("Fn::"):
                return self._function(key, argument)
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in value.items()) if v is not NO_VALUE}

    def condition(self, name: str) -> bool:
        """The value of the template's condition ``name`` (evaluated once)."""
        if name not in self._evaluated:
            if name not in self.conditions:
                raise TemplateError(f"condition {name} is not defined in Conditions")
            self._evaluated[name] = bool(self.resolve(self.conditions[name]))
        return self._evaluated[name]

    def _ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            raise TemplateError(f"Ref takes a name, got {name!r}")
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        return self.ref(name)

    def _function(self, name: str, argument: Any) -> Any:
        handler = _FUNCTIONS.get(name)
        if handler is None:
            raise TemplateError(f"{name} is not supported by the sandbox deployer")
        return handler(self, argument)

    def _get_att(self, argument: Any) -> Any:
        if isinstance(argument, str):
            logical_id, _, attribute = argument.partition(".")
        else:
            logical_id, attribute = argument[0], self.resolve(argument[1])
        return self.get_att(logical_id, attribute)

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        else:
            text, variables = argument[0], self.resolve(argument[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if name in self.parameters or name in PSEUDO_PARAMETERS or "." not in name:
                return str(self._ref(name))
            logical_id, _, attribute = name.partition(".")
            return str(self.get_att(logical_id, attribute))

        return _SUB_VARIABLE.sub(replace, text)

    def _join(self, argument: Any) -> str:
        separator, parts = argument
        return str(separator).join(str(part) for part in self.resolve(parts))

    def _select(self, argument: Any) -> Any:
        index, items = self.resolve(argument[0]), self.resolve(argument[1])
        try:
            return items[int(index)]
        except (IndexError, ValueError, TypeError):
            raise TemplateError(f"Fn::Select: index {index!r} is not in {items!r}") from None

    def _split(self, argument: Any) -> list[str]:
        delimiter, text = argument[0], self.resolve(argument[1])
        return str(text).split(delimiter)

    def _if(self, argument: Any) -> Any:
        name, if_true, if_false = argument
        return self.resolve(if_true if self.condition(name) else if_false)

    def _equals(self, argument: Any) -> bool:
        left, right = (self.resolve(v) for v in argument)
        return bool(str(left) == str(right))

    def _and(self, argument: Any) -> bool:
        return all(self.resolve(v) for v in argument)

    def _or(self, argument: Any) -> bool:
        return any(self.resolve(v) for v in argument)

    def _not(self, argument: Any) -> bool:
        return not self.resolve(argument[0])

    def _find_in_map(self, argument: Any) -> Any:
        name, top, second = (self.resolve(v) for v in argument)
        try:
            return self.mappings[name][top][second]
        except KeyError:
            raise TemplateError(f"Fn::FindInMap: {name}/{top}/{second} is not in Mappings") from None

    def _base64(self, argument: Any) -> str:
        return base64.b64encode(str(self.resolve(argument)).encode()).decode()

    def _get_azs(self, argument: Any) -> list[str]:
        region = self.resolve(argument) or self.parameters["AWS::Region"]
        return [f"{region}{zone}" for zone in "abc"]


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Fn::GetAtt": Resolver._get_att,
    "Fn::Sub": Resolver._sub,
    "Fn::Join": Resolver._join,
    "Fn::Select": Resolver._select,
    "Fn::Split": Resolver._split,
    "Fn::If": Resolver._if,
    "Fn::Equals": Resolver._equals,
    "Fn::And": Resolver._and,
    "Fn::Or": Resolver._or,
    "Fn::Not": Resolver._not,
    "Fn::FindInMap": Resolver._find_in_map,
    "Fn::Base64": Resolver._base64,
    "Fn::GetAZs": Resolver._get_azs,
}


def references(value: Any, known: Mapping[str, Any]) -> set[str]:
    """The logical ids in ``known`` that ``value`` refers to (Ref, Fn::GetAtt, Fn::Sub variables)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item, known)
    elif isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str) and argument in known:
                found.add(argument)
            elif key == "Fn::GetAtt":
                name = argument.partition(".")[0] if isinstance(argument, str) else argument[0]
                if name in known:
                    found.add(name)
            elif key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                for match in _SUB_VARIABLE.finditer(text):
                    name = match.group(1).partition(".")[0]
                    if name in known:
                        found.add(name)
                if not isinstance(argument, str):
                    found |= references(argument[1], known)
            else:
                found |= references(argument, known)
    return found
