"""Translation catalogs of the notebooks: extract, status, apply (issue 31, ``crmlab i18n``).

Design
------
The committed notebooks stay English. A translation lives in a **catalog beside them**, one
YAML file per notebook, so translators can work on several notebooks at once without touching
the same file:

* ``locales/<lang>/notebooks/<stem>.yaml`` for ``notebooks/<stem>.ipynb``,
* ``locales/<lang>/demos/<stem>.yaml`` for ``demos/<stem>.ipynb``,
* ``locales/<lang>/exercises/<stem>.yaml`` for ``instructor/exercises/<stem>.ipynb`` (the
  released student versions in ``exercises/`` keep the sources' cell ids and use it too).

A catalog's ``cells:`` maps each **cell id** (nbformat 4.5) to ``kind``, ``hash`` (sha256[:12]
of the English source), ``english`` (that source, a YAML block) and ``<lang>`` (the
translation; empty = not translated yet). Translated cells are every Markdown cell except the
generated navigation cell (generated in the edition's language instead) and every code cell
tagged ``reading`` (its translation is the same code with its strings translated, so a
computed reading stays computed). Plain code cells stay as they are; the text they draw
(figure titles, axis labels, table headers) is translated at run time by :mod:`crmlab.i18n`
from the catalog's ``strings:`` section (this notebook's own strings, English -> translation,
``{name}`` placeholders allowed), its ``values:`` section (text in the cells of the notebook's
own tables, looked up only as table values) and from ``crmlab/locales/<lang>.yaml`` (the
library's).

**Staleness.** :func:`extract` adds new cells with an empty translation. When a cell's English
changed, it keeps the translation, stores the English it was made from as ``old_english`` and
updates ``hash`` and ``english``: the entry is *stale* until the translator updates the
translation and deletes ``old_english``. Without a new extract, a cell whose hash no longer
matches the notebook is stale too. :func:`problems` names the notebook, the cell id and shows
a diff of the English; ``tests/unit/test_i18n.py`` fails on any problem of the notebooks listed
in ``locales/<lang>/TRANSLATED`` (a notebook enters that list when its catalog is complete),
and :func:`status` reports the others.

**Apply and build.** :func:`apply` writes the translated notebook (a current translation
replaces the English source; a missing or stale one leaves the English cell). ``crmlab build
--lang zh-TW`` applies every catalog, runs the notebooks with ``CRMLAB_LANG=zh-TW`` and
``CRMLAB_I18N_STRINGS=<catalog>`` and builds that edition's site and decks into its own folder.

**Terms** come from ``docs/glossary.md`` (:func:`crmlab.i18n.glossary`):
:func:`glossary_mismatches` reports a translated cell whose English uses a glossary term (of
two words or more, where matching is reliable) but whose translation lacks the glossary's
繁體中文 term, or uses a word the glossary avoids.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from crmlab import i18n
from crmlab.course import repository_root

#: Notebook folders of the repository -> their catalog folder under ``locales/<lang>/``.
FOLDERS: dict[str, str] = {"notebooks": "notebooks", "demos": "demos",
                           "instructor/exercises": "exercises", "exercises": "exercises"}
NAVIGATION_TAG = "navigation"
READING_TAG = "reading"
#: The list file of the notebooks whose catalogs must be complete (one path per line).
TRANSLATED_LIST = "TRANSLATED"


def cell_hash(source: str) -> str:
    """sha256 of a cell's source, first 12 hex digits (the catalog's ``hash``)."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]


def _source(cell: Any) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def cell_kind(cell: Any) -> str | None:
    """``"markdown"`` or ``"reading"`` for a cell that is translated, else None."""
    tags = cell.get("metadata", {}).get("tags", [])
    if cell.get("cell_type") == "markdown" and NAVIGATION_TAG not in tags:
        return "markdown"
    if cell.get("cell_type") == "code" and READING_TAG in tags:
        return "reading"
    return None


def translatable_cells(nb: Any) -> list[tuple[str, str, str]]:
    """``(cell id, kind, English source)`` of the translated cells of a notebook, in order."""
    out = []
    for i, cell in enumerate(nb["cells"]):
        kind = cell_kind(cell)
        if kind is None:
            continue
        if not cell.get("id"):
            raise ValueError(f"cell {i} has no id; save the notebook as nbformat 4.5 (JupyterLab "
                             "does) or run nbformat.validator.normalize on it")
        out.append((str(cell["id"]), kind, _source(cell)))
    return out


def _read_nb(path: Path) -> Any:
    import nbformat

    return nbformat.read(path, as_version=4)


def catalog_path(notebook: str | Path, lang: str = "zh-TW", root: Path | None = None) -> Path:
    """The catalog of a notebook: ``locales/<lang>/<folder>/<stem>.yaml`` (see :data:`FOLDERS`)."""
    root = root or repository_root()
    path = Path(notebook).resolve()
    try:
        rel = path.relative_to(root.resolve()).parent.as_posix()
    except ValueError:
        rel = path.parent.name
    # a copy elsewhere (released exercises in build/exercises/, a release per student in
    # build/exercises/<student id>/): by the name of its folder
    folder = FOLDERS.get(rel, FOLDERS.get(path.parent.name, FOLDERS.get(path.parent.parent.name)))
    if folder is None:
        raise ValueError(f"{notebook}: only notebooks in {sorted(FOLDERS)} have catalogs")
    return root / "locales" / lang / folder / f"{path.stem}.yaml"


# --------------------------------------------------------------------------- YAML


class _Block(str):
    """A string written as a YAML literal block (``|``)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Block, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", str(s),
                                                                style="|"))


def read_catalog(path: Path) -> dict[str, Any]:
    """A catalog as a dict (``notebook``, ``language``, ``cells``, ``strings``, ``values``);
    empty when new."""
    if not path.is_file():
        return {"cells": {}, "strings": {}, "values": {}}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValueError(f"{path}: YAML error{where} ({getattr(exc, 'problem', exc)}); a "
                         "translation is a block: 'zh-TW: |' then the text indented") from None
    cells = {str(k): v for k, v in (data.get("cells") or {}).items()}
    return {**data, "cells": cells, "strings": data.get("strings") or {},
            "values": data.get("values") or {}}


def write_catalog(path: Path, catalog: dict[str, Any], lang: str) -> None:
    """Write a catalog: header comment, then its keys with every text as a YAML block; the
    ``values:`` section (text in the cells of the notebook's own tables) only when it has
    entries, after ``strings:``."""
    cells = {}
    for cid, entry in catalog["cells"].items():
        out = {k: v for k, v in entry.items() if k not in ("english", lang, "old_english")}
        out["english"] = _Block(entry.get("english", ""))
        if entry.get("old_english") is not None:
            out["old_english"] = _Block(entry["old_english"])
        out[lang] = _Block(entry.get(lang) or "")
        cells[cid] = out
    body = {"notebook": catalog["notebook"], "language": lang, "cells": cells,
            "strings": catalog.get("strings") or {}}
    if catalog.get("values"):
        body["values"] = catalog["values"]
    head = (f"# {i18n.LANGUAGES[lang]} translation of {catalog['notebook']} (docs/translating.md).\n"
            f"# Edit only the '{lang}' blocks and the right-hand sides of 'strings' and 'values'\n"
            "# (the text in the cells of this notebook's own tables). A cell with\n"
            "# 'old_english' is stale: update its translation to the new 'english', then delete\n"
            "# the 'old_english' block. Refresh with: crmlab i18n extract <notebook>\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + yaml.dump(body, Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                                     width=10_000), encoding="utf-8")


# --------------------------------------------------------------------------- extract


@dataclass
class ExtractReport:
    """What :func:`extract` changed in one catalog."""

    catalog: Path
    added: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    strings_added: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        parts = [f"{len(self.added)} new cell(s)", f"{len(self.stale)} changed (now stale)",
                 f"{len(self.removed)} removed", f"{len(self.strings_added)} new string(s)"]
        return f"{self.catalog}: " + ", ".join(parts)


_DRAWN = re.compile(r"""(?:set_title|set_xlabel|set_ylabel|suptitle|title=|xlabel=|ylabel=|label=)
                        \(?\s*(["'])((?:(?!\1).)*[A-Za-z](?:(?!\1).)*)\1""", re.X)


def drawn_strings(nb: Any) -> list[str]:
    """Plain string literals a notebook's code cells pass as titles, axis labels or legend
    labels: candidates for the catalog's ``strings:`` (f-strings are left to the translator,
    as ``{name}`` templates)."""
    found: list[str] = []
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code" or cell_kind(cell):
            continue
        for m in _DRAWN.finditer(_source(cell)):
            start = m.start(1)
            if _source(cell)[max(0, start - 1):start] != "f" and m.group(2) not in found:
                found.append(m.group(2))
    return found


def extract(notebook: str | Path, lang: str = "zh-TW", root: Path | None = None) -> ExtractReport:
    """Create or update the catalog of ``notebook`` from its current English cells.

    New cells get an empty translation; a changed cell keeps its translation, gets
    ``old_english`` (the English it was made from) and the new ``hash``/``english``; cells no
    longer in the notebook are dropped; drawn strings not yet listed are added empty; the
    ``strings:`` and ``values:`` the translator wrote are kept.
    """
    notebook = Path(notebook)
    path = catalog_path(notebook, lang, root)
    old = read_catalog(path)
    nb = _read_nb(notebook)
    report = ExtractReport(path)
    cells: dict[str, Any] = {}
    for cid, kind, english in translatable_cells(nb):
        entry = dict(old["cells"].get(cid) or {})
        if not entry:
            report.added.append(cid)
            entry = {lang: ""}
        elif entry.get("english") != english:
            if (entry.get(lang) or "").strip():
                entry.setdefault("old_english", entry.get("english", ""))
                report.stale.append(cid)
        entry.update(kind=kind, hash=cell_hash(english), english=english)
        if entry.get("old_english") == english:
            entry.pop("old_english")  # changed back: the translation is current again
        cells[cid] = {k: entry.get(k) for k in ("kind", "hash", "english", "old_english", lang)
                      if k in entry}
    report.removed = [cid for cid in old["cells"] if cid not in cells]
    strings = dict(old["strings"])
    for text in drawn_strings(nb):
        if text not in strings:
            strings[text] = ""
            report.strings_added.append(text)
    rel = notebook.resolve().relative_to((root or repository_root()).resolve()).as_posix()
    write_catalog(path, {"notebook": rel, "cells": cells, "strings": strings,
                         "values": dict(old["values"])}, lang)
    return report


# --------------------------------------------------------------------------- status and checks


@dataclass
class CellState:
    """One translated cell of a notebook against its catalog entry."""

    cell_id: str
    kind: str
    state: str  #: "done", "missing" (no translation) or "stale" (English changed)
    english: str  #: the notebook's English now
    was: str | None = None  #: the English the translation was made from, when stale


def cell_states(notebook: str | Path, lang: str = "zh-TW", root: Path | None = None) -> list[CellState]:
    """The state of every translated cell of ``notebook`` in its catalog."""
    catalog = read_catalog(catalog_path(notebook, lang, root))
    states = []
    for cid, kind, english in translatable_cells(_read_nb(Path(notebook))):
        entry = catalog["cells"].get(cid) or {}
        translated = (entry.get(lang) or "").strip()
        if entry.get("old_english") is not None:
            states.append(CellState(cid, kind, "stale", english, entry["old_english"]))
        elif entry and entry.get("hash") != cell_hash(english) and translated:
            states.append(CellState(cid, kind, "stale", english, entry.get("english", "")))
        elif not translated or entry.get("hash") != cell_hash(english):
            states.append(CellState(cid, kind, "missing", english))
        else:
            states.append(CellState(cid, kind, "done", english))
    return states


def english_diff(was: str, now: str) -> str:
    """A unified diff of a cell's English, old -> new."""
    return "".join(difflib.unified_diff(was.splitlines(keepends=True), now.splitlines(keepends=True),
                                        "translated from", "English now", n=1))


def problems(notebook: str | Path, lang: str = "zh-TW", root: Path | None = None) -> list[str]:
    """Why the catalog of ``notebook`` is not complete and current, one message per cell
    (notebook, cell id, and for a stale cell the diff of its English); empty when it is."""
    name = Path(notebook).as_posix()
    out = []
    for s in cell_states(notebook, lang, root):
        if s.state == "missing":
            out.append(f"{name}: cell {s.cell_id} ({s.kind}) has no {lang} translation; run "
                       f"`crmlab i18n extract {name}` and fill it in")
        elif s.state == "stale":
            out.append(f"{name}: cell {s.cell_id} ({s.kind}) changed since it was translated; "
                       f"update its {lang} text (then delete old_english):\n"
                       + english_diff(s.was or "", s.english))
    catalog = read_catalog(catalog_path(notebook, lang, root))
    for cid, entry in catalog["cells"].items():
        if cell_hash(entry.get("english") or "") != entry.get("hash"):
            out.append(f"{name}: cell {cid}: 'english' was edited by hand (its hash differs); "
                       f"only the {lang} text is edited, run `crmlab i18n extract {name}`")
    return out


def translated_list(lang: str = "zh-TW", root: Path | None = None) -> list[Path]:
    """The notebooks listed in ``locales/<lang>/TRANSLATED`` (paths from the repository root)."""
    root = root or repository_root()
    file = root / "locales" / lang / TRANSLATED_LIST
    if not file.is_file():
        return []
    lines = [ln.split("#", 1)[0].strip() for ln in file.read_text(encoding="utf-8").splitlines()]
    return [root / ln for ln in lines if ln]


def course_notebooks(root: Path | None = None) -> list[Path]:
    """Every notebook that has (or should have) a catalog: lectures, demos, exercise sources."""
    root = root or repository_root()
    return [*sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")),
            *sorted((root / "demos").glob("*.ipynb")),
            *sorted((root / "instructor" / "exercises").glob("[0-9][0-9]_*.ipynb"))]


def status(lang: str = "zh-TW", root: Path | None = None) -> list[dict[str, Any]]:
    """Coverage per notebook: translated share, done, stale and missing cell counts, and
    the empty entries of its ``strings:`` and ``values:``."""
    root = root or repository_root()
    listed = {p.resolve() for p in translated_list(lang, root)}
    rows = []
    for nb in course_notebooks(root):
        states = cell_states(nb, lang, root)
        counts = {k: sum(s.state == k for s in states) for k in ("done", "stale", "missing")}
        catalog = read_catalog(catalog_path(nb, lang, root))
        texts = [*catalog["strings"].values(), *catalog["values"].values()]
        rows.append({"notebook": nb.relative_to(root).as_posix(), "cells": len(states), **counts,
                     "share": counts["done"] / len(states) if states else 1.0,
                     "strings_missing": sum(not v for v in texts),
                     "listed": nb.resolve() in listed})
    return rows


def format_status(rows: list[dict[str, Any]]) -> str:
    """The coverage table of :func:`status` as text (the ``crmlab i18n status`` report)."""
    lines = [f"{'notebook':<58} {'cells':>5} {'done':>5} {'stale':>5} {'miss':>5} {'share':>6}  "
             "strings  TRANSLATED"]
    for r in rows:
        lines.append(f"{r['notebook']:<58} {r['cells']:>5} {r['done']:>5} {r['stale']:>5} "
                     f"{r['missing']:>5} {r['share']:>6.0%}  {r['strings_missing']:>7}  "
                     f"{'yes' if r['listed'] else ''}")
    total = sum(r["cells"] for r in rows)
    done = sum(r["done"] for r in rows)
    lines.append(f"{'all':<58} {total:>5} {done:>5} {sum(r['stale'] for r in rows):>5} "
                 f"{sum(r['missing'] for r in rows):>5} {done / max(total, 1):>6.0%}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- apply


def apply(notebook: str | Path, output: str | Path, lang: str = "zh-TW",
          root: Path | None = None) -> dict[str, int]:
    """Write the ``lang`` edition of ``notebook`` to ``output``; return the counts of cells
    translated and left English (missing or stale translations keep the English cell).

    The navigation cell of a course notebook is generated in ``lang``; the notebook's metadata
    records the language (``metadata.crmlab.language``).
    """
    import nbformat

    notebook, output = Path(notebook), Path(output)
    nb = _read_nb(notebook)
    catalog = read_catalog(catalog_path(notebook, lang, root))
    counts = {"translated": 0, "english": 0}
    for cell in nb.cells:
        if cell_kind(cell) is None:
            continue
        entry = catalog["cells"].get(str(cell.get("id"))) or {}
        text = _current_translation(cell, entry, lang)
        if text:
            cell.source = text
            counts["translated"] += 1
        else:
            counts["english"] += 1
    _translate_navigation(nb, notebook.stem, lang, root)
    nb.metadata.setdefault("crmlab", {}).update(
        language=lang, catalog=str(catalog_path(notebook, lang, root).resolve()))
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, output)
    return counts


def _current_translation(cell: Any, entry: dict[str, Any], lang: str) -> str | None:
    """The current translation of a cell, or None (missing or stale). A released exercise's
    Markdown cell differs from its source where a model answer became the stub: it gets the
    student version of the translation (:func:`~crmlab.course.exercises.release.student_markdown`)."""
    text = entry.get(lang) or ""
    if entry.get("old_english") is not None or not text.strip():
        return None
    source, english = _source(cell), entry.get("english") or ""
    if entry.get("hash") == cell_hash(source):
        return text
    if cell.get("cell_type") == "markdown" and entry.get("hash") == cell_hash(english):
        from crmlab.course.exercises.release import student_markdown

        if student_markdown(english) == source:
            return student_markdown(text)
    return None


def _translate_navigation(nb: Any, stem: str, lang: str, root: Path | None) -> None:
    """Regenerate the navigation cell (if any) in ``lang``."""
    from crmlab.course.build import navigation_markdown

    for cell in nb.cells:
        if NAVIGATION_TAG in cell.get("metadata", {}).get("tags", []):
            cell.source = navigation_markdown(stem, root or repository_root(), lang=lang)


# --------------------------------------------------------------------------- the edition's build


def translate_sources(sources: list[Path], out: Path, lang: str,
                      root: Path | None = None) -> list[Path]:
    """Apply the catalogs of ``sources`` into ``out/<name>.ipynb`` (the notebooks the ``lang``
    edition executes); return the new paths, in the same order."""
    return [_applied(src, out / src.name, lang, root) for src in sources]


def _applied(src: Path, dest: Path, lang: str, root: Path | None) -> Path:
    apply(src, dest, lang, root)
    return dest


@contextlib.contextmanager
def edition_environment(notebook: str | Path, missing_dir: Path | None = None) -> Iterator[None]:
    """The environment of a kernel that runs a translated notebook (:func:`apply` wrote its
    language and catalog into its metadata): ``CRMLAB_LANG``, ``CRMLAB_I18N_STRINGS`` (its
    catalog) and, with ``missing_dir``, ``CRMLAB_I18N_MISSING`` (``<stem>.missing.txt``, the
    strings no catalog knew). An English notebook runs in the environment as it is."""
    import nbformat

    meta = nbformat.read(notebook, as_version=4).metadata.get("crmlab", {})
    if not meta.get("language"):
        yield
        return
    catalog = meta.get("catalog", "")  # none yet: the package's strings only
    values = {i18n.LANG_ENV: meta["language"],
              i18n.STRINGS_ENV: catalog if catalog and Path(catalog).is_file() else ""}
    if missing_dir is not None:
        missing = Path(missing_dir) / f"{Path(notebook).stem}.missing.txt"
        missing.parent.mkdir(parents=True, exist_ok=True)
        missing.unlink(missing_ok=True)
        values[i18n.MISSING_ENV] = str(missing)
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def translate_exercises(released: Path, out: Path, lang: str, root: Path | None = None) -> list[Path]:
    """The released student exercise notebooks (``released/*.ipynb``, or
    ``released/<student id>/*.ipynb`` of a release per student; same cell ids as their
    sources in instructor/exercises/) in ``lang``, written to ``out`` in the same layout."""
    released = Path(released)
    pattern = "[0-9][0-9]_*_exercises.ipynb"
    notebooks = sorted([*released.glob(pattern), *released.glob(f"*/{pattern}")])
    return [_applied(src, out / src.relative_to(released), lang, root) for src in notebooks]


def start_edition(notebooks_dir: Path, sources: list[Path], out_dir: Path,
                  lang: str) -> tuple[list[Path], Path, Path]:
    """Prepare ``crmlab build --lang``: every notebook of ``notebooks_dir`` translated into
    ``out_dir/<lang>/sources/`` (the site lists them all, with their translated titles), the
    released exercises of ``out_dir/exercises/`` (else the committed student versions of
    ``exercises/``) into ``out_dir/<lang>/exercises/``.

    Returns the translated ``sources`` (the notebooks to run), the folder listing the
    edition's course and the edition's output folder.
    """
    if lang not in i18n.LANGUAGES or lang == "en":
        raise ValueError(f"build: --lang {lang!r} is not an edition; use one of "
                         f"{sorted(set(i18n.LANGUAGES) - {'en'})} (English is the default)")
    edition = Path(out_dir) / lang
    listing = edition / "sources"
    everything = sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb"))
    translated = dict(zip(everything, translate_sources(everything, listing, lang), strict=True))
    released = Path(out_dir) / "exercises"  # make materials releases them there first
    translate_exercises(released if released.is_dir() else repository_root() / "exercises",
                        edition / "exercises", lang)
    return [translated[src] for src in sources], listing, edition


def finish_edition(out_dir: Path, lang: str) -> dict[str, list[str]]:
    """After the edition's site is published: its glossary page with the edition's language
    first; returns the strings no catalog knew, per notebook (also in ``i18n/missing.json``)."""
    import json

    from crmlab.course.site import render_glossary_page

    source = out_dir / "i18n" / "glossary.md"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(glossary_markdown(lang), encoding="utf-8")
    render_glossary_page(source, out_dir)
    _translate_demo_pages(out_dir, lang)
    translated = {p.stem for folder in ("sources", "exercises", "demos")
                  for p in (out_dir / folder).glob("*.ipynb")}
    for page in [*(out_dir / "site").glob("*.html"), *(out_dir / "slides").glob("*.html")]:
        if page.stem in translated | {"glossary"}:
            _mark_language(page, lang)
    missing = missing_strings(out_dir / "i18n")
    (out_dir / "i18n" / "missing.json").write_text(json.dumps(missing, ensure_ascii=False, indent=1),
                                                   encoding="utf-8")
    return missing


def _translate_demo_pages(out_dir: Path, lang: str) -> list[Path]:
    """The live demos that have a catalog, translated into ``out_dir/demos`` and their pages
    rendered again from there. The demos of the lectures this build executed (its manifest)
    are executed too, in ``lang`` (:func:`crmlab.course.demos.execute_translated_demos`: the
    chart, the widget's labels and the readings in the edition's language); the others keep
    the committed English outputs."""
    import json

    from crmlab.course.build import demo_notebooks
    from crmlab.course.demos import execute_translated_demos
    from crmlab.course.site import render_demo_pages, rewrite_links

    demos = [d for d in sorted((repository_root() / "demos").glob("[0-9][0-9]_*_demo.ipynb"))
             if catalog_path(d, lang).is_file()]
    if not demos:
        return []
    translated = translate_sources(demos, out_dir / "demos", lang)
    manifest = out_dir / "manifest.json"
    built = json.loads(manifest.read_text(encoding="utf-8"))["notebooks"] if manifest.is_file() else {}
    wanted = {demo for stem in built for demo in demo_notebooks(stem)}
    execute_translated_demos([t for t in translated if t.stem in wanted], out_dir / "i18n")
    pages = render_demo_pages(out_dir / "demos", out_dir,
                              lessons=[p.stem for p in (out_dir / "sources").glob("*.ipynb")])
    rewrite_links(out_dir / "site")
    return pages


def _mark_language(page: Path, lang: str) -> None:
    """Declare a translated page's language (``<html lang="zh-TW">``): screen readers read it
    as Chinese and browsers pick the Traditional glyph forms of a CJK font."""
    text = page.read_text(encoding="utf-8")
    marked = re.sub(r'<html lang="en"', f'<html lang="{lang}"', text, count=1)
    if marked != text:
        page.write_text(marked, encoding="utf-8")


def glossary_markdown(lang: str = "zh-TW") -> str:
    """The glossary page of an edition: the terms of docs/glossary.md with the edition's
    language first (zh-TW: 繁體中文 | English | 简体中文 | 單元 | meaning)."""
    if lang != "zh-TW":
        raise ValueError(f"glossary_markdown: no glossary layout for {lang!r}; use 'zh-TW'")
    lines = ["# 詞彙表 · Glossary", "",
             "本課程的 CRM 術語（來源：docs/glossary.md，兩種版本共用同一份詞彙表）。", "",
             "| 繁體中文 | English | 简体中文 | 單元 | meaning |", "|---|---|---|---|---|"]
    lines += [f"| {r['zh-TW']} | {r['english']} | {r['zh-CN']} | {r['unit']} | {r['meaning']} |"
              for r in sorted(i18n.glossary(), key=lambda r: (r["unit"], r["zh-TW"]))]
    return "\n".join(lines) + "\n"


def missing_strings(missing_dir: Path) -> dict[str, list[str]]:
    """``{notebook stem: strings no catalog knew}`` from a build's ``*.missing.txt`` files."""
    import ast

    out = {}
    for file in sorted(Path(missing_dir).glob("*.missing.txt")):
        seen = [ast.literal_eval(line) for line in file.read_text(encoding="utf-8").splitlines() if line]
        out[file.name.removesuffix(".missing.txt")] = list(dict.fromkeys(seen))
    return out


# --------------------------------------------------------------------------- glossary


def _variants(term: str) -> list[str]:
    """Spellings of a glossary cell: ``"member / registered customer"`` -> both parts,
    ``"真實值（模擬設定值）"`` -> the whole and the part before the parenthesis."""
    out = []
    for part in re.split(r"\s+/\s+|／|、", term):
        part = part.strip()
        bare = re.sub(r"\s*[（(][^）)]*[）)]", "", part).strip()
        out += [p for p in (part, bare) if p]
    return list(dict.fromkeys(out))


def glossary_terms(path: Path | None = None) -> list[tuple[re.Pattern[str], list[str], str]]:
    """``(English pattern, 繁體中文 spellings, English term)`` for the glossary terms that are
    matched reliably: two words or more (one-word terms such as "lead" or "frequency" are
    also everyday words)."""
    terms = []
    for row in i18n.glossary(path):
        english = [v for v in _variants(row["english"]) if len(v.split()) >= 2]
        if not english:
            continue
        pattern = re.compile(r"\b(?:" + "|".join(re.escape(e) for e in english) + r")s?\b", re.I)
        terms.append((pattern, _variants(row["zh-TW"]), row["english"]))
    return terms


def glossary_mismatches(notebook: str | Path, lang: str = "zh-TW",
                        root: Path | None = None) -> list[str]:
    """Translated cells of ``notebook`` that do not use the glossary's 繁體中文 word for a
    term their English uses, or that use a word the glossary avoids (one message each)."""
    if lang != "zh-TW":
        return []
    catalog = read_catalog(catalog_path(notebook, lang, root))
    terms = glossary_terms()
    avoided = i18n.avoided_words()
    name = Path(notebook).as_posix()
    out = []
    for cid, entry in catalog["cells"].items():
        text = entry.get(lang) or ""
        if not text.strip():
            continue
        english = entry.get("english") or ""
        for pattern, spellings, term in terms:
            if pattern.search(english) and not any(s in text for s in spellings):
                out.append(f"{name}: cell {cid} uses '{term}' but its translation has none of "
                           f"{spellings} (docs/glossary.md)")
        for word, use in avoided.items():
            if word in text:
                out.append(f"{name}: cell {cid} writes {word}; the glossary uses {use}")
    return out



_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"  # Han characters and full-width punctuation
_BLOCK_START = re.compile(r"\s*(?:[*+-] |\d+\. |#|\||```|\$\$|>)")


def _cjk_breaks(markdown: str) -> list[str]:
    """The places where a paragraph or list item continues on the next line between two
    Chinese characters (headings, tables and new list items start blocks of their own)."""
    lines = markdown.split("\n")
    found = []
    for a, b in zip(lines, lines[1:], strict=False):
        if not (a.strip() and b.strip()) or a.lstrip().startswith(("#", "|", "```")):
            continue
        if not _BLOCK_START.match(b) and re.search(f"[{_CJK}]$", a) and re.match(f"\\s*[{_CJK}]", b):
            found.append(f"{a[-1]}\\n{b.strip()[0]}")
    return found


def style_problems(notebook: str | Path, lang: str = "zh-TW", root: Path | None = None) -> list[str]:
    """Markdown translations that break a line between two Chinese characters (Markdown turns
    the break into a space, visible in Chinese): write each paragraph on one line."""
    catalog = read_catalog(catalog_path(notebook, lang, root))
    name = Path(notebook).as_posix()
    return [f"{name}: cell {cid}: a line break inside a Chinese sentence ({breaks[0]}) shows as "
            "a space; write each paragraph or list item on one line"
            for cid, entry in catalog["cells"].items() if entry.get("kind") == "markdown"
            if (breaks := _cjk_breaks(entry.get(lang) or ""))]


# --------------------------------------------------------------------------- the command


def _resolve(names: list[str], root: Path) -> list[Path]:
    """Notebook paths from arguments: paths, stems (``00_welcome``) or numbers (``00``)."""
    if not names:
        return course_notebooks(root)
    found = []
    for name in names:
        path = Path(name)
        if path.suffix == ".ipynb" and path.is_file():
            found.append(path.resolve())
            continue
        matches = [p for p in course_notebooks(root)
                   if p.stem == name or p.stem.split("_", 1)[0] == name]
        if not matches:
            raise ValueError(f"crmlab i18n: no notebook {name!r}; give a path such as "
                             "notebooks/00_welcome.ipynb, a stem or a number")
        found += [m for m in matches if m not in found]
    return found


def _run(args: argparse.Namespace) -> int:
    root = repository_root()
    lang = args.lang
    if lang not in i18n.LANGUAGES or lang == "en":
        raise ValueError(f"--lang {lang!r}: translate into one of "
                         f"{sorted(set(i18n.LANGUAGES) - {'en'})}")
    if args.i18n_command == "extract":
        for nb in _resolve(args.notebooks, root):
            print(extract(nb, lang, root))
        return 0
    if args.i18n_command == "status":
        rows = [r for r in status(lang, root)
                if not args.notebooks or any(Path(n).stem in r["notebook"] or
                                             r["notebook"].split("/")[-1].startswith(n)
                                             for n in args.notebooks)]
        print(format_status(rows))
        bad = []
        for nb in translated_list(lang, root):
            bad += (problems(nb, lang, root) + glossary_mismatches(nb, lang, root)
                    + style_problems(nb, lang, root))
        for line in bad:
            print(line)
        if args.build:
            for stem, texts in missing_strings(Path(args.build) / "i18n").items():
                print(f"{stem}: {len(texts)} string(s) no catalog knew: " + ", ".join(map(repr, texts[:20]))
                      + (" ..." if len(texts) > 20 else ""))
        return 1 if bad else 0
    out = Path(args.out)
    for nb in _resolve(args.notebooks, root):
        counts = apply(nb, out / nb.name, lang, root)
        print(f"{out / nb.name}: {counts['translated']} cell(s) translated, "
              f"{counts['english']} left in English")
    return 0


def register(subparsers: Any) -> None:
    """Add ``crmlab i18n extract|status|apply`` to the ``crmlab`` command."""
    p = subparsers.add_parser("i18n", help="translation catalogs of the notebooks (docs/translating.md)")
    sub = p.add_subparsers(dest="i18n_command", required=True)
    e = sub.add_parser("extract", help="create or update the catalogs of notebooks (new cells "
                                       "empty, changed cells flagged stale)")
    e.add_argument("notebooks", nargs="*", help="paths, stems or numbers (default: all)")
    s = sub.add_parser("status", help="coverage per notebook; problems of the TRANSLATED ones")
    s.add_argument("notebooks", nargs="*", help="only these (default: all)")
    s.add_argument("--build", metavar="DIR", help="also list the strings a build of the edition "
                                                  "met untranslated (DIR = e.g. build/zh-TW)")
    a = sub.add_parser("apply", help="write translated notebooks")
    a.add_argument("notebooks", nargs="*", help="paths, stems or numbers (default: all)")
    a.add_argument("--out", default="build/zh-TW/sources", help="output folder")
    for q in (e, s, a):
        q.add_argument("--lang", default="zh-TW", help="edition language (default zh-TW)")
        q.set_defaults(func=_run)
