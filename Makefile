# Quick start: `make demo` and `make test`. Both set up .venv and install the package first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-real test-slow agents bench lint arch clean setup browser

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,claude-code]'
	touch $(STAMP)

# The HTML report's tests render it in a real headless browser: Debian's chromium.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The real agent CLIs the real-CLI suite drives (tests marked real_cli), pinned to versions
# verified to work: npm packages under .agents/, aider in its own venv (it pins many packages).
AGENTS := .agents
AGENTS_STAMP := $(AGENTS)/.installed
NPM_AGENTS := @anthropic-ai/claude-code@2.1.332 @openai/codex@0.171.0 \
	@google/gemini-cli@0.61.0 opencode-ai@1.18.33
AIDER := aider-chat==0.86.2

agents: $(AGENTS_STAMP)

$(AGENTS_STAMP): Makefile
	npm install --prefix $(AGENTS) --no-audit --no-fund --save-exact $(NPM_AGENTS)
	$(PYTHON) -m venv $(AGENTS)/aider-venv
	$(AGENTS)/aider-venv/bin/python -m pip install -q $(AIDER)
	touch $@

demo: $(STAMP)
	$(BIN)/git-swarm demo

# The architecture check needs the package as installed (gates/ and hooks/ inside swarmgit/),
# which the editable install only maps; so it checks a fresh non-editable build.
# mypy (strict) checks the same build.
arch: $(STAMP)
	rm -rf $(VENV)/arch build
	$(BIN)/python -m pip install -q --no-deps --target $(VENV)/arch .
	cd $(VENV)/arch && PYTHONPATH=. ../bin/lint-imports --config ../../pyproject.toml
	cd $(VENV)/arch && ../bin/python -m mypy --config-file ../../pyproject.toml -p swarmgit

lint: $(STAMP)
	$(BIN)/ruff check swarmgit gates hooks tests benchmarks
	$(BIN)/ruff format --check swarmgit gates hooks tests benchmarks

# `make test` leaves out the tests marked slow and runs each property test with the default
# hypothesis profile; CI (.ci/run) runs the slow ones too (`make test-slow`). The tests run in
# one process per core (pytest-xdist): each works in its own temporary repositories.
# Coverage data goes to /dev/shm: the agents' write fence (DEVICES in swarmgit/domain/fence.py)
# lets the measured Python subprocesses it confines write there, and nowhere else outside.
TEST_MARKERS ?= not real_cli and not slow
COVERAGE_DIR := /dev/shm/swarmgit-coverage-$(notdir $(CURDIR))
test: lint arch browser
	rm -rf $(COVERAGE_DIR) && mkdir -p $(COVERAGE_DIR)
	COVERAGE_FILE=$(COVERAGE_DIR)/.coverage \
		$(BIN)/python -m pytest -n auto -m "$(TEST_MARKERS)" --cov --cov-report=term --durations=10

# The tests marked slow: long property runs, the whole demo, and a real two-node Ray cluster
# on loopback (two cluster tests, about two minutes); .ci/run runs them after `make test`.
RAY := ray==2.60.0
test-slow: $(STAMP)
	$(BIN)/python -m pip install -q '$(RAY)'
	$(BIN)/python -m pytest -m "slow and not real_cli" --durations=10

# The real agent CLIs against local model servers (slow; needs `make agents`).
test-real: $(STAMP) $(AGENTS_STAMP)
	$(BIN)/python -m pytest -m real_cli

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
