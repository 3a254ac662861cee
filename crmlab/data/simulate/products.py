"""Stage 2, the catalogue: products, daily prices and promotions, and the product-choice model."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import schema
from ._arrays import _codes, _group_rank, _ts
from .segments import SEGMENTS, SegmentConfig
from .timeline import Timeline

CATS = schema.CATEGORIES

_NOUNS = {
    "electronics": ("Wireless Earbuds", "Smartwatch", "Power Bank", "Bluetooth Speaker", "Phone", "Phone Case",
                    "Tablet", "Charger", "Keyboard", "Monitor"),
    "fashion": ("T-Shirt", "Jeans", "Sneakers", "Dress", "Jacket", "Hoodie", "Skirt", "Scarf", "Cap", "Belt"),
    "beauty": ("Shampoo", "Conditioner", "Face Serum", "Sunscreen", "Lipstick", "Moisturiser", "Cleanser",
               "Toner", "Face Mask", "Hand Cream"),
    "home": ("Air Fryer", "Rice Cooker", "Towel Set", "Bed Sheets", "Mug", "Storage Box", "Desk Lamp",
             "Kettle", "Pillow", "Vacuum"),
    "grocery": ("Coffee Beans", "Green Tea", "Instant Noodles", "Olive Oil", "Granola", "Snack Box",
                "Soy Sauce", "Dried Mango", "Honey", "Oat Milk"),
    "kids": ("Diapers", "Baby Wipes", "Building Blocks", "Plush Toy", "Kids Backpack", "Baby Bottle",
             "Puzzle", "Crayons", "Stroller Fan", "Picture Book"),
    "sports": ("Yoga Mat", "Water Bottle", "Running Shoes", "Dumbbells", "Resistance Bands", "Sports Bra",
               "Cycling Gloves", "Jump Rope", "Gym Bag", "Foam Roller"),
    "books": ("Novel", "Cookbook", "Travel Guide", "Comic", "Business Book", "Bookmark Set", "Notebook",
              "Poetry", "History Book", "Science Book"),
}


@dataclass(frozen=True)
class ProductConfig:
    """The catalogue, its planted co-purchase pairs and the quality incident.

    Parameters
    ----------
    category_price : dict
        Median list price per category (NT$); a product's price is that times
        ``exp(N(0, price_sd))``, rounded to end in 9 (``price_step``), at least ``min_price``.
    category_elasticity : dict
        Own-price elasticity of a product's share within its category
        (``truth["elasticity"]``; times the buyer segment's price sensitivity).
    popularity_exponent : float
        Zipf popularity within a category: ``1 / rank ** popularity_exponent``.
    cost_share : tuple of float
        Unit cost = list price x Uniform(low, high).
    new_launch_share : float
        Share of products launched inside the window (between ``launch_margin_days`` after
        start and ``launch_margin_days_end`` before the end); the others launched 30-900 days
        before start (``old_launch_days``).
    best_sellers, best_seller_launch_day : int
        The top ``best_sellers`` of each category exist from ``best_seller_launch_day``.
    quality_beta : tuple of float
        Product quality ~ Beta(a, b); defect rate = ``defect_base + defect_per_low_quality *
        (1 - quality)``.
    brand_letters : str
        Brands per category: the category's first four letters plus one of these letters.
    nouns : dict
        Product nouns per category (names repeat with a number past the list).
    copurchase_pairs : tuple
        Planted co-purchase pairs (category, anchor rank, partner rank) among best sellers,
        plus ``cross_pair`` (anchor category, rank, partner category, rank): coffee beans and a mug.
    incident_category : str
        The quality incident hits the best seller of this category, from
        ``incident_start_share`` of the window for ``max(incident_min_days,
        incident_length_share * window)`` days.
    """

    category_price: dict[str, float] = field(default_factory=lambda: {
        "electronics": 1500, "fashion": 780, "beauty": 560, "home": 880,
        "grocery": 260, "kids": 650, "sports": 1150, "books": 380,
    })
    category_elasticity: dict[str, float] = field(default_factory=lambda: {
        "electronics": -2.4, "fashion": -1.9, "beauty": -1.5, "home": -1.7,
        "grocery": -1.3, "kids": -1.4, "sports": -2.0, "books": -1.2,
    })
    popularity_exponent: float = 1.05
    price_sd: float = 0.55
    price_step: float = 10
    min_price: float = 19.0
    cost_share: tuple[float, float] = (0.42, 0.68)
    new_launch_share: float = 0.18
    launch_margin_days: int = 30
    launch_margin_days_end: int = 120
    old_launch_days: tuple[int, int] = (30, 900)
    best_sellers: int = 3
    best_seller_launch_day: int = -400
    quality_beta: tuple[float, float] = (9, 2)
    defect_base: float = 0.005
    defect_per_low_quality: float = 0.04
    brand_letters: str = "ABCDE"
    nouns: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(_NOUNS))
    copurchase_pairs: tuple[tuple[str, int, int], ...] = (
        ("electronics", 5, 6), ("beauty", 1, 2), ("sports", 1, 2), ("kids", 1, 2),
        ("grocery", 1, 2), ("books", 1, 6))
    cross_pair: tuple[str, int, str, int] = ("grocery", 1, "home", 5)
    incident_category: str = "home"
    incident_start_share: float = 0.55
    incident_min_days: int = 20
    incident_length_share: float = 0.07


@dataclass(frozen=True)
class PriceConfig:
    """Daily prices: random product promotions plus the calendar's sitewide sale days.

    Parameters
    ----------
    promo_start_rate : float
        Chance a product starts a promotion on a given day.
    promo_days : tuple of int
        Promotion length, uniform on ``[low, high)`` days.
    promo_depths : tuple of float
        Promotion discounts, drawn uniformly.
    """

    promo_start_rate: float = 1 / 40
    promo_days: tuple[int, int] = (3, 11)
    promo_depths: tuple[float, ...] = (0.1, 0.15, 0.2, 0.3)


PRODUCTS = ProductConfig()
PRICES = PriceConfig()


@dataclass(frozen=True)
class Products:
    """The catalogue (arrays indexed by product_id - 1) and the ``products`` table.

    ``pairs`` are the planted (anchor, partner) product ids; ``incident`` the (start, fix) days
    of the quality incident on ``incident_product``.
    """

    cat: np.ndarray
    popularity: np.ndarray
    price: np.ndarray
    cost: np.ndarray
    launch: np.ndarray
    quality: np.ndarray
    defect: np.ndarray
    pairs: list[tuple[int, int]]
    incident_product: int
    incident: tuple[int, int]
    table: pd.DataFrame

    @property
    def n(self) -> int:
        """Number of products."""
        return len(self.cat)


@dataclass(frozen=True)
class Prices:
    """Daily price (horizon days x products) and whether a promotion runs."""

    price: np.ndarray
    on_promo: np.ndarray


def _product_names(cat: np.ndarray, brand: np.ndarray, cfg: ProductConfig) -> np.ndarray:
    """"Brand Noun" names, numbered once a category's nouns run out."""
    names = np.empty(len(cat), dtype=object)
    for c, cname in enumerate(CATS):
        idx = np.flatnonzero(cat == c)
        nn = cfg.nouns[cname]
        names[idx] = [f"{brand[i]} {nn[k % len(nn)]}" + ("" if k < len(nn) else f" {k // len(nn) + 1}")
                      for k, i in enumerate(idx)]
    return names


def _pairs(cat: np.ndarray, cfg: ProductConfig) -> list[tuple[int, int]]:
    """Planted co-purchase pairs (anchor id, partner id) among each category's best sellers."""
    pairs = []
    for cname, ka, kb in cfg.copurchase_pairs:
        idx = np.flatnonzero(cat == CATS.index(cname))
        if len(idx) >= max(ka, kb):
            pairs.append((int(idx[ka - 1] + 1), int(idx[kb - 1] + 1)))
    ca, ka, cb, kb = cfg.cross_pair
    g, h = np.flatnonzero(cat == CATS.index(ca)), np.flatnonzero(cat == CATS.index(cb))
    if len(g) >= ka and len(h) >= kb:
        pairs.append((int(g[ka - 1] + 1), int(h[kb - 1] + 1)))
    return pairs


def _incident(cat: np.ndarray, n_days: int, cfg: ProductConfig) -> tuple[int, tuple[int, int]]:
    """The incident product (best seller of its category) and its (start, fix) days."""
    product = int(np.flatnonzero(cat == CATS.index(cfg.incident_category))[0] + 1)
    start_day = int(round(n_days * cfg.incident_start_share))
    fix_day = start_day + max(cfg.incident_min_days, int(round(n_days * cfg.incident_length_share)))
    return product, (start_day, fix_day)


def draw_products(rng: np.random.Generator, n_prod: int, tl: Timeline,
                  cfg: ProductConfig = PRODUCTS) -> Products:
    """Draw the catalogue: category, Zipf popularity, price, cost, launch, quality, brand, name."""
    cat = np.sort(np.arange(n_prod) % len(CATS))
    rank = _group_rank(cat) + 1
    popularity = 1.0 / rank ** cfg.popularity_exponent
    price = np.empty(n_prod)
    for c, name in enumerate(CATS):
        m = cat == c
        price[m] = cfg.category_price[name] * np.exp(rng.normal(0, cfg.price_sd, m.sum()))
    price = np.maximum(np.round(price / cfg.price_step) * cfg.price_step - 1, cfg.min_price)
    cost = np.round(price * rng.uniform(*cfg.cost_share, n_prod), 2)
    launch_day = np.where(
        rng.random(n_prod) < cfg.new_launch_share,
        rng.integers(cfg.launch_margin_days, max(cfg.launch_margin_days + 1, tl.n_days - cfg.launch_margin_days_end),
                     n_prod),
        -rng.integers(*cfg.old_launch_days, n_prod))
    launch_day[rank <= cfg.best_sellers] = cfg.best_seller_launch_day  # best sellers exist from the start
    quality = rng.beta(*cfg.quality_beta, n_prod)
    k = len(cfg.brand_letters)
    brands = np.array([f"{name[:4].title()}{b}" for name in CATS for b in cfg.brand_letters], dtype=object)
    brand = brands[cat * k + rng.integers(0, k, n_prod)]
    names = _product_names(cat, brand, cfg)
    table = pd.DataFrame({
        "product_id": np.arange(1, n_prod + 1),
        "name": pd.array(names.astype(str), dtype="str"),
        "category": _codes(cat, CATS),
        "brand": pd.Categorical(brand),
        "list_price": price,
        "unit_cost": cost,
        "launch_date": _ts(tl.start, launch_day.astype(float)),
        "quality": quality,
    })
    incident_product, incident = _incident(cat, tl.n_days, cfg)
    return Products(cat=cat, popularity=popularity, price=price, cost=cost, launch=launch_day, quality=quality,
                    defect=cfg.defect_base + cfg.defect_per_low_quality * (1 - quality),
                    pairs=_pairs(cat, cfg), incident_product=incident_product, incident=incident, table=table)


def draw_prices(rng: np.random.Generator, products: Products, tl: Timeline, cfg: PriceConfig = PRICES) -> Prices:
    """Daily prices: random product promotions plus sitewide sale days (the endogeneity trap)."""
    n_prod, H = products.n, tl.horizon_days
    promo_start = rng.random((H, n_prod)) < cfg.promo_start_rate
    length = rng.integers(*cfg.promo_days, size=(H, n_prod))
    depth = rng.choice(cfg.promo_depths, size=(H, n_prod))
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
    sale = tl.calendar["sale_discount"].to_numpy()[:, None]
    disc = np.maximum(disc, sale * np.ones((1, n_prod)))
    return Prices(price=np.round(products.price[None, :] * (1 - disc), 0), on_promo=disc > 0)


class ChoiceModel:
    """Which product a line takes: within its category, popularity x (price / list) ^
    (elasticity x segment price sensitivity), among launched products, per segment and day.

    One global CDF, searched once per line: key = (day * n_seg + seg) * n_cat + cat, value =
    key + cdf (day-major: lines come sorted by day, so the searched keys are nearly sorted).

    Parameters
    ----------
    products, prices, tl
        The catalogue, its daily prices and the timeline.
    cfg, seg_cfg
        Elasticities and segment price sensitivities.
    """

    def __init__(self, products: Products, prices: Prices, tl: Timeline, cfg: ProductConfig = PRODUCTS,
                 seg_cfg: SegmentConfig = SEGMENTS) -> None:
        n_seg, n_cat = len(seg_cfg.labels), len(CATS)
        H, n_prod = tl.horizon_days, products.n
        eps = np.array([cfg.category_elasticity[c] for c in CATS])[products.cat]
        rel = prices.price / products.price[None, :]
        launched = np.arange(H)[:, None] >= products.launch[None, :]
        order = np.argsort(products.cat, kind="stable")  # already sorted by category
        assert np.all(order == np.arange(n_prod))
        sensitivity = np.array(seg_cfg.price_sensitivity)
        cdfs = np.empty((n_seg, H, n_prod))
        for s in range(n_seg):
            weight = products.popularity[None, :] * rel ** (eps[None, :] * sensitivity[s]) * launched
            for c in range(n_cat):
                cols = np.flatnonzero(products.cat == c)
                block = np.cumsum(weight[:, cols], axis=1)
                block /= block[:, -1:]
                cdfs[s][:, cols] = block
        key = (np.arange(H)[:, None, None] * n_seg + np.arange(n_seg)[None, :, None]) * n_cat \
            + products.cat[None, None, :]
        self.flat = (key + np.minimum(cdfs.transpose(1, 0, 2), 1.0 - 1e-12)).ravel()
        self.shape = (n_seg, H, n_cat, n_prod)

    def choose(self, rng: np.random.Generator, seg: np.ndarray, day: np.ndarray, cat: np.ndarray) -> np.ndarray:
        """0-based product index per line, by searching the global choice CDF."""
        n_seg, H, n_cat, n_prod = self.shape
        key = (day * n_seg + seg) * n_cat + cat
        pos = np.searchsorted(self.flat, key + rng.random(len(key)) * (1 - 1e-9))
        return pos % n_prod
