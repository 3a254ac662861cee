"""One look for every chart in the workbook, and the charts that recur across units.

Pure computation lives in the unit modules; this module only draws. Every helper takes
tidy data plus an optional ``ax`` and returns the ``Axes`` it drew on, so a notebook can
keep styling it (titles, annotations) with plain matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence

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
    """Return the CJK-capable font families from :data:`CJK_FONTS` that matplotlib can find."""
    available = {f.name for f in mpl.font_manager.fontManager.ttflist}
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
# (end of the charts of notebooks 00-04)

# --- Charts of notebooks 05-07 (CLV, recommendations, pricing) ------------------------------
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
    ax.set(title=title, xlabel=xlabel)
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
                  scale: float = 1.0) -> Axes:
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
    ax.set(title=title, xlabel=xlabel)
    return ax


# (end of the charts of notebooks 08-10)

# --- Charts of notebooks 11-13 (feedback, scorecard, scale) ---------------------------------
# (end of the charts of notebooks 11-13)

# --- Live what-if demos (ipywidgets; computation in the unit modules) -----------------------
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


def watch_figures() -> bool:
    """Report :func:`layout_problems` of every figure the IPython kernel displays.

    Each problem becomes an output of the cell that drew the figure, with mimetype
    :data:`FIGURE_PROBLEM_MIMETYPE` and a readable ``text/plain``; the notebook test tier
    fails on them. Returns False outside IPython (nothing to watch).
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the course
        return False
    shell = get_ipython()
    if shell is None:
        return False
    from matplotlib.figure import Figure

    png = shell.display_formatter.formatters["image/png"]
    previous = png.lookup_by_type(Figure) if Figure in png.type_printers else None

    def check_then_draw(fig):
        problems = layout_problems(fig)
        if problems:
            from IPython.display import display

            display({FIGURE_PROBLEM_MIMETYPE: {"problems": problems},
                     "text/plain": "figure problems: " + "; ".join(problems)}, raw=True)
        return previous(fig) if previous is not None else None

    png.for_type(Figure, check_then_draw)
    return True
