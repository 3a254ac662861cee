"""Grade collected submissions against each student's answer key.

``crmlab exercises grade SUBMISSIONS --keys KEYS --out DIR`` (:func:`grade`):

1. reads the keys of a roster release (``KEYS/roster.csv`` and ``KEYS/<student_id>.csv``);
2. collects the submissions (:mod:`crmlab.course.exercises.collect`): student, notebook, and
   renamed / duplicate / wrong-variant / unreadable / unidentified / missing files;
3. runs each graded notebook in a clean kernel (:mod:`crmlab.course.exercises.runner`) with the
   student's ``SEED`` and ``DATA``, where checks only record the answers;
4. compares every recorded answer with the student's key using the question's own
   comparison (the one ``check()`` uses: tolerances, row order, …), names the typical
   mistake it matches, and lists open-ended questions for hand grading;
5. writes ``DIR/scores.csv`` (one row per student x question), ``DIR/submissions.csv``
   (one row per file), the gradebooks (:mod:`crmlab.course.exercises.gradebook`), a feedback page
   per student and the hand-grading sheet (:mod:`crmlab.course.exercises.feedback`).

Statuses are listed in :data:`SUBMISSION_STATUSES` and :data:`QUESTION_STATUSES`; every
file and every question ends with one, and one odd notebook never stops the run.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from crmlab.exercises import keys as keyfiles
from crmlab.course.exercises.collect import Submission, collect, relative, tamper_reasons, unpack
from crmlab.exercises.compare import Verdict, type_name
from crmlab.exercises.registry import CONVENTIONS, MISTAKES, get_question, matching
from crmlab.course.exercises.release import CHECK_CALL_RE, find_notebooks
from crmlab.course.exercises.rubric import OpenQuestion, answered, open_questions, student_answer
from crmlab.course.exercises.runner import TIMEOUT_ENAME, RunResult, run_submission

#: Submission statuses, most severe first (a submission shows the first that applies).
SUBMISSION_STATUSES: dict[str, str] = {
    "tampered": "the code reads answers or replaces check(): held for the instructor, no points "
                "until hand-graded",
    "timeout": "the notebook or one of its cells ran out of time; answers recorded before "
               "count",
    "error": "a cell raised (other than an untouched exercise); the other answers count",
    "wrong_variant": "released to another student, or checked on other data; graded on this "
                     "student's own data — review it",
    "renamed": "file renamed; identified by its metadata, name or start(...) call",
    "ok": "ran cleanly",
    "duplicate": "an older copy of a notebook the student submitted again: not graded",
    "missing": "no submission: 0 points",
    "unreadable": "not a readable notebook: 0 points",
    "unidentified": "cannot tell whose or which exercise it is: not graded (rename or move "
                    "it and grade again)",
}

#: Question statuses.
QUESTION_STATUSES: dict[str, str] = {
    "correct": "the answer matches the key",
    "wrong": "the answer differs from the key (the reason says how, the mistake names a "
             "typical one)",
    "unanswered": "the exercise is left as released (its answer is still ex.NOT_ANSWERED, "
                  "or, in an older release, it still raises NotImplementedError)",
    "error": "the exercise's cell raised before its check",
    "timeout": "the exercise's cell (or the notebook) ran out of time",
    "unreadable_answer": "the answer is of a type the grader cannot read back",
    "missing": "no check of this question ran (cell deleted, or no submission)",
    "held": "the submission is tampered: points wait for the instructor",
    "hand": "open-ended: graded by hand with the rubric",
}

#: Points of an auto-graded question.
AUTO_POINTS = 1.0


@dataclass
class Variant:
    """One student's data and expected answers."""

    student_id: str
    name: str
    seed: int
    data: Any
    expected: dict[str, dict[str, Any]]  # notebook -> question id -> expected answer


@dataclass
class GradeResult:
    """What :func:`grade` wrote and found."""

    out: Path
    scores: pd.DataFrame
    submissions: pd.DataFrame
    gradebook: pd.DataFrame
    skipped: int = 0
    seconds: float = 0.0
    pending: int = 0
    counts: dict[str, int] = field(default_factory=dict)


# ----------------------------------------------------------------------------- keys


def _data_value(text: Any) -> Any:
    text = str(text)
    return int(text) if text.isdigit() else text


def load_keys(keys_dir: str | Path) -> tuple[pd.DataFrame, dict[str, Variant]]:
    """The roster (``student_id, name, seed, data``) and every student's expected answers.

    ``keys_dir`` is the ``_answer_keys`` folder of ``release --students`` (``<out>_keys``
    in exam mode). Raises ``ValueError`` naming the file, column and fix.
    """
    keys_dir = Path(keys_dir)
    roster_path = keys_dir / "roster.csv"
    if not roster_path.is_file():
        raise ValueError(f"keys {keys_dir}: no roster.csv; pass the answer-key folder written "
                         "by 'crmlab exercises release --students roster.csv' (_answer_keys, "
                         "or <out>_keys in exam mode)")
    roster = pd.read_csv(roster_path, dtype=str, keep_default_na=False)
    missing = [c for c in ("student_id", "name", "seed", "data") if c not in roster.columns]
    if missing:
        raise ValueError(f"keys {roster_path}: missing column(s) {missing}; it should be the "
                         "roster.csv written by release --students")
    bad = roster.loc[~roster["seed"].str.fullmatch(r"\d+"), "student_id"].tolist()
    if bad:
        raise ValueError(f"keys {roster_path}, column seed: not a whole number for {bad}; "
                         "restore the file from the release")
    roster = roster.assign(seed=roster["seed"].astype("int64"))
    variants = {}
    for row in roster.itertuples(index=False):
        path = keys_dir / f"{row.student_id}.csv"
        if not path.is_file():
            raise ValueError(f"keys {keys_dir}: no key {path.name} for student {row.student_id}; "
                             "release again, or delete the student's row from roster.csv")
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        need = [c for c in ("notebook", "question_id", "expected") if c not in frame.columns]
        if need:
            raise ValueError(f"keys {path}: missing column(s) {need}; restore the file from "
                             "the release")
        expected: dict[str, dict[str, Any]] = {}
        for k in frame.itertuples(index=False):
            expected.setdefault(k.notebook, {})[k.question_id] = keyfiles.loads(k.expected)
        variants[row.student_id] = Variant(row.student_id, row.name, int(row.seed),
                                           _data_value(row.data), expected)
    return roster[["student_id", "name", "seed", "data"]], variants


# ----------------------------------------------------------------------------- scoring


def _mistake_finder(variant: Variant, table: Mapping[str, list] | None = None
                    ) -> Callable[[str, Any], str]:
    """``(question_id, answer) -> label`` of the registered typical mistake it matches
    (or, with ``table=CONVENTIONS``, of the other defensible convention it follows)."""
    table = MISTAKES if table is None else table
    cache: dict = {}
    shop: list[Any] = []

    def find(question_id: str, answer: Any) -> str:
        if not table.get(question_id):
            return ""
        if not shop:  # the student's shop, loaded once and only when a question needs it
            from crmlab.data import get_shop

            shop.append(get_shop(variant.data, seed=variant.seed))
        return matching(table, question_id, answer, shop[0], cache)

    return find


def judge(question_id: str, answer: Any, expected: Any) -> Verdict:
    """The question's own comparison (as in ``check()``); a crash is a 'could not compare'."""
    q = get_question(question_id)
    try:
        return q.judge(answer, expected)
    except Exception as exc:
        return Verdict(False, f"your answer ({type_name(answer)}) could not be compared with "
                              f"the expected one ({type(exc).__name__})")


def _cell_error_for(question_id: str, run: RunResult) -> dict[str, Any] | None:
    for err in run.cell_errors:
        if question_id in CHECK_CALL_RE.findall(err["source"]):
            return err
    return None


def _check_cell_present(question_id: str, nb: Mapping[str, Any] | None) -> bool:
    if not nb:
        return False
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            src = cell.get("source", "")
            src = "".join(src) if isinstance(src, list) else str(src)
            if question_id in CHECK_CALL_RE.findall(src):
                return True
    return False


def _unanswered_status(question_id: str, sub: Submission, run: RunResult) -> tuple[str, str]:
    """Status and reason of a question whose check recorded nothing."""
    err = _cell_error_for(question_id, run)
    if err is not None:
        if err["ename"] == "NotImplementedError":
            return "unanswered", "not answered (the cell still raises NotImplementedError)"
        if err["ename"] == "NotAnsweredError":
            return "unanswered", ("not run: it starts from an earlier exercise's answer, "
                                  "which is not answered")
        if err["ename"] in (TIMEOUT_ENAME, "KeyboardInterrupt"):
            return "timeout", "the cell ran out of time (an endless loop?)"
        return "error", f"the cell raised {err['ename']}: {err['evalue']}"
    if run.timed_out:
        return "timeout", "not reached: the notebook ran out of time before this exercise"
    if not _check_cell_present(question_id, sub.nb):
        return "missing", f"no check(\"{question_id}\", ...) in the notebook (cell deleted?)"
    if run.crashed:
        return "error", f"not run: {run.crashed}"
    return "missing", "the check line did not record an answer (was it changed?)"


def score_submission(sub: Submission, variant: Variant, run: RunResult | None,
                     find_mistake: Callable[[str, Any], str] | None = None,
                     find_convention: Callable[[str, Any], str] | None = None) -> list[dict]:
    """Score rows (one per auto-graded question) of one graded submission.

    An answer that differs from the key but follows a registered other defensible
    convention (``find_convention``, as :func:`~crmlab.exercises.check` accepts it) is
    correct, with the convention named in ``reason``.

    Also sets the submission's final status from the run (timeout, error, tampered,
    wrong_variant). ``run`` is ``None`` for files that were not executed.
    """
    expected = variant.expected.get(sub.notebook, {})
    rows = []
    latest: dict[str, dict[str, Any]] = {}
    if run is not None:
        _apply_run(sub, variant, run)
        for entry in run.log:
            if entry.get("question_id") in expected:
                latest[entry["question_id"]] = entry
    held = "tampered" in sub.flags
    for qid, exp in expected.items():
        row = {"student_id": variant.student_id, "name": variant.name,
               "notebook": sub.notebook, "question_id": qid, "kind": "auto",
               "max_points": AUTO_POINTS, "points": 0.0, "status": "", "reason": "",
               "mistake": "", "hint": get_question(qid).hint}
        if run is None:
            row.update(status="missing", reason=f"submission {sub.status}")
        elif qid in latest and latest[qid].get("answered") is False:
            row.update(status="unanswered", reason="not answered (the answer is still "
                                                   "ex.NOT_ANSWERED)")
        elif qid in latest and not latest[qid].get("encodable", True):
            row.update(status="unreadable_answer",
                       reason=f"your answer ({latest[qid].get('type', '?')}) cannot be read "
                              "back; assign a number, text, list, set, dict, Series or "
                              "DataFrame")
        elif qid in latest:
            answer = keyfiles.decode(latest[qid].get("answer"))
            verdict = judge(qid, answer, exp)
            convention = ("" if verdict.ok or find_convention is None
                          else find_convention(qid, answer))
            if verdict.ok:
                row.update(status="correct", points=AUTO_POINTS)
            elif convention:
                row.update(status="correct", points=AUTO_POINTS,
                           reason=f"accepted: another defensible convention ({convention})")
            else:
                mistake = find_mistake(qid, answer) if find_mistake else ""
                row.update(status="wrong", reason=verdict.reason, mistake=mistake)
        else:
            status, reason = _unanswered_status(qid, sub, run)
            row.update(status=status, reason=reason)
        if held and run is not None:
            row.update(suggested=row["points"], status="held", points=math.nan,
                       reason=f"held for review ({row['status'] or 'graded'}"
                              f"{': ' + row['reason'] if row['reason'] else ''})")
        rows.append(row)
    return rows


def _apply_run(sub: Submission, variant: Variant, run: RunResult) -> None:
    """Flags from the run: tampering, time-outs, errors, checks on other data."""
    reasons = tamper_reasons(sub.nb or {})
    if any(e.get("event") == "answers_imported" for e in run.log):
        reasons.append("tried to import the answer functions while graded")
    if reasons:
        sub.flags.add("tampered")
        sub.details.append("tampered: " + ", ".join(dict.fromkeys(reasons)))
    timeouts = [e for e in run.cell_errors if e["ename"] in (TIMEOUT_ENAME, "KeyboardInterrupt")]
    if run.timed_out or timeouts:
        sub.flags.add("timeout")
        sub.details.append("the whole notebook ran out of time" if run.timed_out else
                           f"cell {timeouts[0]['cell']} ran out of time and was interrupted")
    errors = [e for e in run.cell_errors
              if e["ename"] not in (TIMEOUT_ENAME, "KeyboardInterrupt", "NotImplementedError",
                                    "NotAnsweredError")]
    if errors or run.crashed:
        sub.flags.add("error")
        what = run.crashed or ", ".join(f"cell {e['cell']}: {e['ename']}" for e in errors[:3])
        sub.details.append(f"errors: {what}")
    other = {(e.get("seed"), str(e.get("data"))) for e in run.log
             if "seed" in e and (e.get("seed") != variant.seed
                                 or str(e.get("data")) != str(variant.data))}
    if other:
        sub.flags.add("wrong_variant")
        seen = ", ".join(f"seed {s} / data {d}" for s, d in sorted(other, key=str))
        sub.details.append(f"checks ran on {seen}, not on this student's seed {variant.seed} "
                           f"/ data {variant.data} (SEED or DATA changed in the code?)")
    if not sub.flags and sub.status == "ok":
        return
    for status in SUBMISSION_STATUSES:
        if status in sub.flags:
            sub.status = status
            break


def open_rows(sub: Submission, variant: Variant, opens: list[OpenQuestion]) -> list[dict]:
    """Hand-grading rows (points pending) for the open questions of one submission."""
    rows = []
    for oq in opens:
        answer = student_answer(sub.nb, oq.number) if sub.nb else []
        status, reason = "hand", "open-ended: graded by hand"
        points = math.nan
        if sub.path is None or sub.status in ("missing", "unreadable"):
            status, reason, points = "missing", f"submission {sub.status}", 0.0
        elif not answered(answer):
            reason = "open-ended: graded by hand (the section looks unanswered)"
        rows.append({"student_id": variant.student_id, "name": variant.name,
                     "notebook": sub.notebook, "question_id": oq.question_id, "kind": "hand",
                     "max_points": oq.max_points, "points": points, "status": status,
                     "reason": reason, "mistake": "", "hint": ""})
    return rows


# ----------------------------------------------------------------------------- the run


def _graded(sub: Submission) -> bool:
    return sub.path is not None and sub.status in ("ok",) and sub.nb is not None


def _write_results(rows: list[dict[str, Any]], sub_rows: list[dict[str, Any]],
                   subs: list[Submission], opens: Mapping[str, list[OpenQuestion]],
                   roster: pd.DataFrame, notebooks: list[str], out: Path, *,
                   hand: str | Path | None, pending: str
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Write what :func:`grade` found: scores (raw and with the hand grades merged), the
    submissions, the hand-grading template and sheet, gradebooks and feedback pages.
    Returns ``(scores_final, submissions, gradebook)``."""
    from crmlab.course.exercises import feedback, gradebook

    scores = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    submissions_table = pd.DataFrame(sub_rows, columns=SUBMISSION_COLUMNS)
    scores.to_csv(out / "scores.csv", index=False, encoding="utf-8")
    submissions_table.to_csv(out / "submissions.csv", index=False, encoding="utf-8")
    gradebook.write_hand_template(scores, out / "hand_grading.csv")
    merged = gradebook.merge_hand(scores, gradebook.read_hand(hand, scores) if hand else None)
    merged.to_csv(out / "scores_final.csv", index=False, encoding="utf-8")
    book = gradebook.write_gradebooks(merged, roster, notebooks, out, pending=pending)
    feedback.write_feedback(merged, submissions_table, subs, opens, out)
    feedback.write_hand_sheet(subs, opens, merged, out / "hand_grading.html")
    return merged, submissions_table, book


def grade(submissions: str | Path, keys_dir: str | Path, out: str | Path, *,
          source: str | Path | None = None, hand: str | Path | None = None,
          timeout: float = 600.0, cell_timeout: float = 120.0, jobs: int = 1,
          network: str = "auto", pending: str = "blank",
          progress: Callable[[str], None] | None = None) -> GradeResult:
    """Grade every submission under ``submissions`` against the keys in ``keys_dir``.

    ``source`` is the folder of solution notebooks (for the open-ended questions and their
    rubrics; default ``instructor/exercises/``); ``hand`` a filled hand-grading CSV to merge;
    ``timeout`` / ``cell_timeout`` bound each notebook / cell in seconds; ``jobs`` notebooks
    run at a time; ``pending`` is ``"blank"`` (a notebook with ungraded hand questions has
    no mark in the gradebook yet) or ``"zero"`` (count them as 0). Writes everything under
    ``out`` and returns a :class:`GradeResult`.
    """
    from crmlab.course.exercises import gradebook
    from crmlab.course.exercises.cli import default_source

    if jobs < 1:
        raise ValueError(f"grade: --jobs must be at least 1, got {jobs}")
    if pending not in gradebook.PENDING:
        raise ValueError(f"grade: --pending must be one of {list(gradebook.PENDING)}, got "
                         f"{pending!r}")
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    roster, variants = load_keys(keys_dir)
    notebooks = sorted({nb for v in variants.values() for nb in v.expected})
    if not notebooks:
        raise ValueError(f"keys {keys_dir}: the keys list no questions; release again")
    opens = _open_questions(Path(source) if source else default_source(), notebooks)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crmlab-collect-") as tmp:
        root = unpack(submissions, tmp)
        subs, skipped = collect(root, roster, notebooks)
        runs = _run_all([s for s in subs if _graded(s)], variants, out, timeout=timeout,
                        cell_timeout=cell_timeout, jobs=jobs, network=network, say=say)
        rows, sub_rows = [], []
        finders = {sid: _mistake_finder(v) for sid, v in variants.items()}
        conventions = {sid: _mistake_finder(v, CONVENTIONS) for sid, v in variants.items()}
        for sub in subs:
            variant = variants.get(sub.student_id)
            run = runs.get(id(sub))
            if variant is not None and sub.status not in ("duplicate", "unidentified"):
                rows += score_submission(sub, variant, run, finders[sub.student_id],
                                         conventions[sub.student_id])
                rows += open_rows(sub, variant, opens.get(sub.notebook, []))
            sub_rows.append(_submission_row(sub, variant, run, root, out))
            if run is not None and run.executed is not None:
                sub.nb = _read_json(run.executed) or sub.nb  # show answers with outputs
    merged, submissions_table, book = _write_results(
        rows, sub_rows, subs, opens, roster, notebooks, out, hand=hand, pending=pending)
    counts = submissions_table["status"].value_counts().to_dict()
    return GradeResult(out=out, scores=merged, submissions=submissions_table, gradebook=book,
                       skipped=skipped, seconds=time.perf_counter() - started,
                       pending=int(merged["points"].isna().sum()), counts=counts)


SCORE_COLUMNS = ["student_id", "name", "notebook", "question_id", "kind", "status", "points",
                 "max_points", "suggested", "reason", "mistake", "hint"]
SUBMISSION_COLUMNS = ["student_id", "name", "notebook", "status", "detail", "file", "executed",
                      "seconds"]


def _open_questions(source: Path, notebooks: Iterable[str]) -> dict[str, list[OpenQuestion]]:
    """Open questions per assigned notebook, read from the solution notebooks in ``source``."""
    found: dict[str, list[OpenQuestion]] = {}
    available = {p.stem: p for p in find_notebooks(source)} if Path(source).is_dir() else {}
    for stem in notebooks:
        if stem not in available:
            raise ValueError(f"grade: no solution notebook {stem}.ipynb in {source}; pass "
                             "--source with the exercises folder the release was made from")
        nb = _read_json(available[stem])  # plain JSON: nbformat's import costs 2-3 s
        if nb is None:
            raise ValueError(f"grade: {available[stem]} is not a readable notebook")
        found[stem] = open_questions(nb, stem)
    return found


def _run_all(subs: list[Submission], variants: Mapping[str, Variant], out: Path, *,
             timeout: float, cell_timeout: float, jobs: int, network: str,
             say: Callable[[str], None]) -> dict[int, RunResult]:
    """Execute the graded submissions, ``jobs`` at a time (each in its own process)."""

    def one(sub: Submission) -> tuple[int, RunResult]:
        variant = variants[sub.student_id]
        dest = out / "executed" / sub.student_id / f"{sub.notebook}.ipynb"
        run = run_submission(sub.path, {"SEED": variant.seed, "DATA": variant.data},
                             output=dest, timeout=timeout, cell_timeout=cell_timeout,
                             network=network)
        say(f"graded {sub.student_id} {sub.notebook} in {run.seconds:.1f} s")
        return id(sub), run

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return dict(pool.map(one, subs))


def _read_json(path: Path) -> dict[str, Any] | None:
    import json

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def rebuild(out: str | Path, *, hand: str | Path | None = None, source: str | Path | None = None,
            pending: str = "blank") -> GradeResult:
    """Merge a (new) hand-score file into an earlier grading run in ``out``; no re-execution.

    Reads ``out/scores.csv`` and ``out/submissions.csv``, rewrites ``scores_final.csv``,
    the gradebooks and the feedback pages (open answers from ``out/executed``).
    """
    from crmlab.course.exercises import feedback, gradebook
    from crmlab.course.exercises.cli import default_source

    out = Path(out)
    for name in ("scores.csv", "submissions.csv"):
        if not (out / name).is_file():
            raise ValueError(f"gradebook: no {name} in {out}; run 'crmlab exercises grade ... "
                             f"--out {out}' first")
    scores = pd.read_csv(out / "scores.csv", dtype={"student_id": str, "name": str,
                                                    "notebook": str, "question_id": str},
                         keep_default_na=False, na_values={"points": [""], "suggested": [""],
                                                           "max_points": [""]})
    submissions_table = pd.read_csv(out / "submissions.csv", dtype=str, keep_default_na=False)
    roster = scores.drop_duplicates("student_id")[["student_id", "name"]]
    notebooks = list(dict.fromkeys(scores["notebook"]))
    opens = _open_questions(Path(source) if source else default_source(), notebooks)
    merged = gradebook.merge_hand(scores, gradebook.read_hand(hand, scores) if hand else None)
    merged.to_csv(out / "scores_final.csv", index=False, encoding="utf-8")
    book = gradebook.write_gradebooks(merged, roster, notebooks, out, pending=pending)
    subs = []
    for r in submissions_table.itertuples(index=False):
        executed = out / r.executed if r.executed else None
        nb = _read_json(executed) if executed else None
        subs.append(Submission(student_id=r.student_id, notebook=r.notebook,
                               path=executed, status=r.status, nb=nb))
    feedback.write_feedback(merged, submissions_table, subs, opens, out)
    feedback.write_hand_sheet(subs, opens, merged, out / "hand_grading.html")
    return GradeResult(out=out, scores=merged, submissions=submissions_table, gradebook=book,
                       pending=int(merged["points"].isna().sum()),
                       counts=submissions_table["status"].value_counts().to_dict())


def _submission_row(sub: Submission, variant: Variant | None, run: RunResult | None,
                    root: Path, out: Path) -> dict[str, Any]:
    return {"student_id": sub.student_id, "name": variant.name if variant else "",
            "notebook": sub.notebook, "status": sub.status, "detail": sub.detail,
            "file": relative(sub.path, root),
            "executed": relative(run.executed, out) if run and run.executed else "",
            "seconds": round(run.seconds, 1) if run else None}
