"""``deploy_stack()``: the stack ``python app.py`` synthesizes, deployed into a sandbox. No stack knowledge here.

The template comes from ``infra/`` (synthesized in-process with cdk.json's context overridden by ``context``,
cached per context) or from an existing cloud assembly (``assembly="cdk.out"``); the deployer is
:mod:`rootwatch_sandbox.cloudformation`. Deploying again updates in place and keeps data.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rootwatch_sandbox.cloudformation import StackDeployment, deploy_assembly, load_assembly, synthesize
from rootwatch_sandbox.cloudformation.deployer import DEFAULT_REGION

#: The stack's CfnOutputs the callers read, and the keys they read them under.
OUTPUT_KEYS = {
    "TableName": "table",
    "BucketName": "bucket",
    "TopicArn": "topic_arn",
    "StateMachineArn": "state_machine_arn",
}


def deploy(
    endpoint_url: str | None = None,
    *,
    context: Mapping[str, Any] | None = None,
    assembly: str | Path | None = None,
    region: str | None = None,
) -> StackDeployment:
    """Synthesize (or read ``assembly``) and deploy; the full :class:`StackDeployment`."""
    cloud_assembly = load_assembly(assembly) if assembly is not None else synthesize(context)
    return deploy_assembly(cloud_assembly, endpoint_url=endpoint_url, region=region or DEFAULT_REGION)


def deploy_stack(
    endpoint_url: str | None = None,
    *,
    context: Mapping[str, Any] | None = None,
    assembly: str | Path | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    """Deploy (or update) the stack in a sandbox; in-process when ``endpoint_url`` is None.

    ``context``: CDK context overriding cdk.json's (e.g. ``{"rootwatch:mapMaxConcurrency": 8}``); ignored with
    ``assembly`` (a cloud assembly directory). Returns ``{"stack", "table", "bucket", "topic_arn",
    "state_machine_arn", "functions": {name: arn}, "region", "account", "outputs", "not_emulated"}``.
    """
    return summary(deploy(endpoint_url, context=context, assembly=assembly, region=region))


def summary(deployment: StackDeployment) -> dict[str, Any]:
    """The JSON-able answer of :func:`deploy_stack` for a deployment."""
    result: dict[str, Any] = {
        key: deployment.outputs[name] for name, key in OUTPUT_KEYS.items() if name in deployment.outputs
    }
    return result | {
        "stack": deployment.stack_name,
        "functions": {
            fn.physical_id: fn.attributes["Arn"] for fn in deployment.of_type("AWS::Lambda::Function").values()
        },
        "region": deployment.region,
        "account": deployment.account,
        "outputs": deployment.outputs,
        "not_emulated": [f"{kind} {logical_id}" for kind, logical_id in deployment.not_emulated],
        "seconds": round(deployment.seconds, 3),
    }
