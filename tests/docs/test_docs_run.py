"""Docs that run (issue 33): every fenced command and snippet in the Markdown docs is executed.

Each ``bash``/``sh``, ``python`` and ``yaml`` block of the docs listed in :data:`DOCS` is a test.
A block runs unless the line just above its fence says otherwise:

* ``<!-- docs-test: slow (why) -->``: long (a course build, a big world): it runs with
  ``--runslow`` (``make docs-slow``), not in the default ``make test``;
* ``<!-- docs-test: illustrative (why) -->``: not runnable as written (a cluster address,
  a placeholder file, a fragment of a notebook); the reason is required and shown;
* ``<!-- docs-test: pytest (why) -->``: a Python block that is a test file: written to
  ``tests/notebooks/`` of the copy and run by pytest there (so it gets the fixtures of
  ``tests/conftest.py``, e.g. ``executed_notebook``); it must pass and run at least one test.

Blocks run in a fresh copy of the repository's tracked files (``git ls-files``, with the
working tree's contents) sharing the ``.venv``, so a documented command can write where it says
without touching the checkout. Shell blocks run line by line under ``bash -e`` with ``.venv/bin``
first on ``PATH`` (so ``crmlab`` and ``python`` mean the project's); Python blocks run with the
project's interpreter; YAML blocks must parse, and a course configuration must load with
``crmlab build``'s loader. Blocks without a language (file trees, output) are prose.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["README.md", "CONTRIBUTING.md", "docs/instructor_guide.md", "docs/research_at_scale.md",
        "datasets/README.md", "exercises/README.md", "instructor/exercises/README.md",
        "benchmarks/README.md"]
RUNNABLE = {"bash", "sh", "shell", "console", "python", "py", "yaml", "yml"}
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```", re.S | re.M)
MARK = re.compile(r"<!--\s*docs-test:\s*(?P<kind>slow|illustrative|pytest)\s*(?:\((?P<why>[^)]*)\))?\s*-->")
TIMEOUT = 900
#: A slow block (a course build, the quick benchmarks) on a busy 2-core machine: up to an hour.
SLOW_TIMEOUT = 3600

# One worker runs every block, in document order, in one copy: a block may use what an earlier
# block of the same page wrote (a generated world, then the analysis of it).
pytestmark = pytest.mark.xdist_group("docs")


@dataclass(frozen=True)
class Block:
    doc: str
    line: int
    lang: str
    body: str
    mark: str | None
    why: str

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}:{self.lang}"


def blocks(doc: str) -> list[Block]:
    """The fenced blocks of ``doc`` with their marks (from the line just above the fence)."""
    path = ROOT / doc
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    found = []
    for m in FENCE.finditer(text):
        lang = m.group("lang").lower()
        if lang not in RUNNABLE:
            continue
        line = text.count("\n", 0, m.start()) + 1
        above = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        mark = MARK.search(above)
        body = "\n".join(ln[len(m.group("indent")):] for ln in m.group("body").splitlines())
        found.append(Block(doc, line, lang, body, mark.group("kind") if mark else None,
                           (mark.group("why") or "").strip() if mark else ""))
    return found


ALL = [b for doc in DOCS for b in blocks(doc)]


def _params():
    for b in ALL:
        marks = [pytest.mark.slow] if b.mark == "slow" else []
        yield pytest.param(b, id=b.id, marks=marks)


@pytest.fixture(scope="session")
def copy_of_repo(tmp_path_factory) -> Path:
    """The tracked files of the working tree in a temporary folder, sharing the venv."""
    dest = tmp_path_factory.mktemp("docs") / "crmlab"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    # The copy shares the venv: a documented `make ...` must never re-install crmlab from the
    # copy (pip install -e would point the shared venv at this temporary folder, and kernels
    # started elsewhere would import its stale code). The Makefile re-installs when
    # pyproject.toml is newer than the venv's stamp, so the copy's is made older than it.
    stamp = ROOT / ".venv" / ".crmlab-installed"
    if stamp.exists():
        old = stamp.stat().st_mtime - 1
        os.utime(dest / "pyproject.toml", (old, old))
    return dest


def _env(cwd: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{cwd / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("OMP_NUM_THREADS", "1")
    env["MPLBACKEND"] = "Agg"
    return env


def test_every_mark_gives_a_reason():
    unexplained = [b.id for b in ALL if b.mark == "illustrative" and not b.why]
    assert not unexplained, f"say why a block is illustrative: <!-- docs-test: illustrative (why) --> {unexplained}"


@pytest.mark.parametrize("block", list(_params()))
def test_documented_block_runs(block: Block, copy_of_repo: Path):
    if block.mark == "illustrative":
        pytest.skip(f"illustrative: {block.why}")
    cwd = copy_of_repo
    if block.lang in ("yaml", "yml"):
        data = yaml.safe_load(block.body)
        assert data is not None, f"{block.id}: empty YAML"
        if isinstance(data, dict) and ({"parameters", "notebooks"} & set(data)):
            from crmlab.course.cli import load_config

            config = cwd / "docs_config.yaml"
            config.write_text(block.body, encoding="utf-8")
            load_config(config)
        return
    if block.mark == "pytest":
        assert block.lang in ("python", "py"), f"{block.id}: a pytest block must be Python"
        test_file = cwd / "tests" / "notebooks" / f"test_docs_{Path(block.doc).stem.lower()}_{block.line}.py"
        test_file.write_text(block.body + "\n", encoding="utf-8")
        cmd = [str(cwd / ".venv" / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
               str(test_file.relative_to(cwd))]
    elif block.lang in ("python", "py"):
        cmd = [str(cwd / ".venv" / "bin" / "python"), "-c", block.body]
    else:
        script = "set -e\n" + "\n".join(ln for ln in block.body.splitlines() if ln.strip())
        cmd = ["bash", "-c", script]
    timeout = SLOW_TIMEOUT if block.mark == "slow" else TIMEOUT
    done = subprocess.run(cmd, cwd=cwd, env=_env(cwd), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{block.id} failed (exit {done.returncode}):\n{block.body}\n--- stdout\n{done.stdout[-3000:]}"
        f"\n--- stderr\n{done.stderr[-3000:]}"
    )
    if block.mark == "pytest":  # a test file whose tests were all skipped or deselected proves nothing
        assert re.search(r"\b[1-9]\d* passed", done.stdout) and " skipped" not in done.stdout, done.stdout[-2000:]


if __name__ == "__main__":
    for b in ALL:
        sys.stdout.write(f"{b.id:55s} {b.mark or 'runs'} {b.why}\n")
