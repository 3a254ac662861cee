"""The indicator registry: every scorecard indicator with its perspective, labels and tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from crmlab.kpi.loyalty import (
    at_risk_share,
    churn_rate,
    referral_rate,
    repeat_purchase_rate,
    retention_rate,
)
from crmlab.kpi.marketing import (
    campaign_roi,
    click_rate,
    conversion_uplift,
    cost_benefit_ratio,
    incremental_revenue_per_contact,
    open_rate,
)
from crmlab.kpi.satisfaction import (
    defect_rate,
    nps,
    order_csat,
    product_rating,
    return_rate,
    service_csat,
)
from crmlab.kpi.service import call_service_level, sla_first_response, sla_resolution
from crmlab.kpi.value import (
    active_customers,
    average_order_value,
    purchase_frequency,
    recency_days,
    revenue,
)

__all__ = ["INDICATORS", "PERSPECTIVES", "Indicator"]


#: The scorecard's perspectives, in display order.
PERSPECTIVES: tuple[str, ...] = ("satisfaction", "loyalty", "value", "marketing", "service")


@dataclass(frozen=True)
class Indicator:
    """One scorecard indicator: what it is called, how to read it and how to compute it.

    ``compute(shop, start, end)`` calls the module function on the shop's ``tables``;
    ``direction`` is ``"higher"`` or ``"lower"`` (is better); ``unit`` is one of ``share``,
    ``NT$``, ``points``, ``days``, ``count``, ``ratio``, ``stars``.

    Parameters
    ----------
    name : str
        The indicator's name (the function's).
    perspective : str
        One of :data:`PERSPECTIVES`.
    label, label_zh : str
        English and 繁體中文 labels.
    direction : {"higher", "lower"}
        Which way is better.
    unit : str
        share, NT$, points, days, count, ratio or stars.
    tables : tuple of str
        The shop tables the function takes, in order.
    compute : callable
        ``compute(shop, start, end)`` -> float.
    """

    name: str
    perspective: str
    label: str
    label_zh: str
    direction: str
    unit: str
    tables: tuple[str, ...]
    compute: Callable[[Any, pd.Timestamp, pd.Timestamp], float]


def _ind(name: str, perspective: str, label: str, label_zh: str, direction: str, unit: str,
         tables: tuple[str, ...], func: Callable[..., float]) -> Indicator:
    def compute(shop: Any, start: pd.Timestamp, end: pd.Timestamp) -> float:
        return func(*(shop.tables[t] for t in tables), start, end)

    compute.__name__ = f"compute_{name}"
    compute.__doc__ = func.__doc__
    return Indicator(name, perspective, label, label_zh, direction, unit, tables, compute)


_CAMPAIGN_MONEY = ("campaign_contacts", "campaigns", "orders", "order_items", "products")
_LINES = ("orders", "order_items", "returns")

#: Every indicator of the scorecard, by name, in display order.
INDICATORS: dict[str, Indicator] = {i.name: i for i in (
    _ind("order_csat", "satisfaction", "Shopping-experience CSAT", "購物體驗滿意度", "higher", "share",
         ("surveys",), order_csat),
    _ind("service_csat", "satisfaction", "Service CSAT", "服務滿意度", "higher", "share",
         ("tickets",), service_csat),
    _ind("product_rating", "satisfaction", "Product rating", "商品評分", "higher", "stars",
         ("reviews",), product_rating),
    _ind("nps", "satisfaction", "Net Promoter Score", "淨推薦值", "higher", "points",
         ("surveys",), nps),
    _ind("return_rate", "satisfaction", "Return rate", "退貨率", "lower", "share", _LINES, return_rate),
    _ind("defect_rate", "satisfaction", "Defect rate", "瑕疵率", "lower", "share", _LINES, defect_rate),
    _ind("repeat_purchase_rate", "loyalty", "Repeat purchase rate", "回購率", "higher", "share",
         ("orders",), repeat_purchase_rate),
    _ind("retention_rate", "loyalty", "Retention rate", "留存率", "higher", "share",
         ("orders",), retention_rate),
    _ind("churn_rate", "loyalty", "Churn rate", "流失率", "lower", "share", ("orders",), churn_rate),
    _ind("at_risk_share", "loyalty", "At-risk share (early warning)", "流失預警比例", "lower", "share",
         ("orders",), at_risk_share),
    _ind("referral_rate", "loyalty", "Referral rate", "推薦率", "higher", "share",
         ("customers",), referral_rate),
    _ind("revenue", "value", "Revenue", "營收", "higher", "NT$", ("orders",), revenue),
    _ind("active_customers", "value", "Active customers", "活躍客戶數", "higher", "count",
         ("orders",), active_customers),
    _ind("average_order_value", "value", "Average order value", "平均訂單價值", "higher", "NT$",
         ("orders",), average_order_value),
    _ind("purchase_frequency", "value", "Purchase frequency", "購買頻率", "higher", "ratio",
         ("orders",), purchase_frequency),
    _ind("recency_days", "value", "Recency (days)", "最近購買天數", "lower", "days",
         ("orders",), recency_days),
    _ind("open_rate", "marketing", "Open rate", "開信率", "higher", "share",
         ("campaign_contacts", "campaigns"), open_rate),
    _ind("click_rate", "marketing", "Click rate", "點擊率", "higher", "share",
         ("campaign_contacts", "campaigns"), click_rate),
    _ind("conversion_uplift", "marketing", "Conversion uplift vs holdout", "轉換提升", "higher", "share",
         ("campaign_contacts", "campaigns"), conversion_uplift),
    _ind("incremental_revenue_per_contact", "marketing", "Incremental revenue per contact",
         "每次接觸增量營收", "higher", "NT$", ("campaign_contacts", "campaigns"),
         incremental_revenue_per_contact),
    _ind("campaign_roi", "marketing", "Campaign ROI", "行銷投資報酬率", "higher", "ratio",
         _CAMPAIGN_MONEY, campaign_roi),
    _ind("cost_benefit_ratio", "marketing", "Cost-benefit ratio (incremental revenue / spend)", "成本效益比",
         "higher", "ratio", _CAMPAIGN_MONEY, cost_benefit_ratio),
    _ind("sla_first_response", "service", "First-response SLA attainment", "首次回應達成率",
         "higher", "share", ("tickets",), sla_first_response),
    _ind("sla_resolution", "service", "Resolution SLA attainment", "解決時效達成率", "higher", "share",
         ("tickets",), sla_resolution),
    _ind("call_service_level", "service", "Calls answered within 20 s", "電話服務水準", "higher",
         "share", ("calls",), call_service_level),
)}
