# Two commands matter:  make run  (start the bot)  and  make test  (run the tests).
# Both set everything up on a machine with only Python 3.11 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck check migrate check-config clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

config.toml:
	cp config.example.toml config.toml
	@echo "config.toml created from config.example.toml: put your people and departments in it."

# Reads COMPLAINT_BOT_TOKEN from the environment or from .env.
run: $(STAMP) config.toml
	@set -a; [ -f .env ] && . ./.env; set +a; $(BIN)/complaint-bot run --config config.toml

migrate: $(STAMP) config.toml
	$(BIN)/complaint-bot migrate --config config.toml

check-config: $(STAMP)
	$(BIN)/complaint-bot check-config --config $(or $(CONFIG),config.toml)

test: $(STAMP)
	$(BIN)/python -m pytest -q

# Deadline-engine and daily-sheet benchmarks (figures in docs/PERFORMANCE.md);
# BENCH_ARGS="--complaints 10000" makes the first quick.
bench: $(STAMP)
	$(BIN)/python -m bench.deadlines $(BENCH_ARGS)
	$(BIN)/python -m bench.sheet

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
