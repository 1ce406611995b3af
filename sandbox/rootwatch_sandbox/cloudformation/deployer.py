"""Deploys a synthesized stack into the sandbox: what ``cdk deploy`` and CloudFormation do, with boto3 calls.

1. **Assets**, as ``cdk deploy`` publishes them: each file asset to its bootstrap bucket
   (``cdk-hnb659fds-assets-<account>-<region>``) under its object key (directories zipped).
2. **Parameters**: ``AWS::SSM::Parameter::Value<...>`` ones from the sandbox's SSM; the Powertools layer
   parameter (``/aws/service/powertools/...``, a public parameter AWS owns and moto refuses to store) resolves to
   a placeholder layer version published in the sandbox, since functions run in-process with the installed
   Powertools; ``BootstrapVersion`` is accepted (the template's bootstrap Rule is not evaluated).
3. **Resources**, in dependency order (``DependsOn`` and every ``Ref``/``Fn::GetAtt``/``Fn::Sub``), each one
   created or updated in place by its handler (:mod:`rootwatch_sandbox.cloudformation.resources`) with its
   properties resolved (:mod:`rootwatch_sandbox.cloudformation.intrinsics`). Types without a handler are
   listed in :attr:`StackDeployment.not_emulated`; an emulated resource that refers to one is an error.
4. **Outputs**, resolved (an output that needs a resource not emulated is left out).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from rootwatch_sandbox.cloudformation.assembly import CloudAssembly, FileAsset
from rootwatch_sandbox.cloudformation.intrinsics import Resolver, TemplateError, references
from rootwatch_sandbox.cloudformation.resources import HANDLERS, DeployContext, Deployed

DEFAULT_REGION = "us-east-1"
#: Where AWS publishes the Powertools layer ARNs as public SSM parameters.
POWERTOOLS_PARAMETER_PREFIX = "/aws/service/powertools/"
_EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18


class DeployError(RuntimeError):
    """The stack cannot be deployed into the sandbox (one line naming the resource or parameter)."""


@dataclass
class StackDeployment:
    """What a deployment created: physical ids and attributes by logical id, outputs, what was not emulated."""

    stack_name: str
    account: str
    region: str
    template: dict[str, Any]
    resources: dict[str, Deployed] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    #: ``(type, logical id)`` of every resource the sandbox does not emulate, in template order.
    not_emulated: list[tuple[str, str]] = field(default_factory=list)
    #: Parameter values used, by name.
    parameters: dict[str, Any] = field(default_factory=dict)
    #: State machine definitions with ``DefinitionSubstitutions`` applied (before localization), by logical id.
    definitions: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def of_type(self, resource_type: str) -> dict[str, Deployed]:
        """The deployed resources of one type, by logical id."""
        types = {lid: r.get("Type") for lid, r in self.template.get("Resources", {}).items()}
        return {lid: res for lid, res in self.resources.items() if types.get(lid) == resource_type}


_ZIPS: dict[tuple[str, str], bytes] = {}
_ZIP_LOCK = threading.Lock()


def _asset_bytes(asset: FileAsset) -> bytes:
    """The bytes ``cdk deploy`` uploads: the file, or the directory zipped (cached per asset in this process)."""
    if asset.packaging == "file":
        return asset.source.read_bytes()
    if asset.packaging != "zip":
        raise DeployError(f"asset {asset.asset_hash}: packaging {asset.packaging!r} is not supported")
    cache_key = (str(asset.source), asset.asset_hash)
    with _ZIP_LOCK:
        if cache_key not in _ZIPS:
            _ZIPS[cache_key] = _zip_directory(asset.source)
        return _ZIPS[cache_key]


def _zip_directory(root: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for directory, subdirectories, files in os.walk(root):
            subdirectories.sort()
            for name in sorted(files):
                path = Path(directory, name)
                archive.write(path, path.relative_to(root).as_posix())
    return buffer.getvalue()


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def deploy_assembly(
    assembly: CloudAssembly,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> StackDeployment:
    """Deploy ``assembly``'s stack into the sandbox (in-process when ``endpoint_url`` is None), or update it in
    place when it is there already. DeployError (one line) when the template needs what the sandbox lacks."""
    started = time.perf_counter()
    region = region or DEFAULT_REGION
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            clients[service] = boto3.client(service, region_name=region, endpoint_url=endpoint_url)
        return clients[service]

    account = str(client("sts").get_caller_identity()["Account"])
    partition = _partition(region)
    template = assembly.template
    stack_name = assembly.stack_name
    deployment = StackDeployment(stack_name=stack_name, account=account, region=region, template=template)
    pseudo: dict[str, Any] = {
        "AWS::AccountId": account,
        "AWS::Region": region,
        "AWS::Partition": partition,
        "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
        "AWS::StackName": stack_name,
        "AWS::StackId": f"arn:{partition}:cloudformation:{region}:{account}:stack/{stack_name}/"
        + str(uuid.UUID(bytes=hashlib.sha256(f"{account}/{region}/{stack_name}".encode()).digest()[:16])),
        "AWS::NotificationARNs": [],
    }
    _publish_assets(assembly, client, pseudo)
    deployment.parameters = _parameter_values(template, client, dict(parameters or {}))
    ctx = DeployContext(client=client, stack_name=stack_name, account=account, region=region, partition=partition)
    ctx.definitions = deployment.definitions
    resources: dict[str, Any] = template.get("Resources", {})

    def ref(logical_id: str) -> Any:
        return _deployed(logical_id).physical_id

    def get_att(logical_id: str, attribute: str) -> Any:
        deployed = _deployed(logical_id)
        if attribute not in deployed.attributes:
            raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute}: the sandbox does not know this attribute")
        return deployed.attributes[attribute]

    def _deployed(logical_id: str) -> Deployed:
        if logical_id in deployment.resources:
            return deployment.resources[logical_id]
        if logical_id in resources:
            raise TemplateError(f"{logical_id} ({resources[logical_id].get('Type')}) is not deployed in the sandbox")
        raise TemplateError(f"Ref {logical_id}: no such parameter or resource")

    resolver = Resolver(
        parameters=pseudo | deployment.parameters,
        ref=ref,
        get_att=get_att,
        conditions=template.get("Conditions", {}),
        mappings=template.get("Mappings", {}),
    )
    for logical_id in _deployment_order(resources):
        resource = resources[logical_id]
        if "Condition" in resource and not resolver.condition(resource["Condition"]):
            continue
        handler = HANDLERS.get(resource["Type"])
        if handler is None:
            deployment.not_emulated.append((resource["Type"], logical_id))
            continue
        try:
            properties = resolver.resolve(resource.get("Properties", {}))
            deployment.resources[logical_id] = handler(ctx, logical_id, properties)
        except TemplateError as exc:
            raise DeployError(f"{logical_id} ({resource['Type']}): {exc}") from None
    for step in ctx.deferred:
        step()
    for name, output in template.get("Outputs", {}).items():
        if "Condition" in output and not resolver.condition(output["Condition"]):
            continue
        try:
            deployment.outputs[name] = resolver.resolve(output["Value"])
        except TemplateError:
            continue  # it needs a resource the sandbox does not emulate
    order = {lid: i for i, lid in enumerate(resources)}
    deployment.not_emulated.sort(key=lambda item: order[item[1]])
    deployment.seconds = time.perf_counter() - started
    return deployment


def _publish_assets(assembly: CloudAssembly, client: Callable[[str], Any], pseudo: dict[str, Any]) -> None:
    """Upload every file asset to its bucket and key, as ``cdk deploy`` does (the bucket made if missing)."""
    s3 = client("s3")
    made: set[str] = set()
    for asset in assembly.assets:
        bucket = asset.bucket_name
        for name in ("AWS::AccountId", "AWS::Region", "AWS::Partition"):
            bucket = bucket.replace("${" + name + "}", str(pseudo[name]))
        if bucket not in made:
            create: dict[str, Any] = {"Bucket": bucket}
            if pseudo["AWS::Region"] != "us-east-1":
                create["CreateBucketConfiguration"] = {"LocationConstraint": pseudo["AWS::Region"]}
            with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
                s3.create_bucket(**create)
            made.add(bucket)
        s3.put_object(Bucket=bucket, Key=asset.object_key, Body=_asset_bytes(asset))


def _parameter_values(template: dict[str, Any], client: Callable[[str], Any], given: dict[str, Any]) -> dict[str, Any]:
    """A value for each template parameter: given, else SSM (for SSM-typed ones), else its Default."""
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        kind, default = str(spec.get("Type", "String")), spec.get("Default")
        if name in given:
            values[name] = given[name]
        elif kind.startswith("AWS::SSM::Parameter::Value<"):
            values[name] = _ssm_parameter(name, str(default), client)
        elif default is not None:
            values[name] = default
        else:
            raise DeployError(f"parameter {name} has no Default and no value was given")
    return values


def _ssm_parameter(name: str, parameter: str, client: Callable[[str], Any]) -> Any:
    ssm = client("ssm")
    try:
        return ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        pass
    if parameter.startswith(POWERTOOLS_PARAMETER_PREFIX):
        return _sandbox_layer(parameter, client("lambda"))
    if name == "BootstrapVersion":
        return "sandbox"  # only the template's bootstrap Rule reads it, and Rules are not evaluated
    raise DeployError(f"parameter {name}: SSM parameter {parameter} is not in the sandbox (put it there first)")


def _sandbox_layer(parameter: str, lam: Any) -> str:
    """A placeholder layer version standing for a public Powertools layer (the sandbox's Lambda runs handlers
    in-process with the installed aws-lambda-powertools, so the layer's content is never read)."""
    name = "sandbox-" + re.sub(r"[^A-Za-z0-9_-]", "_", parameter.removeprefix(POWERTOOLS_PARAMETER_PREFIX))[:120]
    versions = lam.list_layer_versions(LayerName=name).get("LayerVersions", [])
    if versions:
        return str(versions[0]["LayerVersionArn"])
    return str(
        lam.publish_layer_version(
            LayerName=name,
            Description=f"rootwatch sandbox stand-in for SSM {parameter}",
            Content={"ZipFile": _EMPTY_ZIP},
        )["LayerVersionArn"]
    )


def _deployment_order(resources: dict[str, Any]) -> list[str]:
    """Logical ids so that each comes after what it depends on (DependsOn and references); template order
    otherwise. DeployError on a cycle."""
    depends: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        explicit = resource.get("DependsOn", [])
        explicit = [explicit] if isinstance(explicit, str) else explicit
        depends[logical_id] = (set(explicit) | references(resource.get("Properties", {}), resources)) - {logical_id}
    ordered: list[str] = []
    state: dict[str, int] = {}

    def visit(logical_id: str, path: tuple[str, ...]) -> None:
        if state.get(logical_id) == 2:
            return
        if state.get(logical_id) == 1:
            raise DeployError(f"circular dependency: {' -> '.join((*path, logical_id))}")
        state[logical_id] = 1
        for dependency in sorted(depends[logical_id], key=list(resources).index):
            if dependency not in resources:
                raise DeployError(f"{logical_id} depends on {dependency}, which the template does not define")
            visit(dependency, (*path, logical_id))
        state[logical_id] = 2
        ordered.append(logical_id)

    for logical_id in resources:
        visit(logical_id, ())
    return ordered
