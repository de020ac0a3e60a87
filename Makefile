# The two commands of the README: `make run` and `make test`. Both set up everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCKED := pyproject.toml requirements.txt requirements-dev.txt requirements.lock \
  $(wildcard plugins/*/pyproject.toml)
STAMP := $(VENV)/.installed-$(shell cat $(LOCKED) | md5sum | cut -c1-12)
NODE_STAMP := node_modules/.installed-$(shell md5sum < package-lock.json | cut -c1-12)
EVENTLET_VENV := .venv-eventlet
EVENTLET_STAMP := $(EVENTLET_VENV)/.installed-$(shell cat requirements-eventlet.txt requirements-eventlet.lock pyproject.toml | md5sum | cut -c1-12)
BUILT_IN_PLUGINS := reactions file_sharing notifications

ALL_PLUGINS := reactions,file_sharing,notifications,wordcount
# The core again with every plugin off: the paths plugins hook into (messages and their
# shapes, rooms and permissions, sync, threads, slash commands, every socket event, two
# processes). Accounts, integrations, moderation and search call no hook of their own.
CORE_TESTS := $(addprefix tests/api/test_,messages.py rooms.py rooms_bad_input.py \
  authorization.py sync.py threads.py pins_and_history.py quotes.py read_receipts.py \
  commands.py) tests/sockets tests/test_two_processes.py

.PHONY: run test lint format lock container-test clean eventlet-venv redis-server rabbitmq-server chromium promtool web-vendor screenshots soak bench secantusd-rs docs

run: $(STAMP)
	$(BIN)/python -m devtools.run

# The suite runs in TEST_WORKERS processes (pytest-xdist; each with a database, Redis
# keys and servers of its own), a test file per process at a time, measuring line and
# branch coverage in them and in every server they start; under 90% of either fails.
# Tests marked `serial` (a tight time bound) run afterwards, alone.
TEST_WORKERS ?= 3
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --cov --cov-report=

test: $(STAMP) $(EVENTLET_STAMP) $(NODE_STAMP) redis-server rabbitmq-server chromium promtool
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	rm -f .coverage .coverage.*
	$(PYTEST) -m "not serial"
	@echo "--- the tests that assert a tight time bound, alone ---"
	$(BIN)/python -m pytest --cov --cov-report= --cov-append -q -m serial
	@echo "--- the core again, with every plugin switched off ---"
	CHAT_PLUGINS_BLOCKED=$(ALL_PLUGINS) $(PYTEST) --cov-append -q $(CORE_TESTS)
	$(BIN)/python -m devtools.coverage_gate

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Installed at the versions of the lock files; `make lock` moves them (within the ranges).
$(STAMP): $(LOCKED)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt -c requirements.lock
	rm -f $(VENV)/.installed-*
	touch $@

# The checkout and the built-in plugins go in editable and without their dependencies
# (requirements-eventlet.txt holds those, capped for eventlet).
$(EVENTLET_STAMP): requirements-eventlet.txt requirements-eventlet.lock pyproject.toml
	test -x $(EVENTLET_VENV)/bin/python || $(PYTHON) -m venv $(EVENTLET_VENV)
	$(EVENTLET_VENV)/bin/python -m pip install -q --upgrade pip
	$(EVENTLET_VENV)/bin/python -m pip install -q -r requirements-eventlet.txt \
	  -c requirements-eventlet.lock
	$(EVENTLET_VENV)/bin/python -m pip install -q --no-deps -e . \
	  $(foreach p,$(BUILT_IN_PLUGINS),-e ./plugins/$(p))
	rm -f $(EVENTLET_VENV)/.installed-*
	touch $@

# New lock files: fresh virtualenvs with the newest versions the ranges allow, frozen.
lock:
	rm -rf var/lock && mkdir -p var/lock
	$(PYTHON) -m venv var/lock/dev && $(PYTHON) -m venv var/lock/eventlet
	grep -v '^-r requirements.txt' requirements-dev.txt > var/lock/dev.txt  # not the old lock
	var/lock/dev/bin/pip install -q -e . $(foreach p,$(wildcard plugins/*),-e ./$(p)) \
	  -r var/lock/dev.txt
	var/lock/eventlet/bin/pip install -q -r requirements-eventlet.txt
	{ sed -n '1,3p' requirements.lock; var/lock/dev/bin/pip freeze --exclude-editable; } \
	  > var/lock/requirements.lock
	{ sed -n '1p' requirements-eventlet.lock; var/lock/eventlet/bin/pip freeze; } \
	  > var/lock/requirements-eventlet.lock
	mv var/lock/requirements.lock var/lock/requirements-eventlet.lock . && rm -rf var/lock

eventlet-venv: $(EVENTLET_STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The web client serves the official socket.io-client from npm, and /api/docs the
# swagger-ui-dist files (no CDN), copied here and committed.
web-vendor: $(NODE_STAMP)
	cp node_modules/socket.io-client/dist/socket.io.min.js chat/web/static/vendor/
	for f in swagger-ui-bundle.js swagger-ui-standalone-preset.js swagger-ui.css LICENSE; do \
	  cp node_modules/swagger-ui-dist/$$f chat/web/static/vendor/swagger-ui/; done

# What is generated from the code: docs/openapi.json and the README's settings table
# (tests fail when they differ from the code).
docs: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m devtools.docs
	npm run --silent client:types  # the TypeScript client's types follow the document

# Benchmarks against the Node Socket.IO peer (bench/): `make bench SCENARIO=rooms`.
bench: $(STAMP) $(NODE_STAMP) rabbitmq-server secantusd-rs
	SCENARIO=$(SCENARIO) $(BIN)/python -m bench.run

# SecantusDB's Rust server, the benchmark's database, built into cargo's bin (not the
# checkout) when missing. Its crate declares rustc 1.98; it builds with this machine's
# 1.95 when told to ignore that (checked on 2026-12-01). Without it the bench says so
# and runs on the Python server.
SECANTUS_RS_VERSION := 0.5.3-beta.196
CARGO_BIN := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin
secantusd-rs:
	@test -x $(CARGO_BIN)/secantusd-rs || { \
	  command -v cmake >/dev/null || { apt-get update -q && apt-get install -y -q cmake; }; \
	  cargo install secantus-mdb --version $(SECANTUS_RS_VERSION) --ignore-rust-version \
	  || echo "secantusd-rs did not build: the benchmark runs on SecantusDB's Python server"; }

# The Dockerfile built by podman on a Debian bookworm base made with debootstrap, then
# run against the local database and Redis (tests/container); not in `make test`.
container-test: $(STAMP) redis-server
	command -v podman >/dev/null && command -v debootstrap >/dev/null && command -v runc >/dev/null \
	  || { apt-get update -q && apt-get install -y -q podman debootstrap runc; }
	CHAT_CONTAINER_TEST=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/container \
	  -o timeout=3600

# The long runs (10k idle sockets for 5 minutes, 100k malformed packets); not in `make test`.
soak: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m devtools.soak

# Refresh the README's screenshots from the browser test.
screenshots: $(STAMP) $(NODE_STAMP) chromium
	CHAT_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/e2e
	rm -f docs/screenshots/upload.png

# Browser tests drive Debian's Chromium (never a downloaded browser).
chromium:
	@test -x /usr/bin/chromium && test -d /usr/share/fonts/truetype/noto || \
	  { apt-get update -q && apt-get install -y -q chromium fonts-noto-color-emoji; }

# Tests use the Redis at 127.0.0.1:6379 when it answers, else start their own;
# either way the binary must exist.
redis-server:
	@command -v redis-server >/dev/null || { apt-get update -q && apt-get install -y -q redis-server; }

# RabbitMQ as the message queue (tests/faults/test_rabbitmq.py): the machine's broker,
# started by the tests when it is not running, and nodes of their own.
rabbitmq-server:
	@command -v rabbitmq-server >/dev/null || \
	  { apt-get update -q && apt-get install -y -q rabbitmq-server; }

# promtool checks and unit-tests the Prometheus alert rules (deploy/prometheus).
promtool:
	@command -v promtool >/dev/null || \
	  { apt-get update -q && apt-get install -y -q --no-install-recommends prometheus; }

clean:
	rm -rf $(VENV) $(EVENTLET_VENV) node_modules .pytest_cache .ruff_cache
