# Set-up, demo and tests. Everything installs into ./.venv; nothing is installed at run time.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DATA := data/stdlib-docs.jsonl
DEMO_REFERENCE := data/python-reference.jsonl
# the lowest py-data-juicer of setup.cfg's range, in its own venv (the highest is what .venv resolves to)
LOWEST_DJ := 1.6.0
LOWEST_VENV := .venv-dj160
LOWEST_TESTS := tests/e2e/test_three_sigma.py tests/e2e/test_sweep.py tests/e2e/test_dj_boundary.py

# the audio filters' end-to-end tests, in their own venv: the `audio` extra brings torch (CPU build), which
# Data-Juicer then imports in every process (CUDA checks, free_models after every op), so it stays out of .venv. torchcodec needs FFmpeg's shared
# libraries (4 to 8): .ci/run installs Debian's when they are missing.
AUDIO_VENV := .venv-audio
AUDIO_TESTS := tests/e2e/test_audio.py
AUDIO_TESTS += tests/unit/hooks/test_install_guard.py::test_a_pinned_spec_whose_module_is_installed_installs_nothing

.PHONY: setup demo test test-slow test-cluster test-lowest test-audio test-faults test-statistics bench clean

setup: $(VENV)/.installed $(DEMO_DATA) $(DEMO_REFERENCE)

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgres,multimodal]'
	touch $@

$(DEMO_DATA): | $(VENV)/.installed
	$(BIN)/python -m data_juicer_hpo.demo_data $(DEMO_DATA)

$(DEMO_REFERENCE): | $(VENV)/.installed
	$(BIN)/python -m data_juicer_hpo.demo_data --reference $(DEMO_REFERENCE)

demo: setup
	$(BIN)/dj-process --config configs/demo_3sigma.yaml

# the tests run in parallel: one worker per core plus one (the end-to-end tests spend part of their time waiting on
# dj-process start-up, servers and deliberate sleeps; on 2 cores 3 workers took 5.0 min, 2 workers 5.7), at most 4
# (each end-to-end test starts dj-process, which forks its own workers); worksteal evens out the long tests
PYTEST_PARALLEL := -n $(shell n=$$(nproc); echo $$(( n < 4 ? n + 1 : 4 ))) --dist worksteal

# make test: the unit tests and the main end-to-end runs, about 6 minutes on 2 cores; make test-slow: the long
# end-to-end runs (marker `slow`: faults, Ray, mixtures, the other executors, workers, whole-corpus checks), about
# 12 minutes. CI runs both (.ci/run).
test: setup
	$(BIN)/python -m pytest -q $(PYTEST_PARALLEL) -m 'not slow and not cluster'

test-slow: setup
	$(BIN)/python -m pytest -q $(PYTEST_PARALLEL) -m 'slow and not cluster'

# the Ray executor on a multi-node cluster on this machine (a head and two worker nodes, each its own raylet and
# object store, in a private network namespace): serial, as each test starts its own cluster; CI runs it
test-cluster: setup
	$(BIN)/python -m pytest -q -m cluster

# the end-to-end 3sigma and sweep tests on the lowest declared Data-Juicer (CI runs both)
$(LOWEST_VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(LOWEST_VENV)
	$(LOWEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOWEST_VENV)/bin/python -m pip install --quiet -e '.[test,postgres]' 'py-data-juicer==$(LOWEST_DJ)'
	touch $@

test-lowest: $(LOWEST_VENV)/.installed $(DEMO_DATA) $(DEMO_REFERENCE)
	$(LOWEST_VENV)/bin/python -m pytest -q $(PYTEST_PARALLEL) -m 'e2e and not corpus and not ray' $(LOWEST_TESTS)

$(AUDIO_VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(AUDIO_VENV)
	$(AUDIO_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(AUDIO_VENV)/bin/python -m pip install --quiet -e '.[test,audio]'
	touch $@

# DJ_HPO_AUDIO_REQUIRED: a missing audio package or FFmpeg library fails these tests instead of skipping them.
# Serial: 5 tests, 47 s; on 2 workers 52 s (each worker imports torch; each test's dj-process forks its own workers)
test-audio: $(AUDIO_VENV)/.installed
	DJ_HPO_AUDIO_REQUIRED=1 $(AUDIO_VENV)/bin/python -m pytest -q $(AUDIO_TESTS)

# the concurrency stress test of issue 20, 20 times (make test runs it once): three dj-process runs of two local
# workers each on one 24-point grid study, the PostgreSQL server restarted every 2-2.5 s; every point exactly once,
# no traceback. Serial (each repetition starts 3 runs, 6 workers); about 80 s per repetition on 2 shared cores.
test-faults: setup
	DJ_HPO_STRESS_REPEATS=20 $(BIN)/python -m pytest -q tests/e2e/test_faults_concurrent.py

# every vectorised statistic against its op on the whole bench corpus (../shared/data), not only the head that
# make test compares: 45,111 documents, eleven filters, several minutes (the ops' own loops are the slow part)
test-statistics: setup
	DJ_HPO_WHOLE_CORPUS=1 $(BIN)/python -m pytest -q tests/unit/ops/test_vectorised.py -k whole_bench_corpus

bench: setup
	$(BIN)/python bench/bench_3sigma.py

clean:
	rm -rf outputs $(DEMO_DATA) $(DEMO_REFERENCE)
