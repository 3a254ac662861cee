"""The charts of notebooks 01-04 in crmlab.plots (issue 23): each draws what its data say,
sets its title and axis labels, and passes crmlab.plots.layout_problems.

Known answers are worked by hand in each test: bar ends from the attainment table, treemap
areas proportional to the sizes (4:3:2:1 of a unit square), Sankey block heights as shares
of six journeys, 1-2-5 log ticks between 0.5 and 25.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import PathPatch, Rectangle  # noqa: E402

from crmlab import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _bars(ax) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() and p.get_height()]


def test_touchpoint_timeline_one_row_per_kind_in_the_given_order():
    ts = pd.date_range("2024-01-01", periods=30, freq="12D")
    timeline = pd.DataFrame({"ts": ts, "touchpoint": ["order", "session", "ticket"] * 10})
    ax = plots.touchpoint_timeline(timeline, order=["signup", "session", "order", "ticket"], title="Member 1")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["session", "order", "ticket"]  # signup absent
    assert len(ax.collections) == 3 and all(len(c.get_offsets()) == 10 for c in ax.collections)
    assert len(ax.get_xticks()) <= 7  # at most six dates (AutoDateLocator may add one edge tick)
    assert ax.get_xlabel() == "date" and ax.get_ylabel() == "touchpoint"
    assert plots.layout_problems(ax.figure) == []


def test_touchpoint_timeline_names_a_missing_column():
    with pytest.raises(ValueError, match="touchpoint"):
        plots.touchpoint_timeline(pd.DataFrame({"ts": pd.to_datetime(["2024-01-01"])}))


def test_attainment_bars_keep_every_bar_inside_the_axis():
    att = pd.DataFrame({"owner": ["Chen", "Lin", "Huang"], "attainment": [0.5, 1.2, 2.88],
                        "projected_attainment": [0.8, 1.2, 3.5]})
    ax = plots.attainment_bars(att, title="Quota attainment")
    bars = _bars(ax)
    assert len(bars) == 5  # three won bars, two pipeline bars (Lin's pipeline adds 0)
    ends = sorted(round(b.get_x() + b.get_width(), 6) for b in bars)
    assert ends == [0.5, 0.8, 1.2, 2.88, 3.5]
    assert ax.get_xlim()[1] == pytest.approx(3.5 * 1.25)  # room for the longest bar and its label
    assert [t.get_text() for t in ax.texts] == [" 80%", " 120%", " 350%"]
    assert plots.layout_problems(ax.figure) == []


def test_attainment_bars_name_a_missing_column():
    with pytest.raises(ValueError, match="projected_attainment"):
        plots.attainment_bars(pd.DataFrame({"owner": ["a"], "attainment": [1.0]}))


def test_stacked_weekly_bars_label_every_other_week_and_keep_the_legend_off():
    weeks = pd.date_range("2024-09-30", periods=10, freq="W-MON")
    counts = pd.DataFrame({"send": np.arange(10) * 10 + 50, "opted_out": np.full(10, 20)}, index=weeks)
    counts.columns.name = "status"
    ax = plots.stacked_weekly_bars(counts, title="Messages per week", ylabel="messages")
    assert len(_bars(ax)) == 20
    shown = [t.get_text() for t in ax.get_xticklabels() if t.get_visible()]
    assert shown == ["09-30", "10-14", "10-28", "11-11", "11-25"]
    assert ax.get_ylabel() == "messages"
    assert plots.layout_problems(ax.figure) == []


def test_stacked_weekly_bars_need_week_starts():
    with pytest.raises(ValueError, match="DatetimeIndex"):
        plots.stacked_weekly_bars(pd.DataFrame({"send": [1, 2]}))


def test_treemap_areas_are_proportional_to_the_sizes():
    sizes = pd.Series({"a": 4.0, "b": 3.0, "c": 2.0, "d": 1.0})
    ax = plots.treemap(sizes, pd.Series({"a": 0.1, "b": 0.4, "c": 0.3, "d": 0.2}), title="Segments")
    areas = sorted(p.get_width() * p.get_height() for p in _bars(ax))
    assert areas == pytest.approx([0.1, 0.2, 0.3, 0.4])  # a unit square split 4:3:2:1
    assert sorted(t.get_text() for t in ax.texts) == ["a", "b", "c", "d"]
    assert plots.layout_problems(ax.figure) == []


def test_treemap_refuses_empty_boxes():
    with pytest.raises(ValueError, match="positive"):
        plots.treemap(pd.Series({"a": 2.0, "b": 0.0}), pd.Series({"a": 1.0, "b": 1.0}))


def _flows() -> pd.DataFrame:
    return pd.DataFrame({
        "from_stage": ["first_touch"] * 3 + ["last_touch"] * 3,
        "to_stage": ["last_touch"] * 3 + ["outcome"] * 3,
        "source": ["A", "A", "B", "A", "B", "B"],
        "target": ["A", "B", "B", "conversion", "conversion", "null"],
        "journeys": [3, 1, 2, 3, 2, 1],
    })


def test_sankey_blocks_are_shares_of_the_journeys():
    ax = plots.sankey(_flows(), ["first_touch", "last_touch", "outcome"], title="Journeys")
    blocks = sorted(round(p.get_height(), 9) for p in _bars(ax))
    # six journeys: first touch A 4, B 2; last touch A 3, B 3; outcome conversion 5, null 1
    assert blocks == pytest.approx(sorted([4 / 6, 2 / 6, 3 / 6, 3 / 6, 5 / 6, 1 / 6]))
    assert sum(isinstance(p, PathPatch) for p in ax.patches) == 6  # one band per flow
    assert [t.get_text() for t in ax.get_xticklabels()] == ["first_touch", "last_touch", "outcome"]
    assert plots.layout_problems(ax.figure) == []


def test_sankey_names_a_missing_column():
    with pytest.raises(ValueError, match="journeys"):
        plots.sankey(_flows().drop(columns="journeys"), ["first_touch", "last_touch", "outcome"])


@pytest.mark.parametrize(("lo", "hi", "expected"), [
    (0.5, 25, ["0.5", "1", "2", "5", "10", "20"]),  # 1-2-5 per decade
    (1, 1e5, ["1", "10", "100", "1,000", "10,000", "100,000"]),  # 1-2-5 would give 16: powers of ten
])
def test_log_axis_ticks(lo, hi, expected):
    _, ax = plt.subplots()
    ax.plot([1, 2], [lo, hi])
    ax.set_ylim(lo, hi)
    plots.log_axis(ax, "y")
    ax.figure.canvas.draw()
    assert [t.get_text() for t in ax.get_yticklabels()] == expected


def test_log_axis_narrow_range_still_has_four_ticks():
    fig, ax = plt.subplots()
    ax.plot([1, 2], [0.9, 1.3])
    ax.set_ylim(0.9, 1.3)
    ax.set(title="Index", xlabel="month", ylabel="index")
    plots.log_axis(ax, "y")
    fig.canvas.draw()
    ticks = [t for t in ax.get_yticks() if 0.9 <= t <= 1.3]
    assert len(ticks) >= 4
    assert plots.layout_problems(fig) == []


def test_log_axis_refuses_non_positive_limits_and_bad_arguments():
    _, ax = plt.subplots()
    ax.plot([1, 2], [-1, 5])
    ax.set_ylim(-1, 5)
    with pytest.raises(ValueError):
        plots.log_axis(ax, "y")
    with pytest.raises(ValueError, match="axis"):
        plots.log_axis(ax, "z")
    with pytest.raises(ValueError, match="min_ticks"):
        plots.log_axis(ax, "x", min_ticks=1)
