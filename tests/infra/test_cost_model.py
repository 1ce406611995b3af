"""The cost model behind docs/cost.md: its shape, its budget, and that the document is regenerated."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.cost_model import build, estimate, main, render_document, run_seconds

REPO = Path(__file__).resolve().parents[2]


def test_docs_cost_md_is_what_the_model_generates_for_the_committed_config():
    estimates, settings = build()
    expected = render_document(
        estimates,
        architecture=settings["architecture"],
        history_days=settings["history_days"],
        results_days=settings["results_days"],
    )
    assert (REPO / "docs" / "cost.md").read_text() == expected, (
        "re-run: python -m infra.cost_model --write docs/cost.md"
    )


def test_ten_thousand_accounts_meet_the_design_budget_of_ten_minutes_and_ten_cents_a_night():
    (big,), _ = build((10_000,))
    assert big.run_seconds < 600
    assert big.per_run < 0.10


def test_aws_config_costs_more_than_rootwatch_at_every_size_and_grows_faster():
    estimates, _ = build((100, 1_000, 10_000))
    assert all(e.aws_config > e.total for e in estimates)
    small, _, large = estimates
    assert large.aws_config / small.aws_config > large.total / small.total


def test_more_concurrency_shortens_the_run_but_not_below_the_org_listing():
    assert run_seconds(10_000, 400) < run_seconds(10_000, 40) < run_seconds(10_000, 10)
    listing_floor = 10_000 / 20 / 8
    assert run_seconds(10_000, 10_000) > listing_floor


def test_arm64_lambda_is_cheaper_than_x86():
    common = {"concurrency": 40, "history_days": 400, "results_days": 1096}
    assert (
        estimate(1_000, architecture="arm64", **common).lambda_
        < estimate(1_000, architecture="x86_64", **common).lambda_
    )


def test_bad_arguments_are_a_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--accounts", "ten"])
    assert caught.value.code == 2
    assert "--accounts" in capsys.readouterr().err
