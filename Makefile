# genre-nbs: the two commands of the README. Each creates .venv and installs the project on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install test reproduce notebooks export clean

$(STAMP): settings.ini setup.py
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 not found (set PYTHON=/path/to/python3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,fast]'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps musicnn==0.1.0  # pretrained weights only: its numpy<1.17 pin cannot resolve
	@touch $(STAMP)

install: $(STAMP)

## make test: sync check, every notebook through nbdev_test, then pytest; ends with `N passed, N failed`
test: install
	$(BIN)/python tests/run_suite.py

## make reproduce: the main job on the embedded synthetic default data (figures/ and figures/results.md)
reproduce: install
	$(BIN)/genre-nbs reproduce

## make notebooks: execute every notebook top to bottom and save its outputs (one progress line per notebook)
notebooks: install
	$(BIN)/python tests/run_notebooks.py

## make export: regenerate genre_nbs/ from nbs/ and strip notebook metadata (run before committing)
export: install
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean

clean:
	rm -rf $(VENV) data/cache data/synthetic
