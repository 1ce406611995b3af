"""Run every benchmark module (bench/bench_*.py), or only those named: python -m bench scan sandbox."""

from __future__ import annotations

import importlib
import pkgutil
import platform
import sys
import time

import bench


def main(argv: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    wanted = [n for n in names if not argv or any(a in n for a in argv)]
    print(f"# rootwatch benchmarks on {platform.machine()} ({platform.python_version()}, {_cores()} cores)")
    for name in wanted:
        print(f"\n## {name.removeprefix('bench_')}")
        started = time.perf_counter()
        importlib.import_module(f"bench.{name}").main()
        print(f"({time.perf_counter() - started:.1f} s)")
    return 0


def _cores() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
