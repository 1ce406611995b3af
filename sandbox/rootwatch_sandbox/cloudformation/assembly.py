"""The cloud assembly to deploy: synthesized in-process from ``infra/`` (cached per context) or read from a dir.

``synthesize(context)`` runs ``infra.app.build_app(context=cdk.json's context | context)`` and ``app.synth()``
into a temporary directory, once per distinct context in this process (a synth takes seconds; a test session
deploys the same template many times). ``load_assembly(path)`` reads an existing assembly (``cdk.out``) as
``cdk deploy --app cdk.out`` would. Either way the answer is a :class:`CloudAssembly`: the stack's template
and the file assets ``cdk deploy`` would publish.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rootwatch


class AssemblyError(RuntimeError):
    """The cloud assembly cannot be synthesized or read (one line, names the path or the setting)."""


@dataclass(frozen=True)
class FileAsset:
    """A file asset of the assembly and where ``cdk deploy`` publishes it."""

    asset_hash: str
    source: Path
    packaging: str  # "zip" (a directory, zipped) or "file"
    bucket_name: str  # may contain ${AWS::AccountId}, ${AWS::Region}, ${AWS::Partition}
    object_key: str


@dataclass(frozen=True)
class CloudAssembly:
    """One stack of a cloud assembly: its name, its template, its file assets."""

    directory: Path
    stack_name: str
    template: dict[str, Any]
    assets: tuple[FileAsset, ...]


_CACHE: dict[str, CloudAssembly] = {}
_LOCK = threading.Lock()


def repo_root() -> Path | None:
    """The checkout holding ``infra/`` and ``cdk.json`` next to ``lambdas/rootwatch``, when there is one."""
    root = Path(rootwatch.__file__).resolve().parent.parent.parent
    return root if (root / "infra" / "app.py").is_file() and (root / "cdk.json").is_file() else None


def synthesize(context: Mapping[str, Any] | None = None) -> CloudAssembly:
    """The assembly ``python app.py`` synthesizes with cdk.json's context overridden by ``context``.

    Cached per distinct context for the life of the process (the temporary directories go at exit).
    AssemblyError when there is no ``infra/`` to synthesize from, or the context is refused.
    """
    overrides = dict(context or {})
    key = json.dumps(overrides, sort_keys=True, default=str)
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _synthesize(overrides)
        return _CACHE[key]


def clear_cache() -> None:
    """Forget the synthesized assemblies (their directories stay until the process exits)."""
    with _LOCK:
        _CACHE.clear()


def _synthesize(overrides: dict[str, Any]) -> CloudAssembly:
    root = repo_root()
    if root is None:
        raise AssemblyError(
            "cannot synthesize: no infra/ next to this rootwatch package; synthesize with `make synth` and pass "
            "--assembly cdk.out"
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import aws_cdk as cdk

    from infra.app import build_app, cdk_json_context
    from infra.config import ConfigError
    from infra.definition import DefinitionError
    from infra.lambda_asset import AssetError

    outdir = tempfile.mkdtemp(prefix="rootwatch-sandbox-cdk.out-")
    atexit.register(shutil.rmtree, outdir, True)
    try:
        # Environment-agnostic, as `cdk synth` without CDK_DEFAULT_*: the template uses AWS::AccountId/Region.
        # cdk-nag only annotates (it never changes the template), so it is left out here to save time.
        app, stack = build_app(context=cdk_json_context() | overrides, outdir=outdir, env=cdk.Environment(), nag=False)
        app.synth()
    except (ConfigError, DefinitionError, AssetError) as exc:
        raise AssemblyError(str(exc)) from None
    return load_assembly(outdir, stack.stack_name)


def load_assembly(directory: str | Path, stack_name: str | None = None) -> CloudAssembly:
    """Read a cloud assembly directory (``cdk.out``): its one stack (or ``stack_name``), template and assets."""
    path = Path(directory)
    manifest_file = path / "manifest.json"
    if not manifest_file.is_file():
        raise AssemblyError(f"{path}: not a cloud assembly (no manifest.json); synthesize one with `make synth`")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise AssemblyError(f"{manifest_file}: unreadable ({exc})") from None
    artifacts = manifest.get("artifacts", {})
    stacks = {
        name: artifact
        for name, artifact in artifacts.items()
        if artifact.get("type") == "aws:cloudformation:stack"
        and (stack_name is None or artifact.get("displayName", name) == stack_name or name == stack_name)
    }
    if len(stacks) != 1:
        found = ", ".join(sorted(stacks)) or "none"
        raise AssemblyError(f"{path}: expected one stack{f' named {stack_name}' if stack_name else ''}, found {found}")
    name, artifact = next(iter(stacks.items()))
    properties = artifact.get("properties", {})
    try:
        template = json.loads((path / properties["templateFile"]).read_text(encoding="utf-8"))
    except (KeyError, OSError, json.JSONDecodeError) as exc:
        raise AssemblyError(f"{path}: the template of stack {name} is unreadable ({exc})") from None
    stack_name = properties.get("stackName", name)
    assets: list[FileAsset] = []
    for dependency in artifact.get("dependencies", []):
        asset_artifact = artifacts.get(dependency, {})
        if asset_artifact.get("type") != "cdk:asset-manifest":
            continue
        asset_manifest = json.loads((path / asset_artifact["properties"]["file"]).read_text(encoding="utf-8"))
        if asset_manifest.get("dockerImages"):
            raise AssemblyError(f"{path}: stack {name} has Docker image assets, which the sandbox cannot build")
        for asset_hash, entry in asset_manifest.get("files", {}).items():
            source = path / entry["source"]["path"]
            if not source.exists():
                raise AssemblyError(f"{path}: asset {asset_hash} is missing ({source.name})")
            for destination in entry.get("destinations", {}).values():
                assets.append(
                    FileAsset(
                        asset_hash=asset_hash,
                        source=source,
                        packaging=entry["source"].get("packaging", "file"),
                        bucket_name=destination["bucketName"],
                        object_key=destination["objectKey"],
                    )
                )
    return CloudAssembly(directory=path, stack_name=str(stack_name), template=template, assets=tuple(assets))
