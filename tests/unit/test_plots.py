"""crmlab.plots: the theme and the recurring charts draw what they claim and reject bad data."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_theme_sets_size_and_fonts():
    plots.set_theme()
    rc = matplotlib.rcParams
    assert tuple(rc["figure.figsize"]) == plots.FIGSIZE
    assert rc["font.sans-serif"][0] == "DejaVu Sans"
    assert set(plots.installed_cjk_fonts()) <= set(plots.CJK_FONTS)
    assert rc["axes.spines.top"] is False


def test_lorenz_curve_points():
    # Values 1, 1, 2: sorted cumulative shares 1/4, 2/4, 4/4 at customer shares 1/3, 2/3, 1.
    ax = plots.lorenz([2, 1, 1], title=None)
    x, y = ax.lines[0].get_data()
    np.testing.assert_allclose(x, [0, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(y, [0, 0.25, 0.5, 1.0])


@pytest.mark.parametrize("bad", [[1, -1, 3], [0, 0], [1.0, np.nan]])
def test_lorenz_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="non-negative"):
        plots.lorenz(bad)


def test_funnel_labels_share_of_first_step():
    steps = pd.Series([1000, 400, 100], index=["visit", "add_to_cart", "purchase"])
    ax = plots.funnel(steps)
    texts = sorted(t.get_text().strip() for t in ax.texts)
    assert texts == ["1,000 (100.0%)", "100 (10.0%)", "400 (40.0%)"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["purchase", "add_to_cart", "visit"]
    with pytest.raises(ValueError, match="first step"):
        plots.funnel(pd.Series([0, 1]))


def test_axis_formatters():
    _, ax = plt.subplots()
    plots.money_axis(ax)
    assert ax.yaxis.get_major_formatter()(12345, 0) == "NT$12,345"
    plots.percent_axis(ax, "x")
    assert ax.xaxis.get_major_formatter()(0.25, 0) == "25%"


def test_bar_labels_and_time_series():
    _, ax = plt.subplots()
    ax.bar(["a", "b"], [1200, 30])
    plots.bar_labels(ax)
    assert [t.get_text() for t in ax.texts] == ["1,200", "30"]
    data = pd.DataFrame({"month": pd.date_range("2024-01-31", periods=3, freq="ME"), "orders": [3, 5, 4]})
    ax = plots.time_series(data, "month", "orders", title="Orders")
    assert ax.get_title() == "Orders"
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [3, 5, 4])
    with pytest.raises(ValueError, match="'revenue'"):
        plots.time_series(data, "month", "revenue")


def test_heatmap_annotates_cells():
    table = pd.DataFrame([[1.0, 0.5], [1.0, 0.25]], index=["2024-01", "2024-02"], columns=[0, 1])
    ax = plots.heatmap(table, title="Retention")
    assert sorted(t.get_text() for t in ax.texts) == ["100%", "100%", "25%", "50%"]


def test_btyd_model_check_charts_draw_their_tables():
    hist = pd.DataFrame({"frequency": ["0", "1", "2+"], "actual": [10, 5, 3],
                         "expected": [9.5, 5.5, 3.0]})
    ax = plots.calibration_histogram(hist, model_label="BG/NBD")
    heights = [p.get_height() for p in ax.patches]
    assert heights == [10, 5, 3, 9.5, 5.5, 3.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2+"]
    ce = pd.DataFrame({"frequency": ["0", "1"], "actual": [0.2, 0.7], "expected": [0.25, 0.6]})
    ax = plots.conditional_expectations(ce)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.2, 0.7])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [0.25, 0.6])
    tr = pd.DataFrame({"t": [1.0, 2.0, 3.0], "actual": [1.0, 3.0, 4.0], "expected": [1.5, 2.5, 4.5],
                       "actual_step": [1.0, 2.0, 1.0], "expected_step": [1.5, 1.0, 2.0],
                       "holdout": [False, False, True]})
    ax = plots.repeat_tracking(tr)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1, 3, 4])
    assert ax.lines[2].get_xdata()[0] == 2.0  # the end of the calibration period
    ax = plots.repeat_tracking(tr, cumulative=False)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [1.5, 1.0, 2.0])
    with pytest.raises(ValueError, match="crmlab.clv.calibration_histogram"):
        plots.calibration_histogram(hist.drop(columns="expected"))
