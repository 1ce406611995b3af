"""cdk-nag helpers: acknowledge a rule for exactly the findings a construct is meant to have.

cdk-nag reports IAM5 (wildcard resources) once per wildcard resource, naming it the way it prints it
(``<LogicalId.Attr>`` for a Fn::GetAtt, ``<LogicalId>`` for a Ref); the helper here renders a resource
the same way, so each acknowledgement names one resource, never IAM5 at large.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct


def acknowledge_wildcard_resources(construct: Construct, resources: list[str], reason: str) -> None:
    """Acknowledge cdk-nag IAM5 for exactly these wildcard resources on ``construct`` (not IAM5 at large)."""
    stack = cdk.Stack.of(construct)
    for resource in resources:
        shown = _nag_resource_form(stack, resource)
        cdk.Validations.of(construct).acknowledge(
            cdk.Acknowledgment(id=f"AwsSolutions-IAM5[Resource::{shown}]", reason=reason)
        )


def _nag_resource_form(stack: cdk.Stack, resource: str) -> str:
    """How cdk-nag prints a resource: Fn::GetAtt as ``<LogicalId.Attr>``, Ref as ``<LogicalId>``, joined."""
    resolved = stack.resolve(resource)

    def render(value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            return f"<{logical_id}.{attribute}>"
        if isinstance(value, dict) and "Ref" in value:
            return f"<{value['Ref']}>"
        if isinstance(value, dict) and "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(render(part) for part in parts)
        raise ValueError(f"cannot render {value!r} for a cdk-nag acknowledgement")

    return render(resolved)
