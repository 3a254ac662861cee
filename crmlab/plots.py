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
