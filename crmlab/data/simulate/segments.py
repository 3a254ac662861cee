"""The four latent segments and the traits that several stages share.

Every customer belongs to one hidden segment (``truth["customers"]["segment"]``). The
traits below are planted in more than one stage (membership and taste in
:mod:`.customers`, traffic sources in :mod:`.customers` and :mod:`.sessions`, price
sensitivity in :mod:`.products`); traits used by a single stage live in that stage's
configuration (order channel in :class:`.orders.OrderConfig`, campaign uplift in
:class:`.campaigns.CampaignConfig`, base satisfaction in
:class:`.satisfaction.SatisfactionConfig`, points redemption in :class:`.loyalty.LoyaltyConfig`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import schema

Matrix = tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class SegmentConfig:
    """What the segments are like (rows follow ``labels``).

    Parameters
    ----------
    labels : tuple of str
        Segment names: vip, deal_seeker, family, casual.
    intercept, slope : tuple of float
        Membership is ``softmax(intercept + slope * value_z)``, where ``value_z`` standardises
        ``log(lam) + log(mean spend)``: high-value customers tend to be "vip", low-value "casual".
    taste : tuple of tuples
        Mean category taste per segment (columns: ``schema.CATEGORIES``); each customer's taste
        is ``Dirichlet(taste[segment] * taste_concentration)``. Planted as
        ``truth["category_taste"]``.
    taste_concentration : float
        How closely customers follow their segment's taste (higher: closer).
    price_sensitivity : tuple of float
        Multiplies every category's price elasticity for a buyer of the segment
        (``truth["segment_price_sensitivity"]``).
    source : tuple of tuples
        Habitual traffic source per segment (columns: ``schema.TRAFFIC_SOURCES``): browsing
        sessions and, mixed with the journey stage's mix, purchase journeys; 85% of the
        acquisition-channel mix.
    """

    labels: tuple[str, ...] = schema.SEGMENTS
    intercept: tuple[float, ...] = (-1.4, 0.2, 0.1, 0.2)
    slope: tuple[float, ...] = (2.2, 0.0, 0.4, -1.6)
    taste: Matrix = (
        (0.30, 0.10, 0.08, 0.20, 0.04, 0.05, 0.18, 0.05),  # vip
        (0.05, 0.36, 0.30, 0.05, 0.10, 0.04, 0.05, 0.05),  # deal_seeker
        (0.05, 0.06, 0.05, 0.25, 0.24, 0.30, 0.03, 0.02),  # family
        (0.14, 0.10, 0.05, 0.08, 0.10, 0.03, 0.20, 0.30),  # casual
    )
    taste_concentration: float = 25.0
    price_sensitivity: tuple[float, ...] = (0.6, 1.5, 1.0, 0.9)
    source: Matrix = (  # organic_search, paid_search, social, email, direct, referral
        (0.20, 0.10, 0.10, 0.20, 0.35, 0.05),
        (0.15, 0.25, 0.35, 0.10, 0.10, 0.05),
        (0.30, 0.15, 0.15, 0.15, 0.20, 0.05),
        (0.40, 0.20, 0.20, 0.05, 0.10, 0.05),
    )


SEGMENTS = SegmentConfig()
