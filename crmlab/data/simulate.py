"""The synthetic shop: a coherent e-commerce world with planted ground truth.

``simulate()`` builds every table of :mod:`crmlab.data.schema` from one seed, stage by
stage, vectorised over all customers at once (counts first, then times with
``np.repeat``, then attributes by indexing).  What each stage plants is kept in
``shop.truth`` so that every course unit can show a method recovering it.

Causal chain::

    latent segment -> purchase rate lam, dropout p, spend nu, category taste, price
    sensitivity, campaign uplift, channel/device habits
    -> purchase times (BG/NBD in operational time: weekday x season) -> sessions, funnel events
    -> order lines (taste, Zipf popularity x (price/list)^elasticity, co-purchase pairs)
    -> price_history.units, delivery delay, returns, loyalty ledger, reviews, tickets
    -> hidden satisfaction -> surveys; quality incident -> returns, tickets, reviews, mentions

Purchase process (the BG/NBD of Fader, Hardie & Lee 2005, planted exactly):
  * lam_i ~ Gamma(shape=r, rate=alpha) purchases per *average* day,
  * p_i ~ Beta(a, b): after every repeat purchase the customer drops out with chance p_i,
  * while alive, repeat purchases follow a Poisson process with rate lam_i in operational
    time (a clock that runs ``weight(day)`` times faster on busy days; weights average 1).
  BG/NBD fitted in calendar days therefore recovers (r, alpha) closely but not exactly;
  ``truth["bgnbd"]`` holds alpha per day and per week (alpha_day * 7).
  Campaign treatment adds incremental orders (and removes some for "sleeping dogs");
  pass ``campaign_uplift_scale=0`` for a purely organic process.

Spend: each order's target basket value z ~ Gamma(shape=p, rate=nu_i), nu_i ~ Gamma(q,
rate=gamma) (Fader & Hardie's Gamma-Gamma).  Real products are then put in the basket
until the budget is filled (an item is kept while the running total stays below the
budget plus half its price), so order amounts follow the budget closely but on a price grid.

Size presets: ``"tiny"`` (300 customers, 2024, < 1 s), ``"small"`` (2,000 customers over
2024-2025, the shipped default), ``"medium"`` (20,000).  ``detail="orders"`` builds only
customers, products, orders, order_items and price_history (for million-customer worlds).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import schema, vocab
from .calendar import (
    SUPPORT_HOUR_PROFILE,
    OperationalClock,
    daily_weights,
    peak_events,
    sample_hours,
)

SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"n_customers": 300, "start": "2024-01-01", "end": "2024-12-31", "n_products": 80},
    "small": {"n_customers": 2000, "start": "2024-01-01", "end": "2025-12-31", "n_products": 240},
    "medium": {"n_customers": 20000, "start": "2024-01-01", "end": "2025-12-31", "n_products": 400},
}

FUTURE_DAYS = 182  # 26 weeks simulated past `end`, kept only in truth

SEGMENT_LABELS = schema.SEGMENTS  # vip, deal_seeker, family, casual
CATS = schema.CATEGORIES

# Segment membership: softmax(intercept + slope * value_z) where value_z standardises
# log(lam) + log(mean spend). High-value customers tend to be "vip", low-value "casual".
SEGMENT_INTERCEPT = np.array([-1.4, 0.2, 0.1, 0.2])
SEGMENT_SLOPE = np.array([2.2, 0.0, 0.4, -1.6])

# Category taste per segment (rows: segments; columns: CATS).
TASTE = np.array([
    [0.30, 0.10, 0.08, 0.20, 0.04, 0.05, 0.18, 0.05],  # vip
    [0.05, 0.36, 0.30, 0.05, 0.10, 0.04, 0.05, 0.05],  # deal_seeker
    [0.05, 0.06, 0.05, 0.25, 0.24, 0.30, 0.03, 0.02],  # family
    [0.14, 0.10, 0.05, 0.08, 0.10, 0.03, 0.20, 0.30],  # casual
])
TASTE_CONCENTRATION = 25.0

CATEGORY_PRICE = {  # median list price, NT$
    "electronics": 1500, "fashion": 780, "beauty": 560, "home": 880,
    "grocery": 260, "kids": 650, "sports": 1150, "books": 380,
}
CATEGORY_ELASTICITY = {  # own-price elasticity of a product's share within its category
    "electronics": -2.4, "fashion": -1.9, "beauty": -1.5, "home": -1.7,
    "grocery": -1.3, "kids": -1.4, "sports": -2.0, "books": -1.2,
}
SEGMENT_PRICE_SENSITIVITY = np.array([0.6, 1.5, 1.0, 0.9])
CATEGORY_RETURN_RATE = {
    "electronics": 0.05, "fashion": 0.17, "beauty": 0.04, "home": 0.05,
    "grocery": 0.01, "kids": 0.06, "sports": 0.07, "books": 0.02,
}
SEGMENT_UPLIFT = np.array([0.01, 0.12, 0.06, -0.35])  # last: chance each organic order is lost
SEGMENT_CHANNEL = np.array([  # web, app, marketplace, store
    [0.30, 0.50, 0.05, 0.15],
    [0.25, 0.25, 0.45, 0.05],
    [0.35, 0.30, 0.15, 0.20],
    [0.50, 0.10, 0.30, 0.10],
])
SEGMENT_SOURCE = np.array([  # organic_search, paid_search, social, email, direct, referral
    [0.20, 0.10, 0.10, 0.20, 0.35, 0.05],
    [0.15, 0.25, 0.35, 0.10, 0.10, 0.05],
    [0.30, 0.15, 0.15, 0.15, 0.20, 0.05],
    [0.40, 0.20, 0.20, 0.05, 0.10, 0.05],
])
# Journey source mixes by segment (columns as TRAFFIC_SOURCES): the first visit of a purchase
# journey is discovery-heavy (search, social, referral), later visits return directly or by email.
_DISCOVERY = np.array([0.32, 0.25, 0.33, 0.0, 0.0, 0.10])
_RETURNING = np.array([0.12, 0.08, 0.08, 0.32, 0.38, 0.02])
JOURNEY_FIRST_MIX = 0.4 * SEGMENT_SOURCE + 0.6 * _DISCOVERY
JOURNEY_LATER_MIX = 0.4 * SEGMENT_SOURCE + 0.6 * _RETURNING
# Funnel step rates (visit->product_view, ->add_to_cart, ->begin_checkout, ->purchase) by source.
FUNNEL_RATES = np.array([
    [0.72, 0.30, 0.55, 0.70],  # organic_search
    [0.80, 0.26, 0.50, 0.66],  # paid_search
    [0.62, 0.22, 0.48, 0.62],  # social
    [0.85, 0.38, 0.60, 0.74],  # email
    [0.78, 0.40, 0.62, 0.78],  # direct
    [0.82, 0.36, 0.58, 0.72],  # referral
])
SEGMENT_BASE_SATISFACTION = np.array([0.8, 0.25, 0.5, 0.2])
SATISFACTION_COEF = {
    "late_days": -0.55,  # per day of delivery beyond the promise
    "returned": -0.45,
    "defect": -0.9,
    "support_contact": -0.2,
    "unresolved_ticket": -0.7,  # ticket still open 3 days after creation
}
SATISFACTION_NOISE = 0.6
DEFECT_RETURN_PROB = 0.75  # a defective line is returned with this chance ...
DEFECT_REASON_DEFECTIVE = 0.85  # ... giving "defective" as reason (else "damaged_in_transit")
REDEEM_SHARE = np.array([0.5, 0.65, 0.45, 0.15])
TIER_THRESHOLDS = (5000.0, 20000.0, 60000.0)  # 12-month spend for silver, gold, platinum


@dataclass
class Shop:
    """A bundle of the shop's tables plus ``truth``, the values the simulator planted."""

    tables: dict[str, pd.DataFrame]
    truth: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    report: pd.DataFrame | None = None  # cleaning report of real-data readers

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(
            f"Shop has no table or attribute {name!r}; tables: {sorted(tables)}"
        )

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.tables))

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.config["start"])

    @property
    def end(self) -> pd.Timestamp:
        """Last day of data (inclusive); the data end at ``end`` 23:59:59."""
        return pd.Timestamp(self.config["end"])

    @property
    def end_ts(self) -> pd.Timestamp:
        return self.end + pd.Timedelta(days=1)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v):,}" for k, v in self.tables.items())
        return f"Shop({self.config.get('start')}..{self.config.get('end')}: {sizes})"


# --------------------------------------------------------------------------- helpers

def _cat(values: Any, categories: tuple[str, ...] | list[str]) -> pd.Categorical:
    return pd.Categorical(values, categories=list(categories))


def _codes(codes: np.ndarray, categories: tuple[str, ...] | list[str]) -> pd.Categorical:
    """A categorical from integer codes into ``categories`` (fast: no string matching)."""
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=list(categories))


def _categorical_draw(rng: np.random.Generator, probs: np.ndarray, owner: np.ndarray | None = None) -> np.ndarray:
    """One categorical draw per row of a (n, k) probability matrix.

    With ``owner``, ``probs`` holds one row per owner (customer, segment) and a draw is made
    for every entry of ``owner`` without materialising an (len(owner), k) matrix: the draw is
    the count of CDF entries <= u, accumulated one CDF column at a time over chunks of draws
    (k small gathers from a contiguous column beat one (chunk, k) row gather by about 3x).
    """
    cum = np.cumsum(probs, axis=1)
    cum = cum / cum[:, -1:]
    k = probs.shape[1]
    if owner is None:
        u = rng.random(len(probs))[:, None]
        return np.minimum((u >= cum).sum(axis=1), k - 1)
    columns = np.ascontiguousarray(cum.T, dtype=np.float32)  # float32 halves the memory traffic
    owner = np.asarray(owner, dtype=np.int64)
    u = rng.random(len(owner), dtype=np.float32)
    out = np.empty(len(owner), dtype=np.int64)
    chunk = 1_000_000  # bounds the temporaries and keeps them in cache
    count_dtype = np.int16 if k < 2**15 else np.int64
    for lo in range(0, len(owner), chunk):
        who, draw = owner[lo:lo + chunk], u[lo:lo + chunk]
        count = np.zeros(len(who), dtype=count_dtype)
        for column in columns:
            count += column.take(who) <= draw
        out[lo:lo + chunk] = count
    return np.minimum(out, k - 1)


def _sorted_unique(sorted_values: np.ndarray) -> np.ndarray:
    """``np.unique`` of an already sorted array, without sorting it again."""
    if len(sorted_values) == 0:
        return sorted_values
    return sorted_values[np.r_[True, sorted_values[1:] != sorted_values[:-1]]]


def _unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` via a stable sort, which is fast on
    nearly sorted input (the simulator's keys come in order-id order)."""
    perm = np.argsort(values, kind="stable")
    ordered = values[perm]
    new = np.r_[True, ordered[1:] != ordered[:-1]] if len(values) else np.zeros(0, dtype=bool)
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[perm] = np.cumsum(new) - 1
    return ordered[new], inverse


def _group_rank(group: np.ndarray) -> np.ndarray:
    """0-based position of each element within runs of equal (sorted) group ids."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(group[1:] != group[:-1]) + 1]
    lengths = np.diff(np.r_[starts, n])
    return np.arange(n) - np.repeat(starts, lengths)


def _ts(start: pd.Timestamp, day_float: np.ndarray) -> np.ndarray:
    """Calendar timestamps from float days since start (second resolution)."""
    secs = np.round(np.asarray(day_float, dtype=float) * 86400.0).astype("int64")
    return (np.datetime64(start, "s") + secs.astype("timedelta64[s]")).astype("datetime64[ns]")


def _check_knobs(knobs: dict[str, Any]) -> None:
    ranges = {
        "n_customers": (1, 50_000_000),
        "n_products": (len(CATS) * 4, 100_000),
        "r": (1e-3, 100.0), "alpha": (1e-3, 1e6), "a": (1e-3, 100.0), "b": (1e-3, 1000.0),
        "gg_p": (0.1, 100.0), "gg_q": (1.01, 100.0), "gg_gamma": (1e-3, 1e8),
        "buyer_share": (0.0, 1.0), "holdout_share": (0.01, 0.99),
        "campaign_uplift_scale": (0.0, 5.0), "calls_per_day": (0.0, 1e5),
        "incident_defect_rate": (0.0, 1.0), "copurchase_attach": (0.0, 1.0),
    }
    for name, (lo, hi) in ranges.items():
        if name in knobs and knobs[name] is not None:
            value = knobs[name]
            if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
                raise ValueError(f"simulate(): knob {name}={value!r} must be a number in [{lo}, {hi}].")
            if not (lo <= value <= hi):
                raise ValueError(
                    f"simulate(): knob {name}={value!r} is outside its range [{lo}, {hi}]; "
                    f"pick a value inside it."
                )
    if knobs.get("detail") not in ("full", "orders"):
        raise ValueError(f"simulate(): detail={knobs.get('detail')!r} must be 'full' or 'orders'.")


# --------------------------------------------------------------------------- the world

class _World:
    """Mutable state shared by the simulation stages."""

    def __init__(self, cfg: dict[str, Any]):
        self.cfg = cfg
        self.rng = np.random.default_rng(cfg["seed"])
        self.start = pd.Timestamp(cfg["start"]).normalize()
        self.end = pd.Timestamp(cfg["end"]).normalize()
        if self.end <= self.start + pd.Timedelta(days=60):
            raise ValueError(
                f"simulate(): end={cfg['end']!r} must be at least 60 days after start={cfg['start']!r}."
            )
        self.n_days = int((self.end - self.start).days) + 1
        self.horizon_days = self.n_days + FUTURE_DAYS
        days = pd.date_range(self.start, periods=self.horizon_days, freq="D")
        self.calendar = daily_weights(days)
        self.clock = OperationalClock(self.calendar["weight"].to_numpy())
        self.tables: dict[str, pd.DataFrame] = {}
        self.truth: dict[str, Any] = {}

    def day_of(self, ts: pd.Timestamp) -> float:
        return (pd.Timestamp(ts) - self.start) / pd.Timedelta(days=1)


def _stage_customers(w: _World) -> None:
    cfg, rng = w.cfg, w.rng
    n = cfg["n_customers"]
    lam = rng.gamma(cfg["r"], 1.0 / cfg["alpha"], size=n)
    p_drop = rng.beta(cfg["a"], cfg["b"], size=n)
    nu = rng.gamma(cfg["gg_q"], 1.0 / cfg["gg_gamma"], size=n)
    mean_spend = cfg["gg_p"] / nu
    value = np.log(lam) + np.log(mean_spend)
    value_z = (value - value.mean()) / (value.std() + 1e-12)
    logits = SEGMENT_INTERCEPT[None, :] + SEGMENT_SLOPE[None, :] * value_z[:, None]
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    segment = _categorical_draw(rng, probs)
    taste = np.empty((n, len(CATS)))
    for s in range(len(SEGMENT_LABELS)):
        idx = np.flatnonzero(segment == s)
        taste[idx] = rng.dirichlet(TASTE[s] * TASTE_CONCENTRATION, size=len(idx))

    # Signups spread over the window with growth; customer ids follow signup order.
    last_signup = w.n_days - 14
    u = rng.random(n)
    signup_day = np.sort(last_signup * u ** (1 / 1.3))  # more signups later (growth)
    signup_day = np.floor(signup_day) + sample_hours(rng, n) / 24.0  # time of day from the hour profile
    buyer = rng.random(n) < cfg["buyer_share"]
    first_purchase_day = signup_day + 0.02 + rng.exponential(3.0, size=n)  # a few days of browsing first
    first_purchase_day = np.minimum(first_purchase_day, w.n_days - 1e-3)
    # Segment is independent of signup order: shuffle attributes, keep signup sorted.
    perm = rng.permutation(n)
    lam, p_drop, nu, segment, taste, buyer = lam[perm], p_drop[perm], nu[perm], segment[perm], taste[perm], buyer[perm]

    age_probs = np.array([  # 18-24, 25-34, 35-44, 45-54, 55+
        [0.04, 0.22, 0.36, 0.26, 0.12],
        [0.30, 0.40, 0.18, 0.08, 0.04],
        [0.03, 0.30, 0.45, 0.17, 0.05],
        [0.20, 0.25, 0.20, 0.18, 0.17],
    ])
    age = _categorical_draw(rng, age_probs, segment)
    gender = rng.choice(3, size=n, p=[0.56, 0.42, 0.02])
    region = rng.choice(4, size=n, p=[0.46, 0.25, 0.24, 0.05])
    cities = {
        0: ["Taipei", "New Taipei", "Taoyuan", "Hsinchu", "Keelung"],
        1: ["Taichung", "Changhua", "Miaoli", "Nantou"],
        2: ["Kaohsiung", "Tainan", "Chiayi", "Pingtung"],
        3: ["Hualien", "Taitung", "Yilan"],
    }
    city = np.empty(n, dtype=object)
    for reg, names in cities.items():
        m = region == reg
        city[m] = np.asarray(names, dtype=object)[rng.integers(0, len(names), m.sum())]
    device_probs = np.array([  # mobile_app, mobile_web, desktop, tablet
        [0.55, 0.15, 0.25, 0.05],
        [0.35, 0.45, 0.15, 0.05],
        [0.40, 0.25, 0.25, 0.10],
        [0.15, 0.40, 0.40, 0.05],
    ])
    device = _categorical_draw(rng, device_probs, segment)
    acq_probs = np.c_[SEGMENT_SOURCE * 0.85, np.full((4, 1), 0.1), np.full((4, 1), 0.05)]
    acq_probs /= acq_probs.sum(axis=1, keepdims=True)
    acq = _categorical_draw(rng, acq_probs, segment)
    acq_labels = schema.TRAFFIC_SOURCES + ("marketplace", "store")
    ids = np.arange(1, n + 1)
    referred = (np.asarray(acq_labels, dtype=object)[acq] == "referral") & (ids > 1)
    referrer = np.floor(rng.random(n) * (ids - 1)).astype(np.int64) + 1
    top2 = np.argsort(-taste, axis=1)[:, :2]
    cat_arr = np.asarray(CATS, dtype=object)
    pair_labels = [f"{a}|{b}" for a in cat_arr for b in cat_arr]
    interests = pd.Series(pd.Categorical.from_codes(top2[:, 0] * len(CATS) + top2[:, 1], pair_labels)).astype("str")
    opt_in_p = np.array([0.75, 0.85, 0.7, 0.5])[segment]

    w.seg = segment
    w.lam, w.p_drop, w.nu, w.taste = lam, p_drop, nu, taste
    w.signup_day, w.first_day, w.buyer = signup_day, first_purchase_day, buyer
    w.region = region
    w.age = age
    w.device = device
    w.opt_in = rng.random(n) < opt_in_p
    w.tables["customers"] = pd.DataFrame({
        "customer_id": ids,
        "signup_ts": _ts(w.start, signup_day),
        "acquisition_channel": _codes(acq, acq_labels),
        "age_band": _codes(age, ["18-24", "25-34", "35-44", "45-54", "55+"]),
        "gender": _codes(gender, ["female", "male", "other"]),
        "region": _codes(region, schema.REGIONS),
        "city": pd.Categorical(city),
        "device": _codes(device, schema.DEVICES),
        "interests": interests,
        "birth_month": rng.integers(1, 13, size=n),
        "marketing_opt_in": w.opt_in,
        "email": "member" + pd.Series(ids).astype("str").str.zfill(7) + "@example.com",
        "referred_by": pd.arrays.IntegerArray(np.where(referred, referrer, 0), ~referred),
    })


def _stage_products(w: _World) -> None:
    rng, n_prod = w.rng, w.cfg["n_products"]
    n_cat = len(CATS)
    cat = np.arange(n_prod) % n_cat
    cat = np.sort(cat)
    rank = _group_rank(cat) + 1
    popularity = 1.0 / rank ** 1.05
    price = np.empty(n_prod)
    for c, name in enumerate(CATS):
        m = cat == c
        price[m] = CATEGORY_PRICE[name] * np.exp(rng.normal(0, 0.55, m.sum()))
    price = np.maximum(np.round(price / 10) * 10 - 1, 19.0)
    cost = np.round(price * rng.uniform(0.42, 0.68, n_prod), 2)
    launch_day = np.where(rng.random(n_prod) < 0.18, rng.integers(30, max(31, w.n_days - 120), n_prod),
                          -rng.integers(30, 900, n_prod))
    launch_day[rank <= 3] = -400  # best sellers exist from the start
    quality = rng.beta(9, 2, n_prod)
    brands = np.array([f"{name[:4].title()}{b}" for name in CATS for b in "ABCDE"], dtype=object)
    brand = brands[cat * 5 + rng.integers(0, 5, n_prod)]
    nouns = {
        "electronics": ["Wireless Earbuds", "Smartwatch", "Power Bank", "Bluetooth Speaker", "Phone", "Phone Case",
                        "Tablet", "Charger", "Keyboard", "Monitor"],
        "fashion": ["T-Shirt", "Jeans", "Sneakers", "Dress", "Jacket", "Hoodie", "Skirt", "Scarf", "Cap", "Belt"],
        "beauty": ["Shampoo", "Conditioner", "Face Serum", "Sunscreen", "Lipstick", "Moisturiser", "Cleanser",
                   "Toner", "Face Mask", "Hand Cream"],
        "home": ["Air Fryer", "Rice Cooker", "Towel Set", "Bed Sheets", "Mug", "Storage Box", "Desk Lamp",
                 "Kettle", "Pillow", "Vacuum"],
        "grocery": ["Coffee Beans", "Green Tea", "Instant Noodles", "Olive Oil", "Granola", "Snack Box",
                    "Soy Sauce", "Dried Mango", "Honey", "Oat Milk"],
        "kids": ["Diapers", "Baby Wipes", "Building Blocks", "Plush Toy", "Kids Backpack", "Baby Bottle",
                 "Puzzle", "Crayons", "Stroller Fan", "Picture Book"],
        "sports": ["Yoga Mat", "Water Bottle", "Running Shoes", "Dumbbells", "Resistance Bands", "Sports Bra",
                   "Cycling Gloves", "Jump Rope", "Gym Bag", "Foam Roller"],
        "books": ["Novel", "Cookbook", "Travel Guide", "Comic", "Business Book", "Bookmark Set", "Notebook",
                  "Poetry", "History Book", "Science Book"],
    }
    names = np.empty(n_prod, dtype=object)
    for c, cname in enumerate(CATS):
        idx = np.flatnonzero(cat == c)
        nn = nouns[cname]
        names[idx] = [f"{brand[i]} {nn[k % len(nn)]}" + ("" if k < len(nn) else f" {k // len(nn) + 1}")
                      for k, i in enumerate(idx)]
    w.prod_cat, w.prod_pop, w.prod_price, w.prod_cost = cat, popularity, price, cost
    w.prod_launch, w.prod_quality = launch_day, quality
    w.prod_defect = 0.005 + 0.04 * (1 - quality)
    w.tables["products"] = pd.DataFrame({
        "product_id": np.arange(1, n_prod + 1),
        "name": pd.array(names.astype(str), dtype="str"),
        "category": _codes(cat, CATS),
        "brand": pd.Categorical(brand),
        "list_price": price,
        "unit_cost": cost,
        "launch_date": _ts(w.start, launch_day.astype(float)),
        "quality": quality,
    })
    # Planted co-purchase pairs: (anchor, partner) among each category's best sellers.
    pairs_spec = [("electronics", 5, 6), ("beauty", 1, 2), ("sports", 1, 2), ("kids", 1, 2),
                  ("grocery", 1, 2), ("books", 1, 6)]
    pairs = []
    for cname, ka, kb in pairs_spec:
        c = CATS.index(cname)
        idx = np.flatnonzero(cat == c)
        if len(idx) >= max(ka, kb):
            pairs.append((int(idx[ka - 1] + 1), int(idx[kb - 1] + 1)))
    # Cross-category pair: coffee beans (grocery #1) with mug (home #5).
    g, h = np.flatnonzero(cat == CATS.index("grocery")), np.flatnonzero(cat == CATS.index("home"))
    if len(g) >= 1 and len(h) >= 5:
        pairs.append((int(g[0] + 1), int(h[4] + 1)))
    w.pairs = pairs
    # Quality incident: the best-selling home appliance.
    w.incident_product = int(np.flatnonzero(cat == CATS.index("home"))[0] + 1)
    start_day = int(round(w.n_days * 0.55))
    fix_day = start_day + max(20, int(round(w.n_days * 0.07)))
    w.incident = (start_day, fix_day)


def _stage_prices(w: _World) -> None:
    """Daily prices: random product promotions plus sitewide sale days (the endogeneity trap)."""
    rng = w.rng
    n_prod, H = w.cfg["n_products"], w.horizon_days
    promo_start = rng.random((H, n_prod)) < 1 / 40
    length = rng.integers(3, 11, size=(H, n_prod))
    depth = rng.choice([0.1, 0.15, 0.2, 0.3], size=(H, n_prod))
    # A promo covers days [s, s+len); mark by the latest promo start still running.
    disc = np.zeros((H, n_prod))
    remaining = np.zeros(n_prod)
    current = np.zeros(n_prod)
    # Vectorised over products; one pass over days (H ~ 900 steps, not per customer/event).
    for d in range(H):
        new = promo_start[d]
        remaining = np.where(new, length[d], remaining - 1)
        current = np.where(new, depth[d], current)
        disc[d] = np.where(remaining > 0, current, 0.0)
    sale = w.calendar["sale_discount"].to_numpy()[:, None]
    disc = np.maximum(disc, sale * np.ones((1, n_prod)))
    price = np.round(w.prod_price[None, :] * (1 - disc), 0)
    w.price = price
    w.on_promo = disc > 0


def _build_choice_table(w: _World) -> None:
    """Global CDF for product choice per (segment, day, category), searched once per line."""
    n_seg, n_cat = len(SEGMENT_LABELS), len(CATS)
    H, n_prod = w.horizon_days, w.cfg["n_products"]
    eps = np.array([CATEGORY_ELASTICITY[c] for c in CATS])[w.prod_cat]
    rel = w.price / w.prod_price[None, :]
    launched = np.arange(H)[:, None] >= w.prod_launch[None, :]
    order = np.argsort(w.prod_cat, kind="stable")  # already sorted by category
    assert np.all(order == np.arange(n_prod))
    cdfs = np.empty((n_seg, H, n_prod))
    for s in range(n_seg):
        weight = w.prod_pop[None, :] * rel ** (eps[None, :] * SEGMENT_PRICE_SENSITIVITY[s]) * launched
        for c in range(n_cat):
            cols = np.flatnonzero(w.prod_cat == c)
            block = np.cumsum(weight[:, cols], axis=1)
            block /= block[:, -1:]
            cdfs[s][:, cols] = block
    # Offsets make one monotone array: key = (s * H + d) * n_cat + c, value = key + cdf.
    # Day-major layout: lines come sorted by day, so the searched keys are nearly sorted.
    key = (np.arange(H)[:, None, None] * n_seg + np.arange(n_seg)[None, :, None]) * n_cat + w.prod_cat[None, None, :]
    w.choice_flat = (key + np.minimum(cdfs.transpose(1, 0, 2), 1.0 - 1e-12)).ravel()
    w.choice_n = (n_seg, H, n_cat, n_prod)


def _choose_products(w: _World, seg: np.ndarray, day: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """0-based product index per line, by searching the global choice CDF."""
    n_seg, H, n_cat, n_prod = w.choice_n
    key = (day * n_seg + seg) * n_cat + cat
    pos = np.searchsorted(w.choice_flat, key + w.rng.random(len(key)) * (1 - 1e-9))
    return pos % n_prod


def _stage_purchases(w: _World) -> None:
    """Organic repeat-buying with dropout (BG/NBD) in operational time, past `end` too."""
    rng = w.rng
    n = len(w.lam)
    buyers = np.flatnonzero(w.buyer)
    first_day = w.first_day[buyers]
    op0 = w.clock.to_operational(first_day)
    op_end = w.clock.to_operational(np.array([float(w.horizon_days)]))[0]
    span = op_end - op0
    lam = w.lam[buyers]
    n_events = rng.poisson(lam * span)
    k_death = rng.geometric(w.p_drop[buyers])  # dies right after its k-th repeat purchase
    # Uniform event positions sorted within each customer: sort owner + u once (u in [0, 1)).
    slot = np.sort(np.repeat(np.arange(len(buyers), dtype=np.float64), n_events) + rng.random(int(n_events.sum())))
    owner = slot.astype(np.int64)
    u = slot - owner
    op = op0[owner] + u * span[owner]
    rank = _group_rank(owner)
    keep = rank < k_death[owner]
    owner, op, rank = owner[keep], op[keep], rank[keep]
    repeat_day = w.clock.to_calendar(op)
    # Customers alive at end: made fewer than k repeat purchases by the end of the data.
    in_window = repeat_day < w.n_days
    made = np.bincount(owner[in_window], minlength=len(buyers))
    alive_at_end = made < k_death
    future = np.bincount(owner[~in_window], minlength=len(buyers))
    # All purchases: first + repeats (customer index into all customers).
    cust = np.r_[buyers, buyers[owner]]
    day = np.r_[first_day, repeat_day]
    is_first = np.r_[np.ones(len(buyers), bool), np.zeros(len(owner), bool)]
    w.purch = pd.DataFrame({"cust": cust, "day": day, "first": is_first, "incremental": False})
    truth_alive = np.zeros(n, dtype=bool)
    truth_alive[buyers] = alive_at_end
    truth_future = np.zeros(n, dtype=np.int64)
    truth_future[buyers] = future
    w.alive_at_end, w.future_purchases = truth_alive, truth_future
    w.death_k = np.zeros(n, dtype=np.int64)
    w.death_k[buyers] = k_death


def _stage_campaigns(w: _World) -> None:
    """Monthly campaigns with a randomized holdout; treatment changes purchases in the window."""
    rng, cfg = w.rng, w.cfg
    months = pd.date_range(w.start + pd.Timedelta(days=35), w.end - pd.Timedelta(days=20), freq="MS")
    send = months + pd.Timedelta(days=4, hours=10)
    channels = ("email", "sms", "app_push", "line")
    offers = ("pct_off", "amount_off", "free_shipping", "points_x2")
    rules = ("active_90d", "lapsed_90_365d", "all_opted_in", "interest")
    cost = {"email": 0.5, "sms": 1.5, "app_push": 0.1, "line": 0.8}
    n = len(w.lam)
    purch = w.purch
    cust_arr, day_arr = purch["cust"].to_numpy(), purch["day"].to_numpy()
    camp_rows, contact_parts = [], []
    extra_orders, lost_orders = [], []
    uplift_i = np.clip(SEGMENT_UPLIFT[w.seg] * cfg["campaign_uplift_scale"] + rng.normal(0, 0.015, n)
                       * (SEGMENT_UPLIFT[w.seg] > 0) * cfg["campaign_uplift_scale"], -1.0, 1.0)
    order_idx = np.argsort(cust_arr * 1e6 + day_arr, kind="stable")
    sc, sd = cust_arr[order_idx], day_arr[order_idx]
    ite_rows = []
    skey = sc * 1e6 + sd  # (customer, day) as one sorted key
    cust_first = np.searchsorted(skey, np.arange(n) * 1e6 - 1)  # first purchase row of each customer
    for k, ts in enumerate(send, start=1):
        ch = channels[(k - 1) % 4]
        rule = rules[(k - 1) % 4]
        interest_cat = CATS[(k - 1) % len(CATS)]
        d0 = w.day_of(ts)
        window = 14
        # Last purchase before send and signup, vectorised with searchsorted on (cust, day).
        pos = np.searchsorted(skey, np.arange(n) * 1e6 + d0) - 1
        has_prev = (pos >= 0) & (sc[np.clip(pos, 0, None)] == np.arange(n))
        last_day = np.where(has_prev, sd[np.clip(pos, 0, None)], -np.inf)
        recency = d0 - last_day
        eligible = w.opt_in & (w.signup_day < d0)
        if rule == "active_90d":
            target = eligible & (recency <= 90)
            desc = "opted-in members who bought in the last 90 days"
        elif rule == "lapsed_90_365d":
            target = eligible & (recency > 90) & (recency <= 365)
            desc = "opted-in members whose last order was 90-365 days ago"
        elif rule == "all_opted_in":
            target = eligible & (rng.random(n) < 0.5)
            desc = "a random half of all opted-in members"
        else:
            target = eligible & (np.argmax(w.taste, axis=1) == CATS.index(interest_cat))
            desc = f"opted-in members whose top interest is {interest_cat}"
        ids = np.flatnonzero(target)
        if len(ids) == 0:
            continue
        treated = rng.random(len(ids)) >= cfg["holdout_share"]
        # Organic purchases in window (baseline conversion) for the targeted customers.
        lo = np.searchsorted(skey, ids * 1e6 + d0)
        hi = np.searchsorted(skey, ids * 1e6 + d0 + window)
        organic = hi - lo
        # Alive at send: customer's repeat purchases so far < death_k (or no first purchase yet excluded).
        n_before = lo - cust_first[ids]
        alive = w.buyer[ids] & ((n_before - 1) < w.death_k[ids]) & (n_before >= 1)
        tau = uplift_i[ids]
        inc = treated & alive & (tau > 0) & (rng.random(len(ids)) < np.clip(tau, 0, 1))
        extra_day = d0 + np.minimum(rng.exponential(3.0, inc.sum()), window - 0.01)
        extra_orders.append(pd.DataFrame({"cust": ids[inc], "day": extra_day, "first": False,
                                          "incremental": True}))
        # Sleeping dogs: each organic order in the window is lost with chance -tau.
        neg = treated & (tau < 0) & (organic > 0)
        lost_count = np.zeros(len(ids), dtype=np.int64)
        if neg.any():
            idx_neg = np.flatnonzero(neg)
            owners = np.repeat(idx_neg, organic[idx_neg])
            rows = lo[owners] + _group_rank(owners)
            drop = rng.random(len(rows)) < -tau[owners]
            lost_orders.append(order_idx[rows[drop]])
            lost_count = np.bincount(owners[drop], minlength=len(ids))
        conv_if_control = organic > 0
        conv_if_treated = ((organic - lost_count) > 0) | inc
        ite = conv_if_treated.astype(float) - conv_if_control.astype(float)
        ite_rows.append(pd.DataFrame({"campaign_id": k, "customer_id": ids + 1, "treated": treated,
                                      "segment": w.seg[ids], "ite_conversion": ite}))
        disc = {"pct_off": 0.15, "amount_off": 0.10, "free_shipping": 0.05, "points_x2": 0.03}[offers[(k - 1) % 4]]
        camp_rows.append((k, f"{ts:%Y-%m} {ch} {offers[(k - 1) % 4]} ({rule})", ch, offers[(k - 1) % 4], disc,
                          desc, ts, window, cost[ch], cfg["holdout_share"]))
        contact_parts.append(pd.DataFrame({"campaign_id": k, "customer_id": ids + 1, "treated": treated,
                                           "d0": d0, "window": window}))
    w.tables["campaigns"] = pd.DataFrame(camp_rows, columns=[
        "campaign_id", "name", "channel", "offer", "discount_pct", "target_rule", "send_ts", "window_days",
        "cost_per_contact", "holdout_share"])
    c = w.tables["campaigns"]
    c["name"] = c["name"].astype("str")
    c["target_rule"] = c["target_rule"].astype("str")
    c["channel"] = _cat(c["channel"], ("email", "sms", "app_push", "line"))
    c["offer"] = _cat(c["offer"], offers)
    c["send_ts"] = c["send_ts"].astype("datetime64[ns]")
    w.contacts_raw = pd.concat(contact_parts, ignore_index=True) if contact_parts else pd.DataFrame(
        columns=["campaign_id", "customer_id", "treated", "d0", "window"])
    ite = pd.concat(ite_rows, ignore_index=True) if ite_rows else pd.DataFrame()
    w.ite = ite
    if lost_orders:
        lost = np.unique(np.concatenate(lost_orders))
        purch = purch.drop(index=purch.index[lost])
    purch = pd.concat([purch] + extra_orders, ignore_index=True)
    w.purch = purch


def _stage_orders(w: _World) -> None:
    """Orders and order lines: basket budget (Gamma-Gamma) filled with chosen products."""
    rng, cfg = w.rng, w.cfg
    purch = w.purch
    purch = purch.loc[purch["day"] < w.n_days].sort_values(["day", "cust"], kind="stable").reset_index(drop=True)
    n_ord = len(purch)
    cust = purch["cust"].to_numpy()
    dayf = purch["day"].to_numpy()
    day = np.floor(dayf).astype(np.int64)
    order_time = np.maximum(day + sample_hours(rng, n_ord) / 24.0, w.signup_day[cust] + 0.01)
    day = np.floor(order_time).astype(np.int64)
    seg = w.seg[cust]
    budget = rng.gamma(cfg["gg_p"], 1.0 / w.nu[cust])
    w.budget = budget
    # Candidate lines per order, enough to fill the budget (about one per NT$400, 3..10);
    # the basket keeps those that fit.
    max_lines = 10
    n_cand = np.clip(np.ceil(budget / 400.0).astype(np.int64) + 2, 3, max_lines)
    o_rep = np.repeat(np.arange(n_ord), n_cand)
    slot = _group_rank(o_rep)
    line_cat = _categorical_draw(rng, w.taste, cust[o_rep])
    line_prod = _choose_products(w, seg[o_rep], day[o_rep], line_cat)
    qty = 1 + (rng.random(len(o_rep)) < np.where(line_cat == CATS.index("grocery"), 0.35, 0.08))
    line_price = w.price[day[o_rep], line_prod]
    value = np.full((n_ord, max_lines), np.inf)  # missing slots never fit
    value[o_rep, slot] = line_price * qty
    # Greedy fill: a candidate is kept if it still fits under the budget (+10% slack);
    # unaffordable candidates are skipped; an order keeps at least its cheapest candidate.
    cap = 1.1 * budget
    run = np.zeros(n_ord)
    keep = np.zeros((n_ord, max_lines), dtype=bool)
    for j in range(max_lines):  # one vectorised step per candidate slot
        fits = run + value[:, j] <= cap
        keep[:, j] = fits
        run += np.where(fits, value[:, j], 0.0)
    empty = ~keep.any(axis=1)
    keep[np.flatnonzero(empty), np.argmin(value[empty], axis=1)] = True
    keep = keep[o_rep, slot]
    l_order, l_prod, l_qty = o_rep[keep], line_prod[keep], qty[keep]
    # Planted co-purchase: anchor A pulls partner B into the same basket.
    attach = cfg["copurchase_attach"]
    add_o, add_p = [], []
    for a_idx, b_idx in w.pairs:
        has_a = _sorted_unique(l_order[l_prod == a_idx - 1])  # l_order is sorted here
        pull = has_a[rng.random(len(has_a)) < attach]
        add_o.append(pull)
        add_p.append(np.full(len(pull), b_idx - 1))
    if add_o:
        l_order = np.r_[l_order, np.concatenate(add_o)]
        l_prod = np.r_[l_prod, np.concatenate(add_p)]
        l_qty = np.r_[l_qty, np.ones(sum(len(x) for x in add_o), dtype=l_qty.dtype)]
    # Merge duplicate products within an order.
    key = l_order.astype(np.int64) * cfg["n_products"] + l_prod
    ukey, inv = _unique_inverse(key)
    l_qty = np.bincount(inv, weights=l_qty).astype(np.int64)
    l_order, l_prod = ukey // cfg["n_products"], ukey % cfg["n_products"]
    line_no = _group_rank(l_order) + 1
    l_day = day[l_order]
    l_list = w.price[l_day, l_prod]
    # Coupon: treated campaign contacts who buy in the window redeem with chance 0.7.
    coupon_camp = np.zeros(n_ord, dtype=np.int64)
    cr = w.contacts_raw
    if len(cr):
        camps = w.tables["campaigns"].set_index("campaign_id")
        tr = cr.loc[cr["treated"].to_numpy()]
        # For each order find a treated contact whose window covers it (latest campaign wins).
        for k, grp in tr.groupby("campaign_id", sort=True):
            d0 = grp["d0"].iloc[0]
            win = grp["window"].iloc[0]
            in_win = (dayf >= d0) & (dayf < d0 + win)
            is_member = np.zeros(len(w.lam) + 1, dtype=bool)
            is_member[grp["customer_id"].to_numpy()] = True
            member = is_member[cust + 1]
            uses = in_win & member & ((rng.random(n_ord) < 0.7) | purch["incremental"].to_numpy())
            coupon_camp[uses] = k
        disc_pct = np.zeros(n_ord)
        has = coupon_camp > 0
        disc_pct[has] = camps.loc[coupon_camp[has], "discount_pct"].to_numpy()
    else:
        disc_pct = np.zeros(n_ord)
    l_unit = np.round(l_list * (1 - disc_pct[l_order]), 2)
    l_amount = np.round(l_unit * l_qty, 2)
    amount = np.bincount(l_order, weights=l_amount, minlength=n_ord)
    w.amount_per_budget = float(amount.sum() / budget.sum()) if n_ord else 1.0
    gross = np.bincount(l_order, weights=w.prod_price[l_prod] * l_qty, minlength=n_ord)
    n_items = np.bincount(l_order, weights=l_qty, minlength=n_ord).astype(np.int64)
    channel = _categorical_draw(rng, SEGMENT_CHANNEL, seg)
    region = w.region[cust]
    promised = np.array([1, 2, 2, 3])[region]
    peak = w.calendar["weight"].to_numpy()[day] > 1.6
    delay = rng.poisson(np.array([0.25, 0.35, 0.35, 1.1])[region] + 1.4 * peak)
    delivery = np.where(channel == 3, 0, promised + delay)
    promised = np.where(channel == 3, 0, promised)
    delivered = order_time + delivery + np.where(channel == 3, 0, rng.uniform(0.1, 0.4, n_ord))
    order_id = np.arange(1, n_ord + 1)
    # copy=False: the arrays are fresh, and skipping block consolidation saves seconds at scale.
    w.ord = pd.DataFrame({"cust": cust, "day": day, "time": order_time, "seg": seg, "channel": channel,
                          "delay": delivery - promised, "delivered": delivered, "amount": amount,
                          "incremental": purch["incremental"].to_numpy(), "first": purch["first"].to_numpy()},
                         copy=False)
    w.lines = pd.DataFrame({"order": l_order, "prod": l_prod, "qty": l_qty, "amount": l_amount, "day": l_day},
                           copy=False)
    n_camp = int(coupon_camp.max()) if n_ord else 0
    coupon = pd.Series(pd.Categorical.from_codes(coupon_camp - 1, categories=[f"CRM{k}" for k in range(1, n_camp + 1)]
                                                 if n_camp else ["CRM1"])).astype("str")
    w.tables["orders"] = pd.DataFrame({
        "order_id": order_id,
        "customer_id": cust + 1,
        "order_ts": _ts(w.start, order_time),
        "channel": _codes(channel, schema.CHANNELS_ORDER),
        "session_id": pd.arrays.IntegerArray(np.zeros(n_ord, dtype=np.int64), np.ones(n_ord, bool)),
        "n_items": n_items,
        "gross_amount": np.round(gross, 2),
        "discount": np.round(np.maximum(gross - amount, 0.0), 2),
        "amount": np.round(amount, 2),
        "coupon_code": coupon,
        "campaign_id": pd.arrays.IntegerArray(coupon_camp, coupon_camp == 0),
        "promised_days": promised.astype(np.int64),
        "delivery_days": delivery.astype(np.int64),
        "delivered_ts": _ts(w.start, delivered),
    }, copy=False)
    w.tables["order_items"] = pd.DataFrame({
        "order_id": l_order + 1,
        "line_no": line_no.astype(np.int64),
        "product_id": l_prod + 1,
        "quantity": l_qty,
        "list_price": l_list,
        "unit_price": l_unit,
        "line_amount": l_amount,
    }, copy=False)
    # Price history: units = sum of order lines per product-day; stock restocked every 14 days.
    n_prod = cfg["n_products"]
    units = np.bincount(l_day * n_prod + l_prod, weights=l_qty, minlength=w.n_days * n_prod)
    units = units.astype(np.int64).reshape(w.n_days, n_prod)
    cycle = np.arange(w.n_days) // 14
    cyc_units = np.zeros((cycle.max() + 1, n_prod), dtype=np.int64)
    np.add.at(cyc_units, cycle, units)
    level = np.ceil(cyc_units * 1.25).astype(np.int64) + rng.integers(3, 12, size=cyc_units.shape)
    sold_before = np.zeros_like(units)
    for c in range(cycle.max() + 1):  # one step per 14-day cycle
        rows = np.flatnonzero(cycle == c)
        sold_before[rows] = np.cumsum(units[rows], axis=0) - units[rows]
    stock = level[cycle] - sold_before
    launched = np.arange(w.n_days)[:, None] >= w.prod_launch[None, :]
    dd, pp = np.nonzero(launched)
    w.tables["price_history"] = pd.DataFrame({
        "date": (np.datetime64(w.start, "D") + dd.astype("timedelta64[D]")).astype("datetime64[ns]"),
        "product_id": pp + 1,
        "price": w.price[dd, pp],
        "on_promotion": w.on_promo[dd, pp],
        "stock": stock[dd, pp],
        "units": units[dd, pp],
    }, copy=False)


def _stage_sessions(w: _World) -> None:
    """Sessions and events: every online order has a converting session; failed sessions
    drop off at the planted step rates of their traffic source."""
    rng = w.rng
    o = w.ord
    online = np.flatnonzero(o["channel"].to_numpy() != 3)
    seg_src = SEGMENT_SOURCE
    # Each online purchase ends a journey of visits. Visits are trials: visit t picks its traffic
    # source from JOURNEY_FIRST_MIX (t = 0: discovery channels) or JOURNEY_LATER_MIX (later
    # visits: returning channels), and converts with its source's planted funnel rate; the
    # journey ends at the first conversion. Because a visit's outcome depends only on its own
    # source, measured step rates per source equal the planted ones (Wald's identity).
    conv_cust = o["cust"].to_numpy()[online]
    rates = FUNNEL_RATES
    conv_total = rates.prod(axis=1)
    n_conv = len(online)
    seg_of = w.seg[conv_cust]
    t_owner, t_round, t_src, t_ok = [], [], [], []
    active = np.arange(n_conv)
    k = 0
    while active.size:  # one vectorised round per visit number, not per customer
        mix = JOURNEY_FIRST_MIX if k == 0 else JOURNEY_LATER_MIX
        src = _categorical_draw(rng, mix, seg_of[active])
        ok = (rng.random(len(active)) < conv_total[src]) | (k >= 400)
        t_owner.append(active)
        t_round.append(np.full(len(active), k))
        t_src.append(src)
        t_ok.append(ok)
        active = active[~ok]
        k += 1
    t_owner, t_round = np.concatenate(t_owner), np.concatenate(t_round)
    t_src, t_ok = np.concatenate(t_src), np.concatenate(t_ok)
    conv_src = np.empty(n_conv, dtype=np.int64)
    conv_src[t_owner[t_ok]] = t_src[t_ok]
    n_visits = np.bincount(t_owner, minlength=n_conv)
    fail = ~t_ok
    fail_owner, fail_round, fail_src = t_owner[fail], t_round[fail], t_src[fail]
    fail_cust = conv_cust[fail_owner]
    # Visit times spread evenly (with jitter) over the journey window: from the previous order
    # (or signup) up to the purchase, at most 30 days; so a customer's visits don't pile up.
    o_time, o_cust = o["time"].to_numpy(), o["cust"].to_numpy()
    by_cust = np.lexsort((o_time, o_cust))
    prev = np.full(len(o_time), -np.inf)
    same = o_cust[by_cust][1:] == o_cust[by_cust][:-1]
    prev[by_cust[1:][same]] = o_time[by_cust][:-1][same]
    t_hi = o_time[online]
    t_lo = np.maximum(np.maximum(prev[online], w.signup_day[conv_cust]), t_hi - 30.0)
    window = np.maximum(t_hi - t_lo, 0.0)
    frac = (fail_round + rng.uniform(0.1, 0.9, len(fail_round))) / n_visits[fail_owner]
    fail_time = t_hi[fail_owner] - window[fail_owner] * (1 - frac)
    # Browsers who never bought: a few failed sessions after signup.
    never = np.flatnonzero(~w.buyer)
    n_browse = rng.poisson(3.0, len(never))
    b_cust = np.repeat(never, n_browse)
    b_src = _categorical_draw(rng, seg_src, w.seg[b_cust])
    b_time = w.signup_day[b_cust] + rng.uniform(0, 1, len(b_cust)) * (w.n_days - 0.05 - w.signup_day[b_cust])
    f_cust = np.r_[fail_cust, b_cust]
    f_src = np.r_[fail_src, b_src]
    f_time = np.r_[fail_time, b_time]
    # Stage reached by failed sessions: P(stop at k) ∝ prod_{j<k} r_j (1 - r_k).
    r = rates[f_src]
    reach = np.c_[np.ones(len(f_src)), np.cumprod(r, axis=1)[:, :-1]]
    stop = reach * (1 - r)
    stop /= stop.sum(axis=1, keepdims=True)
    f_depth = _categorical_draw(rng, stop)  # 0 visit .. 3 checkout
    s_cust = np.r_[conv_cust, f_cust]
    s_src = np.r_[conv_src, f_src]
    s_depth = np.r_[np.full(n_conv, 4), f_depth]
    s_order = np.r_[online, np.full(len(f_cust), -1)]
    # Counts of each event type per session, in canonical order.
    n_s = len(s_cust)
    lines_per_order = np.bincount(w.lines["order"].to_numpy(), minlength=len(o))
    n_pv = np.where(s_depth >= 1, 1 + rng.poisson(1.6, n_s), 0)
    n_cart = np.where(s_depth >= 2, 1, 0)
    n_cart = np.where(s_depth == 4, lines_per_order[np.clip(s_order, 0, None)], n_cart)
    n_pv = np.maximum(n_pv, n_cart)
    counts = np.c_[
        np.ones(n_s, dtype=np.int64),  # page_view
        (rng.random(n_s) < 0.03).astype(np.int64),  # faq_view
        (rng.random(n_s) < 0.004).astype(np.int64),  # chat_start
        (rng.random(n_s) < 0.3).astype(np.int64),  # search
        n_pv,  # product_view
        (rng.random(n_s) < 0.08) & (n_pv > 0),  # favorite
        n_cart,  # add_to_cart
        (s_depth >= 3).astype(np.int64),  # begin_checkout
        (s_depth == 4).astype(np.int64),  # purchase
    ].astype(np.int64)
    type_order = np.array([0, 7, 8, 2, 1, 6, 3, 4, 5])  # index into schema.EVENT_TYPES
    # Session timing: events spaced by lognormal gaps; converting sessions end at the order.
    n_ev = counts.sum(axis=1)
    ev_sess = np.repeat(np.arange(n_s), n_ev)
    ev_type = np.repeat(np.tile(type_order, n_s), counts.ravel())
    # Gaps between a session's events: lognormal (median 35 s), capped at 20 min so that the
    # usual 30-minute inactivity rule never splits a planted session.
    gaps = np.minimum(rng.lognormal(np.log(35.0), 0.8, len(ev_sess)), 1200.0) / 86400.0
    first_of = np.r_[0, np.cumsum(n_ev)[:-1]]
    gaps[first_of] = 0.0
    cum = np.cumsum(gaps)
    offset = cum - cum[first_of][ev_sess]
    duration = offset[np.cumsum(n_ev) - 1]
    s_start = np.where(s_order >= 0, o["time"].to_numpy()[np.clip(s_order, 0, None)] - duration,
                       np.r_[np.zeros(n_conv), f_time])
    s_start = np.maximum(s_start, w.signup_day[s_cust])
    # Sort sessions by start time to number them chronologically.
    sort = np.argsort(s_start, kind="stable")
    new_id = np.empty(n_s, dtype=np.int64)
    new_id[sort] = np.arange(1, n_s + 1)
    ev_ts = s_start[ev_sess] + offset
    # Products on events: purchased lines for the converting sessions' carts, choice model otherwise.
    ev_prod = np.full(len(ev_sess), -1, dtype=np.int64)
    needs = np.isin(ev_type, [1, 3, 6])  # product_view, add_to_cart, favorite
    ev_seg = w.seg[s_cust[ev_sess]]
    ev_day = np.clip(np.floor(ev_ts).astype(np.int64), 0, w.horizon_days - 1)
    ev_cat = _categorical_draw(rng, w.taste, s_cust[ev_sess[needs]])
    ev_prod[needs] = _choose_products(w, ev_seg[needs], ev_day[needs], ev_cat)
    conv_cart = (ev_type == 3) & (s_order[ev_sess] >= 0)
    # Lines sorted by order; carts of converting sessions sorted by order id too.
    cart_idx = np.flatnonzero(conv_cart)
    cart_sorted = cart_idx[np.argsort(s_order[ev_sess[cart_idx]], kind="stable")]
    ln = w.lines
    online_lines = ln.loc[np.isin(ln["order"].to_numpy(), online)].sort_values(["order"], kind="stable")
    ev_prod[cart_sorted] = online_lines["prod"].to_numpy()
    ev_order = np.where(ev_type == 5, s_order[ev_sess], -1)  # purchase events carry the order
    sess_sorted = np.lexsort((ev_ts, new_id[ev_sess]))
    ev_sess_id = new_id[ev_sess][sess_sorted]
    events = pd.DataFrame({
        "event_id": np.arange(1, len(ev_sess) + 1),
        "session_id": ev_sess_id,
        "customer_id": s_cust[ev_sess][sess_sorted] + 1,
        "ts": _ts(w.start, ev_ts[sess_sorted]),
        "event_type": _codes(ev_type[sess_sorted], schema.EVENT_TYPES),
        "product_id": pd.arrays.IntegerArray(ev_prod[sess_sorted] + 1, ev_prod[sess_sorted] < 0),
        "order_id": pd.arrays.IntegerArray(ev_order[sess_sorted] + 1, ev_order[sess_sorted] < 0),
    })
    w.tables["events"] = events
    dev = w.device[s_cust]
    sessions = pd.DataFrame({
        "session_id": new_id,
        "customer_id": s_cust + 1,
        "start_ts": _ts(w.start, s_start),
        "end_ts": _ts(w.start, s_start + duration),
        "traffic_source": _codes(s_src, schema.TRAFFIC_SOURCES),
        "device": _codes(dev, schema.DEVICES),
        "funnel_depth": _codes(s_depth, schema.FUNNEL_STEPS),
        "n_events": n_ev,
        "converted": s_depth == 4,
    }).sort_values("session_id").reset_index(drop=True)
    w.tables["sessions"] = sessions
    sid = np.zeros(len(o), dtype=np.int64)
    sid[online] = new_id[:n_conv]
    has = np.zeros(len(o), dtype=bool)
    has[online] = True
    w.tables["orders"]["session_id"] = pd.arrays.IntegerArray(sid, ~has)
    # Abandoned carts: failed sessions that reached the cart (for marketing automation).
    w.session_chat = sessions.loc[sessions["session_id"].isin(events.loc[events["event_type"] == "chat_start", "session_id"])]


def _stage_returns(w: _World) -> None:
    rng = w.rng
    ln, o = w.lines, w.ord
    n_l = len(ln)
    prod = ln["prod"].to_numpy()
    order = ln["order"].to_numpy()
    cat = w.prod_cat[prod]
    day = ln["day"].to_numpy()
    inc_p = w.incident_product - 1
    s_day, f_day = w.incident
    defect_rate = w.prod_defect[prod].copy()
    in_incident = (prod == inc_p) & (day >= s_day) & (day < f_day)
    defect_rate[in_incident] = w.cfg["incident_defect_rate"]
    defect = rng.random(n_l) < defect_rate
    late = o["delay"].to_numpy()[order]
    base = np.array([CATEGORY_RETURN_RATE[c] for c in CATS])[cat]
    p_other = base * (1 + 0.25 * np.minimum(late, 4))
    ret_defect = defect & (rng.random(n_l) < DEFECT_RETURN_PROB)
    ret_other = ~defect & (rng.random(n_l) < p_other)
    returned = ret_defect | ret_other
    # Reasons for non-defect returns.
    fit_heavy = np.isin(cat, [CATS.index("fashion"), CATS.index("sports"), CATS.index("kids")])
    probs = np.where(fit_heavy[:, None], [[0.55, 0.0, 0.15, 0.2, 0.05, 0.05]], [[0.05, 0.0, 0.35, 0.4, 0.1, 0.1]])
    probs[late >= 3, 4] += 0.5
    probs /= probs.sum(axis=1, keepdims=True)
    reason = _categorical_draw(rng, probs)
    reason = np.where(ret_defect, np.where(rng.random(n_l) < DEFECT_REASON_DEFECTIVE, 1, 5), reason)
    idx = np.flatnonzero(returned)
    reason = reason[idx]
    exch_p = np.select([reason == 0, reason == 1], [0.55, 0.4], 0.08)
    exchange = rng.random(len(idx)) < exch_p
    req = o["delivered"].to_numpy()[order[idx]] + rng.exponential(4.0, len(idx)).clip(0.05, 30)
    proc_days = rng.lognormal(np.log(np.where(exchange, 6.0, 4.0)), 0.45)
    processed = req + proc_days
    keep = req < w.n_days
    idx, reason, exchange, req, processed = idx[keep], reason[keep], exchange[keep], req[keep], processed[keep]
    qty = ln["qty"].to_numpy()[idx]
    refund = np.where(exchange, 0.0, ln["amount"].to_numpy()[idx])
    shop_pays = np.isin(reason, [1, 2, 4, 5]) | exchange
    shipping = np.where(shop_pays, 80.0, 0.0)
    restock = np.where(np.isin(w.prod_cat[prod[idx]], [CATS.index("electronics"), CATS.index("home")]), 60.0, 25.0)
    open_ = processed >= w.n_days
    order_ids = order[idx] + 1
    line_nos = w.tables["order_items"]["line_no"].to_numpy()[idx]
    w.tables["returns"] = pd.DataFrame({
        "return_id": np.arange(1, len(idx) + 1),
        "order_id": order_ids,
        "line_no": line_nos,
        "product_id": prod[idx] + 1,
        "customer_id": o["cust"].to_numpy()[order[idx]] + 1,
        "requested_ts": _ts(w.start, req),
        "reason": _codes(reason, schema.RETURN_REASONS),
        "return_type": _cat(np.where(exchange, "exchange", "refund"), ("refund", "exchange")),
        "quantity": qty,
        "refund_amount": refund,
        "shipping_cost": shipping,
        "restocking_cost": restock,
        "processed_ts": pd.Series(_ts(w.start, processed)).where(~open_, pd.NaT),
    }).sort_values("requested_ts", kind="stable").reset_index(drop=True)
    w.tables["returns"]["return_id"] = np.arange(1, len(idx) + 1)
    # Per-order experience flags for satisfaction.
    n_o = len(o)
    w.order_defect = np.zeros(n_o, bool)
    w.order_defect[order[defect]] = True
    w.order_returned = np.zeros(n_o, bool)
    w.order_returned[order[idx]] = True
    w.line_defect = defect
    w.return_lines = pd.DataFrame({"line": idx, "order": order[idx], "reason": reason, "req": req})


def _stage_support(w: _World) -> None:
    """FAQ searches, tickets (triggered by experiences), agents and the phone queue."""
    rng, cfg = w.rng, w.cfg
    o = w.ord
    n_o = len(o)
    cats = schema.TICKET_CATEGORIES
    # Issues that may become tickets: (customer, order, day, category).
    late_o = np.flatnonzero((o["delay"].to_numpy() >= 2) & (rng.random(n_o) < 0.55))
    d_late = o["time"].to_numpy()[late_o] + o["delivered"].to_numpy()[late_o] * 0 + \
        (o["delivered"].to_numpy()[late_o] - o["time"].to_numpy()[late_o]) - o["delay"].to_numpy()[late_o] + 0.5
    rl = w.return_lines
    defect_lines = rl.loc[rl["reason"].isin([1, 5])]
    def_pick = rng.random(len(defect_lines)) < 0.65
    ret_other = rl.loc[~rl["reason"].isin([1, 5])]
    ret_pick = rng.random(len(ret_other)) < 0.25
    n_cust = len(w.lam)
    n_bg = rng.poisson(n_cust * w.n_days / 365 * 0.12)
    bg_cust = rng.integers(0, n_cust, n_bg)
    bg_day = w.signup_day[bg_cust] + rng.random(n_bg) * (w.n_days - w.signup_day[bg_cust])
    bg_cat = rng.choice([3, 4, 5], size=n_bg, p=[0.45, 0.25, 0.30])
    chat_s = w.session_chat
    chat_day = ((chat_s["start_ts"] - w.start) / pd.Timedelta(days=1)).to_numpy()
    issues = pd.DataFrame({
        "cust": np.r_[o["cust"].to_numpy()[late_o], o["cust"].to_numpy()[defect_lines["order"].to_numpy()[def_pick]],
                      o["cust"].to_numpy()[ret_other["order"].to_numpy()[ret_pick]], bg_cust,
                      chat_s["customer_id"].to_numpy() - 1],
        "order": np.r_[late_o, defect_lines["order"].to_numpy()[def_pick], ret_other["order"].to_numpy()[ret_pick],
                       np.full(n_bg, -1), np.full(len(chat_s), -1)],
        "day": np.r_[d_late, defect_lines["req"].to_numpy()[def_pick] - rng.uniform(0.1, 1.0, def_pick.sum()),
                     ret_other["req"].to_numpy()[ret_pick] + rng.uniform(1, 6, ret_pick.sum()), bg_day, chat_day],
        "cat": np.r_[np.zeros(len(late_o), int), np.ones(def_pick.sum(), int), np.full(ret_pick.sum(), 2),
                     bg_cat, np.full(len(chat_s), 5)],
        "from_chat": np.r_[np.zeros(len(late_o) + def_pick.sum() + ret_pick.sum() + n_bg, bool),
                           np.ones(len(chat_s), bool)],
    })
    issues = issues.loc[issues["day"] < w.n_days - 0.01].sort_values("day", kind="stable").reset_index(drop=True)
    n_i = len(issues)
    icat = issues["cat"].to_numpy()
    # Self-service first: some search the FAQ; articles resolve some issues (deflection).
    deflect_p = np.array([0.45, 0.08, 0.35, 0.55, 0.35, 0.5])[icat]
    searched = (rng.random(n_i) < 0.35) & ~issues["from_chat"].to_numpy()
    clicked = searched & (rng.random(n_i) < 0.75)
    deflected = clicked & (rng.random(n_i) < deflect_p / 0.75)
    ticket = ~deflected
    # Extra searches that never relate to a ticket-worthy issue (browsing help).
    n_x = rng.poisson(n_cust * w.n_days / 365 * 0.15)
    x_cust = rng.integers(0, n_cust, n_x)
    x_day = w.signup_day[x_cust] + rng.random(n_x) * (w.n_days - w.signup_day[x_cust])
    x_cat = rng.integers(0, 6, n_x)
    x_click = rng.random(n_x) < 0.6
    # Articles: two per category.
    art_rows = []
    art_id = {}
    for c, cname in enumerate(cats):
        for title, body in vocab.FAQ_ARTICLES[cname]:
            art_rows.append((len(art_rows) + 1, cname, title, body))
            art_id.setdefault(c, []).append(len(art_rows))
    faq = pd.DataFrame(art_rows, columns=["article_id", "category", "title", "body"])
    faq["category"] = _cat(faq["category"], cats)
    faq["title"] = faq["title"].astype("str")
    faq["body"] = faq["body"].astype("str")
    w.tables["faq_articles"] = faq
    # Channel of the ticket: escalated from FAQ, or chat/phone/email by age, device, category.
    cust = issues["cust"].to_numpy()
    older = w.age[cust] >= 3
    mobile = w.device[cust] <= 1
    p_chat = 0.35 + 0.2 * mobile - 0.15 * older
    p_phone = 0.2 + 0.2 * older + 0.15 * np.isin(icat, [1, 4])
    p_email = np.clip(1 - p_chat - p_phone, 0.05, None)
    chan = _categorical_draw(rng, np.c_[p_chat, p_phone, p_email] / (p_chat + p_phone + p_email)[:, None])
    chan = np.where(searched & ~deflected & (rng.random(n_i) < 0.6), 3, chan)
    chan = np.where(issues["from_chat"].to_numpy(), 0, chan)
    t_idx = np.flatnonzero(ticket)
    n_t = len(t_idx)
    t_cat, t_chan, t_cust = icat[t_idx], chan[t_idx], cust[t_idx]
    t_day = issues["day"].to_numpy()[t_idx]
    # Created time: hour from the support profile on the issue's day.
    t_created = np.floor(t_day) + sample_hours(rng, n_t, SUPPORT_HOUR_PROFILE) / 24.0
    t_created = np.maximum(t_created, t_day)
    # Phone lines open 09:00-21:00: move phone tickets into opening hours.
    hour = (t_created % 1) * 24
    phone = t_chan == 1
    t_created = np.where(phone & (hour < 9), np.floor(t_created) + (9 + rng.random(n_t) * 3) / 24, t_created)
    t_created = np.where(phone & (hour >= 21), np.floor(t_created) + 1 + (9 + rng.random(n_t) * 3) / 24, t_created)
    late_days = np.where(t_idx >= 0, 0, 0)
    order_of = issues["order"].to_numpy()[t_idx]
    late_days = np.where(order_of >= 0, o["delay"].to_numpy()[np.clip(order_of, 0, None)], 0)
    # Priority = impact x urgency.
    prio = np.select(
        [t_cat == 1, (t_cat == 0) & (late_days >= 4), t_cat == 4, t_cat == 5, t_cat == 3],
        [2, 2, 2, 0, 1], 1)
    prio = np.clip(prio + (rng.random(n_t) < 0.08) - (rng.random(n_t) < 0.08), 0, 3)
    prio = np.where((t_cat == 3) & (rng.random(n_t) < 0.1), 3, prio)
    # Agents.
    n_agents = int(max(8, round(len(w.lam) / 180)))
    n_spec = max(2, n_agents // 4)
    team = np.r_[np.zeros(n_agents - n_spec, int), np.ones(n_spec, int)]
    skills_front = "delivery|return|account|presales"
    skills_spec = "defect|billing|return|account"
    shift = np.where(np.arange(n_agents) % 3 == 2, 1, 0)
    agents = pd.DataFrame({
        "agent_id": np.arange(1, n_agents + 1),
        "name": pd.array([f"Agent {i:03d}" for i in range(1, n_agents + 1)], dtype="str"),
        "team": _cat(np.where(team == 0, "frontline", "specialist"), ("frontline", "specialist")),
        "skills": pd.array(np.where(team == 0, skills_front, skills_spec).astype(str), dtype="str"),
        "shift": _cat(np.where(shift == 0, "day", "evening"), ("day", "evening")),
        "hire_date": _ts(w.start, -rng.integers(30, 1500, n_agents).astype(float)),
    })
    w.tables["agents"] = agents
    front = np.flatnonzero(team == 0)
    spec = np.flatnonzero(team == 1)
    to_spec = np.isin(t_cat, [1, 4])
    agent = np.where(to_spec, spec[rng.integers(0, len(spec), n_t)], front[rng.integers(0, len(front), n_t)])
    # First response and resolution times (days).
    frt_median_min = np.array([1.5, 0.0, 360.0, 240.0])[t_chan]
    frt = rng.lognormal(np.log(np.maximum(frt_median_min, 0.5)), 0.7) / 1440.0
    # Email / FAQ escalations wait for office hours (09-18) when created at night.
    t_hour = (t_created % 1) * 24
    office = (t_chan >= 2) & ((t_hour < 9) | (t_hour >= 18))
    next_open = np.floor(t_created) + np.where(t_hour >= 18, 1, 0) + 9 / 24
    frt = np.where(office, next_open - t_created + frt, frt)
    res_median_h = np.array([20.0, 60.0, 80.0, 2.0, 24.0, 0.5])[t_cat] * np.array([1.3, 1.0, 0.8, 0.6])[prio]
    res = np.maximum(frt, rng.lognormal(np.log(res_median_h), 0.8) / 24.0)
    # Phone tickets: the first response is the answered call (set after the queue run).
    n_cust_all = len(w.lam)
    calls_tickets = np.flatnonzero(phone)
    # Call centre: background calls (Poisson at planted hourly rates) + the phone tickets' calls.
    open_hours = np.arange(9, 21)
    hour_w = SUPPORT_HOUR_PROFILE[open_hours] / SUPPORT_HOUR_PROFILE[open_hours].sum()
    bg_rate_day = cfg["calls_per_day"] if cfg["calls_per_day"] is not None else n_cust_all / 1000 * 60
    day_w = w.calendar["weight"].to_numpy()[: w.n_days] ** 0.5
    n_calls_day = rng.poisson(bg_rate_day * day_w)
    c_day = np.repeat(np.arange(w.n_days), n_calls_day)
    c_time = c_day + (9 + rng.choice(12, len(c_day), p=hour_w) + rng.random(len(c_day))) / 24
    last_second = (21 * 3600 - 1) / 86400  # the line closes at 21:00
    t_created[calls_tickets] = np.minimum(t_created[calls_tickets], np.floor(t_created[calls_tickets]) + last_second)
    c_time = np.minimum(c_time, np.floor(c_time) + last_second)
    call_time = np.r_[t_created[calls_tickets], c_time]
    call_ticket = np.r_[calls_tickets, np.full(len(c_time), -1)]
    call_cust = np.r_[t_cust[calls_tickets], np.where(rng.random(len(c_time)) < 0.7,
                                                      rng.integers(0, n_cust_all, len(c_time)), -1)]
    order_c = np.argsort(call_time, kind="stable")
    call_time, call_ticket, call_cust = call_time[order_c], call_ticket[order_c], call_cust[order_c]
    n_c = len(call_time)
    handle = rng.lognormal(np.log(300.0), 0.5, n_c)
    patience = rng.exponential(240.0, n_c)
    # Square-root staffing on the average busiest hour, same number of phone agents all day.
    peak_rate = (bg_rate_day * hour_w.max() + len(calls_tickets) / w.n_days / 12) / 3600.0
    load = peak_rate * np.exp(np.log(300.0) + 0.5 ** 2 / 2)
    servers = int(max(1, np.ceil(load + 0.8 * np.sqrt(load))))
    wait = np.zeros(n_c)
    abandoned = np.zeros(n_c, bool)
    server_of = np.full(n_c, -1)
    free = [(0.0, k) for k in range(servers)]
    heapq.heapify(free)
    secs = call_time * 86400.0
    # The queue is sequential by nature: one pass over calls in arrival order (FCFS, c servers).
    for i in range(n_c):
        t_free, k = free[0]
        start = max(secs[i], t_free)
        wt = start - secs[i]
        if wt > patience[i]:
            wait[i], abandoned[i] = patience[i], True
            continue
        heapq.heapreplace(free, (start + handle[i], k))
        wait[i], server_of[i] = wt, k
    handle = np.where(abandoned, 0.0, handle)
    phone_agents = front[: max(1, min(len(front), servers))]
    call_agent = np.where(server_of >= 0, phone_agents[np.clip(server_of, 0, None) % len(phone_agents)], -1)
    # Phone tickets: first response when the call is answered (or a callback within 2 h).
    pos = np.flatnonzero(call_ticket >= 0)
    tk = call_ticket[pos]
    frt[tk] = np.where(abandoned[pos], rng.uniform(0.5, 2, len(pos)) / 24, wait[pos] / 86400.0)
    agent[tk] = np.where(call_agent[pos] >= 0, call_agent[pos], agent[tk])
    res[tk] = np.maximum(res[tk], frt[tk] + handle[pos] / 86400.0)
    resolved = t_created + res
    first_resp = t_created + frt
    still_open = resolved >= w.n_days
    frt_open = first_resp >= w.n_days
    reopened = ~still_open & (rng.random(n_t) < np.where(t_cat == 1, 0.15, 0.06))
    # Ticket ids in creation order.
    t_order = np.argsort(t_created, kind="stable")
    ticket_id = np.empty(n_t, dtype=np.int64)
    ticket_id[t_order] = np.arange(1, n_t + 1)
    subj = np.empty(n_t, dtype=object)
    text = np.empty(n_t, dtype=object)
    for c, cname in enumerate(cats):
        m = np.flatnonzero(t_cat == c)
        tmpl = vocab.TICKET_TEXT[cname]
        k = rng.integers(0, len(tmpl), len(m))
        subj[m] = [tmpl[j][0] for j in k]
        text[m] = [tmpl[j][1] for j in k]
    # Experience flags used by satisfaction.
    unresolved_3d = res > 3.0
    w.ticket_info = pd.DataFrame({"cust": t_cust, "order": order_of, "created": t_created, "unresolved_3d": unresolved_3d,
                                  "res_days": res, "open": still_open, "reopened": reopened, "chan": t_chan,
                                  "ticket_id": ticket_id})
    tickets = pd.DataFrame({
        "ticket_id": ticket_id,
        "customer_id": t_cust + 1,
        "order_id": pd.arrays.IntegerArray(np.clip(order_of, 0, None) + 1, order_of < 0),
        "created_ts": _ts(w.start, t_created),
        "channel": _codes(t_chan, schema.TICKET_CHANNELS),
        "category": _codes(t_cat, cats),
        "priority": _codes(prio, schema.PRIORITIES),
        "subject": pd.array(subj.astype(str), dtype="str"),
        "text": pd.array(text.astype(str), dtype="str"),
        "agent_id": agent + 1,
        "first_response_ts": pd.Series(_ts(w.start, first_resp)).where(~frt_open, pd.NaT),
        "resolved_ts": pd.Series(_ts(w.start, resolved)).where(~still_open, pd.NaT),
        "reopened": reopened,
        "csat": pd.arrays.IntegerArray(np.ones(n_t, dtype=np.int64), np.ones(n_t, bool)),
    }).sort_values("ticket_id").reset_index(drop=True)
    w.tables["tickets"] = tickets
    keep_call = call_time < w.n_days
    call_ticket_id = np.where(call_ticket >= 0, ticket_id[np.clip(call_ticket, 0, None)], -1)
    calls = pd.DataFrame({
        "call_id": np.arange(1, keep_call.sum() + 1),
        "arrival_ts": _ts(w.start, call_time[keep_call]),
        "customer_id": pd.arrays.IntegerArray(call_cust[keep_call] + 1, call_cust[keep_call] < 0),
        "ticket_id": pd.arrays.IntegerArray(np.clip(call_ticket_id[keep_call], 0, None), call_ticket_id[keep_call] < 0),
        "wait_seconds": np.round(wait[keep_call], 1),
        "abandoned": abandoned[keep_call],
        "handle_seconds": np.round(handle[keep_call], 1),
        "agent_id": pd.arrays.IntegerArray(call_agent[keep_call] + 1, call_agent[keep_call] < 0),
    })
    w.tables["calls"] = calls
    w.call_truth = {
        "open_hours": [9, 21],
        "phone_agents": servers,
        "background_calls_per_day": float(bg_rate_day),
        "background_hour_share": {str(int(h)): float(s) for h, s in zip(open_hours, hour_w, strict=True)},
        "handle_seconds_lognormal": {"median": 300.0, "sigma": 0.5, "mean": float(np.exp(np.log(300) + 0.125))},
        "patience_seconds_mean": 240.0,
        "note": "Arrivals = background Poisson calls (daily volume x sqrt(demand weight)) + calls of phone tickets.",
    }
    # FAQ searches: issue searches (linked to a ticket when escalated) + background searches.
    s_idx = np.flatnonzero(searched)
    s_cat = np.r_[icat[s_idx], x_cat]
    n_s = len(s_cat)
    q = np.empty(n_s, dtype=object)
    for c, cname in enumerate(cats):
        m = np.flatnonzero(s_cat == c)
        q[m] = vocab.pick(rng, vocab.FAQ_QUERIES[cname], len(m))
    s_click = np.r_[clicked[s_idx], x_click]
    # Clicked article: the right category's article 80% of the time.
    right = rng.random(n_s) < 0.8
    art_cat = np.where(right, s_cat, rng.integers(0, 6, n_s))
    art = np.array([art_id[c][0] for c in range(6)])[art_cat] + rng.integers(0, 2, n_s)
    ticket_pos = np.full(len(issues), -1)
    ticket_pos[t_idx] = ticket_id
    s_ticket = np.r_[ticket_pos[s_idx], np.full(n_x, -1)]
    s_day = np.r_[issues["day"].to_numpy()[s_idx] - 0.01, x_day]
    s_cust = np.r_[cust[s_idx], x_cust]
    srt = np.argsort(s_day, kind="stable")
    w.tables["faq_searches"] = pd.DataFrame({
        "search_id": np.arange(1, n_s + 1),
        "customer_id": s_cust[srt] + 1,
        "ts": _ts(w.start, np.maximum(s_day[srt], 0)),
        "query": pd.array(q[srt].astype(str), dtype="str"),
        "intent": _codes(s_cat[srt], cats),
        "clicked_article_id": pd.arrays.IntegerArray(art[srt], ~s_click[srt]),
        "ticket_id": pd.arrays.IntegerArray(np.clip(s_ticket[srt], 0, None), s_ticket[srt] < 0),
    })
    w.faq_truth = {"deflection_prob_given_click": dict(zip(cats, (np.array([0.45, 0.08, 0.35, 0.55, 0.35, 0.5]) / 0.75).round(4).tolist(), strict=True)),
                   "search_share_of_issues": 0.35}


def _stage_satisfaction(w: _World) -> None:
    """Hidden satisfaction per order, then CSAT/NPS/CES surveys, review stars and ticket CSAT."""
    rng = w.rng
    o = w.ord
    n_o = len(o)
    ti = w.ticket_info
    contact = np.zeros(n_o, bool)
    unres = np.zeros(n_o, bool)
    has_o = ti["order"].to_numpy() >= 0
    contact[ti["order"].to_numpy()[has_o]] = True
    unres[ti["order"].to_numpy()[has_o & ti["unresolved_3d"].to_numpy()]] = True
    late = o["delay"].to_numpy().astype(float)
    cf = SATISFACTION_COEF
    sat = (SEGMENT_BASE_SATISFACTION[o["seg"].to_numpy()] + cf["late_days"] * late
           + cf["returned"] * w.order_returned + cf["defect"] * w.order_defect
           + cf["support_contact"] * contact + cf["unresolved_ticket"] * unres
           + rng.normal(0, SATISFACTION_NOISE, n_o))
    w.order_sat = sat
    cuts = np.array([-1.6, -0.9, -0.2, 0.6])
    csat_of = 1 + np.searchsorted(cuts, sat)
    # CSAT after orders: 30% invited the day after delivery; extremes answer more often.
    inv = np.flatnonzero((rng.random(n_o) < 0.3) & (o["delivered"].to_numpy() + 1 < w.n_days))
    p_resp = 0.16 + 0.12 * (np.abs(sat[inv]) > 1.0)
    resp = rng.random(len(inv)) < p_resp
    parts = [pd.DataFrame({"cust": o["cust"].to_numpy()[inv], "type": 0, "touch": 0, "order": inv, "ticket": -1,
                           "sent": o["delivered"].to_numpy()[inv] + 1, "resp": resp, "score": csat_of[inv]})]
    # CES after resolved support tickets (1..7, 7 = very easy).
    res_t = ti.loc[~ti["open"].to_numpy()]
    ease = 5.6 - 0.25 * np.log1p(res_t["res_days"].to_numpy() * 24) - 1.2 * res_t["reopened"].to_numpy() \
        - 0.5 * (res_t["chan"].to_numpy() == 3) + rng.normal(0, 0.9, len(res_t))
    ces = np.clip(np.round(ease), 1, 7).astype(int)
    inv_t = rng.random(len(res_t)) < 0.8
    sent_t = res_t["created"].to_numpy() + res_t["res_days"].to_numpy() + 0.1
    ok = inv_t & (sent_t < w.n_days)
    parts.append(pd.DataFrame({"cust": res_t["cust"].to_numpy()[ok], "type": 2, "touch": 1,
                               "order": res_t["order"].to_numpy()[ok], "ticket": res_t["ticket_id"].to_numpy()[ok],
                               "sent": sent_t[ok], "resp": rng.random(ok.sum()) < 0.25, "score": ces[ok]}))
    # Ticket CSAT column (post-ticket quick rating).
    t_sat = (SEGMENT_BASE_SATISFACTION[w.seg[ti["cust"].to_numpy()]] - 0.8 * ti["unresolved_3d"].to_numpy()
             - 0.6 * ti["reopened"].to_numpy() + rng.normal(0, 0.7, len(ti)))
    t_csat = 1 + np.searchsorted(cuts, t_sat)
    t_ans = (~ti["open"].to_numpy()) & (rng.random(len(ti)) < 0.3)
    tk = w.tables["tickets"]
    ordr = np.argsort(ti["ticket_id"].to_numpy())
    tk["csat"] = pd.arrays.IntegerArray(t_csat[ordr].astype(np.int64), ~t_ans[ordr])
    # CSAT after processed returns.
    rl = w.return_lines
    r_sat = sat[rl["order"].to_numpy()]
    r_inv = rng.random(len(rl)) < 0.5
    r_sent = rl["req"].to_numpy() + 7
    ok = r_inv & (r_sent < w.n_days)
    parts.append(pd.DataFrame({"cust": o["cust"].to_numpy()[rl["order"].to_numpy()[ok]], "type": 0, "touch": 2,
                               "order": rl["order"].to_numpy()[ok], "ticket": -1, "sent": r_sent[ok],
                               "resp": rng.random(ok.sum()) < 0.3,
                               "score": 1 + np.searchsorted(cuts, r_sat[ok] + 0.3)}))
    # Relationship NPS each quarter to 25% of members, from their recent satisfaction.
    quarters = pd.date_range(w.start + pd.Timedelta(days=80), w.end, freq="QS")
    cust_all = np.arange(len(w.lam))
    o_cust, o_day = o["cust"].to_numpy(), o["time"].to_numpy()
    for qd in quarters:
        d = w.day_of(qd) + 14
        if d >= w.n_days:
            continue
        members = cust_all[(w.signup_day < d - 30) & (rng.random(len(cust_all)) < 0.25)]
        recent = (o_day < d) & (o_day >= d - 180)
        tot = np.bincount(o_cust[recent], weights=sat[recent], minlength=len(cust_all))
        cnt = np.bincount(o_cust[recent], minlength=len(cust_all))
        x = np.where(cnt > 0, tot / np.maximum(cnt, 1), SEGMENT_BASE_SATISFACTION[w.seg] - 0.4)[members]
        nps = np.clip(np.round(7.3 + 1.9 * x + rng.normal(0, 1.1, len(members))), 0, 10).astype(int)
        parts.append(pd.DataFrame({"cust": members, "type": 1, "touch": 3, "order": -1, "ticket": -1,
                                   "sent": d + rng.random(len(members)), "resp": rng.random(len(members)) < 0.22,
                                   "score": nps}))
    sv = pd.concat(parts, ignore_index=True)
    sv = sv.sort_values("sent", kind="stable").reset_index(drop=True)
    n_sv = len(sv)
    resp = sv["resp"].to_numpy()
    score = sv["score"].to_numpy().astype(np.int64)
    typ = sv["type"].to_numpy()
    # Comments: 40% of respondents, sentiment from their score.
    pos = np.select([typ == 0, typ == 1, typ == 2], [score >= 4, score >= 9, score >= 6])
    neg = np.select([typ == 0, typ == 1, typ == 2], [score <= 2, score <= 6, score <= 3])
    sent = np.where(pos, "pos", np.where(neg, "neg", "neu"))
    comment = np.empty(n_sv, dtype=object)
    for s in ("pos", "neu", "neg"):
        m = np.flatnonzero(sent == s)
        comment[m] = vocab.pick(rng, vocab.SURVEY_COMMENTS[s], len(m))
    has_comment = resp & (rng.random(n_sv) < 0.4)
    w.tables["surveys"] = pd.DataFrame({
        "survey_id": np.arange(1, n_sv + 1),
        "customer_id": sv["cust"].to_numpy() + 1,
        "survey_type": _codes(typ, ("csat", "nps", "ces")),
        "touchpoint": _codes(sv["touch"].to_numpy(), ("order", "support", "return", "relationship")),
        "order_id": pd.arrays.IntegerArray(np.clip(sv["order"].to_numpy(), 0, None) + 1, sv["order"].to_numpy() < 0),
        "ticket_id": pd.arrays.IntegerArray(np.clip(sv["ticket"].to_numpy(), 0, None), sv["ticket"].to_numpy() < 0),
        "sent_ts": _ts(w.start, sv["sent"].to_numpy()),
        "responded": resp,
        "score": pd.arrays.IntegerArray(score, ~resp),
        "comment": pd.Series(comment.astype(str), dtype="str").where(has_comment, None),
    })
    w.survey_truth = {"csat_cut_points": cuts.tolist(), "nps_formula": "round(7.3 + 1.9 * mean recent satisfaction + N(0, 1.1)), clipped to 0..10",
                      "response_bias": "order CSAT: respondents with |satisfaction| > 1 answer with 0.28 vs 0.16"}


def _stage_reviews(w: _World) -> None:
    rng = w.rng
    ln, o = w.lines, w.ord
    n_l = len(ln)
    order = ln["order"].to_numpy()
    prod = ln["prod"].to_numpy()
    defect = w.line_defect
    p_rev = 0.05 + 0.25 * defect + 0.04 * (o["delay"].to_numpy()[order] >= 3)
    rev = np.flatnonzero(rng.random(n_l) < p_rev)
    sat = w.order_sat[order[rev]]
    latent = 1.6 * (w.prod_quality[prod[rev]] - 0.8) + 0.9 * sat - 2.5 * defect[rev] + rng.normal(0, 0.5, len(rev))
    cuts = np.array([-1.0, -0.6, -0.3, 0.1])
    stars = 1 + np.searchsorted(cuts, latent)
    sentiment = np.where(stars >= 4, "pos", np.where(stars == 3, "neu", "neg"))
    late = o["delay"].to_numpy()[order[rev]]
    cat = w.prod_cat[prod[rev]]
    generic = vocab.pick(rng, ("quality", "value", "packaging", "service", "quality"), len(rev))
    topic = np.where(defect[rev], "defect",
                     np.where((late >= 3) & (rng.random(len(rev)) < 0.7), "delivery",
                              np.where(np.isin(cat, [1, 6]) & (rng.random(len(rev)) < 0.5), "fit", generic)))
    title, text = vocab.compose_reviews(rng, topic.astype(object), sentiment.astype(object))
    day = o["delivered"].to_numpy()[order[rev]] + rng.exponential(3.0, len(rev))
    keep = day < w.n_days
    srt = np.argsort(day[keep], kind="stable")
    idx = np.flatnonzero(keep)[srt]
    w.tables["reviews"] = pd.DataFrame({
        "review_id": np.arange(1, len(idx) + 1),
        "product_id": prod[rev][idx] + 1,
        "customer_id": o["cust"].to_numpy()[order[rev][idx]] + 1,
        "order_id": order[rev][idx] + 1,
        "ts": _ts(w.start, day[idx]),
        "stars": stars[idx].astype(np.int64),
        "title": title.to_numpy()[idx],
        "text": text.to_numpy()[idx],
    })
    w.tables["reviews"]["title"] = w.tables["reviews"]["title"].astype("str")
    w.tables["reviews"]["text"] = w.tables["reviews"]["text"].astype("str")
    w.review_truth = pd.DataFrame({"review_id": np.arange(1, len(idx) + 1), "topic": topic[idx],
                                   "sentiment": sentiment[idx], "defect": defect[rev][idx]})


def _stage_social(w: _World) -> None:
    rng = w.rng
    base = max(1.0, len(w.lam) / 500)
    n_day = rng.poisson(base * w.calendar["weight"].to_numpy()[: w.n_days] ** 0.7)
    day = np.repeat(np.arange(w.n_days), n_day) + rng.random(n_day.sum())
    sent = rng.choice(np.array(["pos", "neu", "neg"], dtype=object), size=len(day), p=[0.5, 0.32, 0.18])
    text = np.empty(len(day), dtype=object)
    for s in ("pos", "neu", "neg"):
        m = np.flatnonzero(sent == s)
        text[m] = vocab.pick(rng, vocab.SOCIAL_TEXT[s], len(m))
    prod = np.full(len(day), -1)
    # Incident spike: negative posts about the affected product, starting a few days in.
    s_day, f_day = w.incident
    inc_days = np.arange(s_day + 3, min(f_day + 10, w.n_days))
    ramp = np.clip((inc_days - s_day - 3) / 7, 0, 1) * np.where(inc_days < f_day, 1.0,
                                                                 np.exp(-(inc_days - f_day) / 4))
    n_inc = rng.poisson(base * 2.5 * ramp + 0.5 * ramp)
    i_day = np.repeat(inc_days, n_inc) + rng.random(n_inc.sum())
    name = w.tables["products"]["name"].iloc[w.incident_product - 1]
    generic_name = name.split(" ", 1)[1].lower()
    i_text = vocab.pick(rng, vocab.INCIDENT_SOCIAL_TEXT, len(i_day))
    i_text = np.array([t.format(name=generic_name) for t in i_text], dtype=object)
    all_day = np.r_[day, i_day]
    all_text = np.r_[text, i_text]
    all_sent = np.r_[sent, np.full(len(i_day), "neg", dtype=object)]
    all_prod = np.r_[prod, np.full(len(i_day), w.incident_product - 1)]
    srt = np.argsort(all_day, kind="stable")
    n = len(all_day)
    platform = rng.choice(len(schema.PLATFORMS), size=n, p=[0.25, 0.25, 0.15, 0.15, 0.12, 0.08])
    w.tables["social_mentions"] = pd.DataFrame({
        "mention_id": np.arange(1, n + 1),
        "ts": _ts(w.start, all_day[srt]),
        "platform": _codes(platform, schema.PLATFORMS),
        "product_id": pd.arrays.IntegerArray(all_prod[srt] + 1, all_prod[srt] < 0),
        "text": pd.array(all_text[srt].astype(str), dtype="str"),
        "reach": np.round(rng.lognormal(6.0, 1.4, n)).astype(np.int64),
    })
    w.social_truth = pd.DataFrame({"mention_id": np.arange(1, n + 1), "sentiment": all_sent[srt],
                                   "incident": np.r_[np.zeros(len(day), bool), np.ones(len(i_day), bool)][srt]})
    w.social_base_per_day = base


def _stage_loyalty(w: _World) -> None:
    """Earn 1 point per NT$100 paid at delivery; each earn lot is redeemed later or expires at 12 months."""
    rng = w.rng
    o = w.ord
    amt = w.tables["orders"]["amount"].to_numpy()
    pts = np.floor(amt / 100).astype(np.int64)
    earn_day = np.minimum(o["delivered"].to_numpy(), w.n_days - 1e-3)
    m = pts > 0
    e_cust, e_day, e_pts, e_order = o["cust"].to_numpy()[m], earn_day[m], pts[m], np.flatnonzero(m)
    redeem = rng.random(len(e_cust)) < REDEEM_SHARE[w.seg[e_cust]]
    r_day = e_day + rng.exponential(120.0, len(e_cust))
    redeemed = redeem & (r_day < e_day + 365) & (r_day < w.n_days)
    expired = ~(redeem & (r_day < e_day + 365)) & (e_day + 365 < w.n_days)
    parts = [
        pd.DataFrame({"cust": e_cust, "day": e_day, "type": 0, "points": e_pts, "order": e_order, "tier": -1}),
        pd.DataFrame({"cust": e_cust[redeemed], "day": r_day[redeemed], "type": 1, "points": -e_pts[redeemed],
                      "order": -1, "tier": -1}),
        pd.DataFrame({"cust": e_cust[expired], "day": e_day[expired] + 365, "type": 2, "points": -e_pts[expired],
                      "order": -1, "tier": -1}),
    ]
    # Tiers: evaluated on the 1st of each month from trailing 12-month spend.
    month_starts = pd.date_range(w.start, w.end, freq="MS")
    md = np.array([w.day_of(t) for t in month_starts])
    n_c = len(w.lam)
    o_month = np.searchsorted(md, o["time"].to_numpy(), side="right") - 1
    spend = np.zeros((n_c, len(md)))
    np.add.at(spend, (o["cust"].to_numpy(), o_month), amt)
    cum = np.cumsum(spend, axis=1)
    trailing = cum - np.c_[np.zeros((n_c, 12)), cum[:, :-12]][:, : len(md)] if len(md) > 12 else cum
    # Tier at month k uses spend of the 12 months before month k.
    prev = np.c_[np.zeros((n_c, 1)), trailing[:, :-1]]
    tier = np.searchsorted(np.array(TIER_THRESHOLDS), prev, side="right")
    change = np.c_[tier[:, :1] != 0, tier[:, 1:] != tier[:, :-1]]
    cc, mm = np.nonzero(change)
    parts.append(pd.DataFrame({"cust": cc, "day": md[mm], "type": 3, "points": 0, "order": -1, "tier": tier[cc, mm]}))
    led = pd.concat(parts, ignore_index=True).sort_values(["day", "cust"], kind="stable").reset_index(drop=True)
    order = led["order"].to_numpy()
    tr = led["tier"].to_numpy()
    w.tables["loyalty_ledger"] = pd.DataFrame({
        "entry_id": np.arange(1, len(led) + 1),
        "customer_id": led["cust"].to_numpy() + 1,
        "ts": _ts(w.start, led["day"].to_numpy()),
        "entry_type": _codes(led["type"].to_numpy(), ("earn", "redeem", "expire", "tier_change")),
        "points": led["points"].to_numpy().astype(np.int64),
        "order_id": pd.arrays.IntegerArray(np.clip(order, 0, None) + 1, order < 0),
        "tier": _cat(np.where(tr >= 0, np.asarray(schema.TIERS, dtype=object)[np.clip(tr, 0, None)], None), schema.TIERS),
    })


def _stage_leads(w: _World) -> None:
    rng = w.rng
    n = int(max(40, len(w.lam) // 10))
    owners = np.array(["Chen", "Lin", "Huang", "Wang", "Wu"], dtype=object)
    skill = np.array([1.2, 1.05, 1.0, 0.85, 0.7])
    stage_p = np.array([0.9, 0.6, 0.7, 0.6, 0.55])  # new->contacted->qualified->proposal->negotiation->won
    gap_mean = np.array([1.0, 5.0, 7.0, 10.0, 12.0])
    created = np.sort(rng.uniform(0, w.n_days - 1, n))
    owner = rng.integers(0, len(owners), n)
    size = rng.choice(3, n, p=[0.5, 0.35, 0.15])
    value = np.round(rng.lognormal(np.log(np.array([30000, 90000, 300000])[size]), 0.5), -2)
    p = np.clip(stage_p[None, :] * np.r_[[1.0], skill[1:] * 0 + 1][0] * skill[owner][:, None] ** np.array([0, 1, 1, 1, 1]), 0, 0.97)
    passed = rng.random((n, 5)) < p
    reached = np.cumprod(passed, axis=1).astype(bool)  # reached[:, k]: passed step k
    times = created[:, None] + np.cumsum(rng.exponential(gap_mean, (n, 5)), axis=1)
    # Fail time for a lost lead: some days after the last reached stage.
    n_passed = reached.sum(axis=1)
    last_t = np.where(n_passed > 0, times[np.arange(n), np.maximum(n_passed - 1, 0)], created)
    lost_t = last_t + rng.exponential(8.0, n)
    won = n_passed == 5
    closed_t = np.where(won, times[:, 4], lost_t)
    stage_names = np.asarray(schema.LEAD_STAGES, dtype=object)
    ts_cols = {}
    stage_now = np.zeros(n, dtype=int)
    for k, col in enumerate(["contacted_ts", "qualified_ts", "proposal_ts", "negotiation_ts"]):
        t = times[:, k]
        ok = reached[:, k] & (t < w.n_days)
        ts_cols[col] = pd.Series(_ts(w.start, t)).where(ok, pd.NaT)
        stage_now = np.where(ok, k + 1, stage_now)
    closed_ok = closed_t < w.n_days
    stage_now = np.where(closed_ok, np.where(won, 5, 6), stage_now)
    w.tables["leads"] = pd.DataFrame({
        "lead_id": np.arange(1, n + 1),
        "created_ts": _ts(w.start, created),
        "source": _cat(rng.choice(np.array(["web_form", "phone", "referral", "trade_show", "email"], dtype=object), n,
                                  p=[0.4, 0.15, 0.2, 0.1, 0.15]),
                       ("web_form", "phone", "referral", "trade_show", "email")),
        "company_size": _codes(size, ("small", "medium", "large")),
        "owner": pd.Categorical(owners[owner], categories=list(owners)),
        "value": value,
        "stage": _cat(stage_names[stage_now], schema.LEAD_STAGES),
        **ts_cols,
        "closed_ts": pd.Series(_ts(w.start, closed_t)).where(closed_ok, pd.NaT),
    })
    w.lead_truth = {"stage_conversion": dict(zip(["contacted", "qualified", "proposal", "negotiation", "won"],
                                                  stage_p.tolist(), strict=True)),
                    "owner_skill": dict(zip(owners.tolist(), skill.tolist(), strict=True)),
                    "note": "P(pass step k) = base_k * skill(owner) for steps after 'contacted', clipped at 0.97.",
                    "stage_gap_days_mean": gap_mean.tolist()}


def _stage_contacts(w: _World) -> None:
    """Campaign contact outcomes from the realised orders."""
    rng = w.rng
    cr = w.contacts_raw
    camps = w.tables["campaigns"]
    if len(cr) == 0:
        w.tables["campaign_contacts"] = pd.DataFrame({c: [] for c in schema.TABLES["campaign_contacts"].column_names})
        return
    o = w.tables["orders"]
    o_cust = o["customer_id"].to_numpy()
    o_day = w.ord["time"].to_numpy()
    o_amt = o["amount"].to_numpy()
    srt = np.lexsort((o_day, o_cust))
    key = o_cust[srt] * 1e6 + o_day[srt]
    cumamt = np.r_[0, np.cumsum(o_amt[srt])]
    cid = cr["customer_id"].to_numpy()
    d0 = cr["d0"].to_numpy()
    win = cr["window"].to_numpy()
    lo = np.searchsorted(key, cid * 1e6 + d0)
    hi = np.searchsorted(key, cid * 1e6 + d0 + win)
    conv = hi > lo
    revenue = cumamt[hi] - cumamt[lo]
    treated = cr["treated"].to_numpy()
    ch = camps.set_index("campaign_id").loc[cr["campaign_id"].to_numpy(), "channel"].astype(str).to_numpy()
    p_open = pd.Series(ch).map({"email": 0.25, "sms": 0.9, "app_push": 0.4, "line": 0.6}).to_numpy()
    opened = treated & (rng.random(len(cr)) < p_open)
    clicked = opened & (rng.random(len(cr)) < np.where(conv, 0.6, 0.12))
    w.tables["campaign_contacts"] = pd.DataFrame({
        "campaign_id": cr["campaign_id"].to_numpy().astype(np.int64),
        "customer_id": cid.astype(np.int64),
        "group": _cat(np.where(treated, "treatment", "holdout"), ("treatment", "holdout")),
        "sent": treated,
        "opened": opened,
        "clicked": clicked,
        "converted": conv,
        "revenue": np.round(revenue, 2),
    })


# --- Customisation and product feedback (issue 24). Each stage draws from its own random
# stream (seed, stage number), so adding them left every earlier table unchanged.

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
_FEEDBACK_SOURCES = ("review", "ticket", "survey")
_FEEDBACK_OPENERS = ("Please offer {}.", "I wish you had {}.", "Would buy more with {}.",
                     "Any plans for {}?")


def _stage_customizations(w: _World) -> None:
    rng = np.random.default_rng([w.cfg["seed"], 24, 9])
    ln, o = w.lines, w.ord
    order = ln["order"].to_numpy()
    seg = np.asarray(SEGMENT_LABELS, dtype=object)[o["seg"].to_numpy()[order]]
    cat = np.asarray(CATS, dtype=object)[w.prod_cat[ln["prod"].to_numpy()]]
    month = (w.start + pd.to_timedelta(o["time"].to_numpy()[order], unit="D")).month
    factor = np.array([CUSTOMIZATION_SEGMENT[s] for s in seg])
    rows = []
    for option, (fee, cost, cats) in CUSTOMIZATION_OPTIONS.items():
        p = factor * CUSTOMIZATION_RATE[option]
        if option == "gift_wrap":
            p = p * np.where(np.isin(month, [11, 12]), 2.0, 1.0)
        if cats is not None:
            p = np.where(np.isin(cat, cats), p, 0.0)
        hit = np.flatnonzero(rng.random(len(ln)) < p)
        rows.append(pd.DataFrame({"line": hit, "option": option, "fee": fee, "cost": cost}))
    picked = pd.concat(rows, ignore_index=True).sort_values(["line", "option"], kind="stable")
    line = picked["line"].to_numpy()
    items = w.tables["order_items"]
    w.tables["customizations"] = pd.DataFrame({
        "customization_id": np.arange(1, len(picked) + 1),
        "order_id": items["order_id"].to_numpy()[line],
        "line_no": items["line_no"].to_numpy()[line],
        "customer_id": o["cust"].to_numpy()[order[line]] + 1,
        "product_id": items["product_id"].to_numpy()[line],
        "option": _cat(picked["option"].to_numpy(), tuple(CUSTOMIZATION_OPTIONS)),
        "fee": picked["fee"].to_numpy(dtype="float64"),
        "cost": picked["cost"].to_numpy(dtype="float64"),
    })
    w.truth["customization"] = {
        "segment_factor": dict(CUSTOMIZATION_SEGMENT), "option_rate": dict(CUSTOMIZATION_RATE),
        "gift_season_months": [11, 12], "gift_season_factor": 2.0,
        "options": {k: {"fee": v[0], "cost": v[1], "categories": list(v[2]) if v[2] else None}
                    for k, v in CUSTOMIZATION_OPTIONS.items()},
        "note": "P(a line takes an option) = segment_factor x option_rate (x gift_season_factor for "
                "gift_wrap in gift_season_months), 0 outside the option's categories; independent "
                "per option, so a line may take two.",
    }


def _stage_product_feedback(w: _World) -> None:
    rng = np.random.default_rng([w.cfg["seed"], 24, 8])
    n_members = w.cfg["n_customers"]
    ln, o = w.lines, w.ord
    buyer_of = {c: np.unique(o["cust"].to_numpy()[ln["order"].to_numpy()[w.prod_cat[ln["prod"].to_numpy()] == k]])
                for k, c in enumerate(CATS)}
    all_buyers = np.unique(o["cust"].to_numpy())
    shipped = {theme: (share * w.n_days, effect) for theme, share, effect, _ in PRODUCT_CHANGES}
    rows = []
    for theme, (cat, phrase, rate) in FEEDBACK_THEMES.items():
        per_day = np.full(w.n_days, rate * n_members / 1000.0)
        if theme in shipped:
            day0, effect = shipped[theme]
            per_day[int(np.ceil(day0)):] *= 1.0 + effect
        counts = rng.poisson(per_day)
        day = np.repeat(np.arange(w.n_days), counts) + rng.random(counts.sum())
        pool = buyer_of[cat] if cat is not None else all_buyers
        if len(pool) == 0 or len(day) == 0:
            continue
        cust = rng.choice(pool, len(day))
        opener = rng.choice(np.asarray(_FEEDBACK_OPENERS, dtype=object), len(day))
        rows.append(pd.DataFrame({"day": day, "cust": cust, "theme": theme, "category": cat,
                                  "source": rng.choice(np.asarray(_FEEDBACK_SOURCES, dtype=object), len(day),
                                                       p=[0.4, 0.35, 0.25]),
                                  "text": [op.format(phrase) for op in opener]}))
    fb = pd.concat(rows, ignore_index=True).sort_values(["day", "theme"], kind="stable")
    w.tables["feature_requests"] = pd.DataFrame({
        "request_id": np.arange(1, len(fb) + 1),
        "ts": _ts(w.start, fb["day"].to_numpy()),
        "customer_id": fb["cust"].to_numpy() + 1,
        "source": _cat(fb["source"].to_numpy(), _FEEDBACK_SOURCES),
        "category": pd.Categorical(fb["category"].to_numpy(), categories=list(CATS)),
        "text": pd.array(fb["text"].to_numpy(), dtype="str"),
    })
    w.tables["product_changes"] = pd.DataFrame({
        "change_id": np.arange(1, len(PRODUCT_CHANGES) + 1),
        "theme": pd.array([t for t, *_ in PRODUCT_CHANGES], dtype="str"),
        "shipped_ts": _ts(w.start, np.array([share * w.n_days for _, share, _, _ in PRODUCT_CHANGES])),
        "description": pd.array([d for *_, d in PRODUCT_CHANGES], dtype="str"),
    })
    w.truth["feature_requests"] = pd.DataFrame({"request_id": np.arange(1, len(fb) + 1),
                                                "theme": fb["theme"].to_numpy().astype(str)})
    w.truth["feedback_themes"] = {
        theme: {"category": cat, "phrase": phrase, "per_day_per_1000_members": rate}
        for theme, (cat, phrase, rate) in FEEDBACK_THEMES.items()}
    w.truth["product_changes"] = {theme: {"shipped_share_of_window": share, "rate_change": effect}
                                  for theme, share, effect, _ in PRODUCT_CHANGES}


def _truth(w: _World) -> None:
    cfg = w.cfg
    n = len(w.lam)
    truth = w.truth
    truth["bgnbd"] = {"r": cfg["r"], "alpha_day": cfg["alpha"], "alpha_week": cfg["alpha"] / 7.0,
                      "a": cfg["a"], "b": cfg["b"],
                      "note": "lam ~ Gamma(r, rate alpha) per average day; dropout after each repeat purchase "
                              "with p ~ Beta(a, b); operational time (calendar weights average 1)."}
    truth["gamma_gamma"] = {"p": cfg["gg_p"], "q": cfg["gg_q"], "gamma": cfg["gg_gamma"],
                            "realised_amount_per_budget": w.amount_per_budget,
                            "gamma_effective": cfg["gg_gamma"] * w.amount_per_budget,
                            "note": "target basket value z ~ Gamma(p, rate nu), nu ~ Gamma(q, rate gamma); "
                                    "the basket is filled greedily with real products up to 1.1 z (plus planted "
                                    "co-purchases, minus coupons), so paid amounts track z (corr ~0.9) at "
                                    "realised_amount_per_budget times its scale: compare fitted gamma with "
                                    "gamma_effective = gamma * that ratio (scaling z by c scales gamma by c)."}
    truth["segments"] = list(SEGMENT_LABELS)
    truth["category_taste"] = pd.DataFrame(TASTE, index=list(SEGMENT_LABELS), columns=list(CATS))
    truth["elasticity"] = dict(CATEGORY_ELASTICITY)
    truth["elasticity_note"] = (
        "Planted own-price elasticity of a product's share within its category, times the buyer's "
        "segment_price_sensitivity. Baskets are filled under a budget, which adds some extra price "
        "response: regressions on price_history recover about 1.3-1.9x the planted values on the "
        "default shop; with gg_gamma very large (budgets never bind) and copurchase_attach=0 they "
        "match within ~5%.")
    truth["segment_price_sensitivity"] = dict(zip(SEGMENT_LABELS, SEGMENT_PRICE_SENSITIVITY.tolist(), strict=True))
    truth["funnel_rates"] = pd.DataFrame(FUNNEL_RATES, index=list(schema.TRAFFIC_SOURCES),
                                         columns=["product_view", "add_to_cart", "begin_checkout", "purchase"])
    truth["journey_first_mix"] = pd.DataFrame(JOURNEY_FIRST_MIX, index=list(SEGMENT_LABELS),
                                              columns=list(schema.TRAFFIC_SOURCES))
    truth["journey_later_mix"] = pd.DataFrame(JOURNEY_LATER_MIX, index=list(SEGMENT_LABELS),
                                              columns=list(schema.TRAFFIC_SOURCES))
    truth["copurchase_pairs"] = [{"anchor": a, "partner": b, "attach_prob": cfg["copurchase_attach"]} for a, b in w.pairs]
    s_day, f_day = w.incident
    truth["incident"] = {"product_id": w.incident_product, "start": str((w.start + pd.Timedelta(days=s_day)).date()),
                         "fix": str((w.start + pd.Timedelta(days=f_day)).date()),
                         "defect_rate_during": cfg["incident_defect_rate"],
                         "defect_rate_before": float(w.prod_defect[w.incident_product - 1]),
                         "defect_return_prob": DEFECT_RETURN_PROB,
                         "defect_reason_defective_share": DEFECT_REASON_DEFECTIVE}
    truth["return_base_rate"] = dict(CATEGORY_RETURN_RATE)
    truth["satisfaction"] = {"coefficients": dict(SATISFACTION_COEF), "noise_sd": SATISFACTION_NOISE,
                             "segment_base": dict(zip(SEGMENT_LABELS, SEGMENT_BASE_SATISFACTION.tolist(), strict=True)),
                             **getattr(w, "survey_truth", {})}
    truth["uplift_planted"] = {s: float(v) * cfg["campaign_uplift_scale"] for s, v in zip(SEGMENT_LABELS, SEGMENT_UPLIFT, strict=True)}
    truth["uplift_note"] = ("positive: chance a treated, alive customer makes one extra purchase in the window; "
                            "negative (casual 'sleeping dogs'): chance each organic order in the window is lost.")
    if len(getattr(w, "ite", [])):
        ite = w.ite.copy()
        ite["segment"] = _codes(ite["segment"].to_numpy(), SEGMENT_LABELS)
        truth["uplift_by_segment"] = (ite.loc[ite["treated"]].groupby("segment", observed=True)["ite_conversion"].mean()
                                      .rename("uplift_conversion"))
        truth["contact_ite"] = ite
    truth["calendar"] = w.calendar.iloc[: w.n_days].reset_index(drop=True)
    truth["peak_events"] = peak_events(w.start, w.end)
    for name in ("call_truth", "faq_truth", "lead_truth"):
        if hasattr(w, name):
            truth[name.replace("_truth", "")] = getattr(w, name)
    if hasattr(w, "review_truth"):
        truth["reviews"] = w.review_truth
        truth["review_topics"] = list(vocab.REVIEW_TOPICS)
    if hasattr(w, "social_truth"):
        truth["social"] = w.social_truth
        truth["social_base_per_day"] = w.social_base_per_day
    truth["loyalty"] = {"points_per_nt100": 1, "point_value_nt": 1.0, "expiry_months": 12,
                        "redeem_share": dict(zip(SEGMENT_LABELS, REDEEM_SHARE.tolist(), strict=True)),
                        "tier_thresholds_12m_spend": dict(zip(schema.TIERS[1:], TIER_THRESHOLDS, strict=True))}
    truth["customers"] = pd.DataFrame({
        "customer_id": np.arange(1, n + 1),
        "segment": _codes(w.seg, SEGMENT_LABELS),
        "lam": w.lam, "p_dropout": w.p_drop, "nu": w.nu,
        "mean_spend": cfg["gg_p"] / w.nu,
        "is_buyer": w.buyer,
        "alive_at_end": w.alive_at_end,
        "future_purchases": w.future_purchases,
        "uplift": np.clip(SEGMENT_UPLIFT[w.seg] * cfg["campaign_uplift_scale"], -1, 1),
        **{f"taste_{c}": w.taste[:, i] for i, c in enumerate(CATS)},
    })
    truth["future_days"] = FUTURE_DAYS


DEFAULT_KNOBS: dict[str, Any] = {
    "n_products": 240,
    "r": 0.8, "alpha": 55.0, "a": 0.8, "b": 3.2,
    "gg_p": 6.0, "gg_q": 4.0, "gg_gamma": 800.0,
    "buyer_share": 0.85, "holdout_share": 0.2, "campaign_uplift_scale": 1.0,
    "calls_per_day": None, "incident_defect_rate": 0.3, "copurchase_attach": 0.45,
    "detail": "full",
}


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
    Unknown knobs and values outside their range raise ``ValueError``.
    """
    if isinstance(n_customers, str):
        if n_customers not in SIZES:
            raise ValueError(f"simulate(): unknown size {n_customers!r}; use one of {sorted(SIZES)} or an integer.")
        preset = dict(SIZES[n_customers])
        n_customers = preset.pop("n_customers")
        if start == "2024-01-01" and end == "2025-12-31":
            start, end = preset.pop("start"), preset.pop("end")
        preset.pop("start", None)
        preset.pop("end", None)
        knobs = {**preset, **knobs}
    unknown = set(knobs) - set(DEFAULT_KNOBS)
    if unknown:
        raise ValueError(f"simulate(): unknown knob(s) {sorted(unknown)}; known: {sorted(DEFAULT_KNOBS)}.")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"simulate(): seed={seed!r} must be an integer.")
    cfg = {**DEFAULT_KNOBS, **knobs, "n_customers": n_customers, "seed": int(seed)}
    _check_knobs(cfg)
    try:
        s, e = pd.Timestamp(start), pd.Timestamp(end)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"simulate(): start/end must be dates like '2024-01-01' ({exc}).") from None
    cfg["start"], cfg["end"] = str(s.date()), str(e.date())
    cfg["n_customers"] = int(cfg["n_customers"])
    cfg["n_products"] = int(cfg["n_products"])
    w = _World(cfg)
    stages: list[tuple[str, Callable[[_World], None]]] = [
        ("customers", _stage_customers), ("products", _stage_products), ("prices", _stage_prices),
        ("choice", _build_choice_table), ("purchases", _stage_purchases), ("campaigns", _stage_campaigns),
        ("orders", _stage_orders),
    ]
    if cfg["detail"] == "full":
        stages += [("sessions", _stage_sessions), ("returns", _stage_returns), ("support", _stage_support),
                   ("satisfaction", _stage_satisfaction), ("reviews", _stage_reviews), ("social", _stage_social),
                   ("loyalty", _stage_loyalty), ("leads", _stage_leads), ("contacts", _stage_contacts),
                   ("customizations", _stage_customizations), ("product_feedback", _stage_product_feedback)]
    report = progress if callable(progress) else None
    bar = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(stages), desc="simulate", unit="stage")
    for name, fn in stages:
        if report:
            report(name)
        fn(w)
        if bar is not None:
            bar.set_postfix_str(name)
            bar.update(1)
    if bar is not None:
        bar.close()
    _truth(w)
    order = [t for t in schema.TABLE_NAMES if t in w.tables]
    tables = {name: w.tables[name].reset_index(drop=True) for name in order}
    return Shop(tables=tables, truth=w.truth, config=cfg)
