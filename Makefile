# Two commands from a fresh clone: `make run` (set up, then ask the agent) and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
Q ?= What is the Memento paper about?
SYSTEM_PACKAGES := chromium:chromium bwrap:bubblewrap npx:npm

.PHONY: setup system test-system run test servers

# System programs the servers use: Chromium (crawl), bubblewrap (code sandbox), npx (Inspector tests).
system:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do \
	  command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "missing system packages:$$missing (sudo apt-get install$$missing)"; exit 1; fi; fi

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip uninstall -q -y memento-mcp 2>/dev/null || true  # this project's name before it became memento-agent
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

setup: system $(BIN)/.installed

run: setup
	$(BIN)/memento ask "$(Q)"

servers: setup
	$(BIN)/memento servers

# Engines only the tests use: HAProxy (replica tests). Installed as root; otherwise those tests skip and say why.
test-system:
	@command -v haproxy >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy)

test: setup test-system
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest
