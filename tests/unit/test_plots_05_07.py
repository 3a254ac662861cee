"""The charts of notebooks 05-07 in crmlab.plots: what each draws (counted against the data it
was given, the known answer), with title and axis labels set and no layout problems
(crmlab.plots.layout_problems), and a ValueError naming the missing column on bad input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from crmlab import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _theme():
    with matplotlib.rc_context():  # the course theme for these tests only (rcParams restored)
        plots.set_theme()
        yield
    plt.close("all")


def bars(ax) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() and p.get_height()]


def test_model_metric_bars_one_bar_per_model_and_metric():
    table = pd.DataFrame({"recall@10": [0.18, 0.23, 0.25], "ndcg@10": [0.13, 0.16, 0.18],
                          "hit_rate@10": [0.41, 0.52, 0.55]},
                         index=pd.Index(["popularity", "item_knn", "als"], name="model"))
    ax = plots.model_metric_bars(table, ["recall@10", "ndcg@10", "hit_rate@10"], title="Offline")
    assert len(bars(ax)) == 9
    assert sorted(round(b.get_height(), 2) for b in bars(ax)) == sorted(table.to_numpy().ravel())
    assert ax.get_title() == "Offline" and ax.get_xlabel() and ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["popularity", "item_knn", "als"]
    assert plots.layout_problems(ax.figure) == []
    with pytest.raises(ValueError, match="ndcg@5"):
        plots.model_metric_bars(table, ["ndcg@5"])


def test_support_lift_scatter_draws_every_pair_and_readable_log_ticks():
    rng = np.random.default_rng(0)
    n = 300
    pairs = pd.DataFrame({"support": np.exp(rng.uniform(np.log(0.003), np.log(0.08), n)),
                          "lift": np.exp(rng.uniform(np.log(0.4), np.log(14), n)),
                          "planted": np.arange(n) < 6})
    ax = plots.support_lift_scatter(pairs)
    sizes = [len(c.get_offsets()) for c in ax.collections]
    assert sizes == [294, 6]  # the planted pairs drawn on top, as a second series
    assert ax.get_xscale() == ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "1%" in labels and len(labels) >= 3  # more than the two decades of a bare log axis
    assert plots.layout_problems(ax.figure) == []
    with pytest.raises(ValueError, match="lift"):
        plots.support_lift_scatter(pairs.drop(columns="lift"))


def test_dated_line_marks_the_given_days_with_few_date_labels():
    dates = pd.date_range("2024-01-01", "2025-12-31", freq="D")
    values = np.arange(len(dates), dtype=float)
    marked = (dates.month == 11) & (dates.day == 11)  # Double 11, twice
    ax = plots.dated_line(dates, values, marked, "sale day", title="Units by day", ylabel="units")
    assert len(ax.get_lines()[0].get_xdata()) == len(dates)
    assert len(ax.collections[0].get_offsets()) == 2
    ax.figure.canvas.draw()
    assert 3 <= len([t for t in ax.get_xticklabels() if t.get_text()]) <= 8
    assert plots.layout_problems(ax.figure) == []
    with pytest.raises(ValueError, match="same length"):
        plots.dated_line(dates, values[:-1])


def test_grouped_ratio_bars_legend_off_the_bars():
    report = pd.DataFrame({"age_band": ["18-24", "25-34", "35-44", "45-54", "55+"],
                           "ratio_personalized": [1.06, 1.15, 1.24, 1.33, 1.31],
                           "ratio_capped": [1.01, 1.03, 1.05, 1.06, 1.08]})
    ax = plots.grouped_ratio_bars(report, "age_band", ["ratio_personalized", "ratio_capped"],
                                  ["personalized", "capped"], title="Price paid by age band")
    assert len(bars(ax)) == 10
    assert max(b.get_height() for b in bars(ax)) == pytest.approx(1.33)
    assert ax.get_xlabel() == "age band" and ax.get_ylabel()
    assert plots.layout_problems(ax.figure) == []
    with pytest.raises(ValueError, match="one label per column"):
        plots.grouped_ratio_bars(report, "age_band", ["ratio_capped"], ["a", "b"])


def test_price_and_chance_by_month_two_zero_based_axes():
    table = pd.DataFrame({"month": range(1, 13), "price": np.linspace(3000, 3800, 12),
                          "booked_probability": np.linspace(0.47, 0.54, 12)})
    left, right = plots.price_and_chance_by_month(table)
    assert len(bars(left)) == 12
    assert left.get_ylim()[0] == 0 and right.get_ylim() == (0, 1)  # no 47-54% axis
    assert list(right.get_lines()[0].get_ydata()) == pytest.approx(table["booked_probability"])
    assert plots.layout_problems(left.figure) == []
    with pytest.raises(ValueError, match="booked_probability"):
        plots.price_and_chance_by_month(table.drop(columns="booked_probability"))


def test_step_paths_one_panel_per_path():
    paths = [pd.DataFrame({"period": range(12), "price": np.repeat([1290.0, 990.0, 790.0], 4)}),
             pd.DataFrame({"period": range(12), "price": np.repeat([1290.0, 990.0], 6)})]
    axes = plots.step_paths(paths, levels=[590.0, 790.0, 990.0, 1290.0], title="Markdown paths")
    assert len(axes) == 2 and [ax.get_title() for ax in axes] == ["season 1", "season 2"]
    assert list(axes[1].get_lines()[0].get_ydata()) == [*paths[1]["price"], 990.0]  # + the last week's end
    assert list(axes[0].get_yticks()) == [590.0, 790.0, 990.0, 1290.0]
    assert plots.layout_problems(axes[0].figure) == []
    with pytest.raises(ValueError, match="'price'"):
        plots.step_paths([paths[0].drop(columns="price")])


def test_frequency_recency_maps_one_labelled_panel_per_column():
    grid = pd.DataFrame([(f, r) for f in range(6) for r in range(0, 400, 20) if (f == 0) == (r == 0)],
                        columns=["frequency", "recency"])
    grid["p_alive"] = np.where(grid["frequency"] == 0, 1.0, grid["recency"] / 400)
    grid["expected"] = grid["frequency"] * 0.1
    axes = plots.frequency_recency_maps(grid, ["expected", "p_alive"], ["expected purchases", "P(alive)"],
                                        title="Frequency-recency maps")
    assert len(axes) == 2 and [ax.get_title() for ax in axes] == ["expected purchases", "P(alive)"]
    image = axes[1].get_images()[0].get_array()
    assert image.shape == (6, 20)  # frequencies x recencies
    assert image[0, 0] == 1.0  # one-time buyers are alive in the BG/NBD story
    fig = axes[0].figure
    assert len(fig.axes) == 4  # two maps, two colour bars
    assert plots.layout_problems(fig) == []
    with pytest.raises(ValueError, match="one title per column"):
        plots.frequency_recency_maps(grid, ["expected"], ["a", "b"])


def test_survival_curves_steps_and_bands():
    km = pd.DataFrame({"time": [0.0, 10, 30, 90], "survival": [1.0, 0.8, 0.5, 0.3],
                       "lower": [1.0, 0.75, 0.45, 0.25], "upper": [1.0, 0.85, 0.55, 0.35]})
    ax = plots.survival_curves({"first order": km, "a repeat order": km.assign(survival=km["survival"] - 0.1)})
    assert len(ax.get_lines()) == 2 and len(ax.collections) == 2  # a band per curve
    assert list(ax.get_lines()[0].get_ydata()) == [1.0, 0.8, 0.5, 0.3]
    assert ax.get_ylim()[0] == 0
    assert plots.layout_problems(ax.figure) == []
    with pytest.raises(ValueError, match="at least one curve"):
        plots.survival_curves({})


def test_save_first_scatter_legend_off_the_points():
    rng = np.random.default_rng(1)
    n = 400
    customers = pd.DataFrame({"p_alive": rng.uniform(0, 1, n), "clv_if_alive": np.exp(rng.normal(8, 1, n))})
    top = np.arange(n) < 20
    ax = plots.save_first_scatter(customers, top, np.where(np.arange(n) % 2, "alive", "gone"))
    sizes = sorted(len(c.get_offsets()) for c in ax.collections)
    assert sizes == [20, 200, 200]
    assert ax.get_yscale() == "log"
    assert plots.layout_problems(ax.figure) == []
    with pytest.raises(ValueError, match="one value per customer"):
        plots.save_first_scatter(customers, top[:-1])
