"""Money dollars render as dollars, formulas as formulas (crmlab.nb.MONEY_DOLLAR).

Two money amounts in one Markdown text (``NT$1,744 to NT$1,699``) must not become a formula.
Markdown turns ``\\$`` into a bare ``$`` before MathJax runs, so the spelling that works in
JupyterLab and on the site is ``\\\\$`` (found by rendering every spelling in both; this test
keeps the site's side, tests/browser/test_lab.py opens a reading in JupyterLab).
"""

from __future__ import annotations

import nbformat
import pytest

from crmlab.nb import MONEY_DOLLAR

pytestmark = pytest.mark.xdist_group("browser")


def test_money_is_text_and_math_is_math_on_the_site(tmp_path, open_page):
    from crmlab.course.build import _html_page
    from crmlab.course.site import install_assets

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    money = f"From NT{MONEY_DOLLAR}1,744 to NT{MONEY_DOLLAR}1,699."
    reading = nbformat.v4.new_code_cell("say(...)")
    reading.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": money,
                                                                    "text/plain": money})]
    nb.cells = [nbformat.v4.new_markdown_cell(money + " And a formula: $q(p) = a - b\\,p$."), reading]
    site = tmp_path / "site"
    site.mkdir()
    nbformat.write(nb, tmp_path / "money.ipynb")
    _html_page(tmp_path / "money.ipynb", site / "money.html")
    install_assets(tmp_path)
    tab = open_page(site / "money.html")
    rendered = tab.page.locator(".jp-RenderedMarkdown").all()
    texts = [el.inner_text() for el in rendered]
    assert all("NT$1,744 to NT$1,699" in t for t in texts), texts
    assert rendered[0].locator("mjx-container").count() == 1  # the formula, and only it
    assert rendered[1].locator("mjx-container").count() == 0
