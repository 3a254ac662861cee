"""Stage 10, reviews: who reviews (defects and late deliveries more often), the stars
(quality, satisfaction, defects) and the text's topic and sentiment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema, vocab
from ._arrays import _ts
from .orders import Orders
from .products import Products
from .returns import Returns
from .timeline import Timeline

CATS = schema.CATEGORIES


@dataclass(frozen=True)
class ReviewConfig:
    """Planted review behaviour (``truth["reviews"]`` holds each review's topic and sentiment).

    Parameters
    ----------
    base, defect, late : float
        Chance a line is reviewed: base, plus for a defect, plus for an order ``late_days`` late.
    quality_weight, quality_centre, satisfaction_weight, defect_weight, sd : float
        Latent review score = quality_weight * (quality - centre) + satisfaction_weight *
        satisfaction + defect_weight * defect + N(0, sd).
    star_cuts : tuple of float
        Cut points of the latent score for 1..5 stars.
    generic_topics : tuple of str
        Topics of reviews without a delivery, fit or defect story (drawn uniformly).
    delivery_topic, fit_topic : float
        Chance a late order's review is about delivery, a fashion/sports review about fit.
    fit_categories : tuple of str
        Categories with fit reviews.
    days_after_delivery : float
        Reviews come Exponential(mean) days after delivery.
    """

    base: float = 0.05
    defect: float = 0.25
    late: float = 0.04
    late_days: int = 3
    quality_weight: float = 1.6
    quality_centre: float = 0.8
    satisfaction_weight: float = 0.9
    defect_weight: float = -2.5
    sd: float = 0.5
    star_cuts: tuple[float, ...] = (-1.0, -0.6, -0.3, 0.1)
    generic_topics: tuple[str, ...] = ("quality", "value", "packaging", "service", "quality")
    delivery_topic: float = 0.7
    fit_topic: float = 0.5
    fit_categories: tuple[str, ...] = ("fashion", "sports")
    days_after_delivery: float = 3.0


REVIEWS = ReviewConfig()


def draw_reviews(rng: np.random.Generator, orders: Orders, products: Products, returns: Returns,
                 order_sat: np.ndarray, tl: Timeline, cfg: ReviewConfig = REVIEWS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``reviews`` table and its truth (review_id, topic, sentiment, defect)."""
    ln, o = orders.lines, orders.frame
    order, prod = ln["order"].to_numpy(), ln["prod"].to_numpy()
    defect = returns.line_defect
    delay = o["delay"].to_numpy()
    p_rev = cfg.base + cfg.defect * defect + cfg.late * (delay[order] >= cfg.late_days)
    rev = np.flatnonzero(rng.random(len(ln)) < p_rev)
    latent = cfg.quality_weight * (products.quality[prod[rev]] - cfg.quality_centre) \
        + cfg.satisfaction_weight * order_sat[order[rev]] + cfg.defect_weight * defect[rev] \
        + rng.normal(0, cfg.sd, len(rev))
    stars = 1 + np.searchsorted(np.array(cfg.star_cuts), latent)
    sentiment = np.where(stars >= 4, "pos", np.where(stars == 3, "neu", "neg"))
    late = delay[order[rev]]
    cat = products.cat[prod[rev]]
    generic = vocab.pick(rng, cfg.generic_topics, len(rev))
    fit_cats = [CATS.index(c) for c in cfg.fit_categories]
    topic = np.where(defect[rev], "defect",
                     np.where((late >= cfg.late_days) & (rng.random(len(rev)) < cfg.delivery_topic), "delivery",
                              np.where(np.isin(cat, fit_cats) & (rng.random(len(rev)) < cfg.fit_topic), "fit",
                                       generic)))
    title, text = vocab.compose_reviews(rng, topic.astype(object), sentiment.astype(object))
    day = o["delivered"].to_numpy()[order[rev]] + rng.exponential(cfg.days_after_delivery, len(rev))
    keep = day < tl.n_days
    idx = np.flatnonzero(keep)[np.argsort(day[keep], kind="stable")]
    table = pd.DataFrame({
        "review_id": np.arange(1, len(idx) + 1),
        "product_id": prod[rev][idx] + 1,
        "customer_id": o["cust"].to_numpy()[order[rev][idx]] + 1,
        "order_id": order[rev][idx] + 1,
        "ts": _ts(tl.start, day[idx]),
        "stars": stars[idx].astype(np.int64),
        "title": title.to_numpy()[idx],
        "text": text.to_numpy()[idx],
    })
    table["title"] = table["title"].astype("str")
    table["text"] = table["text"].astype("str")
    truth = pd.DataFrame({"review_id": np.arange(1, len(idx) + 1), "topic": topic[idx],
                          "sentiment": sentiment[idx], "defect": defect[rev][idx]})
    return table, truth
