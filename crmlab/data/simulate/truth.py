"""``shop.truth``: what the stages planted, gathered in one dictionary (the answers every
course unit checks its methods against)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import schema, vocab
from ..calendar import peak_events
from ._arrays import _codes
from .campaigns import CAMPAIGNS, Campaigns
from .customers import Customers
from .loyalty import LOYALTY
from .orders import Orders
from .products import PRODUCTS, Products
from .purchases import Purchases
from .returns import RETURNS
from .satisfaction import SATISFACTION
from .segments import SEGMENTS
from .sessions import SESSIONS
from .timeline import FUTURE_DAYS, Timeline

LABELS = list(SEGMENTS.labels)
CATS = schema.CATEGORIES


def _process_truth(knobs: dict[str, Any], orders: Orders) -> dict[str, Any]:
    """The planted BG/NBD and Gamma-Gamma parameters."""
    ratio = orders.amount_per_budget
    return {
        "bgnbd": {"r": knobs["r"], "alpha_day": knobs["alpha"], "alpha_week": knobs["alpha"] / 7.0,
                  "a": knobs["a"], "b": knobs["b"],
                  "note": "lam ~ Gamma(r, rate alpha) per average day; dropout after each repeat purchase "
                          "with p ~ Beta(a, b); operational time (calendar weights average 1)."},
        "gamma_gamma": {"p": knobs["gg_p"], "q": knobs["gg_q"], "gamma": knobs["gg_gamma"],
                        "realised_amount_per_budget": ratio,
                        "gamma_effective": knobs["gg_gamma"] * ratio,
                        "note": "target basket value z ~ Gamma(p, rate nu), nu ~ Gamma(q, rate gamma); "
                                "the basket is filled greedily with real products up to 1.1 z (plus planted "
                                "co-purchases, minus coupons), so paid amounts track z (corr ~0.9) at "
                                "realised_amount_per_budget times its scale: compare fitted gamma with "
                                "gamma_effective = gamma * that ratio (scaling z by c scales gamma by c)."},
    }


def _choice_truth() -> dict[str, Any]:
    """Segments, taste, price response, funnel and journey mixes."""
    first_mix, later_mix = SESSIONS.journey_mixes(SEGMENTS)
    return {
        "segments": LABELS,
        "category_taste": pd.DataFrame(np.array(SEGMENTS.taste), index=LABELS, columns=list(CATS)),
        "elasticity": dict(PRODUCTS.category_elasticity),
        "elasticity_note": (
            "Planted own-price elasticity of a product's share within its category, times the buyer's "
            "segment_price_sensitivity. Baskets are filled under a budget, which adds some extra price "
            "response: regressions on price_history recover about 1.3-1.9x the planted values on the "
            "default shop; with gg_gamma very large (budgets never bind) and copurchase_attach=0 they "
            "match within ~5%."),
        "segment_price_sensitivity": dict(zip(LABELS, SEGMENTS.price_sensitivity, strict=True)),
        "funnel_rates": pd.DataFrame(np.array(SESSIONS.funnel_rates), index=list(schema.TRAFFIC_SOURCES),
                                     columns=["product_view", "add_to_cart", "begin_checkout", "purchase"]),
        "journey_first_mix": pd.DataFrame(first_mix, index=LABELS, columns=list(schema.TRAFFIC_SOURCES)),
        "journey_later_mix": pd.DataFrame(later_mix, index=LABELS, columns=list(schema.TRAFFIC_SOURCES)),
    }


def _incident_truth(knobs: dict[str, Any], products: Products, tl: Timeline) -> dict[str, Any]:
    """Co-purchase pairs, the quality incident and the return base rates."""
    s_day, f_day = products.incident
    return {
        "copurchase_pairs": [{"anchor": a, "partner": b, "attach_prob": knobs["copurchase_attach"]}
                             for a, b in products.pairs],
        "incident": {"product_id": products.incident_product,
                     "start": str((tl.start + pd.Timedelta(days=s_day)).date()),
                     "fix": str((tl.start + pd.Timedelta(days=f_day)).date()),
                     "defect_rate_during": knobs["incident_defect_rate"],
                     "defect_rate_before": float(products.defect[products.incident_product - 1]),
                     "defect_return_prob": RETURNS.defect_return_prob,
                     "defect_reason_defective_share": RETURNS.defect_reason_defective},
        "return_base_rate": dict(RETURNS.category_return_rate),
    }


def _uplift_truth(knobs: dict[str, Any], campaigns: Campaigns) -> dict[str, Any]:
    """Planted campaign uplift by segment and, when there were campaigns, each contact's effect."""
    scale = knobs["campaign_uplift_scale"]
    out: dict[str, Any] = {
        "uplift_planted": {s: float(v) * scale for s, v in zip(LABELS, np.array(CAMPAIGNS.segment_uplift),
                                                               strict=True)},
        "uplift_note": ("positive: chance a treated, alive customer makes one extra purchase in the window; "
                        "negative (casual 'sleeping dogs'): chance each organic order in the window is lost."),
    }
    if len(campaigns.ite):
        ite = campaigns.ite.copy()
        ite["segment"] = _codes(ite["segment"].to_numpy(), LABELS)
        out["uplift_by_segment"] = (ite.loc[ite["treated"]].groupby("segment", observed=True)["ite_conversion"]
                                    .mean().rename("uplift_conversion"))
        out["contact_ite"] = ite
    return out


def _customer_truth(knobs: dict[str, Any], customers: Customers, purchases: Purchases) -> pd.DataFrame:
    """One row per customer: segment, latent process, buyer, alive, future purchases, uplift, taste."""
    seg = customers.seg
    return pd.DataFrame({
        "customer_id": np.arange(1, customers.n + 1),
        "segment": _codes(seg, LABELS),
        "lam": customers.lam, "p_dropout": customers.p_drop, "nu": customers.nu,
        "mean_spend": knobs["gg_p"] / customers.nu,
        "is_buyer": customers.buyer,
        "alive_at_end": purchases.alive_at_end,
        "future_purchases": purchases.future_purchases,
        "uplift": np.clip(np.array(CAMPAIGNS.segment_uplift)[seg] * knobs["campaign_uplift_scale"], -1, 1),
        **{f"taste_{c}": customers.taste[:, i] for i, c in enumerate(CATS)},
    })


def build_truth(knobs: dict[str, Any], tl: Timeline, customers: Customers, products: Products,
                purchases: Purchases, campaigns: Campaigns, orders: Orders, first: dict[str, Any],
                survey: dict[str, Any], services: dict[str, Any]) -> dict[str, Any]:
    """The truth dictionary, its entries in their historical order.

    ``first`` holds the entries the feedback stages planted (they lead), ``survey`` the survey
    truth merged into ``satisfaction``, ``services`` the support, leads, reviews and social
    entries (empty with ``detail="orders"``).
    """
    truth = dict(first)
    truth.update(_process_truth(knobs, orders))
    truth.update(_choice_truth())
    truth.update(_incident_truth(knobs, products, tl))
    truth["satisfaction"] = {"coefficients": dict(SATISFACTION.coefficients), "noise_sd": SATISFACTION.noise_sd,
                             "segment_base": dict(zip(LABELS, SATISFACTION.segment_base, strict=True)), **survey}
    truth.update(_uplift_truth(knobs, campaigns))
    truth["calendar"] = tl.calendar.iloc[: tl.n_days].reset_index(drop=True)
    truth["peak_events"] = peak_events(tl.start, tl.end)
    truth.update(services)
    truth["loyalty"] = {"points_per_nt100": int(100 // LOYALTY.nt_per_point), "point_value_nt": LOYALTY.point_value_nt,
                        "expiry_months": LOYALTY.expiry_months,
                        "redeem_share": dict(zip(LABELS, LOYALTY.redeem_share, strict=True)),
                        "tier_thresholds_12m_spend": dict(zip(schema.TIERS[1:], LOYALTY.tier_thresholds, strict=True))}
    truth["customers"] = _customer_truth(knobs, customers, purchases)
    truth["future_days"] = FUTURE_DAYS
    return truth


def service_truth(call: dict[str, Any], faq: dict[str, Any], lead: dict[str, Any], reviews: pd.DataFrame,
                  social: pd.DataFrame, social_base: float) -> dict[str, Any]:
    """The support, leads, reviews and social entries, in their historical order."""
    return {"call": call, "faq": faq, "lead": lead, "reviews": reviews, "review_topics": list(vocab.REVIEW_TOPICS),
            "social": social, "social_base_per_day": social_base}
