# Set-up, demo and tests. Everything installs into ./.venv; nothing is installed at run time.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DATA := data/stdlib-docs.jsonl
DEMO_REFERENCE := data/python-reference.jsonl

.PHONY: setup demo test bench clean

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

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/bench_3sigma.py

clean:
	rm -rf outputs $(DEMO_DATA) $(DEMO_REFERENCE)
