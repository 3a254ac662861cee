"""The synthetic shop: a coherent e-commerce world with planted ground truth.

``simulate()`` builds every table of :mod:`crmlab.data.schema` from one seed, stage by
stage, vectorised over all customers at once (counts first, then times with
``np.repeat``, then attributes by indexing).  What each stage plants is kept in
``shop.truth`` so that every course unit can show a method recovering it.

The stages, one module each, in the order they run (each takes its inputs explicitly and
returns its tables; its settings are a frozen configuration object whose fields say what
they plant):

================  ========================================  ===========================================
module            what it draws                             configuration
================  ========================================  ===========================================
``segments``      the four latent segments' shared traits   ``SegmentConfig``
``customers``     BG/NBD and spend parameters, profile      ``CustomerConfig``
``products``      catalogue, daily prices, product choice   ``ProductConfig``, ``PriceConfig``
``purchases``     organic repeat buying with dropout        the knobs ``r, alpha, a, b``
``campaigns``     monthly sends, holdout, uplift, contacts  ``CampaignConfig``
``orders``        baskets, coupons, delivery, stock         ``OrderConfig``
``sessions``      purchase journeys, funnel, events         ``SessionConfig``
``returns``       defects and returns                       ``ReturnConfig``
``support``       issues, FAQ, tickets, agents              ``SupportConfig``
``calls``         the phone queue                           ``CallConfig``
``satisfaction``  hidden satisfaction and surveys           ``SatisfactionConfig``
``reviews``       reviews and stars                         ``ReviewConfig``
``social``        social mentions and the incident spike    ``SocialConfig``
``loyalty``       points and tiers                          ``LoyaltyConfig``
``leads``         the B2B sales pipeline                    ``LeadConfig``
``feedback``      customisations, feature requests          ``CustomizationConfig``, ``FeedbackConfig``
``truth``         ``shop.truth`` gathered from the stages
``pipeline``      ``simulate()``: the stages in order
================  ========================================  ===========================================

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
until the budget is filled (a candidate line is kept while the basket stays under 1.1 times
the budget, ``OrderConfig.budget_slack``), so order amounts follow the budget closely but on
a price grid.

Size presets: ``"tiny"`` (300 customers, 2024, < 1 s), ``"small"`` (2,000 customers over
2024-2025, the shipped default), ``"medium"`` (20,000).  ``detail="orders"`` builds only
customers, products, campaigns, orders, order_items and price_history, six tables (for
million-customer worlds).

The module-level arrays (``SEGMENT_CHANNEL``, ``FUNNEL_RATES``, ``TASTE``, ...) are the
configurations' defaults as numpy arrays, kept under their historical names.
"""

from __future__ import annotations

import numpy as np

from .. import schema
from .calls import CallConfig
from .campaigns import CAMPAIGNS, CampaignConfig
from .customers import CustomerConfig
from .feedback import (
    CUSTOMIZATION_OPTIONS,
    CUSTOMIZATION_RATE,
    CUSTOMIZATION_SEGMENT,
    FEEDBACK_THEMES,
    PRODUCT_CHANGES,
    CustomizationConfig,
    FeedbackConfig,
)
from .knobs import DEFAULT_KNOBS, SIZES
from .leads import LeadConfig
from .loyalty import LOYALTY, LoyaltyConfig
from .orders import ORDERS, OrderConfig
from .pipeline import simulate
from .products import PRODUCTS, PriceConfig, ProductConfig
from .returns import RETURNS, ReturnConfig
from .reviews import ReviewConfig
from .satisfaction import SATISFACTION, SatisfactionConfig
from .segments import SEGMENTS, SegmentConfig
from .sessions import SESSIONS, SessionConfig
from .shop import Shop
from .social import SocialConfig
from .support import SupportConfig
from .timeline import FUTURE_DAYS

# Historical names of the planted values (the defaults of the configurations above).
SEGMENT_LABELS = SEGMENTS.labels  # vip, deal_seeker, family, casual
CATS = schema.CATEGORIES
SEGMENT_INTERCEPT = np.array(SEGMENTS.intercept)
SEGMENT_SLOPE = np.array(SEGMENTS.slope)
TASTE = np.array(SEGMENTS.taste)
TASTE_CONCENTRATION = SEGMENTS.taste_concentration
SEGMENT_PRICE_SENSITIVITY = np.array(SEGMENTS.price_sensitivity)
SEGMENT_SOURCE = np.array(SEGMENTS.source)
CATEGORY_PRICE = dict(PRODUCTS.category_price)
CATEGORY_ELASTICITY = dict(PRODUCTS.category_elasticity)
CATEGORY_RETURN_RATE = dict(RETURNS.category_return_rate)
SEGMENT_UPLIFT = np.array(CAMPAIGNS.segment_uplift)
SEGMENT_CHANNEL = np.array(ORDERS.segment_channel)
JOURNEY_FIRST_MIX, JOURNEY_LATER_MIX = SESSIONS.journey_mixes(SEGMENTS)
FUNNEL_RATES = np.array(SESSIONS.funnel_rates)
SEGMENT_BASE_SATISFACTION = np.array(SATISFACTION.segment_base)
SATISFACTION_COEF = dict(SATISFACTION.coefficients)
SATISFACTION_NOISE = SATISFACTION.noise_sd
DEFECT_RETURN_PROB = RETURNS.defect_return_prob
DEFECT_REASON_DEFECTIVE = RETURNS.defect_reason_defective
REDEEM_SHARE = np.array(LOYALTY.redeem_share)
TIER_THRESHOLDS = LOYALTY.tier_thresholds

__all__ = [
    "CATEGORY_ELASTICITY", "CATEGORY_PRICE", "CATEGORY_RETURN_RATE", "CATS", "CUSTOMIZATION_OPTIONS",
    "CUSTOMIZATION_RATE", "CUSTOMIZATION_SEGMENT", "DEFAULT_KNOBS", "DEFECT_REASON_DEFECTIVE",
    "DEFECT_RETURN_PROB", "FEEDBACK_THEMES", "FUNNEL_RATES", "FUTURE_DAYS", "JOURNEY_FIRST_MIX",
    "JOURNEY_LATER_MIX", "PRODUCT_CHANGES", "REDEEM_SHARE", "SATISFACTION_COEF", "SATISFACTION_NOISE",
    "SEGMENT_BASE_SATISFACTION", "SEGMENT_CHANNEL", "SEGMENT_INTERCEPT", "SEGMENT_LABELS",
    "SEGMENT_PRICE_SENSITIVITY", "SEGMENT_SLOPE", "SEGMENT_SOURCE", "SEGMENT_UPLIFT", "SIZES", "TASTE",
    "TASTE_CONCENTRATION", "TIER_THRESHOLDS", "CallConfig", "CampaignConfig", "CustomerConfig",
    "CustomizationConfig", "FeedbackConfig", "LeadConfig", "LoyaltyConfig", "OrderConfig", "PriceConfig",
    "ProductConfig", "ReturnConfig", "ReviewConfig", "SatisfactionConfig", "SegmentConfig", "SessionConfig",
    "Shop", "SocialConfig", "SupportConfig", "simulate",
]
