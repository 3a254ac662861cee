"""Charts of notebooks 05-07 (CLV, recommendations, pricing)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .core import PALETTE, _ax, _require, log_axis, money_axis, percent_axis


def model_metric_bars(
    table: pd.DataFrame,
    metrics: Sequence[str],
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "ranking metric",
) -> Axes:
    """Grouped bars of ranking metrics (shares 0-1), one group per metric and one bar per model
    (``table``: one row per model, e.g. :func:`crmlab.recommend.compare_models`); the legend
    sits to the right of the axes, off the bars.

    Parameters
    ----------
    table : pd.DataFrame
        One row per model (index = model name) with a column per metric (shares 0-1).
    metrics : sequence of str
        The metric columns, one group of bars each.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, optional
        The chart's title; none when None.
    xlabel : str, default "ranking metric"
        The x-axis label.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    _require(table, list(metrics), "model_metric_bars",
             "crmlab.recommend.compare_models(models, train, test, k=K)")
    ax = _ax(ax, figsize=(7.2, 3.4))
    n = len(table)
    width = 0.8 / max(n, 1)
    colors = sns.color_palette(PALETTE, n)
    for i, (model, row) in enumerate(table[list(metrics)].iterrows()):
        pos = [m + (i - (n - 1) / 2) * width for m in range(len(metrics))]
        ax.bar(pos, row.to_numpy(dtype=float), width, label=str(model), color=colors[i])
    ax.set_xticks(range(len(metrics)), [str(m) for m in metrics])
    percent_axis(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share (higher is better)")
    ax.legend(title="model", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title)
    return ax


def support_lift_scatter(
    pairs: pd.DataFrame,
    ax: Axes | None = None,
    title: str | None = "Product pairs by support and lift",
    flag: str = "planted",
) -> Axes:
    """Product pairs on log axes: support (share of orders, x) against lift (y), pairs where
    column ``flag`` is True drawn as diamonds on top; :func:`log_axis` ticks (several plain
    labels that do not run into each other).

    Parameters
    ----------
    pairs : pd.DataFrame
        One row per product pair with columns ``support``, ``lift`` and ``flag``.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, optional
        The chart's title; none when None.
    flag : str, default "planted"
        The True/False column whose True pairs are drawn as diamonds (also the legend label).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    _require(pairs, ["support", "lift", flag], "support_lift_scatter",
             "a pair table with columns support, lift and a True/False column")
    ax = _ax(ax, figsize=(6.4, 3.6))
    mask = pairs[flag].to_numpy(dtype=bool)
    colors = sns.color_palette(PALETTE)
    ax.scatter(pairs.loc[~mask, "support"], pairs.loc[~mask, "lift"], s=12, alpha=0.6,
               color=colors[0], label=f"not {flag}")
    ax.scatter(pairs.loc[mask, "support"], pairs.loc[mask, "lift"], s=40, marker="D",
               color=colors[3], edgecolors="black", linewidths=0.5, label=flag, zorder=3)
    log_axis(ax, "x")
    log_axis(ax, "y")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{100 * v:g}%"))
    ax.set_xlabel("support: share of orders holding both (log scale)")
    ax.set_ylabel("lift (log scale, 1 = no relation)")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title)
    return ax


def _concise_dates(ax: Axes, locator) -> None:
    """Put the date ``locator`` and its concise labels on the x-axis."""
    import matplotlib.dates as mdates

    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def dated_line(
    dates: Sequence | pd.DatetimeIndex,
    values: Sequence[float],
    marked: Sequence[bool] | None = None,
    marked_label: str = "marked days",
    ax: Axes | None = None,
    title: str | None = None,
    ylabel: str = "",
    money: bool = False,
) -> Axes:
    """A daily series as a thin line, the ``marked`` days as dots on it (sale days, event
    nights), with a date axis of at most about seven concise labels, so they never overlap.

    Parameters
    ----------
    dates : sequence or pd.DatetimeIndex
        One date per value.
    values : sequence of float
        The daily series.
    marked : sequence of bool, optional
        True on the days drawn as dots; no dots when None.
    marked_label : str, default "marked days"
        Legend label of the dots.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, optional
        The chart's title; none when None.
    ylabel : str, default ""
        The y-axis label.
    money : bool, default False
        Format the y-axis as NT$.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    import matplotlib.dates as mdates
    import numpy as np

    x = pd.DatetimeIndex(dates)
    y = np.asarray(values, dtype=float)
    if len(x) != len(y) or (marked is not None and len(marked) != len(y)):
        raise ValueError("dated_line: dates, values and marked must have the same length; pass "
                         "one value (and one True/False) per date")
    ax = _ax(ax)
    ax.plot(x, y, lw=0.8, color=sns.color_palette(PALETTE)[0])
    if marked is not None:
        m = np.asarray(marked, dtype=bool)
        ax.scatter(x[m], y[m], s=12, color=sns.color_palette(PALETTE)[3], zorder=3, label=marked_label)
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _concise_dates(ax, mdates.AutoDateLocator(minticks=3, maxticks=7))
    ax.set_xlabel("date")
    ax.set_ylabel(ylabel)
    if money:
        money_axis(ax)
    if title:
        ax.set_title(title)
    return ax


def grouped_ratio_bars(
    report: pd.DataFrame,
    group: str,
    columns: Sequence[str],
    labels: Sequence[str],
    ax: Axes | None = None,
    title: str | None = None,
    ylabel: str = "ratio to the uniform price",
) -> Axes:
    """Bars of ratios (1 = the reference, drawn as a line) for each level of ``group`` and each
    of ``columns`` (e.g. the mean personalized and capped price over the uniform price by age
    band, :func:`crmlab.pricing.price_policy_report`); the legend sits right of the axes.

    Parameters
    ----------
    report : pd.DataFrame
        One row per level of ``group`` with the ratio ``columns``.
    group : str
        The column naming the groups (x-axis ticks; its name, underscores as spaces, labels the axis).
    columns : sequence of str
        The ratio columns, one bar per group each.
    labels : sequence of str
        Legend label per column (same length as ``columns``).
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, optional
        The chart's title; none when None.
    ylabel : str, default "ratio to the uniform price"
        The y-axis label.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    import numpy as np

    _require(report, [group, *columns], "grouped_ratio_bars",
             "crmlab.pricing.price_policy_report(members, group, policies)")
    if len(labels) != len(columns):
        raise ValueError("grouped_ratio_bars: pass one label per column")
    ax = _ax(ax)
    x = np.arange(len(report))
    width = 0.8 / len(columns)
    colors = sns.color_palette(PALETTE)
    for i, (col, label) in enumerate(zip(columns, labels, strict=True)):
        ax.bar(x + (i - (len(columns) - 1) / 2) * width, report[col].to_numpy(dtype=float), width,
               label=label, color=colors[i])
    ax.axhline(1, color="grey", lw=1)
    ax.set_xticks(x, report[group].astype("str").tolist())
    ax.set_xlabel(group.replace("_", " "))
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title)
    return ax


def price_and_chance_by_month(
    table: pd.DataFrame,
    axes: Sequence[Axes] | None = None,
    title: str | None = "Home sharing: one listing, night by month",
) -> Sequence[Axes]:
    """Two panels side by side, each on its own zero-based axis (no twin axis stretching small
    swings): the price by month (bars, NT$) and the chance the night books at that price
    (0-100%). ``table`` has columns month, price, booked_probability. Returns the two Axes.

    Parameters
    ----------
    table : pd.DataFrame
        One row per month with columns ``month``, ``price``, ``booked_probability``.
    axes : sequence of two matplotlib.axes.Axes, optional
        Draw into these (left: price, right: chance); a new 1x2 figure when None.
    title : str, optional
        The figure's suptitle; none when None.

    Returns
    -------
    sequence of matplotlib.axes.Axes
        The two Axes drawn on (``axes`` when given).
    """
    _require(table, ["month", "price", "booked_probability"], "price_and_chance_by_month",
             "a table with one row per month (month, price, booked_probability)")
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    left, right = axes
    colors = sns.color_palette(PALETTE)
    months = table["month"].astype(int).to_numpy()
    left.bar(months, table["price"], color=colors[0])
    left.set(title="Price 60 days out", xlabel="month", ylabel="price per night (NT$)", ylim=(0, None))
    money_axis(left)
    right.plot(months, table["booked_probability"], "o-", color=colors[1])
    right.set(title="Chance the night books at that price", xlabel="month",
              ylabel="chance of booking", ylim=(0, 1))
    percent_axis(right)
    for ax in axes:
        ax.set_xticks(months)
    if title:
        left.figure.suptitle(title, fontweight="bold")
    return axes


def step_paths(
    paths: Sequence[pd.DataFrame],
    x: str = "period",
    y: str = "price",
    levels: Sequence[float] | None = None,
    axes: Sequence[Axes] | None = None,
    title: str | None = None,
    xlabel: str = "week",
    ylabel: str = "price (NT$)",
    panel: str = "season",
) -> Sequence[Axes]:
    """Small multiples: one panel per simulated path (price over time as steps), side by side on a
    shared y axis, so no path hides behind another. ``levels`` (e.g. a markdown ladder) become
    the y ticks. Returns the Axes.

    Parameters
    ----------
    paths : sequence of pd.DataFrame
        One table per path with the columns ``x`` and ``y``.
    x, y : str, default "period" and "price"
        The period column (counted from 0) and the value column.
    levels : sequence of float, optional
        Values used as y ticks; matplotlib's ticks when None.
    axes : sequence of matplotlib.axes.Axes, optional
        One Axes per path; a new row of panels sharing y when None.
    title : str, optional
        The figure's suptitle; none when None.
    xlabel, ylabel : str
        Axis labels (the y label on the first panel only).
    panel : str, default "season"
        Panel titles read "<panel> 1", "<panel> 2", ...

    Returns
    -------
    sequence of matplotlib.axes.Axes
        The Axes drawn on, one per path.
    """
    for p in paths:
        _require(p, [x, y], "step_paths", f"a list of tables with columns {x!r} and {y!r}")
    if not len(paths):
        raise ValueError("step_paths: pass at least one path")
    if axes is None:
        fig, axes = plt.subplots(1, len(paths), figsize=(3.4 * len(paths), 3.2), sharey=True,
                                 squeeze=False)
        axes = list(axes[0])
    color = sns.color_palette(PALETTE)[0]
    for i, (ax, p) in enumerate(zip(axes, paths, strict=True)):
        t = p[x].to_numpy(dtype=float) + 1  # periods counted from 1
        v = p[y].to_numpy(dtype=float)
        ax.step([*t, t[-1] + 1], [*v, v[-1]], where="post", color=color)  # the last period too
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(title=f"{panel} {i + 1}", xlabel=xlabel)
        if levels is not None:
            ax.set_yticks(list(levels))
    axes[0].set_ylabel(ylabel)
    money_axis(axes[0])
    if title:
        axes[0].figure.suptitle(title, fontweight="bold")
    return axes


def frequency_recency_maps(
    grid: pd.DataFrame,
    columns: Sequence[str],
    titles: Sequence[str],
    title: str | None = None,
    axes: Sequence[Axes] | None = None,
) -> Sequence[Axes]:
    """Heat maps of model outputs over a (frequency, recency) grid of hypothetical customers,
    one panel per column of ``grid`` (e.g. expected purchases and P(alive)), each with its
    own labelled colour bar; the panels share the frequency axis. Returns the Axes.

    Parameters
    ----------
    grid : pd.DataFrame
        Columns ``frequency``, ``recency`` and the model outputs in ``columns``.
    columns : sequence of str
        The outputs drawn, one panel each.
    titles : sequence of str
        Panel title (and colour-bar label) per column.
    title : str, optional
        The figure's suptitle; none when None.
    axes : sequence of matplotlib.axes.Axes, optional
        One Axes per column; a new row of panels sharing y when None.

    Returns
    -------
    sequence of matplotlib.axes.Axes
        The Axes drawn on, one per column.
    """
    import numpy as np

    _require(grid, ["frequency", "recency", *columns], "frequency_recency_maps",
             "a grid with columns frequency, recency and the model outputs to draw")
    if len(titles) != len(columns):
        raise ValueError("frequency_recency_maps: pass one title per column")
    if axes is None:
        fig, axes = plt.subplots(1, len(columns), figsize=(5.5 * len(columns), 4), sharey=True,
                                 squeeze=False)
        axes = list(axes[0])
    rec = np.sort(grid["recency"].unique())
    top = int(grid["frequency"].max())
    for ax, col, name in zip(axes, columns, titles, strict=True):
        table = grid.pivot(index="frequency", columns="recency", values=col)
        im = ax.imshow(table, aspect="auto", origin="lower", cmap="viridis",
                       extent=[rec[0], rec[-1], -0.5, top + 0.5])
        ax.set(title=name, xlabel="recency: age at the last purchase (days)")
        ax.grid(False)
        ax.figure.colorbar(im, ax=ax, label=name)
    axes[0].yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].set_ylabel("frequency (repeat purchases)")
    if title:
        axes[0].figure.suptitle(title, fontweight="bold")
    return axes


def survival_curves(
    curves: dict[str, pd.DataFrame],
    ax: Axes | None = None,
    title: str | None = "Kaplan–Meier: time to the next purchase",
    xlabel: str = "days since the purchase",
    ylabel: str = "share not yet back",
) -> Axes:
    """Kaplan-Meier step curves with their bands, one per entry of ``curves`` (label -> the
    table of :func:`crmlab.survival.kaplan_meier`: time, survival, lower, upper), on a 0-100%
    axis; the legend sits right of the axes.

    Parameters
    ----------
    curves : dict of str to pd.DataFrame
        Label -> Kaplan-Meier table (``time``, ``survival``, ``lower``, ``upper``).
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, optional
        The chart's title; none when None.
    xlabel, ylabel : str
        Axis labels.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    if not curves:
        raise ValueError("survival_curves: pass at least one curve (label -> kaplan_meier table)")
    ax = _ax(ax)
    for label, km in curves.items():
        _require(km, ["time", "survival", "lower", "upper"], "survival_curves",
                 "crmlab.survival.kaplan_meier(durations, events)")
        line = ax.step(km["time"], km["survival"], where="post", label=label)[0]
        ax.fill_between(km["time"], km["lower"], km["upper"], step="post", alpha=0.2,
                        color=line.get_color())
    ax.set_ylim(0, 1.02)
    percent_axis(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title)
    return ax


def save_first_scatter(
    customers: pd.DataFrame,
    highlight: Sequence[bool],
    group: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = "Whom to save first",
    highlight_label: str = "to save first",
) -> Axes:
    """Customers by P(alive) (x) and CLV if still alive (y, log scale), coloured by ``group``
    (e.g. planted alive/gone) with the ``highlight`` ones circled; the legend sits right of
    the axes, off the points. ``customers`` has columns p_alive and clv_if_alive.

    Parameters
    ----------
    customers : pd.DataFrame
        One row per customer with columns ``p_alive`` and ``clv_if_alive``.
    highlight : sequence of bool
        True for the customers circled (one per row).
    group : sequence of str, optional
        Colour group per customer; one group "customers" when None.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, optional
        The chart's title; none when None.
    highlight_label : str, default "to save first"
        Legend label of the circles.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (customers with zero value are not shown on the log axis).
    """
    import numpy as np

    _require(customers, ["p_alive", "clv_if_alive"], "save_first_scatter",
             "the summary table with p_alive and clv_if_alive columns")
    mark = np.asarray(highlight, dtype=bool)
    if len(mark) != len(customers) or (group is not None and len(group) != len(customers)):
        raise ValueError("save_first_scatter: highlight (and group) need one value per customer")
    ax = _ax(ax)
    value = customers["clv_if_alive"].to_numpy(dtype=float)
    shown = value > 0  # a log axis cannot show zero value
    labels = np.asarray(group if group is not None else ["customers"] * len(customers), dtype=object)
    for i, g in enumerate(pd.unique(labels)):
        sel = shown & (labels == g)
        ax.scatter(customers["p_alive"].to_numpy()[sel], value[sel], s=10, alpha=0.5,
                   color=sns.color_palette(PALETTE)[i], label=str(g))
    ax.scatter(customers["p_alive"].to_numpy()[mark & shown], value[mark & shown], s=30,
               facecolors="none", edgecolors="black", label=highlight_label)
    log_axis(ax, "y")
    percent_axis(ax, "x")
    ax.set_xlabel("P(alive)")
    ax.set_ylabel("CLV if alive (NT$, log scale)")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title)
    return ax


# (end of the charts of notebooks 05-07)
