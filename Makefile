# The whole set-up on a fresh Debian machine: `make run` or `make test`.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ARGS ?=

.PHONY: run test lint bench clean system-packages test-packages bench-packages mutate

# Debian splits venv and ensurepip out of python3; tests also need curl, ip
# (iproute2) to bring up the radiotap TUN devices of the live-capture tests,
# and systemd-analyze to verify the unit in docs/.
system-packages:
	@missing=""; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	command -v ip >/dev/null || missing="$$missing iproute2"; \
	command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing; \
	fi

# pip's own output is the progress of a first run (a minute or so, mostly downloads).
$(BIN)/kisalert: pyproject.toml
	@$(MAKE) --no-print-directory system-packages
	@echo "setting up $(VENV): kisalert and its dependencies (first run only)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e .
	@touch $@

$(VENV)/.test-deps: $(BIN)/kisalert
	@echo "adding the test and lint tools to $(VENV) (first run only)"
	$(BIN)/pip install -e '.[test]'
	@touch $@

$(VENV)/.mutate-deps: $(VENV)/.test-deps
	@echo "adding mutmut to $(VENV) (first run only)"
	$(BIN)/pip install -e '.[test,mutate]'
	@touch $@

run: $(BIN)/kisalert
	$(BIN)/kisalert serve $(ARGS)

lint: $(VENV)/.test-deps
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# Only the tests need redis-server (tests/cluster start their own, on a free port),
# chromium (tests/console drive the console in it, headless) and mosquitto (the MQTT
# output's tests start their own broker): `make run` installs none of them.
test-packages: system-packages
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing="$$missing mosquitto"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing; \
	fi

test: test-packages $(VENV)/.test-deps lint
	$(BIN)/pytest

# The raise benches drive the server with wrk (a C client) when it is installed:
# asyncio clients in the bench's own process would measure themselves.
bench-packages: test-packages
	@command -v wrk >/dev/null || { echo "installing Debian packages: wrk"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk; }

bench: bench-packages $(VENV)/.test-deps
	$(BIN)/python bench/raise_throughput.py
	$(BIN)/python bench/backlog_reads.py
	$(BIN)/python bench/eventbus_fanout.py
	$(BIN)/python bench/replay.py
	$(BIN)/python bench/redis_scale.py
	$(BIN)/python bench/forward_cost.py

# Mutation testing (docs/testing.md); not part of `make test`: in all it takes hours.
# MODULES="throttle wids.dot11" (dotted names under kisalert) runs only those; results
# are kept in mutants/, so the parts of a full run add up. MUTATE_JOBS mutants at once.
MODULES ?=
MUTATE_JOBS ?= 1
mutate: $(VENV)/.mutate-deps
	$(BIN)/mutmut run --max-children $(MUTATE_JOBS) $(foreach m,$(MODULES),'kisalert.$(m).*')
	$(BIN)/python -m tests.mutation_score $(MODULES)

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache mutants
