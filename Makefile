# Two commands do all the set-up on a fresh machine with Python 3.11+ and make:
#   make demo   — install into .venv and run Cordon's main job on the embedded store
#   make test   — install into .venv and run lint, type checks and the whole test suite
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXTRAS ?= test,desktop

.PHONY: install demo test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[$(EXTRAS)]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/cordon demo $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest --cov --cov-branch --cov-report= $(PYTEST_ARGS)
	$(BIN)/coverage report --include='hub/protocol/*' --fail-under=100

test: lint typecheck pytest

# make bench [ARGS="--quick" | ARGS="--peers"]: the peers need apt-get install nats-server mosquitto
bench: $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[bench]'
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .coverage .hypothesis
