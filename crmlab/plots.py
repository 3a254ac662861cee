"""One look for every chart in the workbook, and the charts that recur across units.

Pure computation lives in the unit modules; this module only draws. Every helper takes
tidy data plus an optional ``ax`` and returns the ``Axes`` it drew on, so a notebook can
keep styling it (titles, annotations) with plain matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, PercentFormatter

#: Default figure size (inches): small enough that a notebook with a handful of figures
#: stays well under the 2 MB budget for committed notebooks.
FIGSIZE: tuple[float, float] = (6.4, 3.6)

#: Colour-blind safe qualitative palette used for categories (segments, channels, ...).
PALETTE = "colorblind"

#: Fonts that can draw CJK characters, tried in order when they are installed, so
#: chart titles such as "RFM分析" render instead of showing empty boxes.
CJK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK TC",
    "Noto Sans TC",
    "Noto Sans CJK SC",
    "Source Han Sans TC",
    "PingFang TC",
    "Heiti TC",
    "Microsoft JhengHei",
    "Microsoft YaHei",
    "WenQuanYi Zen Hei",
    "Arial Unicode MS",
)


def installed_cjk_fonts() -> list[str]:
    """Return the CJK-capable font families from :data:`CJK_FONTS` that matplotlib can find.

    matplotlib caches the system's font list once; a CJK font installed after that (``make
    install`` adds fonts-noto-cjk) is missing from the cache, so when none is known the
    system's CJK font files are added (``FontManager.addfont``) before giving up.
    """
    manager = mpl.font_manager.fontManager
    available = {f.name for f in manager.ttflist}
    if not any(name in available for name in CJK_FONTS):
        known = {f.fname for f in manager.ttflist}
        for path in mpl.font_manager.findSystemFonts():
            if "CJK" in Path(path).name and path not in known:
                manager.addfont(path)
        available = {f.name for f in manager.ttflist}
    return [name for name in CJK_FONTS if name in available]


def set_theme(context: str = "notebook") -> None:
    """Apply the workbook's single seaborn theme (white grid, colour-blind palette).

    Installed CJK fonts are placed after DejaVu Sans in the sans-serif list, so Latin text
    looks the same everywhere and matplotlib falls back to a CJK font for Chinese glyphs.
    """
    sans = ["DejaVu Sans", *installed_cjk_fonts(), "sans-serif"]
    sns.set_theme(
        context=context,
        style="whitegrid",
        palette=PALETTE,
        font="sans-serif",
        rc={
            "figure.figsize": FIGSIZE,
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "figure.autolayout": True,
            "font.sans-serif": sans,
            # The list itself as the family: matplotlib falls back glyph by glyph only along
            # font.family (a generic "sans-serif" resolves to one font and shows boxes).
            "font.family": sans,
            "axes.titleweight": "bold",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.unicode_minus": False,
        },
    )


def _ax(ax: Axes | None, figsize: tuple[float, float] | None = None) -> Axes:
    """Return ``ax`` or a new axes on a fresh figure of the workbook's size."""
    if ax is not None:
        return ax
    _, new = plt.subplots(figsize=figsize or FIGSIZE)
    return new


def money_axis(ax: Axes, axis: str = "y", currency: str = "NT$") -> Axes:
    """Format an axis as money with thousands separators (``NT$12,345``)."""
    fmt = FuncFormatter(lambda v, _pos: f"{currency}{v:,.0f}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)
    return ax


def percent_axis(ax: Axes, axis: str = "y", xmax: float = 1.0, decimals: int = 0) -> Axes:
    """Format an axis holding shares (0-1 by default) as percentages."""
    fmt = PercentFormatter(xmax=xmax, decimals=decimals)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)
    return ax


def bar_labels(ax: Axes, fmt: str = "{:,.0f}", padding: float = 2) -> Axes:
    """Write each bar's value at its end (works for vertical and horizontal bars)."""
    for container in ax.containers:
        ax.bar_label(container, labels=[fmt.format(v) for v in container.datavalues],
                     padding=padding, fontsize="small")
    return ax


def time_series(
    data: pd.DataFrame,
    x: str,
    y: str,
    hue: str | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Line chart of ``y`` over the datetime column ``x`` (one line per ``hue`` level)."""
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
    """Annotated heatmap of a wide table (cohort retention, segment x metric, ...)."""
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


def _require(table: pd.DataFrame, columns: Sequence[str], what: str, source: str) -> None:
    missing = [c for c in columns if c not in getattr(table, "columns", [])]
    if not isinstance(table, pd.DataFrame) or missing:
        raise ValueError(
            f"{what}: the table lacks column(s) {missing}; pass the output of {source}"
        )


def calibration_histogram(
    table: pd.DataFrame,
    ax: Axes | None = None,
    title: str | None = "Repeat purchases in the calibration period",
    model_label: str = "model",
) -> Axes:
    """Customers by number of repeat purchases, actual vs expected, side by side
    (the table of :func:`crmlab.clv.calibration_histogram`; FHL 2005 Fig. 2)."""
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
    FHL 2005 Fig. 4)."""
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
    draws the per-step increments instead."""
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
    """
    from matplotlib.patches import Rectangle

    s = pd.Series(sizes, dtype="float64")
    if len(s) == 0 or (s <= 0).any() or s.isna().any():
        raise ValueError("treemap: sizes must be a non-empty Series of positive numbers; drop empty items")
    order = s.sort_values(ascending=False).index
    s, c = s.loc[order], pd.Series(shade, dtype="float64").reindex(order)
    text = pd.Series(list(labels) if labels is not None else [str(i) for i in sizes.index],
                     index=sizes.index).loc[order]

    def split(values, x, y, w, h):
        if len(values) == 1:
            return [(x, y, w, h)]
        cum = values.cumsum()
        k = int(abs(cum[:-1] - cum[-1] / 2).argmin()) + 1
        a = cum[k - 1] / cum[-1]
        if w >= h:
            return split(values[:k], x, y, w * a, h) + split(values[k:], x + w * a, y, w * (1 - a), h)
        return split(values[:k], x, y, w, h * a) + split(values[k:], x, y + h * a, w, h * (1 - a))

    ax = _ax(ax, figsize=(7.5, 4.2))
    cmap, vmax = plt.get_cmap("Blues"), max(float(c.max()), 1e-12)
    for (x0, y0, w, h), value, label in zip(split(s.to_numpy(), 0, 0, 1, 1), c, text, strict=True):
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
    """
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    _require(flows, ["from_stage", "to_stage", "source", "target", "journeys"], "flows",
             "crmlab.journey.path_flows")
    stages = list(stages)
    total = flows.loc[flows["from_stage"] == stages[0], "journeys"].sum()
    if total <= 0:
        raise ValueError(f"sankey: no journeys leave the first stage {stages[0]!r}; check `stages`")
    nodes = sorted(set(flows["source"].astype(str)) | set(flows["target"].astype(str)))
    colours = dict(zip(nodes, [plt.get_cmap("tab10")(i % 10) for i in range(len(nodes))], strict=True))
    ax = _ax(ax, figsize=(7.5, 4.2))
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
    for a, b in zip(stages[:-1], stages[1:], strict=False):
        part = flows.loc[flows["from_stage"] == a].sort_values("journeys", ascending=False)
        x0, x1 = stages.index(a) + 0.04, stages.index(b) - 0.04
        xm = (x0 + x1) / 2
        for src, tgt, n in zip(part["source"].astype(str), part["target"].astype(str), part["journeys"],
                               strict=True):
            h = n / total
            y0, y1 = pos[(a, src)][0], pos[(b, tgt)][1]
            pos[(a, src)][0] += h
            pos[(b, tgt)][1] += h
            verts = [(x0, y0), (xm, y0), (xm, y1), (x1, y1), (x1, y1 + h), (xm, y1 + h),
                     (xm, y0 + h), (x0, y0 + h), (x0, y0)]
            codes = [MplPath.MOVETO] + [MplPath.CURVE4] * 3 + [MplPath.LINETO] + [MplPath.CURVE4] * 3 \
                + [MplPath.CLOSEPOLY]
            ax.add_patch(PathPatch(MplPath(verts, codes), color=colours[src], alpha=0.35, lw=0))
    ax.set_xlim(-0.8, len(stages) - 0.2)
    ax.set_ylim(1 + gap * 8, -gap)
    ax.set_xticks(range(len(stages)), stages)
    ax.set_yticks([])
    ax.set_xlabel("stage of the journey")
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax


def log_axis(ax: Axes, axis: str = "y", min_ticks: int = 4, max_ticks: int = 8) -> Axes:
    """Put ``axis`` on a log scale with ``min_ticks`` to ``max_ticks`` labelled ticks.

    Matplotlib labels only powers of ten, so a log axis spanning less than a decade or two
    shows one or two numbers, while 1-2-5 ticks over five decades run into each other. Ticks
    are taken from 1-2-5 per decade when that gives between ``min_ticks`` and ``max_ticks``;
    over a wide range from 1-3 or powers of ten; over a narrow one from 1-1.5-2-3-5-7, else
    spaced evenly in log between the limits (two significant digits). Labels are plain
    numbers with thousands separators (``0.5``, ``20``, ``5,000``); minor ticks are unlabelled.
    """
    import numpy as np
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    if axis not in ("x", "y"):
        raise ValueError(f"log_axis: axis must be 'x' or 'y', got {axis!r}")
    if not 2 <= min_ticks <= max_ticks:
        raise ValueError(f"log_axis: need 2 <= min_ticks <= max_ticks, got {min_ticks} and {max_ticks}")
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
    lo, hi = sorted(ax.get_ylim() if axis == "y" else ax.get_xlim())
    if not (lo > 0 and np.isfinite(hi)):
        raise ValueError("log_axis: the axis limits must be positive; plot positive values only")
    decades = 10.0 ** np.arange(np.floor(np.log10(lo)), np.ceil(np.log10(hi)) + 1)

    def ticks_of(mantissas: tuple[float, ...]) -> list[float]:
        return [float(d * m) for d in decades for m in mantissas if lo <= d * m <= hi]

    ticks = ticks_of((1, 2, 5))
    if len(ticks) > max_ticks:
        ticks = next((t for t in (ticks_of((1, 3)), ticks_of((1,))) if len(t) <= max_ticks),
                     ticks_of((1,))[:: int(np.ceil(len(ticks_of((1,))) / max_ticks))])
    elif len(ticks) < min_ticks:
        ticks = ticks_of((1, 1.5, 2, 3, 5, 7))
        if not min_ticks <= len(ticks) <= max_ticks:
            ticks = [float(f"{v:.2g}") for v in np.geomspace(lo, hi, min_ticks + 2)[1:-1]]
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(FixedLocator(ticks))
    target.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,g}"))
    target.set_minor_formatter(NullFormatter())
    return ax


# (end of the charts of notebooks 00-04)

# --- Charts of notebooks 05-07 (CLV, recommendations, pricing) ------------------------------
def model_metric_bars(
    table: pd.DataFrame,
    metrics: Sequence[str],
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "ranking metric",
) -> Axes:
    """Grouped bars of ranking metrics (shares 0-1), one group per metric and one bar per model
    (``table``: one row per model, e.g. :func:`crmlab.recommend.compare_models`); the legend
    sits to the right of the axes, off the bars."""
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
    labels that do not run into each other)."""
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
    nights), with a date axis of at most about seven concise labels, so they never overlap."""
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
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
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
    band, :func:`crmlab.pricing.price_policy_report`); the legend sits right of the axes."""
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
    (0-100%). ``table`` has columns month, price, booked_probability. Returns the two Axes."""
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
    the y ticks. Returns the Axes."""
    for p in paths:
        _require(p, [x, y], "step_paths", f"a list of tables with columns {x!r} and {y!r}")
    if not len(paths):
        raise ValueError("step_paths: pass at least one path")
    if axes is None:
        fig, axes = plt.subplots(1, len(paths), figsize=(3.4 * len(paths), 3.2), sharey=True,
                                 squeeze=False)
        axes = list(axes[0])
    from matplotlib.ticker import MaxNLocator

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
    own labelled colour bar; the panels share the frequency axis. Returns the Axes."""
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
    from matplotlib.ticker import MaxNLocator

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
    axis; the legend sits right of the axes."""
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
    the axes, off the points. ``customers`` has columns p_alive and clv_if_alive."""
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

# --- Charts of notebooks 08-10 (offers, support, after-sales) -------------------------------
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
    value as a cross when ``truth`` names a column, and a grey line at 0 (notebook 08)."""
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
    (``points``: n_control, mde) (notebook 08)."""
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
    named ``truth`` is drawn as a black cross (notebook 08)."""
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
    common end point (Qini and true-gain curves of notebook 08)."""
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
    100%, "nobody" as the line at 0 (notebook 08)."""
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
    divided by ``scale`` (e.g. 1000 for NT$ thousand) and a grey line at 0 (notebook 08)."""
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
    Returns the two Axes."""
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
    (notebook 10_return_policy)."""
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
    scale is centred on 0 (notebook 10_return_policy)."""
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

# --- Charts of notebooks 11-13 (feedback, scorecard, scale) ---------------------------------
#: Traffic-light colours of the CRM scorecard (crmlab.kpi statuses); grey when there is no
#: data or no target.
TRAFFIC_LIGHTS: dict[str, str] = {"green": "#1b9e77", "amber": "#e6ab02", "red": "#d95f02",
                                  "no data": "#bbbbbb", "no target": "#bbbbbb"}


def _require_columns(table: pd.DataFrame, columns: Sequence[str], what: str, source: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{what}: the table has no column(s) {missing}; pass the table of {source}")


def format_in_unit(value: float, unit: str, change: bool = False) -> str:
    """A scorecard number as a manager reads it: ``"71.4%"`` for a share, ``"NT$1,234"``-style
    money, whole days; a ``change`` of a share in percentage points (``"+2.6 pp"``). "–" for
    no data."""
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
    and the status cell in its traffic-light colour."""
    _require_columns(scorecard, ["perspective", "label", "label_zh", "unit", "direction", "value",
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
    clipped at ±``clip``. ``scorecard`` is the table of :func:`crmlab.kpi.scorecard`."""
    import numpy as np

    _require_columns(scorecard, ["label", "direction", "value", "previous", "target", "tolerance",
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
    panels are hidden). Figure labels stay English: not every machine has a CJK font."""
    import matplotlib.dates as mdates
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    _require_columns(history, ["start", "label", "unit", "value", "target", "status"],
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
    Columns are labelled by period ("2025Q1" -> "25Q1")."""
    from matplotlib.colors import ListedColormap

    _require_columns(history, ["period", "label", "status"], "traffic_light_grid",
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
    measured at each step."""
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
    panels. Returns the two Axes."""
    import numpy as np

    _require_columns(daily, ["n_mentions"], "social_listening", "crmlab.feedback.daily_mentions(...)")
    _require_columns(pchart, ["share", "ucl", "alert"], "social_listening",
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
    (start, fix) shaded. The legend sits right of the axes."""
    _require_columns(weekly, ["week", "score"], "signal_scores", "crmlab.feedback.product_signals(...)")
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
    the groups in the legend, which sits right of the axes."""
    import numpy as np

    _require_columns(rates, ["period", "group", "rate", "low", "high"], "period_rate_intervals",
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
    score (no effort estimate) are left out. Returns the two Axes."""
    from matplotlib.ticker import MaxNLocator

    _require_columns(priorities, ["theme", "reach", "score"], "theme_priorities",
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
    description). Legends sit right of the panels. Returns the Axes."""
    import numpy as np

    _require_columns(effects, ["theme", "shipped_ts", "per_day_before", "per_day_after"],
                     "requests_around_changes", "crmlab.feedback.change_effect(...)")
    _require_columns(weekly, list(effects["theme"]), "requests_around_changes",
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
    (columns quarter, source, share, low, high), side by side; the legend right of the axes."""
    import numpy as np

    _require_columns(table, ["quarter", "source", "share", "low", "high"], "positive_share_by_quarter",
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


# (end of the charts of notebooks 11-13)

# --- Live what-if demos (ipywidgets; computation in the unit modules) -----------------------
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


def price_demo_chart(what_if: dict, axes: Sequence[Axes] | None = None) -> list[Axes]:
    """Demand (left) and revenue and profit (right) by price, from
    :func:`crmlab.pricing.price_what_if`: the chosen price as a line, the optimum as a dot.

    The y-axes keep their range while the curves fit in it (and fill at least 40% of it), so
    a new elasticity or shape moves the curves without redrawing the axes."""
    from matplotlib.ticker import MaxNLocator

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
        memo = _demo_remember([ax_q, ax_m], "price", (curve["price"], what_if["list_price"]),
                              [demand, revenue, profit, best_dot, *lines, dot, ax_q.title, ax_m.title],
                              demand=demand, revenue=revenue, profit=profit, best_dot=best_dot,
                              lines=lines, dot=dot, **limits)
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
    (right) for the chosen agents, from :func:`crmlab.support.staffing_what_if`."""
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
    share of customers and of revenue (right), from :func:`crmlab.rfm.cut_point_segments`."""
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
    break-even uplift."""
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
    repeat purchases, from :func:`crmlab.clv.bgnbd_what_if`."""
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

# --- Figure checks ---------------------------------------------------------------------------
# A figure in the course must be readable as a slide: a title, labelled axes, tick labels that
# do not run into each other, a legend that does not sit on the data, bars inside the axes.
# layout_problems() finds these on a drawn figure; watch_figures() runs it on every figure a
# notebook shows when CRMLAB_CHECK_FIGURES is set (the notebook test tier sets it).

#: Output mimetype of a figure problem found while a notebook runs (read by the test tier).
FIGURE_PROBLEM_MIMETYPE = "application/vnd.crmlab.figure-problem+json"


def _boxes_overlap(a, b, slack: float = 1.0) -> bool:
    """True when two display-space boxes overlap by more than ``slack`` pixels both ways."""
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > slack) and (min(a.y1, b.y1) - max(a.y0, b.y0) > slack)


def _tick_label_overlaps(ax: Axes, renderer) -> list[str]:
    """Names of the axes' x/y axis whose visible tick labels overlap each other."""
    found = []
    for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        labels = [t for t in axis.get_ticklabels(which="both")
                  if t.get_visible() and t.get_text().strip()]
        boxes = [t.get_window_extent(renderer) for t in labels]
        clashes = [(labels[i].get_text(), labels[j].get_text())
                   for i in range(len(boxes)) for j in range(i + 1, len(boxes))
                   if _boxes_overlap(boxes[i], boxes[j])]
        if clashes:
            found.append(f"{name} tick labels overlap ({len(clashes)} pair(s), e.g. "
                         f"{clashes[0][0]!r} and {clashes[0][1]!r})")
    return found


def _data_points(ax: Axes):
    """Display coordinates of the axes' line vertices and scatter points (finite ones)."""
    import numpy as np

    points = []
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        xy = np.asarray(line.get_xydata(), dtype=float)
        if len(xy) and not _is_reference_line(xy):
            points.append(line.get_transform().transform(xy))
    for coll in ax.collections:
        offsets = np.asarray(coll.get_offsets(), dtype=float)
        if coll.get_visible() and offsets.ndim == 2 and len(offsets) > 0:
            points.append(coll.get_offset_transform().transform(offsets))
    if not points:
        return np.empty((0, 2))
    allp = np.vstack(points)
    return allp[np.isfinite(allp).all(axis=1)]


def _is_reference_line(xy) -> bool:
    """A horizontal or vertical line of two points (axhline/axvline, a target): not data."""
    return len(xy) == 2 and (xy[0, 0] == xy[1, 0] or xy[0, 1] == xy[1, 1])


def _legend_on_data(ax: Axes, renderer) -> list[str]:
    """A problem when the axes' legend (inside the axes) covers data points or bars."""
    legend = ax.get_legend()
    if legend is None or not legend.get_visible():
        return []
    box = legend.get_window_extent(renderer)
    if not _boxes_overlap(box, ax.get_window_extent(renderer), slack=0):
        return []  # placed outside the axes
    points = _data_points(ax)
    inside = ((points[:, 0] > box.x0) & (points[:, 0] < box.x1)
              & (points[:, 1] > box.y0) & (points[:, 1] < box.y1)).sum() if len(points) else 0
    bars = sum(1 for p in ax.patches if p.get_visible() and _is_bar(p)
               and _boxes_overlap(box, p.get_window_extent(renderer), slack=2))
    if inside or bars:
        what = ", ".join(s for s in (f"{inside} data point(s)" if inside else "",
                                      f"{bars} bar(s)" if bars else "") if s)
        return [f"the legend covers {what}: move it (loc=..., bbox_to_anchor outside, or fewer entries)"]
    return []


def _is_bar(patch) -> bool:
    from matplotlib.patches import Rectangle

    return isinstance(patch, Rectangle) and patch.get_width() != 0 and patch.get_height() != 0


def _bars_off_axes(ax: Axes) -> list[str]:
    """A problem when a bar runs past the axis limits (its end is not shown)."""
    import numpy as np

    x0, x1 = sorted(ax.get_xlim())
    y0, y1 = sorted(ax.get_ylim())
    off = 0
    for p in ax.patches:
        if not (p.get_visible() and _is_bar(p)) or p.get_data_transform() != ax.transData:
            continue
        bx, by = p.get_x(), p.get_y()
        ends = np.array([bx, bx + p.get_width()]), np.array([by, by + p.get_height()])
        if not (np.isfinite(ends[0]).all() and np.isfinite(ends[1]).all()):
            continue
        span_x, span_y = (x1 - x0) * 1e-6, (y1 - y0) * 1e-6
        past_x = ax.get_xscale() == "linear" and (ends[0].max() > x1 + span_x
                                                  or ends[0].min() < x0 - span_x)
        past_y = ax.get_yscale() == "linear" and (ends[1].max() > y1 + span_y
                                                  or ends[1].min() < y0 - span_y)
        off += bool(past_x or past_y)
    return [f"{off} bar(s) run past the axis limits"] if off else []


def _has_content(ax: Axes) -> bool:
    return bool(ax.get_lines() or ax.collections or ax.patches or ax.images)


def layout_problems(fig) -> list[str]:
    """The readability problems of a figure, one sentence each (empty when there are none).

    Checked on every axes that shows data: a title (the axes' or the figure's), labels on
    both axes (unless the axis is hidden or has no tick labels, as a pie or a heatmap's
    category axis may), tick labels that do not overlap, a legend that does not cover data
    points or bars, and no bar running past the axis limits.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    suptitle = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else ""
    problems = []
    for i, ax in enumerate(fig.get_axes()):
        if not ax.get_visible() or not ax.axison or not _has_content(ax):
            continue
        where = f"axes {i + 1}" + (f" ({ax.get_title()!r})" if ax.get_title() else "")
        found = []
        if not (ax.get_title() or ax.get_title(loc="left") or suptitle):
            found.append("no title")
        for name, axis, label in (("x", ax.xaxis, ax.get_xlabel()), ("y", ax.yaxis, ax.get_ylabel())):
            shows_ticks = any(t.get_visible() and t.get_text().strip() for t in axis.get_ticklabels())
            if axis.get_visible() and shows_ticks and not label.strip():
                found.append(f"no {name}-axis label")
        found += _tick_label_overlaps(ax, renderer)
        found += _legend_on_data(ax, renderer)
        found += _bars_off_axes(ax)
        problems += [f"{where}: {p}" for p in found]
    return problems


def on_shown_figures(step) -> bool:
    """Run ``step(fig)`` on every figure the IPython kernel displays, just before it is drawn.

    Wraps the inline backend's PNG formatter; a step registered later runs first (so the
    translation of :func:`crmlab.i18n.translate_figure` happens before the checks of
    :func:`watch_figures` look at the figure). Returns False outside IPython.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the course
        return False
    shell = get_ipython()
    if shell is None:
        return False
    from matplotlib.figure import Figure

    # The inline backend installs its own Figure formatter when it is first resolved (at the
    # first figure); resolve it now, so that ours wraps it instead of being replaced by it.
    plt.close(plt.figure())
    png = shell.display_formatter.formatters["image/png"]
    previous = png.lookup_by_type(Figure) if Figure in png.type_printers else None

    def step_then_draw(fig):
        step(fig)
        return previous(fig) if previous is not None else None

    png.for_type(Figure, step_then_draw)
    return True


def watch_figures() -> bool:
    """Report :func:`layout_problems` of every figure the IPython kernel displays.

    Each problem becomes an output of the cell that drew the figure, with mimetype
    :data:`FIGURE_PROBLEM_MIMETYPE` and a readable ``text/plain``; the notebook test tier
    fails on them. Returns False outside IPython (nothing to watch).
    """

    def check(fig):
        problems = layout_problems(fig)
        if problems:
            from IPython.display import display

            display({FIGURE_PROBLEM_MIMETYPE: {"problems": problems},
                     "text/plain": "figure problems: " + "; ".join(problems)}, raw=True)

    return on_shown_figures(check)
