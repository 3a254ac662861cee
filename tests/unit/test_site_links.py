"""The site's pages link each other where the notebooks link files for JupyterLab.

A notebook's navigation cell links ``03_customer_journey.ipynb``, ``../exercises/…ipynb``,
``../demos/…ipynb`` and ``../docs/glossary.md``: right in JupyterLab, dead on the site unless
rewritten to the pages (crmlab.site.rewrite_links); demos and the glossary get pages too.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from crmlab.course.site import course_pages, publish_committed

ROOT = Path(__file__).resolve().parents[2]


def test_links_point_at_pages_that_exist(tmp_path):
    course = tmp_path / "course"
    (course / "notebooks").mkdir(parents=True)
    for stem in ("08_uplift_and_targeting", "09_customer_support"):
        shutil.copyfile(ROOT / "notebooks" / f"{stem}.ipynb", course / "notebooks" / f"{stem}.ipynb")
    shutil.copytree(ROOT / "demos", course / "demos")
    (course / "docs").mkdir()
    shutil.copyfile(ROOT / "docs" / "glossary.md", course / "docs" / "glossary.md")
    publish_committed(course / "notebooks", tmp_path / "build", slides=False)
    site = tmp_path / "build" / "site"
    page = (site / "08_uplift_and_targeting.html").read_text(encoding="utf-8")
    links = set(re.findall(r'href="([^"#]+)', page))
    assert "09_customer_support.html" in links       # the next notebook
    assert "08_targeting_demo.html" in links         # its live demo
    assert "glossary.html" in links and (site / "glossary.html").is_file()
    assert not any(link.endswith(".ipynb") and (site / Path(link).with_suffix(".html").name).is_file()
                   for link in links), "a link to a notebook that has a page was not rewritten"
    demo = (site / "08_targeting_demo.html").read_text(encoding="utf-8")
    assert 'href="08_uplift_and_targeting.html"' in demo  # back to its lecture
    assert "<table" in (site / "glossary.html").read_text(encoding="utf-8")
    kinds = [(p.file, p.kind) for p in course_pages(site, sorted((course / "notebooks").glob("*.ipynb")))]
    assert kinds.index(("08_targeting_demo.html", "demo")) == kinds.index(
        ("08_uplift_and_targeting.html", "notebook")) + 1  # the demo follows its lecture
