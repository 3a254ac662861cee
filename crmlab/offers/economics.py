"""The money of a campaign (行銷成本效益): break-even uplift and return on spend.

:func:`break_even_uplift`, :func:`campaign_roi`, :func:`campaign_economics` (per campaign)
and :func:`roi_by` (per channel, with an interval).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmlab._checks import reads
from crmlab.offers._common import _columns, _frame, _prob
from crmlab.offers.experiments import ab_test
from crmlab.offers.groups import treatment_flags
from crmlab.offers.outcomes import _campaign_frame
from crmlab.stats import check_level as _level


def break_even_uplift(value_per_conversion: float, cost_per_contact: float, base_rate: float = 0.0,
                      redemption_rate: float = 0.0, discount_per_redemption: float = 0.0) -> float:
    """The uplift (in conversion probability) at which a send just pays for itself.

    Per treated contact the shop earns ``uplift * v`` (``v`` = margin of one extra conversion)
    and pays the send ``c`` plus the coupon on every redeemed order -- including the orders of
    customers who would have bought anyway (rate ``p0``): ``(p0 + uplift) * r * D``. Setting
    profit to 0:

    ``uplift* = (c + p0 r D) / (v - r D)``.

    With no coupon this is the familiar ``c / v``. The coupon on baseline buyers is why
    discount campaigns to frequent buyers rarely pay. Raises ValueError when ``v <= r D``
    (each extra conversion costs more in coupons than it earns: no uplift breaks even).

    Parameters
    ----------
    value_per_conversion : float
        Margin ``v`` of one extra conversion, NT$.
    cost_per_contact : float
        Cost ``c`` of one send, NT$.
    base_rate : float, default 0.0
        Conversion rate ``p0`` without the send.
    redemption_rate : float, default 0.0
        Share ``r`` of treated buyers who redeem the coupon.
    discount_per_redemption : float, default 0.0
        Coupon value ``D`` per redemption, NT$.

    Returns
    -------
    float
        The break-even uplift (a difference of conversion rates).
    """
    func = "break_even_uplift"
    v, c = float(value_per_conversion), float(cost_per_contact)
    p0 = _prob(base_rate, "base_rate", func, open_interval=False)
    r = _prob(redemption_rate, "redemption_rate", func, open_interval=False)
    d = float(discount_per_redemption)
    if c < 0 or d < 0:
        raise ValueError(f"{func}: costs must be non-negative (cost_per_contact={c}, "
                         f"discount_per_redemption={d}).")
    if v <= r * d:
        raise ValueError(f"{func}: value_per_conversion={v} does not exceed the expected coupon per "
                         f"conversion ({r * d:g}); no uplift makes this offer pay -- lower the discount.")
    return (c + p0 * r * d) / (v - r * d)


def campaign_roi(incremental_margin: Any, spend: Any) -> Any:
    """Return on marketing spend: ``(incremental_margin - spend) / spend``.

    ``incremental_margin`` is the gross margin the campaign *caused* before marketing costs
    (from the treatment-vs-holdout difference, never from all orders of the treated), and
    ``spend`` what it cost (sends + coupons). ROI 0.5 = every NT$1 spent came back with NT$0.50
    profit; ROI -1 = the campaign earned nothing.

    Parameters
    ----------
    incremental_margin : float or array-like
        Gross margin the campaign caused, NT$.
    spend : float or array-like
        What the campaign cost, NT$ (> 0).

    Returns
    -------
    float or array-like
        The ROI, shaped like the inputs.
    """
    m = np.asarray(incremental_margin, dtype="float64")
    s = np.asarray(spend, dtype="float64")
    if np.any(s <= 0):
        raise ValueError("campaign_roi: spend must be positive (a campaign that cost nothing has "
                         "no return on spend; report its incremental margin instead).")
    out = (m - s) / s
    return float(out) if out.ndim == 0 else out


def _add_money(out: pd.DataFrame, cost_per_contact: pd.Series, coupons: pd.Series) -> pd.DataFrame:
    """Add spend, incremental margin, net profit (with its interval) and ROI to the A/B columns."""
    out["contact_cost"] = cost_per_contact.loc[out["campaign_id"]].to_numpy() * out["n_treatment"]
    out["coupon_cost"] = coupons.reindex(out["campaign_id"]).fillna(0.0).to_numpy()
    out["spend"] = out["contact_cost"] + out["coupon_cost"]
    out["incremental_margin"] = out["profit_diff"] * out["n_treatment"] + out["coupon_cost"]
    out["net_profit"] = out["incremental_margin"] - out["spend"]
    out["net_profit_low"] = out["profit_low"] * out["n_treatment"] - out["contact_cost"]
    out["net_profit_high"] = out["profit_high"] * out["n_treatment"] - out["contact_cost"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["roi"] = np.where(out["spend"] > 0, out["net_profit"] / out["spend"], np.nan)
    return out


@reads(campaigns="campaign_id cost_per_contact")
def campaign_economics(outcomes: pd.DataFrame, campaigns: pd.DataFrame, treatment: str = "group",
                       profit: str = "gross_profit", level: float = 0.95) -> pd.DataFrame:
    """Per campaign: the A/B read of gross profit per contact, the spend and the ROI.

    ``outcomes`` is :func:`contact_outcomes` (with ``gross_profit`` and ``coupon_value``).
    Columns: ``campaign_id, channel, offer, n_treatment, n_control``, ``profit_diff`` (gross
    profit per contact, treated - holdout, NT$; net of coupons since revenue is paid amount)
    with Welch ``profit_low, profit_high``; ``contact_cost = cost_per_contact * n_treatment``;
    ``coupon_cost`` (coupons redeemed by the treated); ``spend = contact_cost + coupon_cost``;
    ``incremental_margin = profit_diff * n_treatment + coupon_cost`` (margin caused before
    marketing costs); ``net_profit = incremental_margin - spend`` (which equals
    ``profit_diff * n_treatment - contact_cost``) with its interval ``net_profit_low,
    net_profit_high``, and ``roi = net_profit / spend``. ``profit_se`` is the standard error
    of ``profit_diff``.

    Parameters
    ----------
    outcomes : pd.DataFrame
        The table of :func:`contact_outcomes` with ``gross_profit`` and ``coupon_value``.
    campaigns : pd.DataFrame
        The shop's ``campaigns`` table (campaign_id, channel, offer, cost_per_contact).
    treatment : str, default "group"
        The treatment column.
    profit : str, default "gross_profit"
        The per-contact profit column, NT$.
    level : float, default 0.95
        Confidence level of the intervals.

    Returns
    -------
    pd.DataFrame
        One row per campaign with the columns above.
    """
    func = "campaign_economics"
    outcomes = _frame(outcomes, "contact outcomes", func)
    _columns(outcomes, "contact outcomes", func, ["campaign_id", treatment, profit, "coupon_value"])
    campaigns = _campaign_frame(campaigns, func)
    _columns(campaigns, "campaigns", func, ["cost_per_contact"])
    if "converted" not in outcomes:
        raise ValueError(f"{func}: contact outcomes need a 'converted' column; pass "
                         "contact_outcomes(shop.campaign_contacts, ...).")
    ab = ab_test(outcomes, by="campaign_id", treatment=treatment, conversion="converted",
                 value=profit, level=level, table="contact outcomes")
    w = treatment_flags(outcomes[treatment], "contact outcomes", treatment, func)
    coupons = pd.Series(outcomes["coupon_value"].to_numpy() * w).groupby(
        outcomes["campaign_id"].to_numpy()).sum()
    camp = campaigns.set_index("campaign_id")
    out = pd.DataFrame({"campaign_id": ab["campaign_id"].to_numpy()})
    for col in ("channel", "offer"):
        if col in camp:
            out[col] = camp.loc[out["campaign_id"], col].to_numpy()
    out["n_treatment"] = ab["n_treatment"].to_numpy()
    out["n_control"] = ab["n_control"].to_numpy()
    out["profit_diff"] = ab["value_diff"].to_numpy()
    out["profit_se"] = ab["value_se"].to_numpy()
    out["profit_low"] = ab["value_low"].to_numpy()
    out["profit_high"] = ab["value_high"].to_numpy()
    return _add_money(out, camp["cost_per_contact"], coupons)


def roi_by(economics: pd.DataFrame, by: str = "channel", level: float = 0.95) -> pd.DataFrame:
    """Sum a :func:`campaign_economics` table by ``by`` (e.g. channel) and recompute the ROI
    from the sums (a ratio of sums, not a mean of ratios: big campaigns weigh more).

    ``net_profit_low, net_profit_high``: a normal interval for the summed net profit, with
    the campaigns' independent errors added in quadrature (``se = sqrt(sum (n_t se_k)^2)``);
    campaigns without a standard error (no variation at all) add none.

    Parameters
    ----------
    economics : pd.DataFrame
        The table of :func:`campaign_economics`.
    by : str, default "channel"
        The column to sum by.
    level : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    pd.DataFrame
        One row per value of ``by``.
    """
    func = "roi_by"
    level = _level(level, func)
    economics = _frame(economics, "campaign economics", func)
    _columns(economics, "campaign economics", func, [by, "n_treatment", "spend", "incremental_margin",
                                                      "net_profit", "profit_se"])
    key = economics[by].astype("str") if isinstance(economics[by].dtype, pd.CategoricalDtype) else economics[by]
    var = (economics["profit_se"].fillna(0.0) * economics["n_treatment"]) ** 2
    g = economics.assign(_var=var.to_numpy()).groupby(key.to_numpy(), sort=True).agg(
        campaigns=("n_treatment", "size"), n_treatment=("n_treatment", "sum"),
        spend=("spend", "sum"), incremental_margin=("incremental_margin", "sum"),
        net_profit=("net_profit", "sum"), _var=("_var", "sum"))
    z = stats.norm.ppf(0.5 + level / 2)
    se = np.sqrt(g.pop("_var"))
    g["net_profit_low"] = g["net_profit"] - z * se
    g["net_profit_high"] = g["net_profit"] + z * se
    g["roi"] = np.where(g["spend"] > 0, g["net_profit"] / g["spend"], np.nan)
    return g.rename_axis(by).reset_index()
