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


@pytest.fixture(autouse=True)
def _close():
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
    x = np.linspace(0, 1, 200)
    ax.scatter(x, np.full_like(x, 0.98), label="near the top")
    ax.scatter(x, np.full_like(x, 0.02), label="near the bottom")
    ax.set_ylim(0, 1)
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
