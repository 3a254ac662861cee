"""The workbook's look and the checks every figure passes.

The theme (:func:`set_theme`: sizes, palette, CJK fonts), the axis helpers every chart
uses (money, percent and log axes, bar labels) and the figure checks of the test tier
(:func:`layout_problems`, :func:`watch_figures`, :func:`on_shown_figures`).
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

    Returns
    -------
    list of str
        The installed families of :data:`CJK_FONTS`, in that order (empty when none is found).
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

    Parameters
    ----------
    context : str, default "notebook"
        seaborn's plotting context (``"paper"``, ``"notebook"``, ``"talk"``, ``"poster"``),
        which scales fonts and lines.

    Returns
    -------
    None
        The theme is set globally in matplotlib's rcParams.
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
    """Format an axis as money with thousands separators (``NT$12,345``).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The Axes whose axis is formatted.
    axis : {"y", "x"}, default "y"
        Which axis holds money.
    currency : str, default "NT$"
        The prefix written before each number.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, for chaining.
    """
    fmt = FuncFormatter(lambda v, _pos: f"{currency}{v:,.0f}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)
    return ax


def percent_axis(ax: Axes, axis: str = "y", xmax: float = 1.0, decimals: int = 0) -> Axes:
    """Format an axis holding shares (0-1 by default) as percentages.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The Axes whose axis is formatted.
    axis : {"y", "x"}, default "y"
        Which axis holds shares.
    xmax : float, default 1.0
        The value shown as 100% (1 for shares, 100 for values already in percent).
    decimals : int, default 0
        Decimals shown after the percent number.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, for chaining.
    """
    fmt = PercentFormatter(xmax=xmax, decimals=decimals)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)
    return ax


def bar_labels(ax: Axes, fmt: str = "{:,.0f}", padding: float = 2) -> Axes:
    """Write each bar's value at its end (works for vertical and horizontal bars).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        An Axes holding bar containers (``ax.bar``/``ax.barh``, or a pandas/seaborn bar plot).
    fmt : str, default "{:,.0f}"
        Format string applied to each bar's value.
    padding : float, default 2
        Distance (points) between the bar's end and its label.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, for chaining.
    """
    for container in ax.containers:
        ax.bar_label(container, labels=[fmt.format(v) for v in container.datavalues],
                     padding=padding, fontsize="small")
    return ax


def _require(table: pd.DataFrame, columns: Sequence[str], what: str, source: str) -> None:
    missing = [c for c in columns if c not in getattr(table, "columns", [])]
    if not isinstance(table, pd.DataFrame) or missing:
        raise ValueError(
            f"{what}: the table lacks column(s) {missing}; pass the output of {source}"
        )


def log_axis(ax: Axes, axis: str = "y", min_ticks: int = 4, max_ticks: int = 8) -> Axes:
    """Put ``axis`` on a log scale with ``min_ticks`` to ``max_ticks`` labelled ticks.

    Matplotlib labels only powers of ten, so a log axis spanning less than a decade or two
    shows one or two numbers, while 1-2-5 ticks over five decades run into each other. Ticks
    are taken from 1-2-5 per decade when that gives between ``min_ticks`` and ``max_ticks``;
    over a wide range from 1-3 or powers of ten; over a narrow one from 1-1.5-2-3-5-7, else
    spaced evenly in log between the limits (two significant digits). Labels are plain
    numbers with thousands separators (``0.5``, ``20``, ``5,000``); minor ticks are unlabelled.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        An Axes already holding positive data on ``axis`` (its limits set the ticks).
    axis : {"y", "x"}, default "y"
        The axis put on a log scale.
    min_ticks, max_ticks : int, default 4 and 8
        The wanted number of labelled ticks (``2 <= min_ticks <= max_ticks``).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, for chaining.

    Raises
    ------
    ValueError
        When ``axis`` is not "x"/"y", the tick bounds are invalid or the limits are not positive.
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

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A drawn figure (it is drawn again on its canvas to measure text).

    Returns
    -------
    list of str
        One sentence per problem, prefixed with the axes (``"axes 1 ('title'): no title"``).
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

    Parameters
    ----------
    step : callable
        ``step(fig)`` called with each :class:`matplotlib.figure.Figure` before its PNG is made.

    Returns
    -------
    bool
        True when the step was registered with the running IPython kernel, False outside IPython.
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

    Returns
    -------
    bool
        True when the check was registered, False outside IPython.
    """

    def check(fig):
        problems = layout_problems(fig)
        if problems:
            from IPython.display import display

            display({FIGURE_PROBLEM_MIMETYPE: {"problems": problems},
                     "text/plain": "figure problems: " + "; ".join(problems)}, raw=True)

    return on_shown_figures(check)
