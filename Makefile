# The two entry points are `make demo` and `make test`; each installs what it needs and reuses what is cached:
# the virtualenv (.venv, redone when pyproject.toml changes) and the Go-built tools (scripts/install-tools).
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kfm-installed

.PHONY: setup tools lint test demo down

setup: $(STAMP) tools

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
		|| { echo "make: Python 3.11 is needed; $(PYTHON) is not it (set PYTHON=...)" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

tools:
	@scripts/install-tools

lint: $(STAMP)
	$(BIN)/ruff check operator tests
	$(BIN)/lint-imports
	$(BIN)/mypy

# pytest exits 5 when it collected nothing: here that means a broken setup, so it fails with a message.
test: setup lint
	@$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; exit $$rc

demo: setup
	@scripts/demo

down: $(STAMP)
	$(BIN)/kfm dev down
