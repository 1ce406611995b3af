"""The cost model behind docs/cost.md: counted from the sandbox, its targets, and that the document is regenerated."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from infra.cost_model import (
    BEFORE,
    PRICES,
    Design,
    build,
    estimate,
    listing_seconds,
    load_counts,
    main,
    render_document,
    run_seconds,
)

REPO = Path(__file__).resolve().parents[2]


def test_docs_cost_md_is_what_the_model_generates_from_the_measured_counts_and_config():
    estimates, design = build()
    counts = load_counts()
    before = [estimate(e.accounts, BEFORE, counts) for e in estimates]
    expected = render_document(design, estimates, before, counts)
    assert (REPO / "docs" / "cost.md").read_text() == expected, (
        "re-run: python -m infra.cost_model --write docs/cost.md"
    )


def test_the_targets_of_issue_16_are_met_from_measured_counts():
    _, medium, large = build((100, 1_000, 10_000))[0]
    assert large.night_usd <= 0.05 and large.month_usd <= 10.0
    assert large.run_seconds <= 120
    assert medium.night_usd <= 0.01


def test_a_night_is_priced_from_the_committed_measured_counts():
    counts = load_counts()
    assert counts["per_account"]["dynamodb_write_units"] == pytest.approx(3, abs=0.2)  # UpdateItem + 2 PutItems
    assert counts["per_account"]["requests.lambda:Invoke"] == pytest.approx(1, abs=0.05)  # one Lambda an account
    assert counts["per_run"]["parent_state_transitions"] >= 5
    assert len(counts["custom_metrics"]) == 7
    _, design = build((100,))
    for size, children in counts["child_executions"].items():
        assert children <= math.ceil(int(size) / design.batch_size)  # at most size / batch-size children


def test_every_distributed_child_costs_a_transition_so_batching_divides_that_line():
    counts = load_counts()
    design = Design(concurrency=8, batch_size=40)
    per_account = estimate(10_000, Design(concurrency=40, batch_size=1), counts)
    batched = estimate(10_000, design, counts)
    label = "Step Functions: Standard transitions (parent + 1 per child started)"
    assert per_account.night[label] > 7.50 / 30  # the $7.50 a month the old model left out
    assert batched.night[label] < per_account.night[label] / 30


def test_the_old_design_priced_with_measured_counts_is_what_the_issue_found():
    (large,) = [estimate(10_000, BEFORE, load_counts())]
    assert 0.30 < large.night_usd < 0.40 and 18 < large.month_usd < 25


def test_more_concurrency_shortens_the_run_but_not_below_the_org_listing():
    def design(concurrency: int) -> Design:
        return Design(concurrency=concurrency, batch_size=40)

    assert run_seconds(10_000, design(40)) < run_seconds(10_000, design(8)) < run_seconds(10_000, design(2))
    assert run_seconds(10_000, design(10_000)) > listing_seconds(10_000) > 10_000 / 20 / 8


def test_one_latest_partition_key_caps_the_audits_at_its_write_limit():
    wide = Design(concurrency=10_000, batch_size=40, latest_shards=16)
    narrow = Design(concurrency=10_000, batch_size=40, latest_shards=1)
    assert run_seconds(10_000, narrow, latest_write_units=2) - run_seconds(10_000, wide, latest_write_units=2) > 5


def test_every_price_names_its_source_page():
    assert all(p.source.startswith("https://") and p.usd > 0 for p in PRICES.values())


def test_arm64_lambda_is_cheaper_than_x86():
    counts = load_counts()
    arm = estimate(1_000, Design(concurrency=8, batch_size=40, architecture="arm64"), counts)
    x86 = estimate(1_000, Design(concurrency=8, batch_size=40, architecture="x86_64"), counts)
    assert arm.night_usd < x86.night_usd


def test_json_prints_night_month_and_run_time_per_size(capsys):
    assert main(["--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [e["accounts"] for e in document["after"]] == [100, 1_000, 10_000]
    assert {"night_usd", "month_usd", "run_seconds", "child_executions"} <= set(document["after"][0])
    assert document["before"][2]["child_executions"] == 10_000


def test_bad_arguments_are_a_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--accounts", "ten"])
    assert caught.value.code == 2
    assert "--accounts" in capsys.readouterr().err


def test_readme_cost_table_is_the_models_summary():
    from infra.cost_model import render_summary

    estimates, _ = build()
    before = [estimate(e.accounts, BEFORE, load_counts()) for e in estimates]
    assert render_summary(before, estimates) in (REPO / "README.md").read_text(), "regenerate README's cost table"


def test_realtime_path_costs_cents_a_month_and_a_storm_costs_cents():
    from infra.cost_model import REALTIME_PRICES, realtime_cost, realtime_month_usd, realtime_storm_usd

    assert all(p.source.startswith("https://aws.amazon.com/") for p in REALTIME_PRICES.values())
    # Near-zero event rate: the pollers' idle receives dominate, the same at 1,000 and 10,000 accounts.
    assert 0.2 < realtime_month_usd(1_000) <= realtime_month_usd(10_000) < 0.3
    # 1,000 events a minute for an hour: 60,000 cross-account events, SQS requests and audits, still under $0.25.
    assert 0.1 < realtime_storm_usd() < 0.25
    assert realtime_cost(0, idle=False) == 0
