# Entry points: make demo | make test | make lint | make bench | make synth
# Each target builds .venv from the repo's own pinned files when it is missing or stale.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.rootwatch-installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_EC2_METADATA_DISABLED := true

.PHONY: venv demo test lint bench synth clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/rootwatch demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy lambdas/rootwatch infra

bench: $(STAMP)
	$(BIN)/python -m bench

synth: $(STAMP)
	@test -d node_modules/aws-cdk || npm ci --no-audit --no-fund
	npx cdk synth --quiet

clean:
	rm -rf $(VENV) cdk.out .pytest_cache .mypy_cache .ruff_cache
