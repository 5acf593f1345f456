# Two set-up commands for a fresh clone: `make demo` and `make test`. Both need only python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export GX_ANALYTICS_ENABLED := false
export DAGSTER_DISABLE_TELEMETRY := true

.PHONY: install demo test lint ui bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/zs-risk demo

test: $(STAMP)
	$(BIN)/ruff check zs_risk_pipeline zs_risk_pipeline_tests bench
	$(BIN)/dagster definitions validate -w workspace.yaml
	$(BIN)/python -m pytest -n 2 --dist loadfile  # one worker per core; a file's tests stay on one worker

lint: $(STAMP)
	$(BIN)/ruff check zs_risk_pipeline zs_risk_pipeline_tests bench

# The UI on the demo home; the demo's throw-away keys are used unless ZS_RISK_PII_KEY / ZS_RISK_SIGNING_KEY are set.
ui: $(STAMP)
	ZS_RISK_PII_KEY="$${ZS_RISK_PII_KEY:-$$(cat $${ZS_RISK_HOME:-.zs_risk}/demo_pii_key 2>/dev/null)}" \
	ZS_RISK_SIGNING_KEY="$${ZS_RISK_SIGNING_KEY:-$$(cat $${ZS_RISK_HOME:-.zs_risk}.keys/demo_signing_key 2>/dev/null)}" \
	$(BIN)/zs-risk ui

bench: $(STAMP)
	$(BIN)/python bench/bench_synth.py
	$(BIN)/python bench/bench_ingest.py
	$(BIN)/python bench/bench_features.py --audit
	$(BIN)/python bench/bench_model.py
	$(BIN)/python bench/bench_sampling.py
	$(BIN)/python bench/bench_allocation.py
	$(BIN)/python bench/bench_monitoring.py
	$(BIN)/python bench/bench_dagster_steps.py
	$(BIN)/python bench/bench_month.py

clean:
	rm -rf .zs_risk .zs_risk.keys
