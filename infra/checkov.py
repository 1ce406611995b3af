"""checkov suppressions, written into the template next to the construct they concern (like cdk-nag's).

checkov reads ``Metadata: {checkov: {skip: [{id, comment}]}}`` on a CloudFormation resource; every skip here
carries the reason a reviewer needs (docs/deploying.md lists them; tests/infra/test_quality_gates.py runs
checkov on the synthesized template and requires a comment on every skip).
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


def skip_checkov(construct: IConstruct, check_id: str, reason: str) -> None:
    """Suppress checkov ``check_id`` on ``construct``'s CloudFormation resource, with ``reason``."""
    resource = construct if isinstance(construct, cdk.CfnResource) else construct.node.default_child
    if not isinstance(resource, cdk.CfnResource):
        raise TypeError(f"{construct.node.path}: no CloudFormation resource to put a checkov skip on")
    if not reason.strip():
        raise ValueError(f"{construct.node.path}: checkov {check_id} skipped without a reason")
    metadata = resource.get_metadata("checkov") or {"skip": []}
    skips = [s for s in metadata["skip"] if s["id"] != check_id]
    resource.add_metadata("checkov", {"skip": [*skips, {"id": check_id, "comment": reason}]})
