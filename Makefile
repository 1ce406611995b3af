# Entry points: make demo | make test | make test-fast | make coverage | make lint | make bench | make synth
#               | make check-prowler
# make test-fast: the inner loop, every test not marked slow. tests/conftest.py marks slow what synthesizes the
# CDK app or deploys the stack, starts a sandbox server, or runs end to end (integration/test_pipeline_*,
# test_scan*, test_ops_*); all unit tests run. make test runs everything but Prowler (make check-prowler);
# make coverage runs make test's tests with coverage of rootwatch, rootwatch_cli, rootwatch_sandbox and infra.
# Each target builds .venv from the repo's own pinned files when it is missing or stale.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.rootwatch-installed
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.rootwatch-installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_EC2_METADATA_DISABLED := true

.PHONY: venv demo test test-fast coverage lint bench synth clean browser check-prowler

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/rootwatch demo

test: $(STAMP) $(CHECKOV_STAMP) browser
	ROOTWATCH_CHECKOV=$(CHECKOV_VENV)/bin/checkov $(BIN)/python -m pytest -n 2 --dist worksteal -q -m "not prowler"

test-fast: $(STAMP) browser
	$(BIN)/python -m pytest -n 2 --dist worksteal -q -m "not slow and not prowler"

COVERAGE_ARGS := --cov=rootwatch --cov=rootwatch_cli --cov=rootwatch_sandbox --cov=infra --cov-report=term:skip-covered

coverage: $(STAMP) $(CHECKOV_STAMP) browser
	ROOTWATCH_CHECKOV=$(CHECKOV_VENV)/bin/checkov $(BIN)/python -m pytest -n 2 --dist worksteal -q -m "not prowler" \
	  $(COVERAGE_ARGS)

# checkov (pinned in requirements-checkov.txt, its own venv because its boto3/botocore/packaging pins conflict
# with ours; ~30 s to install) scans the synthesized template in tests/infra/test_quality_gates.py.
$(CHECKOV_STAMP): requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@touch $(CHECKOV_STAMP)

# Prowler (pinned in requirements-prowler.txt, its own venv: ~9 minutes to install) runs its root-user checks
# against a seeded sandbox server; the test asserts its findings agree with the seeded root user.
PROWLER_VENV := .venv-prowler
PROWLER_STAMP := $(PROWLER_VENV)/.rootwatch-installed

$(PROWLER_STAMP): requirements-prowler.txt
	@test -x $(PROWLER_VENV)/bin/python || $(PYTHON) -m venv $(PROWLER_VENV)
	@$(PROWLER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PROWLER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-prowler.txt
	@touch $(PROWLER_STAMP)

check-prowler: $(STAMP) $(PROWLER_STAMP)
	ROOTWATCH_PROWLER=$(PROWLER_VENV)/bin/prowler $(BIN)/python -m pytest -q -s -m prowler tests/integration/test_referee_prowler.py

# The report test renders the HTML in headless Chromium (Debian's package). Installed when missing
# and possible (root with apt-get); otherwise that test skips locally and fails under CI=true.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the report test..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; the report's browser test will not pass under CI"; \
	  else echo "note: chromium missing and apt-get unavailable; the report's browser test is skipped locally"; fi; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy lambdas/rootwatch cli/rootwatch_cli sandbox/rootwatch_sandbox infra

bench: $(STAMP)
	$(BIN)/python -m bench

synth: $(STAMP)
	@test -d node_modules/aws-cdk || npm ci --no-audit --no-fund
	npx cdk synth --quiet

clean:
	rm -rf $(VENV) $(PROWLER_VENV) $(CHECKOV_VENV) cdk.out .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
