"""Charts of notebooks 08-10 (offers, support, after-sales)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from .core import _ax, _require, money_axis, percent_axis


def estimate_intervals(
    table: pd.DataFrame,
    label: str,
    estimate: str = "uplift",
    low: str = "uplift_low",
    high: str = "uplift_high",
    truth: str | None = None,
    ax: Axes | None = None,
    title: str = "Uplift in conversion, treatment - holdout",
    xlabel: str = "uplift (percentage points)",
    level: float = 0.95,
    ylabel: str = "campaign",
) -> Axes:
    """One row per line of ``table``: the estimate with its interval (a forest plot), the true
    value as a cross when ``truth`` names a column, and a grey line at 0 (notebook 08).

    Parameters
    ----------
    table : pd.DataFrame
        One row per estimate with the columns ``label``, ``estimate``, ``low``, ``high``.
    label : str
        The column naming each row (y ticks).
    estimate, low, high : str
        The columns of the estimate and its interval's ends (shares; drawn as percent).
    truth : str, optional
        A column of true values drawn as crosses; none when None.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure sized to the rows when None.
    title, xlabel, ylabel : str
        The title and axis labels.
    level : float, default 0.95
        The intervals' level, written in the legend.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    _require(table, [label, estimate, low, high] + ([truth] if truth else []), "estimate_intervals", "crmlab.offers.ab_test (one row per campaign)")
    ax = _ax(ax, (7, 0.25 * len(table) + 1.2))
    ypos = list(range(len(table)))
    est = table[estimate].to_numpy(float)
    ax.errorbar(est, ypos, xerr=[est - table[low].to_numpy(float), table[high].to_numpy(float) - est],
                fmt="o", capsize=2, label=f"estimate, {level:.0%} interval")
    if truth:
        ax.plot(table[truth], ypos, "x", color="C3", label="truth (simulator)")
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks(ypos, table[label].astype(str))
    ax.invert_yaxis()
    percent_axis(ax, "x", decimals=0)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return ax


def detectable_effect(curves: pd.DataFrame, points: pd.DataFrame | None = None,
                      ax: Axes | None = None, ratio: float = 4.0) -> Axes:
    """Smallest detectable uplift against the held-out group's size (log x), one line per
    baseline rate (``curves``: holdout, baseline, mde), the shop's campaigns as dots
    (``points``: n_control, mde) (notebook 08).

    Parameters
    ----------
    curves : pd.DataFrame
        Columns ``holdout`` (size), ``baseline`` (rate) and ``mde`` (share).
    points : pd.DataFrame, optional
        The campaigns drawn as dots (``n_control``, ``mde``); none when None.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    ratio : float, default 4.0
        Treated members per held-out member, written in the x-axis label.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    _require(curves, ["holdout", "baseline", "mde"], "detectable_effect", "crmlab.offers.minimum_detectable_uplift, tabulated")
    ax = _ax(ax, (6, 3.2))
    for base, part in curves.groupby("baseline", sort=True):
        ax.plot(part["holdout"], part["mde"], label=f"baseline {base:.0%}")
    if points is not None:
        _require(points, ["n_control", "mde"], "detectable_effect", "crmlab.offers.minimum_detectable_uplift, tabulated")
        ax.scatter(points["n_control"], points["mde"], s=12, color="k", zorder=3, label="shop's campaigns")
    percent_axis(ax, "y", decimals=0)
    ax.set(xscale="log", xlabel=f"held-out members, log scale (treated = {ratio:g}x)",
           ylabel="detectable uplift (80% power)", title="Smallest uplift a holdout can detect")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def segment_estimates(table: pd.DataFrame, ax: Axes | None = None,
                      title: str = "Uplift in conversion by hidden segment") -> Axes:
    """Per segment (the index): the holdout estimate with its interval (columns ``holdout
    estimate``, ``low``, ``high``) and every other numeric column as a marker; a column
    named ``truth`` is drawn as a black cross (notebook 08).

    Parameters
    ----------
    table : pd.DataFrame
        Index = segment; columns ``holdout estimate``, ``low``, ``high`` and other estimates.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, default "Uplift in conversion by hidden segment"
        The chart's title.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    _require(table, ["holdout estimate", "low", "high"], "segment_estimates", "crmlab.offers.ab_test by segment, joined with the models' means")
    ax = _ax(ax, (6.5, 3.2))
    xs = list(range(len(table)))
    est = table["holdout estimate"].to_numpy(float)
    ax.errorbar([x - 0.2 for x in xs], est, yerr=[est - table["low"].to_numpy(float),
                                                   table["high"].to_numpy(float) - est],
                fmt="o", capsize=3, label="holdout estimate (95%)")
    others = [c for c in table.columns if c not in ("holdout estimate", "low", "high")]
    for j, col in enumerate(others):
        style = {"marker": "x", "color": "k", "ms": 9} if col == "truth" else {"marker": "s^Dv"[j % 4]}
        ax.plot([x + 0.1 * j for x in xs], table[col], ls="none", label=col, **style)
    ax.axhline(0, color="grey", lw=1)
    ax.set_xticks(xs, table.index.astype(str))
    percent_axis(ax, "y", decimals=0)
    ax.set(title=title, xlabel="segment (hidden from the shop)", ylabel="uplift (percentage points)")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def gain_curves(curves: dict[str, pd.DataFrame], ax: Axes | None = None,
                title: str = "Qini curves (normalized coefficient)",
                ylabel: str = "incremental conversions") -> Axes:
    """Cumulative gain against the share targeted, one line per ranking (``curves``: name ->
    table with columns fraction, gain), and the random ranking as a dashed line from 0 to the
    common end point (Qini and true-gain curves of notebook 08).

    Parameters
    ----------
    curves : dict of str to pd.DataFrame
        Ranking name -> table with columns ``fraction`` and ``gain``.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, default "Qini curves (normalized coefficient)"
        The chart's title.
    ylabel : str, default "incremental conversions"
        The y-axis label.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (the random line ends at the last curve's end point).
    """
    ax = _ax(ax, (6, 3.6))
    end = 0.0
    for name, curve in curves.items():
        _require(curve, ["fraction", "gain"], "gain_curves", "crmlab.offers.uplift_curves, renamed to fraction/gain")
        ax.plot(curve["fraction"], curve["gain"], label=name)
        end = float(curve["gain"].iloc[-1])
    ax.plot([0, 1], [0, end], "k--", lw=1, label="random")
    percent_axis(ax, "x")
    ax.set(xlabel="share of contacts targeted (ranked by score)", ylabel=ylabel, title=title)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def policy_profit(policies: pd.DataFrame, value: str = "profit", ax: Axes | None = None,
                  ylabel: str = "estimated profit (NT$)") -> Axes:
    """Profit of each targeting policy against the share targeted (``policies`` as returned by
    :func:`crmlab.offers.policy_comparison`): one line per model, "everyone" as a square at
    100%, "nobody" as the line at 0 (notebook 08).

    Parameters
    ----------
    policies : pd.DataFrame
        Columns ``policy``, ``fraction`` and ``value``.
    value : str, default "profit"
        The column on the y-axis (NT$).
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    ylabel : str, default "estimated profit (NT$)"
        The y-axis label.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    _require(policies, ["policy", "fraction", value], "policy_profit", "crmlab.offers.policy_comparison")
    ax = _ax(ax, (6, 3.4))
    for name, part in policies.loc[~policies["policy"].isin(["everyone", "nobody"])].groupby(
            "policy", sort=False):
        ax.plot(part["fraction"], part[value], "o-", label=name)
    every = policies.loc[policies["policy"] == "everyone", value]
    if len(every):
        ax.plot([1.0], [float(every.iloc[0])], "s", color="k", label="everyone")
    ax.axhline(0, color="grey", lw=1, label="nobody")
    percent_axis(ax, "x")
    money_axis(ax, "y")
    ax.set(xlabel="share of contacts targeted", ylabel=ylabel, title="Campaign profit by targeting policy")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def interval_bars(table: pd.DataFrame, label: str, value: str, low: str, high: str,
                  ax: Axes | None = None, title: str = "", xlabel: str = "",
                  scale: float = 1.0, ylabel: str | None = None) -> Axes:
    """Horizontal bars of ``value`` per ``label`` with the interval [low, high] as error bars,
    divided by ``scale`` (e.g. 1000 for NT$ thousand) and a grey line at 0 (notebook 08).

    Parameters
    ----------
    table : pd.DataFrame
        One row per bar with the columns ``label``, ``value``, ``low``, ``high``.
    label, value, low, high : str
        The column naming each bar, its value and its interval's ends.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure sized to the rows when None.
    title, xlabel : str, default ""
        The title and x-axis label.
    scale : float, default 1.0
        Divisor of the values (1000 for thousands).
    ylabel : str, optional
        The y-axis label; ``label`` when None.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    _require(table, [label, value, low, high], "interval_bars", "crmlab.offers.roi_by")
    ax = _ax(ax, (6, 0.45 * len(table) + 1.4))
    v, lo, hi = (table[c].to_numpy(float) / scale for c in (value, low, high))
    ypos = list(range(len(table)))
    ax.barh(ypos, v, color="C0")
    ax.errorbar(v, ypos, xerr=[v - lo, hi - v], fmt="none", color="k", capsize=3)
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks(ypos, table[label].astype(str))
    ax.set(title=title, xlabel=xlabel, ylabel=label if ylabel is None else ylabel)
    return ax


def driver_effects(table: pd.DataFrame, planted_share: pd.Series | None = None, axes=None,
                   level: float = 0.95):
    """Two panels for a satisfaction-driver model (notebook 10): the standardized effects with
    their intervals (``table``: driver, std_coef, low, high, share, as
    ``crmlab.aftersales.SatisfactionDrivers.table_``), and each driver's share of the absolute
    effects, beside the planted shares when ``planted_share`` (indexed by driver) is given.
    Returns the two Axes.

    Parameters
    ----------
    table : pd.DataFrame
        Columns ``driver``, ``std_coef``, ``low``, ``high``, ``share``.
    planted_share : pd.Series, optional
        Planted share per driver (index = driver), drawn beside the estimate; none when None.
    axes : sequence of two matplotlib.axes.Axes, optional
        Draw into these; a new 1x2 figure sharing y when None.
    level : float, default 0.95
        The intervals' level, written in the title.

    Returns
    -------
    sequence of matplotlib.axes.Axes
        The two Axes drawn on (``axes`` when given).
    """
    _require(table, ["driver", "std_coef", "low", "high", "share"], "driver_effects",
             "crmlab.aftersales.SatisfactionDrivers(...).fit(...).table_")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9.5, 3.4), sharey=True)
    ypos = list(range(len(table)))
    est = table["std_coef"].to_numpy(float)
    ax = axes[0]
    ax.errorbar(est, ypos, xerr=[est - table["low"].to_numpy(float), table["high"].to_numpy(float) - est],
                fmt="o", capsize=4)
    ax.set_yticks(ypos, table["driver"].astype(str))
    ax.invert_yaxis()
    ax.axvline(0, color="grey", lw=1)
    ax.set(title=f"Ordered logit (per SD, {level:.0%} CI)", xlabel="effect of +1 SD on latent satisfaction",
           ylabel="driver")
    ax = axes[1]
    ax.barh([y - 0.2 for y in ypos], table["share"].to_numpy(float), height=0.4, label="estimated")
    if planted_share is not None:
        planted = pd.Series(planted_share).reindex(table["driver"].astype(str)).to_numpy(float)
        ax.barh([y + 0.2 for y in ypos], planted, height=0.4, color="C3", label="planted")
    percent_axis(ax, "x")
    ax.set(title="Relative importance (share of |effects|)", xlabel="share of |effects|")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return axes



def return_window_curve(days: pd.Series | Sequence[float], windows: Sequence[float] = (7, 14, 30),
                        ax: Axes | None = None) -> Axes:
    """Share of returns asked for later than *d* days after delivery (1 - ECDF), with a dashed
    line and a label at each candidate return window: the share that window would refuse
    (notebook 10_return_policy).

    Parameters
    ----------
    days : pd.Series or sequence of float
        Days from delivery to each return request (non-negative; missing values dropped).
    windows : sequence of float, default (7, 14, 30)
        Candidate return windows (days), each marked with the share it refuses.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    d = pd.Series(days, dtype="float64").dropna().sort_values().tolist()
    if not d or d[0] < 0:
        raise ValueError("return_window_curve: days must be non-negative days from delivery to request "
                         "(returns.requested_ts - orders.delivered_ts), with at least one value.")
    ax = _ax(ax, (6, 3.2))
    later = [1.0 - (i + 1) / len(d) for i in range(len(d))]
    ax.step([0.0, *d], [1.0, *later], where="post", label="returns asked for later")
    top = max(max(windows), d[-1]) * 1.3  # room for the last window's label
    for k, w in enumerate(windows):
        share = sum(x > w for x in d) / len(d)
        ax.axvline(w, color="grey", ls="--", lw=1)
        ax.annotate(f"{w:g}-day window\nrefuses {share:.1%}", (w, 0.8 - 0.25 * (k % 3)), xytext=(3, 0),
                    textcoords="offset points", fontsize="x-small", va="center")
    ax.set_xlim(0, top)
    ax.set_ylim(0, 1.02)
    percent_axis(ax, "y")
    ax.set(title="Returns asked for later than d days after delivery", xlabel="d (days after delivery)",
           ylabel="share of returns")
    return ax


def policy_sensitivity(grid: pd.DataFrame, ax: Axes | None = None, scale: float = 1000.0,
                       title: str = "Margin change against today's policy") -> Axes:
    """Heatmap of a margin difference (NT$, shown in thousands) over assumed changes: rows =
    assumed change in the return rate, columns = assumed change in orders (index and columns
    are relative changes such as 0.05). Red = the policy loses, blue = it wins; the colour
    scale is centred on 0 (notebook 10_return_policy).

    Parameters
    ----------
    grid : pd.DataFrame
        Margin difference (NT$); index = assumed return change, columns = assumed order change.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure sized to the grid when None.
    scale : float, default 1000.0
        Divisor of the values (the title says "NT$ thousand").
    title : str, default "Margin change against today's policy"
        The chart's title (the unit is appended).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    if not isinstance(grid, pd.DataFrame) or grid.empty:
        raise ValueError("policy_sensitivity: pass a non-empty table, index = assumed return change, "
                         "columns = assumed order change, values = margin difference (NT$).")
    from matplotlib.colors import TwoSlopeNorm

    values = grid.astype("float64") / scale
    ax = _ax(ax, (0.9 * grid.shape[1] + 2.5, 0.45 * grid.shape[0] + 1.6))
    lim = max(float(values.abs().max().max()), 1e-9)
    ax.imshow(values.to_numpy(), cmap="RdBu", norm=TwoSlopeNorm(0.0, -lim, lim), aspect="auto")
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            v = float(values.iat[i, j])
            ax.text(j, i, f"{v:+,.0f}", ha="center", va="center", fontsize="x-small",
                    color="white" if abs(v) > 0.6 * lim else "black")
    ax.set_xticks(range(grid.shape[1]), [f"{c:+.0%}" for c in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{r:+.0%}" for r in grid.index])
    ax.grid(False)
    ax.set(title=f"{title} (NT$ thousand)", xlabel="assumed change in orders",
           ylabel="assumed change in the return rate")
    return ax


# (end of the charts of notebooks 08-10)
