"""``simulate()``: the stages in order, each taking what it needs and returning its tables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import schema
from .campaigns import contact_outcomes, run_campaigns
from .customers import draw_customers
from .feedback import draw_customizations, draw_feedback
from .knobs import resolve
from .leads import draw_leads
from .loyalty import draw_loyalty
from .orders import draw_orders
from .products import ChoiceModel, draw_prices, draw_products
from .purchases import draw_purchases
from .returns import draw_returns
from .reviews import draw_reviews
from .satisfaction import draw_satisfaction
from .sessions import draw_sessions
from .shop import Shop
from .social import draw_social
from .support import draw_support
from .timeline import Timeline
from .truth import build_truth, service_truth

#: Stage names in the order they run (``progress`` reports them).
ORDER_STAGES = ("customers", "products", "prices", "choice", "purchases", "campaigns", "orders")
DETAIL_STAGES = ("sessions", "returns", "support", "satisfaction", "reviews", "social", "loyalty", "leads",
                 "contacts", "customizations", "product_feedback")


class _Progress:
    """Reports each stage by name to a callback or a tqdm bar; runs it."""

    def __init__(self, progress: bool | Callable[[str], None], n_stages: int) -> None:
        self.report = progress if callable(progress) else None
        self.bar = None
        if progress is True:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=n_stages, desc="simulate", unit="stage")

    def __call__(self, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        if self.report:
            self.report(name)
        out = fn(*args)
        if self.bar is not None:
            self.bar.set_postfix_str(name)
            self.bar.update(1)
        return out

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _run(cfg: dict[str, Any], step: _Progress) -> Shop:
    """Run the stages of a resolved configuration."""
    tl = Timeline.from_config(cfg)
    rng = np.random.default_rng(cfg["seed"])
    customers = step("customers", draw_customers, rng, cfg, tl)
    products = step("products", draw_products, rng, cfg["n_products"], tl)
    prices = step("prices", draw_prices, rng, products, tl)
    choice = step("choice", ChoiceModel, products, prices, tl)
    purchases = step("purchases", draw_purchases, rng, customers, tl)
    campaigns = step("campaigns", run_campaigns, rng, cfg, customers, purchases, tl)
    orders = step("orders", draw_orders, rng, cfg, customers, products, prices, choice, campaigns, tl)
    tables = {"customers": customers.table, "products": products.table, "campaigns": campaigns.table,
              "orders": orders.orders, "order_items": orders.order_items, "price_history": orders.price_history}
    first: dict[str, Any] = {}
    survey: dict[str, Any] = {}
    services: dict[str, Any] = {}
    if cfg["detail"] == "full":
        sessions = step("sessions", draw_sessions, rng, customers, orders, choice, tl)
        orders.orders["session_id"] = sessions.order_session_id
        returns = step("returns", draw_returns, rng, cfg, orders, products, tl)
        support = step("support", draw_support, rng, cfg, customers, orders, returns, sessions, tl)
        sat = step("satisfaction", draw_satisfaction, rng, customers, orders, returns, support, tl)
        support.tickets["csat"] = sat.ticket_csat
        reviews, review_truth = step("reviews", draw_reviews, rng, orders, products, returns, sat.order_sat, tl)
        social, social_truth, social_base = step("social", draw_social, rng, customers.n, products, tl)
        ledger = step("loyalty", draw_loyalty, rng, customers, orders, tl)
        leads, lead_truth = step("leads", draw_leads, rng, customers.n, tl)
        contacts = step("contacts", contact_outcomes, rng, campaigns, orders.orders, orders.frame["time"].to_numpy())
        custom, first["customization"] = step("customizations", draw_customizations, cfg["seed"], orders, products, tl)
        requests, changes, feedback_truth = step("product_feedback", draw_feedback, cfg["seed"], cfg["n_customers"],
                                                 orders, products, tl)
        first.update(feedback_truth)
        survey = sat.truth
        services = service_truth(support.call_truth, support.faq_truth, lead_truth, review_truth, social_truth,
                                 social_base)
        tables.update({"sessions": sessions.sessions, "events": sessions.events, "returns": returns.table,
                       "faq_articles": support.faq_articles, "agents": support.agents, "tickets": support.tickets,
                       "calls": support.calls, "faq_searches": support.faq_searches, "surveys": sat.surveys,
                       "reviews": reviews, "social_mentions": social, "loyalty_ledger": ledger, "leads": leads,
                       "campaign_contacts": contacts, "customizations": custom, "feature_requests": requests,
                       "product_changes": changes})
    truth = build_truth(cfg, tl, customers, products, purchases, campaigns, orders, first, survey, services)
    order = [t for t in schema.TABLE_NAMES if t in tables]
    return Shop(tables={name: tables[name].reset_index(drop=True) for name in order}, truth=truth, config=cfg)


def simulate(
    n_customers: int | str = 2000,
    start: str = "2024-01-01",
    end: str = "2025-12-31",
    seed: int = 42,
    progress: bool | Callable[[str], None] = False,
    **knobs: Any,
) -> Shop:
    """Simulate the shop. ``n_customers`` may be a size name: "tiny", "small" or "medium".

    Knobs (defaults in ``DEFAULT_KNOBS``): ``n_products``; BG/NBD ``r, alpha`` (per day),
    ``a, b``; Gamma-Gamma ``gg_p, gg_q, gg_gamma``; ``buyer_share`` (members who ever buy);
    ``holdout_share``; ``campaign_uplift_scale`` (0 = campaigns change nothing);
    ``calls_per_day`` (background call volume, default 60 per 1,000 members a day);
    ``incident_defect_rate``; ``copurchase_attach``; ``detail`` ("full" or "orders").
    Unknown knobs and values outside their range raise ``ValueError``. The stages' own
    settings (what each plants) are the configuration objects of :mod:`crmlab.data.simulate`
    (``CustomerConfig``, ``OrderConfig``, ``SupportConfig``, ...).

    Parameters
    ----------
    n_customers : int or str, default 2000
        Number of members, or a size preset from ``SIZES`` ("tiny", "small", "medium"),
        which also sets the window and catalogue unless ``start``/``end`` are given.
    start, end : str
        First and last day of data.
    seed : int, default 42
        The random seed: the same seed and knobs give the same shop, bit for bit.
    progress : bool or callable, default False
        True shows a progress bar; a callable is called with each stage's name.
    **knobs
        Overrides of ``DEFAULT_KNOBS``.

    Returns
    -------
    Shop
        The tables (``crmlab.data.schema``), ``truth`` (what was planted) and ``config``.
    """
    cfg = resolve(n_customers, start, end, seed, knobs)
    n_stages = len(ORDER_STAGES) + (len(DETAIL_STAGES) if cfg["detail"] == "full" else 0)
    step = _Progress(progress, n_stages)
    shop = _run(cfg, step)
    step.close()
    return shop
