VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test lint demo bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,postgres,mysql]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

demo: $(STAMP)
	$(PY) examples/demo.py

lint: $(STAMP)
	$(VENV)/bin/ruff check dbsql fakedb tests benchmarks examples
	$(VENV)/bin/ruff format --check dbsql fakedb tests benchmarks examples
	$(VENV)/bin/mypy --strict dbsql fakedb tests
	MYPYPATH=examples $(VENV)/bin/mypy --strict examples benchmarks

bench: $(STAMP)
	$(PY) -m pip install -q -e '.[dev,postgres,mysql,bench]'
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV)

# make stress: the upstream suite STRESS_REPS times with threads switching at
# (nearly) every bytecode (DBSQL_SWITCH_INTERVAL), STRESS_JOBS repetitions in
# parallel; it stops at the first failure, printing the seed and the test.
STRESS_REPS ?= 20
STRESS_JOBS ?= 2

.PHONY: stress chaos

stress: $(STAMP)
	$(PY) -m tests.stress --reps $(STRESS_REPS) --jobs $(STRESS_JOBS)

# make chaos: tests/test_chaos.py at full size (16 threads x 2,000 operations per
# driver flavour); DBSQL_CHAOS_SEED=<seed> replays a run.
chaos: $(STAMP)
	DBSQL_CHAOS_SIZE=full $(PY) -m pytest -s -p no:cacheprovider tests/test_chaos.py
