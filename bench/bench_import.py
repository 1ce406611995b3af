"""The audit Lambda's cold import: `python -X importtime -c "import rootwatch.handlers.audit_account"`.

Budget: under 300 ms. Each figure is the median of a few fresh interpreters (the first
run also warms the OS file cache, so it is dropped). The top offenders are the modules with the largest
*self* time, and the top-level packages with the largest cumulative time.

    python -m bench import
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections import defaultdict

MODULE = "rootwatch.handlers.audit_account"
ADAPTER = "rootwatch.aws.root_audit"
BUDGET_MS = 300.0
RUNS = 5
TOP = 12


def import_profile(module: str = MODULE) -> list[tuple[str, int, int]]:
    """(module, self µs, cumulative µs) for one fresh interpreter importing ``module``."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"import {module} failed: {done.stderr.strip().splitlines()[-1:]}")
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        rows.append((name.strip(), int(self_us), int(cumulative_us)))
    return rows


def total_ms(rows: list[tuple[str, int, int]]) -> float:
    """Wall time of the whole import: the sum of self times (= the sum of top-level cumulative times)."""
    return sum(self_us for _, self_us, _ in rows) / 1000


def wall_ms(module: str = MODULE) -> float:
    """Uninstrumented wall time of importing ``module`` in a fresh interpreter (-X importtime adds ~10%)."""
    code = f"import time; t = time.perf_counter(); import {module}; print((time.perf_counter() - t) * 1000)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def asset_sdk_ms(runs: int = RUNS) -> tuple[str, float, float] | None:
    """(python, median ms with the asset's bytecode, median ms as source) of importing botocore's client stack
    from the staged Lambda asset ALONE (-I -S -B) under python3.13, as /var/task serves it; None without 3.13."""
    import shutil
    import tempfile
    from pathlib import Path

    sys.path[:0] = [p for p in (str(Path(__file__).resolve().parents[1]),) if p not in sys.path]
    from infra.lambda_asset import stage_asset, target_python

    python = target_python()
    if python is None:
        return None
    staged = stage_asset()
    code = "import sys, time; sys.path.insert(0, {!r}); t = time.perf_counter(); "
    code += "import botocore.session, botocore.client, botocore.parsers; print((time.perf_counter() - t) * 1000)"
    with tempfile.TemporaryDirectory() as tmp:
        source_only = Path(tmp) / "asset"
        shutil.copytree(staged, source_only, ignore=shutil.ignore_patterns("__pycache__"))

        def one(tree: Path) -> float:
            command = [python, "-I", "-S", "-B", "-c", code.format(str(tree))]
            return float(subprocess.run(command, capture_output=True, text=True, check=True).stdout)

        compiled = statistics.median(one(staged) for _ in range(runs))
        source = statistics.median(one(source_only) for _ in range(runs))
    return python, compiled, source


def main() -> None:
    """Print the cold import time of the audit Lambda handler and what it spends it on."""
    try:
        import importlib.util

        if importlib.util.find_spec(MODULE) is None:
            print(f"{MODULE} does not exist yet: nothing to measure")
            return
    except ModuleNotFoundError:
        print(f"{MODULE} does not exist yet: nothing to measure")
        return
    import_profile()  # warm the file cache and .pyc files
    runs = [import_profile() for _ in range(RUNS)]
    totals = [total_ms(rows) for rows in runs]
    median = statistics.median(totals)
    verdict = "within" if median < BUDGET_MS else "OVER"
    print(f"-X importtime total of {MODULE}: median {median:.0f} ms over {RUNS} fresh interpreters "
          f"(min {min(totals):.0f}, max {max(totals):.0f}); budget {BUDGET_MS:.0f} ms: {verdict}")  # fmt: skip
    walls = [wall_ms() for _ in range(RUNS)]
    wall = statistics.median(walls)
    print(f"uninstrumented wall time: median {wall:.0f} ms (min {min(walls):.0f}, max {max(walls):.0f}); "
          f"budget {BUDGET_MS:.0f} ms: {'within' if wall < BUDGET_MS else 'OVER'}")  # fmt: skip
    adapter = statistics.median(total_ms(import_profile(ADAPTER)) for _ in range(3))
    print(f"of which the audit adapter alone ({ADAPTER}, botocore without boto3): {adapter:.0f} ms")
    deployed = asset_sdk_ms()
    if deployed is None:
        print("as deployed: no python3.13 on this host, so the asset's botocore cannot be timed (nor byte-compiled)")
    else:
        python, compiled, source = deployed
        print(f"as deployed: botocore's client stack imported from the Lambda asset alone with {python}: "
              f"median {compiled:.0f} ms with its bytecode ({source:.0f} ms if it shipped as source only)")  # fmt: skip
    rows = runs[totals.index(median)] if median in totals else runs[0]
    print(f"\ntop {TOP} modules by self time:")
    for name, self_us, _ in sorted(rows, key=lambda r: r[1], reverse=True)[:TOP]:
        print(f"  {self_us / 1000:7.1f} ms  {name.strip()}")
    packages: dict[str, int] = defaultdict(int)
    for name, self_us, _ in rows:
        packages[name.strip().split(".")[0]] += self_us
    print("\nby top-level package (self time summed):")
    for name, self_us in sorted(packages.items(), key=lambda kv: kv[1], reverse=True)[:TOP]:
        print(f"  {self_us / 1000:7.1f} ms  {name}")


if __name__ == "__main__":
    main()
