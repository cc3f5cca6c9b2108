# GAN Studio — two commands do everything on a fresh machine:
#   make run    set up .venv (first time) and open the GAN Studio window on the embedded default (ring8)
#   make test   set up .venv (first time) and run the test suite (headless, offscreen Qt);
#               make test PYTEST_ARGS='-m "not slow"' leaves out the long training runs (a quick local pass)
# VENV can point elsewhere (CI keeps one outside the clone, keyed by pyproject.toml's hash).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The stamp changes when pyproject.toml or the checkout's path changes (editable installs point at it).
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-10)-$(shell echo "$(CURDIR)" | sha1sum | cut -c1-8)
RUN_ARGS ?=
PYTEST_ARGS ?=

.PHONY: setup run test bench bundle clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@rm -f $(VENV)/.installed-*
	@touch $@

run: setup
	$(BIN)/gan-studio --preset ring8 $(RUN_ARGS)

test: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) runs build dist *.egg-info

bundle: setup
	VENV=$(VENV) packaging/build.sh
