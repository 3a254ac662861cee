"""The 繁體中文 edition in the browser (issue 31): notebook 00 built with ``--lang zh-TW`` (it is
executed, since the edition translates figures and tables at run time; about 15 s), its page
opened in headless Chromium from disk with the network cut off.

Checks: the page declares ``<html lang="zh-TW">``, its title cell and course map are visible
in Chinese, nothing failed to load; the first figure is loaded, its title is the catalog's
Chinese (the build runs the notebook with the catalog of 00 and the package's strings), and
its cell printed no "missing from font" warning (matplotlib warns for every glyph its fonts
lack, so a Chinese title without a CJK font shows up there). Screenshots of the page and of
the figure go to the test's tmp dir and are copied to ``build/i18n-screens/`` (for the
closing note of issue 31).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import ROOT

pytestmark = pytest.mark.xdist_group("browser")

LANG = "zh-TW"
STEM = "00_welcome"
#: Where the screenshots are kept for people (the test's own copies are in its tmp dir).
SCREENS = ROOT / "build" / "i18n-screens"
#: Han characters (a rendered page or title in Chinese has some).
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def zh_build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``crmlab build --lang zh-TW --only 00`` into a temporary folder."""
    from crmlab import plots
    from crmlab.course.build import build

    if not plots.installed_cjk_fonts():
        pytest.fail("no CJK font is installed: the zh-TW figures would show empty boxes; "
                    "`make install` adds fonts-noto-cjk (apt-get install fonts-noto-cjk)")
    out = tmp_path_factory.mktemp("zh_tw_build")
    with pytest.MonkeyPatch.context() as env:  # as students get it: no figure-check lines
        env.delenv("CRMLAB_CHECK_FIGURES", raising=False)  # (tests/conftest.py sets it)
        build(ROOT / "notebooks", out, only=[STEM], jobs=1, progress=False, lang=LANG)
    edition = out / LANG
    return {"edition": edition, "page": edition / "site" / f"{STEM}.html",
            "executed": edition / "notebooks" / f"{STEM}.ipynb",
            "source": edition / "sources" / f"{STEM}.ipynb"}


def _figure_cell(executed: Path) -> dict[str, Any]:
    """The first code cell of the executed notebook that shows a PNG figure."""
    nb = json.loads(executed.read_text(encoding="utf-8"))
    return next(c for c in nb["cells"] if c["cell_type"] == "code"
                and any("image/png" in o.get("data", {}) for o in c.get("outputs", [])))


def _keep(path: Path) -> Path:
    SCREENS.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(path, SCREENS / path.name))


def test_zh_tw_page_and_figure(zh_build: dict[str, Any], open_page, tmp_path: Path) -> None:
    from crmlab import i18n
    from crmlab.course import i18n as catalogs

    page_file = zh_build["page"]
    assert page_file.is_file(), f"the zh-TW build wrote no {page_file}"
    html = page_file.read_text(encoding="utf-8")
    assert '<html lang="zh-TW">' in html

    tab = open_page(page_file)
    page = tab.page
    assert page.evaluate("() => document.documentElement.lang") == LANG
    # the title cell as the catalog translates it (its first line, without Markdown's '# ')
    catalog = catalogs.read_catalog(catalogs.catalog_path(ROOT / "notebooks" / f"{STEM}.ipynb", LANG, ROOT))
    title = next(iter(catalog["cells"].values()))[LANG].splitlines()[0].lstrip("# ").strip()
    assert HAN.search(title), f"the catalog's title of {STEM} is not Chinese: {title!r}"
    heading = page.locator("h1").first
    assert heading.is_visible() and heading.inner_text().strip().startswith(title[:8]), (
        f"the page's first heading should be the translated title {title!r}, "
        f"it is {heading.inner_text()!r}")
    course_map = page.get_by_role("columnheader", name="講次")
    assert course_map.count() >= 1 and course_map.first.is_visible(), "course map headers not in Chinese"
    body = page.evaluate("() => document.body.innerText")
    assert len(HAN.findall(body)) > 500, "the page shows little Chinese text"
    assert not any(tab.problems().values()), tab.problems()
    shots = {"page": tmp_path / "zh-TW_00_welcome_page.png",
             "figure": tmp_path / "zh-TW_00_welcome_figure.png"}
    page.screenshot(path=str(shots["page"]), full_page=False)  # the top: title, unit, objectives

    # the first figure: present and loaded in the page
    image = page.locator("img").first
    image.scroll_into_view_if_needed()
    size = image.evaluate("i => [i.complete, i.naturalWidth, i.naturalHeight]")
    assert size[0] and size[1] > 100 and size[2] > 100, f"the first figure did not load: {size}"

    # ... its title is the catalog's Chinese, drawn with no missing glyph
    cell = _figure_cell(zh_build["executed"])
    source = "".join(cell["source"])
    english = re.search(r"""title=(["'])(.+?)\1""", source)
    assert english, f"the first figure's cell sets no title= literal:\n{source}"
    with catalogs.edition_environment(zh_build["source"]):  # as the build ran the notebook
        chinese = i18n.lookup(english.group(2), record=False)
    assert chinese and HAN.search(chinese), f"no Chinese title for {english.group(2)!r}"
    streams = "".join("".join(o.get("text", "")) for o in cell["outputs"] if o["output_type"] == "stream")
    assert "missing from font" not in streams, f"glyphs missing in the figure:\n{streams}"
    assert "Glyph" not in streams, streams

    image.screenshot(path=str(shots["figure"]))
    for shot in shots.values():
        assert shot.stat().st_size > 10_000, f"{shot} is nearly empty"
        _keep(shot)
