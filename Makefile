# The few commands a developer types; CI (.ci/run) runs `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo run test lint typecheck unit integration compose-test bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)        ## offline end-to-end run on loopback, alerts printed
	$(VENV)/bin/newswatch demo

run: $(STAMP)         ## worker + beat (embedded Redis when none is configured)
	$(VENV)/bin/newswatch run

lint: $(STAMP)
	$(VENV)/bin/ruff check worker tests bench docs
	$(VENV)/bin/ruff format --check worker tests bench docs

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)        ## the fast inner loop: every test but the integration ones
	$(VENV)/bin/pytest -q -m "not integration"

integration: $(STAMP) ## real Redis, real Celery workers, loopback servers end to end
	$(VENV)/bin/pytest -q -m integration

test: lint typecheck unit integration   ## everything CI checks

compose-test: $(STAMP)   ## docker-compose.yml for real with podman (../shared/CONTAINERS.md), steps printed
	$(VENV)/bin/pytest tests/compose -m compose -v -s

bench: $(STAMP)       ## benchmarks; figures printed, written to bench/results/, README table updated
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
