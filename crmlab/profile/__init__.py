"""Unit 1 — what a CRM system does: 統一客戶檔案, 銷售自動化, 行銷自動化, 忠誠度計畫.

Five jobs of a CRM system, each as small functions on the shop's tables (DataFrame in,
DataFrame out):

* **Unified customer profile** (統一客戶檔案, the 360° view): :func:`customer_profile` gathers
  one member's identity, orders, sessions, campaign contacts, tickets with their phone calls
  and help-centre searches, returns, surveys, reviews and loyalty account from a
  :class:`~crmlab.data.Shop` or a :class:`~crmlab.data.store.CRMStore`.
* **Sales automation** (銷售自動化): the lead pipeline — :func:`lead_snapshot`,
  :func:`stage_conversion` (censoring-aware step rates), :func:`stage_durations`,
  :func:`sales_velocity`, :func:`pipeline_forecast` (stage-probability weighted pipeline) and
  :func:`attainment` against targets by owner.
* **Marketing automation** (行銷自動化): trigger rules (:class:`WelcomeSeries`,
  :class:`AbandonedCart`, :class:`WinBack`, :class:`BirthdayOffer`, :class:`TierUpgrade`)
  evaluated against the event log by :func:`automation_queue`, with opt-out suppression and
  frequency caps (:class:`FrequencyCap`).
* **Loyalty** (忠誠度計畫): :func:`points_balance`, :func:`assign_tiers`, :func:`tier_at`,
  :func:`tier_migration`, :func:`breakage_rate`, :func:`points_liability`, the IFRS 15
  relative stand-alone selling price allocation (:func:`ifrs15_allocate`,
  :func:`ifrs15_schedule`, :func:`loyalty_deferral`) and the expected value of a member by
  tier from an absorbing Markov chain (:func:`markov_member_value`, :func:`tier_chain`).
* **Data protection** (個資保護): :func:`pseudonymize` (keyed HMAC-SHA256) and
  :func:`k_anonymity` / :func:`suppress_rare` for quasi-identifiers before a table is shared.

The package's files follow these jobs: :mod:`~crmlab.profile.unified` (the 360° view),
:mod:`~crmlab.profile.sales`, :mod:`~crmlab.profile.automation`,
:mod:`~crmlab.profile.loyalty` and :mod:`~crmlab.profile.ifrs15`,
:mod:`~crmlab.profile.privacy`, :mod:`~crmlab.profile.omnichannel` (one member across store
and web) and :mod:`~crmlab.profile.governance` (field access, retention, consent). Every name
is importable from :mod:`crmlab.profile` itself.
"""

from __future__ import annotations

from crmlab.data.schema import LEAD_STAGES, TIERS  # noqa: F401  (the schema's stages and tiers, as before)
from crmlab.profile.automation import (
    DEFAULT_RULES,
    AbandonedCart,
    BirthdayOffer,
    FrequencyCap,
    TierUpgrade,
    WelcomeSeries,
    WinBack,
    automation_queue,
    automation_schedule,
    automation_triggers,
)
from crmlab.profile.governance import FIELD_ACCESS, consent_filter, retention_due, view_for_role
from crmlab.profile.ifrs15 import ifrs15_allocate, ifrs15_schedule, loyalty_deferral
from crmlab.profile.loyalty import (
    TIER_THRESHOLDS,
    TierChain,
    assign_tiers,
    breakage_rate,
    markov_member_value,
    points_balance,
    points_liability,
    tier_at,
    tier_chain,
    tier_migration,
)
from crmlab.profile.omnichannel import (
    CHANNEL_KINDS,
    STORE_CHANNELS,
    channel_profile,
    expected_omnichannel_share,
    omnichannel_value,
)
from crmlab.profile.privacy import (
    MIN_TOKEN_LENGTH,  # noqa: F401  (public, outside __all__ as before)
    KAnonymityReport,
    k_anonymity,
    pseudonymize,
    suppress_rare,
)
from crmlab.profile.sales import (
    PIPELINE_STAGES,
    attainment,
    lead_snapshot,
    pipeline_forecast,
    sales_velocity,
    stage_conversion,
    stage_durations,
    win_probability_by_stage,  # noqa: F401  (public, outside __all__ as before)
)
from crmlab.profile.unified import CustomerProfile, customer_profile

__all__ = [
    "FIELD_ACCESS",
    "consent_filter",
    "retention_due",
    "view_for_role",
    "CHANNEL_KINDS",
    "STORE_CHANNELS",
    "channel_profile",
    "expected_omnichannel_share",
    "omnichannel_value",
    "DEFAULT_RULES",
    "PIPELINE_STAGES",
    "TIER_THRESHOLDS",
    "AbandonedCart",
    "BirthdayOffer",
    "CustomerProfile",
    "FrequencyCap",
    "KAnonymityReport",
    "TierChain",
    "TierUpgrade",
    "WelcomeSeries",
    "WinBack",
    "assign_tiers",
    "attainment",
    "automation_queue",
    "automation_schedule",
    "automation_triggers",
    "breakage_rate",
    "customer_profile",
    "ifrs15_allocate",
    "ifrs15_schedule",
    "k_anonymity",
    "lead_snapshot",
    "loyalty_deferral",
    "markov_member_value",
    "pipeline_forecast",
    "points_balance",
    "points_liability",
    "pseudonymize",
    "sales_velocity",
    "stage_conversion",
    "stage_durations",
    "suppress_rare",
    "tier_at",
    "tier_chain",
    "tier_migration",
]
