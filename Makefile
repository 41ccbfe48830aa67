# The two commands of the README: `make demo` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STATE := var/demo-state
DATA := data/sample
DEMO_ADDRESS := 127.0.0.1:50151
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install proto data demo test lint es-up es-down bench-quality bench-speed bench-speed-scale clean

# Reinstall only when pyproject.toml changes: torch is a few GB.
$(VENV)/.installed: pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip wheel setuptools >/dev/null
	$(PY) -m pip install -e ".[dev,eval]"
	touch $@

install: $(VENV)/.installed proto

proto: $(VENV)/.installed
	$(PY) proto/generate.py

$(DATA)/history.csv: $(wildcard indexer/sample_data/*.py) | $(VENV)/.installed
	$(PY) -m indexer.sample_data --out $(DATA)

data: $(DATA)/history.csv

demo: install data
	$(VENV)/bin/partmatch index --data $(DATA) --state $(STATE)
	bash scripts/demo.sh $(STATE) $(DEMO_ADDRESS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

es-up:
	bash scripts/search-node.sh up

es-down:
	bash scripts/search-node.sh down

# The whole suite, with a real search node: started here, stopped whatever happens.
test: install data
	bash scripts/test.sh

bench-quality: install data
	$(PY) -m eval.bench_quality

# The real server over gRPC at fixed rates and flat out, MatchBatch, and the floor.
bench-speed: install data
	$(PY) -m eval.speed_bench --out BENCHMARKS-speed.json | tee BENCHMARKS-speed.md

# The same over generated catalogs of about 10,000 and 100,000 parts (under var/, never
# committed), served untrained: training on them takes longer than the benchmark here.
SCALES := 10000 100000
bench-speed-scale: install
	set -o pipefail; for parts in $(SCALES); do \
	  $(PY) -m indexer.sample_data --out var/scale-$$parts --parts $$parts --history-size 20000 && \
	  $(PY) -m eval.speed_bench --data var/scale-$$parts --state var/scale-$$parts-state --no-train \
	    --out BENCHMARKS-speed-$$parts.json | tee BENCHMARKS-speed-$$parts.md || exit 1; \
	done

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache partmatch build *.egg-info
