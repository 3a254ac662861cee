"""Lecture decks from the course notebooks: slide metadata by rules, reveal.js decks offline.

A deck is made from the *same* notebook as the course page (no second copy that drifts):
reveal.js reads each cell's ``metadata.slideshow.slide_type`` (``slide``, ``subslide``,
``fragment``, ``skip``, ``notes`` or ``-`` for "continue the current slide"), the metadata
JupyterLab's property inspector edits.

**The annotator** (``crmlab slides annotate [NAME...]``, :func:`annotate`) writes that
metadata into notebooks by the rules below, for every cell that has none. A cell whose
``slideshow`` an author set by hand is never changed, and nothing else in the file changes
(sources, outputs and other metadata are compared before writing), so annotating needs no
re-execution. To let the rules decide a cell again, delete its ``slideshow`` entry.

======================  =============  ==========================================================
cell                    slide type     why
======================  =============  ==========================================================
``#`` / ``##`` heading  ``slide``      the title and each numbered section open a slide (a
                                       heading anywhere in the cell, outside code fences)
``###`` heading         ``subslide``   a subsection: a slide below the section's
"Try it" prompt         ``subslide``   the class activity gets its own slide
display math            ``subslide``   a formula (``$$``, ``\\[``, ``\\begin``) gets room to be read
other prose             ``notes``      what the instructor says: speaker notes (key ``S``)
raw cell                ``skip``       not part of the lecture
``parameters`` cell     ``skip``       the knobs, not the lesson
``reading`` cell        ``fragment``   the computed reading appears on a click, code hidden
figure output           ``subslide``   each figure on its own slide
no visible output       ``skip``       imports, definitions, ``record(...)`` calls
long code               ``skip``       more than :data:`SHOW_CODE_LINES` lines: not shown live
other code              ``-``          short code shown with its output on the current slide
======================  =============  ==========================================================

**The deck** (:func:`write_deck`, ``make slides``, ``crmlab build --slides``) applies the same
rules in memory to cells without metadata, so a deck is right before and after the
notebooks are annotated. In a deck, code longer than :data:`SHOW_CODE_LINES` lines (a
figure's plotting code), the code of ``reading`` cells and code an author hid
(``jupyter.source_hidden``) are not shown, only their outputs. Decks load reveal.js and
MathJax from ``build/assets`` (:mod:`crmlab.course.site`), so they work opened from disk offline.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmlab.nb import RECORD_MIMETYPE

SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")
#: Code cells with more non-blank lines than this are skipped (no figure) or shown without
#: their code (with a figure) in a deck: about what a class can read from a projector.
SHOW_CODE_LINES = 12
FIGURE_MIMETYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
READING_TAG = "reading"
PARAMETERS_TAG = "parameters"

_DISPLAY_MATH = re.compile(r"\$\$|\\\[|\\begin\{")
_TRY_IT = re.compile(r"^\W*try it\b", re.IGNORECASE)


@dataclass(frozen=True)
class Annotation:
    """One cell the annotator gave a slide type: its index, the type and the rule's name."""

    cell: int
    slide_type: str
    rule: str


def _source(cell: Mapping[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def heading_levels(markdown: str) -> list[int]:
    """Levels of the ATX headings (``#`` .. ``######``) of a markdown cell, outside code fences.

    A course cell often ends one section and opens the next ("**Summary.** ...", then
    ``## 2. ...``), so every line counts, not only the first.
    """
    levels, fence = [], None
    for line in markdown.splitlines():
        stripped = line.strip()
        marker = re.match(r"(`{3,}|~{3,})", stripped)
        if marker:
            if fence is None:
                fence = marker.group(1)[0]
            elif stripped[0] == fence:
                fence = None
            continue
        heading = re.match(r"(#{1,6})\s+\S", stripped) if fence is None else None
        if heading:
            levels.append(len(heading.group(1)))
    return levels


def _code_lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip())


def _has_figure(cell: Mapping[str, Any]) -> bool:
    return any(mime in out.get("data", {}) for out in cell.get("outputs", [])
               for mime in FIGURE_MIMETYPES)


def _visible_output(cell: Mapping[str, Any]) -> bool:
    """Whether a code cell shows something in a lecture (a ``record`` output does not)."""
    for out in cell.get("outputs", []):
        if out.get("output_type") in ("stream", "error"):
            return True
        data = out.get("data", {})
        if RECORD_MIMETYPE not in data and data:
            return True
    return False


def has_slide_type(cell: Mapping[str, Any]) -> bool:
    """Whether an author (or an earlier run) set the cell's slideshow metadata."""
    return "slideshow" in cell.get("metadata", {})


def classify(cell: Mapping[str, Any]) -> tuple[str, str]:
    """The rule's ``(slide_type, rule name)`` for one cell (see the module's table)."""
    kind = cell.get("cell_type")
    text = _source(cell)
    if kind == "markdown":
        first = _first_line(text)
        levels = heading_levels(text)
        if any(level <= 2 for level in levels):
            return "slide", "heading"
        if levels:
            return "subslide", "subheading"
        if _TRY_IT.match(first):
            return "subslide", "try-it"
        if _DISPLAY_MATH.search(text):
            return "subslide", "display-math"
        return "notes", "prose"
    if kind != "code":
        return "skip", "raw"
    tags = cell.get("metadata", {}).get("tags", [])
    if PARAMETERS_TAG in tags:
        return "skip", "parameters"
    if READING_TAG in tags:
        return "fragment", "reading"
    if _has_figure(cell):
        return "subslide", "figure"
    if not _visible_output(cell):
        return "skip", "no-output"
    if _code_lines(text) > SHOW_CODE_LINES:
        return "skip", "long-code"
    return "-", "short-code"


def annotate_notebook(nb: Any) -> list[Annotation]:
    """Set ``metadata.slideshow.slide_type`` on every cell that has no ``slideshow`` yet.

    Changes ``nb`` in place (a mapping with ``cells``) and returns what it set. Cells with
    ``slideshow`` metadata are left exactly as they are.
    """
    done = []
    for i, cell in enumerate(nb["cells"]):
        if has_slide_type(cell):
            continue
        slide_type, rule = classify(cell)
        cell.setdefault("metadata", {})["slideshow"] = {"slide_type": slide_type}
        done.append(Annotation(i, slide_type, rule))
    return done


def _without_slideshow(nb: Any) -> Any:
    plain = copy.deepcopy(dict(nb))
    plain["cells"] = [dict(c, metadata={k: v for k, v in c.get("metadata", {}).items()
                                        if k != "slideshow"}) for c in nb["cells"]]
    return json.loads(json.dumps(plain))


def annotate(paths: Iterable[str | os.PathLike], write: bool = True) -> dict[Path, list[Annotation]]:
    """Annotate notebook files (see :func:`annotate_notebook`); return what each got.

    The file is rewritten only when a cell got metadata, through nbformat, which writes the
    committed notebooks byte for byte as they are; before writing, the notebook without
    ``slideshow`` entries is checked to equal the original without them, so sources, outputs
    and other metadata cannot change. ``write=False`` only reports.
    """
    import nbformat

    report: dict[Path, list[Annotation]] = {}
    for path in map(Path, paths):
        original = nbformat.read(path, as_version=4)
        nb = copy.deepcopy(original)
        done = annotate_notebook(nb)
        report[path] = done
        if not done or not write:
            continue
        if _without_slideshow(nb) != _without_slideshow(original):  # pragma: no cover - guard
            raise RuntimeError(f"annotate: {path} would change more than slide metadata")
        nbformat.write(nb, path)
    return report


# --------------------------------------------------------------------------- decks


def prepare_deck(nb: Any) -> Any:
    """A copy of ``nb`` ready for reveal.js: rules for unannotated cells, long code hidden.

    Works on notebooks with or without slide metadata (and on partly annotated ones).
    """
    deck = copy.deepcopy(nb)
    annotate_notebook(deck)
    for cell in deck.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata
        hidden = (READING_TAG in meta.get("tags", [])
                  or meta.get("jupyter", {}).get("source_hidden", False)
                  or _code_lines(_source(cell)) > SHOW_CODE_LINES)
        if hidden:
            meta["transient"] = {"remove_source": True}
        cell.outputs = [out for out in cell.get("outputs", [])
                        if RECORD_MIMETYPE not in out.get("data", {})]
    shown = [c for c in deck.cells if c.metadata["slideshow"].get("slide_type") not in ("skip", "notes")]
    if not shown and deck.cells:  # reveal.js needs one visible cell
        deck.cells[0].metadata["slideshow"] = {"slide_type": "slide"}
    return deck


@functools.cache
def deck_exporter() -> Any:
    """One reveal.js exporter per process: offline template, the site's fast HTML pass."""
    from nbconvert import SlidesExporter

    from crmlab.course.build import _fast_exporter, _own_html
    from crmlab.course.site import deck_settings

    exporter = _fast_exporter(SlidesExporter)(**deck_settings())
    exporter.register_filter("clean_html", _own_html)
    return exporter


def write_deck(notebook: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write the reveal.js deck of an executed notebook to ``out`` (an ``.html`` file).

    The deck links ``../assets/`` (reveal.js, MathJax), so ``out`` goes in ``build/slides/``
    beside ``build/assets/`` (:func:`crmlab.course.site.install_assets`).
    """
    import nbformat

    from crmlab.course.build import _title

    notebook, out = Path(notebook), Path(out)
    nb = nbformat.read(notebook, as_version=4)
    deck = prepare_deck(nb)
    text_nb = {"cells": [{"cell_type": c.cell_type, "source": _source(c)} for c in nb.cells]}
    deck.metadata["title"] = _title(text_nb, notebook.stem)
    body, _ = deck_exporter().from_notebook_node(deck, resources={"metadata": {"name": notebook.stem}})
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


def slide_outline(nb: Any) -> list[str]:
    """The slide types a deck of ``nb`` uses, cell by cell (after the rules): for tests and
    for instructors checking a notebook's lecture shape without opening the deck."""
    return [c.metadata["slideshow"].get("slide_type", "-") for c in prepare_deck(nb).cells]
