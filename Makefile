# Each target makes its own virtual environment, so a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: bytecode demo test lint typecheck contracts pytest screenshots bench faults-doc clean

$(BIN)/pbxtui: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

# pbxtui's bytecode, compiled ahead (a no-op when up to date): where the environment forbids
# Python to write it (PYTHONDONTWRITEBYTECODE, common in containers), every start would
# compile the sources again (measured: a 10,000-call snapshot 1.44 -> 1.34 s of CPU).
bytecode: $(BIN)/pbxtui
	@$(BIN)/python -m compileall -q pbxtui

demo: bytecode
	$(BIN)/pbxtui --demo

test: $(BIN)/pbxtui lint typecheck contracts pytest

lint: $(BIN)/pbxtui
	$(BIN)/ruff check pbxtui tests benchmarks
	$(BIN)/ruff format --check pbxtui tests benchmarks

typecheck: $(BIN)/pbxtui
	$(BIN)/mypy

contracts: $(BIN)/pbxtui
	$(BIN)/lint-imports

# Four workers on two cores: the suite waits on its servers and sockets much of the time, so
# more workers fill the idle CPU (measured: 289 s with two, 226 s with three, 205 s with four).
# The tests marked solo measure a stall or memory and run after, alone.
pytest: bytecode
	$(BIN)/pytest -n 4 -q -m "not solo"
	$(BIN)/pytest -q -m solo

screenshots: $(BIN)/pbxtui
	$(BIN)/python -m pbxtui.screenshots screenshots/

# Every figure of the scale issue next to its target (~25 min on 2 cores); BENCH=--quick for
# a few minutes, BENCH="--only noc" for one scenario. See benchmarks/README.md.
bench: bytecode
	$(BIN)/python -m benchmarks.run $(BENCH)

# Run the fault matrix (tests/faults/) one cell group at a time and rewrite its table in
# docs/fault-matrix.md from what it saw (`make test` fails when the two differ).
faults-doc: $(BIN)/pbxtui
	PBXTUI_WRITE_FAULT_MATRIX=docs/fault-matrix.md $(BIN)/pytest -q -p no:xdist tests/faults/test_fault_matrix.py -k "not committed_table"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
