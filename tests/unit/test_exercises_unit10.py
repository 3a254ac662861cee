"""The unit-10 exercise checks accept right answers in other shapes and reject typical
mistakes (exercises/10_after_sales_exercises.ipynb, crmlab/exercises/answers/unit10.py).

The right answers here are computed in plain pandas/numpy, independently of
crmlab.aftersales (which the answer functions use), so each test also cross-checks the two."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import crmlab.exercises as ex
from crmlab.data import simulate
from crmlab.exercises.registry import answers_module


@pytest.fixture(scope="module")
def shop():
    return simulate("tiny", seed=11)


@pytest.fixture(scope="module")
def lines(shop):
    ret = shop.returns.rename(columns={"quantity": "returned_qty"})
    out = shop.order_items.merge(ret, on=["order_id", "line_no"], how="left", indicator=True,
                                 suffixes=("", "_ret"))
    out["returned"] = out.pop("_merge") == "both"
    return out.merge(shop.products[["product_id", "category", "unit_cost"]], on="product_id")


def test_return_rate(shop, lines):
    right = float(lines["returned"].mean())
    assert ex.check("after_return_rate", right, data=shop)
    # mistake: share of orders with a return
    by_order = float(shop.orders["order_id"].isin(shop.returns["order_id"]).mean())
    assert not ex.check("after_return_rate", by_order, data=shop)
    # mistake: returned units / units sold (quantities, not lines)
    units = float(lines["returned_qty"].fillna(0).sum() / lines["quantity"].sum())
    assert units != pytest.approx(right, rel=1e-6)
    assert not ex.check("after_return_rate", units, data=shop)


def test_return_rate_by_category(shop, lines):
    right = lines.groupby("category", observed=True)["returned"].mean()
    assert ex.check("after_return_rate_by_category", right, data=shop)
    assert ex.check("after_return_rate_by_category", right.to_frame("rate"), data=shop)
    # mistake: each category's share of the returns
    share = lines.loc[lines["returned"], "category"].value_counts(normalize=True)
    assert not ex.check("after_return_rate_by_category", share, data=shop)


def test_wilson_fashion(shop, lines):
    f = lines.loc[lines["category"] == "fashion", "returned"]
    k, n, z = int(f.sum()), len(f), stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert ex.check("after_wilson_fashion", [centre - half, centre + half], data=shop)
    # mistake: Wald interval
    se = math.sqrt(p * (1 - p) / n)
    assert not ex.check("after_wilson_fashion", [p - z * se, p + z * se], data=shop)
    # mistake: 90% instead of 95%
    z90 = stats.norm.ppf(0.95)
    c90 = (p + z90**2 / (2 * n)) / (1 + z90**2 / n)
    h90 = z90 / (1 + z90**2 / n) * math.sqrt(p * (1 - p) / n + z90**2 / (4 * n**2))
    assert not ex.check("after_wilson_fashion", [c90 - h90, c90 + h90], data=shop)


def test_chi2_category(shop, lines):
    table = pd.crosstab(lines["category"], lines["returned"])
    right = float(stats.chi2_contingency(table).statistic)
    assert ex.check("after_chi2_category", right, data=shop)
    # mistake: Pearson X^2 against equal return counts per category (goodness of fit)
    counts = lines.loc[lines["returned"], "category"].value_counts()
    counts = counts[counts > 0]
    assert not ex.check("after_chi2_category", float(stats.chisquare(counts).statistic), data=shop)
    # mistake: the p-value instead of the statistic
    assert not ex.check("after_chi2_category", float(stats.chi2_contingency(table).pvalue), data=shop)


def test_return_cost_share(shop, lines):
    """Corrected in issue 32: a refund undoes a sale (not a cost; the unit comes back), the
    cost of a return is courier + handling + units that cannot be resold (defective, damaged
    in transit); the base is the margin of the sales that stuck."""
    ret = lines["returned"]
    back = lines["returned_qty"].fillna(0).where(ret, 0)
    refunded = ret & (lines["return_type"].astype(str) == "refund")
    lost = ret & lines["reason"].astype(str).isin(["defective", "damaged_in_transit"])
    kept = (lines["line_amount"] - lines["refund_amount"].fillna(0)
            - lines["unit_cost"] * (lines["quantity"] - back.where(refunded, 0)))
    rc = (lines[["shipping_cost", "restocking_cost"]].fillna(0).sum(axis=1)
          + (lines["unit_cost"] * back).where(lost, 0))
    old_rc = (lines[["refund_amount", "shipping_cost", "restocking_cost"]].fillna(0).sum(axis=1)
              + np.where(lines["return_type"].astype(str) == "exchange",
                         lines["unit_cost"] * back, 0))
    margin = lines["line_amount"] - lines["unit_cost"] * lines["quantity"]
    g = pd.DataFrame({"cat": lines["category"].astype(str), "rc": rc, "kept": kept, "m": margin,
                      "old": old_rc, "rev": lines["line_amount"]}).groupby("cat").sum()
    assert ex.check("after_return_cost_share", g["rc"] / g["kept"], data=shop)
    # the old answer (every refund a cost) overstates fashion's share several times
    # (on the shipped small shop 0.48 against 0.09), and is rejected
    assert g.loc["fashion", "old"] / g.loc["fashion", "m"] > 2 * g.loc["fashion", "rc"] / g.loc["fashion", "kept"]
    assert not ex.check("after_return_cost_share", g["old"] / g["m"], data=shop)
    # mistake: over revenue
    assert not ex.check("after_return_cost_share", g["rc"] / g["rev"], data=shop)
    # mistake: base = margin of all sales
    assert not ex.check("after_return_cost_share", g["rc"] / g["m"], data=shop)


def test_complaints_n(shop):
    t = shop.tickets
    serious = t["category"].isin(["defect", "delivery", "return", "billing"]) & t["priority"].isin(["high", "urgent"])
    right = int((serious | t["reopened"]).sum())
    assert ex.check("after_complaints_n", right, data=shop)
    assert ex.check("after_complaints_n", float(right), data=shop)
    # mistake: "and" instead of "or" for reopened
    assert not ex.check("after_complaints_n", int((serious & t["reopened"]).sum()), data=shop)
    # mistake: reopened forgotten
    assert not ex.check("after_complaints_n", int(serious.sum()), data=shop)


def _weekly_view(shop, look_ahead=False):
    """The weekly report without look-ahead: complaints by category and priority only (a
    reopening is known only after the first resolution, so not on report night)."""
    t = shop.tickets
    serious = t["category"].isin(["defect", "delivery", "return", "billing"]) & t["priority"].isin(["high", "urgent"])
    c = t.loc[serious | t["reopened"]] if look_ahead else t.loc[serious]
    report = c["created_ts"].dt.to_period("W").dt.end_time.dt.floor("s").clip(upper=shop.end_ts)
    done = c["resolved_ts"].notna() & (c["resolved_ts"] <= report)
    hours = ((c["resolved_ts"].where(done, report) - c["created_ts"]).dt.total_seconds() / 3600).to_numpy()
    return hours, done.to_numpy()


def test_km_within_72h(shop):
    hours, event = _weekly_view(shop)
    assert (~event).sum() > 0  # some complaints are open at their report: censoring matters
    S = 1.0
    for t in np.unique(hours[event & (hours <= 72)]):
        S *= 1 - ((hours == t) & event).sum() / (hours >= t).sum()
    assert ex.check("after_km_within_72h", 1 - S, data=shop)
    # mistake: naive share among resolved complaints
    assert not ex.check("after_km_within_72h", float((hours[event] <= 72).mean()), data=shop)
    # mistake: open complaints counted as "not within 72 h" (share of all complaints)
    assert not ex.check("after_km_within_72h", float((event & (hours <= 72)).mean()), data=shop)
    # mistake: look-ahead, reopened tickets flagged in the weekly report
    hours, event = _weekly_view(shop, look_ahead=True)
    S = 1.0
    for t in np.unique(hours[event & (hours <= 72)]):
        S *= 1 - ((hours == t) & event).sum() / (hours >= t).sum()
    assert not ex.check("after_km_within_72h", 1 - S, data=shop)


def _nps_scores(shop):
    s = shop.surveys
    return s.loc[(s["survey_type"] == "nps") & s["responded"], "score"].to_numpy(dtype=float)


def test_nps_and_se(shop):
    x = _nps_scores(shop)
    p, d, n = (x >= 9).mean(), (x <= 6).mean(), len(x)
    assert ex.check("after_nps", 100 * (p - d), data=shop)
    # mistakes: detractors 0-5; a share instead of points; mean score
    assert not ex.check("after_nps", 100 * (p - (x <= 5).mean()), data=shop)
    assert not ex.check("after_nps", p - d, data=shop)
    assert not ex.check("after_nps", float(x.mean()), data=shop)
    se = 100 * math.sqrt((p + d - (p - d) ** 2) / n)
    assert ex.check("after_nps_se", se, data=shop)
    # mistakes: without the covariance; the sample sd of the codes without dividing by sqrt(n)
    assert not ex.check("after_nps_se", 100 * math.sqrt((p * (1 - p) + d * (1 - d)) / n), data=shop)
    codes = np.where(x >= 9, 1, np.where(x <= 6, -1, 0))
    assert not ex.check("after_nps_se", 100 * codes.std(), data=shop)
    # the same standard error from the +1/0/-1 codes (population variance / n)
    assert ex.check("after_nps_se", 100 * codes.std() / math.sqrt(n), data=shop)


def test_csat_quarterly(shop):
    s = shop.surveys
    a = s.loc[(s["survey_type"] == "csat") & (s["touchpoint"] == "order") & s["responded"]]
    q = a["sent_ts"].dt.to_period("Q").astype(str)
    right = (a["score"] >= 4).groupby(q).mean()
    assert ex.check("after_csat_quarterly", right, data=shop)
    assert ex.check("after_csat_quarterly", right.to_dict(), data=shop)
    # mistake: top-3-box (3-5)
    assert not ex.check("after_csat_quarterly", (a["score"] >= 3).groupby(q).mean(), data=shop)
    # mistake: over invitations (non-respondents counted as not satisfied)
    inv = s.loc[(s["survey_type"] == "csat") & (s["touchpoint"] == "order")]
    wrong = (inv["score"].fillna(0) >= 4).groupby(inv["sent_ts"].dt.to_period("Q").astype(str)).mean()
    assert not ex.check("after_csat_quarterly", wrong, data=shop)


def test_driver_coefs(shop):
    from crmlab import aftersales

    exp = aftersales.order_experiences(shop.orders, shop.returns, shop.tickets, end=shop.end_ts)
    s = shop.surveys
    a = s.loc[(s["survey_type"] == "csat") & (s["touchpoint"] == "order") & s["responded"]]
    d = a[["order_id", "score"]].astype({"order_id": "int64"}).merge(exp, on="order_id")
    X = d[["late_days", "returned", "defect", "support_contact", "unresolved_ticket"]].astype(float)
    X = X.loc[:, X.std() > 0]
    Z = (X - X.mean()) / X.std()
    y = d["score"].to_numpy(dtype=float)
    beta = np.linalg.lstsq(np.c_[np.ones(len(Z)), Z], y, rcond=None)[0][1:]
    right = pd.Series(beta, index=Z.columns)
    assert ex.check("after_driver_coefs", right, data=shop)
    # mistake: standardized with the population sd (ddof=0) -- a different scale
    Z0 = (X - X.mean()) / X.std(ddof=0)
    b0 = np.linalg.lstsq(np.c_[np.ones(len(Z0)), Z0], y, rcond=None)[0][1:]
    assert not ex.check("after_driver_coefs", pd.Series(b0, index=Z0.columns), data=shop)
    # mistake: raw (unstandardized) drivers
    braw = np.linalg.lstsq(np.c_[np.ones(len(X)), X], y, rcond=None)[0][1:]
    assert not ex.check("after_driver_coefs", pd.Series(braw, index=X.columns), data=shop)


def test_window_refused_known_answer():
    """Three returns asked 3, 14 and 20.5 days after delivery (one more after the data end):
    a 14-day window refuses only the 20.5-day one, 1 of 3; counted from the order (2 days
    before delivery) it would refuse 2."""
    from types import SimpleNamespace

    unit10 = answers_module("unit10")

    delivered = pd.Timestamp("2024-01-03")
    orders = pd.DataFrame({"order_id": [1, 2, 3, 4], "amount": [100.0] * 4,
                           "order_ts": delivered - pd.Timedelta(days=2), "delivered_ts": delivered})
    items = pd.DataFrame({"order_id": [1, 2, 3, 4], "product_id": 1, "quantity": 1})
    returns = pd.DataFrame({"order_id": [1, 2, 3, 4], "product_id": 1, "quantity": 1,
                            "requested_ts": delivered + pd.to_timedelta([3, 14, 20.5, 400], unit="D"),
                            "reason": "changed_mind", "return_type": "refund", "refund_amount": 100.0,
                            "shipping_cost": 0.0, "restocking_cost": 10.0})
    fake = SimpleNamespace(orders=orders, order_items=items, returns=returns,
                           products=pd.DataFrame({"product_id": [1], "unit_cost": [40.0]}),
                           end_ts=pd.Timestamp("2024-06-01"))
    assert unit10.window_refused(fake) == pytest.approx(1 / 3)
    assert unit10._window_from_order(fake) == pytest.approx(2 / 3)


def test_window_refused(shop):
    r = shop.returns.loc[shop.returns["requested_ts"] <= shop.end_ts]
    days = (r["requested_ts"] - r["order_id"].map(shop.orders.set_index("order_id")["delivered_ts"])).dt.days
    exact = (r["requested_ts"] - r["order_id"].map(shop.orders.set_index("order_id")["delivered_ts"])) \
        / pd.Timedelta(days=1)
    right = float((exact > 14).mean())
    assert 0 < right < 1
    assert ex.check("after_window_refused", right, data=shop)
    # mistakes: per order; percent
    assert not ex.check("after_window_refused", float((exact > 14).sum() / len(shop.orders)), data=shop)
    assert not ex.check("after_window_refused", 100 * right, data=shop)
    # whole days (floor) can only refuse fewer returns
    assert float((days > 14).mean()) <= right


def test_window_margin_known_answer():
    """Two orders of NT$100 (unit cost 40). Return A: refunded NT$100 on day 3, sellable, parcel
    NT$80 + restocking NT$10; return B: refunded NT$100 on day 20, defective (written off), NT$10
    restocking. Today: 200 - 80 - 200 + 40 - 100 = -140. A 14-day window refuses B: 200 - 80 -
    100 + 40 - 90 = -30."""
    from types import SimpleNamespace

    from crmlab import aftersales
    unit10 = answers_module("unit10")

    delivered = pd.Timestamp("2024-01-03")
    orders = pd.DataFrame({"order_id": [1, 2], "amount": [100.0, 100.0],
                           "order_ts": delivered - pd.Timedelta(days=2), "delivered_ts": delivered})
    items = pd.DataFrame({"order_id": [1, 2], "product_id": 1, "quantity": 1})
    returns = pd.DataFrame({"order_id": [1, 2], "product_id": 1, "quantity": 1,
                            "requested_ts": delivered + pd.to_timedelta([3, 20], unit="D"),
                            "reason": ["changed_mind", "defective"], "return_type": "refund",
                            "refund_amount": 100.0, "shipping_cost": [80.0, 0.0], "restocking_cost": 10.0})
    fake = SimpleNamespace(orders=orders, order_items=items, returns=returns,
                           products=pd.DataFrame({"product_id": [1], "unit_cost": [40.0]}),
                           end_ts=pd.Timestamp("2024-06-01"))
    assert "defective" in aftersales.WRITE_OFF_REASONS and "changed_mind" not in aftersales.WRITE_OFF_REASONS
    assert unit10.window_margin(fake) == pytest.approx(-30.0)
    assert unit10._margin_handling_kept(fake) == pytest.approx(-40.0)  # B's NT$10 restocking still paid


def test_window_margin(shop):
    cost = shop.products.set_index("product_id")["unit_cost"]
    r = shop.returns.loc[shop.returns["requested_ts"] <= shop.end_ts]
    age = (r["requested_ts"] - r["order_id"].map(shop.orders.set_index("order_id")["delivered_ts"])).dt.total_seconds()
    total = shop.orders["amount"].sum() - (shop.order_items["quantity"]
                                           * shop.order_items["product_id"].map(cost)).sum()
    for row in r.loc[age <= 14 * 86400].itertuples():
        goods = row.quantity * cost[row.product_id]
        off = str(row.reason) in {"defective", "damaged_in_transit"}
        if str(row.return_type) == "refund":
            total += -row.refund_amount + (0.0 if off else goods)
        elif off:
            total -= goods
        total -= row.shipping_cost + row.restocking_cost
    assert ex.check("after_window_margin", float(total), data=shop)
    assert not ex.check("after_window_margin", float(total) * 1.01, data=shop)


def test_the_provided_line_table_keeps_returned_a_flag():
    """Exercise 5 starts from the provided `lines` when exercises 1-2 are open (the checkpoint
    hands it over), and its model solution masks with `returned`: 0/1 floats broke it."""
    import crmlab.data
    unit10 = answers_module("unit10")

    lines = unit10.lines_table(crmlab.data.get_shop("tiny", seed=42))
    assert lines["returned"].dtype == bool and lines["returned"].any()
    back = lines["returned_qty"].fillna(0).where(lines["returned"], 0)  # the solution's first step
    assert (back >= 0).all()
