"""Stage 11, social mentions: everyday chatter with demand, and a negative spike about the
quality incident's product (``truth["social"]`` marks each mention's sentiment and incident)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema, vocab
from ._arrays import _codes, _ts
from .products import Products
from .timeline import Timeline


@dataclass(frozen=True)
class SocialConfig:
    """Planted social listening.

    Parameters
    ----------
    members_per_mention : float
        Everyday mentions a day: ``max(1, members / members_per_mention)`` (``truth
        ["social_base_per_day"]``) times demand weight ** ``demand_exponent``.
    sentiment_mix : tuple of float
        Shares of positive, neutral, negative everyday mentions.
    incident_lag_days, incident_ramp_days, incident_tail_days, incident_decay_days : float
        The incident's negative posts start ``lag`` days in, ramp up over ``ramp`` days, and
        decay with time constant ``decay`` for ``tail`` days after the fix.
    incident_scale, incident_extra : float
        Incident posts a day at full ramp: base * scale + extra.
    platform_mix : tuple of float
        Share of mentions per platform (``schema.PLATFORMS``).
    reach_log_mean, reach_log_sd : float
        Lognormal reach of a mention.
    """

    members_per_mention: float = 500
    demand_exponent: float = 0.7
    sentiment_mix: tuple[float, ...] = (0.5, 0.32, 0.18)
    incident_lag_days: int = 3
    incident_ramp_days: float = 7
    incident_tail_days: int = 10
    incident_decay_days: float = 4
    incident_scale: float = 2.5
    incident_extra: float = 0.5
    platform_mix: tuple[float, ...] = (0.25, 0.25, 0.15, 0.15, 0.12, 0.08)
    reach_log_mean: float = 6.0
    reach_log_sd: float = 1.4


SOCIAL = SocialConfig()


def _incident_posts(rng: np.random.Generator, base: float, products: Products, tl: Timeline,
                    cfg: SocialConfig) -> tuple[np.ndarray, np.ndarray]:
    """Days and texts of the incident's negative posts about the affected product."""
    s_day, f_day = products.incident
    inc_days = np.arange(s_day + cfg.incident_lag_days, min(f_day + cfg.incident_tail_days, tl.n_days))
    ramp = np.clip((inc_days - s_day - cfg.incident_lag_days) / cfg.incident_ramp_days, 0, 1) \
        * np.where(inc_days < f_day, 1.0, np.exp(-(inc_days - f_day) / cfg.incident_decay_days))
    n_inc = rng.poisson(base * cfg.incident_scale * ramp + cfg.incident_extra * ramp)
    i_day = np.repeat(inc_days, n_inc) + rng.random(n_inc.sum())
    name = products.table["name"].iloc[products.incident_product - 1]
    generic_name = name.split(" ", 1)[1].lower()
    i_text = vocab.pick(rng, vocab.INCIDENT_SOCIAL_TEXT, len(i_day))
    return i_day, np.array([t.format(name=generic_name) for t in i_text], dtype=object)


def draw_social(rng: np.random.Generator, n_customers: int, products: Products, tl: Timeline,
                cfg: SocialConfig = SOCIAL) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """The ``social_mentions`` table, its truth (mention_id, sentiment, incident) and the
    everyday mentions a day."""
    base = max(1.0, n_customers / cfg.members_per_mention)
    n_day = rng.poisson(base * tl.demand[: tl.n_days] ** cfg.demand_exponent)
    day = np.repeat(np.arange(tl.n_days), n_day) + rng.random(n_day.sum())
    sent = rng.choice(np.array(["pos", "neu", "neg"], dtype=object), size=len(day), p=cfg.sentiment_mix)
    text = np.empty(len(day), dtype=object)
    for s in ("pos", "neu", "neg"):
        m = np.flatnonzero(sent == s)
        text[m] = vocab.pick(rng, vocab.SOCIAL_TEXT[s], len(m))
    i_day, i_text = _incident_posts(rng, base, products, tl, cfg)
    all_day = np.r_[day, i_day]
    all_text = np.r_[text, i_text]
    all_sent = np.r_[sent, np.full(len(i_day), "neg", dtype=object)]
    all_prod = np.r_[np.full(len(day), -1), np.full(len(i_day), products.incident_product - 1)]
    srt = np.argsort(all_day, kind="stable")
    n = len(all_day)
    platform = rng.choice(len(schema.PLATFORMS), size=n, p=cfg.platform_mix)
    table = pd.DataFrame({
        "mention_id": np.arange(1, n + 1),
        "ts": _ts(tl.start, all_day[srt]),
        "platform": _codes(platform, schema.PLATFORMS),
        "product_id": pd.arrays.IntegerArray(all_prod[srt] + 1, all_prod[srt] < 0),
        "text": pd.array(all_text[srt].astype(str), dtype="str"),
        "reach": np.round(rng.lognormal(cfg.reach_log_mean, cfg.reach_log_sd, n)).astype(np.int64),
    })
    truth = pd.DataFrame({"mention_id": np.arange(1, n + 1), "sentiment": all_sent[srt],
                          "incident": np.r_[np.zeros(len(day), bool), np.ones(len(i_day), bool)][srt]})
    return table, truth, base
