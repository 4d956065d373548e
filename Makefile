# The two commands of README: `make demo` and `make test`. Each builds the virtual
# environment it needs first, so both work on a fresh clone.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP     := $(VENV)/.installed-dev

.PHONY: demo test check lint importlint typecheck install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the declared dependencies change.
$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME_STAMP)

# Tests also need the test tools and the second engine (Spark, Polars).
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $(DEV_STAMP) $(RUNTIME_STAMP)

install: $(DEV_STAMP)

demo: $(RUNTIME_STAMP)
	$(BIN)/ews demo

test: $(DEV_STAMP)
	scripts/test-system-deps.sh
	$(BIN)/python -m pytest -q

lint: $(DEV_STAMP)
	$(BIN)/ruff check ews tests bench scripts
	$(BIN)/ruff format --check ews tests bench scripts

# The layers and the interface-only packages of docs/architecture.md (contracts in pyproject.toml).
importlint: $(DEV_STAMP)
	$(BIN)/lint-imports --no-cache

typecheck: $(DEV_STAMP)
	$(BIN)/mypy ews

check: lint importlint typecheck test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
