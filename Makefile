# Two commands matter:  make run  (start the bot)  and  make test  (run the tests).
# Both set everything up on a machine with only Python 3.11 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run demo test test-pg test-quick catalogs lint typecheck check migrate check-config check-wheel lock clean bench

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Pin what the suite runs with: the installed versions, written to constraints.txt.
lock: $(STAMP)
	{ sed -n '1,2p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt

config.toml:
	cp config.example.toml config.toml
	@echo "config.toml created from config.example.toml: put your people and departments in it."

# Reads COMPLAINT_BOT_TOKEN from the environment or from .env.
run: $(STAMP) config.toml
	@set -a; [ -f .env ] && . ./.env; set +a; $(BIN)/complaint-bot run --config config.toml

# The bot without a Telegram account: the local Bot API server, the example company, the
# deadlines 60 times faster, and a page at http://127.0.0.1:8080/ (bot/demo.py).
demo: $(STAMP)
	$(BIN)/python -m bot.demo $(DEMO_ARGS)

migrate: $(STAMP) config.toml
	$(BIN)/complaint-bot migrate --config config.toml

check-config: $(STAMP)
	$(BIN)/complaint-bot check-config --config $(or $(CONFIG),config.toml)

test: $(STAMP)
	$(BIN)/python -m pytest -q --durations=15

# The suite on PostgreSQL: a throwaway cluster of its own in a temporary folder
# (tests/databases.py), with the server programs of Debian's postgresql package (installed
# first when missing). PYTEST_ARGS picks tests, e.g. PYTEST_ARGS=tests/e2e/test_durability.py
test-pg: $(STAMP)
	.ci/install-postgresql
	COMPLAINT_BOT_TEST_DATABASE=postgresql $(BIN)/python -m pytest -q --durations=15 $(PYTEST_ARGS)

# The inner loop: everything but the tests marked slow (real processes killed at random,
# API outages, bursts of hundreds of messages); CI and `make test` run those too.
test-quick: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" --durations=10

# After changing a text in templates/: the catalogs in locales/ in step (bot/catalogs.py).
catalogs: $(STAMP)
	$(BIN)/python -m bot.catalogs

# Deadline-engine and daily-sheet benchmarks (figures in docs/PERFORMANCE.md);
# BENCH_ARGS="--complaints 10000" makes the first quick.
bench: $(STAMP)
	$(BIN)/python -m bench.deadlines $(BENCH_ARGS)
	$(BIN)/python -m bench.sheet

# The wheel as a user installs it: built, installed alone into a fresh environment and run
# from another folder (it must carry its texts and migrations).
check-wheel: $(STAMP)
	rm -rf build dist
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .
	rm -rf build
	set -e; there=$$(mktemp -d); \
	$(PYTHON) -m venv $$there/venv; \
	$$there/venv/bin/python -m pip install --quiet -c constraints.txt dist/complaint_bot-*.whl; \
	cd $$there && $$there/venv/bin/complaint-bot check-config --config $(CURDIR)/config.example.toml; \
	rm -rf $$there

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
