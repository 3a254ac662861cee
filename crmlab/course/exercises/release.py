"""Student versions of the exercise notebooks, per-student data variants and answer keys.

The solution notebooks in ``instructor/exercises/`` (:data:`SOURCE_FOLDER`) follow the
nbgrader conventions, so instructors who use nbgrader can take them as they are:

- code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` is the model solution; the
  student version gets ``# YOUR CODE HERE ...`` and binds the names the cell's
  ``check(...)`` reads to :data:`~crmlab.exercises.NOT_ANSWERED` instead (same indentation;
  ``return ex.NOT_ANSWERED`` in a function body), so Run All on an unanswered notebook runs
  to the end and each open exercise says "not answered yet" (see :func:`code_stub`);
- in markdown cells a ``### BEGIN SOLUTION`` … ``### END SOLUTION`` region (a model answer)
  becomes ``YOUR ANSWER HERE``, and ``=== BEGIN MARK SCHEME ===`` … ``=== END MARK SCHEME ===``
  (rubric notes for instructors) is removed;
- ``### BEGIN HIDDEN TESTS`` … ``### END HIDDEN TESTS`` regions and whole cells tagged
  ``hidden`` are removed;
- outputs and execution counts are cleared.

The student versions at the defaults are committed in ``exercises/`` (:data:`STUDENT_FOLDER`),
where the course maps and every notebook's navigation cell point (``make exercises``
regenerates them; a test fails when they are stale).

:func:`release` does one notebook; :func:`release_all` does a folder, optionally once per
student of a roster (CSV with ``student_id,name``) with ``SEED`` set to
:func:`student_seed` of the student id, plus one answer-key CSV per student under
``_answer_keys/`` computed by the registered answer functions on that student's shop.

Every released notebook carries ``metadata["crmlab"]`` = ``{"notebook", "student_id",
"seed", "data", "mode"}`` so the grader can tell which student and exercise a submitted
file is, even when it was renamed or collected from an LMS download.

``mode="exam"`` (``crmlab exercises release --mode exam``) also makes the notebooks
check only the form of answers (see :mod:`crmlab.exercises.exam`): the setup call becomes
``ex.start(..., mode="exam", forms=EXAM_FORMS)`` with the forms in a cell before it, and
the answer keys go to a folder *next to* the release (``<out>_keys``) so the release folder
can be handed out as it is.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from crmlab.exercises import keys
from crmlab.exercises.registry import get_question

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
BEGIN_MARK_SCHEME = "=== BEGIN MARK SCHEME ==="
END_MARK_SCHEME = "=== END MARK SCHEME ==="
HIDDEN_TAG = "hidden"
#: The first line of every code stub (and what it says when the stub binds answers).
CODE_STUB = ("# YOUR CODE HERE", " (replace ex.NOT_ANSWERED with your answer)")
#: What a stub binds an answer to: :data:`crmlab.exercises.NOT_ANSWERED`.
UNANSWERED = "ex.NOT_ANSWERED"
MARKDOWN_STUB = "YOUR ANSWER HERE"

#: A code stub as released (comment line and the ``name = ex.NOT_ANSWERED`` / ``return``
#: / ``pass`` lines after it), to find or replace it in a student notebook.
STUB_RE = re.compile(r"^(?P<indent>[ \t]*)# YOUR CODE HERE[^\n]*(?:\n(?P=indent)"
                     r"(?:\w+ = ex\.NOT_ANSWERED|return ex\.NOT_ANSWERED|pass)\b[^\n]*)*",
                     re.MULTILINE)

#: The import a notebook needs for its stubs (its setup cell has it).
EX_IMPORT_RE = re.compile(r"^\s*import crmlab\.exercises as ex\b", re.MULTILINE)

#: Where the solution sources live (instructors only) and where the committed student
#: versions are, both relative to the repository root.
SOURCE_FOLDER = Path("instructor") / "exercises"
STUDENT_FOLDER = Path("exercises")

#: ``check("question_id", ...)`` calls, to find which questions a notebook asks.
CHECK_CALL_RE = re.compile(r"""\bcheck\(\s*["']([A-Za-z0-9_]+)["']""")

_SAFE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

#: Near-miss spellings of a marker (``## BEGIN SOLUTION``, ``# end solution``): an error,
#: because a marker that is not recognised would leak the solution to students.
_LOOSE_MARKER_RE = re.compile(
    r"^[ \t]*(?:#+|=+)?[ \t]*(?:BEGIN|END)[ \t]+(?:SOLUTION|HIDDEN[ \t]+TESTS?|MARK[ \t]+SCHEME)\b.*$",
    re.IGNORECASE | re.MULTILINE)

#: Release modes: practice (checks say right/wrong) and exam (checks look at the form only).
RELEASE_MODES = ("practice", "exam")

#: Notebook metadata key identifying a released notebook.
METADATA_KEY = "crmlab"

#: ``start("NN_name", ...)`` calls, to find an exercise notebook's setup cell.
START_CALL_RE = re.compile(r"""\bstart\(\s*["']([0-9]{2}[A-Za-z0-9_]*)["']""")

#: Markers that must never survive in a student version.
ALL_MARKERS = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN, BEGIN_MARK_SCHEME,
               END_MARK_SCHEME)


@dataclass
class ReleaseInfo:
    """What :func:`release` did to one notebook."""

    source: Path
    dest: Path
    solutions: int = 0
    hidden_cells: int = 0
    hidden_regions: int = 0
    mark_schemes: int = 0
    parameters: dict[str, Any] = field(default_factory=dict)


def _source_text(cell: Mapping[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _strip_regions(text: str, begin: str, end: str,
                   stub: Iterable[str] | Callable[[str, str], list[str]] | None,
                   where: str) -> tuple[str, int]:
    """Replace every ``begin``…``end`` region (marker lines included) by ``stub`` lines.

    ``stub`` may be a function of ``(region text, indent)`` returning the lines."""
    out: list[str] = []
    inside = False
    count = 0
    indent = ""
    region: list[str] = []
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith(begin):
            if inside:
                raise ValueError(f"{where}: '{begin}' inside another region; close it with "
                                 f"'{end}' first")
            inside = True
            count += 1
            indent = line[: len(line) - len(line.lstrip())]
            region = []
            continue
        if stripped.startswith(end):
            if not inside:
                raise ValueError(f"{where}: '{end}' without a matching '{begin}'")
            inside = False
            lines = stub("".join(region), indent) if callable(stub) else (stub or ())
            for stub_line in lines:
                out.append(f"{indent}{stub_line}\n")
            continue
        if inside:
            region.append(line)
        else:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: '{begin}' is never closed; add a '{end}' line")
    result = "".join(out)
    if text and not text.endswith("\n") and result.endswith("\n"):
        result = result[:-1]
    return result, count


def _assigned_names(code: str) -> tuple[list[str], bool]:
    """Names a solution region assigns at its top level (in order), and whether it returns."""
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError:
        return [], False
    names: dict[str, None] = {}
    returns = False
    for node in tree.body:
        if isinstance(node, ast.Return):
            returns = True
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.setdefault(node.name, None)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                names.setdefault((alias.asname or alias.name).split(".")[0], None)
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name):
                    names.setdefault(sub.id, None)
    return list(names), returns


def checked_names(code: str, calls: tuple[str, ...] = ("check",)) -> set[str]:
    """Names read by the answer arguments of the ``check("id", ...)`` calls (or other
    ``calls``, e.g. ``checkpoint``) in ``code`` (a cell without its solution regions)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        pattern = rf"\b(?:{'|'.join(calls)})\([^,]+,\s*([A-Za-z_]\w*)"
        return set(re.findall(pattern, code))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in calls:
                values = [*node.args[1:2], *(k.value for k in node.keywords if k.arg in
                                            (None, "answer", "value"))]
                for arg in values:
                    found.update(n.id for n in ast.walk(arg) if isinstance(n, ast.Name))
    return found


def code_stub(region: str, rest: str, indent: str = "",
              carried: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """The student's lines for one solution ``region`` of a code cell (``rest``: the cell
    without its solution regions; ``carried``: names later exercises take over through
    ``ex.checkpoint(...)``).

    ``# YOUR CODE HERE ...`` and then ``name = ex.NOT_ANSWERED`` for each name the region
    assigns and a ``check(...)`` of the cell reads (so the check says "not answered yet") or
    a checkpoint carries on, ``return ex.NOT_ANSWERED`` for a region that returns, ``pass``
    in an indented block that would otherwise be empty.
    """
    assigned, returns = _assigned_names(region)
    read = checked_names(rest) | set(carried)
    if returns:
        bindings = [f"return {UNANSWERED}"]
    else:
        bindings = [f"{name} = {UNANSWERED}" for name in assigned if name in read]
    if bindings:
        return [CODE_STUB[0] + CODE_STUB[1], *bindings]
    return [CODE_STUB[0], "pass"] if indent else [CODE_STUB[0]]


def _tags(cell: Mapping[str, Any]) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []) or [])


def set_parameters(nb: Any, parameters: Mapping[str, Any], where: str = "notebook") -> None:
    """Rewrite literal assignments in the cell tagged ``parameters`` (in place).

    Only the value expression is replaced (comments stay). A name the cell does not assign
    is an error: the notebook would silently ignore it.
    """
    if not parameters:
        return
    cell = next((c for c in nb.cells if "parameters" in _tags(c)), None)
    if cell is None:
        raise ValueError(f"{where}: no cell tagged 'parameters'; tag the cell that assigns "
                         f"{sorted(parameters)}")
    text = _source_text(cell)
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise ValueError(f"{where}: the parameters cell is not valid Python ({exc})") from None
    lines = text.splitlines(keepends=True)
    spans: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
            node.targets[0], ast.Name
        ):
            spans[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            spans[node.target.id] = node.value
    missing = [name for name in parameters if name not in spans]
    if missing:
        raise ValueError(f"{where}: the parameters cell does not assign {missing}; add e.g. "
                         f"'{missing[0]} = ...' to it")
    # replace from the bottom so earlier offsets stay valid
    for name in sorted(parameters, key=lambda n: (spans[n].lineno, spans[n].col_offset),
                       reverse=True):
        value = spans[name]
        start_line, end_line = value.lineno - 1, (value.end_lineno or value.lineno) - 1
        head = lines[start_line][: _char_offset(lines[start_line], value.col_offset)]
        tail = lines[end_line][_char_offset(lines[end_line], value.end_col_offset or 0):]
        lines[start_line: end_line + 1] = [f"{head}{parameters[name]!r}{tail}"]
    cell["source"] = "".join(lines)


def _char_offset(line: str, byte_offset: int) -> int:
    """ast column offsets count UTF-8 bytes; convert to a character index."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def _student_markdown(text: str, where: str) -> tuple[str, int, int]:
    """A Markdown cell's student text (mark schemes removed, model answers -> the stub), and
    the counts of mark schemes and model answers."""
    text, schemes = _strip_regions(text, BEGIN_MARK_SCHEME, END_MARK_SCHEME, None, where)
    text, solutions = _strip_regions(text, BEGIN_SOLUTION, END_SOLUTION, (MARKDOWN_STUB,), where)
    return text, schemes, solutions


def student_markdown(text: str, where: str = "markdown cell") -> str:
    """The student version of a Markdown cell's text, as :func:`strip_notebook` makes it (the
    繁體中文 edition releases a translated cell that holds a model answer this way)."""
    return _student_markdown(text, where)[0]


def strip_notebook(nb: Any, where: str = "notebook") -> tuple[Any, dict[str, int]]:
    """Return a student copy of ``nb`` (solutions, rubrics, hidden tests and outputs removed)."""
    nb = copy.deepcopy(nb)
    counts = {"solutions": 0, "hidden_cells": 0, "hidden_regions": 0, "mark_schemes": 0}
    carried: set[str] = set()  # names that later exercises take over with ex.checkpoint
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and HIDDEN_TAG not in _tags(cell):
            rest, _ = _strip_regions(_source_text(cell), BEGIN_SOLUTION, END_SOLUTION, None,
                                     f"{where}, cell {i}")
            carried |= checked_names(rest, ("checkpoint",))
    cells = []
    for i, cell in enumerate(nb.cells):
        here = f"{where}, cell {i}"
        if HIDDEN_TAG in _tags(cell):
            counts["hidden_cells"] += 1
            continue
        text = _source_text(cell)
        if cell.cell_type == "code":
            rest, _ = _strip_regions(text, BEGIN_SOLUTION, END_SOLUTION, None, here)
            text, n = _strip_regions(text, BEGIN_SOLUTION, END_SOLUTION,
                                     lambda region, indent, rest=rest: code_stub(
                                         region, rest, indent, carried),
                                     here)
            counts["solutions"] += n
            text, n = _strip_regions(text, BEGIN_HIDDEN, END_HIDDEN, None, here)
            counts["hidden_regions"] += n
            cell["outputs"] = []
            cell["execution_count"] = None
        else:
            text, schemes, solutions = _student_markdown(text, here)
            counts["mark_schemes"] += schemes
            counts["solutions"] += solutions
        for marker in ALL_MARKERS:
            if marker in text:
                raise ValueError(f"{here}: marker '{marker}' left over (not on a line of its "
                                 "own?); put each marker on its own line")
        loose = _LOOSE_MARKER_RE.search(text)
        if loose:
            raise ValueError(f"{here}: '{loose.group(0).strip()}' looks like a marker but is "
                             f"not one; write exactly '{BEGIN_SOLUTION}' / '{END_SOLUTION}' (or "
                             "the HIDDEN TESTS / MARK SCHEME forms) on its own line")
        cell["source"] = text
        meta = cell.get("metadata", {})
        for key in ("execution", "papermill"):
            meta.pop(key, None)
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("papermill", None)
    code = "\n".join(_source_text(c) for c in cells if c.cell_type == "code")
    if UNANSWERED in code and not EX_IMPORT_RE.search(code):
        raise ValueError(f"{where}: the student version binds answers to {UNANSWERED} but no "
                         "cell runs 'import crmlab.exercises as ex'; add it to the setup cell")
    return nb, counts


def release(source: str | Path, dest: str | Path, *,
            parameters: Mapping[str, Any] | None = None, student_id: str = "",
            mode: str = "practice",
            forms: Mapping[str, Mapping[str, Any]] | None = None) -> ReleaseInfo:
    """Write the student version of the solution notebook ``source`` to ``dest``.

    ``parameters`` (e.g. ``{"SEED": 123, "DATA": "small"}``) are written into the cell
    tagged ``parameters``. ``mode="exam"`` needs ``forms`` (``{question_id: form}`` for
    every question the notebook checks) and turns the checks into form-only checks. The
    notebook's metadata records the notebook, student, seed, data and mode. Raises
    ``ValueError`` for unbalanced markers.
    """
    import nbformat  # lazy: importing it costs 2-3 s (jsonschema formats)
    source, dest = Path(source), Path(dest)
    if mode not in RELEASE_MODES:
        raise ValueError(f"release: mode must be one of {list(RELEASE_MODES)}, got {mode!r}")
    if not source.is_file():
        raise ValueError(f"release: no notebook at {source}")
    if source.resolve() == dest.resolve():
        raise ValueError(f"release: {dest} is the source notebook; write the student version "
                         "somewhere else")
    nb = nbformat.read(source, as_version=4)
    student, counts = strip_notebook(nb, where=source.name)
    params = dict(parameters or {})
    set_parameters(student, params, where=source.name)
    if mode == "exam":
        make_exam(student, forms or {}, where=source.name)
    student.metadata[METADATA_KEY] = {
        "notebook": notebook_stem(source), "student_id": student_id,
        "seed": params.get("SEED"), "data": params.get("DATA"), "mode": mode,
    }
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(student, dest)
    return ReleaseInfo(source=source, dest=dest, parameters=params, **counts)


def notebook_stem(path: str | Path) -> str:
    """The exercise name of a released or solution notebook (its file stem)."""
    return Path(path).stem


def _setup_cell(nb: Any) -> int | None:
    """Index of the code cell that calls ``start("NN_...", ...)``."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and START_CALL_RE.search(_source_text(cell)):
            return i
    return None


def make_exam(nb: Any, forms: Mapping[str, Mapping[str, Any]], where: str = "notebook") -> None:
    """Turn a student notebook (in place) into its exam version.

    Adds a notice after the title, a cell defining ``EXAM_FORMS`` before the setup cell
    and ``mode="exam", forms=EXAM_FORMS`` to the ``start(...)`` call, so every check looks
    only at the form of an answer. ``forms`` must cover every question the notebook checks.
    """
    import nbformat

    from crmlab.exercises.exam import FORMS_NAME, FORMS_TAG, NOTICE_MARKDOWN, forms_cell

    missing = [q for q in question_ids(nb) if q not in forms]
    if missing:
        raise ValueError(f"{where}: exam release has no form for question(s) {missing}; "
                         "release with the answer functions installed")
    index = _setup_cell(nb)
    if index is None:
        raise ValueError(f"{where}: no setup cell calling start('NN_...', data=DATA, "
                         "seed=SEED); exam mode needs one to switch the checks to form-only")
    cell = nb.cells[index]
    text = _source_text(cell)
    call = _start_call(text, where)
    lines = text.splitlines(keepends=True)
    end_line, end_col = (call.end_lineno or call.lineno) - 1, (call.end_col_offset or 1) - 1
    line = lines[end_line]
    at = _char_offset(line, end_col)
    lines[end_line] = f"{line[:at]}, mode=\"exam\", forms={FORMS_NAME}{line[at:]}"
    cell["source"] = "".join(lines)
    ids = [q for q in question_ids(nb)]
    # fixed cell ids: random ones could spell an expected value (e.g. "6369d300")
    forms_nb = nbformat.v4.new_code_cell(forms_cell({q: forms[q] for q in ids}), id="exam-forms")
    forms_nb.metadata["tags"] = [FORMS_TAG]
    nb.cells.insert(index, forms_nb)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(NOTICE_MARKDOWN, id="exam-notice"))


def _start_call(text: str, where: str) -> ast.Call:
    """The ``start("NN_...", ...)`` call node of a setup cell's source."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise ValueError(f"{where}: the setup cell is not valid Python ({exc})") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "start" and node.args and isinstance(node.args[0], ast.Constant):
                if any(k.arg in ("mode", "forms") for k in node.keywords):
                    raise ValueError(f"{where}: the setup cell's start(...) already sets "
                                     "mode/forms; remove them from the solution source")
                return node
    raise ValueError(f"{where}: no start('NN_...', ...) call in the setup cell")


def question_ids(notebook: str | Path | Any, *, include_hidden: bool = True) -> list[str]:
    """Question ids checked in a notebook (``check("id", ...)`` calls), in order, unique.

    ``include_hidden=False`` skips cells tagged ``hidden`` (what students will see).
    """
    import nbformat  # lazy: importing it costs 2-3 s (jsonschema formats)
    nb = nbformat.read(notebook, as_version=4) if isinstance(notebook, str | Path) else notebook
    seen: dict[str, None] = {}
    for cell in nb.cells:
        if not include_hidden and HIDDEN_TAG in _tags(cell):
            continue
        if cell.cell_type == "code":
            for qid in CHECK_CALL_RE.findall(_source_text(cell)):
                seen.setdefault(qid, None)
    return list(seen)


def student_seed(student_id: str, base_seed: int = 0) -> int:
    """A stable seed in ``[1, 2**31)`` from a student id (SHA-256, not Python's ``hash``).

    ``base_seed`` lets an instructor draw a fresh set of variants (e.g. a new term) for the
    same roster.
    """
    text = f"crmlab-exercises:{int(base_seed)}:{str(student_id).strip()}"
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % (2**31 - 1) + 1


def read_roster(path: str | Path) -> pd.DataFrame:
    """Read a roster CSV with columns ``student_id,name``; validate ids (unique, path-safe)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"roster {path} does not exist; pass a CSV with columns student_id,name")
    roster = pd.read_csv(path, dtype=str, keep_default_na=False)
    roster.columns = [str(c).strip() for c in roster.columns]
    missing = [c for c in ("student_id", "name") if c not in roster.columns]
    if missing:
        raise ValueError(f"roster {path}: missing column(s) {missing}; the header must be "
                         "'student_id,name'")
    roster = roster.assign(student_id=roster["student_id"].str.strip(),
                           name=roster["name"].str.strip())
    blank = roster.index[roster["student_id"] == ""].tolist()
    if blank:
        raise ValueError(f"roster {path}, column student_id: empty id on data row(s) "
                         f"{[i + 1 for i in blank]}; fill them in or delete those rows")
    unsafe = [s for s in roster["student_id"] if not _SAFE_ID_RE.match(s)]
    if unsafe:
        raise ValueError(f"roster {path}, column student_id: {unsafe[:3]} cannot be folder names; "
                         "use letters, digits, '_', '-' or '.'")
    dup = roster["student_id"][roster["student_id"].duplicated()].unique().tolist()
    if dup:
        raise ValueError(f"roster {path}, column student_id: duplicated id(s) {dup}; each "
                         "student needs a unique id")
    return roster[["student_id", "name"]].reset_index(drop=True)


def find_notebooks(source_dir: str | Path, only: Iterable[str] | None = None) -> list[Path]:
    """Exercise notebooks ``NN_*.ipynb`` in ``source_dir``, optionally only those named.

    ``only`` items match a notebook by its two-digit prefix (``"02"``) or its stem.
    """
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise ValueError(f"exercises folder {source_dir} does not exist")
    found = sorted(p for p in source_dir.glob("[0-9][0-9]_*.ipynb"))
    if only:
        wanted = [str(w).strip() for w in only]
        picked = [p for p in found if any(p.stem == w or p.stem.startswith(f"{w}_")
                                          or p.name == w for w in wanted)]
        unmatched = [w for w in wanted if not any(
            p.stem == w or p.stem.startswith(f"{w}_") or p.name == w for p in found)]
        if unmatched:
            raise ValueError(f"no exercise notebook in {source_dir} matches {unmatched}; "
                             f"available: {[p.stem for p in found]}")
        found = picked
    if not found:
        raise ValueError(f"no exercise notebooks (NN_*.ipynb) in {source_dir}")
    return found


def expected_values(notebooks: Iterable[Path], shop: Any) -> dict[str, dict[str, Any]]:
    """``{notebook stem: {question_id: expected answer}}`` for ``notebooks`` on ``shop``."""
    out: dict[str, dict[str, Any]] = {}
    for nb_path in notebooks:
        values = out.setdefault(nb_path.stem, {})
        for qid in question_ids(nb_path):
            q = get_question(qid)
            try:
                values[qid] = q.expected(shop)
            except Exception as exc:
                raise RuntimeError(f"answer key: the answer function of {qid!r} "
                                   f"({nb_path.name}) failed: {type(exc).__name__}: {exc}") from exc
    return out


def answer_key_rows(notebooks: Iterable[Path], shop: Any, *, student_id: str = "",
                    name: str = "", seed: int | None = None, data: Any = "",
                    values: Mapping[str, Mapping[str, Any]] | None = None) -> list[dict]:
    """Answer-key rows for every checked question of ``notebooks``, computed on ``shop``
    (or taken from ``values`` as returned by :func:`expected_values`)."""
    notebooks = list(notebooks)
    values = values if values is not None else expected_values(notebooks, shop)
    return [{"student_id": student_id, "name": name, "seed": seed, "data": data,
             "notebook": stem, "question_id": qid,
             "summary": keys.summary(value), "expected": keys.dumps(value)}
            for stem, answers in values.items() for qid, value in answers.items()]


def exam_forms(values: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, dict]]:
    """``{notebook stem: {question_id: form}}`` from :func:`expected_values` output."""
    from crmlab.exercises.exam import form_of

    return {stem: {qid: form_of(v, get_question(qid).options) for qid, v in answers.items()}
            for stem, answers in values.items()}


def release_all(source_dir: str | Path, out_dir: str | Path, *, seed: int | None = None,
                students: str | Path | pd.DataFrame | None = None,
                only: Iterable[str] | None = None, data: Any = None,
                progress: bool = False, mode: str = "practice",
                keys_dir: str | Path | None = None) -> pd.DataFrame:
    """Release every exercise notebook of ``source_dir`` into ``out_dir``.

    Without ``students``: ``out_dir/<notebook>.ipynb`` (with ``SEED = seed`` and
    ``DATA = data`` written in when given) and, when ``seed`` is given, the answer key of
    that variant at ``<keys>/seed_<seed>.csv``.

    With ``students`` (a roster CSV path or a DataFrame with ``student_id,name``): one folder
    ``out_dir/<student_id>/`` per student holding every released notebook with ``SEED`` =
    :func:`student_seed` ``(student_id, seed or 0)`` and ``DATA`` = ``data`` (default
    ``"small"``); answer keys ``<keys>/<student_id>.csv`` computed on
    ``crmlab.data.get_shop(data, seed=that seed)``; and ``<keys>/roster.csv`` mapping
    students to seeds. Returns one row per written notebook.

    ``<keys>`` is ``keys_dir`` if given, else ``out_dir/_answer_keys`` in practice mode and
    ``<out_dir>_keys`` (a sibling folder) in exam mode, so that an exam release folder holds
    nothing but what students may see. ``mode="exam"``: see :func:`make_exam`.
    """
    if mode not in RELEASE_MODES:
        raise ValueError(f"release: mode must be one of {list(RELEASE_MODES)}, got {mode!r}")
    notebooks = find_notebooks(source_dir, only)
    out_dir = Path(out_dir)
    committed = is_student_folder(out_dir)
    if committed and (seed is not None or students is not None or keys_dir is not None
                      or data is not None or mode != "practice"):
        raise ValueError(f"release: {out_dir} holds the student versions committed for every "
                         "student (notebooks only, at their defaults); release variants, exams "
                         "and answer keys into another folder, e.g. --out build/exercises")
    key_dir = Path(keys_dir) if keys_dir is not None else default_keys_dir(out_dir, mode)
    if mode == "exam" and _inside(key_dir, out_dir):
        raise ValueError(f"release --mode exam: the answer keys ({key_dir}) would sit inside "
                         f"the release folder {out_dir} that students get; pass --keys "
                         "outside it")
    for nb_path in notebooks:  # fail early on unknown question ids or bad markers
        for qid in question_ids(nb_path):
            get_question(qid)
    if students is None:
        written = _release_one_variant(notebooks, out_dir, key_dir, seed=seed, data=data,
                                       mode=mode)
        if committed and not only:  # a renamed or removed source leaves no stale copy
            keep = {p.name for p in notebooks}
            for stale in out_dir.glob("[0-9][0-9]_*.ipynb"):
                if stale.name not in keep:
                    stale.unlink()
        return written
    roster = students if isinstance(students, pd.DataFrame) else read_roster(students)
    return _release_per_student(notebooks, out_dir, key_dir, roster, seed=seed,
                                data="small" if data is None else data, mode=mode,
                                progress=progress)


def _release_per_student(notebooks: list[Path], out_dir: Path, key_dir: Path,
                         roster: pd.DataFrame, *, seed: int | None, data: Any, mode: str,
                         progress: bool) -> pd.DataFrame:
    """One folder per student of ``roster`` (own seed), an answer key per student and
    ``roster.csv`` in ``key_dir``: the roster part of :func:`release_all`."""
    from crmlab.data import get_shop

    base = int(seed) if seed is not None else 0
    seeds = [student_seed(s, base) for s in roster["student_id"]]
    if len(set(seeds)) != len(seeds):  # astronomically unlikely, but never hand out twins
        raise ValueError("two students drew the same seed; release again with another --seed")
    roster = roster.assign(seed=seeds, data=str(data))
    key_dir.mkdir(parents=True, exist_ok=True)
    roster.to_csv(key_dir / "roster.csv", index=False, encoding="utf-8")
    written: list[dict[str, Any]] = []
    for row in roster.itertuples(index=False):
        if progress:
            print(f"releasing for {row.student_id} (seed {row.seed})", flush=True)
        values = expected_values(notebooks, get_shop(data, seed=int(row.seed)))
        forms = exam_forms(values) if mode == "exam" else {}
        params = {"SEED": int(row.seed), "DATA": data}
        for nb_path in notebooks:
            info = release(nb_path, out_dir / row.student_id / nb_path.name, parameters=params,
                           student_id=row.student_id, mode=mode, forms=forms.get(nb_path.stem))
            written.append({"student_id": row.student_id, "notebook": nb_path.stem,
                            "seed": int(row.seed), "path": str(info.dest),
                            "solutions": info.solutions})
        keys.write_key(
            answer_key_rows(notebooks, None, student_id=row.student_id, name=row.name,
                            seed=int(row.seed), data=data, values=values),
            key_dir / f"{row.student_id}.csv",
        )
    return pd.DataFrame(written)


def course_root() -> Path:
    """The repository the crmlab package is in (holds ``exercises/``, ``instructor/``)."""
    from crmlab.course import repository_root

    return repository_root()


def is_student_folder(folder: str | Path) -> bool:
    """Whether ``folder`` is the repository's committed ``exercises/`` (:data:`STUDENT_FOLDER`)."""
    return Path(folder).resolve() == (course_root() / STUDENT_FOLDER).resolve()


def default_keys_dir(out_dir: str | Path, mode: str = "practice") -> Path:
    """Where answer keys go by default: ``out/_answer_keys`` (practice), ``<out>_keys`` (exam)."""
    out_dir = Path(out_dir)
    if mode == "exam":
        return out_dir.parent / f"{out_dir.name}_keys"
    return out_dir / "_answer_keys"


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve() == folder.resolve() or folder.resolve() in path.resolve().parents


def _release_one_variant(notebooks: list[Path], out_dir: Path, key_dir: Path, *,
                         seed: int | None, data: Any, mode: str) -> pd.DataFrame:
    """``release_all`` without a roster: one copy per notebook, a key when ``seed`` is given."""
    params: dict[str, Any] = {}
    if seed is not None:
        params["SEED"] = int(seed)
    if data is not None:
        params["DATA"] = data
    values: dict[str, dict[str, Any]] = {}
    variant_data = data if data is not None else _default_data(notebooks[0])
    if seed is not None or mode == "exam":
        from crmlab.data import get_shop

        variant_seed = int(seed) if seed is not None else _default_seed(notebooks[0])
        values = expected_values(notebooks, get_shop(variant_data, seed=variant_seed))
    forms = exam_forms(values) if mode == "exam" else {}
    written = []
    for nb_path in notebooks:
        info = release(nb_path, out_dir / nb_path.name, parameters=params, mode=mode,
                       forms=forms.get(nb_path.stem))
        written.append({"student_id": "", "notebook": nb_path.stem, "seed": seed,
                        "path": str(info.dest), "solutions": info.solutions})
    if seed is not None:
        keys.write_key(answer_key_rows(notebooks, None, seed=int(seed), data=variant_data,
                                       values=values),
                       key_dir / f"seed_{int(seed)}.csv")
    return pd.DataFrame(written)


def _default_parameter(nb_path: Path, name: str, default: Any) -> Any:
    """The default of ``name`` in a notebook's parameters cell (``default`` if it has none)."""
    import nbformat  # lazy: importing it costs 2-3 s (jsonschema formats)
    nb = nbformat.read(nb_path, as_version=4)
    cell = next((c for c in nb.cells if "parameters" in _tags(c)), None)
    if cell is None:
        return default
    for node in ast.parse(_source_text(cell)).body:
        if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == name):
            return ast.literal_eval(node.value)
    return default


def _default_data(nb_path: Path) -> Any:
    """The ``DATA`` default of a notebook's parameters cell (``"small"`` if it has none)."""
    return _default_parameter(nb_path, "DATA", "small")


def _default_seed(nb_path: Path) -> int:
    """The ``SEED`` default of a notebook's parameters cell (42 if it has none)."""
    return int(_default_parameter(nb_path, "SEED", 42))
