# SupportOps entry points. `make run` and `make test` each do all their own set-up.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install install-dev env init run api chromium test bench eval lint clean vendor-js

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime

install-dev: $(VENV)/.dev

# A local .env with random secrets, created once; never committed.
env:
	@$(PY) scripts/make_env.py

init: install env
	$(PY) init_db.py

# API with uvicorn on :8000, portal with gunicorn on :5000 (scripts/run_local.py).
run: init
	$(PY) scripts/run_local.py

# Refresh the vendored front-end files from the versions pinned in package-lock.json.
vendor-js:
	npm ci --no-audit --no-fund
	cp node_modules/axe-core/axe.min.js tests/e2e/vendor/axe.min.js
	cp node_modules/axe-core/LICENSE tests/e2e/vendor/axe-core.LICENSE
	rm -rf node_modules

api: init
	$(VENV)/bin/uvicorn api.main:app --host 127.0.0.1 --port 8000

chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)

test: install-dev chromium
	$(PY) -m pytest

# Latency, throughput, start-up, memory and fixture figures against issue 13's targets (bench/
# run_bench.py; about 4 minutes, loopback only), after the quality figures. HTTP load uses
# Debian's wrk when it can be installed, else a Python load generator (the report says which).
bench: install-dev
	@command -v wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk) || true
	$(PY) bench/accuracy.py
	$(PY) bench/run_bench.py

# Conversation evaluation graded on the database end state (bench/eval/README.md).
eval: install-dev
	$(PY) bench/eval/run_eval.py

lint: install-dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) data/ .pytest_cache
