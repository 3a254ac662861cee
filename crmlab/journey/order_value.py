"""Order value (平均訂單價值, AOV): revenue as a product of factors, and which factor moved it.

:func:`order_value_decomposition` (revenue = visitors x conversion x orders per buyer x
items per order x unit price), :func:`traffic_decomposition` (traffic x stay x attention x
conversion x items x price, as in the course deck) and :func:`decompose_change` (each
factor's share of a change in revenue between two periods).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from crmlab._checks import as_frame, datetime_column, reads, require_columns
from crmlab.journey._common import _codes
from crmlab.journey.funnel import FUNNEL_STEPS

__all__ = ["ORDER_VALUE_FACTORS", "TRAFFIC_FACTORS", "decompose_change", "order_value_decomposition",
           "traffic_decomposition"]


ORDER_VALUE_FACTORS = ("visitors", "conversion_rate", "orders_per_buyer", "items_per_order",
                       "unit_price")
TRAFFIC_FACTORS = ("traffic", "stay_rate", "attention_rate", "conversion_rate",
                   "items_per_order", "unit_price")


def _online_orders(orders: pd.DataFrame, online_only: bool) -> tuple[pd.DataFrame, int]:
    as_frame(orders, "orders")
    require_columns(orders, "orders", ["customer_id", "order_ts", "amount", "n_items"])
    datetime_column(orders, "orders", "order_ts")
    if not online_only:
        return orders, 0
    require_columns(orders, "orders", ["session_id"], "online_only=True needs orders.session_id.")
    online = orders["session_id"].notna()
    return orders.loc[online], int((~online).sum())


def _grouped(df: pd.DataFrame, ts_col: str, freq: str | None) -> pd.core.groupby.DataFrameGroupBy:
    if freq is None:
        return df.assign(period="all").groupby("period")
    try:
        grouper = pd.Grouper(key=ts_col, freq=freq)
        return df.groupby(grouper)
    except ValueError as exc:
        raise ValueError(f"freq={freq!r} is not a pandas frequency; use e.g. 'MS' or 'W'.") from exc


@reads(sessions="customer_id start_ts", orders="")
def order_value_decomposition(
    sessions: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    freq: str | None = None,
    online_only: bool = True,
) -> pd.DataFrame:
    """Revenue = visitors x conversion rate x orders per buyer x items per order x unit price.

    ``visitors`` = distinct customers with a session, ``conversion_rate`` = buyers /
    visitors (buyers = distinct customers with an order), ``orders_per_buyer``,
    ``items_per_order`` (= ``n_items`` / orders) and ``unit_price`` (= revenue / items).
    The product telescopes to ``revenue`` exactly; ``aov`` (average order value, 平均訂單價值: revenue per order) =
    items per order x unit price. With ``freq`` (e.g. ``"MS"``) one row per period (sessions
    by ``start_ts``, orders by ``order_ts``), else a single row ``"all"``.

    Only online orders (with a ``session_id``) count by default, because store orders have no
    website session; ``result.attrs["n_offline_orders"]`` says how many were left out. The column
    ``check`` is the product of the factors, which equals ``revenue``.

    Parameters
    ----------
    sessions : pd.DataFrame
        The shop's ``sessions`` (customer_id, start_ts).
    orders : pd.DataFrame
        The shop's ``orders`` (customer_id, order_ts, amount, n_items, session_id).
    freq : str, optional
        pandas frequency of the periods; default one row for everything.
    online_only : bool, default True
        Count only orders with a website session.

    Returns
    -------
    pd.DataFrame
        One row per period: the counts, the factors, aov and check.
    """
    sessions = as_frame(sessions, "sessions")
    require_columns(sessions, "sessions", ["customer_id", "start_ts"])
    datetime_column(sessions, "sessions", "start_ts")
    orders, n_off = _online_orders(orders, online_only)
    vis = _grouped(sessions, "start_ts", freq)["customer_id"].nunique().rename("visitors")
    og = _grouped(orders, "order_ts", freq)
    counts = [
        vis,
        og["customer_id"].nunique().rename("buyers"),
        og.size().rename("orders"),
        og["n_items"].sum().rename("items"),
        og["amount"].sum().rename("revenue"),
    ]
    ratios = {"conversion_rate": ("buyers", "visitors"), "orders_per_buyer": ("orders", "buyers"),
              "items_per_order": ("items", "orders"), "unit_price": ("revenue", "items"),
              "aov": ("revenue", "orders")}
    return _factor_chain(counts, ratios, ORDER_VALUE_FACTORS, n_off)


@reads(sessions="start_ts n_events", orders="")
def traffic_decomposition(
    sessions: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    freq: str | None = None,
    depth_col: str = "funnel_depth",
    attention_step: str = "product_view",
) -> pd.DataFrame:
    """The course deck's chain: traffic x stay x attention x conversion x items x price.

    On sessions: ``traffic`` = sessions; ``stay_rate`` = share of sessions that did not
    bounce (more than one event, ``n_events >= 2``); ``attention_rate`` = share of staying
    sessions that reached ``attention_step`` (looked at a product); ``conversion_rate`` =
    online orders / attentive sessions; ``items_per_order``; ``unit_price`` = revenue /
    items. The product equals online ``revenue`` (column ``check``). With ``freq`` one row
    per period.

    Parameters
    ----------
    sessions : pd.DataFrame
        The shop's ``sessions`` (start_ts, n_events, the depth column).
    orders : pd.DataFrame
        The shop's ``orders``; online orders count.
    freq : str, optional
        pandas frequency of the periods; default one row.
    depth_col : str, default "funnel_depth"
        The sessions' deepest funnel step.
    attention_step : str, default "product_view"
        The funnel step that counts as attention.

    Returns
    -------
    pd.DataFrame
        One row per period: the counts, the factors and check.
    """
    sessions = as_frame(sessions, "sessions")
    require_columns(sessions, "sessions", ["start_ts", "n_events", depth_col])
    datetime_column(sessions, "sessions", "start_ts")
    orders, n_off = _online_orders(orders, True)
    depth = _codes(sessions[depth_col].astype("str"), FUNNEL_STEPS)
    if attention_step not in FUNNEL_STEPS:
        raise ValueError(f"traffic_decomposition: attention_step must be one of {list(FUNNEL_STEPS)}.")
    stayed = sessions["n_events"].to_numpy() >= 2
    s = pd.DataFrame({"start_ts": sessions["start_ts"], "stayed": stayed,
                      "attentive": stayed & (depth >= FUNNEL_STEPS.index(attention_step))})
    sg = _grouped(s, "start_ts", freq)
    og = _grouped(orders, "order_ts", freq)
    counts = [
        sg.size().rename("traffic"),
        sg["stayed"].sum().rename("stayed"),
        sg["attentive"].sum().rename("attentive"),
        og.size().rename("orders"),
        og["n_items"].sum().rename("items"),
        og["amount"].sum().rename("revenue"),
    ]
    ratios = {"stay_rate": ("stayed", "traffic"), "attention_rate": ("attentive", "stayed"),
              "conversion_rate": ("orders", "attentive"), "items_per_order": ("items", "orders"),
              "unit_price": ("revenue", "items")}
    return _factor_chain(counts, ratios, TRAFFIC_FACTORS, n_off)


def _factor_chain(
    counts: list[pd.Series], ratios: Mapping[str, tuple[str, str]], factors: Sequence[str], n_off: int
) -> pd.DataFrame:
    """The table of a telescoping decomposition: per-period counts (0 where a period has none;
    all but ``revenue`` are whole numbers), each ratio ``name = numerator / denominator``,
    and ``check`` = the product of ``factors``, which equals revenue when the chain telescopes."""
    out = pd.concat(counts, axis=1).fillna(0)
    for col in out.columns.drop("revenue"):
        out[col] = out[col].astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, (numerator, denominator) in ratios.items():
            out[name] = out[numerator] / out[denominator]
    check = np.ones(len(out))
    for f in factors:
        check = check * out[f].astype("float64").to_numpy()
    out["check"] = check
    out.index.name = "period"
    out = out.reset_index()
    out.attrs["n_offline_orders"] = n_off
    return out


def decompose_change(
    before: pd.Series | Mapping[str, float],
    after: pd.Series | Mapping[str, float],
    factors: Sequence[str] = ORDER_VALUE_FACTORS,
) -> pd.DataFrame:
    """Which factor moved revenue? Log-change contributions between two periods.

    Because revenue is a product of factors, ``ln(R_after / R_before) = sum_k ln(f_k,after /
    f_k,before)``: each factor's log ratio is its additive contribution, and
    ``share_of_change`` divides by the total log change (shares sum to 1). Pass two rows of
    :func:`order_value_decomposition` (or of :func:`traffic_decomposition` with
    ``factors=TRAFFIC_FACTORS``).

    Parameters
    ----------
    before, after : pd.Series or mapping
        The factors of the two periods (rows of a decomposition table).
    factors : sequence of str, default ORDER_VALUE_FACTORS
        The factors whose product is revenue.

    Returns
    -------
    pd.DataFrame
        One row per factor: factor, before, after, ratio, log_contribution, share_of_change.
    """
    rows = []
    for f in factors:
        try:
            b, a = float(before[f]), float(after[f])
        except KeyError:
            raise ValueError(f"decompose_change: factor '{f}' missing; pass rows that hold {list(factors)}.") from None
        if not (b > 0 and a > 0):
            raise ValueError(
                f"decompose_change: factor '{f}' must be positive in both periods (got {b}, {a}); "
                "pick periods with visitors and orders."
            )
        rows.append({"factor": f, "before": b, "after": a, "ratio": a / b,
                     "log_contribution": float(np.log(a / b))})
    out = pd.DataFrame(rows)
    total = out["log_contribution"].sum()
    out["share_of_change"] = out["log_contribution"] / total if total != 0 else np.nan
    return out
