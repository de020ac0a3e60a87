# The two commands of the README: `make run` and `make test`. Both set up everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt examples/chat-wordcount/pyproject.toml | md5sum | cut -c1-12)
EVENTLET_VENV := .venv-eventlet
EVENTLET_STAMP := $(EVENTLET_VENV)/.installed-$(shell md5sum < requirements-eventlet.txt | cut -c1-12)

ALL_PLUGINS := reactions,file_sharing,notifications,wordcount
CORE_TESTS := tests/api tests/sockets tests/test_two_processes.py

.PHONY: run test lint format clean eventlet-venv redis-server

run: $(STAMP)
	$(BIN)/python -m devtools.run

test: $(STAMP) $(EVENTLET_STAMP) redis-server
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest
	@echo "--- the core again, with every plugin switched off ---"
	CHAT_PLUGINS_BLOCKED=$(ALL_PLUGINS) $(BIN)/python -m pytest -q $(CORE_TESTS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

$(STAMP): requirements.txt requirements-dev.txt examples/chat-wordcount/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	$(BIN)/python -m pip install -q -e examples/chat-wordcount
	rm -f $(VENV)/.installed-*
	touch $@

$(EVENTLET_STAMP): requirements-eventlet.txt
	test -x $(EVENTLET_VENV)/bin/python || $(PYTHON) -m venv $(EVENTLET_VENV)
	$(EVENTLET_VENV)/bin/python -m pip install -q --upgrade pip
	$(EVENTLET_VENV)/bin/python -m pip install -q -r requirements-eventlet.txt
	rm -f $(EVENTLET_VENV)/.installed-*
	touch $@

eventlet-venv: $(EVENTLET_STAMP)

# Tests use the Redis at 127.0.0.1:6379 when it answers, else start their own;
# either way the binary must exist.
redis-server:
	@command -v redis-server >/dev/null || { apt-get update -q && apt-get install -y -q redis-server; }

clean:
	rm -rf $(VENV) $(EVENTLET_VENV) .pytest_cache .ruff_cache
