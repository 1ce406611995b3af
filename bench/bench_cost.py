"""Cost and scale model (infra/cost_model.py): a night, a month and the run time for 100, 1,000 and 10,000
accounts from the counts measured in the sandbox (infra/measured_counts.json), next to AWS Config. No AWS calls."""

from __future__ import annotations

from infra.cost_model import Design, build, estimate, load_counts, render_table


def main() -> None:
    """Print the cost table for cdk.json's configuration, then the run time of 10,000 accounts by concurrency."""
    estimates, design = build()
    print(f"== cost model ({design.concurrency} children x {design.batch_size} accounts, {design.architecture}) ==")
    print(render_table(estimates, design))
    print("\n== 10,000 accounts by Map concurrency (children at a time) ==")
    counts = load_counts()
    for concurrency in (2, 4, 8, 16, 32):
        big = estimate(10_000, Design(concurrency=concurrency, batch_size=design.batch_size), counts)
        print(f"  concurrency {concurrency:>3}: {big.run_seconds:6.1f} s, ${big.night_usd:.3f} a night")


if __name__ == "__main__":
    main()
