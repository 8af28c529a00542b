# Two commands do everything on a fresh machine with python3 and make:
#   make run    start the sandbox on http://127.0.0.1:8000 (SQLite in ./data);
#               `make run PORT=9000 HOST=0.0.0.0` listens elsewhere
#   make test   lint, type-check and run the whole test suite (make test-fast: no e2e)
VENV ?= .venv
HOST = 127.0.0.1
PORT = 8000
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run test test-db test-fast lint format openapi lock screenshots clean

install: $(STAMP)

$(STAMP): requirements-dev.lock pyproject.toml
	@python3 -m venv $(VENV) || { echo "error: 'python3 -m venv' failed. On Debian/Ubuntu: apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	@rm -f $(VENV)/.installed-*; touch $@

run: install
	$(BIN)/omnidoc-sandbox serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# One pytest worker per core (JOBS=1: one process, in order). A module's tests stay on one
# worker (--dist loadscope), so a server a module starts once is started once.
JOBS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(JOBS) --dist loadscope

test: lint
	$(PYTEST) $(PYTEST_ARGS)

# The tests that reach the database, browser tests aside: CI's PostgreSQL pass
# (OMNIDOC_TEST_DATABASE_URL=postgresql+psycopg://… make test-db; `make test` with it runs all).
test-db: install
	$(PYTEST) -m "db and not browser" $(PYTEST_ARGS)

# The same without the end-to-end tests (real server processes): a quick loop while coding.
test-fast: lint
	$(PYTEST) -m "not e2e" $(PYTEST_ARGS)

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The README's screenshots, from a real server and Debian's Chromium; commit docs/screenshots/.
screenshots: install
	$(BIN)/python scripts/screenshots.py

# Regenerate the committed OpenAPI document after changing a route or app/schemas.py.
openapi: install
	$(BIN)/omnidoc-sandbox openapi docs/openapi.json

# Re-pin every dependency (needs network); commit both lock files. The runtime pins are
# taken from the dev lock, so the tests run exactly what the image ships.
lock: install
	$(BIN)/python -m pip install -q uv
	$(BIN)/uv pip compile -q --upgrade --python-version 3.11 --extra dev pyproject.toml -o requirements-dev.lock
	$(BIN)/uv pip compile -q --upgrade --python-version 3.11 pyproject.toml -c requirements-dev.lock -o requirements.lock

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
