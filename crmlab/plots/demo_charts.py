"""Charts of the live what-if demos (ipywidgets; computation in the unit modules)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.axes import Axes

from .core import money_axis, percent_axis


def _demo_axes(axes: Sequence[Axes] | Axes | None, n: int, figsize: tuple[float, float]) -> list[Axes]:
    """``n`` cleared axes: the given ones, or a new figure's (not registered with pyplot, so a
    widget redraw never shows it twice)."""
    if axes is None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize)
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, n, squeeze=False)[0]
    out = [axes] if isinstance(axes, Axes) else list(axes)
    if len(out) != n:
        raise ValueError(f"this chart draws on {n} axes; pass axes=None or {n} axes, got {len(out)}.")
    for ax in out:
        ax.clear()
    return out


def _demo_memo(axes: Sequence[Axes] | Axes | None, name: str, fixed: Sequence) -> dict | None:
    """What this chart drew last on ``axes``, when its fixed part (``fixed``) is unchanged.

    A demo chart draws a fixed part (curves, axes, ticks, legend) and a few *moving* artists
    (the chosen price, a title with the figures); when only the controls that move those
    changed, the chart updates them in place and ``memo["blit"]`` tells the demo to paint them
    over the saved picture of the fixed part instead of drawing the whole figure again.
    """
    if axes is None:
        return None
    axs = [axes] if isinstance(axes, Axes) else list(axes)
    memo = getattr(axs[0].figure, "_crmlab_demo", None)
    if (memo is None or memo["name"] != name or memo["axes"] != axs
            or len(memo["fixed"]) != len(fixed)
            or not all(_same_values(a, b) for a, b in zip(memo["fixed"], fixed, strict=True))):
        return None
    memo["blit"] = True
    return memo


def _same_values(a: object, b: object) -> bool:
    """Equal arrays or scalars, NaN equal to NaN (a profit curve has gaps)."""
    import numpy as np

    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape:
        return False
    if x.dtype.kind in "fc" and y.dtype.kind in "fc":
        return bool(np.array_equal(x, y, equal_nan=True))
    return bool(np.array_equal(x, y))


def _demo_remember(axes: Sequence[Axes], name: str, fixed: Sequence, moving: Sequence,
                   **artists: object) -> dict:
    """Note a full drawing: its fixed part and the ``moving`` artists (see :func:`_demo_memo`)."""
    memo = {"name": name, "axes": list(axes), "fixed": list(fixed), "moving": list(moving),
            "blit": False, "background": None, **artists}
    axes[0].figure._crmlab_demo = memo
    return memo


def _legend_right(ax: Axes, **kwargs) -> None:
    """A legend outside the axes on the right (never on the data)."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small", borderaxespad=0, **kwargs)


def _price_demo_first(axes: Sequence[Axes] | None, what_if: dict, q_top: float, m_top: float,
                      m_low: float) -> dict:
    """The full first drawing of :func:`price_demo_chart` (curves, lines, axes, legend)."""
    from matplotlib.ticker import MaxNLocator

    curve, p = what_if["curve"], what_if["price"]
    ax_q, ax_m = _demo_axes(axes, 2, (10.0, 3.6))
    (demand,) = ax_q.plot(curve["price"], curve["quantity"], color="C0")
    (revenue,) = ax_m.plot(curve["price"], curve["revenue"], color="C0", label="revenue")
    (profit,) = ax_m.plot(curve["price"], curve["profit"], color="C2", label="profit")
    (best_dot,) = ax_m.plot([], [], "o", color="C2", label="best price")
    lines = [ax.axvline(p, color="C3", lw=1.2, ls="--", label="your price" if ax is ax_m else None)
             for ax in (ax_q, ax_m)]
    for ax in (ax_q, ax_m):
        ax.axvline(what_if["list_price"], color="grey", lw=0.8, ls=":",
                   label="list price" if ax is ax_m else None)
        money_axis(ax, "x")
        ax.xaxis.set_major_locator(MaxNLocator(4))
    (dot,) = ax_q.plot([p], [what_if["units"]], "o", color="C3")
    limits = {"q_top": 1.1 * q_top, "m_top": 1.1 * m_top, "m_low": 1.1 * m_low}
    ax_q.set_ylim(0, limits["q_top"])
    ax_m.set_ylim(limits["m_low"], limits["m_top"])
    money_axis(ax_m, "y")
    ax_q.set(xlabel="price (NT$)", ylabel="units per day")
    ax_m.set(xlabel="price (NT$)", ylabel="NT$ per day")
    _legend_right(ax_m)
    return _demo_remember([ax_q, ax_m], "price", (curve["price"], what_if["list_price"]),
                          [demand, revenue, profit, best_dot, *lines, dot, ax_q.title, ax_m.title],
                          demand=demand, revenue=revenue, profit=profit, best_dot=best_dot,
                          lines=lines, dot=dot, **limits)


def price_demo_chart(what_if: dict, axes: Sequence[Axes] | None = None) -> list[Axes]:
    """Demand (left) and revenue and profit (right) by price, from
    :func:`crmlab.pricing.price_what_if`: the chosen price as a line, the optimum as a dot.

    The y-axes keep their range while the curves fit in it (and fill at least 40% of it), so
    a new elasticity or shape moves the curves without redrawing the axes.

    Parameters
    ----------
    what_if : dict
        The result of :func:`crmlab.pricing.price_what_if` (curve, price, list_price, units,
        profit, optimal_price, optimal_profit).
    axes : sequence of two matplotlib.axes.Axes, optional
        Draw into these (redrawn in place when only the moving parts changed); a new figure
        not registered with pyplot when None.

    Returns
    -------
    list of matplotlib.axes.Axes
        The two Axes drawn on (demand, money).
    """
    curve, p, best = what_if["curve"], what_if["price"], what_if["optimal_price"]
    q_top, m_top = float(curve["quantity"].max()), float(curve["revenue"].max())
    m_low = min(float(curve["profit"].min()), 0.0)
    memo = _demo_memo(axes, "price", (curve["price"], what_if["list_price"]))
    if memo is not None and not (0.4 * memo["q_top"] <= q_top <= memo["q_top"]
                                 and 0.4 * memo["m_top"] <= m_top <= memo["m_top"]
                                 and m_low >= memo["m_low"]):
        # the curves left the axes' range: new limits, and the whole figure is drawn again
        memo.update(q_top=1.1 * q_top, m_top=1.1 * m_top, m_low=1.1 * m_low, blit=False)
        memo["axes"][0].set_ylim(0, memo["q_top"])
        memo["axes"][1].set_ylim(memo["m_low"], memo["m_top"])
    if memo is None:
        memo = _price_demo_first(axes, what_if, q_top, m_top, m_low)
    ax_q, ax_m = memo["axes"]
    memo["demand"].set_ydata(curve["quantity"])
    memo["revenue"].set_ydata(curve["revenue"])
    memo["profit"].set_ydata(curve["profit"])
    memo["best_dot"].set_data([] if best is None else [best],
                              [] if best is None else [what_if["optimal_profit"]])
    for line in memo["lines"]:
        line.set_xdata([p, p])
    memo["dot"].set_data([p], [what_if["units"]])
    ax_q.set_title(f"Demand: {what_if['units']:.2f} units a day")
    ax_m.set_title(rf"Profit NT\${what_if['profit']:,.0f} a day")
    return [ax_q, ax_m]


def staffing_demo_chart(what_if: dict, axes: Sequence[Axes] | None = None,
                        target_share: float | None = 0.8) -> list[Axes]:
    """Service level by agents (left) and the share of calls answered within each wait
    (right) for the chosen agents, from :func:`crmlab.support.staffing_what_if`.

    Parameters
    ----------
    what_if : dict
        The result of :func:`crmlab.support.staffing_what_if` (curve, agents, target_seconds,
        waits, service_level, load, asa_seconds, p_wait).
    axes : sequence of two matplotlib.axes.Axes, optional
        Draw into these (redrawn in place when only the moving parts changed); a new figure
        not registered with pyplot when None.
    target_share : float or None, default 0.8
        The service-level target drawn as a dotted line; none when None.

    Returns
    -------
    list of matplotlib.axes.Axes
        The two Axes drawn on (service level, waits).
    """
    curve, n, target = what_if["curve"], what_if["agents"], what_if["target_seconds"]
    waits = what_if["waits"]
    fixed = (waits["wait_seconds"], target, -1.0 if target_share is None else target_share)
    memo = _demo_memo(axes, "staffing", fixed)
    lo, hi = float(curve["agents"].min()), float(curve["agents"].max())
    xlim = (lo - 0.05 * (hi - lo) - 0.5, hi + 0.05 * (hi - lo) + 0.5)
    if memo is not None and memo["xlim"] != xlim:  # another range of agents: draw it all again
        memo.update(xlim=xlim, blit=False)
        memo["axes"][0].set_xlim(*xlim)
    if memo is None:
        ax_n, ax_w = _demo_axes(axes, 2, (10.0, 3.6))
        (staffing,) = ax_n.plot(curve["agents"], curve["service_level"], "o-", color="C0", ms=4)
        (dot,) = ax_n.plot([n], [what_if["service_level"]], "o", color="C3", ms=9)
        if target_share is not None:
            ax_n.axhline(target_share, color="grey", lw=0.8, ls=":")
        ax_n.set_ylim(0, 1.02)
        ax_n.set_xlim(*xlim)
        percent_axis(ax_n, "y")
        ax_n.set(xlabel="agents on the phones", ylabel="service level")
        (line,) = ax_w.plot(waits["wait_seconds"], waits["answered_within"], color="C3")
        ax_w.axvline(target, color="grey", lw=0.8, ls=":")
        percent_axis(ax_w, "y")
        ax_w.set_ylim(0, 1.02)
        ax_w.set(xlabel="waiting time (seconds)", ylabel="calls answered within")
        memo = _demo_remember([ax_n, ax_w], "staffing", fixed,
                              [staffing, dot, line, ax_n.title, ax_w.title],
                              staffing=staffing, dot=dot, line=line, xlim=xlim)
    ax_n, ax_w = memo["axes"]
    memo["staffing"].set_data(curve["agents"], curve["service_level"])
    memo["dot"].set_data([n], [what_if["service_level"]])
    memo["line"].set_ydata(waits["answered_within"])
    ax_n.set_title(f"Answered within {target:.0f} s ({what_if['load']:.1f} erlangs offered)")
    ax_w.set_title(f"{n} agents: ASA {what_if['asa_seconds']:.1f} s, {what_if['p_wait']:.0%} wait")
    return [ax_n, ax_w]


def rfm_cut_chart(table: pd.DataFrame, segments: pd.DataFrame,
                  axes: Sequence[Axes] | None = None) -> list[Axes]:
    """Customers by recency and orders with the two cut points (left) and each segment's
    share of customers and of revenue (right), from :func:`crmlab.rfm.cut_point_segments`.

    Parameters
    ----------
    table : pd.DataFrame
        One row per customer with columns ``recency`` and ``frequency``.
    segments : pd.DataFrame
        The table of :func:`crmlab.rfm.cut_point_segments` (segment, customer_share,
        revenue_share; ``attrs`` recency_days and min_orders).
    axes : sequence of two matplotlib.axes.Axes, optional
        Draw into these (redrawn in place when only the cuts changed); a new figure not
        registered with pyplot when None.

    Returns
    -------
    list of matplotlib.axes.Axes
        The two Axes drawn on (scatter, shares).
    """
    r_cut, f_cut = segments.attrs["recency_days"], segments.attrs["min_orders"]
    fixed = (table["recency"], table["frequency"], segments["segment"])
    memo = _demo_memo(axes, "rfm", fixed)
    if memo is None:
        ax_s, ax_b = _demo_axes(axes, 2, (10.0, 3.8))
        ax_s.scatter(table["recency"], table["frequency"], s=6, alpha=0.35, color="C0",
                     linewidths=0)
        vline = ax_s.axvline(r_cut, color="C3", lw=1.2)
        hline = ax_s.axhline(f_cut - 0.5, color="C3", lw=1.2)
        ax_s.set_yscale("log")
        ax_s.set(xlabel="recency (days since last order)", ylabel="orders (log scale)")
        y = range(len(segments))
        bars_c = ax_b.barh([i + 0.2 for i in y], segments["customer_share"], height=0.4,
                           color="C0", label="customers")
        bars_r = ax_b.barh([i - 0.2 for i in y], segments["revenue_share"], height=0.4,
                           color="C2", label="revenue")
        ax_b.set_yticks(list(y), segments["segment"])
        ax_b.invert_yaxis()
        percent_axis(ax_b, "x")
        ax_b.set_xlim(0, 1)
        ax_b.set(title="Share of customers and of revenue", xlabel="share", ylabel="segment")
        _legend_right(ax_b)
        memo = _demo_remember([ax_s, ax_b], "rfm", fixed,
                              [vline, hline, *bars_c, *bars_r, ax_s.title],
                              vline=vline, hline=hline, bars_c=list(bars_c), bars_r=list(bars_r))
    ax_s, ax_b = memo["axes"]
    memo["vline"].set_xdata([r_cut, r_cut])
    memo["hline"].set_ydata([f_cut - 0.5, f_cut - 0.5])
    for bars, col in ((memo["bars_c"], "customer_share"), (memo["bars_r"], "revenue_share")):
        for bar, value in zip(bars, segments[col], strict=True):
            bar.set_width(value)
    ax_s.set_title(f"Cut: last order within {r_cut:.0f} days, {f_cut}+ orders")
    return [ax_s, ax_b]


def targeting_demo_chart(what_if: dict, ax: Axes | None = None) -> Axes:
    """Estimated incremental profit by targeting threshold, from
    :func:`crmlab.offers.targeting_profit`: the chosen threshold, the best one and the
    break-even uplift.

    Parameters
    ----------
    what_if : dict
        The result of :func:`crmlab.offers.targeting_profit` (curve, threshold, break_even,
        best_threshold, best_profit, n_targeted, profit).
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes (redrawn in place when only the threshold changed); a new figure
        not registered with pyplot when None.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    curve = what_if["curve"].iloc[1:]  # row 0 targets nobody (threshold +inf)
    fixed = (curve["threshold"], curve["profit"], what_if["break_even"])
    memo = _demo_memo(ax, "targeting", fixed)
    if memo is None:
        (ax,) = _demo_axes(ax, 1, (8.0, 3.6))
        lo, hi = curve["threshold"].quantile([0.005, 0.995])
        shown = curve[(curve["threshold"] >= lo) & (curve["threshold"] <= hi)]
        ax.plot(shown["threshold"], shown["profit"], color="C0", lw=1, label="estimated profit")
        ax.axhline(0, color="grey", lw=0.8)
        line = ax.axvline(what_if["threshold"], color="C3", ls="--", lw=1.2, label="your threshold")
        if lo <= what_if["break_even"] <= hi:
            ax.axvline(what_if["break_even"], color="grey", ls=":", lw=1.2,
                       label="break-even uplift")
        ax.plot([what_if["best_threshold"]], [what_if["best_profit"]], "o", color="C2",
                label="best on these data")
        percent_axis(ax, "x")
        money_axis(ax, "y")
        ax.set(xlabel="threshold on the predicted uplift (conversion)", ylabel="NT$ (estimated)")
        _legend_right(ax)
        memo = _demo_remember([ax], "targeting", fixed, [line, ax.title], line=line)
    (ax,) = memo["axes"]
    memo["line"].set_xdata([what_if["threshold"]] * 2)
    ax.set_title(f"Send if predicted uplift ≥ {what_if['threshold']:.1%}: "
                 rf"{what_if['n_targeted']:,} contacts, profit NT\${what_if['profit']:,.0f}")
    return ax


def bgnbd_demo_chart(what_if: dict, axes: Sequence[Axes] | None = None,
                     unit: str = "days") -> list[Axes]:
    """P(alive) (left) and expected purchases (right) by recency, one line per number of
    repeat purchases, from :func:`crmlab.clv.bgnbd_what_if`.

    Parameters
    ----------
    what_if : dict
        The result of :func:`crmlab.clv.bgnbd_what_if` (grid with frequency, recency, p_alive,
        expected_purchases; T; horizon).
    axes : sequence of two matplotlib.axes.Axes, optional
        Draw into these (redrawn in place when only the curves changed); a new figure not
        registered with pyplot when None.
    unit : str, default "days"
        The time unit written in the titles and the x-axis label.

    Returns
    -------
    list of matplotlib.axes.Axes
        The two Axes drawn on (P(alive), expected purchases).
    """
    grid = what_if["grid"]
    groups = [g for _, g in grid.groupby("frequency", sort=True)]
    fixed = (grid["frequency"], grid["recency"], what_if["T"], what_if["horizon"])
    memo = _demo_memo(axes, "bgnbd", fixed)
    top = float(grid["expected_purchases"].max())
    if memo is not None and not 0.4 * memo["top"] <= top <= memo["top"]:
        # the expected purchases left the axis range: a new one, and the whole figure again
        memo.update(top=1.15 * top if top > 0 else 1.0, blit=False)
        memo["axes"][1].set_ylim(0, memo["top"])
    if memo is None:
        ax_p, ax_e = _demo_axes(axes, 2, (10.0, 3.6))
        lines_p, lines_e = [], []
        for i, g in enumerate(groups):
            x = int(g["frequency"].iloc[0])
            lines_p += ax_p.plot(g["recency"], g["p_alive"], color=f"C{i}", label=f"{x}")
            lines_e += ax_e.plot(g["recency"], g["expected_purchases"], color=f"C{i}", label=f"{x}")
        percent_axis(ax_p, "y")
        ax_p.set_ylim(0, 1.02)
        ax_e.set_ylim(0, 1.15 * top if top > 0 else 1.0)
        xlabel = f"recency ({unit} to the last purchase)"
        ax_p.set(title=f"P(alive) after {what_if['T']:.0f} {unit}", xlabel=xlabel,
                 ylabel="P(alive)")
        ax_e.set(title=f"Expected purchases in the next {what_if['horizon']:.0f} {unit}",
                 xlabel=xlabel, ylabel="purchases")
        _legend_right(ax_e, title="repeat\npurchases")
        memo = _demo_remember([ax_p, ax_e], "bgnbd", fixed, [*lines_p, *lines_e],
                              lines_p=lines_p, lines_e=lines_e, top=1.15 * top if top > 0 else 1.0)
    for g, lp, le in zip(groups, memo["lines_p"], memo["lines_e"], strict=True):
        lp.set_ydata(g["p_alive"])
        le.set_ydata(g["expected_purchases"])
    return memo["axes"]


# (end of the demo charts)
