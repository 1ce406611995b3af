"""The Lambda asset: rootwatch's Lambda code plus the pinned SDK, without the local-only code, complete enough
for the handlers to import, and small."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.lambda_asset import (
    LAMBDA_CORE,
    LAMBDAS_DIR,
    SDK_SERVICES,
    AssetError,
    pinned_version,
    sdk_distributions,
    target_python,
)

HANDLERS = (
    "rootwatch.handlers.prepare_run",
    "rootwatch.handlers.audit_account",
    "rootwatch.handlers.finish_run",
    "rootwatch.handlers.reaudit",
)


@pytest.fixture(scope="module")
def asset_dir(synthesized) -> Path:
    keys = {f["Properties"]["Code"]["S3Key"] for f in synthesized.of_type("AWS::Lambda::Function").values()}
    assert len(keys) == 1, "the three functions share one asset"
    return synthesized.outdir / f"asset.{keys.pop().removesuffix('.zip')}"


def _zipped_size(asset_dir: Path, top: tuple[str, ...] | None = None) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in asset_dir.rglob("*"):
            if path.is_file() and (top is None or path.relative_to(asset_dir).parts[0] in top):
                archive.write(path, path.relative_to(asset_dir))
    return buffer.tell()


def test_asset_zips_to_under_five_megabytes_and_the_code_to_under_one(asset_dir):
    """botocore's data pruned to the services the functions call: ~1.7 MB zipped as source, ~3.2 MB with the
    python3.13 bytecode (unpruned: ~17 MB as source)."""
    assert _zipped_size(asset_dir) < 5_000_000
    assert _zipped_size(asset_dir, ("rootwatch",)) < 1_000_000
    assert not (asset_dir / "botocore" / "data" / "ec2").exists()
    assert (asset_dir / "botocore" / "data" / "organizations").is_dir()


def test_lambdas_holds_only_what_ships_to_lambda():
    """lambdas/rootwatch is the Lambda core and nothing else: a new subpackage there must be named in
    LAMBDA_CORE (and so ship, on purpose), and local-only code belongs in cli/ or sandbox/."""
    present = {p.name for p in (LAMBDAS_DIR / "rootwatch").iterdir() if p.name != "__pycache__"}
    assert present == set(LAMBDA_CORE), present ^ set(LAMBDA_CORE)
    assert {p.name for p in LAMBDAS_DIR.iterdir() if not p.name.endswith(".egg-info")} == {"rootwatch"}


def test_asset_holds_the_lambda_core_and_nothing_else_of_the_project(asset_dir):
    """Built by inclusion: every rootwatch file in the asset is under one of LAMBDA_CORE, and no module of the
    workstation tool or the sandbox (nor the state machine, queries or tests) is there."""
    files = [p.relative_to(asset_dir).as_posix() for p in asset_dir.rglob("*") if p.is_file()]
    top_level = {f.split("/", 1)[0] for f in files}
    assert not top_level & {"rootwatch_cli", "rootwatch_sandbox", "infra", "cli", "sandbox", "lambdas"}
    ours = [f.split("/")[1] for f in files if f.startswith("rootwatch/") and "__pycache__" not in f]
    assert set(ours) == set(LAMBDA_CORE), set(ours) ^ set(LAMBDA_CORE)
    code = [f for f in files if f.startswith("rootwatch/") and f.endswith(".py")]
    assert all(not f.endswith(".sql") and "statemachine" not in f for f in files)
    expected = sorted(
        f"rootwatch/{p.relative_to(LAMBDAS_DIR / 'rootwatch').as_posix()}"
        for p in (LAMBDAS_DIR / "rootwatch").rglob("*.py")
        if "__pycache__" not in p.parts
    )
    assert sorted(code) == expected, "the asset's rootwatch code must equal lambdas/rootwatch's"
    assert not any(("__pycache__" in f or f.endswith(".pyc")) and "cpython-313" not in f for f in files)
    assert not any("egg-info" in f for f in files)
    assert not any(f.startswith("tests") for f in files)
    assert "rootwatch/handlers/audit_account.py" in files


def test_handlers_import_from_the_asset_alone(asset_dir):
    """Run the imports in a fresh interpreter that finds rootwatch ONLY in the asset (not the editable install):
    a module the handlers need but the asset excludes fails here, not in AWS."""
    script = f"""
import sys
sys.path.insert(0, {str(asset_dir)!r})
sys.path[:] = [p for p in sys.path if not p.rstrip('/').endswith(('lambdas', 'cli', 'sandbox'))]
sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]  # pip's editable finder
import importlib
for name in {HANDLERS!r}:
    module = importlib.import_module(name)
    assert callable(module.handler), name
import botocore
assert botocore.__file__.startswith({str(asset_dir)!r}), botocore.__file__
loaded = [m.__file__ for n, m in sys.modules.items() if n.startswith('rootwatch') and getattr(m, '__file__', None)]
outside = [f for f in loaded if not f.startswith({str(asset_dir)!r})]
assert not outside, outside
for other in ('rootwatch_cli', 'rootwatch_sandbox'):
    assert other not in sys.modules, other
    try:
        importlib.import_module(other)
    except ImportError:
        pass
    else:
        raise AssertionError(other + ' importable where only the asset should be')
print(len(loaded))
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-B", "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.strip()) >= len(HANDLERS)


#: A ListAccounts answer as AWS gives it since Status was retired (2026-09-09): State only.
LIST_ACCOUNTS_STATE_ONLY = {
    "Accounts": [
        {
            "Id": "111122223333",
            "Arn": "arn:aws:organizations::123456789012:account/o-abcdefghij/111122223333",
            "Email": "prod@example.com",
            "Name": "prod",
            "State": "ACTIVE",
            "JoinedMethod": "CREATED",
            "JoinedTimestamp": 1767225600.0,
        }
    ]
}


def test_the_asset_alone_carries_the_pinned_botocore_which_keeps_state(asset_dir):
    """An isolated interpreter (-I -S: no site-packages, no PYTHON* variables) that sees ONLY the asset: the SDK
    there is the pinned one, it parses a State-only ListAccounts answer keeping State, and it can create a client
    for every service the functions call (botocore/data is pruned to those)."""
    script = f"""
import json, sys
sys.path.insert(0, {str(asset_dir)!r})
import boto3, botocore, botocore.parsers, botocore.session
assert botocore.__file__.startswith({str(asset_dir)!r}), botocore.__file__
session = botocore.session.get_session()
operation = session.get_service_model("organizations").operation_model("ListAccounts")
parser = botocore.parsers.create_parser("json")
body = json.dumps({LIST_ACCOUNTS_STATE_ONLY!r}).encode()
parsed = parser.parse({{"body": body, "headers": {{}}, "status_code": 200}}, operation.output_shape)
for service in {SDK_SERVICES!r}:
    session.create_client(service, region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b")
found = {{"botocore": botocore.__version__, "boto3": boto3.__version__, "account": parsed["Accounts"][0]}}
print(json.dumps(found, default=str))
"""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout)
    assert found["botocore"] == pinned_version("botocore")
    assert found["boto3"] == pinned_version("boto3")
    assert found["account"]["State"] == "ACTIVE"
    assert "Status" not in found["account"]


def test_every_service_the_functions_call_is_kept_in_the_pruned_sdk(asset_dir):
    """A client("x") for a service whose model was pruned would fail only in AWS: catch it here."""
    called = set()
    for path in (asset_dir / "rootwatch").rglob("*.py"):
        called |= set(re.findall(r"""\.client\(\s*["']([a-z0-9-]+)["']""", path.read_text()))
    assert called, "no client() calls found: the pattern is stale"
    assert called <= set(SDK_SERVICES), sorted(called - set(SDK_SERVICES))


def test_synth_fails_naming_the_package_when_the_installed_sdk_is_not_the_pin(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("boto3==1.44.5\nbotocore==1.39.0\n")
    with pytest.raises(AssetError) as caught:
        sdk_distributions(requirements)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("botocore ") and "pins 1.39.0" in message


def test_the_sdk_shipped_is_boto3_and_its_pure_python_dependencies():
    names = {d.metadata["Name"].lower().replace("_", "-") for d in sdk_distributions()}
    assert names == {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}


@pytest.mark.skipif(target_python() is None, reason="no python3.13 on this host: the asset ships as source only")
def test_the_asset_is_byte_compiled_for_the_runtime_python_only(asset_dir):
    """/var/task is read-only: without .pyc files every cold start would compile botocore (~0.3 s more)."""
    compiled = {p.name.split(".")[1] for p in asset_dir.rglob("*.pyc")}
    assert compiled == {"cpython-313"}
    assert (asset_dir / "botocore" / "__pycache__" / "client.cpython-313.pyc").is_file()
    assert not list(asset_dir.glob("*.complete")) and not (asset_dir / ".complete").exists()
