"""Stages 14-15, customisation and product feedback (issue 24): paid options on order lines,
and feature requests with the product changes the shop shipped in answer.

Each draws from its own random stream (``default_rng([seed, 24, k])``), so adding them left
every earlier table unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from ._arrays import _cat, _ts
from .orders import Orders
from .products import Products
from .timeline import Timeline

CATS = schema.CATEGORIES

#: Paid customisation options: fee and cost (NT$) and the categories they apply to (None: all).
CUSTOMIZATION_OPTIONS: dict[str, tuple[float, float, tuple[str, ...] | None]] = {
    "gift_wrap": (50.0, 15.0, None),
    "engraving": (180.0, 50.0, ("electronics", "home", "sports")),
    "monogram": (150.0, 45.0, ("fashion", "kids", "books")),
    "custom_size": (350.0, 140.0, ("fashion",)),
}
#: Planted take-up: a line's chance to get an option = segment factor x option rate (x 2 for
#: gift wrap in November and December, the gift season).
CUSTOMIZATION_SEGMENT = {"vip": 1.6, "deal_seeker": 0.3, "family": 1.0, "casual": 0.7}
CUSTOMIZATION_RATE = {"gift_wrap": 0.06, "engraving": 0.05, "monogram": 0.05, "custom_size": 0.04}

#: Feature requests: theme -> (category it is about or None, phrase, requests a day per 1,000 members).
FEEDBACK_THEMES: dict[str, tuple[str | None, str, float]] = {
    "eco_packaging": (None, "less plastic in the packaging", 0.30),
    "same_day_delivery": (None, "same-day delivery in my city", 0.20),
    "larger_sizes": ("fashion", "sizes above XL", 0.15),
    "longer_battery": ("electronics", "a longer battery life", 0.12),
    "refill_packs": ("beauty", "refill packs", 0.10),
    "bulk_discount": ("grocery", "a discount for buying in bulk", 0.10),
    "wishlist_sharing": (None, "wishlist sharing in the app", 0.08),
}
#: Changes the shop shipped in answer (theme, share of the window when shipped, planted change
#: in that theme's request rate afterwards: -0.7 = 70% fewer requests; 0 = it did not help).
PRODUCT_CHANGES = (("eco_packaging", 0.55, -0.7, "Paper-only packaging for every order"),
                   ("wishlist_sharing", 0.65, 0.0, "Share-a-wishlist button in the app"))


@dataclass(frozen=True)
class CustomizationConfig:
    """Planted customisation take-up (``truth["customization"]``).

    Parameters
    ----------
    options : dict
        Option -> (fee, cost, categories or None for all): ``CUSTOMIZATION_OPTIONS``.
    segment_factor, option_rate : dict
        P(a line takes an option) = segment_factor x option_rate, independently per option.
    gift_season_months, gift_season_factor : tuple, float
        Gift wrap is that many times likelier in these months.
    stream : tuple of int
        The stage's own random stream, appended to the seed.
    """

    options: dict[str, tuple[float, float, tuple[str, ...] | None]] = field(
        default_factory=lambda: dict(CUSTOMIZATION_OPTIONS))
    segment_factor: dict[str, float] = field(default_factory=lambda: dict(CUSTOMIZATION_SEGMENT))
    option_rate: dict[str, float] = field(default_factory=lambda: dict(CUSTOMIZATION_RATE))
    gift_season_months: tuple[int, ...] = (11, 12)
    gift_season_factor: float = 2.0
    stream: tuple[int, int] = (24, 9)


@dataclass(frozen=True)
class FeedbackConfig:
    """Planted feature requests (``truth["feedback_themes"]``, ``truth["product_changes"]``).

    Parameters
    ----------
    themes : dict
        Theme -> (category or None, phrase, requests a day per 1,000 members): ``FEEDBACK_THEMES``.
        Category themes come from that category's buyers, the others from any buyer.
    changes : tuple
        (theme, share of the window when shipped, change in the theme's request rate,
        description): ``PRODUCT_CHANGES``.
    sources, source_mix : tuple
        Where a request was written, and the shares.
    openers : tuple of str
        Sentence templates around a theme's phrase.
    stream : tuple of int
        The stage's own random stream, appended to the seed.
    """

    themes: dict[str, tuple[str | None, str, float]] = field(default_factory=lambda: dict(FEEDBACK_THEMES))
    changes: tuple[tuple[str, float, float, str], ...] = PRODUCT_CHANGES
    sources: tuple[str, ...] = ("review", "ticket", "survey")
    source_mix: tuple[float, ...] = (0.4, 0.35, 0.25)
    openers: tuple[str, ...] = ("Please offer {}.", "I wish you had {}.", "Would buy more with {}.",
                                "Any plans for {}?")
    stream: tuple[int, int] = (24, 8)


CUSTOMIZATIONS = CustomizationConfig()
FEEDBACK = FeedbackConfig()


def draw_customizations(seed: int, orders: Orders, products: Products, tl: Timeline,
                        cfg: CustomizationConfig = CUSTOMIZATIONS) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The ``customizations`` table (options taken per order line) and its truth."""
    rng = np.random.default_rng([seed, *cfg.stream])
    ln, o = orders.lines, orders.frame
    order = ln["order"].to_numpy()
    seg = np.asarray(schema.SEGMENTS, dtype=object)[o["seg"].to_numpy()[order]]
    cat = np.asarray(CATS, dtype=object)[products.cat[ln["prod"].to_numpy()]]
    month = (tl.start + pd.to_timedelta(o["time"].to_numpy()[order], unit="D")).month
    factor = np.array([cfg.segment_factor[s] for s in seg])
    rows = []
    for option, (fee, cost, cats) in cfg.options.items():
        p = factor * cfg.option_rate[option]
        if option == "gift_wrap":
            p = p * np.where(np.isin(month, list(cfg.gift_season_months)), cfg.gift_season_factor, 1.0)
        if cats is not None:
            p = np.where(np.isin(cat, cats), p, 0.0)
        hit = np.flatnonzero(rng.random(len(ln)) < p)
        rows.append(pd.DataFrame({"line": hit, "option": option, "fee": fee, "cost": cost}))
    picked = pd.concat(rows, ignore_index=True).sort_values(["line", "option"], kind="stable")
    line = picked["line"].to_numpy()
    items = orders.order_items
    table = pd.DataFrame({
        "customization_id": np.arange(1, len(picked) + 1),
        "order_id": items["order_id"].to_numpy()[line],
        "line_no": items["line_no"].to_numpy()[line],
        "customer_id": o["cust"].to_numpy()[order[line]] + 1,
        "product_id": items["product_id"].to_numpy()[line],
        "option": _cat(picked["option"].to_numpy(), tuple(cfg.options)),
        "fee": picked["fee"].to_numpy(dtype="float64"),
        "cost": picked["cost"].to_numpy(dtype="float64"),
    })
    truth = {
        "segment_factor": dict(cfg.segment_factor), "option_rate": dict(cfg.option_rate),
        "gift_season_months": list(cfg.gift_season_months), "gift_season_factor": cfg.gift_season_factor,
        "options": {k: {"fee": v[0], "cost": v[1], "categories": list(v[2]) if v[2] else None}
                    for k, v in cfg.options.items()},
        "note": "P(a line takes an option) = segment_factor x option_rate (x gift_season_factor for "
                "gift_wrap in gift_season_months), 0 outside the option's categories; independent "
                "per option, so a line may take two.",
    }
    return table, truth


def _requests(rng: np.random.Generator, n_members: int, orders: Orders, products: Products, n_days: int,
              cfg: FeedbackConfig) -> pd.DataFrame:
    """Feature requests per theme: Poisson a day (changed after a shipped change), by buyers."""
    ln, o = orders.lines, orders.frame
    buyer_of = {c: np.unique(o["cust"].to_numpy()[ln["order"].to_numpy()[products.cat[ln["prod"].to_numpy()] == k]])
                for k, c in enumerate(CATS)}
    all_buyers = np.unique(o["cust"].to_numpy())
    shipped = {theme: (share * n_days, effect) for theme, share, effect, _ in cfg.changes}
    rows = []
    for theme, (cat, phrase, rate) in cfg.themes.items():
        per_day = np.full(n_days, rate * n_members / 1000.0)
        if theme in shipped:
            day0, effect = shipped[theme]
            per_day[int(np.ceil(day0)):] *= 1.0 + effect
        counts = rng.poisson(per_day)
        day = np.repeat(np.arange(n_days), counts) + rng.random(counts.sum())
        pool = buyer_of[cat] if cat is not None else all_buyers
        if len(pool) == 0 or len(day) == 0:
            continue
        cust = rng.choice(pool, len(day))
        opener = rng.choice(np.asarray(cfg.openers, dtype=object), len(day))
        rows.append(pd.DataFrame({"day": day, "cust": cust, "theme": theme, "category": cat,
                                  "source": rng.choice(np.asarray(cfg.sources, dtype=object), len(day),
                                                       p=cfg.source_mix),
                                  "text": [op.format(phrase) for op in opener]}))
    return pd.concat(rows, ignore_index=True).sort_values(["day", "theme"], kind="stable")


def draw_feedback(seed: int, n_members: int, orders: Orders, products: Products, tl: Timeline,
                  cfg: FeedbackConfig = FEEDBACK) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The ``feature_requests`` and ``product_changes`` tables and their truth entries."""
    rng = np.random.default_rng([seed, *cfg.stream])
    fb = _requests(rng, n_members, orders, products, tl.n_days, cfg)
    requests = pd.DataFrame({
        "request_id": np.arange(1, len(fb) + 1),
        "ts": _ts(tl.start, fb["day"].to_numpy()),
        "customer_id": fb["cust"].to_numpy() + 1,
        "source": _cat(fb["source"].to_numpy(), cfg.sources),
        "category": pd.Categorical(fb["category"].to_numpy(), categories=list(CATS)),
        "text": pd.array(fb["text"].to_numpy(), dtype="str"),
    })
    changes = pd.DataFrame({
        "change_id": np.arange(1, len(cfg.changes) + 1),
        "theme": pd.array([t for t, *_ in cfg.changes], dtype="str"),
        "shipped_ts": _ts(tl.start, np.array([share * tl.n_days for _, share, _, _ in cfg.changes])),
        "description": pd.array([d for *_, d in cfg.changes], dtype="str"),
    })
    truth = {
        "feature_requests": pd.DataFrame({"request_id": np.arange(1, len(fb) + 1),
                                          "theme": fb["theme"].to_numpy().astype(str)}),
        "feedback_themes": {theme: {"category": cat, "phrase": phrase, "per_day_per_1000_members": rate}
                            for theme, (cat, phrase, rate) in cfg.themes.items()},
        "product_changes": {theme: {"shipped_share_of_window": share, "rate_change": effect}
                            for theme, share, effect, _ in cfg.changes},
    }
    return requests, changes, truth
