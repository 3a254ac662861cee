"""One look for every chart in the workbook, and the charts that recur across units.

Pure computation lives in the unit modules; this module only draws. Every helper takes
tidy data plus an optional ``ax`` and returns the ``Axes`` it drew on, so a notebook can
keep styling it (titles, annotations) with plain matplotlib.

The package holds one file per group of charts, each ending in its group's marker comment
(``# (end of the charts of notebooks NN-MM)``) above which a new chart of that group goes:

* :mod:`crmlab.plots.core` -- the theme, the axis helpers and the figure checks;
* :mod:`crmlab.plots.charts_00_04`, :mod:`~crmlab.plots.charts_05_07`,
  :mod:`~crmlab.plots.charts_08_10`, :mod:`~crmlab.plots.charts_11_13` -- the charts of those
  notebooks;
* :mod:`crmlab.plots.demo_charts` -- the charts of the live what-if demos.

Every name is re-exported here: ``import crmlab.plots as plots; plots.lorenz(...)``.
"""

from __future__ import annotations

from .charts_00_04 import (  # noqa: F401
    attainment_bars,
    calibration_histogram,
    conditional_expectations,
    funnel,
    heatmap,
    lorenz,
    repeat_tracking,
    sankey,
    stacked_weekly_bars,
    time_series,
    touchpoint_timeline,
    treemap,
)
from .charts_05_07 import (  # noqa: F401
    dated_line,
    frequency_recency_maps,
    grouped_ratio_bars,
    model_metric_bars,
    price_and_chance_by_month,
    save_first_scatter,
    step_paths,
    support_lift_scatter,
    survival_curves,
)
from .charts_08_10 import (  # noqa: F401
    detectable_effect,
    driver_effects,
    estimate_intervals,
    gain_curves,
    interval_bars,
    policy_profit,
    policy_sensitivity,
    return_window_curve,
    segment_estimates,
)
from .charts_11_13 import (  # noqa: F401
    TRAFFIC_LIGHTS,
    capstone_timeline,
    feedback_loop_diagram,
    format_in_unit,
    kpi_small_multiples,
    period_rate_intervals,
    positive_share_by_quarter,
    requests_around_changes,
    scorecard_gaps,
    scorecard_table,
    signal_scores,
    social_listening,
    theme_priorities,
    traffic_light_grid,
)
from .core import (  # noqa: F401
    CJK_FONTS,
    FIGSIZE,
    FIGURE_PROBLEM_MIMETYPE,
    PALETTE,
    bar_labels,
    installed_cjk_fonts,
    layout_problems,
    log_axis,
    money_axis,
    on_shown_figures,
    percent_axis,
    set_theme,
    watch_figures,
)
from .demo_charts import (  # noqa: F401
    _demo_memo,
    bgnbd_demo_chart,
    price_demo_chart,
    rfm_cut_chart,
    staffing_demo_chart,
    targeting_demo_chart,
)

__all__ = [
    "CJK_FONTS",
    "FIGSIZE",
    "FIGURE_PROBLEM_MIMETYPE",
    "PALETTE",
    "TRAFFIC_LIGHTS",
    "attainment_bars",
    "bar_labels",
    "bgnbd_demo_chart",
    "calibration_histogram",
    "capstone_timeline",
    "conditional_expectations",
    "dated_line",
    "detectable_effect",
    "driver_effects",
    "estimate_intervals",
    "feedback_loop_diagram",
    "format_in_unit",
    "frequency_recency_maps",
    "funnel",
    "gain_curves",
    "grouped_ratio_bars",
    "heatmap",
    "installed_cjk_fonts",
    "interval_bars",
    "kpi_small_multiples",
    "layout_problems",
    "log_axis",
    "lorenz",
    "model_metric_bars",
    "money_axis",
    "on_shown_figures",
    "percent_axis",
    "period_rate_intervals",
    "policy_profit",
    "policy_sensitivity",
    "positive_share_by_quarter",
    "price_and_chance_by_month",
    "price_demo_chart",
    "repeat_tracking",
    "requests_around_changes",
    "return_window_curve",
    "rfm_cut_chart",
    "sankey",
    "save_first_scatter",
    "scorecard_gaps",
    "scorecard_table",
    "segment_estimates",
    "set_theme",
    "signal_scores",
    "social_listening",
    "stacked_weekly_bars",
    "staffing_demo_chart",
    "step_paths",
    "support_lift_scatter",
    "survival_curves",
    "targeting_demo_chart",
    "theme_priorities",
    "time_series",
    "touchpoint_timeline",
    "traffic_light_grid",
    "treemap",
    "watch_figures",
]
