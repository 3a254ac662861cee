"""crmlab.course.slides (annotator rules, decks) and crmlab.site (offline assets, navigation, index).

The browser tier (tests/browser) opens what these write in Chromium; these tests check the
files themselves, so they also run where no browser can be installed.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from crmlab.course import site, slides
from crmlab.course.cli import main
from crmlab.nb import RECORD_MIMETYPE

ROOT = Path(__file__).resolve().parents[2]
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)).decode()
LONG_CODE = "\n".join(f"step_{i} = {i}  # LONGCODE" for i in range(slides.SHOW_CODE_LINES + 1))


def _code(source: str, *outputs, tags: tuple[str, ...] = ()) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source, execution_count=1, outputs=list(outputs))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _out(mime: str, value, kind: str = "display_data") -> nbformat.NotebookNode:
    data = {mime: value, "text/plain": "<shown>"} if mime != "text/plain" else {mime: value}
    return nbformat.v4.new_output(kind, data=data, **({"execution_count": 1}
                                                      if kind == "execute_result" else {}))


def lecture_notebook() -> nbformat.NotebookNode:
    """One cell of every kind the rules tell apart, with the type each should get."""
    cells = [
        (nbformat.v4.new_markdown_cell("# Title 標題\n\nLearning objectives."), "slide"),
        (_code("DATA = 'tiny'\nSEED = 1", tags=("parameters",)), "skip"),
        (_code("import crmlab  # SETUPCODE"), "skip"),
        (nbformat.v4.new_markdown_cell("## 1. A section — 一節\n\nWhat it is about."), "slide"),
        (nbformat.v4.new_markdown_cell("How to read it: the INSTRUCTORSAYS bars are ..."), "notes"),
        (_code("summary.head()  # SHORTCODE",
               _out("text/html", "<table><tr><td>SHORTOUTPUT</td></tr></table>", "execute_result")),
         "-"),
        (_code(LONG_CODE, _out("image/png", PNG)), "subslide"),
        (_code("say(f'READINGCODE {x}')", _out("text/markdown", "The READINGTEXT holds."),
               tags=("reading",)), "fragment"),
        (_code(LONG_CODE.replace("LONGCODE", "LONGTABLE"),
               _out("text/html", "<p>LONGTABLEOUT</p>", "execute_result")), "skip"),
        (nbformat.v4.new_markdown_cell("### A subsection"), "subslide"),
        (nbformat.v4.new_markdown_cell("The model: $$P(\\text{alive}) = \\frac{1}{1 + d}$$"),
         "subslide"),
        (nbformat.v4.new_markdown_cell("*Try it:* rerun with SEED = 7."), "subslide"),
        (_code("record('n', 3)", _out(RECORD_MIMETYPE, {"name": "n", "value": 3})), "skip"),
        (nbformat.v4.new_raw_cell("raw text"), "skip"),
    ]
    nb = nbformat.v4.new_notebook(cells=[c for c, _ in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    nb.metadata["expected"] = [t for _, t in cells]
    return nb


# ----------------------------------------------------------------------------- the rules


def test_rules_give_each_kind_of_cell_its_slide_type():
    nb = lecture_notebook()
    done = slides.annotate_notebook(nb)
    assert [c.metadata["slideshow"]["slide_type"] for c in nb.cells] == nb.metadata["expected"]
    assert [a.cell for a in done] == list(range(len(nb.cells)))
    assert {a.rule for a in done} >= {"heading", "prose", "figure", "reading", "long-code",
                                      "no-output", "parameters", "display-math", "try-it",
                                      "subheading", "short-code", "raw"}


def test_hand_set_metadata_is_never_overwritten():
    nb = lecture_notebook()
    nb.cells[3].metadata["slideshow"] = {"slide_type": "skip"}  # a heading an author skips
    nb.cells[6].metadata["slideshow"] = {}  # present but empty: still the author's
    done = slides.annotate_notebook(nb)
    assert nb.cells[3].metadata["slideshow"] == {"slide_type": "skip"}
    assert nb.cells[6].metadata["slideshow"] == {}
    assert 3 not in {a.cell for a in done} and 6 not in {a.cell for a in done}
    assert slides.annotate_notebook(nb) == []  # idempotent


def test_long_code_threshold_is_the_documented_one():
    short = _code("\n".join(f"x{i} = {i}" for i in range(slides.SHOW_CODE_LINES)),
                  nbformat.v4.new_output("stream", name="stdout", text="1\n"))
    long = _code(short.source + "\n\n\nx = 0", *short.outputs)  # blank lines do not count
    assert slides.classify(short) == ("-", "short-code")
    assert slides.classify(long) == ("skip", "long-code")


@pytest.mark.parametrize("stem", ["00_welcome", "05_clv_and_churn"])
def test_annotate_copies_of_course_notebooks_changes_only_slide_metadata(tmp_path, stem, capsys):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    copy = folder / f"{stem}.ipynb"
    shutil.copyfile(ROOT / "notebooks" / f"{stem}.ipynb", copy)
    before_text = copy.read_text(encoding="utf-8")
    before = nbformat.reads(before_text, as_version=4)
    had = [("slideshow" in c.metadata) for c in before.cells]

    assert main(["slides", "annotate", "--notebooks", str(folder), stem]) == 0
    assert stem in capsys.readouterr().out
    after_text = copy.read_text(encoding="utf-8")
    after = nbformat.reads(after_text, as_version=4)
    assert len(after.cells) == len(before.cells)
    for old, new, hand in zip(before.cells, after.cells, had, strict=True):
        assert new.metadata["slideshow"]["slide_type"] in slides.SLIDE_TYPES
        if hand:
            assert new.metadata["slideshow"] == old.metadata["slideshow"]
        new.metadata.pop("slideshow")
        old.metadata.pop("slideshow", None)
    # everything but the slide metadata is byte for byte what it was (sources, outputs, ids)
    assert nbformat.writes(after) + "\n" == nbformat.writes(before) + "\n"
    if not all(had):
        assert after_text != before_text
    # a second run finds nothing to do and leaves the file alone
    assert slides.annotate([copy]) == {copy: []}
    assert copy.read_text(encoding="utf-8") == after_text


def test_annotate_dry_run_writes_nothing(tmp_path, capsys):
    path = tmp_path / "01_x.ipynb"
    nbformat.write(lecture_notebook(), path)
    text = path.read_text(encoding="utf-8")
    assert main(["slides", "annotate", "--notebooks", str(tmp_path), "--dry-run"]) == 0
    assert "01_x: would set" in capsys.readouterr().out
    assert path.read_text(encoding="utf-8") == text


# ----------------------------------------------------------------------------- decks


def _sections(deck: str) -> list[str]:
    """Top-level slides: the <section> elements directly inside <div class="slides">."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(deck, "html.parser")
    return soup.select("div.slides > section")


def test_deck_without_metadata_follows_the_rules(tmp_path):
    site.install_assets(tmp_path / "build")
    source = tmp_path / "01_lecture.ipynb"
    nbformat.write(lecture_notebook(), source)
    deck = slides.write_deck(source, tmp_path / "build" / "slides" / "01_lecture.html")
    text = deck.read_text(encoding="utf-8")

    assert len(_sections(text)) == 2  # the title and "## 1."
    for shown in ("SHORTCODE", "SHORTOUTPUT", "READINGTEXT", "data:image/png;base64",
                  "INSTRUCTORSAYS", "Try it", "subsection"):
        assert shown in text, shown
    for hidden in ("SETUPCODE", "LONGCODE", "LONGTABLE", "READINGCODE", "raw text"):
        assert hidden not in text, hidden
    assert re.search(r'<aside class="notes">.*INSTRUCTORSAYS', text, re.DOTALL)
    assert re.search(r'<div class="fragment"[^>]*>.*READINGTEXT', text, re.DOTALL)
    assert site.external_references(text) == []
    for asset in ('src="../assets/reveal.js/dist/reveal.js"',
                  'src="../assets/reveal.js/plugin/notes/notes.js"',
                  'href="../assets/reveal.js/dist/theme/white.css"',
                  'src="../assets/mathjax/es5/tex-svg-full.js"'):
        assert asset in text, asset
    for ref in re.findall(r'(?:src|href)="(\.\./assets/[^"?#]+)', text):
        assert (deck.parent / ref).resolve().is_file(), ref
    # the source notebook is not touched by building its deck
    assert "slideshow" not in json.dumps([c["metadata"] for c in
                                          json.loads(source.read_text())["cells"]])


def test_deck_follows_hand_set_metadata(tmp_path):
    nb = lecture_notebook()
    nb.cells[5].metadata["slideshow"] = {"slide_type": "skip"}     # the short code: not shown
    nb.cells[2].metadata["slideshow"] = {"slide_type": "slide"}    # the setup code: a slide
    source = tmp_path / "02_hand.ipynb"
    nbformat.write(nb, source)
    text = slides.write_deck(source, tmp_path / "slides" / "02_hand.html").read_text("utf-8")
    assert "SHORTCODE" not in text and "SHORTOUTPUT" not in text
    assert "SETUPCODE" in text
    assert len(_sections(text)) == 3


def test_deck_of_a_notebook_with_only_hidden_cells_still_has_a_slide(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[_code("x = 1")])
    source = tmp_path / "03_empty.ipynb"
    nbformat.write(nb, source)
    text = slides.write_deck(source, tmp_path / "03.html").read_text("utf-8")
    assert len(_sections(text)) == 1


# ----------------------------------------------------------------------------- assets and site


def test_install_assets_copies_once_and_names_a_missing_package(tmp_path, monkeypatch):
    target = site.install_assets(tmp_path)
    for part in ("mathjax/es5/tex-svg-full.js", "mathjax/es5/ui/safe.js", "mathjax/LICENSE",
                 "reveal.js/dist/reveal.js", "reveal.js/dist/theme/white.css",
                 "reveal.js/plugin/notes/notes.js", "reveal.js/LICENSE", "crmlab.css",
                 "assets.json"):
        assert (target / part).is_file(), part
    assert set(json.loads((target / "assets.json").read_text())) == {"mathjax", "reveal.js"}

    def no_copy(*args, **kwargs):
        raise AssertionError("assets copied again although the versions did not change")

    monkeypatch.setattr(site.shutil, "copytree", no_copy)
    site.install_assets(tmp_path)
    monkeypatch.undo()

    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "sphinx_revealjs" else real(name, *a))
    with pytest.raises(site.AssetsMissing, match="sphinx-revealjs.*make install"):
        site.install_assets(tmp_path / "other")


def _executed(path: Path, title: str, math: bool = False) -> Path:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(f"# {title}\n\n" + ("Demand: $q(p) = a - b\\,p$." if math
                                                          else "Plain text.")),
        _code("plot()", _out("image/png", PNG)),
    ])
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def test_published_site_links_pages_in_course_order_and_works_offline(tmp_path):
    nbdir, out = tmp_path / "notebooks", tmp_path / "build"
    for stem, title in [("00_intro", "Intro 介紹"), ("01_rfm", "RFM 分析"), ("02_clv", "CLV")]:
        _executed(nbdir / f"{stem}.ipynb", title, math=stem == "01_rfm")
    _executed(out / "exercises" / "01_rfm_exercises.ipynb", "RFM exercises", math=True)
    (out / "exercises" / "alice").mkdir()  # a per-student folder: not a page

    written = site.publish_committed(nbdir, out, only=["00", "01"])
    assert [p.name for p in written["slides"]] == ["00_intro.html", "01_rfm.html"]
    pages = {p.name: p.read_text(encoding="utf-8") for p in (out / "site").glob("*.html")}
    assert set(pages) == {"index.html", "00_intro.html", "01_rfm.html", "01_rfm_exercises.html"}

    def nav(page: str) -> dict[str, str]:
        top = page[page.index("<!--crmlab-nav-->"): page.index("<!--/crmlab-nav-->")]
        return dict(re.findall(r'<a href="([^"]+)" class="(\w+)"', top))

    assert nav(pages["00_intro.html"]) == {"index.html": "home", "../slides/00_intro.html": "slides",
                                           "01_rfm.html": "next"}
    assert nav(pages["01_rfm.html"]) == {"index.html": "home", "00_intro.html": "prev",
                                         "../slides/01_rfm.html": "slides",
                                         "01_rfm_exercises.html": "next"}
    assert nav(pages["01_rfm_exercises.html"]) == {"index.html": "home", "01_rfm.html": "prev"}
    for name, page in pages.items():
        assert site.external_references(page) == [], name
        if name != "index.html":
            assert len(re.findall(r"<li[ >]", page)) == 3 and 'aria-current="page"' in page  # the course map
            assert '<nav class="crmlab-nav bottom"' in page
            assert 'src="../assets/mathjax/es5/tex-svg-full.js"' in page
            assert "require.js" not in page and "cdnjs" not in page and "unpkg" not in page
        for ref in re.findall(r'(?:src|href)="([^"#:?]+)(?=["#?])', page):
            assert (out / "site" / ref).resolve().exists(), f"{name}: {ref}"
    index = pages["index.html"]
    assert 'name="viewport"' in index and 'href="../assets/crmlab.css"' in index
    assert '<a href="../slides/01_rfm.html">slides</a>' in index
    assert '<a href="01_rfm_exercises.html">01_<wbr>rfm_<wbr>exercises</a>' in index
    assert 'href="../exercises/01_rfm_exercises.ipynb" download' in index
    assert index.count("<tr>") == 1 + 3  # header + every notebook of the course, built or not
    assert "@media (max-width: 760px)" in (out / "assets" / "crmlab.css").read_text()

    # building the third later keeps one navigation everywhere (the pages are rewritten)
    site.publish_committed(nbdir, out, only=["02"], slides=False)
    again = (out / "site" / "01_rfm_exercises.html").read_text(encoding="utf-8")
    assert 'href="02_clv.html" class="next"' in again


def test_slides_build_command_writes_decks_and_refreshes_the_index(tmp_path, capsys):
    nbdir, out = tmp_path / "notebooks", tmp_path / "build"
    _executed(nbdir / "00_intro.ipynb", "Intro")
    site.publish_committed(nbdir, out, slides=False)
    assert "../slides/00_intro.html" not in (out / "site" / "index.html").read_text()
    assert main(["slides", "build", "--notebooks", str(nbdir), "--out", str(out)]) == 0
    assert "wrote 1 deck in" in capsys.readouterr().out
    assert (out / "slides" / "00_intro.html").is_file()
    assert "../slides/00_intro.html" in (out / "site" / "index.html").read_text()


def test_external_references_finds_what_a_browser_would_load():
    page = ('<script src="https://cdn.example/x.js"></script><link href="//cdn.example/y.css">'
            '<img src="http://example/z.png"><a href="https://example.org/read">a link</a>'
            '<script src="../assets/ok.js"></script><style>@import url("https://f/c.css");</style>')
    assert site.external_references(page) == ["https://cdn.example/x.js", "//cdn.example/y.css",
                                              "http://example/z.png", "https://f/c.css"]


def test_deck_is_the_same_before_and_after_annotating(tmp_path):
    """The deck builder applies the annotator's rules to cells without metadata, so annotating
    a notebook (what the lead runs on the committed notebooks) does not change its deck."""
    site.install_assets(tmp_path)
    plain = tmp_path / "plain" / "00_welcome.ipynb"
    plain.parent.mkdir()
    shutil.copyfile(ROOT / "notebooks" / "00_welcome.ipynb", plain)
    annotated = tmp_path / "annotated" / "00_welcome.ipynb"
    annotated.parent.mkdir()
    shutil.copyfile(plain, annotated)
    slides.annotate([annotated])
    before = slides.write_deck(plain, tmp_path / "slides" / "plain.html").read_text("utf-8")
    after = slides.write_deck(annotated, tmp_path / "slides" / "annotated.html").read_text("utf-8")
    assert before == after
    assert len(_sections(before)) >= 2


@pytest.mark.parametrize(("source", "expected"), [
    ("**Summary.** The last section in one line.\n\n## 2. The next section", "slide"),
    ("Text before\n\n### 2.1 A subsection", "subslide"),
    ("An example:\n\n```python\n# a comment, not a heading\nx = 1\n```", "notes"),
    ("~~~\n## not a heading either\n~~~\nplain", "notes"),
    ("#hashtag is no heading", "notes"),
])
def test_headings_count_anywhere_in_a_cell_but_not_in_code_fences(source, expected):
    assert slides.classify(nbformat.v4.new_markdown_cell(source))[0] == expected


def test_slides_build_command_names_a_missing_asset_package(tmp_path, monkeypatch, capsys):
    _executed(tmp_path / "notebooks" / "00_intro.ipynb", "Intro")
    monkeypatch.setattr(site, "vendored_root", lambda asset: (_ for _ in ()).throw(
        site.AssetsMissing(f"needs {asset.distribution}: run `make install`")))
    code = main(["slides", "build", "--notebooks", str(tmp_path / "notebooks"),
                 "--out", str(tmp_path / "build")])
    assert code == 1
    assert "crmlab slides: error: needs django-static-mathjax: run `make install`" in \
        capsys.readouterr().err
