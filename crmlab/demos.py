"""Live what-if demos for lectures (issue 27): move a slider and the class sees the answer change.

Each demo is three small pieces: a pure computation in the unit's module, a chart in
:mod:`crmlab.plots`, and a thin builder here that wires ipywidgets controls to them.

============================  ==========================================  =================================
builder                       computation                                 chart
============================  ==========================================  =================================
:func:`rfm_demo` (02)         :func:`crmlab.rfm.cut_point_segments`        :func:`crmlab.plots.rfm_cut_chart`
:func:`clv_demo` (05)         :func:`crmlab.clv.bgnbd_what_if`             :func:`crmlab.plots.bgnbd_demo_chart`
:func:`price_demo` (07)       :func:`crmlab.pricing.price_what_if`         :func:`crmlab.plots.price_demo_chart`
:func:`targeting_demo` (08)   :func:`crmlab.offers.targeting_profit`       :func:`crmlab.plots.targeting_demo_chart`
:func:`staffing_demo` (09)    :func:`crmlab.support.staffing_what_if`      :func:`crmlab.plots.staffing_demo_chart`
============================  ==========================================  =================================

A builder returns a :class:`Demo`, an ``ipywidgets.VBox`` of the controls, the chart (a PNG
drawn with matplotlib's Agg backend) and a one-line reading. In JupyterLab or Voila the
controls work; where no widget front-end runs (the HTML site, nbval, papermill) the notebook
shows the chart at the default values instead: the demo's display bundle carries it as
``image/png`` beside the widget view, and a viewer without widgets falls back to it.

In the 繁體中文 edition (``CRMLAB_LANG=zh-TW``) the demo speaks Chinese: its heading, the
controls' labels and the reading go through :func:`crmlab.i18n.tr`, the chart through
:func:`crmlab.i18n.translate_figure` (strings in ``crmlab/locales/zh-TW.yaml``); in English
both are the identity, so the committed demos' outputs do not change.
``make demo NB=07`` serves ``demos/07_*_demo.ipynb`` as an app.

Every demo computes its data once when it is built (the shop, a fit, an uplift model);
moving a control only reruns the computation and redraws (``benchmarks/bench_demos.py``
times one change).
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from crmlab import clv, offers, plots, pricing, rfm, support
from crmlab.i18n import tr, translate_figure

__all__ = [
    "Demo",
    "clv_demo",
    "clv_demo_data",
    "price_demo",
    "price_demo_data",
    "rfm_demo",
    "staffing_demo",
    "targeting_demo",
    "targeting_demo_data",
]

#: Width of a demo's slider description, so the controls line up.
_DESCRIPTION = {"description_width": "15em"}


def _default_shop(shop: Any) -> Any:
    """The shop to demo: the given one, or the course's default (``DATA = "small"``, seed 42)."""
    if shop is not None:
        return shop
    import crmlab.data

    return crmlab.data.get_shop("small", seed=42)


class Demo(widgets.VBox):
    """A what-if demo: controls, a chart and a reading, redrawn when a control moves.

    ``compute(**values)`` gets the controls' values by name and returns the figures the
    chart draws (a dict); ``draw(result, axes)`` draws them on ``axes`` (cleared first);
    ``describe(result)`` says in one sentence what they show. After construction
    ``result`` holds the default values' figures and ``png`` their chart.

    Parameters
    ----------
    title : str
        The demo's heading.
    controls : Mapping[str, ipywidgets.ValueWidget]
        The sliders and dropdowns, by the name ``compute`` receives their value under.
    compute : callable
        ``compute(**values) -> dict``: the figures for the controls' values.
    draw : callable
        ``draw(result, axes)``: draws those figures on the demo's axes.
    describe : callable
        ``describe(result) -> str``: one sentence saying what the chart shows.
    axes : Sequence[matplotlib.axes.Axes]
        The axes the chart is drawn on (their figure is the demo's image).
    """

    def __init__(self, title: str, controls: Mapping[str, widgets.ValueWidget],
                 compute: Callable[..., dict], draw: Callable[[dict, Any], Any],
                 describe: Callable[[dict], str], axes: Sequence[Any]) -> None:
        if not controls:
            raise ValueError("Demo: give at least one control (a slider or a dropdown).")
        self.controls = dict(controls)
        self.compute, self.draw, self.describe = compute, draw, describe
        self.axes = list(axes)
        self.figure = self.axes[0].figure
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.reading = widgets.HTML()
        self.result: dict = {}
        self.png = b""
        self._quiet = False
        super().__init__([widgets.HTML(f"<b>{html.escape(title)}</b>"),
                          widgets.VBox(list(self.controls.values())), self.image, self.reading])
        self._render()
        # The first drawing placed the axes (the theme's tight layout); later changes keep
        # that layout instead of solving it again on every move of a slider.
        self.figure.set_layout_engine("none")
        for control in self.controls.values():
            control.observe(self._changed, names="value")

    @property
    def values(self) -> dict[str, Any]:
        """The controls' current values by name."""
        return {name: control.value for name, control in self.controls.items()}

    def update(self, **values: Any) -> dict:
        """Set controls (by name) and recompute and redraw once; return the new ``result``.

        A value the computation refuses raises its ``ValueError`` (a moved slider shows the
        message under the chart instead).
        """
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"Demo.update: no control named {unknown}; the controls are "
                             f"{sorted(self.controls)}.")
        self._quiet = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._quiet = False
        self._render()
        return self.result

    def _changed(self, change: Any) -> None:
        if self._quiet:
            return
        try:
            self._render()
        except ValueError as err:  # e.g. too few agents for the calls: say so, keep the chart
            self.reading.value = f"<span style='color:#b00'>{html.escape(str(err))}</span>"

    def _render(self) -> None:
        result = self.compute(**self.values)
        self.draw(result, self.axes)
        translate_figure(self.figure)  # the edition's language (English: unchanged)
        self.result = result
        self.png = _png(self.figure)
        self.image.value = self.png
        self.reading.value = html.escape(self.describe(result))

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        """The widget view for a live front-end, the chart as a PNG for everything else."""
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
        bundle["image/png"] = base64.b64encode(self.png).decode("ascii")
        bundle["text/plain"] = self.describe(self.result)
        return bundle


def _png(fig: Any) -> bytes:
    """The figure as PNG bytes (fast zlib level: a demo redraws often).

    A demo chart notes its *moving* artists (:func:`crmlab.plots._demo_memo`). A full
    drawing renders the rest once and keeps that picture; when only the moving artists
    changed, they are painted over the kept picture (blitting) instead of drawing every
    axis, tick label and curve again.
    """
    from PIL import Image

    canvas = fig.canvas
    memo = getattr(fig, "_crmlab_demo", None)
    moving = memo["moving"] if memo else []
    if memo and memo["blit"] and memo["background"] is not None:
        canvas.restore_region(memo["background"])
    else:
        for artist in moving:
            artist.set_animated(True)
        try:
            canvas.draw()
        finally:
            for artist in moving:
                artist.set_animated(False)
        if memo:
            memo["background"] = canvas.copy_from_bbox(fig.bbox)
    for artist in moving:
        fig.draw_artist(artist)
    width, height = canvas.get_width_height(physical=True)
    buffer = io.BytesIO()
    Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(
        buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _slider(cls: type, description: str, value: float, lo: float, hi: float, **kwargs: Any) -> Any:
    return cls(value=value, min=lo, max=hi, description=tr(description), continuous_update=True,
               style=_DESCRIPTION, layout=widgets.Layout(width="42em"), **kwargs)


# --------------------------------------------------------------------------- 07 pricing


def price_demo_data(shop: Any = None, category: str = "electronics") -> dict[str, Any]:
    """Notebook 07's product (section 1): the best seller of ``category``, its list price,
    unit cost, units per day and the planted elasticity of the category (-2 without truth).

    Parameters
    ----------
    shop : Shop, optional
        The shop to demo; default the course's (``get_shop("small", seed=42)``).
    category : str, default "electronics"
        The product category.

    Returns
    -------
    dict
        ``product_id``, ``name``, ``list_price``, ``unit_cost``, ``units_per_day``,
        ``elasticity``.
    """
    shop = _default_shop(shop)
    panel = pricing.pricing_panel(shop.price_history, shop.products)
    units_by_product = panel.groupby("product_id")["units"].sum()
    in_cat = shop.products.loc[shop.products["category"] == category, "product_id"]
    if in_cat.empty:
        cats = sorted(shop.products["category"].astype(str).unique())
        raise ValueError(f"price_demo_data: products has no category {category!r}; use one of {cats}.")
    pid = int(units_by_product.reindex(in_cat).fillna(0).idxmax())
    prod = shop.products.set_index("product_id").loc[pid]
    days_on_sale = int((panel["product_id"] == pid).sum())
    truth = getattr(shop, "truth", None) or {}
    eps = float(truth["elasticity"][category]) if category in truth.get("elasticity", {}) else -2.0
    return {"product_id": pid, "name": str(prod["name"]), "list_price": float(prod["list_price"]),
            "unit_cost": float(prod["unit_cost"]),
            "units_per_day": max(float(units_by_product.get(pid, 0)) / max(days_on_sale, 1), 0.05),
            "elasticity": eps}


def price_demo(shop: Any = None, *, category: str = "electronics", price: float | None = None,
               elasticity: float | None = None, shape: str = "constant elasticity",
               data: Mapping[str, Any] | None = None) -> Demo:
    """Price -> demand, revenue and profit for notebook 07's product (sliders: price,
    elasticity; a dropdown: the demand shape). ``data`` replaces :func:`price_demo_data`.

    Parameters
    ----------
    shop : Shop, optional
        The shop to demo; default the course's (``get_shop("small", seed=42)``).
    category : str, default "electronics"
        The category whose best seller is priced.
    price : float, optional
        The starting price; default the product's list price.
    elasticity : float, optional
        The starting elasticity; default the category's planted one.
    shape : str, default "constant elasticity"
        The demand curve's shape, one of :data:`crmlab.pricing.DEMAND_SHAPES`.
    data : Mapping, optional
        Replaces :func:`price_demo_data`.

    Returns
    -------
    Demo
        The widget: the price and elasticity sliders, the shape dropdown, chart and reading.
    """
    d = dict(data) if data is not None else price_demo_data(shop, category)
    p0 = d["list_price"]
    controls = {
        "price": _slider(widgets.FloatSlider, "price (NT$)", p0 if price is None else price,
                         round(0.5 * p0, 2), round(3 * p0, 2), step=round(p0 / 100, 2)),
        "elasticity": _slider(widgets.FloatSlider, "elasticity at list price",
                              d["elasticity"] if elasticity is None else elasticity, -5.0, -0.3,
                              step=0.05),
        "shape": widgets.Dropdown(options=[(tr(s), s) for s in pricing.DEMAND_SHAPES], value=shape,
                                  description=tr("demand shape"), style=_DESCRIPTION),
    }

    def compute(price: float, elasticity: float, shape: str) -> dict:
        return pricing.price_what_if(price, list_price=p0, unit_cost=d["unit_cost"],
                                     units_per_day=d["units_per_day"], elasticity=elasticity,
                                     shape=shape)

    def describe(r: dict) -> str:
        best = (tr("no finite best price (inelastic demand: profit rises with the price)")
                if r["optimal_price"] is None else
                tr("best price NT${price} (profit NT${profit} a day)",
                   price=f"{r['optimal_price']:,.0f}", profit=f"{r['optimal_profit']:,.0f}"))
        return tr("At NT${price} the shop sells {units} units a day: revenue NT${revenue}, profit "
                  "NT${profit} a day; {best}.", price=f"{r['price']:,.0f}", units=f"{r['units']:.2f}",
                  revenue=f"{r['revenue']:,.0f}", profit=f"{r['profit']:,.0f}", best=best)

    return Demo(tr("Price what-if: product {product_id} {name}", product_id=d.get("product_id", ""),
                   name=d.get("name", "")).strip(),
                controls, compute, plots.price_demo_chart, describe,
                plots.price_demo_chart(compute(**{k: c.value for k, c in controls.items()})))


# --------------------------------------------------------------------------- 09 support


def staffing_demo(calls_per_hour: float = 200.0, aht_seconds: float = 180.0, *,
                  agents: int = 14, target_seconds: float = 20.0,
                  target_share: float = 0.8) -> Demo:
    """Agents -> Erlang C service level and waiting time (notebook 09 section 5: 200 calls an
    hour, 3 minutes each). Sliders: agents on the phones and calls per hour.

    Parameters
    ----------
    calls_per_hour : float, default 200.0
        The starting arrival rate.
    aht_seconds : float, default 180.0
        The average handling time of a call, in seconds.
    agents : int, default 14
        The starting number of agents on the phones.
    target_seconds : float, default 20.0
        The service-level target's answer time, in seconds.
    target_share : float, default 0.8
        The share of calls that should be answered within it.

    Returns
    -------
    Demo
        The widget: agents and calls-per-hour sliders, the chart and its reading.
    """
    load = calls_per_hour * aht_seconds / 3600.0
    top = max(agents, math.floor(load) + 1) + max(8, int(2 * math.sqrt(load)) + 4)
    controls = {
        "agents": _slider(widgets.IntSlider, "agents on the phones", agents,
                          max(1, math.floor(load) - 4), top),
        "calls": _slider(widgets.FloatSlider, "calls per hour", calls_per_hour,
                         round(calls_per_hour / 4, 1), round(calls_per_hour * 1.5, 1),
                         step=max(round(calls_per_hour / 100, 1), 0.1)),
    }

    def compute(agents: int, calls: float) -> dict:
        return support.staffing_what_if(agents, calls, aht_seconds, target_seconds=target_seconds)

    def draw(r: dict, axes: Any) -> list:
        return plots.staffing_demo_chart(r, axes, target_share=target_share)

    def describe(r: dict) -> str:
        return tr("{agents} agents for {calls} calls an hour ({load} erlangs): {service_level} "
                  "answered within {target} s, {p_wait} of callers wait, average wait {asa} s, "
                  "agents busy {occupancy} of the time.", agents=r["agents"],
                  calls=f"{r['calls']:,.0f}", load=f"{r['load']:.1f}",
                  service_level=f"{r['service_level']:.1%}", target=f"{r['target_seconds']:.0f}",
                  p_wait=f"{r['p_wait']:.1%}", asa=f"{r['asa_seconds']:.1f}",
                  occupancy=f"{r['occupancy']:.0%}")

    first = compute(agents, calls_per_hour)
    return Demo(tr("Staffing what-if (Erlang C)"), controls, compute, draw, describe, draw(first, None))


# --------------------------------------------------------------------------- 02 rfm


def rfm_demo(shop: Any = None, *, recency_days: int = 90, min_orders: int = 2,
             table: pd.DataFrame | None = None) -> Demo:
    """RFM cut points -> segment sizes and revenue share (notebook 02's RFM table on the last
    day of data). Sliders: the recency cut (days) and the order cut. ``table`` replaces the
    shop's :func:`crmlab.rfm.rfm_table`.

    Parameters
    ----------
    shop : Shop, optional
        The shop to demo; default the course's (``get_shop("small", seed=42)``).
    recency_days : int, default 90
        The starting recency cut: customers who ordered within it count as recent.
    min_orders : int, default 2
        The starting order cut: customers with at least this many orders count as frequent.
    table : pd.DataFrame, optional
        An RFM table to use instead of the shop's.

    Returns
    -------
    Demo
        The widget: the two cut sliders, the chart and its reading.
    """
    if table is None:
        shop = _default_shop(shop)
        table = rfm.rfm_table(shop.orders, shop.end_ts.normalize())
    top_r = int(max(float(table["recency"].max()), recency_days, 7))
    top_f = int(min(max(float(table["frequency"].quantile(0.95)), min_orders, 2), 30))
    controls = {
        "recency_days": _slider(widgets.IntSlider, "recent = within (days)", recency_days, 0,
                                top_r, step=1),
        "min_orders": _slider(widgets.IntSlider, "frequent = orders ≥", min_orders, 1, top_f),
    }

    def compute(recency_days: int, min_orders: int) -> dict:
        return {"table": table,
                "segments": rfm.cut_point_segments(table, recency_days, min_orders)}

    def draw(r: dict, axes: Any) -> list:
        return plots.rfm_cut_chart(r["table"], r["segments"], axes)

    def describe(r: dict) -> str:
        parts = [tr("{segment}: {customers} customers ({customer_share}), {revenue_share} of revenue",
                    segment=row.segment, customers=f"{row.customers:,}",
                    customer_share=f"{row.customer_share:.0%}", revenue_share=f"{row.revenue_share:.0%}")
                 for row in r["segments"].itertuples()]
        # contexts: a bare "{segments}." would match every drawn text that ends in a period
        return tr("{segments}.", context="rfm demo",
                  segments=tr("; ", context="rfm demo").join(parts))

    first = compute(recency_days, min_orders)
    return Demo(tr("RFM cut points what-if"), controls, compute, draw, describe, draw(first, None))


# --------------------------------------------------------------------------- 08 offers


def targeting_demo_data(shop: Any = None, seed: int = 42, n_folds: int = 5) -> dict[str, Any]:
    """Notebook 08's inputs: each contact's conversion and arm, the two-model uplift score
    cross-fitted on features known at send time (section 3), and the money of section 4 (a
    held-out buyer's order margin, the coupon per treated buyer, the mean cost of a send).

    Parameters
    ----------
    shop : Shop, optional
        The shop to demo; default the course's (``get_shop("small", seed=42)``).
    seed : int, default 42
        Seed of the cross-fitting folds.
    n_folds : int, default 5
        Number of cross-fitting folds.

    Returns
    -------
    dict
        ``y``, ``treatment``, ``score`` (arrays per contact), ``value_per_conversion``,
        ``cost_per_contact``, ``cost_per_conversion``.
    """
    shop = _default_shop(shop)
    contacts, campaigns = shop.campaign_contacts, shop.campaigns
    treated = offers.treatment_flags(contacts["group"])
    features = offers.contact_features(contacts, campaigns, shop.customers, shop.orders,
                                       shop.sessions, shop.loyalty_ledger)
    X = features.drop(columns=["campaign_id", "customer_id"])
    y = contacts["converted"].to_numpy()
    folds = min(n_folds, max(2, int((~treated).sum() // 20)))
    two = offers.cross_fit_uplift(offers.TwoModelUplift(), X, y, treated,
                                  groups=contacts["customer_id"], n_splits=folds, seed=seed)
    outcomes = offers.contact_outcomes(contacts, campaigns, shop.orders, shop.order_items,
                                       shop.products)
    held = ~treated & (outcomes["n_orders"] > 0).to_numpy()
    bought_t = treated & contacts["converted"].to_numpy()
    return {"y": y, "treatment": treated, "score": two["uplift"].to_numpy(),
            "value_per_conversion": float(outcomes.loc[held, "gross_profit"].sum()
                                          / outcomes.loc[held, "n_orders"].sum()),
            "cost_per_contact": float(campaigns["cost_per_contact"].mean()),
            "cost_per_conversion": float(outcomes.loc[bought_t, "coupon_value"].sum()
                                         / max(int(bought_t.sum()), 1))}


def targeting_demo(shop: Any = None, *, threshold: float | None = None,
                   data: Mapping[str, Any] | None = None) -> Demo:
    """Targeting threshold -> incremental profit from notebook 08's uplift model. Slider: the
    smallest predicted uplift that gets a message (default: the break-even uplift, or the
    score that targets 30% of contacts when that is outside the scores' range).

    Parameters
    ----------
    shop : Shop, optional
        The shop to demo; default the course's (``get_shop("small", seed=42)``).
    threshold : float, optional
        The starting threshold; default as above.
    data : Mapping, optional
        Replaces :func:`targeting_demo_data`.

    Returns
    -------
    Demo
        The widget: the threshold slider, the chart and its reading.
    """
    d = dict(data) if data is not None else targeting_demo_data(shop)
    money = {k: d[k] for k in ("value_per_conversion", "cost_per_contact", "cost_per_conversion")}

    def compute(threshold: float) -> dict:
        return offers.targeting_profit(d["y"], d["treatment"], d["score"], threshold, **money)

    lo, hi = (float(v) for v in np.quantile(d["score"], [0.01, 0.99]))
    if threshold is None:
        be = compute(hi)["break_even"]
        threshold = be if lo <= be <= hi else float(np.quantile(d["score"], 0.7))
    step = max((hi - lo) / 200, 1e-6)
    controls = {"threshold": _slider(widgets.FloatSlider, "send if predicted uplift ≥",
                                     min(max(threshold, lo), hi), lo, hi, step=step,
                                     readout_format=".3f")}

    def describe(r: dict) -> str:
        profit = (tr("no estimate (the targeted contacts hold only one arm of the experiment)")
                  if math.isnan(r["profit"]) else
                  tr("estimated profit NT${profit}", profit=f"{r['profit']:,.0f}"))
        return tr("Threshold {threshold}: {n} contacts ({share}), {profit}; best on these data "
                  "NT${best_profit} at {best_threshold}; break-even uplift {break_even}.",
                  threshold=f"{r['threshold']:.2%}", n=f"{r['n_targeted']:,}",
                  share=f"{r['share_targeted']:.0%}", profit=profit,
                  best_profit=f"{r['best_profit']:,.0f}", best_threshold=f"{r['best_threshold']:.2%}",
                  break_even=f"{r['break_even']:.2%}")

    first = compute(controls["threshold"].value)
    return Demo(tr("Targeting what-if (uplift model)"), controls, compute, plots.targeting_demo_chart,
                describe, [plots.targeting_demo_chart(first)])


# --------------------------------------------------------------------------- 05 clv


def clv_demo_data(shop: Any = None) -> dict[str, Any]:
    """Notebook 05's daily summary (purchase days to the last day of data) and its BG/NBD fit.

    Parameters
    ----------
    shop : Shop, optional
        The shop to demo; default the course's (``get_shop("small", seed=42)``).

    Returns
    -------
    dict
        ``summary`` (:func:`crmlab.clv.summarize`, daily) and ``params`` (r, alpha, a, b).
    """
    shop = _default_shop(shop)
    summary = clv.summarize(shop.orders, freq="D", observation_end=shop.end)
    fit = clv.BetaGeoModel().fit(summary)
    return {"summary": summary, "params": fit.params_.to_dict()}


def clv_demo(shop: Any = None, *, horizon_days: float = 365.0, T: float | None = None,
             data: Mapping[str, Any] | None = None) -> Demo:
    """BG/NBD parameters -> P(alive) and expected purchases (notebook 05). Sliders (log
    scale, one decade either side of the shop's fit): r, alpha, a, b. The chart is for a
    customer seen ``T`` days (default: the longest history); the reading adds the shop's
    customers' mean P(alive) and expected purchases.

    Parameters
    ----------
    shop : Shop, optional
        The shop to demo; default the course's (``get_shop("small", seed=42)``).
    horizon_days : float, default 365.0
        The horizon of the expected purchases, in days.
    T : float, optional
        The charted customer's days since the first purchase; default the longest history.
    data : Mapping, optional
        Replaces :func:`clv_demo_data` (its ``summary`` and ``params``).

    Returns
    -------
    Demo
        The widget: four sliders, the chart and its reading.
    """
    d = dict(data) if data is not None else clv_demo_data(shop)
    summary = d["summary"]
    T_ = float(summary["T"].max()) if T is None else float(T)
    controls = {}
    for name, label in (("r", "r (rate shape)"), ("alpha", "alpha (rate scale, days)"),
                        ("a", "a (dropout)"), ("b", "b (dropout)")):
        v = float(d["params"][name])
        controls[name] = _slider(widgets.FloatLogSlider, label, v, math.log10(v) - 1,
                                 math.log10(v) + 1, base=10, step=0.01, readout_format=".3g")

    def compute(r: float, alpha: float, a: float, b: float) -> dict:
        return clv.bgnbd_what_if(r, alpha, a, b, T=T_, horizon=horizon_days, summary=summary)

    def describe(w: dict) -> str:
        p = w["params"]
        return tr("r = {r}, alpha = {alpha}, a = {a}, b = {b}: the shop's {customers} buyers are "
                  "alive with mean probability {p_alive} and expected to make {purchases} purchases "
                  "in the next {horizon} days.", r=f"{p['r']:.3g}", alpha=f"{p['alpha']:.3g}",
                  a=f"{p['a']:.3g}", b=f"{p['b']:.3g}", customers=f"{w['customers']:,}",
                  p_alive=f"{w['mean_p_alive']:.0%}", purchases=f"{w['expected_purchases']:,.0f}",
                  horizon=f"{w['horizon']:.0f}")

    first = compute(**{k: c.value for k, c in controls.items()})
    return Demo(tr("BG/NBD what-if"), controls, compute, plots.bgnbd_demo_chart, describe,
                plots.bgnbd_demo_chart(first))


# --------------------------------------------------------------------------- the demo notebooks


#: Names that moved to the course layer: name -> module. ``execute_demo_notebooks`` is a
#: maintenance command of the course (``python -m crmlab.course.demos``).
__moved_names__ = {"execute_demo_notebooks": "crmlab.course.demos"}


def __getattr__(name: str) -> object:
    """The old names of :data:`__moved_names__`, looked up in the course layer when used."""
    if name in __moved_names__:
        import importlib

        return getattr(importlib.import_module(__moved_names__[name]), name)
    raise AttributeError(f"module 'crmlab.demos' has no attribute {name!r}")
