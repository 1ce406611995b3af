"""The Lambda asset: small, without the local-only code, and complete enough for the handlers to import."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

HANDLERS = ("rootwatch.handlers.prepare_run", "rootwatch.handlers.audit_account", "rootwatch.handlers.finish_run")


@pytest.fixture(scope="module")
def asset_dir(synthesized) -> Path:
    keys = {f["Properties"]["Code"]["S3Key"] for f in synthesized.of_type("AWS::Lambda::Function").values()}
    assert len(keys) == 1, "the three functions share one asset"
    return synthesized.outdir / f"asset.{keys.pop().removesuffix('.zip')}"


def test_asset_zips_to_under_one_megabyte(asset_dir):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in asset_dir.rglob("*"):
            archive.write(path, path.relative_to(asset_dir))
    assert buffer.tell() < 1_000_000


def test_asset_leaves_out_the_cli_sandbox_tests_and_local_only_data(asset_dir):
    packages = {p.relative_to(asset_dir).as_posix() for p in asset_dir.rglob("*") if p.is_dir()}
    files = [p.relative_to(asset_dir).as_posix() for p in asset_dir.rglob("*") if p.is_file()]
    for local_only in ("cli", "sandbox", "statemachine", "queries", "analytics", "operations"):
        assert f"rootwatch/{local_only}" not in packages
    assert not any("__pycache__" in f or f.endswith(".pyc") or "egg-info" in f for f in files)
    assert not any(f.startswith("tests") for f in files)
    assert "rootwatch/handlers/audit_account.py" in files


def test_handlers_import_from_the_asset_alone(asset_dir):
    """Run the imports in a fresh interpreter that finds rootwatch ONLY in the asset (not the editable install):
    a module the handlers need but the asset excludes fails here, not in AWS."""
    script = f"""
import sys
sys.path.insert(0, {str(asset_dir)!r})
sys.path[:] = [p for p in sys.path if not p.rstrip('/').endswith('lambdas')]
import importlib
for name in {HANDLERS!r}:
    module = importlib.import_module(name)
    assert callable(module.handler), name
loaded = [m.__file__ for n, m in sys.modules.items() if n.startswith('rootwatch') and getattr(m, '__file__', None)]
outside = [f for f in loaded if not f.startswith({str(asset_dir)!r})]
assert not outside, outside
print(len(loaded))
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.strip()) >= len(HANDLERS)
