"""crmlab.plots.layout_problems finds the figure defects issue 23 lists, and only those.

Each case builds a figure with one planted defect (the known answer) next to its fixed twin.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from crmlab import plots  # noqa: E402


@pytest.fixture(autouse=True, params=["matplotlib", "workbook"])
def _close(request):
    """Each case under matplotlib's defaults and under the workbook's theme (the notebooks')."""
    with plt.rc_context():
        if request.param == "workbook":
            plots.set_theme()
        else:
            plt.rcdefaults()
        yield
    plt.close("all")


def labelled(ax, title="t"):
    ax.set(title=title, xlabel="x (units)", ylabel="y (units)")
    return ax


def test_clean_figure_has_no_problems():
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.plot([1, 2, 3], [1, 4, 9], label="squares")
    labelled(ax).legend(loc="upper left")
    assert plots.layout_problems(fig) == []


def test_missing_title_and_axis_labels():
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [1, 4, 9])
    problems = plots.layout_problems(fig)
    assert any("no title" in p for p in problems)
    assert any("no x-axis label" in p for p in problems) and any("no y-axis label" in p for p in problems)
    fig.suptitle("a figure title counts for its axes")
    ax.set(xlabel="x", ylabel="y")
    assert plots.layout_problems(fig) == []


def test_overlapping_tick_labels():
    fig, ax = plt.subplots(figsize=(4, 3))
    names = [f"a rather long category name {i}" for i in range(12)]
    ax.bar(names, np.arange(12) + 1)
    labelled(ax)
    assert any("x tick labels overlap" in p for p in plots.layout_problems(fig))
    ax.tick_params(axis="x", labelrotation=90)
    fig.set_size_inches(4, 8)
    assert not any("tick labels overlap" in p for p in plots.layout_problems(fig))


def test_legend_on_the_data_points():
    fig, ax = plt.subplots()
    # points everywhere in the axes: a legend inside must cover some, whatever the theme's
    # sizes and paddings (a row of points near the top edge slipped above the legend box)
    gx, gy = np.meshgrid(np.linspace(0.02, 0.98, 25), np.linspace(0.02, 0.98, 25))
    ax.scatter(gx.ravel(), gy.ravel(), s=4, label="customers")
    ax.scatter([0.5], [0.5], label="the centre")
    ax.set(xlim=(0, 1), ylim=(0, 1))
    labelled(ax).legend(loc="upper right")
    assert any("legend covers" in p for p in plots.layout_problems(fig))
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))
    assert not any("legend covers" in p for p in plots.layout_problems(fig))


def test_legend_on_bars():
    fig, ax = plt.subplots()
    ax.bar(["a", "b", "c"], [10, 10, 10], label="sales")
    labelled(ax).legend(loc="upper right")
    assert any("bar(s)" in p and "legend covers" in p for p in plots.layout_problems(fig))


def test_bar_running_past_the_axis():
    fig, ax = plt.subplots()
    ax.barh(["target"], [1.3])
    ax.set_xlim(0, 1)
    labelled(ax)
    assert any("past the axis limits" in p for p in plots.layout_problems(fig))
    ax.set_xlim(0, 1.4)
    assert not any("past the axis limits" in p for p in plots.layout_problems(fig))


def test_reference_lines_are_not_data_under_the_legend():
    """axhline/axvline (targets, averages) may pass under a legend."""
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 0.1], label="data low")
    ax.axhline(0.95, color="k", label="target")
    ax.set_ylim(0, 1)
    labelled(ax).legend(loc="upper right")
    assert plots.layout_problems(fig) == []
