"""Generic tests of every exercise notebook, and of per-student variants.

The solution sources are instructor/exercises/*.ipynb; their student versions are committed
in exercises/ (where the course maps and the notebooks' navigation cells point).
For each solution notebook:
- it executes at test parameters (DATA="tiny") and every check it makes passes, covering
  every question id its source checks, each check printing its verdict once;
- its released student version holds no solution text, no rubric, no hidden test, no output;
- the committed student version is what releasing the source gives now (not stale);
- the student version runs to the end (Run All): no error output, and every check says
  "not answered yet" once, with no True/False echo;
- with every second exercise answered it still runs to the end and those pass: no exercise
  silently needs an earlier answer (the few that build on an earlier exercise's code say so).
For the unit-0 warm-up: two roster students get different seeds, data and answer keys, and
each key equals what the solution notebook computes on that student's variant.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

import crmlab.exercises as ex
from crmlab.course.build import NotebookExecutionError, execute_notebook
from crmlab.course.exercises.release import (
    ALL_MARKERS,
    BEGIN_HIDDEN,
    BEGIN_MARK_SCHEME,
    BEGIN_SOLUTION,
    CHECK_CALL_RE,
    CODE_STUB,
    END_HIDDEN,
    END_MARK_SCHEME,
    END_SOLUTION,
    SOURCE_FOLDER,
    STUDENT_FOLDER,
)

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = ROOT / SOURCE_FOLDER  # the solution sources (instructors)
STUDENT = ROOT / STUDENT_FOLDER  # their committed student versions
NOTEBOOKS = sorted(EXERCISES.glob("[0-9][0-9]_*.ipynb"))
TEST_PARAMS = {"DATA": "tiny"}
WARMUP = EXERCISES / "00_warmup_exercises.ipynb"


def _ids(paths):
    return [p.stem for p in paths]


@pytest.fixture(scope="module")
def executed_solutions(tmp_path_factory):
    """Execute each solution notebook once per module; cache the result or the error."""
    out_dir = tmp_path_factory.mktemp("solutions")
    cache: dict[Path, object] = {}

    def run(path: Path):
        if path not in cache:
            out = out_dir / path.name
            try:
                execute_notebook(path, out, TEST_PARAMS, cwd=EXERCISES)
                cache[path] = nbformat.read(out, as_version=4)
            except NotebookExecutionError as exc:
                cache[path] = exc
        if isinstance(cache[path], Exception):
            pytest.fail(f"{path.name} at {TEST_PARAMS}:\n{cache[path]}", pytrace=False)
        return cache[path]

    return run


def _regions(text: str, begin: str, end: str) -> list[str]:
    """The text between every begin/end marker pair of ``text``."""
    pattern = re.escape(begin) + r"[^\n]*\n(.*?)^[ \t]*" + re.escape(end)
    return re.findall(pattern, text, flags=re.S | re.M)


def _secret_lines(nb) -> set[str]:
    """Lines that only the instructor may see: solutions, hidden tests, rubrics, hidden cells.

    Lines that also occur in the public part of the notebook (e.g. a bare ``)``) are not
    secrets; neither are short lines that could be written independently.
    """
    secret, public = set(), set()
    for cell in nb.cells:
        text = cell.source
        if "hidden" in cell.metadata.get("tags", []):
            secret.update(text.splitlines())
            continue
        hidden = (_regions(text, BEGIN_SOLUTION, END_SOLUTION)
                  + _regions(text, BEGIN_HIDDEN, END_HIDDEN)
                  + _regions(text, BEGIN_MARK_SCHEME, END_MARK_SCHEME))
        for region in hidden:
            secret.update(region.splitlines())
            text = text.replace(region, "")
        public.update(text.splitlines())
    return {s.strip() for s in secret if len(s.strip()) >= 12} - {p.strip() for p in public}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_follows_the_conventions(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    assert re.search(r"^DATA\s*=", params[0].source, re.M) and re.search(
        r"^SEED\s*=", params[0].source, re.M), "the parameters cell sets DATA and SEED"
    text = "\n".join(c.source for c in nb.cells)
    assert re.search(r"start\(\s*[\"']" + path.stem[:2], text), (
        "the setup cell calls crmlab.exercises.start('NN_...', data=DATA, seed=SEED)")
    ids = ex.question_ids(nb)
    assert len(ids) >= 5, f"{path.name} checks only {len(ids)} questions; the issue asks >= 5"
    for qid in ids:
        q = ex.get_question(qid)
        assert q.unit == path.stem[:2], f"{qid} is registered in unit {q.unit}, not {path.stem[:2]}"
        assert q.hint, f"{qid} has no hint"
    assert BEGIN_MARK_SCHEME in text, "at least one open-ended exercise with rubric notes"
    assert all(p.stem.endswith("_exercises") for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_solution_executes_and_every_check_passes(path, executed_solutions):
    executed = executed_solutions(path)
    checks = ex.read_checks(executed)
    expected_ids = ex.question_ids(nbformat.read(path, as_version=4))
    failed = [c["question_id"] for c in checks if not c["passed"]]
    assert not failed, f"checks failing on the solution: {failed}"
    assert {c["question_id"] for c in checks} == set(expected_ids), "every check ran"
    n_calls = sum(len(CHECK_CALL_RE.findall(c.source))
                  for c in executed.cells if c.cell_type == "code")
    assert len(checks) >= n_calls
    for cell in executed.cells:  # the verdict once: no True/False echo under the cell
        if cell.cell_type == "code" and cell.source.rstrip().splitlines()[-1:] and \
                CHECK_CALL_RE.match(cell.source.rstrip().splitlines()[-1]):
            assert not [o for o in cell.outputs if o["output_type"] == "execute_result"], (
                f"a check echoes its value: {cell.source.splitlines()[-1]}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_student_version_has_no_solution(path, tmp_path):
    source = nbformat.read(path, as_version=4)
    info = ex.release(path, tmp_path / path.name)
    assert info.solutions >= 5
    student = nbformat.read(tmp_path / path.name, as_version=4)
    raw = json.dumps(student, ensure_ascii=False)
    for marker in ALL_MARKERS:
        assert marker not in raw
    text = "\n".join(c.source for c in student.cells)
    leaked = [line for line in _secret_lines(source) if line in text]
    assert not leaked, f"solution text in the student version: {leaked[:3]}"
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")
    assert not any("hidden" in c.metadata.get("tags", []) for c in student.cells)
    code_text = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    assert "NotImplementedError" not in code_text
    assert code_text.count(CODE_STUB[0]) == sum(
        len(_regions(c.source, BEGIN_SOLUTION, END_SOLUTION))
        for c in source.cells if c.cell_type == "code"
        and "hidden" not in c.metadata.get("tags", []))
    assert set(ex.question_ids(student)) == set(ex.question_ids(source, include_hidden=False))


def test_committed_student_versions_are_current(tmp_path):
    """exercises/ holds exactly the student versions that releasing the sources gives now
    (after editing a source: make exercises), and nothing else a student must not see."""
    ex.release_all(EXERCISES, tmp_path)
    fresh = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in STUDENT.iterdir() if not p.name.startswith("."))
    assert committed == sorted([*fresh, "README.md"]), "run: make exercises"
    stale = [name for name in fresh
             if (tmp_path / name).read_bytes() != (STUDENT / name).read_bytes()]
    assert not stale, f"stale student versions in exercises/: {stale}; run: make exercises"


def test_committed_folder_takes_no_variants_or_keys(tmp_path):
    with pytest.raises(ValueError, match="committed for every student"):
        ex.release_all(EXERCISES, STUDENT, seed=7)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_student_version_runs_to_the_end(path, tmp_path):
    """Run All on the committed student version: no error output; every exercise says
    "not answered yet" once (no traceback, no True/False echo); nothing is judged."""
    student = STUDENT / path.name
    execute_notebook(student, tmp_path / "run.ipynb", TEST_PARAMS, cwd=STUDENT)
    run = nbformat.read(tmp_path / "run.ipynb", as_version=4)
    outputs = [o for c in run.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert not [o for o in outputs if o.get("name") == "stderr" and "Traceback" in o["text"]]
    checks = ex.read_checks(run)
    ids = ex.question_ids(nbformat.read(student, as_version=4))
    assert [c["question_id"] for c in checks] == ids, "every exercise's check ran, in order"
    assert all(c["answered"] is False and c["passed"] is None for c in checks)
    shown = [o["data"]["text/plain"] for o in outputs if ex.CHECK_MIMETYPE in o.get("data", {})]
    assert len(shown) == len(ids)
    assert all("not answered yet" in text for text in shown)
    echoes = [o for c in run.cells if c.cell_type == "code" and CHECK_CALL_RE.search(c.source)
              for o in c.outputs if o["output_type"] == "execute_result"]
    assert not echoes, "a check cell echoes True/False"


#: Exercises whose task says they build on an earlier exercise's own code (a function or a
#: table it extends), so they cannot start from a provided input: question -> prerequisites.
REQUIRES = {
    "clv_holdout_forecast": ("clv_bgnbd_params",),  # exercise 3's fit_bgnbd
    "clv_top_decile_share": ("clv_holdout_forecast",),  # exercise 5's expected_purchases
    "after_return_rate_by_category": ("after_return_rate",),  # adds to exercise 1's lines
}


def _solutions(source) -> dict[str, str]:
    """``{question_id: model solution}`` of the checked exercises, in order."""
    found = {}
    for cell in source.cells:
        ids = CHECK_CALL_RE.findall(cell.source)
        region = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S)
        if cell.cell_type == "code" and ids and region:
            found[ids[0]] = region.group(1)
    return found


def _exercise_numbers(source) -> dict[str, tuple[int, str]]:
    """``{question_id: (exercise number, its task text)}`` from the ``## Exercise N`` headings."""
    found, number, task = {}, 0, ""
    for cell in source.cells:
        heading = re.search(r"^## Exercise (\d+)", cell.source, re.M)
        if cell.cell_type == "markdown" and heading:
            number, task = int(heading.group(1)), cell.source
        for qid in CHECK_CALL_RE.findall(cell.source) if cell.cell_type == "code" else ():
            found.setdefault(qid, (number, task))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_each_exercise_can_be_done_on_its_own(path, tmp_path):
    """The student version with every second exercise answered (the model solution) and the
    others left as released: no error; the answered ones pass, the others say not answered.
    So no exercise silently needs an earlier one; those in REQUIRES say so in their task."""
    from crmlab.course.exercises.release import STUB_RE

    source = nbformat.read(path, as_version=4)
    solutions = _solutions(source)
    numbers = _exercise_numbers(source)
    answered, todo = set(), list(solutions)[1::2]
    while todo:  # every second exercise, and what those say they build on
        qid = todo.pop()
        answered.add(qid)
        for need in REQUIRES.get(qid, ()):
            todo.append(need)
            assert f"exercise {numbers[need][0]}" in numbers[qid][1].lower(), (
                f"{qid}'s task must say it builds on exercise {numbers[need][0]}")
    student = nbformat.read(STUDENT / path.name, as_version=4)
    for cell in student.cells:
        stub = STUB_RE.search(cell.source) if cell.cell_type == "code" else None
        ids = CHECK_CALL_RE.findall(cell.source)
        if stub and ids and ids[0] in answered:
            cell.source = (cell.source[:stub.start()] + solutions[ids[0]].rstrip("\n")
                           + cell.source[stub.end():])
    half = tmp_path / path.name
    nbformat.write(student, half)
    execute_notebook(half, tmp_path / "run.ipynb", TEST_PARAMS, cwd=STUDENT)
    checks = ex.read_checks(tmp_path / "run.ipynb")
    assert {c["question_id"] for c in checks if c["passed"] is True} == answered
    assert all(c.get("answered") is False for c in checks if c["question_id"] not in answered)


def test_roster_variants_differ_and_keys_match_the_solution(tmp_path, monkeypatch):
    """Two students: different seeds, data and keys; each key = the solution on its variant."""
    from crmlab.data import get_shop

    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name\nA01,Ann\nB02,Ben\n", encoding="utf-8")
    out = tmp_path / "release"
    ex.release_all(EXERCISES, out, students=roster, only=["00"], data="tiny")
    seeds = {sid: ex.student_seed(sid) for sid in ("A01", "B02")}
    assert seeds["A01"] != seeds["B02"]
    shops = {sid: get_shop("tiny", seed=s) for sid, s in seeds.items()}
    assert not shops["A01"].orders["amount"].equals(shops["B02"].orders["amount"])
    key_files = {sid: ex.read_key(out / "_answer_keys" / f"{sid}.csv") for sid in seeds}
    differing = [q for q in key_files["A01"]
                 if not ex.compare(key_files["A01"][q], key_files["B02"][q]).ok]
    assert len(differing) >= 3, f"variants should change most answers, only {differing} differ"

    for sid, seed in seeds.items():
        log = tmp_path / f"{sid}.jsonl"
        monkeypatch.setenv(ex.LOG_ENV, str(log))
        execute_notebook(WARMUP, tmp_path / f"{sid}.ipynb", {"DATA": "tiny", "SEED": seed},
                         cwd=EXERCISES)
        entries = ex.read_log(log)
        assert entries and all(e["passed"] for e in entries)
        key = key_files[sid]
        assert {e["question_id"] for e in entries} == set(key)
        for entry in entries:
            verdict = ex.get_question(entry["question_id"]).judge(entry["answer"],
                                                                  key[entry["question_id"]])
            assert verdict.ok, f"{sid} {entry['question_id']}: {verdict.reason}"
