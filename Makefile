# Quick start: `make demo` and `make test`. Both set up .venv and install the package first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint arch clean setup browser

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

test: lint arch browser
	$(BIN)/python -m pytest --cov --cov-report=term

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
