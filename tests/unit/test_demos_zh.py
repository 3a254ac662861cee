"""The live what-if demos in the 繁體中文 edition (issue 31): heading, controls, chart and
reading through crmlab.i18n; English unchanged; a translated demo notebook executed by the
edition's build shows Chinese.

Known answers: Erlang C for 200 calls an hour of 180 s (10 erlangs) and 14 agents gives
P(wait) = 0.174, ASA = P(wait) x 180 / (14 - 10) = 7.8 s and the service level within 20 s
1 - 0.174 x exp(-(14 - 10) x 20 / 180) = 88.8% (the closed form; the call-centre helper's
worked example in tests/unit/test_demos.py); occupancy 10 / 14 = 71%.
"""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pandas as pd
import pytest

from crmlab import demos, i18n, plots
from crmlab.course import repository_root

CJK = re.compile(r"[\u4e00-\u9fff]")
STAFFING_EN = ("14 agents for 200 calls an hour (10.0 erlangs): 88.8% answered within 20 s, 17.4% of "
               "callers wait, average wait 7.8 s, agents busy 71% of the time.")


@pytest.fixture
def zh(monkeypatch):
    """The zh-TW edition with the package catalog only."""
    monkeypatch.setenv(i18n.LANG_ENV, "zh-TW")
    monkeypatch.delenv(i18n.STRINGS_ENV, raising=False)
    plots.set_theme()  # the CJK font, as setup_notebook configures it


def _texts(demo: demos.Demo) -> list[str]:
    """Every title, axis label, legend entry and tick label of the demo's chart."""
    out = []
    for ax in demo.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.get_yticklabels()]
        if ax.get_legend() is not None:
            out += [t.get_text() for t in ax.get_legend().get_texts()]
    return [t for t in out if t]


def test_staffing_demo_in_english_is_unchanged(monkeypatch):
    monkeypatch.delenv(i18n.LANG_ENV, raising=False)
    demo = demos.staffing_demo()
    assert demo.describe(demo.result) == STAFFING_EN
    assert demo.reading.value == STAFFING_EN
    assert demo.children[0].value == "<b>Staffing what-if (Erlang C)</b>"
    assert [c.description for c in demo.controls.values()] == ["agents on the phones", "calls per hour"]
    assert demo.axes[1].get_title() == "14 agents: ASA 7.8 s, 17% wait"


def test_staffing_demo_in_chinese(zh):
    seen = set(i18n.untranslated())
    demo = demos.staffing_demo()
    assert demo.children[0].value == "<b>人力配置假設分析（厄朗C模型）</b>"
    assert [c.description for c in demo.controls.values()] == ["接聽電話的客服人員", "每小時來電數"]
    reading = demo.reading.value
    assert CJK.search(reading) and "agents" not in reading
    for number in ("14", "200", "10.0", "88.8%", "17.4%", "7.8", "71%"):  # the closed form's figures
        assert number in reading, (number, reading)
    assert demo._repr_mimebundle_()["text/plain"] == reading
    assert demo.axes[0].get_title() == "20 秒內接聽的比例（負載 10.0 厄朗）"
    assert demo.axes[1].get_title() == "14 位客服人員：平均應答 7.8 秒，17% 需等候"
    demo.update(agents=16)  # a moved slider: the redrawn (blitted) title is translated again
    assert demo.axes[1].get_title().startswith("16 位客服人員")
    assert demo.reading.value.startswith("16 位客服人員")
    assert plots.layout_problems(demo.figure) == []
    assert set(i18n.untranslated()) <= seen  # every string of the demo is in the catalog


def _synthetic_demos() -> dict[str, demos.Demo]:
    """The other four demos on small made-up inputs (no shop needed)."""
    rng = np.random.default_rng(0)
    n = 400
    table = pd.DataFrame({"customer_id": range(n), "recency": rng.integers(0, 400, n),
                          "frequency": rng.integers(1, 10, n), "monetary": rng.gamma(2, 500, n)})
    T = rng.uniform(100, 700, n)
    freq = rng.poisson(2, n)
    summary = pd.DataFrame({"frequency": freq, "recency": np.where(freq == 0, 0, T * rng.uniform(0, 1, n)),
                            "T": T})
    return {
        "price": demos.price_demo(data={"list_price": 1000.0, "unit_cost": 400.0, "units_per_day": 2.0,
                                        "elasticity": -2.0, "product_id": 1, "name": "Kettle"}),
        "rfm": demos.rfm_demo(table=table),
        "targeting": demos.targeting_demo(data={
            "y": rng.random(n) < 0.1, "treatment": rng.random(n) < 0.5, "score": rng.normal(0.02, 0.02, n),
            "value_per_conversion": 500.0, "cost_per_contact": 2.0, "cost_per_conversion": 50.0}),
        "clv": demos.clv_demo(data={"summary": summary,
                                    "params": {"r": 0.5, "alpha": 50.0, "a": 0.8, "b": 2.5}}),
    }


def test_every_demo_speaks_chinese(zh):
    seen = set(i18n.untranslated())
    built = _synthetic_demos()
    for name, demo in built.items():
        heading = demo.children[0].value
        assert CJK.search(heading), (name, heading)
        assert all(CJK.search(c.description) for c in demo.controls.values()), name
        assert CJK.search(demo.reading.value), (name, demo.reading.value)
        titles = [ax.get_title() for ax in demo.axes if ax.get_title()]
        assert titles and all(CJK.search(t) for t in titles), (name, titles)
    assert built["price"].controls["shape"].label == "固定彈性"  # the label; the value stays English
    assert built["price"].controls["shape"].value == "constant elasticity"
    assert built["rfm"].reading.value.endswith("。") and "；" in built["rfm"].reading.value
    assert [t.get_text() for t in built["rfm"].axes[1].get_yticklabels()] == [
        "近期常購", "近期少購", "久未購買但曾常購", "久未購買且少購"]  # CUT_POINT_SEGMENTS.segment_zh
    assert set(i18n.untranslated()) <= seen, sorted(set(i18n.untranslated()) - seen)


def test_the_editions_build_executes_a_demo_in_chinese(tmp_path, monkeypatch):
    """What `crmlab build --lang zh-TW --only 09` does for the lecture's demo: translate it,
    execute it in Chinese; its page then shows a Chinese chart and reading."""
    from crmlab.course.demos import execute_translated_demos
    from crmlab.course.i18n import translate_sources

    monkeypatch.delenv(i18n.LANG_ENV, raising=False)
    source = repository_root() / "demos" / "09_staffing_demo.ipynb"
    (translated,) = translate_sources([source], tmp_path / "demos", "zh-TW")
    execute_translated_demos([translated], tmp_path / "i18n")
    nb = nbformat.read(translated, as_version=4)
    assert "widgets" not in nb.metadata  # the site shows the chart, not an empty widget
    title = nb.cells[0].source.splitlines()[0]
    assert CJK.search(title), title
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
             if "image/png" in o.get("data", {})]
    assert len(shown) == 1
    reading = shown[0]["data"]["text/plain"]
    assert reading.startswith("14 位客服人員") and "88.8%" in reading, reading
    readings = [o["data"]["text/markdown"] for c in nb.cells if "reading" in c.metadata.get("tags", [])
                for o in c.outputs if "text/markdown" in o.get("data", {})]
    assert readings and all(CJK.search(r) for r in readings), readings
    english = nbformat.read(source, as_version=4)  # the committed demo is untouched
    assert not CJK.search(next(o for c in english.cells if c.cell_type == "code" for o in c.outputs
                               if "image/png" in o.get("data", {}))["data"]["text/plain"])
