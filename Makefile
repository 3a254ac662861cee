# crmlab — every target bootstraps .venv itself (needs only python3 and make).
#
#   make materials [LANG=zh-TW]   regenerate the course into build/ (site, executed notebooks,
#                                 manifest, student exercises, lecture decks)
#   make slides [NB=05]           reveal.js decks of the committed notebooks into build/slides/
#   make test                     the default test tiers + nbval on the committed notebooks
#                                 (JOBS pytest-xdist workers)
#   make lab [LAB_ARGS=--no-browser]      JupyterLab on your own copy (workspace/), at 00_welcome
#   make demo NB=07               a live what-if demo (demos/07_*_demo.ipynb) as an app: Voila
#                                 when installed, else JupyterLab (LAB_ARGS as for lab)
#   make workspace                add new course notebooks to workspace/ (never overwrites)
#   make exercises                regenerate the committed student exercises (exercises/, from
#                                 instructor/exercises/) and the course maps (README, 00)
#   make notebooks [NB=02_rfm_and_value]   re-execute committed notebooks in place (defaults)
#   make bench [QUICK=1]          benchmarks (QUICK=1: a smoke run into build/bench-quick/)
#   make worlds [WORLDS="small-7 tiny-7"] [NB="05 11"]   the course in many worlds; writes
#                                 benchmarks/results/worlds.md (all worlds and notebooks)
#   make lint                     ruff
#
# Parameters: make materials PARAMS="-p SEED 7 -p DATA medium"  or  CONFIG=course.yaml,
#             JOBS=2 runs two notebooks at a time; STUDENTS=roster.csv releases one
#             exercise variant per student.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.crmlab-installed
JOBS   ?= 2
PARAMS ?=
CONFIG ?=
NB     ?=
STUDENTS ?=
QUICK  ?=
OUT    ?= build
LAB_ARGS ?=

# One BLAS/OpenMP thread per process: notebooks and tests run JOBS processes side by side on a
# small machine, where nested threads make clustering and ALS many times slower.
OMP_NUM_THREADS ?= 1
OPENBLAS_NUM_THREADS ?= 1
MKL_NUM_THREADS ?= 1
export OMP_NUM_THREADS OPENBLAS_NUM_THREADS MKL_NUM_THREADS

ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
TEST_DIRS := $(wildcard tests/unit tests/robustness tests/notebooks tests/exercises tests/worlds tests/benchmarks tests/browser tests/docs)
NBVAL_OPTS := --nbval-lax --nbval-current-env --nbval-sanitize-with tests/notebooks/nbval_sanitize.cfg

.PHONY: help install student-wheel workspace lab demo exercises materials slides browser-deps fonts notebooks worlds test test-tiers test-unit test-nbval bench lint clean

help:
	@sed -n "1,22p" Makefile

# (Re)create the virtual environment when it is missing or pyproject.toml changed.
# Bytecode is compiled at install time (pip's default, plus crmlab itself): every notebook
# kernel and test worker imports pandas, scipy and scikit-learn, and where
# PYTHONDONTWRITEBYTECODE is set (as on CI machines) nothing would ever cache the compiled
# modules, so each process would compile them again.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,scale]"
	$(BIN)/python -m compileall -q crmlab
	@touch $@

install: $(STAMP) fonts

# The student's own copy of the course (ignored by git): created on the first `make lab`, then
# only what it lacks is added (new course notebooks); a student's files are never overwritten.
WORKSPACE ?= workspace

workspace: $(STAMP)
	$(BIN)/crmlab workspace --out $(WORKSPACE)

lab: workspace
	JUPYTERLAB_SETTINGS_DIR=$(abspath $(WORKSPACE))/.jupyterlab-settings $(BIN)/jupyter lab --ServerApp.root_dir=$(WORKSPACE) \
		--LabApp.default_url=/lab/tree/notebooks/00_welcome.ipynb $(ROOT_FLAG) $(LAB_ARGS)

# A live what-if demo as an app (demos/NN_*_demo.ipynb, crmlab.demos; NB=07 or
# NB=07_dynamic_pricing): Voila when it is installed (an optional extra: pip install voila),
# else JupyterLab opened at the demo. Moving a slider needs a running kernel: the site and
# a notebook viewer show the demo's chart at its defaults instead.
DEMO_FILES := $(wildcard demos/[0-9][0-9]_*_demo.ipynb)
DEMO_NB = $(firstword $(wildcard demos/$(firstword $(subst _, ,$(NB)))_*_demo.ipynb))
# JupyterLab settings of the demo app: no autosave, so the committed demo keeps its outputs
DEMO_SETTINGS := $(abspath $(OUT))/demo-settings

demo: $(STAMP)
	@test -n "$(DEMO_NB)" || { echo "make demo NB=NN with NN one of: $(foreach f,$(DEMO_FILES),$(firstword $(subst _, ,$(notdir $(f)))))"; exit 2; }
	@if [ -x $(BIN)/voila ]; then \
		echo "voila $(DEMO_NB)"; $(BIN)/voila $(DEMO_NB) $(LAB_ARGS); \
	else \
		echo "JupyterLab at $(DEMO_NB) (pip install voila to serve it as a plain app)"; \
		mkdir -p $(DEMO_SETTINGS)/@jupyterlab/docmanager-extension && \
		echo '{"autosave": false}' > $(DEMO_SETTINGS)/@jupyterlab/docmanager-extension/plugin.jupyterlab-settings && \
		JUPYTERLAB_SETTINGS_DIR=$(DEMO_SETTINGS) $(BIN)/jupyter lab --ServerApp.root_dir=. \
			--LabApp.default_url=/lab/tree/$(DEMO_NB) $(ROOT_FLAG) $(LAB_ARGS); \
	fi

# The student versions committed in exercises/ (solutions removed; each unanswered exercise
# says "not answered yet") from the solution sources in instructor/exercises/, and the course
# map (crmlab/course/course_map.py) in README.md and in notebook 00 (re-executed). Run after editing
# a source or COURSE_MAP; the exercise tests fail while any of them is stale.
exercises: $(STAMP)
	$(BIN)/crmlab exercises release --out exercises
	$(BIN)/python -m crmlab.course.course_map --write README.md
	$(BIN)/crmlab notebooks 00_welcome --jobs 1

# make materials LANG=zh-TW: the 繁體中文 edition into $(OUT)/zh-TW/ (docs/translating.md). LANG is
# also the locale variable of the shell, so only an edition's name counts here, and the
# recipes get a plain UTF-8 locale back.
EDITION := $(filter zh-TW,$(LANG))
ifneq ($(EDITION),)
override LANG := C.UTF-8
export LANG
endif

materials: $(STAMP) fonts
	$(BIN)/crmlab exercises release --out $(OUT)/exercises $(if $(STUDENTS),--students $(STUDENTS))
	$(BIN)/crmlab build $(PARAMS) $(if $(CONFIG),--config $(CONFIG)) --jobs $(JOBS) --out $(OUT) --slides \
		$(if $(EDITION),--lang $(EDITION))

# Lecture decks from the committed notebooks (their outputs at the defaults; nothing is
# executed): build/slides/NN_topic.html, MathJax and reveal.js in build/assets/. For decks of
# another world: make materials PARAMS="-p SEED 7" (crmlab build --slides).
slides: $(STAMP)
	$(BIN)/crmlab slides build $(NB) --out $(OUT)

# Debian packages installed when missing, as root with apt-get; otherwise a line says what is
# missing and what happens without it. $(1) packages, $(2) who needs them, $(3) without them.
define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "$(2): installing" $$missing; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends $$missing; } >/dev/null \
				|| echo "$(2): could not install" $$missing "($(3))"; \
		else echo "$(2): missing" $$missing "and not root ($(3))"; fi; \
	fi
endef

# The browser tier (tests/browser) drives Debian's chromium; it and fonts-noto-cjk (the pages'
# Chinese) are installed here when missing. Without them the tier skips and says why; nothing
# else depends on them.
BROWSER_PACKAGES := chromium fonts-noto-cjk

browser-deps:
	$(call apt_install,$(BROWSER_PACKAGES),browser tests,tests/browser will skip)

# Chinese in figures (titles such as RFM分析, the 繁體中文 edition): crmlab.plots falls back to
# Noto Sans CJK for CJK glyphs (make install and make materials install it when missing).
FONT_PACKAGES := fonts-noto-cjk

fonts:
	$(call apt_install,$(FONT_PACKAGES),Chinese in figures,figures show empty boxes for Chinese)

# crmlab for an exam machine: the wheel of the package alone. The answer functions live in
# instructor/answers/ of the repository, outside the package, so no wheel carries them (released
# exam notebooks never load them); the check below proves it. Install it on the students' image.
student-wheel: $(STAMP)
	rm -rf $(OUT)/student-src && mkdir -p $(OUT)/student-src $(OUT)/dist
	git ls-files -z crmlab pyproject.toml README.md | xargs -0 cp --parents -t $(OUT)/student-src
	$(BIN)/python -m pip wheel --quiet --no-deps -w $(OUT)/dist $(OUT)/student-src
	@! unzip -l $(OUT)/dist/crmlab-*.whl | grep -q "answers/unit" && \
		echo "$(OUT)/dist: crmlab wheel without the answer code"

notebooks: $(STAMP)
	$(BIN)/crmlab notebooks $(NB) --jobs $(JOBS)

# The world sweep: every notebook in every world (crmlab/course/worlds.py), written to the committed
# matrix benchmarks/results/worlds.md. WORLDS= / NB= run a part of it and MERGE the new runs
# into the last sweep's outcomes (build/worlds/outcomes.json) before writing the matrix.
WORLDS ?=
worlds: $(STAMP)
	$(BIN)/crmlab worlds $(if $(WORLDS),--world $(WORLDS)) $(if $(NB),--only $(NB)) --jobs $(JOBS) \
		$(if $(WORLDS)$(NB),--merge) --out $(OUT)/worlds --matrix benchmarks/results/worlds.md

# `make test`: the test tiers, then nbval on the committed notebooks, each with JOBS pytest-xdist
# workers. tests/conftest.py keeps the tests of one executed notebook in one worker (its own
# loadgroup scheduler; --no-loadscope-reorder keeps its longest-first order);
# nbval keeps the cells of one notebook in one worker (loadfile). test-unit and test-nbval run
# one half each.
NOTEBOOK_FILES := $(wildcard notebooks/[0-9][0-9]_*.ipynb)
XDIST := -n $(JOBS) -p no:cacheprovider

test: test-tiers test-nbval

test-tiers: $(STAMP) browser-deps
	$(if $(TEST_DIRS),$(BIN)/python -m pytest $(XDIST) --dist loadgroup --no-loadscope-reorder $(TEST_DIRS),@echo "no test folders yet")

test-unit: $(STAMP) browser-deps
	$(if $(TEST_DIRS),$(BIN)/python -m pytest $(TEST_DIRS),@echo "no test folders yet")

# nbval re-runs each committed notebook (and each demo notebook) at its defaults and compares
# the outputs marked for it.
test-nbval: $(STAMP)
	$(if $(NOTEBOOK_FILES)$(DEMO_FILES),$(BIN)/python -m pytest $(XDIST) --dist loadfile $(NBVAL_OPTS) $(NOTEBOOK_FILES) $(DEMO_FILES),@echo "no notebooks yet")

# One notebook: make nbval/03_customer_journey
NBVAL_NOTEBOOKS := $(patsubst notebooks/%.ipynb,nbval/%,$(NOTEBOOK_FILES))

$(NBVAL_NOTEBOOKS): nbval/%: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider $(NBVAL_OPTS) notebooks/$*.ipynb

.PHONY: $(NBVAL_NOTEBOOKS)

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(if $(filter-out 0,$(QUICK)),--quick)

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(OUT) .pytest_cache
