"""The charts of notebooks 11-13 in crmlab.plots: each draws what its data say (checked against
numbers computed by hand from small made-up tables), is labelled, and passes
plots.layout_problems (title, axis labels, no overlapping ticks, legend off the data)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from crmlab import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def scorecard() -> pd.DataFrame:
    """Three indicators: a share above target, a count below it, a 'lower is better' rate."""
    return pd.DataFrame({
        "perspective": ["satisfaction", "value", "loyalty"],
        "indicator": ["order_csat", "active_customers", "churn_rate"],
        "label": ["CSAT", "Active customers", "Churn rate"],
        "label_zh": ["滿意度", "活躍客戶", "流失率"],
        "unit": ["share", "count", "share"],
        "direction": ["higher", "higher", "lower"],
        "value": [0.80, 90.0, 0.30],
        "previous": [0.70, 120.0, np.nan],
        "change": [0.10, -30.0, np.nan],
        "target": [0.70, 100.0, 0.10],
        "tolerance": [0.05, 5.0, 0.02],
        "status": pd.Categorical(["green", "red", "red"]),
    })


def test_format_in_unit():
    assert plots.format_in_unit(0.714, "share") == "71.4%"
    assert plots.format_in_unit(0.026, "share", change=True) == "+2.6 pp"
    assert plots.format_in_unit(-1234.4, "NT$", change=True) == "-1,234"
    assert plots.format_in_unit(1234.4, "NT$", change=True) == "+1,234"
    assert plots.format_in_unit(12.0, "points") == "+12.0"
    assert plots.format_in_unit(np.nan, "share") == "–"


def test_scorecard_gaps_places_each_indicator_by_hand():
    sc = scorecard()
    ax = plots.scorecard_gaps(sc, title="test scorecard")
    filled, hollow = ax.collections[-1], ax.collections[-2]
    # by hand: (0.80 - 0.70) / 0.05 = +2; -(90 - 100) / 5 -> -2 (higher is better, below target);
    # lower is better: -(0.30 - 0.10) / 0.02 = -10, clipped at -4
    assert np.allclose(filled.get_offsets()[:, 0], [2.0, -2.0, -4.0])
    # previous period: (0.70 - 0.70) / 0.05 = 0; (120 - 100) / 5 = +4; churn has no previous value
    assert np.allclose(hollow.get_offsets()[:2, 0], [0.0, 4.0])
    colours = [to_hex(c) for c in filled.get_facecolors()]
    assert colours == [plots.TRAFFIC_LIGHTS[s] for s in ("green", "red", "red")]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["CSAT", "Active customers", "Churn rate"]
    assert ax.get_title() == "test scorecard" and ax.get_xlabel() and ax.get_ylabel()
    assert plots.layout_problems(ax.figure) == []


def test_scorecard_table_colours_the_status():
    html = plots.scorecard_table(scorecard()).to_html()
    assert "80.0%" in html and "+10.0 pp" in html and "≥ 70.0%" in html and "≤ 10.0%" in html
    assert html.count(f"background-color: {plots.TRAFFIC_LIGHTS['red']}") >= 1


def test_scorecard_charts_name_a_missing_column():
    with pytest.raises(ValueError, match="tolerance"):
        plots.scorecard_gaps(scorecard().drop(columns="tolerance"))
    with pytest.raises(ValueError, match="status"):
        plots.traffic_light_grid(pd.DataFrame({"period": ["2025Q1"], "label": ["CSAT"]}))


def history(freq: str = "ME") -> pd.DataFrame:
    starts = pd.date_range("2024-01-01", periods=18, freq="MS")
    rows = []
    for name, unit, target in [("Revenue", "NT$", 100.0), ("CSAT", "share", 0.7), ("NPS", "points", 10.0),
                               ("Defect rate", "share", 0.01), ("Churn", "share", 0.05)]:
        for i, s in enumerate(starts):
            rows.append({"period": s.strftime("%Y-%m") if freq == "ME" else f"{s.year}Q{(s.month - 1) // 3 + 1}",
                         "start": s, "label": name, "unit": unit, "value": target * (1 + 0.1 * np.sin(i)),
                         "target": target, "status": ["green", "amber", "red"][i % 3]})
    return pd.DataFrame(rows)


def test_kpi_small_multiples_one_panel_per_indicator():
    axes = plots.kpi_small_multiples(history(), ncols=3)
    shown = [ax for ax in axes.flat if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == ["Revenue", "CSAT", "NPS", "Defect rate", "Churn"]
    assert len(axes.flat) == 6 and not axes.flat[5].get_visible()
    assert [ax.get_ylabel() for ax in shown] == ["NT$", "share", "points", "share", "share"]
    assert all(len(ax.collections[0].get_offsets()) == 18 for ax in shown)
    assert plots.layout_problems(shown[0].figure) == []


def test_traffic_light_grid_colours_by_hand():
    h = pd.DataFrame({"period": ["2025Q1", "2025Q2"] * 2, "label": ["A", "A", "B", "B"],
                      "status": ["green", "red", "amber", "no data"]})
    ax = plots.traffic_light_grid(h, order=["B", "A"])
    mesh = ax.collections[0]
    # rows top to bottom B, A; codes green 0, amber 1, red 2, no data 3
    assert mesh.get_array().reshape(2, 2).tolist() == [[1, 3], [0, 2]]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["25Q1", "25Q2"]
    assert plots.layout_problems(ax.figure) == []


def test_feedback_loop_diagram_four_steps_with_notes():
    ax = plots.feedback_loop_diagram(["a", "b", "c", "d"], title="loop")
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["Collect\na", "Analyse\nb", "Act\nc", "Measure\nd"]
    assert len(ax.patches) == 8  # four boxes, four arrows
    assert ax.get_title() == "loop" and plots.layout_problems(ax.figure) == []
    with pytest.raises(ValueError, match="one text per step"):
        plots.feedback_loop_diagram(["only one"])


def listening_days():
    days = pd.date_range("2025-01-01", periods=120, freq="D")
    rng = np.random.default_rng(3)
    n = pd.Series(rng.poisson(10, len(days)), index=days)
    k = pd.Series(rng.binomial(n, 0.1), index=days)
    k.iloc[60:70] = n.iloc[60:70]  # an incident: every post negative for ten days
    return days, n, k


def test_social_listening_marks_every_alert_day():
    from crmlab import feedback as fb

    days, n, k = listening_days()
    pchart = fb.proportion_chart(k, n, window=28, guard=3, L=3.0, min_count=3)
    volume = pd.Series(False, index=days)
    volume.iloc[[5, 65]] = True
    axes = plots.social_listening(pd.DataFrame({"n_mentions": n}), volume, pchart,
                                  incident=(days[60], days[70]))
    alert_line = [ln for ln in axes[1].get_lines() if ln.get_label() == "p-chart alert"][0]
    assert len(alert_line.get_xdata()) == int(pchart["alert"].sum()) > 0
    vol_line = [ln for ln in axes[0].get_lines() if ln.get_label() == "volume z-score alert"][0]
    assert list(vol_line.get_ydata()) == [n.iloc[5], n.iloc[65]]
    assert all(ax.get_title() and ax.get_ylabel() for ax in axes)
    assert plots.layout_problems(axes[0].figure) == []


def test_signal_scores_stacks_half_the_positive_z():
    weeks = pd.date_range("2025-01-06", periods=30, freq="7D")
    z = np.linspace(-2, 4, 30)
    rows = pd.DataFrame({"week": weeks, "z_review": z, "z_return": 2 * z, "score": 1.5 * z / 2})
    ax = plots.signal_scores(rows, threshold=3.5, title="signals")
    # stackplot: the top of the second band is (max(z, 0) + max(2z, 0)) / 2 at the last week
    top = ax.collections[1].get_paths()[0].vertices[:, 1].max()
    assert top == pytest.approx((4 + 8) / 2)
    assert [ln for ln in ax.get_lines() if ln.get_label() == "flag threshold"][0].get_ydata()[0] == 3.5
    assert plots.layout_problems(ax.figure) == []


def test_period_rate_intervals_one_point_per_period_and_group():
    rates = pd.DataFrame({"period": ["before", "before", "during", "during"],
                          "group": ["affected", "controls"] * 2, "rate": [0.01, 0.02, 0.3, 0.03],
                          "low": [0.0, 0.01, 0.2, 0.01], "high": [0.05, 0.04, 0.4, 0.08]})
    ax = plots.period_rate_intervals(rates, labels={"affected": "product 7"})
    assert [t.get_text() for t in ax.get_xticklabels()] == ["before", "during"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["product 7", "controls"]
    first = ax.get_lines()[0]  # the affected product's points, shifted left of the tick
    assert list(first.get_ydata()) == [0.01, 0.3] and list(first.get_xdata()) == [-0.125, 0.875]
    assert plots.layout_problems(ax.figure) == []
    with pytest.raises(ValueError, match="high"):
        plots.period_rate_intervals(rates.drop(columns="high"))


def test_theme_priorities_bars_in_the_helpers_order_score_in_thousands():
    # a prioritize_requests table by hand: "other" has no effort estimate, so no score
    table = pd.DataFrame({"theme": ["refills", "eco", "other"], "reach": [5, 12, 2],
                          "score": [30_000.0, 12_000.0, np.nan]})
    axes = plots.theme_priorities(table)
    widths = [p.get_width() for p in axes[1].patches]
    assert widths == [12.0, 30.0]  # the first theme on top (drawn last), NT$ thousand
    assert [p.get_width() for p in axes[0].patches] == [12, 5]
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["eco", "refills"]
    assert axes[1].get_xlabel() == "NT$ thousand per person-week"
    assert plots.layout_problems(axes[0].figure) == []
    with pytest.raises(ValueError, match="no theme has a score"):
        plots.theme_priorities(table.assign(score=np.nan))


def test_requests_around_changes_one_panel_per_change_with_weekly_rates():
    weeks = pd.date_range("2025-01-06", periods=20, freq="7D")
    weekly = pd.DataFrame({"eco": [4] * 10 + [1] * 10, "wish": [2] * 20}, index=weeks)
    effects = pd.DataFrame({"theme": ["eco", "wish"], "shipped_ts": [weeks[10], weeks[12]],
                            "per_day_before": [4 / 7, 2 / 7], "per_day_after": [1 / 7, 2 / 7]})
    axes = plots.requests_around_changes(weekly, effects, titles={"eco": "eco: paper packaging"})
    assert len(axes) == 2 and axes[0].get_title() == "eco: paper packaging" and axes[1].get_title() == "wish"
    assert [p.get_height() for p in axes[0].patches] == weekly["eco"].tolist()
    before = [ln for ln in axes[0].get_lines() if ln.get_label() == "per week before"][0]
    after = [ln for ln in axes[0].get_lines() if ln.get_label() == "per week after"][0]
    assert list(before.get_ydata()) == pytest.approx([4, 4]) and list(after.get_ydata()) == pytest.approx([1, 1])
    assert plots.layout_problems(axes[0].figure) == []
    with pytest.raises(ValueError, match="wish"):
        plots.requests_around_changes(weekly.drop(columns="wish"), effects)


def test_positive_share_by_quarter_points_and_intervals():
    table = pd.DataFrame({"quarter": ["2025Q1", "2025Q2"] * 2, "source": ["reviews"] * 2 + ["posts"] * 2,
                          "share": [0.6, 0.7, 0.4, 0.2], "low": [0.5, 0.6, 0.3, 0.1],
                          "high": [0.7, 0.8, 0.5, 0.3]})
    ax = plots.positive_share_by_quarter(table)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2025\nQ1", "2025\nQ2"]
    reviews = ax.get_lines()[0]  # the first source's points, shifted left of the tick
    assert list(reviews.get_ydata()) == [0.6, 0.7] and list(reviews.get_xdata()) == [-0.1, 0.9]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["reviews", "posts"]
    assert ax.get_ylim() == (0, 1) and plots.layout_problems(ax.figure) == []
