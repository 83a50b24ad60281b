# The two commands a newcomer needs: `make demo` and `make test`. Everything else is a helper.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python

.PHONY: demo test test-shifted-clock bootstrap bootstrap-test lint typecheck unit docs compose-check clean

## make demo: install what is missing, start the whole system with a seeded district, print the URLs
demo: bootstrap
	$(PY) scripts/run_demo.py

## make test: install what the tests need (Chromium, npm test servers too), lint, type-check, run every test,
## then the time-sensitive tests again with this process's clock a year ahead (no test may depend on today)
test: bootstrap-test lint typecheck
	$(PY) -m pytest
	$(MAKE) --no-print-directory test-shifted-clock

test-shifted-clock:
	$(PY) -m pytest -m time_sensitive --clock-shift-days=365

bootstrap:
	@bash scripts/bootstrap.sh

bootstrap-test:
	@bash scripts/bootstrap.sh --test

## lint: ruff, and the import rules of pyproject.toml's [tool.importlinter] (docs/architecture.md, "Import rules")
lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck:
	$(VENV)/bin/mypy common platform/eldercare_platform device_gateway simulators scripts tests bench

## make docs: regenerate docs/openapi.json (the API) and docs/asyncapi.yaml (the device protocol)
docs: bootstrap
	$(PY) scripts/export_openapi.py docs/openapi.json
	$(PY) scripts/export_asyncapi.py docs/asyncapi.yaml

clean:
	rm -rf var/test var/demo
