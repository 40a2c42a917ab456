# The book's two everyday commands are `make book` and `make test` (see README.md).
# Both create .venv when it is missing and install `lib` with its dependencies into it.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch: a CPU build when one lies in pip's local wheel folder (as on the project's CI machines),
# otherwise whatever `pip install torch` gives on this platform. Override, e.g. for a CPU-only
# laptop: make TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cpu"
CPU_TORCH_WHEEL := $(firstword $(wildcard /opt/wheels/torch-*+cpu-*.whl))
TORCH_SPEC ?= $(if $(CPU_TORCH_WHEEL),$(CPU_TORCH_WHEEL),torch>=2.4)
# glibc malloc tunables: fewer page faults on large tensors (measure with bench/train_step.py).
export GLIBC_TUNABLES ?= glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=17179869184
# Executed notebooks: no widget progress bars; sliders become live decoders in the page (lib/live.py).
EXEC_ENV := BOOK_NO_PROGRESS=1 BOOK_STATIC=1 BOOK_OFFLINE=1
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
BOOK_FLAGS := --toc book/_toc.yml --config book/_config.yml --path-output book -W -n --keep-going

.PHONY: help install chromium book test test-fast lint execute lab student course sweep clean distclean

help:
	@echo "make book     build the HTML book from the notebooks' stored outputs -> book/_build/html"
	@echo "make test     lint, import contracts, unit tests, notebooks in quick mode, book build"
	@echo "make lint     ruff (lint + format check) and the import contracts of lib"
	@echo "make test-fast  lint and the unit tests, without notebooks, the book and the tests marked slow"
	@echo "make execute  re-execute every notebook in full mode, writing outputs back (maintainers:"
	@echo "              a model it trains replaces the shipped checkpoint, BOOK_SAVE=shipped)"
	@echo "make student  student copies (no solutions, no outputs) -> student/, reader copies"
	@echo "              (outputs, solutions, numbers pasted in) -> book/readers/, and from"
	@echo "              instructor/ each chapter's graded assignment, its autograder and the"
	@echo "              instructor's pack (solutions, rubrics, syllabus) -> course/"
	@echo "make course   the same build in a light environment of its own (.venv-course:"
	@echo "              otter-grader and myst-nb, no torch): for a teacher who needs no more"
	@echo "make sweep GRID=pmp|torus|atomic [ARGS=...]  a grid of training runs on Ray Tune"
	@echo "              (experiments/sweep.py; ARGS e.g. \"--threads 1 --out runs/pmp\")"
	@echo "make lab      start JupyterLab in this environment (MyST rendered by jupyterlab-myst)"
	@echo "make clean    remove build outputs; make distclean also removes .venv"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -qq "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -qq -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	touch $@

install: $(VENV)/.installed

book: install
	$(BIN)/jupyter-book build . $(BOOK_FLAGS)
	@echo "The book is at $(CURDIR)/book/_build/html/index.html"

test: install lint chromium
	$(EXEC_ENV) $(BIN)/python -m pytest

# The browser test (tests/test_book_browser.py) drives Debian's Chromium. Installed with apt-get
# when missing and allowed (root, as on CI); otherwise the test is skipped and says why.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v "$$BOOK_CHROMIUM" >/dev/null 2>&1 || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium with apt-get (for the browser test)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends chromium >/dev/null) || \
		echo "apt-get could not install chromium: the browser test will be skipped"; \
	else \
		echo "no chromium and no apt-get as root here: the browser test will be skipped"; \
	fi

# Style (ruff: lint + format, notebooks included) and the layering of lib (import-linter contracts).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test-fast: install lint
	$(BIN)/python -m pytest -m "not notebook and not book and not slow"

execute: install
	@for nb in $(NOTEBOOKS); do \
		echo "== $$nb"; \
		$(EXEC_ENV) BOOK_SAVE=shipped $(BIN)/papermill --kernel python3 --cwd notebooks "$$nb" "$$nb" || exit 1; \
		$(BIN)/python -m lib.nbtools clean "$$nb" || exit 1; \
	done

# Student copies of every chapter -> student/ and reader copies -> book/readers/notebooks/
# (both committed, kept in sync by tests), and from instructor/assignments/ each chapter's
# graded assignment, autograder and the instructor's pack -> course/ (generated): otter
# assign, see lib/course.py. `python -m lib.course check` grades solutions and wrong answers.
student: install
	$(BIN)/python -m lib.course build

# The same build for a teacher who needs no more: a light environment of its own (otter-grader
# and myst-nb, no torch, Ray, Playwright or ONNX; building executes no notebook), in .venv-course.
COURSE_VENV := .venv-course
$(COURSE_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(COURSE_VENV)
	$(COURSE_VENV)/bin/python -m pip install -qq --upgrade pip
	$(COURSE_VENV)/bin/python -m pip install -qq "otter-grader>=6.0" "myst-nb>=1.0"
	touch $@

course: $(COURSE_VENV)/.installed
	PYTHONPATH=. $(COURSE_VENV)/bin/python -m lib.course build

# A grid of training runs as a Ray Tune experiment (experiments/sweep.py): embedded Ray here,
# the cluster at RAY_ADDRESS when set. make sweep GRID=torus ARGS="--threads 1"
GRID ?= pmp
ARGS ?=
sweep: install
	$(BIN)/python experiments/sweep.py $(GRID) $(ARGS)

lab: install
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf book/_build .pytest_cache .test-artifacts course
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(COURSE_VENV)
