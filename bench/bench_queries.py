"""Named queries through DuckDB on a year of history: 365 nights x 1,000 accounts, gzip JSON Lines per night.

Prints the history's size on disk (what it takes in S3, and what a full Athena scan reads), then each
named query's wall-clock and CPU time from a fresh engine (median of 3, after one warm-up), as one
``rootwatch query --results DIR`` call pays it, plus the whole report. CPU time counts DuckDB's threads
too; on a loaded machine it is the steadier figure. Run alone: ``python -m bench queries``; set
BENCH_QUERY_DAYS / BENCH_QUERY_ACCOUNTS to change the size.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

from rootwatch_cli.analytics.catalog import bind, load_queries
from rootwatch_cli.analytics.history import account_ids, generate_history
from rootwatch_cli.analytics.local import DuckDBBackend

DAYS = int(os.environ.get("BENCH_QUERY_DAYS", "365"))
ACCOUNTS = int(os.environ.get("BENCH_QUERY_ACCOUNTS", "1000"))
REPEATS = 3
ATHENA_DOLLARS_PER_TB = 5.0
ATHENA_MIN_BYTES = 10 * 1_000_000


def main() -> None:
    """Generate the history in a temporary folder, measure, print, clean up."""
    with tempfile.TemporaryDirectory(prefix="rootwatch-bench-queries-") as folder:
        started = time.perf_counter()
        writer = generate_history(folder, days=DAYS, accounts=ACCOUNTS, seed=11)
        generated = time.perf_counter() - started
        size = writer.size_on_disk()
        print(f"history: {DAYS} nights x {ACCOUNTS:,} accounts = {writer.records:,} records in {writer.files} objects")
        print(f"size on disk (= in S3): {size / 1_000_000:.1f} MB ({size / writer.records:.0f} bytes/record gzip)")
        scanned = max(size, ATHENA_MIN_BYTES)
        print(f"Athena full scan: {size / 1_000_000:.1f} MB -> ${scanned / 1e12 * ATHENA_DOLLARS_PER_TB:.5f} a query")
        print(f"generated in {generated:.1f} s")

        sample_account = account_ids(ACCOUNTS)[10]
        print("\neach query from a fresh engine, as one `rootwatch query --results DIR` call runs it")
        print(f"{'query':<24} {'wall s':>7} {'cpu s':>7} {'rows':>7}  engine")
        for query in load_queries().values():
            values = {"account_id": sample_account} if query.param("account_id") else {}
            sql = bind(query, values, table="results")
            DuckDBBackend(folder).run(sql)  # warm-up: OS file cache
            walls, cpus, rows, how = [], [], 0, ""
            for _ in range(REPEATS):
                begin, cpu = time.perf_counter(), time.process_time()
                backend = DuckDBBackend(folder)
                rows = len(backend.run(sql).rows)
                walls.append(time.perf_counter() - begin)
                cpus.append(time.process_time() - cpu)
                how = "loaded into memory once" if backend.materialized else "files, dt-pruned"
                backend.close()
            wall, cpu_s = statistics.median(walls), statistics.median(cpus)
            print(f"{query.name:<24} {wall:>7.2f} {cpu_s:>7.2f} {rows:>7,}  {how}")

        from rootwatch_cli.analytics.report import collect, render_html

        begin, cpu = time.perf_counter(), time.process_time()
        backend = DuckDBBackend(folder)
        html = render_html(collect(backend, days=30))
        wall, cpu_s = time.perf_counter() - begin, time.process_time() - cpu
        print(f"\nreport (6 queries + HTML): {wall:.2f} s wall, {cpu_s:.2f} s cpu, {len(html) / 1000:.0f} kB of HTML")
        backend.close()


if __name__ == "__main__":
    main()
