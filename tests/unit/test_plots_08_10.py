"""The charts of notebooks 08-10 (crmlab.plots): what they draw, and a readable layout."""

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


def test_estimate_intervals_one_row_per_campaign_with_truth():
    ab = pd.DataFrame({"campaign": ["1 email", "2 sms", "3 line"], "uplift": [0.02, -0.01, 0.05],
                       "uplift_low": [-0.01, -0.04, 0.01], "uplift_high": [0.05, 0.02, 0.09],
                       "truth": [0.03, 0.0, 0.04]})
    ax = plots.estimate_intervals(ab, "campaign", truth="truth")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1 email", "2 sms", "3 line"]
    truth_line = [ln for ln in ax.get_lines() if ln.get_label() == "truth (simulator)"][0]
    assert list(truth_line.get_xdata()) == [0.03, 0.0, 0.04]
    assert ax.get_title() and ax.get_xlabel()
    assert plots.layout_problems(ax.figure) == []


def test_estimate_intervals_names_a_missing_column():
    with pytest.raises(ValueError, match="uplift_low"):
        plots.estimate_intervals(pd.DataFrame({"campaign": ["a"], "uplift": [0.1]}), "campaign")


def test_detectable_effect_one_line_per_baseline_and_the_campaigns():
    curves = pd.DataFrame([{"holdout": h, "baseline": b, "mde": 1 / np.sqrt(h) * (1 + b)}
                           for b in (0.05, 0.1) for h in (10, 100, 1000)])
    points = pd.DataFrame({"n_control": [20, 200], "mde": [0.3, 0.1]})
    ax = plots.detectable_effect(curves, points)
    assert len(ax.get_lines()) == 2 and len(ax.collections) == 1
    assert ax.get_xscale() == "log" and "log scale" in ax.get_xlabel()
    assert plots.layout_problems(ax.figure) == []


def test_segment_estimates_marks_the_truth():
    table = pd.DataFrame({"holdout estimate": [0.05, -0.02], "low": [0.0, -0.06], "high": [0.1, 0.02],
                          "two models": [0.03, -0.01], "truth": [0.06, -0.03]},
                         index=["deal_seeker", "casual"])
    ax = plots.segment_estimates(table)
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert "two models" in labels and "truth" in labels
    assert [t.get_text() for t in ax.get_xticklabels()] == ["deal_seeker", "casual"]
    assert plots.layout_problems(ax.figure) == []


def test_gain_curves_random_line_ends_where_the_curves_end():
    x = np.linspace(0, 1, 11)
    curves = {"a": pd.DataFrame({"fraction": x, "gain": 10 * np.sqrt(x)}),
              "b": pd.DataFrame({"fraction": x, "gain": 10 * x**2})}
    ax = plots.gain_curves(curves)
    random = [ln for ln in ax.get_lines() if ln.get_label() == "random"][0]
    assert list(random.get_ydata()) == [0, 10.0]
    assert len(ax.get_lines()) == 3
    assert plots.layout_problems(ax.figure) == []


def test_policy_profit_draws_models_everyone_and_nobody():
    policies = pd.DataFrame({"policy": ["nobody", "everyone"] + ["response model"] * 2 + ["uplift model"] * 2,
                             "fraction": [0, 1, 0.1, 0.3, 0.1, 0.3],
                             "profit": [0, -500, -100, -300, 50, 20]})
    ax = plots.policy_profit(policies)
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert labels == ["response model", "uplift model", "everyone", "nobody"]
    assert plots.layout_problems(ax.figure) == []


def test_interval_bars_scale_and_errorbars():
    table = pd.DataFrame({"channel": ["email", "sms"], "net_profit": [2000.0, -1000.0],
                          "low": [-500.0, -3000.0], "high": [4500.0, 1000.0]})
    ax = plots.interval_bars(table, "channel", "net_profit", "low", "high", scale=1000,
                             title="Net profit", xlabel="NT$ thousand")
    assert [p.get_width() for p in ax.patches] == [2.0, -1.0]
    assert plots.layout_problems(ax.figure) == []


def test_driver_effects_two_panels_with_planted_shares():
    table = pd.DataFrame({"driver": ["late_days", "returned", "defect"], "std_coef": [-0.8, -0.3, -0.1],
                          "low": [-1.0, -0.5, -0.4], "high": [-0.6, -0.1, 0.2], "share": [0.67, 0.25, 0.08]})
    planted = pd.Series({"late_days": 0.6, "returned": 0.3, "defect": 0.1})
    axes = plots.driver_effects(table, planted)
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["late_days", "returned", "defect"]
    widths = [p.get_width() for p in axes[1].patches]
    assert widths == pytest.approx([0.67, 0.25, 0.08, 0.6, 0.3, 0.1])
    assert plots.layout_problems(axes[0].figure) == []


def test_driver_effects_names_a_missing_column():
    with pytest.raises(ValueError, match="share"):
        plots.driver_effects(pd.DataFrame({"driver": ["a"], "std_coef": [0.1], "low": [0.0], "high": [0.2]}))


def test_return_window_curve_marks_each_window_with_the_share_it_refuses():
    # 10 returns at 1..10 days: a 7-day window refuses 3 of 10 (days 8, 9, 10), a 14-day window none
    ax = plots.return_window_curve(pd.Series(np.arange(1.0, 11.0)), windows=(7, 14))
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["7-day window\nrefuses 30.0%", "14-day window\nrefuses 0.0%"]
    step = ax.get_lines()[0]
    assert step.get_ydata()[0] == 1.0 and step.get_ydata()[-1] == 0.0
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert plots.layout_problems(ax.figure) == []
    with pytest.raises(ValueError, match="non-negative days"):
        plots.return_window_curve([-1.0, 2.0])


def test_policy_sensitivity_one_labelled_cell_per_assumption():
    grid = pd.DataFrame([[-5000.0, 2000.0, 9000.0], [-12000.0, -4000.0, 3000.0]],
                        index=[0.0, 0.2], columns=[0.0, 0.02, 0.05])
    ax = plots.policy_sensitivity(grid)
    assert [t.get_text() for t in ax.texts] == ["-5", "+2", "+9", "-12", "-4", "+3"]  # NT$ thousand
    assert [t.get_text() for t in ax.get_xticklabels()] == ["+0%", "+2%", "+5%"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["+0%", "+20%"]
    assert plots.layout_problems(ax.figure) == []
    with pytest.raises(ValueError, match="policy_sensitivity"):
        plots.policy_sensitivity(pd.DataFrame())
