"""The course site and decks in headless Chromium, opened from disk with the network cut off.

Every page: no console error, no request off the machine, no failed load, every link
resolves, every figure image present and loaded, formulas typeset by MathJax. The index:
no horizontal scrolling at 1280 px nor on a phone (390 px). A deck: reveal.js starts, its
figures and formulas render, speaker notes exist and the speaker view (key S) shows them.
Fixtures in conftest.py, helpers in browser_helpers.py.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from browser_helpers import EXERCISE, NOTEBOOKS, ROOT, Tab, screenshot, screenshot_path

from crmlab.course.build import demo_notebooks

#: JavaScript: every <a href> of the page as the browser resolved it.
LINKS_JS = "() => Array.from(document.querySelectorAll('a[href]'), a => a.href)"
#: JavaScript: [present, loaded] counts of <img> elements (loaded: decoded, non-zero size).
IMAGES_JS = """() => {
  const imgs = Array.from(document.querySelectorAll('img'));
  return [imgs.length, imgs.filter(i => i.complete && i.naturalWidth > 0).length];
}"""
#: JavaScript: [formulas MathJax found, rendered as SVG, displayed, errors].
# MathJax lists an escaped money dollar (crmlab.nb.MONEY_DOLLAR) as a math item whose display is
# null and which becomes plain text; formulas are the items with display true or false.
MATH_JS = """() => [
  window.MathJax && MathJax.startup && MathJax.startup.document
    ? Array.from(MathJax.startup.document.math).filter(m => m.display !== null).length : 0,
  document.querySelectorAll('mjx-container[jax="SVG"] svg').length,
  document.querySelectorAll('mjx-container[display="true"]').length,
  document.querySelectorAll('mjx-merror, [data-mjx-error]').length]"""


def _notebook(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _figures(nb: dict[str, Any]) -> int:
    return sum(1 for c in nb["cells"] for o in c.get("outputs", [])
               if any(m in o.get("data", {}) for m in ("image/png", "image/jpeg", "image/svg+xml")))


def _display_formulas(nb: dict[str, Any]) -> int:
    text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return text.count("$$") // 2


def _has_math(nb: dict[str, Any]) -> bool:
    text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return bool(re.search(r"(?<![\\$])\$[^$\s][^$\n]*\$", text))


def check_links(tab: Tab, base: Path) -> int:
    """Every link of the page resolves: files exist, in-page anchors name an element.

    Links to web sites (a reader's click, never loaded by the page) are not followed
    offline; returns how many local links were checked.
    """
    checked = 0
    for url in tab.page.evaluate(LINKS_JS):
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https", "mailto"):
            continue
        assert parsed.scheme == "file", f"{base.name}: unexpected link {url}"
        target = Path(unquote(parsed.path))
        if not target.exists() and _outside_this_partial_build(target):
            continue  # the test site builds three notebooks; test_site_links checks the rewrite
        assert target.exists(), f"{base.name}: link to a missing file {target}"
        if parsed.fragment and target == base:
            # nbconvert writes heading ids percent-encoded, as the links spell them; a browser
            # matches the fragment as written or decoded
            found = tab.page.evaluate("id => !!(document.getElementById(id) || "
                                      "document.getElementById(decodeURIComponent(id)))",
                                      parsed.fragment)
            assert found, f"{base.name}: anchor #{parsed.fragment} names no element"
        checked += 1
    return checked


def _outside_this_partial_build(target: Path) -> bool:
    """A JupyterLab-style link (``NN_topic.ipynb``, an exercise or demo notebook) to a course
    notebook the test site did not build: in a full build each has a page and the link is
    rewritten to it (crmlab.course.site.rewrite_links, tests/unit/test_site_links.py)."""
    stem = target.stem
    course = {p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    course |= {p.stem for p in (ROOT / "exercises").glob("[0-9][0-9]_*.ipynb")}
    course |= {p.stem for p in (ROOT / "demos").glob("*_demo.ipynb")}
    return target.suffix == ".ipynb" and stem in course and stem not in NOTEBOOKS and stem != EXERCISE


def check_loaded_cleanly(tab: Tab, expected_images: int, build: Path | None = None) -> None:
    """No error, no request off the machine, images loaded; with ``build``, every file the
    page loaded is inside that folder (the site needs nothing else on the disk either)."""
    if build is not None:
        assert tab.files, "no file requests were seen"
        assert tab.outside_folder(build) == [], f"files loaded from outside {build}"
    present, loaded = tab.page.evaluate(IMAGES_JS)
    assert present >= expected_images, f"{present} images on the page, the notebook has {expected_images}"
    assert loaded == present, f"{present - loaded} images did not load"
    assert tab.problems() == {"requests off the machine": [], "console errors": [],
                              "failed loads": []}


def pages_to_check(built: dict[str, Any]) -> list[tuple[Path, dict[str, Any] | None]]:
    site = built["site"]
    pages = [(site / f"{stem}.html", _notebook(built["notebooks"] / f"{stem}.ipynb"))
             for stem in NOTEBOOKS]
    exercise = built["out"] / "exercises" / f"{EXERCISE}.ipynb"
    pages.append((site / f"{EXERCISE}.html", _notebook(exercise)))
    return pages


# ----------------------------------------------------------------------------- the site


def test_index_reads_at_1280px_and_on_a_phone(built_site, open_page):
    index = built_site["site"] / "index.html"
    wide = open_page(index, width=1280, height=800)
    overflow = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert wide.page.evaluate(overflow) <= 0, "the index scrolls sideways at 1280 px"
    inner = "() => { const w = document.querySelector('.table-wrap'); return w.scrollWidth - w.clientWidth; }"
    assert wide.page.evaluate(inner) <= 0, "the course map's table is cut off at 1280 px"
    rows = wide.page.evaluate("() => document.querySelectorAll('tbody tr').length")
    assert rows == len(NOTEBOOKS)
    assert wide.page.evaluate("() => getComputedStyle(document.querySelector('tbody tr')).display") \
        == "table-row"
    assert check_links(wide, index) >= 3 * len(NOTEBOOKS)  # page, slides and more per row
    check_loaded_cleanly(wide, 0, built_site["out"])
    screenshot(wide, "index")

    phone = open_page(index, width=390, height=844)
    assert phone.page.evaluate(overflow) <= 0, "the index scrolls sideways on a phone"
    assert phone.page.evaluate(inner) <= 0, "the course map's cards are cut off on a phone"
    assert phone.page.evaluate("() => getComputedStyle(document.querySelector('tbody tr')).display") \
        == "block", "rows are not cards on a phone"
    check_loaded_cleanly(phone, 0)
    screenshot(phone, "index-phone", full_page=True)


def test_every_page_renders_offline(built_site, open_page):
    checked = []
    for path, nb in pages_to_check(built_site):
        tab = open_page(path)
        check_links(tab, path)
        check_loaded_cleanly(tab, _figures(nb), built_site["out"])
        found, rendered, displayed, errors = tab.page.evaluate(MATH_JS)
        if _has_math(nb) or _display_formulas(nb):
            assert found > 0 and rendered == found, f"{path.name}: {rendered} of {found} formulas typeset"
            assert displayed >= _display_formulas(nb), f"{path.name}: display formulas missing"
        assert errors == 0, f"{path.name}: MathJax errors"
        text = tab.page.evaluate("() => document.querySelector('main').innerText")
        assert "$$" not in text, f"{path.name}: raw TeX left on the page"
        nav = tab.page.evaluate("() => Array.from(document.querySelectorAll('nav.crmlab-nav a'), "
                                "a => a.className)")
        assert "home" in nav and ("prev" in nav or "next" in nav), f"{path.name}: navigation {nav}"
        demos = sum(len(demo_notebooks(stem)) for stem in NOTEBOOKS)  # a demo follows its lecture
        assert tab.page.evaluate("() => document.querySelectorAll('nav details li').length") \
            == len(NOTEBOOKS) + 1 + demos, f"{path.name}: the course map lists every page"
        if path.stem == "06_recommendations_and_baskets":
            screenshot(tab, "page")
        checked.append(path.name)
    assert len(checked) == len(NOTEBOOKS) + 1


def test_chinese_text_has_a_font():
    """fonts-noto-cjk (installed with chromium) gives the pages' 繁體中文 glyphs, not boxes."""
    try:
        fonts = subprocess.run(["fc-list", ":lang=zh-tw", "family"], capture_output=True,
                               text=True, check=False).stdout
    except FileNotFoundError:
        pytest.skip("fontconfig is not installed, so neither is chromium")
    assert fonts.strip(), "no font for traditional Chinese: apt-get install fonts-noto-cjk"


# ----------------------------------------------------------------------------- decks


def test_decks_render_offline_with_figures_formulas_and_notes(built_site, open_page):
    for stem in NOTEBOOKS:
        path = built_site["slides"] / f"{stem}.html"
        nb = _notebook(built_site["notebooks"] / f"{stem}.ipynb")
        tab = open_page(path)
        tab.page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
        tab.page.evaluate("() => Reveal.configure({transition: 'none'})")  # no waiting on slides
        total = tab.page.evaluate("() => Reveal.getTotalSlides()")
        sections = tab.page.evaluate("() => document.querySelectorAll('.slides > section').length")
        assert sections >= 2 and total >= sections, f"{stem}: {total} slides, {sections} sections"
        assert tab.page.evaluate("() => document.querySelectorAll('aside.notes').length") > 0
        found, rendered, _displayed, errors = tab.page.evaluate(MATH_JS)
        assert rendered == found and errors == 0, f"{stem}: {rendered} of {found} formulas typeset"
        # every figure of the notebook is in the deck, and each shows when its slide is shown
        figures = tab.page.evaluate("() => Array.from(document.querySelectorAll('.slides img'), "
                                    "img => Reveal.getIndices(img.closest('section')))")
        assert len(figures) == _figures(nb), f"{stem}: {len(figures)} of {_figures(nb)} figures"
        hidden = tab.page.evaluate("""figures => figures.filter(w => {
            Reveal.slide(w.h, w.v || 0);
            const imgs = Array.from(Reveal.getCurrentSlide().querySelectorAll('img'));
            return !imgs.length || !imgs.every(img => img.complete && img.naturalWidth > 0
                                                      && img.getBoundingClientRect().width > 0);
        })""", figures)
        assert hidden == [], f"{stem}: figures not shown on slides {hidden}"
        check_loaded_cleanly(tab, _figures(nb), built_site["out"])
        if stem == "05_clv_and_churn":
            # the slide the class sees with a figure, and one with a display formula
            tab.page.evaluate("w => Reveal.slide(w.h, w.v || 0)", figures[0])
            screenshot(tab, "slide")
            formula = tab.page.evaluate("""() => {
                const m = document.querySelector('.slides mjx-container[display="true"]');
                return m ? Reveal.getIndices(m.closest('section')) : null; }""")
            assert formula is not None, "05: the display formula is not in the deck"
            tab.page.evaluate("w => Reveal.slide(w.h, w.v || 0)", formula)
            box = tab.page.evaluate("""() => Reveal.getCurrentSlide()
                .querySelector('mjx-container[display="true"] svg').getBoundingClientRect().width""")
            assert box > 20, "the formula on its slide has no width"
            screenshot(tab, "slide-formula")
            # the speaker view (key S) opens from disk and shows the notes of the slide
            notes = tab.page.evaluate("""() => {
                const aside = document.querySelector('aside.notes');
                const w = Reveal.getIndices(aside.closest('section'));
                Reveal.slide(w.h, w.v || 0);
                return aside.innerText.trim().split('\\n')[0].slice(0, 40); }""")
            assert len(notes) > 10, f"05: speaker notes {notes!r}"
            with tab.page.context.expect_page() as popup:
                tab.page.keyboard.press("s")
            speaker = popup.value
            speaker.wait_for_function("text => document.body.innerText.includes(text)", arg=notes,
                                      timeout=30_000)
            speaker.screenshot(path=str(screenshot_path("speaker-view")))


def test_blocked_requests_are_caught(open_page, tmp_path):
    """The guard works: a page that loads from the web is stopped and reported (so a page of
    the site that did so would fail the tests above)."""
    page = tmp_path / "leaky.html"
    page.write_text('<!DOCTYPE html><img src="https://example.invalid/x.png">'
                    '<script src="//cdn.example.invalid/x.js"></script>', encoding="utf-8")
    tab = open_page(page)
    assert sorted(tab.outside) == ["file://cdn.example.invalid/x.js",
                                   "https://example.invalid/x.png"]
    with pytest.raises(AssertionError):
        check_loaded_cleanly(tab, 0)


def test_the_tier_is_cheap(built_site):
    """Building the small site (three pages, three decks, an exercise page, assets) stays a
    few seconds: the tier must cost well under a minute in `make test`."""
    assert built_site["seconds"] < 30, f"building the test site took {built_site['seconds']:.0f} s"
