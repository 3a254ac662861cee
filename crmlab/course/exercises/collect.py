"""Collect submitted notebooks: which student, which exercise, and what is odd about each.

Submissions come as a folder (or a ``.zip`` of one) in any of these layouts:

- ``SUBMISSIONS/<student_id>/<notebook>.ipynb`` — the layout of a roster release;
- flat files named with the student id first (``s001_00_warmup_exercises.ipynb``);
- anything else (an LMS bulk download): the notebook's own metadata, written at release
  (``metadata["crmlab"]``, see :mod:`crmlab.course.exercises.release`), names student and exercise.

A student is taken from the folder or the file name when it is a roster id, else from the
metadata; an exercise from the metadata, else the file name, else the notebook's
``start("NN_...")`` call. Jupyter's ``.ipynb_checkpoints`` and macOS ``__MACOSX`` copies
are skipped (and counted). Every other file ends as one :class:`Submission` with a status;
nothing is dropped.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from crmlab.course.exercises.release import CHECK_CALL_RE, METADATA_KEY, START_CALL_RE

#: Folders whose notebooks are never submissions.
SKIPPED_PARTS = (".ipynb_checkpoints", "__MACOSX")


@dataclass
class Submission:
    """One submitted file (or a missing one) and what collecting it found."""

    student_id: str
    notebook: str
    path: Path | None
    status: str = "ok"
    details: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    metadata: dict[str, Any] = field(default_factory=dict)
    nb: dict[str, Any] | None = None
    mtime: float = 0.0

    @property
    def detail(self) -> str:
        """The details as one sentence-per-item string."""
        return "; ".join(self.details)


def unpack(submissions: str | Path, workdir: str | Path) -> Path:
    """The submissions folder; a ``.zip`` is extracted into ``workdir`` first."""
    submissions = Path(submissions)
    if submissions.is_dir():
        return submissions
    if submissions.is_file() and zipfile.is_zipfile(submissions):
        target = Path(workdir) / "submissions"
        with zipfile.ZipFile(submissions) as archive:
            for member in archive.infolist():
                name = Path(member.filename)
                if name.is_absolute() or ".." in name.parts:
                    raise ValueError(f"submissions {submissions}: member {member.filename!r} "
                                     "points outside the archive; unpack it by hand and pass "
                                     "the folder")
            archive.extractall(target)
        return target
    raise ValueError(f"submissions {submissions}: not a folder or a .zip; pass the folder of "
                     "collected notebooks (one subfolder per student, or an LMS download)")


def _read_notebook(path: Path) -> dict[str, Any] | None:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return None
    return nb


def _code(nb: dict[str, Any]) -> str:
    parts = []
    for cell in nb.get("cells", []):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            src = cell.get("source", "")
            parts.append("".join(src) if isinstance(src, list) else str(src))
    return "\n".join(parts)


def _student_from_path(path: Path, root: Path, ids: set[str]) -> str:
    """A roster id named by a folder between ``root`` and the file, or by the file name."""
    for part in reversed(path.relative_to(root).parts[:-1]):
        if part in ids:
            return part
    stem = path.stem
    for sid in sorted(ids, key=len, reverse=True):
        if stem == sid or stem.startswith((f"{sid}_", f"{sid}-", f"{sid} ")):
            return sid
    return ""


def _notebook_of(path: Path, nb: dict[str, Any], notebooks: list[str],
                 meta: dict[str, Any]) -> tuple[str, str]:
    """``(notebook stem, how it was found)``; ``("", reason)`` when it cannot be told."""
    if meta.get("notebook") in notebooks:
        return meta["notebook"], "metadata"
    if path.stem in notebooks:
        return path.stem, "file name"
    named = [n for n in notebooks if n in path.stem]
    if len(named) == 1:
        return named[0], "file name"
    started = START_CALL_RE.findall(_code(nb))
    for name in started:
        match = [n for n in notebooks if n == name or n.startswith(f"{name}_")]
        if len(match) == 1:
            return match[0], "its start(...) call"
    return "", "neither its metadata, its file name nor its start(...) call names an " \
               f"assigned notebook ({', '.join(notebooks)})"


def _identify(path: Path, root: Path, roster: pd.DataFrame, notebooks: list[str]) -> Submission:
    ids = set(roster["student_id"])
    seeds = dict(zip(roster["student_id"], roster["seed"].astype(int), strict=True))
    from_path = _student_from_path(path, root, ids)
    nb = _read_notebook(path)
    sub = Submission(student_id=from_path, notebook="", path=path, mtime=path.stat().st_mtime)
    if nb is None:
        sub.status = "unreadable"
        sub.details.append(f"{path.name} is not a readable notebook (not JSON with cells)")
        sub.notebook = next((n for n in notebooks if n in path.stem), "")
        return sub
    sub.nb = nb
    meta = nb.get("metadata", {}).get(METADATA_KEY, {})
    sub.metadata = meta if isinstance(meta, dict) else {}
    meta_id = str(sub.metadata.get("student_id") or "")
    if not from_path and meta_id in ids:
        sub.student_id = meta_id
    sub.notebook, how = _notebook_of(path, nb, notebooks, sub.metadata)
    if not sub.student_id or not sub.notebook:
        sub.status = "unidentified"
        if not sub.student_id:
            sub.details.append("no roster id in its folder or file name, nor in its metadata")
        if not sub.notebook:
            sub.details.append(how)
        return sub
    if path.name != f"{sub.notebook}.ipynb" and not path.stem.endswith(sub.notebook):
        sub.flags.add("renamed")
        sub.details.append(f"renamed: file {path.name!r}, identified as {sub.notebook} by {how}")
    if meta_id and meta_id != sub.student_id:
        sub.flags.add("wrong_variant")
        sub.details.append(f"this notebook was released to {meta_id} (seed "
                           f"{sub.metadata.get('seed')}); graded on {sub.student_id}'s own "
                           f"data (seed {seeds[sub.student_id]})")
    elif sub.metadata.get("seed") not in (None, seeds[sub.student_id]):
        sub.flags.add("wrong_variant")
        sub.details.append(f"released with seed {sub.metadata.get('seed')}, but "
                           f"{sub.student_id}'s seed is {seeds[sub.student_id]}")
    return sub


def collect(submissions: str | Path, roster: pd.DataFrame, notebooks: list[str]) -> tuple[
        list[Submission], int]:
    """Every submission under ``submissions`` plus one ``missing`` row per absent notebook.

    ``roster`` has ``student_id, name, seed``; ``notebooks`` are the assigned notebook stems.
    Duplicates (two files for one student and notebook): the newest file (modification
    time, then path) is graded and the others are kept as ``duplicate``. Returns the
    submissions (roster order, then notebook order, then the others) and how many
    checkpoint or ``__MACOSX`` copies were skipped.
    """
    root = Path(submissions)
    found: list[Submission] = []
    skipped = 0
    for path in sorted(root.rglob("*.ipynb")):
        rel = path.relative_to(root).parts
        if any(part in SKIPPED_PARTS for part in rel) or path.name.startswith("._"):
            skipped += 1
            continue
        if path.is_file():
            found.append(_identify(path, root, roster, notebooks))
    _mark_duplicates(found)
    have = {(s.student_id, s.notebook) for s in found if s.status != "unidentified"}
    for sid in roster["student_id"]:
        for stem in notebooks:
            if (sid, stem) not in have:
                found.append(Submission(student_id=sid, notebook=stem, path=None,
                                        status="missing",
                                        details=["no submission found"]))
    order = {sid: i for i, sid in enumerate(roster["student_id"])}
    nb_order = {n: i for i, n in enumerate(notebooks)}
    found.sort(key=lambda s: (order.get(s.student_id, len(order)),
                              nb_order.get(s.notebook, len(nb_order)),
                              str(s.path or "")))
    return found, skipped


def _mark_duplicates(found: list[Submission]) -> None:
    groups: dict[tuple[str, str], list[Submission]] = {}
    for sub in found:
        if sub.status != "unidentified" and sub.student_id and sub.notebook:
            groups.setdefault((sub.student_id, sub.notebook), []).append(sub)
    for subs in groups.values():
        if len(subs) < 2:
            continue
        subs.sort(key=lambda s: (s.mtime, str(s.path)))
        kept = subs[-1]
        for old in subs[:-1]:
            old.status = "duplicate"
            old.details.append(f"superseded by the newer {kept.path.name!r} (not graded)")
        kept.details.append(f"{len(subs) - 1} older submission(s) of this notebook ignored")


#: Source patterns that only a submission trying to read answers or fool the grader has.
TAMPER_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"crmlab\.exercises\.answers|from\s+crmlab\.exercises\s+import[^\n]*\banswers\b|"
                r"\bcrmlab_answers\b|\banswers_(?:module|package|folder)\b|instructor[./\\]answers"),
     "imports the answer functions"),
    (re.compile(r"\bget_question\b|\bQUESTIONS\b|\.expected\(|\bread_key\b|_answer_keys|"
                r"\bexpected_values\b|\bload_answers\b|\bimport_all\b"),
     "reads expected answers"),
    (re.compile(r"CRMLAB_EXERCISES|\bLOG_ENV\b|\bMODE_ENV\b|\bchecking\._log\b"),
     "touches the grading log or mode"),
    (re.compile(r"^\s*def\s+check\s*\(|^\s*check\s*=[^=]|\bex\.check\s*=[^=]|"
                r"\bchecking\.check\s*=[^=]", re.M),
     "replaces check()"),
)


def tamper_reasons(nb: dict[str, Any]) -> list[str]:
    """Why a submission's code looks tampered with (empty when it does not)."""
    code = _code(nb)
    return [why for pattern, why in TAMPER_PATTERNS if pattern.search(code)]


def checked_ids(source: str) -> list[str]:
    """Question ids a cell's source checks."""
    return CHECK_CALL_RE.findall(source)


def relative(path: Path | None, root: str | os.PathLike) -> str:
    """``path`` relative to ``root`` as text (absolute when outside it, ``""`` for None)."""
    if path is None:
        return ""
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)
