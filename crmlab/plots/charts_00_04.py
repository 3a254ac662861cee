"""Charts of notebooks 00-04 (CRM systems, RFM and value, journeys, segmentation)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from .core import FIGSIZE, PALETTE, _ax, _require, percent_axis


def time_series(
    data: pd.DataFrame,
    x: str,
    y: str,
    hue: str | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Line chart of ``y`` over the datetime column ``x`` (one line per ``hue`` level).

    Parameters
    ----------
    data : pd.DataFrame
        A tidy frame holding the columns ``x``, ``y`` and ``hue``.
    x, y : str
        The datetime column on the x-axis and the value column on the y-axis.
    hue : str, optional
        A column whose levels get one line each; one line when None.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, optional
        The chart's title; none when None.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    for col in [c for c in (x, y, hue) if c is not None]:
        if col not in data.columns:
            raise ValueError(
                f"time_series: column {col!r} is not in the data (columns: {list(data.columns)}); "
                "pass the name of an existing column"
            )
    ax = _ax(ax)
    sns.lineplot(data=data, x=x, y=y, hue=hue, ax=ax, marker="o", markersize=3)
    ax.set_xlabel("")
    if title:
        ax.set_title(title)
    return ax


def heatmap(
    table: pd.DataFrame,
    ax: Axes | None = None,
    fmt: str = ".0%",
    cmap: str = "Blues",
    title: str | None = None,
    annot: bool = True,
) -> Axes:
    """Annotated heatmap of a wide table (cohort retention, segment x metric, ...).

    Parameters
    ----------
    table : pd.DataFrame
        A wide table of numbers: rows and columns become the heatmap's axes.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure sized to the table when None.
    fmt : str, default ".0%"
        Format of the annotations.
    cmap : str, default "Blues"
        matplotlib colour map.
    title : str, optional
        The chart's title; none when None.
    annot : bool, default True
        Write each cell's value in it.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    ax = _ax(ax, figsize=(max(FIGSIZE[0], 0.5 * table.shape[1] + 2), max(3.0, 0.35 * len(table) + 1)))
    sns.heatmap(table, annot=annot, fmt=fmt, cmap=cmap, cbar=False, ax=ax,
                annot_kws={"fontsize": "x-small"})
    if title:
        ax.set_title(title)
    return ax


def lorenz(
    shares: Sequence[float] | pd.Series,
    ax: Axes | None = None,
    label: str = "customers",
    title: str | None = "Lorenz curve",
) -> Axes:
    """Lorenz curve of a non-negative quantity (e.g. revenue per customer) with the diagonal.

    ``shares`` are the raw per-unit values; they are sorted ascending and accumulated here.

    Parameters
    ----------
    shares : sequence of float or pd.Series
        The per-unit values (non-negative, no missing values, sum > 0).
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new square-ish figure when None.
    label : str, default "customers"
        What one unit is (the x-axis reads "share of <label>").
    title : str, optional
        The chart's title; none when None.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    values = pd.Series(shares, dtype="float64")
    if values.isna().any() or (values < 0).any() or values.sum() <= 0:
        raise ValueError(
            "lorenz: values must be non-negative, without missing values, and sum to > 0; "
            "drop or fill missing values and remove refunds before plotting"
        )
    cum = values.sort_values().cumsum() / values.sum()
    x = pd.Series(range(1, len(cum) + 1), dtype="float64") / len(cum)
    ax = _ax(ax, figsize=(4.2, 4.0))
    ax.plot([0, *x], [0, *cum.to_numpy()], label=label)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="equality")
    percent_axis(ax, "x")
    percent_axis(ax, "y")
    ax.set_xlabel(f"share of {label}")
    ax.set_ylabel("cumulative share")
    ax.legend(loc="upper left", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def funnel(
    steps: pd.Series,
    ax: Axes | None = None,
    title: str | None = "Conversion funnel",
) -> Axes:
    """Horizontal funnel: one bar per step (index = step name, values = counts), top first.

    Each bar is labelled with its count and the share of the first step.

    Parameters
    ----------
    steps : pd.Series
        Counts per step in funnel order (index = step name); the first must be > 0.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, optional
        The chart's title; none when None.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    counts = pd.Series(steps, dtype="float64")
    if len(counts) == 0 or counts.iloc[0] <= 0:
        raise ValueError("funnel: pass a non-empty Series of step counts whose first step is > 0")
    ax = _ax(ax)
    labels = [str(i) for i in counts.index]
    ax.barh(labels[::-1], counts.to_numpy()[::-1], color=sns.color_palette(PALETTE)[0])
    for y, v in enumerate(counts.to_numpy()[::-1]):
        ax.text(v, y, f" {v:,.0f} ({v / counts.iloc[0]:.1%})", va="center", fontsize="small")
    ax.set_xlim(0, counts.max() * 1.3)
    ax.set_xlabel("count")
    if title:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------- BTYD model checks


def calibration_histogram(
    table: pd.DataFrame,
    ax: Axes | None = None,
    title: str | None = "Repeat purchases in the calibration period",
    model_label: str = "model",
) -> Axes:
    """Customers by number of repeat purchases, actual vs expected, side by side
    (the table of :func:`crmlab.clv.calibration_histogram`; FHL 2005 Fig. 2).

    Parameters
    ----------
    table : pd.DataFrame
        Columns ``frequency``, ``actual`` and ``expected`` (customers per repeat count).
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, optional
        The chart's title; none when None.
    model_label : str, default "model"
        Legend label of the expected bars.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    _require(table, ["frequency", "actual", "expected"], "calibration_histogram",
             "crmlab.clv.calibration_histogram(model, summary)")
    ax = _ax(ax)
    pos = range(len(table))
    colors = sns.color_palette(PALETTE)
    ax.bar([p - 0.2 for p in pos], table["actual"], width=0.4, label="actual", color=colors[0])
    ax.bar([p + 0.2 for p in pos], table["expected"], width=0.4, label=model_label, color=colors[1])
    ax.set_xticks(list(pos), table["frequency"].astype(str).tolist())
    ax.set_xlabel("repeat purchases")
    ax.set_ylabel("customers")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def conditional_expectations(
    table: pd.DataFrame,
    ax: Axes | None = None,
    title: str | None = "Holdout purchases by calibration frequency",
    model_label: str = "model",
) -> Axes:
    """Mean holdout purchases per customer by calibration frequency, actual vs the
    model's conditional expectation (:func:`crmlab.clv.conditional_expectations`;
    FHL 2005 Fig. 4).

    Parameters
    ----------
    table : pd.DataFrame
        Columns ``frequency``, ``actual`` and ``expected`` (mean holdout purchases).
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, optional
        The chart's title; none when None.
    model_label : str, default "model"
        Legend label of the expected line.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    _require(table, ["frequency", "actual", "expected"], "conditional_expectations",
             "crmlab.clv.conditional_expectations(model, summary)")
    ax = _ax(ax)
    labels = table["frequency"].astype(str).tolist()
    ax.plot(labels, table["actual"], marker="o", label="actual")
    ax.plot(labels, table["expected"], marker="s", linestyle="--", label=model_label)
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("mean purchases in the holdout")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def repeat_tracking(
    table: pd.DataFrame,
    ax: Axes | None = None,
    title: str | None = "Cumulative repeat purchases",
    model_label: str = "model",
    cumulative: bool = True,
) -> Axes:
    """Weekly (per step) cumulative repeat purchases of the cohort, actual vs expected,
    with the end of the calibration period marked (the table of
    :func:`crmlab.clv.repeat_transactions_tracking`; FHL 2005 Fig. 3). ``cumulative=False``
    draws the per-step increments instead.

    Parameters
    ----------
    table : pd.DataFrame
        Columns ``t``, ``actual``, ``expected`` and ``holdout`` (bool); ``actual_step`` and
        ``expected_step`` too when ``cumulative=False``.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, optional
        The chart's title; none when None.
    model_label : str, default "model"
        Legend label of the expected line.
    cumulative : bool, default True
        Cumulative counts (True) or per-step increments (False).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    _require(table, ["t", "actual", "expected", "holdout"], "repeat_tracking",
             "crmlab.clv.repeat_transactions_tracking(model, transactions, ...)")
    ax = _ax(ax)
    a, e = ("actual", "expected") if cumulative else ("actual_step", "expected_step")
    ax.plot(table["t"], table[a], label="actual")
    ax.plot(table["t"], table[e], linestyle="--", label=model_label)
    hold = table["holdout"].to_numpy(dtype=bool)
    if hold.any() and not hold.all():
        ax.axvline(table["t"].to_numpy()[~hold].max(), color="grey", linestyle=":", linewidth=1)
        ax.text(table["t"].to_numpy()[~hold].max(), ax.get_ylim()[1], " holdout →", va="top",
                fontsize="small", color="grey")
    ax.set_xlabel("time since the cohort's first purchase (model periods)")
    ax.set_ylabel("repeat purchases" + (" (cumulative)" if cumulative else " per step"))
    ax.legend(fontsize="small", loc="upper left")
    if title:
        ax.set_title(title)
    return ax


# --- Charts of notebooks 00-04 (units 0-2: profile, RFM, journey, segments) ----------------
def touchpoint_timeline(
    timeline: pd.DataFrame,
    order: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = "Every touchpoint on one line",
) -> Axes:
    """One row of dots per kind of touchpoint over time (a member's 360° timeline).

    ``timeline`` has a datetime column ``ts`` and a column ``touchpoint``; ``order`` lists the
    kinds top to bottom (kinds absent from the timeline are skipped). At most six date ticks.

    Parameters
    ----------
    timeline : pd.DataFrame
        Columns ``ts`` (datetime) and ``touchpoint`` (``CustomerProfile.timeline``).
    order : sequence of str, optional
        Touchpoint kinds top to bottom; sorted names when None.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, optional
        The chart's title; none when None.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    import matplotlib.dates as mdates
    import numpy as np

    _require(timeline, ["ts", "touchpoint"], "timeline", "CustomerProfile.timeline")
    kinds = [str(k) for k in timeline["touchpoint"].astype(str).unique()]
    present = [k for k in (order or sorted(kinds)) if k in kinds]
    ax = _ax(ax, figsize=(7.5, 3.2))
    for i, kind in enumerate(present):
        rows = timeline.loc[timeline["touchpoint"].astype(str) == kind]
        ax.scatter(rows["ts"], np.full(len(rows), i), s=14, alpha=0.7)
    ax.set_yticks(range(len(present)), present)
    ax.invert_yaxis()
    locator = mdates.AutoDateLocator(maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("date")
    ax.set_ylabel("touchpoint")
    if title:
        ax.set_title(title)
    return ax


def attainment_bars(
    attainment: pd.DataFrame,
    ax: Axes | None = None,
    title: str | None = "Quota attainment",
) -> Axes:
    """Horizontal bars of won value / target per sales rep, the weighted open pipeline stacked
    on top, a dashed line at 100% and each total written at its bar's end.

    ``attainment`` has columns ``owner``, ``attainment`` and ``projected_attainment`` (shares
    of the target, as :func:`crmlab.profile.attainment` returns them). The axis runs past the
    longest bar and its label, and the legend sits below the axes, off the bars.

    Parameters
    ----------
    attainment : pd.DataFrame
        Columns ``owner``, ``attainment`` and ``projected_attainment``.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, optional
        The chart's title; none when None.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    _require(attainment, ["owner", "attainment", "projected_attainment"], "attainment",
             "crmlab.profile.attainment")
    ax = _ax(ax, figsize=(6.4, 3.4))
    owners = attainment["owner"].astype(str).to_numpy()
    won = attainment["attainment"].to_numpy(dtype=float)
    total = attainment["projected_attainment"].to_numpy(dtype=float)
    ax.barh(owners, won, label="won / target")
    ax.barh(owners, total - won, left=won, alpha=0.4, label="+ weighted open pipeline")
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    for y, v in enumerate(total):
        ax.text(v, y, f" {v:.0%}", va="center", fontsize="small")
    ax.set_xlim(0, max(1.0, float(total.max())) * 1.25)
    percent_axis(ax, "x")
    ax.set_xlabel("share of target (dashed line = 100%)")
    ax.set_ylabel("sales rep")
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=2, frameon=False)
    if title:
        ax.set_title(title)
    return ax


def stacked_weekly_bars(
    counts: pd.DataFrame,
    ax: Axes | None = None,
    title: str | None = None,
    ylabel: str = "count",
) -> Axes:
    """Stacked bars of weekly counts: index = week start (datetime), one column per status.

    Weeks are labelled ``MM-DD`` (every other one when there are more than eight); the
    legend sits to the right of the axes, off the bars.

    Parameters
    ----------
    counts : pd.DataFrame
        Index = week start (DatetimeIndex), one column of counts per status.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, optional
        The chart's title; none when None.
    ylabel : str, default "count"
        The y-axis label.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    if counts.empty or not isinstance(counts.index, pd.DatetimeIndex):
        raise ValueError("stacked_weekly_bars: pass a non-empty DataFrame indexed by week start "
                         "(a DatetimeIndex), one column per status")
    ax = _ax(ax, figsize=(7.5, 3.2))
    shown = counts.set_axis(counts.index.strftime("%m-%d"))
    shown.plot(kind="bar", stacked=True, width=0.85, rot=0, ax=ax)
    if len(shown) > 8:
        for i, label in enumerate(ax.get_xticklabels()):
            label.set_visible(i % 2 == 0)
    ax.set_xlabel("week starting (Monday)")
    ax.set_ylabel(ylabel)
    ax.legend(title=counts.columns.name, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    if title:
        ax.set_title(title)
    return ax


def _treemap_split(values, x, y, w, h) -> list[tuple[float, float, float, float]]:
    """Boxes ``(x, y, w, h)`` of descending ``values`` in a box: halves of equal weight along
    the longer side, recursively."""
    if len(values) == 1:
        return [(x, y, w, h)]
    cum = values.cumsum()
    k = int(abs(cum[:-1] - cum[-1] / 2).argmin()) + 1
    a = cum[k - 1] / cum[-1]
    if w >= h:
        return (_treemap_split(values[:k], x, y, w * a, h)
                + _treemap_split(values[k:], x + w * a, y, w * (1 - a), h))
    return (_treemap_split(values[:k], x, y, w, h * a)
            + _treemap_split(values[k:], x, y + h * a, w, h * (1 - a)))


def treemap(
    sizes: pd.Series,
    shade: pd.Series,
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """A treemap: one box per item with area proportional to ``sizes`` and colour by ``shade``.

    Layout: sort descending, split into two halves of equal weight along the longer side,
    recurse (libraries such as ``squarify`` give squarer boxes). ``labels`` (default: the
    index) are written in the boxes. Returns the Axes (its axis is turned off).

    Parameters
    ----------
    sizes : pd.Series
        Positive box areas, one per item.
    shade : pd.Series
        Colour value per item (same index as ``sizes``; darker = larger).
    labels : sequence of str, optional
        Text per box in the order of ``sizes``; its index when None.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, optional
        The chart's title; none when None.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (axis turned off).
    """
    from matplotlib.patches import Rectangle

    s = pd.Series(sizes, dtype="float64")
    if len(s) == 0 or (s <= 0).any() or s.isna().any():
        raise ValueError("treemap: sizes must be a non-empty Series of positive numbers; drop empty items")
    order = s.sort_values(ascending=False).index
    s, c = s.loc[order], pd.Series(shade, dtype="float64").reindex(order)
    text = pd.Series(list(labels) if labels is not None else [str(i) for i in sizes.index],
                     index=sizes.index).loc[order]

    ax = _ax(ax, figsize=(7.5, 4.2))
    cmap, vmax = plt.get_cmap("Blues"), max(float(c.max()), 1e-12)
    for (x0, y0, w, h), value, label in zip(_treemap_split(s.to_numpy(), 0, 0, 1, 1), c, text, strict=True):
        ax.add_patch(Rectangle((x0, y0), w, h, facecolor=cmap(0.15 + 0.8 * value / vmax),
                               edgecolor="white", linewidth=2))
        ax.text(x0 + w / 2, y0 + h / 2, label, ha="center", va="center", fontsize=7,
                color="white" if value > 0.6 * vmax else "black")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


def _sankey_band(ax: Axes, xs: tuple[float, float, float], y0: float, y1: float, h: float,
                 colour) -> None:
    """One band of height ``h`` from ``y0`` at ``xs[0]`` to ``y1`` at ``xs[2]``: two Bezier edges
    bending at ``xs[1]``."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    x0, xm, x1 = xs
    verts = [(x0, y0), (xm, y0), (xm, y1), (x1, y1), (x1, y1 + h), (xm, y1 + h),
             (xm, y0 + h), (x0, y0 + h), (x0, y0)]
    codes = [MplPath.MOVETO] + [MplPath.CURVE4] * 3 + [MplPath.LINETO] + [MplPath.CURVE4] * 3 \
        + [MplPath.CLOSEPOLY]
    ax.add_patch(PathPatch(MplPath(verts, codes), color=colour, alpha=0.35, lw=0))


def _sankey_blocks(ax: Axes, flows: pd.DataFrame, stages: list[str], total: float,
                   colours: dict, gap: float) -> dict[tuple[str, str], list[float]]:
    """Draw the stacked blocks of every stage; return each block's next outgoing and incoming
    band position, keyed by ``(stage, node)``."""
    pos: dict[tuple[str, str], list[float]] = {}
    for i, stage in enumerate(stages):
        last = i == len(stages) - 1
        side = flows.loc[flows["to_stage" if last else "from_stage"] == stage]
        sizes = side.groupby(side["target" if last else "source"].astype(str))["journeys"].sum()
        y = 0.0
        for node, h in (sizes.sort_values(ascending=False) / total).items():
            pos[(stage, node)] = [y, y]  # next outgoing, next incoming
            ax.add_patch(plt.Rectangle((i - 0.04, y), 0.08, h, color=colours[node]))
            ax.text(i + (0.06 if last else -0.06), y + h / 2, f"{node} {h:.0%}",
                    ha="left" if last else "right", va="center", fontsize="x-small")
            y += h + gap
    return pos


def _sankey_bands(ax: Axes, flows: pd.DataFrame, stages: list[str], pair: tuple[str, str],
                  total: float, colours: dict, pos: dict[tuple[str, str], list[float]]) -> None:
    """Draw the bands from stage ``pair[0]`` to ``pair[1]``, largest first, advancing ``pos``."""
    a, b = pair
    part = flows.loc[flows["from_stage"] == a].sort_values("journeys", ascending=False)
    x0, x1 = stages.index(a) + 0.04, stages.index(b) - 0.04
    xm = (x0 + x1) / 2
    for src, tgt, n in zip(part["source"].astype(str), part["target"].astype(str), part["journeys"],
                           strict=True):
        h = n / total
        y0, y1 = pos[(a, src)][0], pos[(b, tgt)][1]
        pos[(a, src)][0] += h
        pos[(b, tgt)][1] += h
        _sankey_band(ax, (x0, xm, x1), y0, y1, h, colours[src])


def sankey(
    flows: pd.DataFrame,
    stages: Sequence[str],
    ax: Axes | None = None,
    title: str | None = None,
    gap: float = 0.02,
) -> Axes:
    """A minimal Sankey diagram: stacked blocks per stage, bands between consecutive stages.

    ``flows`` has columns ``from_stage``, ``to_stage``, ``source``, ``target`` and ``journeys``
    (as :func:`crmlab.journey.path_flows` returns them). Block heights are shares of all
    journeys; each block is labelled with its node and share.

    Parameters
    ----------
    flows : pd.DataFrame
        Columns ``from_stage``, ``to_stage``, ``source``, ``target``, ``journeys``.
    stages : sequence of str
        The stages left to right.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; a new figure when None.
    title : str, optional
        The chart's title; none when None.
    gap : float, default 0.02
        Vertical gap between blocks (share of all journeys).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    _require(flows, ["from_stage", "to_stage", "source", "target", "journeys"], "flows",
             "crmlab.journey.path_flows")
    stages = list(stages)
    total = flows.loc[flows["from_stage"] == stages[0], "journeys"].sum()
    if total <= 0:
        raise ValueError(f"sankey: no journeys leave the first stage {stages[0]!r}; check `stages`")
    nodes = sorted(set(flows["source"].astype(str)) | set(flows["target"].astype(str)))
    colours = dict(zip(nodes, [plt.get_cmap("tab10")(i % 10) for i in range(len(nodes))], strict=True))
    ax = _ax(ax, figsize=(7.5, 4.2))
    pos = _sankey_blocks(ax, flows, stages, total, colours, gap)
    for a, b in zip(stages[:-1], stages[1:], strict=False):
        _sankey_bands(ax, flows, stages, (a, b), total, colours, pos)
    ax.set_xlim(-0.8, len(stages) - 0.2)
    ax.set_ylim(1 + gap * 8, -gap)
    ax.set_xticks(range(len(stages)), stages)
    ax.set_yticks([])
    ax.set_xlabel("stage of the journey")
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax


# (end of the charts of notebooks 00-04)
