"""Stage 1, customers: the latent purchase process, segment, taste and the member profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from ..calendar import sample_hours
from ._arrays import _categorical_draw, _codes, _ts
from .segments import SEGMENTS, SegmentConfig
from .timeline import Timeline

CATS = schema.CATEGORIES
Matrix = tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class CustomerConfig:
    """Signups and the member profile (planted in the ``customers`` table).

    Parameters
    ----------
    signup_growth : float
        Signup day = ``last_signup * u ** (1 / signup_growth)``: above 1, more signups later.
    signup_stop_days : int
        No signups in the last days of the window.
    first_purchase_min_days, first_purchase_mean_days : float
        A buyer's first purchase comes ``min + Exponential(mean)`` days after signup.
    age_bands : tuple of str
        Age band labels.
    age_probs, device_probs : tuple of tuples
        Age band and usual device per segment (rows: segments).
    genders, gender_probs : tuple
        Gender labels and shares.
    region_probs : tuple of float
        Share of members per region (``schema.REGIONS``).
    cities : tuple of tuples
        Cities of each region, drawn uniformly within the region.
    acquisition_source_share, marketplace_share, store_share : float
        Acquisition channel mix: the segment's traffic-source mix times
        ``acquisition_source_share``, plus marketplace and store, renormalised.
    opt_in_probs : tuple of float
        Chance a member of each segment opts into marketing.
    """

    signup_growth: float = 1.3
    signup_stop_days: int = 14
    first_purchase_min_days: float = 0.02
    first_purchase_mean_days: float = 3.0
    age_bands: tuple[str, ...] = ("18-24", "25-34", "35-44", "45-54", "55+")
    age_probs: Matrix = (
        (0.04, 0.22, 0.36, 0.26, 0.12),
        (0.30, 0.40, 0.18, 0.08, 0.04),
        (0.03, 0.30, 0.45, 0.17, 0.05),
        (0.20, 0.25, 0.20, 0.18, 0.17),
    )
    genders: tuple[str, ...] = ("female", "male", "other")
    gender_probs: tuple[float, ...] = (0.56, 0.42, 0.02)
    region_probs: tuple[float, ...] = (0.46, 0.25, 0.24, 0.05)
    cities: tuple[tuple[str, ...], ...] = (
        ("Taipei", "New Taipei", "Taoyuan", "Hsinchu", "Keelung"),
        ("Taichung", "Changhua", "Miaoli", "Nantou"),
        ("Kaohsiung", "Tainan", "Chiayi", "Pingtung"),
        ("Hualien", "Taitung", "Yilan"),
    )
    device_probs: Matrix = (  # mobile_app, mobile_web, desktop, tablet
        (0.55, 0.15, 0.25, 0.05),
        (0.35, 0.45, 0.15, 0.05),
        (0.40, 0.25, 0.25, 0.10),
        (0.15, 0.40, 0.40, 0.05),
    )
    acquisition_source_share: float = 0.85
    marketplace_share: float = 0.1
    store_share: float = 0.05
    opt_in_probs: tuple[float, ...] = (0.75, 0.85, 0.7, 0.5)


CUSTOMERS = CustomerConfig()


@dataclass(frozen=True)
class Customers:
    """What the customer stage draws: per-customer arrays (index = customer_id - 1) and the table.

    ``lam``, ``p_drop``, ``nu`` are the BG/NBD and Gamma-Gamma parameters; ``seg`` the segment
    code; ``taste`` an (n, categories) matrix; days are float days since ``start``.
    """

    seg: np.ndarray
    lam: np.ndarray
    p_drop: np.ndarray
    nu: np.ndarray
    taste: np.ndarray
    signup_day: np.ndarray
    first_day: np.ndarray
    buyer: np.ndarray
    region: np.ndarray
    age: np.ndarray
    device: np.ndarray
    opt_in: np.ndarray
    table: pd.DataFrame

    @property
    def n(self) -> int:
        """Number of customers."""
        return len(self.lam)


def _latent(rng: np.random.Generator, knobs: dict[str, Any], seg_cfg: SegmentConfig) -> dict[str, np.ndarray]:
    """Purchase rate, dropout, spend scale, segment (tied to value) and category taste."""
    n = knobs["n_customers"]
    lam = rng.gamma(knobs["r"], 1.0 / knobs["alpha"], size=n)
    p_drop = rng.beta(knobs["a"], knobs["b"], size=n)
    nu = rng.gamma(knobs["gg_q"], 1.0 / knobs["gg_gamma"], size=n)
    mean_spend = knobs["gg_p"] / nu
    value = np.log(lam) + np.log(mean_spend)
    value_z = (value - value.mean()) / (value.std() + 1e-12)
    logits = np.array(seg_cfg.intercept)[None, :] + np.array(seg_cfg.slope)[None, :] * value_z[:, None]
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    segment = _categorical_draw(rng, probs)
    taste = np.empty((n, len(CATS)))
    mean_taste = np.array(seg_cfg.taste)
    for s in range(len(seg_cfg.labels)):
        idx = np.flatnonzero(segment == s)
        taste[idx] = rng.dirichlet(mean_taste[s] * seg_cfg.taste_concentration, size=len(idx))
    return {"lam": lam, "p_drop": p_drop, "nu": nu, "seg": segment, "taste": taste}


def _signups(rng: np.random.Generator, n: int, knobs: dict[str, Any], tl: Timeline,
             cfg: CustomerConfig) -> dict[str, np.ndarray]:
    """Signups spread over the window with growth (ids follow signup order), buyers, first purchases."""
    last_signup = tl.n_days - cfg.signup_stop_days
    u = rng.random(n)
    signup_day = np.sort(last_signup * u ** (1 / cfg.signup_growth))  # more signups later (growth)
    signup_day = np.floor(signup_day) + sample_hours(rng, n) / 24.0  # time of day from the hour profile
    buyer = rng.random(n) < knobs["buyer_share"]
    # a few days of browsing first
    first_day = signup_day + cfg.first_purchase_min_days + rng.exponential(cfg.first_purchase_mean_days, size=n)
    first_day = np.minimum(first_day, tl.n_days - 1e-3)
    return {"signup_day": signup_day, "buyer": buyer, "first_day": first_day}


def _cities(rng: np.random.Generator, region: np.ndarray, cfg: CustomerConfig) -> np.ndarray:
    """A city per member, uniform within the member's region."""
    city = np.empty(len(region), dtype=object)
    for reg, names in enumerate(cfg.cities):
        m = region == reg
        city[m] = np.asarray(names, dtype=object)[rng.integers(0, len(names), m.sum())]
    return city


def _acquisition(rng: np.random.Generator, segment: np.ndarray, cfg: CustomerConfig,
                 seg_cfg: SegmentConfig) -> tuple[np.ndarray, tuple[str, ...]]:
    """Acquisition channel codes (traffic sources plus marketplace and store) and their labels."""
    n_seg = len(seg_cfg.labels)
    acq_probs = np.c_[np.array(seg_cfg.source) * cfg.acquisition_source_share,
                      np.full((n_seg, 1), cfg.marketplace_share), np.full((n_seg, 1), cfg.store_share)]
    acq_probs /= acq_probs.sum(axis=1, keepdims=True)
    return _categorical_draw(rng, acq_probs, segment), schema.TRAFFIC_SOURCES + ("marketplace", "store")


def _interests(taste: np.ndarray) -> pd.Series:
    """A member's two favourite categories as "first|second"."""
    top2 = np.argsort(-taste, axis=1)[:, :2]
    cat_arr = np.asarray(CATS, dtype=object)
    pair_labels = [f"{a}|{b}" for a in cat_arr for b in cat_arr]
    return pd.Series(pd.Categorical.from_codes(top2[:, 0] * len(CATS) + top2[:, 1], pair_labels)).astype("str")


def draw_customers(rng: np.random.Generator, knobs: dict[str, Any], tl: Timeline,
                   cfg: CustomerConfig = CUSTOMERS, seg_cfg: SegmentConfig = SEGMENTS) -> Customers:
    """Draw every customer: latent process, segment, signup, profile, and the ``customers`` table."""
    n = knobs["n_customers"]
    latent = _latent(rng, knobs, seg_cfg)
    signups = _signups(rng, n, knobs, tl, cfg)
    # Segment is independent of signup order: shuffle attributes, keep signup sorted.
    perm = rng.permutation(n)
    latent = {k: v[perm] for k, v in latent.items()}
    buyer = signups["buyer"][perm]
    segment = latent["seg"]
    age = _categorical_draw(rng, np.array(cfg.age_probs), segment)
    gender = rng.choice(3, size=n, p=cfg.gender_probs)
    region = rng.choice(4, size=n, p=cfg.region_probs)
    city = _cities(rng, region, cfg)
    device = _categorical_draw(rng, np.array(cfg.device_probs), segment)
    acq, acq_labels = _acquisition(rng, segment, cfg, seg_cfg)
    ids = np.arange(1, n + 1)
    referred = (np.asarray(acq_labels, dtype=object)[acq] == "referral") & (ids > 1)
    referrer = np.floor(rng.random(n) * (ids - 1)).astype(np.int64) + 1
    interests = _interests(latent["taste"])
    opt_in = rng.random(n) < np.array(cfg.opt_in_probs)[segment]
    table = pd.DataFrame({
        "customer_id": ids,
        "signup_ts": _ts(tl.start, signups["signup_day"]),
        "acquisition_channel": _codes(acq, acq_labels),
        "age_band": _codes(age, cfg.age_bands),
        "gender": _codes(gender, cfg.genders),
        "region": _codes(region, schema.REGIONS),
        "city": pd.Categorical(city),
        "device": _codes(device, schema.DEVICES),
        "interests": interests,
        "birth_month": rng.integers(1, 13, size=n),
        "marketing_opt_in": opt_in,
        "email": "member" + pd.Series(ids).astype("str").str.zfill(7) + "@example.com",
        "referred_by": pd.arrays.IntegerArray(np.where(referred, referrer, 0), ~referred),
    })
    return Customers(seg=segment, lam=latent["lam"], p_drop=latent["p_drop"], nu=latent["nu"],
                     taste=latent["taste"], signup_day=signups["signup_day"], first_day=signups["first_day"],
                     buyer=buyer, region=region, age=age, device=device, opt_in=opt_in, table=table)
