# Glose: `make demo` opens the app on the sample corpus, `make test` runs every check.
# Both create .venv when it is missing; a stamp file per extra keeps a second run from
# reinstalling (it reinstalls when pyproject.toml changes).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
PYTEST := $(PY) -m pytest

.PHONY: demo test check test-models test-gui bench

demo: $(VENV)/.installed-app
	$(VENV)/bin/glose demo

test: check test-models test-gui

# The architecture rule, lint, format and types (mypy --strict on models/, pyproject settings).
check: $(VENV)/.installed-test
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# tests/models with PySide6, shiboken6 and gui unimportable: a Qt import in models fails here.
test-models: $(VENV)/.installed-test
	$(PYTEST) -p no:pytest-qt -p tests.no_qt tests/models

# tests/gui with pytest-qt on the offscreen platform (tests/models ran above, Qt-free).
test-gui: $(VENV)/.installed-test
	QT_QPA_PLATFORM=offscreen $(PYTEST) tests/gui

bench: $(VENV)/.installed-app
	@set -e; for script in tests/benchmarks/bench_*.py; do \
		[ -e "$$script" ] || continue; \
		echo "== $$script"; \
		$(PY) "$$script"; \
	done

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-app: pyproject.toml | $(PY)
	$(PIP) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) -e ".[test]"
	touch $@ $(VENV)/.installed-app
