"""The course site around the executed notebooks: offline assets, navigation, the index.

:func:`crmlab.course.build.build` executes the notebooks and renders one page per notebook; this
module makes those pages into a site that works **offline** (a classroom without internet, an
LMS that blocks outside scripts):

* :func:`install_assets` copies MathJax 3 (from the ``django-static-mathjax`` package, which
  needs no Django: it only ships MathJax's files) and reveal.js (from ``sphinx-revealjs``)
  into ``build/assets/``. Both are ordinary PyPI
  dependencies of crmlab, so the files arrive with ``make install``; nothing is downloaded
  when the course is built or read. The page and deck templates (``crmlab/course/templates/``)
  load every script and style sheet from there, by relative paths, so ``build/`` can be
  opened from disk, copied to a USB stick or served by any web server.
* :func:`render_exercise_pages` renders the student version of each exercise notebook
  (``build/exercises/NN_*_exercises.ipynb``, from ``crmlab exercises release``) as a page.
* :func:`write_index` writes the course map (a table that becomes cards on a phone) and
  :func:`write_navigation` puts previous/next links and the course map on every page.
* :func:`publish` does all of that for a build; :func:`publish_committed` renders pages and
  decks from notebooks that already hold their outputs (the committed ones), without
  executing anything: ``crmlab slides build`` and the browser tests use it.

Layout of ``build/``::

    assets/   mathjax/, reveal.js/, crmlab.css, assets.json (versions of the copied packages)
    site/     index.html, NN_topic.html, NN_topic_exercises.html
    slides/   NN_topic.html (reveal.js decks, crmlab.course.slides)
"""

from __future__ import annotations

import html
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The folder under ``build/`` that holds every script, font and style sheet of the site.
ASSETS = "assets"
#: Templates of course pages and decks (package data).
TEMPLATES = Path(__file__).with_name("templates")
PAGE_TEMPLATE = "crmlab_page.html.j2"
DECK_TEMPLATE = "crmlab_deck.html.j2"
#: MathJax 3's TeX input with every TeX package and SVG output: formulas are drawn as paths,
#: so no web font is loaded (a page opened from disk cannot load fonts in Chromium).
MATHJAX_URL = f"../{ASSETS}/mathjax/es5/tex-svg-full.js"
REVEAL_URL = f"../{ASSETS}/reveal.js"

NAV_MARKERS = {
    "top": ("<!--crmlab-nav-->", "<!--/crmlab-nav-->"),
    "bottom": ("<!--crmlab-nav-bottom-->", "<!--/crmlab-nav-bottom-->"),
}


class AssetsMissing(RuntimeError):
    """A package that vendors the site's scripts is not installed (``make install``)."""


@dataclass(frozen=True)
class VendoredAsset:
    """Files of a JavaScript library as a PyPI package ships them.

    ``name`` is the folder under ``build/assets/``; ``module``/``subdir`` locate the files
    inside the installed package; ``keep`` lists the sub-paths copied (all when empty).
    """

    name: str
    distribution: str
    module: str
    subdir: str
    keep: tuple[str, ...] = ()


VENDORED: tuple[VendoredAsset, ...] = (
    # MathJax 3's browser build (es5/): the combined file the pages load and the components
    # its menu loads on demand (accessibility, speech, other renderers).
    VendoredAsset("mathjax", "django-static-mathjax", "mathjax", "static/mathjax",
                  keep=("LICENSE", "es5")),
    # reveal.js 5 (UMD build), the white theme with its fonts, the speaker-notes plugin.
    VendoredAsset(
        "reveal.js", "sphinx-revealjs", "sphinx_revealjs", "_static/revealjs",
        keep=("LICENSE", "dist/reveal.js", "dist/reveal.css", "dist/reset.css",
              "dist/theme/white.css", "dist/theme/fonts", "plugin/notes/notes.js"),
    ),
)

#: The site's own style sheet (navigation, the index's table and cards, deck tweaks).
SITE_CSS = """\
/* crmlab course site: navigation, index, decks (written by crmlab.course.site.install_assets) */
.crmlab-nav { font: 15px/1.4 system-ui, "Noto Sans CJK TC", "Noto Sans TC", sans-serif;
  background: #f4f6f8; border-bottom: 1px solid #d0d7de; padding: .5rem 1rem; }
.crmlab-nav.bottom { border-top: 1px solid #d0d7de; border-bottom: 0; margin-top: 2rem; }
.crmlab-nav .bar { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; align-items: baseline;
  max-width: 1200px; margin: 0 auto; }
.crmlab-nav a { color: #0b5cad; text-decoration: none; }
.crmlab-nav a:hover, .crmlab-nav a:focus { text-decoration: underline; }
.crmlab-nav .prev, .crmlab-nav .next { max-width: 22rem; overflow: hidden;
  text-overflow: ellipsis; white-space: nowrap; }
.crmlab-nav .next { margin-left: auto; }
.crmlab-nav details { max-width: 1200px; margin: .3rem auto 0; }
.crmlab-nav summary { cursor: pointer; color: #0b5cad; }
.crmlab-nav ol { columns: 2 22rem; margin: .4rem 0; padding-left: 1.6rem; }
.crmlab-nav li { break-inside: avoid; }
.crmlab-nav li.exercise { list-style: none; margin-left: 1rem; font-size: .92em; }
.crmlab-nav [aria-current="page"] { font-weight: 600; color: #1f2328; }

body.crmlab-index { font: 16px/1.5 system-ui, "Noto Sans CJK TC", "Noto Sans TC", sans-serif;
  max-width: 76rem; margin: 1.5rem auto; padding: 0 1rem; color: #1f2328; }
.crmlab-index .table-wrap { overflow-x: auto; }
.crmlab-index table { border-collapse: collapse; width: 100%; }
.crmlab-index th, .crmlab-index td { border-bottom: 1px solid #d0d7de; padding: .45rem .6rem;
  text-align: left; vertical-align: top; overflow-wrap: anywhere; }
.crmlab-index td.slides, .crmlab-index th { white-space: nowrap; }
.crmlab-index th { background: #f4f6f8; }
.crmlab-index td.num { text-align: right; white-space: nowrap; }
.crmlab-index code { font-size: .88em; }
@media (max-width: 760px) {
  /* a phone: every notebook becomes a card, each cell a labelled line */
  .crmlab-index thead { position: absolute; left: -9999px; }
  .crmlab-index table, .crmlab-index tbody, .crmlab-index tr, .crmlab-index td { display: block; }
  .crmlab-index tr { border: 1px solid #d0d7de; border-radius: 6px; margin: 0 0 .8rem;
    padding: .3rem .2rem; }
  .crmlab-index td { border: 0; padding: .15rem .6rem; }
  .crmlab-index td.num { text-align: left; }
  .crmlab-index td::before { content: attr(data-label) ": "; font-weight: 600; color: #57606a; }
}

/* decks: a slide taller than the screen scrolls instead of being cut off */
.reveal .slides > section, .reveal .slides > section > section { height: 100%;
  overflow-y: auto; }
.reveal .jp-OutputArea-output img { max-height: 62vh; width: auto; }
/* the theme's style sheet comes later in a deck: these selectors are more specific */
.reveal .slides h1, .reveal .slides h2, .reveal .slides h3 { text-transform: none; }
.reveal .slides h1 { font-size: 1.9em; }
.reveal .slides h2 { font-size: 1.45em; }
"""


# --------------------------------------------------------------------------- assets


def vendored_root(asset: VendoredAsset) -> Path:
    """Folder of ``asset``'s files in the installed package; :class:`AssetsMissing` if absent."""
    spec = importlib.util.find_spec(asset.module)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    root = Path(locations[0]) / asset.subdir if locations else None
    if root is None or not root.is_dir():
        raise AssetsMissing(
            f"the course site needs {asset.name} from the PyPI package {asset.distribution!r}, "
            f"which is not installed: run `make install` (or pip install {asset.distribution})"
        )
    return root


def _asset_versions() -> dict[str, str]:
    versions = {}
    for asset in VENDORED:
        try:
            versions[asset.name] = f"{asset.distribution} {importlib.metadata.version(asset.distribution)}"
        except importlib.metadata.PackageNotFoundError:
            versions[asset.name] = f"{asset.distribution} (unknown version)"
    return versions


def install_assets(out_dir: str | os.PathLike) -> Path:
    """Copy the vendored scripts into ``out_dir/assets`` (once per package version).

    ``assets.json`` records the package versions copied; when they match, the (about
    30 MB of) files are left as they are. ``crmlab.css`` is written every time.
    """
    target = Path(out_dir) / ASSETS
    stamp = target / "assets.json"
    versions = _asset_versions()
    roots = {asset.name: vendored_root(asset) for asset in VENDORED}
    current = None
    if stamp.is_file():
        try:
            current = json.loads(stamp.read_text(encoding="utf-8"))
        except ValueError:
            current = None
    if current != versions or not all((target / a.name).is_dir() for a in VENDORED):
        for asset in VENDORED:
            dest = target / asset.name
            if dest.exists():
                shutil.rmtree(dest)
            root = roots[asset.name]
            for part in asset.keep or ("",):
                src = root / part
                if src.is_dir():
                    shutil.copytree(src, dest / part, dirs_exist_ok=True)
                elif src.is_file():
                    (dest / part).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, dest / part)
                else:
                    raise AssetsMissing(
                        f"{asset.distribution} no longer ships {asset.subdir}/{part}; "
                        "crmlab.course.site.VENDORED needs updating for this version"
                    )
        stamp.write_text(json.dumps(versions, indent=2) + "\n", encoding="utf-8")
    (target / "crmlab.css").write_text(SITE_CSS, encoding="utf-8")
    return target


def page_settings() -> dict[str, Any]:
    """Traits of nbconvert's ``HTMLExporter`` for a course page (template, offline URLs)."""
    return {
        "template_file": PAGE_TEMPLATE,
        "extra_template_paths": [str(TEMPLATES)],
        "mathjax_url": MATHJAX_URL,
    }


def deck_settings() -> dict[str, Any]:
    """Traits of nbconvert's ``SlidesExporter`` for a lecture deck (16:9, white theme)."""
    return {
        "template_file": DECK_TEMPLATE,
        "extra_template_paths": [str(TEMPLATES)],
        "mathjax_url": MATHJAX_URL,
        "reveal_url_prefix": REVEAL_URL,
        "reveal_theme": "white",
        "reveal_transition": "slide",
        "reveal_width": "1280",
        "reveal_height": "720",
    }


# --------------------------------------------------------------------------- the course


def _title(nb: Mapping[str, Any], fallback: str) -> str:
    from crmlab.course.build import _title as first_heading

    return first_heading(nb, fallback)


def _read(path: Path) -> Any:
    from crmlab.course.build import _read as read_notebook

    return read_notebook(path)


@dataclass(frozen=True)
class Page:
    """One page of the site, in course order: a notebook or the exercises that follow it."""

    file: str       # file name in site/
    label: str      # link text
    kind: str       # "notebook", "exercises" or "demo"
    lesson: str     # stem of the notebook the page belongs to


def released_exercises(out_dir: str | os.PathLike) -> list[Path]:
    """Student exercise notebooks released into ``out_dir/exercises`` (not per-student folders)."""
    folder = Path(out_dir) / "exercises"
    return sorted(folder.glob("[0-9][0-9]_*.ipynb")) if folder.is_dir() else []


def _number(stem: str) -> str:
    return stem.split("_", 1)[0]


def course_pages(site: Path, notebooks: Iterable[Path]) -> list[Page]:
    """The pages that exist in ``site``, in course order: each notebook, then its exercises.

    Exercises belong to the notebook with the same number (``00_warmup_exercises`` follows
    ``00_welcome``); exercise pages without such a notebook come at the end.
    """
    pages: list[Page] = []
    exercise_files = sorted(p.name for p in site.glob("[0-9][0-9]_*_exercises.html"))
    placed: set[str] = set()
    for src in notebooks:
        stem = src.stem
        if (site / f"{stem}.html").is_file():
            title = _title(_read(src), stem)
            pages.append(Page(f"{stem}.html", f"{_number(stem)} {title}", "notebook", stem))
        for name in exercise_files:
            if _number(name) == _number(stem) and name not in placed:
                placed.add(name)
                pages.append(Page(name, f"Exercises {_number(name)} 練習", "exercises", stem))
    pages += [Page(n, f"Exercises {_number(n)} 練習", "exercises", "") for n in exercise_files
              if n not in placed]
    return _with_demos(site, pages)


def _with_demos(site: Path, pages: list[Page]) -> list[Page]:
    """Each demo page (``site/NN_*_demo.html``) right after the notebook it serves."""
    from crmlab.course.build import demo_notebooks

    out: list[Page] = []
    for page in pages:
        out.append(page)
        if page.kind == "notebook":
            out += [Page(f"{demo}.html", f"Demo {_number(demo)} 互動示範", "demo", page.lesson)
                    for demo in demo_notebooks(page.lesson) if (site / f"{demo}.html").is_file()]
    return out


def _breakable(name: str) -> str:
    """``name`` escaped, with a line-break opportunity after each ``_`` (long file names)."""
    return html.escape(name).replace("_", "_<wbr>")


def _link(href: str, text: str, cls: str = "", rel: str = "") -> str:
    attrs = f' class="{cls}"' if cls else ""
    attrs += f' rel="{rel}"' if rel else ""
    return f'<a href="{html.escape(href)}"{attrs}>{html.escape(text)}</a>'


def navigation(pages: list[Page], index: int, out_dir: Path, where: str = "top") -> str:
    """The navigation of page ``pages[index]``: index, previous/next, slides, the course map."""
    page = pages[index]
    parts = [_link("index.html", "Course map 課程地圖", "home")]
    if index > 0:
        parts.append(_link(pages[index - 1].file, f"← {pages[index - 1].label}", "prev", "prev"))
    deck = out_dir / "slides" / f"{page.lesson}.html"
    if page.kind == "notebook" and deck.is_file():
        parts.append(_link(f"../slides/{page.lesson}.html", "Slides 投影片", "slides"))
    for other in pages:
        if page.kind == "notebook" and other.kind == "exercises" and other.lesson == page.lesson:
            parts.append(_link(other.file, "Exercises 練習", "exercises"))
        if (page.kind == "exercises" and other.kind == "notebook" and other.lesson == page.lesson
                and (index == 0 or pages[index - 1] != other)):  # not when it is "previous"
            parts.append(_link(other.file, f"Back to {_number(other.lesson)}", "lesson"))
    if index + 1 < len(pages):
        parts.append(_link(pages[index + 1].file, f"{pages[index + 1].label} →", "next", "next"))
    bar = f'<div class="bar">{"".join(parts)}</div>'
    if where == "bottom":
        return f'<nav class="crmlab-nav bottom" aria-label="previous and next">{bar}</nav>'
    items = []
    for i, other in enumerate(pages):
        current = ' aria-current="page"' if i == index else ""
        cls = ' class="exercise"' if other.kind == "exercises" else ""
        items.append(f'<li{cls}><a href="{html.escape(other.file)}"{current}>'
                     f"{html.escape(other.label)}</a></li>")
    course_map = (f"<details><summary>All pages of the course 全部頁面</summary>"
                  f"<ol>{''.join(items)}</ol></details>")
    return f'<nav class="crmlab-nav" aria-label="course">{bar}{course_map}</nav>'


def write_navigation(site: Path, notebooks: Iterable[Path], out_dir: Path) -> list[Page]:
    """Write the navigation into every page of the course (between the crmlab-nav markers).

    Runs after all pages exist, so previous/next and the course map are the same on every
    page, including pages left from an earlier build (``--only``). Returns the pages.
    """
    pages = course_pages(site, notebooks)
    for i, page in enumerate(pages):
        path = site / page.file
        text = path.read_text(encoding="utf-8")
        new = text
        for where, (start, end) in NAV_MARKERS.items():
            found = new.find(start)
            stop = new.find(end, found)
            if found < 0 or stop < 0:
                continue  # a page written by another template: leave it as it is
            new = new[: found + len(start)] + navigation(pages, i, out_dir, where) + new[stop:]
        if new != text:
            path.write_text(new, encoding="utf-8")
    return pages


def render_exercise_pages(out_dir: str | os.PathLike) -> list[Path]:
    """One page per released student exercise notebook: ``site/NN_*_exercises.html``."""
    from crmlab.course.build import _html_page

    out_dir = Path(out_dir)
    site = out_dir / "site"
    site.mkdir(parents=True, exist_ok=True)
    written = []
    for notebook in released_exercises(out_dir):
        page = site / f"{notebook.stem}.html"
        _html_page(notebook, page)
        written.append(page)
    return written


def _exercise_links(src: Path, site: Path, exercise_pages: Mapping[str, Path],
                    released: Mapping[str, Path]) -> list[str]:
    """The index's exercise cell of a notebook: its exercise pages (with the released
    ``.ipynb`` to download), else the name of its exercise notebook, else ``-``."""
    stem = src.stem
    cells = []
    for name in sorted(exercise_pages):
        if _number(name) == _number(stem):
            ex_stem = name[: -len(".html")]
            link = f'<a href="{html.escape(name)}">{_breakable(ex_stem)}</a>'
            if ex_stem in released:
                rel = os.path.relpath(released[ex_stem], site)
                link += f' (<a href="{html.escape(rel)}" download>.ipynb</a>)'
            cells.append(link)
    if not cells:
        source_ex = sorted((src.parent.parent / "exercises").glob(
            f"{_number(stem)}_*exercises*.ipynb"))
        cells = [html.escape(f"exercises/{source_ex[0].name}")] if source_ex else ["-"]
    return cells


def _index_row(src: Path, site: Path, manifest: Mapping[str, Any], out_dir: Path,
               exercise_pages: Mapping[str, Path], released: Mapping[str, Path]) -> str:
    """One row of the index: page, title, unit, module, deck, exercises, seconds."""
    from crmlab.i18n import tr
    from crmlab.units import COURSE_MAP, unit_label

    stem, lang = src.stem, manifest.get("language", "en")
    unit, modules = COURSE_MAP[stem][:2] if stem in COURSE_MAP else ("-", "-")
    unit = unit_label(stem, lang) if lang != "en" and stem in COURSE_MAP else unit
    title = html.escape(_title(_read(src), stem))
    page = f'<a href="{stem}.html">{_breakable(stem)}</a>' if (site / f"{stem}.html").is_file() \
        else _breakable(stem)
    deck = (f'<a href="../slides/{stem}.html">{tr("slides", lang)}</a>'
            if (out_dir / "slides" / f"{stem}.html").is_file() else "-")
    ex_cells = _exercise_links(src, site, exercise_pages, released)
    info = manifest.get("notebooks", {}).get(stem, {})
    secs = f"{info['seconds']:.1f}" if "seconds" in info else "-"
    return (
        f'<tr><td data-label="notebook">{page}</td><td data-label="title">{title}</td>'
        f'<td data-label="unit">{html.escape(unit)}</td>'
        f'<td data-label="module"><code>{html.escape(modules)}</code></td>'
        f'<td data-label="slides" class="slides">{deck}</td>'
        f'<td data-label="exercises">{"<br>".join(ex_cells)}</td>'
        f'<td data-label="seconds" class="num">{secs}</td></tr>'
    )


def write_index(site: Path, notebooks: list[Path], manifest: Mapping[str, Any],
                out_dir: Path) -> Path:
    """Write ``site/index.html``: the course map with each notebook's page, deck and exercises.

    The table fits 1280 px; below 760 px (a phone) each row becomes a card. Links point only
    to files that exist.
    """
    exercise_pages = {p.name: p for p in site.glob("[0-9][0-9]_*_exercises.html")}
    released = {p.stem: p for p in released_exercises(out_dir)}
    rows = [_index_row(src, site, manifest, out_dir, exercise_pages, released)
            for src in notebooks]
    from crmlab.i18n import tr

    lang = manifest.get("language", "en")  # the edition (crmlab build --lang): its words
    params = html.escape(json.dumps(manifest.get("parameters", {}), ensure_ascii=False))
    built = html.escape(manifest.get("created", ""))
    record = (tr(' See <a href="../manifest.json">manifest.json</a>.', lang)
              if (out_dir / "manifest.json").is_file() else "")
    first = next((src.stem for src in notebooks if (site / f"{src.stem}.html").is_file()), None)
    start = (f'<p><a href="{first}.html" rel="next">'
             f'{tr("Start with {first} →", lang, first=html.escape(first))}</a></p>' if first else "")
    heads = "".join(f"<th>{tr(h, lang)}</th>" for h in
                    ("notebook", "title", "unit", "module", "slides", "exercises", "seconds"))
    title = tr("crmlab — e-commerce CRM workbook (電商客戶關係管理)", lang)
    intro = tr("The course map: each notebook, its unit, the <code>crmlab</code> module it teaches, "
               "its lecture slides and its exercises. Built {built} with parameters "
               "<code>{params}</code>.", lang, built=built, params=params)
    doc = f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}</title>
<link rel="stylesheet" href="../{ASSETS}/crmlab.css">
</head><body class="crmlab-index">
<h1>{title}</h1>
<p>{intro}{record}</p>
{start}
<div class="table-wrap">
<table>
<thead><tr>{heads}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
</div>
<p>{tr("Every page and deck works offline: MathJax and reveal.js are in <code>build/{assets}/</code>.",
       lang, assets=ASSETS)}</p>
</body></html>
"""
    index = site / "index.html"
    index.write_text(doc, encoding="utf-8")
    return index


def render_demo_pages(demos_dir: str | os.PathLike, out_dir: str | os.PathLike,
                      lessons: Iterable[str] | None = None) -> list[Path]:
    """One page per live demo (``demos/NN_*_demo.ipynb``, committed with the static figure of
    its default values: no widget runs on the site): ``site/NN_*_demo.html``. With
    ``lessons``, only the demos of those course notebooks."""
    from crmlab.course.build import _html_page, demo_notebooks

    site = Path(out_dir) / "site"
    site.mkdir(parents=True, exist_ok=True)
    demos_dir = Path(demos_dir)
    wanted = None if lessons is None else {d for stem in lessons
                                           for d in demo_notebooks(stem, demos_dir.parent)}
    written = []
    for demo in sorted(demos_dir.glob("[0-9][0-9]_*_demo.ipynb")):
        if wanted is not None and demo.stem not in wanted:
            continue
        page = site / f"{demo.stem}.html"
        _html_page(demo, page)
        written.append(page)
    return written


def render_glossary_page(glossary: str | os.PathLike, out_dir: str | os.PathLike) -> Path | None:
    """``docs/glossary.md`` as ``site/glossary.html`` (the notebooks link it), or None if absent."""
    import mistune

    source = Path(glossary)
    if not source.is_file():
        return None
    body = mistune.create_markdown(plugins=["table"])(source.read_text(encoding="utf-8"))
    page = Path(out_dir) / "site" / "glossary.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Glossary 詞彙表 — crmlab</title>
<link rel="stylesheet" href="../{ASSETS}/crmlab.css">
</head><body class="crmlab-index">
<p><a href="index.html">Course map 課程地圖</a></p>
<div class="table-wrap">{body}</div>
</body></html>
""", encoding="utf-8")
    return page


#: Links the notebooks write for JupyterLab (``03_x.ipynb``, ``../exercises/…ipynb``,
#: ``../demos/…ipynb``, ``../docs/glossary.md``) and what they become on the site.
_NOTEBOOK_HREF = re.compile(
    r'href="(?:\.\./(?:exercises|demos|notebooks)/)?([0-9][0-9]_[A-Za-z0-9_]+)\.ipynb(#[^"]*)?"(?!\s*download)')
_GLOSSARY_HREF = re.compile(r'href="\.\./docs/glossary\.md(#[^"]*)?"')


def rewrite_links(site: str | os.PathLike) -> int:
    """Point the notebooks' JupyterLab links at the site's pages, where the page exists:
    ``NN_topic.ipynb`` -> ``NN_topic.html`` (notebooks, exercises, demos) and the glossary
    -> ``glossary.html``. Links to files without a page stay as they are. Returns how many
    links changed."""
    site = Path(site)
    pages = {p.stem for p in site.glob("*.html")}
    changed = 0

    def page_for(m: re.Match[str]) -> str:
        return f'href="{m.group(1)}.html{m.group(2) or ""}"' if m.group(1) in pages else m.group(0)

    for path in site.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        new = _NOTEBOOK_HREF.sub(page_for, text)
        if "glossary" in pages:
            new = _GLOSSARY_HREF.sub(lambda m: f'href="glossary.html{m.group(1) or ""}"', new)
        if new != text:
            changed += sum(a != b for a, b in zip(re.findall(r'href="[^"]*"', text),
                                                  re.findall(r'href="[^"]*"', new), strict=True))
            path.write_text(new, encoding="utf-8")
    return changed


def _course_folder(notebooks_dir: Path) -> Path:
    """The folder holding ``demos/`` and ``docs/`` beside ``notebooks_dir`` (a course checkout),
    else the repository crmlab was installed from (a copy of some notebooks elsewhere)."""
    here = notebooks_dir.resolve().parent
    if (here / "docs" / "glossary.md").is_file():
        return here
    from crmlab.course import repository_root

    return repository_root()


def publish(notebooks_dir: str | os.PathLike, out_dir: str | os.PathLike,
            manifest: Mapping[str, Any] | None = None) -> Path:
    """Finish a build's site: assets, exercise pages, index and navigation; return the index.

    ``notebooks_dir`` lists the course (every ``NN_topic.ipynb``, also those not rebuilt).
    """
    from crmlab.course.build import discover

    out_dir = Path(out_dir)
    site = out_dir / "site"
    site.mkdir(parents=True, exist_ok=True)
    install_assets(out_dir)
    render_exercise_pages(out_dir)
    course = _course_folder(Path(notebooks_dir))
    notebooks = discover(notebooks_dir)
    render_demo_pages(course / "demos", out_dir, lessons=[nb.stem for nb in notebooks])
    if any("docs/glossary.md" in (site / f"{nb.stem}.html").read_text(encoding="utf-8")
           for nb in notebooks if (site / f"{nb.stem}.html").is_file()):
        render_glossary_page(course / "docs" / "glossary.md", out_dir)  # the pages link it
    if manifest is None:
        saved = out_dir / "manifest.json"
        manifest = json.loads(saved.read_text(encoding="utf-8")) if saved.is_file() else {}
    index = write_index(site, notebooks, manifest, out_dir)
    write_navigation(site, notebooks, out_dir)
    rewrite_links(site)
    return index


def publish_committed(notebooks_dir: str | os.PathLike, out_dir: str | os.PathLike,
                      only: Iterable[str] | None = None, pages: bool = True,
                      slides: bool = True) -> dict[str, list[Path]]:
    """Pages and/or decks from notebooks that already hold their outputs, without executing.

    The committed notebooks carry the outputs of their defaults, so a lecture deck or a
    preview of the site needs no kernel. Returns ``{"pages": [...], "slides": [...]}``.
    """
    from crmlab.course.build import _html_page, discover
    from crmlab.course.slides import write_deck

    out_dir = Path(out_dir)
    written: dict[str, list[Path]] = {"pages": [], "slides": []}
    install_assets(out_dir)
    for src in discover(notebooks_dir, only):
        if slides:
            written["slides"].append(write_deck(src, out_dir / "slides" / f"{src.stem}.html"))
        if pages:
            page = out_dir / "site" / f"{src.stem}.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            _html_page(src, page)
            written["pages"].append(page)
    if pages or (out_dir / "site" / "index.html").is_file():
        publish(notebooks_dir, out_dir)
    return written


def external_references(page: str) -> list[str]:
    """``src``/``href`` attributes of ``page`` that point off the machine (http, https, //).

    Links a reader may click (``<a href>``) are allowed; anything a browser would load by
    itself (scripts, style sheets, images, fonts) is what this returns.
    """
    found = []
    for match in re.finditer(r"<(\w+)\b[^>]*?\b(src|href)\s*=\s*[\"']?((?:https?:)?//[^\"'\s>]+)",
                             page, re.IGNORECASE):
        tag, _attr, url = match.groups()
        if tag.lower() != "a":
            found.append(url)
    for match in re.finditer(r"@import\s+(?:url\()?[\"']?((?:https?:)?//[^\"')\s]+)", page):
        found.append(match.group(1))
    return found
