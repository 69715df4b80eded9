# qualcode: the two commands a new user needs are `make demo` and `make test`.
# Both create .venv with the Python 3.11 found on the machine and install qualcode into it.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
QC     := $(BIN)/qualcode -p $(DEMO_PROJECT)
DEMO_PROJECT := reports/ips-demo.qualcode
SAMPLE := transcripts_sample

.PHONY: demo test venv venv-test clean demo-step1 demo-step2 demo-step3-5 demo-suggest demo-agreement demo-step6 demo-interop

$(BIN)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

venv: $(BIN)/.installed
venv-test: $(BIN)/.installed-test

## make demo: run all six steps on the sample study and write reports/
demo: venv demo-step1 demo-step2 demo-step3-5 demo-suggest demo-agreement demo-step6 demo-interop
	@echo
	@echo "Demo finished. Outputs in reports/:"
	@ls -1 reports/ | grep -v '^ips-demo.qualcode' | sed 's/^/  reports\//'

# Step 1: familiarise
demo-step1: venv
	@mkdir -p reports
	rm -rf $(DEMO_PROJECT) $(DEMO_PROJECT)-wal $(DEMO_PROJECT)-shm $(DEMO_PROJECT).backups
	$(QC) init --codebook codebooks/ips.yaml --language nl
	$(QC) ingest $(SAMPLE)/F1.txt $(SAMPLE)/F2.txt $(SAMPLE)/F3.txt --participants $(SAMPLE)/participants.csv
	$(QC) overview --out reports/overview.md > /dev/null
	$(QC) overview --out reports/overview.xlsx
	$(QC) segments --group F2 --participant P2 --limit 3

# Step 2: generate codes
demo-step2: venv

# Steps 3-5: search, review, define and name themes
demo-step3-5: venv

# Step 2 continued: learnt suggestions and inductive discovery
demo-suggest: venv

# Intercoder agreement (simulated second coder)
demo-agreement: venv

# Step 6: write the report
demo-step6: venv

# Interoperability: REFI-QDA export
demo-interop: venv

## make test: the whole test suite
test: venv-test
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
