# gridgate — the README's commands. `make help` lists them.
SHELL := /bin/bash
UV := $(shell deploy/bootstrap-uv.sh)
RUN := $(UV) run --frozen

.PHONY: help setup system test-system lint test demo bench schemas clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

system:  ## install system packages (libzbar0, mosquitto) when missing
	deploy/setup-system.sh

setup: system  ## system packages + the locked Python environment in .venv
	$(UV) sync --frozen --compile-bytecode
	@# Bytecode for our own packages too: where PYTHONDONTWRITEBYTECODE is set (as on the CI
	@# box) every process would otherwise compile them again (~4 s per hub, agent or reader).
	$(RUN) python -m compileall -q -j 0 hub models edge
	$(RUN) python -c "import face_recognition, cv2, pyzbar.pyzbar, paho.mqtt, zxingcpp"

test-system:  ## extra system packages the suite needs (PostgreSQL server; Chromium and a CJK font for the browser test)
	deploy/setup-system.sh postgresql chromium fonts-wqy-microhei

lint: setup  ## ruff (lint + format check) and mypy
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy

test: lint test-system  ## set up, lint, and run the whole suite (own broker and PostgreSQL ports)
	GRIDGATE_TEST_POSTGRES_URL="$${GRIDGATE_TEST_POSTGRES_URL:-$$(deploy/dev-postgres.sh)}" \
		$(RUN) pytest

demo: setup  ## hub + broker + one simulated gate on embedded defaults
	$(RUN) gridgate-demo

bench: setup  ## run the benchmarks in bench/
	@for b in bench/*.py; do echo "== $$b"; $(RUN) python $$b || exit 1; done

schemas: setup  ## export JSON Schema files of the wire contract to schemas/
	$(RUN) gridgate schema export --out schemas

clean:  ## remove the environment and caches
	rm -rf .venv .tools .mypy_cache .ruff_cache .pytest_cache
