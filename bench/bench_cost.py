"""Cost and scale model (infra/cost_model.py): monthly cost by service and run time for 100, 1,000 and 10,000
accounts at the configured Map concurrency, next to AWS Config's three root rules. No AWS calls."""

from __future__ import annotations

from infra.cost_model import build, render_table


def main() -> None:
    """Print the cost table for cdk.json's configuration, then the run time at other concurrencies."""
    estimates, settings = build()
    print(f"== cost model (Map concurrency {settings['concurrency']}, {settings['architecture']}) ==")
    print(render_table(estimates))
    print("\n== run time of 10,000 accounts by Map concurrency ==")
    for concurrency in (10, 40, 100, 400):
        (estimate,), _ = build((10_000,), concurrency)
        print(f"  concurrency {concurrency:>4}: {estimate.run_seconds / 60:5.1f} min, ${estimate.per_run:.3f} a night")


if __name__ == "__main__":
    main()
