"""The unit-12 exercise checks accept right answers computed another way and reject typical
mistakes (exercises/12_crm_scorecard_exercises.ipynb, crmlab/exercises/answers/unit12.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab.exercises as ex
from crmlab import feedback, kpi
from crmlab.data import simulate


@pytest.fixture(scope="module")
def shop():
    return simulate("tiny", seed=11)


@pytest.fixture(scope="module")
def period(shop):
    return kpi.period_bounds("last", "QE", shop)  # 2024Q4 on the tiny shop


def _in(ts, start, end):
    return (ts >= start) & (ts < end)


def test_value_basics(shop, period):
    o = shop.orders.loc[_in(shop.orders["order_ts"], *period)]
    right = {"revenue": o["amount"].sum(), "active_customers": o["customer_id"].nunique(),
             "average_order_value": o["amount"].mean(),
             "purchase_frequency": o.groupby("customer_id").size().mean()}
    assert ex.check("kpi_value_basics", right, data=shop)
    assert ex.check("kpi_value_basics", pd.Series(right), data=shop)
    # mistake: the average order value as spend per customer
    wrong = {**right, "average_order_value": right["revenue"] / right["active_customers"]}
    assert not ex.check("kpi_value_basics", wrong, data=shop)
    # mistake: orders per member instead of per customer who ordered
    wrong = {**right, "purchase_frequency": len(o) / len(shop.customers)}
    assert not ex.check("kpi_value_basics", wrong, data=shop)


def test_repeat_rate(shop, period):
    s, e = period
    o = shop.orders
    buyers = set(o.loc[_in(o["order_ts"], s, e), "customer_id"])
    n = o.loc[o["order_ts"] < e].groupby("customer_id").size()
    right = float(np.mean([n[c] >= 2 for c in buyers]))
    assert ex.check("kpi_repeat_rate", right, data=shop)
    # mistake: two orders required inside the quarter
    inside = o.loc[_in(o["order_ts"], s, e)].groupby("customer_id").size()
    assert not ex.check("kpi_repeat_rate", float((inside >= 2).mean()), data=shop)


def test_churn_rate(shop, period):
    s, e = period
    o = shop.orders
    lapse = pd.Timedelta(days=180)
    last_before = lambda t: o.loc[o["order_ts"] < t].groupby("customer_id")["order_ts"].max()  # noqa: E731
    at_start = last_before(s)
    base = at_start[at_start >= s - lapse].index
    at_end = last_before(e)
    still = at_end[at_end >= e - lapse].index
    right = float(np.mean(~base.isin(still)))
    assert ex.check("kpi_churn_rate", right, data=shop)
    # mistakes: a 90-day lapse; "1 - retention" (previous quarter's buyers not back)
    assert not ex.check("kpi_churn_rate", kpi.churn_rate(o, s, e, lapse_days=90), data=shop)
    prev = set(o.loc[_in(o["order_ts"], s - (e - s), s), "customer_id"])
    now = set(o.loc[_in(o["order_ts"], s, e), "customer_id"])
    assert not ex.check("kpi_churn_rate", len(prev - now) / len(prev), data=shop)


def test_nps(shop, period):
    sv = shop.surveys
    x = sv.loc[(sv["survey_type"] == "nps") & sv["responded"] & _in(sv["sent_ts"], *period), "score"]
    x = x.astype(int).to_numpy()
    right = 100 * (np.sum(x >= 9) - np.sum(x <= 6)) / len(x)
    assert ex.check("kpi_nps", right, data=shop)
    # mistakes: a share instead of points; detractors 0-5
    assert right != 0 and not ex.check("kpi_nps", right / 100, data=shop)
    wrong = 100 * (np.sum(x >= 9) - np.sum(x <= 5)) / len(x)
    assert wrong != right and not ex.check("kpi_nps", wrong, data=shop)


def test_channel_effect(shop):
    c = shop.campaign_contacts.merge(shop.campaigns[["campaign_id", "channel"]], on="campaign_id")
    rows = []
    for (_cid, ch), g in c.groupby(["campaign_id", "channel"], observed=True):
        t, h = g.loc[g["group"] == "treatment", "revenue"], g.loc[g["group"] == "holdout", "revenue"]
        if len(t) and len(h):
            rows.append({"channel": str(ch), "added": (t.mean() - h.mean()) * len(t), "n": len(t)})
    per = pd.DataFrame(rows).groupby("channel")[["added", "n"]].sum()
    right = per["added"] / per["n"]
    assert ex.check("kpi_channel_effect", right, data=shop)
    assert ex.check("kpi_channel_effect", right.to_dict(), data=shop)
    # mistake: one pooled comparison per channel, mixing campaigns with different base rates
    means = c.assign(g=c["group"].astype(str), ch=c["channel"].astype(str)).groupby(["ch", "g"])["revenue"].mean()
    pooled = (means.xs("treatment", level="g") - means.xs("holdout", level="g")).reindex(right.index)
    assert not ex.check("kpi_channel_effect", pooled, data=shop)


def test_status(shop):
    names = ["order_csat", "nps", "return_rate", "defect_rate", "churn_rate", "at_risk_share",
             "open_rate", "sla_resolution"]
    sc = kpi.scorecard(shop, "last", "QE", indicators=names)
    right = dict(zip(sc["indicator"], sc["status"].astype(str), strict=True))
    assert ex.check("kpi_status", right, data=shop)
    # mistake: every indicator judged as higher-is-better
    naive = {r.indicator: ("green" if r.value >= r.target else
                           "amber" if r.value >= r.target - r.tolerance else "red")
             for r in sc.itertuples()}
    assert naive != right
    assert not ex.check("kpi_status", naive, data=shop)


def test_fix_did(shop):
    inc = shop.truth["incident"]
    product, fix = inc["product_id"], pd.Timestamp(inc["fix"])
    lines = feedback.defect_return_lines(shop.orders, shop.order_items, shop.returns, shop.products)
    cat = shop.products.set_index("product_id").loc[product, "category"]
    w = pd.Timedelta(weeks=8)
    sub = lines.loc[(lines["category"] == cat) & _in(lines["order_ts"], fix - w, fix + w)]
    data = pd.DataFrame({"y": sub["defect_return"].astype(float).to_numpy(),
                         "treated": (sub["product_id"] == product).to_numpy(),
                         "post": (sub["order_ts"] >= fix).to_numpy()})
    # crmlab.feedback's difference-in-differences on the same cells is the right answer
    right = feedback.diff_in_diff(data, "y")["estimate"]
    assert ex.check("kpi_fix_did", right, data=shop)
    # mistake: before minus after
    assert right != 0 and not ex.check("kpi_fix_did", -right, data=shop)
    # mistake: no controls -- wrong whenever the controls' defect rate moved; on this shop the
    # other products had no defective return in either window, so both give the same number
    own = data.loc[data["treated"]].groupby("post")["y"].mean()
    ctrl = data.loc[~data["treated"]].groupby("post")["y"].mean()
    if ctrl[True] != ctrl[False]:
        assert not ex.check("kpi_fix_did", own[True] - own[False], data=shop)
    else:
        assert own[True] - own[False] == pytest.approx(right)
    # on the tiny shop of the mistake tests (seed 42) the controls did move
    other = simulate("tiny", seed=42)
    wrong = ex.registry.MISTAKES["kpi_fix_did"][0][1](other)
    assert not ex.check("kpi_fix_did", wrong, data=other)
