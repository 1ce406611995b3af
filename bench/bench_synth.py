"""CDK synth of the real app (cdk.json context, cdk-nag on): wall-clock by phase, resources, Lambda asset size."""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
import zipfile
from pathlib import Path


def _zipped_size(folder: Path) -> tuple[int, int]:
    buffer = io.BytesIO()
    count = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder))
                count += 1
    return count, buffer.tell()


def main() -> None:
    """Time import, construction and synth once each (synth includes cdk-nag), and size the asset."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    started = time.perf_counter()
    import aws_cdk as cdk

    from infra.app import build_app, cdk_json_context

    imported = time.perf_counter()
    with tempfile.TemporaryDirectory() as outdir:
        app, stack = build_app(
            cdk_json_context(), outdir=outdir, env=cdk.Environment(account="111111111111", region="eu-west-1")
        )
        built = time.perf_counter()
        app.synth()
        synthesized = time.perf_counter()
        template = (Path(outdir) / f"{stack.artifact_id}.template.json").read_text()
        resources = len(json.loads(template)["Resources"])
        asset = next(p for p in Path(outdir).glob("asset.*") if p.is_dir())
        files, zipped = _zipped_size(asset)
    print(f"  import aws_cdk + infra : {imported - started:5.2f} s")
    print(f"  build the stack        : {built - imported:5.2f} s")
    print(f"  synth (+ cdk-nag)      : {synthesized - built:5.2f} s")
    print(f"  total                  : {synthesized - started:5.2f} s   ({resources} resources)")
    print(f"  Lambda asset           : {files} files, {zipped / 1024:.0f} KB zipped (budget 1 MB)")


if __name__ == "__main__":
    main()
