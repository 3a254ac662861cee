"""Charts of notebooks 11-13 (feedback, scorecard, scale)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from .core import _ax, _require, bar_labels, percent_axis

#: Traffic-light colours of the CRM scorecard (crmlab.kpi statuses); grey when there is no
#: data or no target.
TRAFFIC_LIGHTS: dict[str, str] = {"green": "#1b9e77", "amber": "#e6ab02", "red": "#d95f02",
                                  "no data": "#bbbbbb", "no target": "#bbbbbb"}


def format_in_unit(value: float, unit: str, change: bool = False) -> str:
    """A scorecard number as a manager reads it: ``"71.4%"`` for a share, ``"NT$1,234"``-style
    money, whole days; a ``change`` of a share in percentage points (``"+2.6 pp"``). "–" for
    no data.

    Parameters
    ----------
    value : float
        The number (NaN for no data).
    unit : str
        ``"share"``, ``"NT$"``, ``"points"``, ``"days"`` or ``"count"``; other units get two decimals.
    change : bool, default False
        Format as a change: signed, shares in percentage points.

    Returns
    -------
    str
        The formatted number, or "–" when ``value`` is missing.
    """
    if pd.isna(value):
        return "–"
    if change and unit == "share":
        return f"{100 * value:+.1f} pp"
    text = {"share": f"{value:.1%}", "NT$": f"{value:,.0f}", "points": f"{value:+.1f}",
            "days": f"{value:.0f}", "count": f"{value:,.0f}"}.get(unit, f"{value:.2f}")
    return ("+" if change and value >= 0 else "") + (text.lstrip("+") if change else text)


def scorecard_table(scorecard: pd.DataFrame):
    """The table of :func:`crmlab.kpi.scorecard` as a styled table (a pandas ``Styler``):
    each number in its unit, the change (percentage points for shares), the target with ≥/≤
    and the status cell in its traffic-light colour.

    Parameters
    ----------
    scorecard : pd.DataFrame
        The table of :func:`crmlab.kpi.scorecard` (perspective, label, label_zh, unit, direction,
        value, previous, change, target, status).

    Returns
    -------
    pandas.io.formats.style.Styler
        One row per indicator, without the index, the status cell coloured.
    """
    _require(scorecard, ["perspective", "label", "label_zh", "unit", "direction", "value",
                                 "previous", "change", "target", "status"], "scorecard_table",
                     "crmlab.kpi.scorecard(shop, period, freq)")
    units = scorecard["unit"].tolist()
    view = pd.DataFrame({
        "perspective": scorecard["perspective"],
        "indicator": scorecard["label"] + " " + scorecard["label_zh"],
        "value": [format_in_unit(v, u) for v, u in zip(scorecard["value"], units, strict=True)],
        "previous": [format_in_unit(v, u) for v, u in zip(scorecard["previous"], units, strict=True)],
        "change": [format_in_unit(v, u, change=True) for v, u in zip(scorecard["change"], units, strict=True)],
        "target": [("≥ " if d == "higher" else "≤ ") + format_in_unit(t, u)
                   for t, u, d in zip(scorecard["target"], units, scorecard["direction"], strict=True)],
        "status": scorecard["status"].astype(str),
    })
    return (view.style.set_uuid("scorecard").hide(axis="index")  # fixed ids: re-runs diff cleanly
            .map(lambda s: f"background-color: {TRAFFIC_LIGHTS[s]}; color: white; font-weight: bold",
                 subset=["status"]))


def scorecard_gaps(scorecard: pd.DataFrame, ax: Axes | None = None, clip: float = 4.0,
                   title: str | None = None) -> Axes:
    """Each indicator's distance to its target in units of its tolerance (0 = on target, −1 =
    the edge of amber, further left = red), this period (filled, in its light's colour) and the
    previous one (hollow), joined by a line: level and direction at a glance. Distances are
    clipped at ±``clip``. ``scorecard`` is the table of :func:`crmlab.kpi.scorecard`.

    Parameters
    ----------
    scorecard : pd.DataFrame
        The table of :func:`crmlab.kpi.scorecard` (label, direction, value, previous, target,
        tolerance, status).
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure sized to the rows when None.
    clip : float, default 4.0
        Distances are clipped to ``[-clip, clip]`` tolerances.
    title : str, optional
        The chart's title; "CRM scorecard: distance to target" when None.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    import numpy as np

    _require(scorecard, ["label", "direction", "value", "previous", "target", "tolerance",
                                 "status"], "scorecard_gaps", "crmlab.kpi.scorecard(shop, period, freq)")
    sign = np.where(scorecard["direction"] == "higher", 1.0, -1.0)

    def gap(values: pd.Series):
        return np.clip(sign * (values - scorecard["target"]) / scorecard["tolerance"], -clip, clip)

    now, before = gap(scorecard["value"]), gap(scorecard["previous"])
    ax = _ax(ax, figsize=(7.5, 0.3 * len(scorecard) + 1.6))
    edge = clip + 0.3
    for lo, hi, colour, alpha in ((-edge, -1, "red", 0.08), (-1, 0, "amber", 0.12), (0, edge, "green", 0.08)):
        ax.axvspan(lo, hi, color=TRAFFIC_LIGHTS[colour], alpha=alpha, lw=0)
    y = np.arange(len(scorecard))[::-1]
    for yi, b, n in zip(y, before, now, strict=True):
        ax.plot([b, n], [yi, yi], color="grey", lw=0.8, zorder=1)
    ax.scatter(before, y, facecolors="none", edgecolors="grey", s=30, label="previous period")
    ax.scatter(now, y, c=[TRAFFIC_LIGHTS[s] for s in scorecard["status"].astype(str)], s=45, zorder=3,
               label="this period")
    ax.set_yticks(y, scorecard["label"].tolist(), fontsize="x-small")
    ax.set(xlim=(-edge, edge), ylim=(-0.7, len(scorecard) - 0.3),
           xlabel=f"distance to target (tolerances; clipped at ±{clip:g})", ylabel="indicator")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="x-small", frameon=False)
    ax.set_title(title or "CRM scorecard: distance to target")
    return ax


def kpi_small_multiples(history: pd.DataFrame, ncols: int = 4,
                        title: str = "CRM dashboard (dashed line: target; dots: traffic light)"):
    """Small multiples of :func:`crmlab.kpi.kpi_history`: one panel per indicator (its own y
    scale, labelled with its unit), the value per period as a line, each period's dot in its
    traffic-light colour, the target dashed. Returns the array of Axes (one per panel; unused
    panels are hidden). Figure labels stay English: not every machine has a CJK font.

    Parameters
    ----------
    history : pd.DataFrame
        The table of :func:`crmlab.kpi.kpi_history` (start, label, unit, value, target, status).
    ncols : int, default 4
        Panels per row.
    title : str
        The figure's suptitle.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        The ``(nrows, ncols)`` grid of Axes on a new figure.
    """
    import matplotlib.dates as mdates
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    _require(history, ["start", "label", "unit", "value", "target", "status"],
                     "kpi_small_multiples", "crmlab.kpi.kpi_history(shop, freq)")
    panels = list(history.groupby("label", sort=False))
    nrows = -(-len(panels) // ncols)
    # spacing set by hand: automatic layout of many panels costs seconds on every run
    with plt.rc_context({"figure.autolayout": False}):
        fig, axes = plt.subplots(nrows, ncols, figsize=(2.55 * ncols, 1.9 * nrows + 0.4), sharex=True,
                                 squeeze=False)
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.06, top=1 - 0.55 / (1.9 * nrows + 0.4),
                        hspace=0.55, wspace=0.38)
    for ax, (name, d) in zip(axes.flat, panels, strict=False):
        ax.plot(d["start"], d["value"], color="0.35", linewidth=1)
        ax.scatter(d["start"], d["value"], c=[TRAFFIC_LIGHTS[s] for s in d["status"].astype(str)], s=12,
                   zorder=3)
        if d["target"].notna().any():
            ax.axhline(d["target"].iloc[0], color=TRAFFIC_LIGHTS["green"], ls="--", lw=0.8)
        ax.set_title(name, fontsize="x-small")
        ax.set_ylabel(str(d["unit"].iloc[0]), fontsize="xx-small", labelpad=1)
        ax.tick_params(labelsize="xx-small")
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        ax.yaxis.set_major_locator(MaxNLocator(4))
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("period start", fontsize="xx-small")
    fig.suptitle(title, fontsize="small")
    return np.asarray(axes)


def traffic_light_grid(history: pd.DataFrame, order: Sequence[str] | None = None, ax: Axes | None = None,
                       title: str = "Traffic lights by quarter (grey: no data)") -> Axes:
    """One row per indicator, one column per period of :func:`crmlab.kpi.kpi_history`, each
    cell in its traffic-light colour; ``order`` lists the indicator labels top to bottom.
    Columns are labelled by period ("2025Q1" -> "25Q1").

    Parameters
    ----------
    history : pd.DataFrame
        The table of :func:`crmlab.kpi.kpi_history` (period, label, status).
    order : sequence of str, optional
        Indicator labels top to bottom; their first appearance in ``history`` when None.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure sized to the grid when None.
    title : str
        The chart's title.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    from matplotlib.colors import ListedColormap

    _require(history, ["period", "label", "status"], "traffic_light_grid",
                     "crmlab.kpi.kpi_history(shop, freq)")
    code = {"green": 0, "amber": 1, "red": 2, "no data": 3, "no target": 3}
    grid = (history.assign(code=history["status"].astype(str).map(code))
            .pivot(index="label", columns="period", values="code"))
    grid = grid.reindex(list(order) if order is not None else list(dict.fromkeys(history["label"])))
    grid.columns = [str(c)[2:] if len(str(c)) == 6 else str(c) for c in grid.columns]
    ax = _ax(ax, figsize=(max(4.5, 0.5 * grid.shape[1] + 3.5), 0.3 * len(grid) + 1.2))
    cmap = ListedColormap([TRAFFIC_LIGHTS[s] for s in ("green", "amber", "red", "no data")])
    sns.heatmap(grid, cmap=cmap, vmin=-0.5, vmax=3.5, cbar=False, linewidths=0.5, linecolor="white", ax=ax)
    ax.set(xlabel="quarter", ylabel="indicator")
    ax.tick_params(labelsize="x-small")
    ax.set_title(title, fontsize="small")
    return ax


def feedback_loop_diagram(notes: Sequence[str] | None = None, ax: Axes | None = None,
                          title: str = "The feedback loop") -> Axes:
    """The feedback loop as four boxes on a circle — collect, analyse, act, measure — with
    arrows clockwise; ``notes`` (four strings) are written under the step names, e.g. what was
    measured at each step.

    Parameters
    ----------
    notes : sequence of str, optional
        Four texts, one per step; step names only (a smaller figure) when None.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, default "The feedback loop"
        The chart's title.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (axis turned off).
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    steps = ["Collect", "Analyse", "Act", "Measure"]
    if notes is not None and len(notes) != 4:
        raise ValueError(f"feedback_loop_diagram: notes needs one text per step {steps}, got {len(notes)}")
    ax = _ax(ax, figsize=(4.2, 3.2) if notes is None else (6.2, 4.4))
    colours = ["#cfe2f3", "#d9ead3", "#fff2cc", "#f4cccc"]
    pos = [(0.0, 1.0), (1.0, 0.0), (0.0, -1.0), (-1.0, 0.0)]
    w, h = (0.9, 0.3) if notes is None else (1.25, 0.62)
    for i, (x, y) in enumerate(pos):
        text = steps[i] if notes is None else f"{steps[i]}\n{notes[i]}"
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.03",
                                    fc=colours[i], ec="grey"))
        ax.text(x, y, text, ha="center", va="center", fontsize=8 if notes else 10)
    for i in range(4):
        (x0, y0), (x1, y1) = pos[i], pos[(i + 1) % 4]
        ax.add_patch(FancyArrowPatch((x0 + 0.35 * (x1 - x0), y0 + 0.35 * (y1 - y0)),
                                     (x0 + 0.65 * (x1 - x0), y0 + 0.65 * (y1 - y0)),
                                     arrowstyle="-|>", mutation_scale=18, color="grey",
                                     connectionstyle="arc3,rad=-0.25"))
    ax.set(xlim=(-1.8, 1.8), ylim=(-1.45, 1.45), aspect="equal")
    ax.axis("off")
    ax.set_title(title)
    return ax


def _mark_incident(ax: Axes, incident: tuple | None) -> None:
    if incident is not None and incident[0] is not None:
        ax.axvspan(incident[0], incident[1], color="C3", alpha=0.12, lw=0, label="planted incident")


def _dated_x_axis(ax: Axes) -> None:
    import matplotlib.dates as mdates

    # The concise formatter labels what changes (months, or days within a month): a fixed
    # "%Y-%m" wrote the same month under every weekly tick of a short span.
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def social_listening(daily: pd.DataFrame, volume_alert: pd.Series, pchart: pd.DataFrame,
                     incident: tuple | None = None, axes=None):
    """Two stacked panels over the days: mention volume with the volume alarm's days, and the
    negative share with the p-chart's upper control limit and its alarm days; the planted
    incident (start, fix) shaded. ``daily`` has a date index and ``n_mentions``; ``volume_alert``
    (booleans) and ``pchart`` (``share``, ``ucl``, ``alert`` of
    :func:`crmlab.feedback.proportion_chart`) share that index. Legends sit right of the
    panels. Returns the two Axes.

    Parameters
    ----------
    daily : pd.DataFrame
        Date index and column ``n_mentions``.
    volume_alert : pd.Series
        True on the volume alarm's days (same index).
    pchart : pd.DataFrame
        Columns ``share``, ``ucl``, ``alert`` (same index).
    incident : tuple, optional
        ``(start, fix)`` of the planted incident, shaded; nothing shaded when None.
    axes : sequence of two matplotlib.axes.Axes, optional
        Draw into these; a new 2x1 figure sharing x when None.

    Returns
    -------
    sequence of matplotlib.axes.Axes
        The two Axes drawn on (``axes`` when given).
    """
    import numpy as np

    _require(daily, ["n_mentions"], "social_listening", "crmlab.feedback.daily_mentions(...)")
    _require(pchart, ["share", "ucl", "alert"], "social_listening",
                     "crmlab.feedback.proportion_chart(...)")
    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(8.2, 4.6), sharex=True)
    n = daily["n_mentions"]
    vol = np.asarray(volume_alert, dtype=bool)
    axes[0].plot(daily.index, n, lw=0.7, color="grey", label="mentions")
    axes[0].plot(daily.index[vol], n[vol], "o", ms=3, color="C1", label="volume z-score alert")
    axes[0].set(ylabel="mentions / day", title="Social listening: mentions per day and the volume alarm")
    alert = pchart["alert"].to_numpy(dtype=bool)
    axes[1].plot(daily.index, pchart["share"], lw=0.5, color="grey", label="negative share")
    axes[1].plot(daily.index, pchart["ucl"].clip(upper=1), lw=0.8, color="C0", label="p-chart limit (UCL)")
    axes[1].plot(daily.index[alert], pchart["share"][alert], "o", ms=3, color="C3", label="p-chart alert")
    percent_axis(axes[1])
    axes[1].set(ylabel="negative share", xlabel="day", title="Negative share of the day's mentions and the p-chart")
    for ax in axes:
        _mark_incident(ax, incident)
        ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    _dated_x_axis(axes[1])
    return axes


def signal_scores(weekly: pd.DataFrame, threshold: float, incident: tuple | None = None,
                  ax: Axes | None = None, title: str | None = None) -> Axes:
    """One product's weekly defect signals (rows of :func:`crmlab.feedback.product_signals`):
    each source's positive surprise z/2 stacked (its share of the combined score
    Σz/√4), the combined score as a line and the flag threshold dashed; the planted incident
    (start, fix) shaded. The legend sits right of the axes.

    Parameters
    ----------
    weekly : pd.DataFrame
        Columns ``week``, ``score`` and one ``z_<source>`` column per source.
    threshold : float
        The flag threshold (z units), drawn dashed.
    incident : tuple, optional
        ``(start, fix)`` of the planted incident, shaded; nothing shaded when None.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, optional
        The chart's title; a default title when None.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    _require(weekly, ["week", "score"], "signal_scores", "crmlab.feedback.product_signals(...)")
    zcols = [c for c in weekly.columns if c.startswith("z_")]
    show = weekly.set_index("week").sort_index()
    ax = _ax(ax, figsize=(8.2, 2.9))
    ax.stackplot(show.index, *[show[c].clip(lower=0).fillna(0) / 2 for c in zcols],
                 labels=[c[2:] for c in zcols], alpha=0.75)
    ax.plot(show.index, show["score"], color="black", lw=1, label="combined score")
    ax.axhline(threshold, color="C3", ls="--", lw=1, label="flag threshold")
    _mark_incident(ax, incident)
    ax.set(title=title or "Defect signals by source (positive part of z / 2)",
           ylabel="score (z units)", xlabel="week")
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    _dated_x_axis(ax)
    return ax


def period_rate_intervals(rates: pd.DataFrame, labels: dict[str, str] | None = None,
                          ax: Axes | None = None,
                          title: str = "Defect-return rate by order date (95% Wilson intervals)") -> Axes:
    """Rate per period with its interval, one series per group, side by side (the table of
    :func:`crmlab.feedback.period_rates`: period, group, rate, low, high); ``labels`` renames
    the groups in the legend, which sits right of the axes.

    Parameters
    ----------
    rates : pd.DataFrame
        Columns ``period``, ``group``, ``rate``, ``low``, ``high``.
    labels : dict of str to str, optional
        Legend name per group; the group values when None.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str
        The chart's title.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    import numpy as np

    _require(rates, ["period", "group", "rate", "low", "high"], "period_rate_intervals",
                     "crmlab.feedback.period_rates(...)")
    ax = _ax(ax, figsize=(7.8, 3.0))
    periods = list(dict.fromkeys(rates["period"]))
    groups = list(dict.fromkeys(rates["group"]))
    for i, group in enumerate(groups):
        r = rates.loc[rates["group"] == group].set_index("period").reindex(periods)
        x = np.arange(len(periods)) + (i - (len(groups) - 1) / 2) * 0.25
        ax.errorbar(x, r["rate"], yerr=[r["rate"] - r["low"], r["high"] - r["rate"]], fmt="o", capsize=3,
                    label=(labels or {}).get(group, group))
    ax.set_xticks(range(len(periods)), periods)
    percent_axis(ax)
    ax.set(title=title, ylabel="share of order lines", xlabel="period (by order date)")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax


def theme_priorities(priorities: pd.DataFrame, axes=None,
                     title: str = "Feature-request themes: reach and the team's priority score"):
    """Two bar panels over the themes of :func:`crmlab.feedback.prioritize_requests` (in its
    order, the first on top): ``reach`` (customers asking) and ``score`` (requesters' spend per
    person-week of effort, in NT$ thousand); each bar carries its value. Themes without a
    score (no effort estimate) are left out. Returns the two Axes.

    Parameters
    ----------
    priorities : pd.DataFrame
        Columns ``theme``, ``reach`` and ``score`` (NT$ per person-week).
    axes : sequence of two matplotlib.axes.Axes, optional
        Draw into these; a new 1x2 figure sharing y when None.
    title : str
        The figure's suptitle.

    Returns
    -------
    sequence of matplotlib.axes.Axes
        The two Axes drawn on (``axes`` when given).
    """
    from matplotlib.ticker import MaxNLocator

    _require(priorities, ["theme", "reach", "score"], "theme_priorities",
                     "crmlab.feedback.prioritize_requests(..., effort=...)")
    show = priorities.dropna(subset=["score"]).iloc[::-1]
    if show.empty:
        raise ValueError("theme_priorities: no theme has a score; pass effort= to prioritize_requests")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.4, 0.42 * len(show) + 1.5), sharey=True)
    ypos = list(range(len(show)))
    for ax, values, xlabel, fmt in ((axes[0], show["reach"].to_numpy(float), "customers asking", "{:,.0f}"),
                                    (axes[1], show["score"].to_numpy(float) / 1000,
                                     "NT$ thousand per person-week", "{:,.0f}")):
        ax.barh(ypos, values, color="C0" if ax is axes[0] else "C2")
        bar_labels(ax, fmt)
        ax.set_xlim(0, max(values.max(), 1e-9) * 1.3)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.set_xlabel(xlabel)
    axes[0].set_yticks(ypos, show["theme"].astype(str))
    axes[0].set(ylabel="theme", title="Reach")
    axes[1].set_title("Score = requesters' spend / effort")
    axes[0].figure.suptitle(title)
    return axes


def requests_around_changes(weekly: pd.DataFrame, effects: pd.DataFrame,
                            titles: dict[str, str] | None = None, axes=None):
    """One panel per shipped change: the weekly requests of its theme as bars (``weekly``: one
    column per theme, complete weeks as a date index), the requests per week before and after
    the change as lines (7 x the daily rates of :func:`crmlab.feedback.change_effect`) and the
    ship date dashed. ``titles`` maps a theme to its panel title (e.g. the change's
    description). Legends sit right of the panels. Returns the Axes.

    Parameters
    ----------
    weekly : pd.DataFrame
        Weekly requests, date index, one column per changed theme.
    effects : pd.DataFrame
        Columns ``theme``, ``shipped_ts``, ``per_day_before``, ``per_day_after``.
    titles : dict of str to str, optional
        Panel title per theme; the theme when None.
    axes : sequence of matplotlib.axes.Axes, optional
        One Axes per change; a new column of panels sharing x when None.

    Returns
    -------
    sequence of matplotlib.axes.Axes
        The Axes drawn on, one per change.
    """
    import numpy as np

    _require(effects, ["theme", "shipped_ts", "per_day_before", "per_day_after"],
                     "requests_around_changes", "crmlab.feedback.change_effect(...)")
    _require(weekly, list(effects["theme"]), "requests_around_changes",
                     "weekly requests per theme (one column per changed theme)")
    n = len(effects)
    if axes is None:
        _, axes = plt.subplots(n, 1, figsize=(8.2, 2.3 * n + 0.4), sharex=True, squeeze=False)
        axes = axes[:, 0]
    first, last = weekly.index.min(), weekly.index.max() + pd.Timedelta(days=7)
    for ax, row in zip(axes, effects.itertuples(index=False), strict=True):
        ax.bar(weekly.index, weekly[row.theme], width=6, align="edge", color="#bbbbbb",
               label="requests in the week")
        ax.plot([first, row.shipped_ts], [7 * row.per_day_before] * 2, color="C0", lw=2,
                label="per week before")
        ax.plot([row.shipped_ts, last], [7 * row.per_day_after] * 2, color="C3", lw=2,
                label="per week after")
        ax.axvline(row.shipped_ts, color="black", ls="--", lw=1, label="change shipped")
        ax.set_ylim(0, max(float(np.nanmax(weekly[row.theme].to_numpy(float), initial=0)), 1) * 1.15)
        ax.set(title=(titles or {}).get(row.theme, row.theme), ylabel="requests / week")
        ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    axes[-1].set_xlabel("week (complete weeks only)")
    _dated_x_axis(axes[-1])
    return axes


def positive_share_by_quarter(table: pd.DataFrame, ax: Axes | None = None,
                              title: str = "Experience sharing: positive reviews and posts per quarter"
                              ) -> Axes:
    """Share of positive items per quarter with 95% intervals, one series per ``source``
    (columns quarter, source, share, low, high), side by side; the legend right of the axes.

    Parameters
    ----------
    table : pd.DataFrame
        Columns ``quarter``, ``source``, ``share``, ``low``, ``high``.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str
        The chart's title.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    import numpy as np

    _require(table, ["quarter", "source", "share", "low", "high"], "positive_share_by_quarter",
                     "shares per quarter and source with their intervals")
    ax = _ax(ax, figsize=(8.2, 3.2))
    quarters = list(dict.fromkeys(table["quarter"].astype(str)))
    sources = list(dict.fromkeys(table["source"]))
    for i, source in enumerate(sources):
        r = table.loc[table["source"] == source].assign(q=lambda d: d["quarter"].astype(str)).set_index("q")
        r = r.reindex(quarters)
        x = np.arange(len(quarters)) + (i - (len(sources) - 1) / 2) * 0.2
        ax.errorbar(x, r["share"], yerr=[r["share"] - r["low"], r["high"] - r["share"]], fmt="o-",
                    capsize=3, label=source)
    ax.set_xticks(range(len(quarters)), [q.replace("Q", "\nQ", 1) for q in quarters])  # 2024\nQ1: short
    ax.set_ylim(0, 1)
    percent_axis(ax)
    ax.set(title=title, ylabel="share positive", xlabel="quarter")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax


def capstone_timeline(scores: pd.Series, rates: pd.DataFrame, levels: dict[str, float],
                      dates: dict[str, object], flagged: tuple | None = None, axes=None):
    """The capstone's story on one time axis: what listening saw, when the plan was made, what
    the fix did. Top: one product's weekly feedback score with the watch and alarm levels
    dashed. Bottom: the product's defect-return rate per period against the rest of its
    category. Both panels shade the flagged quarter and mark the dates (planning date, fix)
    with vertical lines; legends sit right of the panels.

    Parameters
    ----------
    scores : pd.Series
        The product's combined score per week (week index), from
        :func:`crmlab.feedback.product_signals`.
    rates : pd.DataFrame
        Period-start index; columns ``product`` and ``category`` (shares of order lines
        returned as defective).
    levels : dict of str to float
        Horizontal lines of the top panel, label -> score (e.g. watch and alarm levels).
    dates : dict of str to date-like
        Vertical lines of both panels, label -> date (e.g. planning date, fix).
    flagged : tuple, optional
        ``(start, end)`` of the flagged quarter, shaded; nothing shaded when None.
    axes : sequence of two matplotlib.axes.Axes, optional
        Draw into these; a new 2x1 figure sharing x when None.

    Returns
    -------
    sequence of matplotlib.axes.Axes
        The two Axes drawn on (``axes`` when given).
    """
    _require(rates, ["product", "category"], "capstone_timeline",
             "the defect-return rate per period of the product and of its category")
    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(8.2, 4.8), sharex=True)
    scores = scores.sort_index()
    axes[0].plot(scores.index, scores.to_numpy(), color="black", lw=1, label="feedback score")
    for (label, level), color in zip(levels.items(), ["C1", "C3", "C4"], strict=False):
        axes[0].axhline(level, color=color, ls="--", lw=1, label=label)
    axes[0].set(title="Listening: the product's weekly feedback score", ylabel="score (z units)")
    rates = rates.sort_index()
    axes[1].plot(rates.index, rates["product"].to_numpy(), "o-", ms=3, color="C3",
                 label="this product")
    axes[1].plot(rates.index, rates["category"].to_numpy(), "s-", ms=3, color="C0",
                 label="rest of its category")
    percent_axis(axes[1])
    axes[1].set(title="Defect returns: the product against its category",
                ylabel="defect-return rate", xlabel="month of order")
    for ax in axes:
        if flagged is not None:
            ax.axvspan(flagged[0], flagged[1], color="C1", alpha=0.12, lw=0, label="flagged quarter")
        for (label, when), style in zip(dates.items(), ["-", ":", "-."], strict=False):
            ax.axvline(pd.Timestamp(when), color="grey", ls=style, lw=1.2, label=label)
        ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    _dated_x_axis(axes[1])
    return axes


# (end of the charts of notebooks 11-13)
