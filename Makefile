# Two commands do all set-up on a fresh machine with python3: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= sample_data
PORT ?= 8501
CHROMIUM := /usr/bin/chromium
HAPROXY := /usr/sbin/haproxy

.PHONY: install run sample test test-fast test-spark check lint types lock browser proxy serve clean load golden java

install: $(STAMP)

# Rebuilt whenever the lock file or the project metadata changes.
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV): install Python's venv module (Debian: apt-get install python3-venv)."; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# Generates the sample data only when it is missing.
$(DATA_DIR)/responses.parquet: | $(STAMP)
	$(BIN)/cx sample --out $(DATA_DIR)

sample: $(DATA_DIR)/responses.parquet

# Rewrites the golden A-11 submission (the sample's FY2025 Q1) that a test compares byte for byte;
# read the diff before committing it.
golden: $(STAMP)
	rm -rf .golden-sample && $(BIN)/cx sample --out .golden-sample
	$(BIN)/cx report a11 --fiscal-year 2025 --quarter 1 --data-dir .golden-sample --out .golden-out || true
	mkdir -p tests/golden && cp .golden-out/a11-FY2025-Q1.csv tests/golden/ && rm -rf .golden-sample .golden-out
	git diff --stat -- tests/golden

run: $(STAMP) sample
	CX_DATA_DIR=$(DATA_DIR) $(BIN)/python -m dashboard.server --server.port $(PORT) --server.headless true

# The browser tests drive Debian's chromium; install it when missing (needs root or sudo).
browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# `make serve` (and its tests) put Debian's haproxy in front of the replicas; install it when missing.
proxy:
	@test -x $(HAPROXY) || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  echo "Installing Debian's haproxy for make serve..."; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq haproxy >/dev/null; }

# REPLICAS Streamlit servers (default: one per core) behind HAProxy on $(PORT), sessions kept on one
# server by a cookie; the store is built once, by `cx build`, before they start (cx/serve.py).
serve: $(STAMP) sample proxy
	$(BIN)/cx serve --replicas $(or $(REPLICAS),$(shell nproc)) --port $(PORT) --data-dir $(DATA_DIR)

# Every core runs tests (pytest-xdist): each worker has its own sample data, store and server.
# The Spark build has its own target, `make test-spark`.
# The slowest tests are listed at the end of each run: `make test` is to stay under 10 minutes on 2 cores.
test: $(STAMP) browser proxy
	$(BIN)/python -m pytest -n auto --dist worksteal -m "not spark" --durations=25

# Spark as the build engine (`cx build --engine spark`): the optional extra and Java, then the cubes
# of the test sample built on a local Spark and compared with DuckDB's (a few minutes).
test-spark: $(STAMP) java
	$(BIN)/python -m pip install --quiet -r requirements-spark.lock
	$(BIN)/python -m pytest -m spark tests/test_spark.py

# Spark runs on Java 17 or later: Debian's OpenJDK 17 when there is no java (needs root or sudo).
java:
	@command -v java >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  echo "Installing Debian's OpenJDK 17 for Spark..."; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

# The quick loop while working: everything but the browser and the slow tests (under 2 minutes).
test-fast: $(STAMP) proxy
	$(BIN)/python -m pytest -n auto -m "not browser and not slow and not spark"

# Many users at once: 25 browser sessions changing filters for 60 s against a served app (not in `make test`).
# With REPLICAS=N, against N replicas behind HAProxy (`cx serve`) instead of one server.
SESSIONS ?= 25
SECONDS ?= 60
load: $(STAMP) sample browser $(if $(REPLICAS),proxy)
	$(BIN)/python tests/load/load_test.py --sessions $(SESSIONS) --seconds $(SECONDS) --data-dir $(DATA_DIR) \
	  $(if $(REPLICAS),--replicas $(REPLICAS))

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

types: $(STAMP)
	$(BIN)/mypy

check: lint types test

# Re-pins every dependency from pyproject.toml into requirements.lock.
lock:
	rm -rf /tmp/cx-lock && $(PYTHON) -m venv /tmp/cx-lock
	/tmp/cx-lock/bin/pip install --quiet ".[dev]"
	/tmp/cx-lock/bin/pip freeze --exclude cx-dashboard | sed '1i # Pinned by `make lock` from pyproject.toml; install with pip install -r requirements.lock' > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/artifacts
