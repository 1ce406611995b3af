"""The functions' code asset: rootwatch's Lambda code plus the pinned AWS SDK, staged without Docker or network.

Why the SDK ships with the functions (docs/deploying.md, "boto3: pinned and shipped"): Organizations
ListAccounts returns only ``State`` since ``Status`` was retired (2026-09-09), and botocore older than
1.40.27 drops ``State`` when parsing. The runtime's boto3 version is not promised, so the functions bring
the exact boto3/botocore that ``requirements.txt`` pins. Lambda searches ``/var/task`` (the function code)
before the runtime's packages, so these copies win.

How, deterministically and offline: the distributions are copied from the running interpreter's
site-packages (the venv ``make`` builds from ``requirements.txt``), file by file from their
``importlib.metadata`` records. boto3 and botocore must equal their pins, and every other distribution
must satisfy its dependents' requirements for the Lambda runtime's Python, or synth fails with one line
naming the package. All of them must be pure Python (the host's Python and architecture do not matter).
``botocore/data`` (and ``boto3/data``) keep only the services the functions call.

Bytecode: ``/var/task`` is read-only, so modules shipped as source are compiled at every cold start
(botocore alone: ~0.4 s instead of ~0.15 s). The tree is therefore byte-compiled for the runtime's Python
(``unchecked-hash`` .pyc files, file names rewritten to ``/var/task``: reproducible) by a python3.13 found
on this host (``ROOTWATCH_LAMBDA_PYTHON``, ``python3.13`` on PATH, or pyenv's). Without one the asset ships
as source only, and the stack carries a synth warning saying so.

The staged tree is content-addressed under ``build/lambda-asset/<key>/`` (gitignored), built once per
key and reused, so concurrent synths never see a half-written tree and the asset hash is stable.
No aws_cdk import here: the benchmarks and tests stage the asset without building a stack.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path, PurePosixPath

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDAS_DIR = REPO_ROOT / "lambdas"
REQUIREMENTS = REPO_ROOT / "requirements.txt"
BUILD_DIR = REPO_ROOT / "build" / "lambda-asset"

#: The Lambda runtime's Python (``Runtime.PYTHON_3_13``): requirement markers are evaluated for it.
TARGET_PYTHON = "3.13"
#: The SDK distributions shipped: boto3 and everything it needs at run time (computed and checked at staging).
SDK_ROOT = "boto3"
#: These must equal their ``requirements.txt`` pins exactly.
PINNED_SDK = ("boto3", "botocore")
#: The AWS services the functions create clients for; ``botocore/data`` keeps only these (plus its
#: top-level files: endpoints, partitions, retry and default-configuration data). ``xray``: the X-Ray SDK
#: (Powertools Tracer, from the layer) creates its sampling client with this botocore when it is imported.
#: ``events`` and ``securityhub``: FinishRun's optional deliveries (rootwatch:eventBridgeEnabled, securityHubEnabled).
SDK_SERVICES = ("dynamodb", "events", "iam", "organizations", "s3", "securityhub", "sns", "sts", "xray")
POWERTOOLS_DISTRIBUTION = "aws-lambda-powertools"

#: What ships of ``lambdas/rootwatch``, by inclusion: the package marker and the four layers the functions run.
#: Anything else (a new subpackage, a stray file) stays out until it is named here, and
#: tests/infra/test_lambda_asset.py fails when lambdas/rootwatch holds something this list leaves out.
LAMBDA_CORE = ("__init__.py", "domain", "aws", "services", "handlers")
#: What a dist-info directory contributes to the asset: its metadata and its licence/notice files.
_DIST_INFO_KEEP = re.compile(r"^(METADATA|WHEEL|top_level\.txt|(LICEN[CS]E|NOTICE|COPYING|AUTHORS)[^/]*|licenses/.+)$")
_COMPLETE = ".complete"
_KEEP_BUILDS = 6


class AssetError(RuntimeError):
    """The Lambda asset cannot be built as pinned (one line, names the package)."""


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_pins(path: Path = REQUIREMENTS) -> dict[str, str]:
    """``name -> version`` for every ``name==version`` line of a requirements file (extras dropped)."""
    pins: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;]+)", line)
        if match:
            pins[_canonical(match.group(1))] = match.group(3)
    return pins


def pinned_version(name: str, path: Path = REQUIREMENTS) -> str:
    """The version ``requirements.txt`` pins for ``name``; AssetError when it is not pinned with ``==``."""
    pins = requirement_pins(path)
    if _canonical(name) not in pins:
        raise AssetError(f"{name} is not pinned (name==version) in {path.name}")
    return pins[_canonical(name)]


def powertools_version(path: Path = REQUIREMENTS) -> str:
    """The pinned aws-lambda-powertools version: the public layer the functions use is this one."""
    return pinned_version(POWERTOOLS_DISTRIBUTION, path)


def _installed(name: str) -> metadata.Distribution:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        raise AssetError(
            f"{name} is not installed in this Python ({sys.executable}); run `make` to build .venv"
        ) from None


def sdk_distributions(requirements: Path = REQUIREMENTS) -> list[metadata.Distribution]:
    """boto3 and its run-time dependency closure for the Lambda runtime's Python, checked (see the module doc)."""
    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    environment = {str(key): str(value) for key, value in default_environment().items()} | {
        "python_version": TARGET_PYTHON,
        "python_full_version": f"{TARGET_PYTHON}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "extra": "",
    }
    pins = requirement_pins(requirements)
    found: dict[str, metadata.Distribution] = {}
    pending = [_canonical(SDK_ROOT)]
    while pending:
        name = pending.pop(0)
        if name in found:
            continue
        dist = _installed(name)
        found[name] = dist
        if name in PINNED_SDK:
            pin = pins.get(name)
            if pin is None:
                raise AssetError(f"{name} is not pinned (name==version) in {requirements.name}")
            if dist.version != pin:
                raise AssetError(
                    f"{name} {dist.version} is installed but {requirements.name} pins {pin}; "
                    "run `make` (pip install -r requirements.txt) before synth"
                )
        wheel = dist.read_text("WHEEL") or ""
        if "Root-Is-Purelib: true" not in wheel:
            raise AssetError(f"{name} {dist.version} is not a pure-Python distribution; it cannot be copied as is")
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is not None and not requirement.marker.evaluate(environment):
                continue
            dependency = _canonical(requirement.name)
            installed = _installed(dependency).version
            if not requirement.specifier.contains(installed, prereleases=True):
                raise AssetError(
                    f"{dependency} {installed} is installed but {name} {dist.version} requires "
                    f"{dependency}{requirement.specifier}"
                )
            pending.append(dependency)
    return [found[name] for name in sorted(found)]


def _sdk_file_kept(path: PurePosixPath) -> bool:
    """Whether one file of an SDK distribution goes into the asset (pruning; no caches, no scripts)."""
    parts = path.parts
    if parts[0] == ".." or "__pycache__" in parts or path.suffix == ".pyc":
        return False
    if parts[0].endswith(".dist-info"):
        return bool(_DIST_INFO_KEEP.match("/".join(parts[1:])))
    if parts[:2] in {("botocore", "data"), ("boto3", "data")} and len(parts) > 3:
        return parts[2] in SDK_SERVICES and not parts[-1].startswith("examples-")
    return True


def _sdk_files(distributions: Iterable[metadata.Distribution]) -> Iterator[tuple[str, Path]]:
    for dist in distributions:
        for file in dist.files or []:
            relative = PurePosixPath(file.as_posix())
            if _sdk_file_kept(relative):
                yield relative.as_posix(), Path(str(dist.locate_file(file)))


def _code_files() -> Iterator[tuple[str, Path]]:
    package = LAMBDAS_DIR / "rootwatch"
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if not path.is_file() or "__pycache__" in relative.parts or path.suffix == ".pyc":
            continue
        if relative.parts[0] not in LAMBDA_CORE:
            continue
        yield (PurePosixPath("rootwatch") / relative.as_posix()).as_posix(), path


def asset_files(requirements: Path = REQUIREMENTS) -> dict[str, Path]:
    """Every file of the asset: its path inside the asset -> the file to copy."""
    files = dict(_code_files())
    for relative, source in _sdk_files(sdk_distributions(requirements)):
        if relative in files:
            raise AssetError(f"{relative} is both rootwatch code and an SDK file")
        files[relative] = source
    return dict(sorted(files.items()))


@functools.cache
def target_python() -> str | None:
    """A python3.13 (the Lambda runtime's version) on this host to byte-compile the asset with, or None."""
    candidates = [os.environ.get("ROOTWATCH_LAMBDA_PYTHON")]
    if f"{sys.version_info.major}.{sys.version_info.minor}" == TARGET_PYTHON:
        candidates.append(sys.executable)
    candidates.append(shutil.which(f"python{TARGET_PYTHON}"))
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(str(p) for p in pyenv.glob(f"{TARGET_PYTHON}.*/bin/python{TARGET_PYTHON}"))
    import subprocess

    probe = "import sys; print('%d.%d' % sys.version_info[:2])"
    for candidate in dict.fromkeys(c for c in candidates if c and Path(c).is_file()):
        done = subprocess.run([candidate, "-c", probe], capture_output=True, text=True, check=False, timeout=60)
        if done.returncode == 0 and done.stdout.strip() == TARGET_PYTHON:  # a pyenv shim may not be one
            return candidate
    return None


def _key(files: dict[str, Path], compiler: str | None = None) -> str:
    digest = hashlib.sha256(f"bytecode:{compiler and Path(compiler).resolve()}".encode())
    for relative, source in files.items():
        digest.update(relative.encode() + b"\0")
        if relative.startswith("rootwatch/"):
            digest.update(hashlib.sha256(source.read_bytes()).digest())
        else:  # installed files change only with their distribution: name, size and mtime are enough
            stat = source.stat()
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:20]


_STAGED: dict[str, Path] = {}


def stage_asset(requirements: Path = REQUIREMENTS, build_dir: Path = BUILD_DIR) -> Path:
    """The staged asset directory (built if needed): rootwatch's Lambda code and the pinned SDK."""
    files = asset_files(requirements)
    compiler = target_python()
    key = _key(files, compiler)
    if key in _STAGED and (_STAGED[key] / _COMPLETE).exists():
        return _STAGED[key]
    final = build_dir / key
    if not (final / _COMPLETE).exists():
        build_dir.mkdir(parents=True, exist_ok=True)
        temporary = build_dir / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            for relative, source in files.items():
                target = temporary / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                target.chmod(0o644)  # Lambda needs world-readable files
            bytecode = compiler is not None and _compile(compiler, temporary)
            (temporary / _COMPLETE).write_text("bytecode" if bytecode else "source only")
            try:
                temporary.rename(final)
            except OSError:  # another process staged the same key first: use theirs
                if not (final / _COMPLETE).exists():
                    raise
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
        _prune_old_builds(build_dir, keep=final)
    _STAGED[key] = final
    return final


def _compile(python: str, tree: Path) -> bool:
    """Byte-compile ``tree`` for /var/task with ``python``; False (source only) if that fails."""
    import subprocess

    command = [python, "-m", "compileall", "-q", "-j", "1", "--invalidation-mode", "unchecked-hash"]
    command += ["-s", str(tree), "-p", "/var/task", str(tree)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    return done.returncode == 0


def has_bytecode(asset: Path) -> bool:
    """Whether a staged tree was byte-compiled for the Lambda runtime's Python."""
    return (asset / _COMPLETE).read_text() == "bytecode"


def _prune_old_builds(build_dir: Path, keep: Path) -> None:
    """Remove all but the newest few staged trees (an hour old at least: another synth may be reading one)."""
    builds = sorted(
        (p for p in build_dir.iterdir() if p.is_dir() and not p.name.startswith(".") and p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in builds[_KEEP_BUILDS - 1 :]:
        if time.time() - old.stat().st_mtime > 3600:
            shutil.rmtree(old, ignore_errors=True)


def asset_exclude() -> list[str]:
    """Files of the staged tree that are not deployed: the completion marker, and bytecode for any Python
    but the runtime's (an import from the tree with another Python may have left some)."""
    tag = TARGET_PYTHON.replace(".", "")
    others = [f"**/*.cpython-3{minor}*.pyc" for minor in range(6, 30) if f"3{minor}" != tag]
    return [_COMPLETE, *others]
