"""The nightly pipeline in the sandbox: what a night costs, counted (bench/measure_counts.py, written to
infra/measured_counts.json for the cost model), then its run time with the real state machine (PrepareRun ->
Distributed Map of batched children -> FinishRun) and the real handlers in-process, for 100 and 1,000 accounts.

Each size gets a fresh sandbox and a demo org; night 1 is every account's first audit, night 2 the steady
state (same org, transitions against night 1). The handlers' import happens before night 1 is timed.
What this measures is the emulator-bound cost of the pipeline's own code and moto; in AWS the Map fans
out to real Lambdas (see docs/cost.md for the AWS model).
"""

from __future__ import annotations

import time

SIZES = (100, 1000)
MAX_CONCURRENCY = 8  # children at a time (cdk.json), each a batch of rootwatch:mapBatchSize accounts


def _night(sfn, arn: str, name: str) -> tuple[float, float, dict]:
    from rootwatch_cli.commands.run import start_and_follow

    wall, cpu = time.perf_counter(), time.process_time()
    described = start_and_follow(sfn, arn, name=name, progress=False, poll_seconds=0.05)
    return time.perf_counter() - wall, time.process_time() - cpu, described


def counts() -> None:
    """Measure what a night does per account and per run; print it and write infra/measured_counts.json."""
    from bench import measure_counts

    measured = measure_counts.measure()
    measure_counts.write(measured)
    small, large = measured["sizes"]
    print(f"counted on the deployed template, night 2, {small} and {large} accounts (per account = the slope)")
    print(f"{'quantity':<48} {'per run':>9} {'per account':>12}")
    for key in sorted(measured["per_account"]):
        run, account = measured["per_run"][key], measured["per_account"][key]
        if run or account:
            print(f"{key:<48} {run:>9g} {account:>12g}")
    print(f"child executions: {measured['child_executions']}; custom metrics: {len(measured['custom_metrics'])}")
    print(f"wrote {measure_counts.COUNTS_FILE.relative_to(measure_counts.COUNTS_FILE.parent.parent)}")


def main() -> None:
    counts()
    timing()


def timing() -> None:
    import importlib
    import os

    import boto3

    # Cold import is bench_import's subject, not this one: import the handlers first, quietly (the
    # Powertools logger takes its level from the environment when it is created).
    saved = os.environ.get("POWERTOOLS_LOG_LEVEL")
    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
    for name in ("prepare_run", "audit_account", "finish_run"):
        importlib.import_module(f"rootwatch.handlers.{name}")
    if saved is None:
        os.environ.pop("POWERTOOLS_LOG_LEVEL")
    else:
        os.environ["POWERTOOLS_LOG_LEVEL"] = saved
    from rootwatch.handlers import dependencies
    from rootwatch_sandbox import Sandbox, runtime
    from rootwatch_sandbox.deploy import deploy_stack

    print(f"pipeline run time in the in-process sandbox (MaxConcurrency {MAX_CONCURRENCY}, retry waits scaled to 0)")
    print(f"{'accounts':>8} {'night':>5} {'status':>9} {'wall s':>7} {'cpu s':>6} {'ms/account':>10} {'audited':>7}")
    runtime.set_retry_scale(0.0)
    try:
        for size in SIZES:
            dependencies.reset()
            with Sandbox() as sandbox:
                sandbox.create_demo_org(accounts=size, seed=7)
                stack = deploy_stack(
                    context={
                        "rootwatch:logLevel": "ERROR",
                        "rootwatch:metricsEnabled": False,
                        "rootwatch:mapMaxConcurrency": MAX_CONCURRENCY,
                    }
                )
                sfn = boto3.client("stepfunctions")
                for night in (1, 2):
                    wall, cpu, described = _night(sfn, stack["state_machine_arn"], f"bench-{size}-{night}")
                    totals = (described.get("summary") or {}).get("totals", {})
                    print(
                        f"{size:>8} {night:>5} {described['status']:>9} {wall:>7.1f} {cpu:>6.1f} "
                        f"{1000 * wall / size:>10.1f} {totals.get('audited', 0):>7}"
                    )
    finally:
        runtime.set_retry_scale(None)
        dependencies.reset()


if __name__ == "__main__":
    main()
