# The README's two commands: `make demo` and `make test`. Both create .venv on first use and
# reinstall only when pyproject.toml changes.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.vidcls-installed

.PHONY: install demo test bench clean
install: $(STAMP)

$(STAMP): pyproject.toml
	scripts/ensure-ffmpeg
	scripts/ensure-chromium
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	# torch first and alone, so pip takes the local/wheel-cached build instead of resolving it twice
	$(BIN)/python -m pip install -qq "torch==2.14.1" "torchvision==0.29.1"
	$(BIN)/python -m pip install -qq -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vidcls demo --out runs/demo

# the layer contract (import-linter), the linter (ruff), then the tests
test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/data_pipeline.py

clean:
	rm -rf runs lightning_logs .pytest_cache
