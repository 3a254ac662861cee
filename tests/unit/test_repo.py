"""The two-command promise: README's Quick start, the Makefile targets and CI agree."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_readme_quick_start_puts_students_first():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    assert blocks[0].strip().splitlines() == ["make lab"]  # students: one command
    assert blocks[1].strip().splitlines() == ["make materials", "make test"]  # instructors, CI


def test_ci_runs_make_test():
    ci = ROOT / ".ci" / "run"
    assert os.access(ci, os.X_OK), ".ci/run must be executable"
    text = ci.read_text()
    assert text.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in text
    assert re.search(r"^make test$", text, re.M)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_makefile_targets_and_parameter_passing():
    def dry(*args: str) -> str:
        done = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True)
        return done.stdout

    out = dry("materials", 'PARAMS=-p SEED 7 -p DATA medium', "CONFIG=course.yaml", "JOBS=3")
    assert "crmlab build -p SEED 7 -p DATA medium --config course.yaml --jobs 3 --out build" in out
    assert "crmlab exercises release --out build/exercises" in out
    assert "crmlab notebooks 02_rfm_and_value" in dry("notebooks", "NB=02_rfm_and_value")
    test = dry("test")
    # the tiers, then nbval, each with JOBS pytest-xdist workers grouped as conftest/nbval need
    assert "-m pytest -n 2 -p no:cacheprovider --dist loadgroup --no-loadscope-reorder tests/unit" in test
    assert "--dist loadfile --nbval-lax" in test and "nbval_sanitize.cfg notebooks/00_welcome.ipynb" in test
    assert test.index("--dist loadgroup") < test.index("--nbval-lax")
    assert "-n 3 " in dry("test", "JOBS=3")
    assert "benchmarks/run.py --quick" in dry("bench", "QUICK=1")
    lab = dry("lab")
    assert "crmlab workspace --out workspace" in lab and "--ServerApp.root_dir=workspace" in lab
    assert "/lab/tree/notebooks/00_welcome.ipynb" in lab
    assert "ruff check" in dry("lint")
