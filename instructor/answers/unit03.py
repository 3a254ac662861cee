"""Answers of ``exercises/03_customer_journey_exercises.ipynb`` (notebook 03: purchase journeys).

Each function computes the expected answer from the shop the student works on, through
:mod:`crmlab.journey` where it has a helper; the notebook's model solutions take the plain
pandas/numpy route, so a passing solution run cross-checks both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab import journey, kpi
from crmlab.exercises import mistake, question, variant
from crmlab.exercises.compare import compare_nonzero_labels


@question("journey_funnel_counts",
          hint="A session reaches a step when its funnel_depth is that step or a later one, so "
               "count cumulatively from the bottom: purchase sessions also reached checkout, "
               "cart, product view and visit. Index: the five steps in funnel order.")
def funnel_counts(shop) -> pd.Series:
    f = journey.funnel(shop.sessions)
    return pd.Series(f["sessions"].to_numpy(), index=f["step"].astype(str).to_numpy(),
                     name="sessions").astype("int64")


@question("journey_conversion_by_source", ignore_row_order=True,
          hint="Per traffic source: sessions that ended in a purchase / all sessions of that "
               "source (not / product views). A Series indexed by traffic_source.")
def conversion_by_source(shop) -> pd.Series:
    f = journey.funnel(shop.sessions, by="traffic_source")
    last = f.loc[f["step"] == "purchase"].set_index("traffic_source")["overall_rate"]
    last.index = last.index.astype(str)
    return last.rename("conversion_rate")


@question("journey_n_sessions_30min",
          hint="Sort events by customer and time, take each event's time since the same "
               "customer's previous event, and start a session when the customer changes or "
               "that idle time is MORE than 30 minutes; count the sessions.")
def n_sessions_30min(shop) -> int:
    return int(journey.sessionize(shop.events, gap="30min")["session"].max())


@question("journey_wilson_checkout", rtol=2e-5,
          hint="Step rate checkout -> purchase: k = sessions that purchased, n = sessions that "
               "began the checkout. Use the Wilson score formula with z = 1.96 (95%, or "
               "scipy.stats.norm.ppf(0.975)), not "
               "phat +- z*se. Answer [low, high].")
def wilson_checkout(shop) -> list[float]:
    f = journey.funnel(shop.sessions, level=0.95).set_index("step")
    k, n = int(f.loc["purchase", "sessions"]), int(f.loc["begin_checkout", "sessions"])
    low, high = journey.wilson_interval(k, n, level=0.95)
    return [float(low), float(high)]


@question("journey_last_touch", compare=compare_nonzero_labels,
          hint="Last touch gives each purchase to the traffic source of the session that "
               "bought (converted sessions only). A Series indexed by channel with the number "
               "of conversions.")
def last_touch(shop) -> pd.Series:
    jr = journey.journeys(shop.sessions)
    table = journey.touch_attribution(jr, "last_touch", value_col=None)
    table = table.loc[table["conversions"] > 0]
    return table.set_index("channel")["conversions"].rename("conversions")


@question("journey_markov_social", rtol=1e-6,
          hint="States (start), the channels, (conversion), (null). Count transitions in every "
               "journey path (open journeys count as null), normalise rows, solve the absorbing "
               "chain for P(conversion | start), then again with every move into 'social' sent "
               "to (null); removal effect = 1 - P_without / P.")
def markov_social(shop) -> float:
    jr = journey.journeys(shop.sessions)
    model = journey.MarkovAttribution(open_paths="null").fit(jr)
    return float(model.removal_effects_["social"])


@question("journey_month1_retention", ignore_row_order=True,
          hint="Cohort = signup month of the customer. Month-1 retention = share of the cohort "
               "with at least one order in the calendar month after the signup month (count "
               "each customer once). Only cohorts whose next month is inside the data. Index: "
               "'YYYY-MM' strings.")
def month1_retention(shop) -> pd.Series:
    cohorts = journey.cohort_table(shop.customers, shop.orders, end=shop.end)
    m1 = cohorts.loc[cohorts["period"] == 1].set_index("cohort")["retention"]
    m1.index = m1.index.strftime("%Y-%m")
    return m1.rename("retention")


@question("journey_revenue_factors", rtol=1e-6,
          hint="Online orders only (session_id present). visitors = distinct customers with a "
               "session; conversion_rate = distinct online buyers / visitors; orders_per_buyer; "
               "items_per_order = n_items / orders; unit_price = amount / n_items.")
def revenue_factors(shop) -> dict[str, float]:
    ov = journey.order_value_decomposition(shop.sessions, shop.orders).iloc[0]
    return {f: float(ov[f]) for f in ("visitors", "conversion_rate", "orders_per_buyer",
                                      "items_per_order", "unit_price")}


# ----------------------------------------------------------------------------- issue 24:
# 客單價 and its chain, selling points (notebooks/03_transaction_value_and_selling_points.ipynb)

MIN_DWELL_S = 10  # seconds on a product page that count as a stay (as in notebook 03)
PRAISE_FEATURE = "good price"  # the FAB feature of the selling-point exercise


def last_quarter(shop) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The last whole calendar quarter before ``shop.end_ts``, as ``[start, end)``."""
    end = shop.end_ts.to_period("Q").start_time
    return end - pd.DateOffset(months=3), end


def _quarter_orders(shop) -> pd.DataFrame:
    start, end = last_quarter(shop)
    o = shop.orders
    return o.loc[(o["order_ts"] >= start) & (o["order_ts"] < end)]


@question("journey_per_buyer_value", rtol=1e-6,
          hint="客單價 is money per BUYING CUSTOMER, not per order: take the quarter's orders "
               "(every channel), add up what was paid after discounts and divide by the number "
               "of distinct customers among them.")
def per_buyer_value(shop) -> float:
    start, end = last_quarter(shop)
    return float(kpi.per_buyer_value(shop.orders, start, end))


@question("journey_stay_rate", rtol=1e-6,
          hint="Keep only the quarter's events of customers who bought ONLINE in the quarter. "
               "Within each session (sorted by time), a product view's dwell is the time to the "
               "session's next event of any type; a view with no next event has no measured "
               "stay. Share of views with a dwell of at least 10 seconds.")
def stay_rate(shop) -> float:
    start, _ = last_quarter(shop)
    d = journey.per_buyer_value_decomposition(shop.events, shop.orders, min_dwell_seconds=MIN_DWELL_S, freq="Q")
    return float(d.set_index("period").loc[start, "stay_rate"])


@question("journey_praise_share", rtol=1e-6,
          hint="Praising reviews are the 4- and 5-star ones. Lower-case the text before looking "
               "for any of the feature's keywords (journey.FAB), then take the share of the "
               "praising reviews that contain one.")
def praise_share(shop) -> float:
    keywords = journey.FAB.set_index("feature").loc[PRAISE_FEATURE, "keywords"]
    happy = shop.reviews.loc[shop.reviews["stars"] >= 4, "text"].astype("str").str.lower()
    return float(happy.str.contains(journey.keyword_pattern(keywords), regex=True).mean())


def _nudge(value: float, right: float) -> float:
    """A mistake that happens to give the right number on some shop is still a mistake."""
    return value if not np.isclose(value, right, rtol=1e-6) else value * 1.01


@mistake("journey_per_buyer_value", "revenue per order (AOV), not per buying customer")
def _aov(shop):
    o = _quarter_orders(shop)
    return _nudge(float(o["amount"].mean()), per_buyer_value(shop))


@mistake("journey_per_buyer_value", "money before discounts (gross_amount)")
def _pbv_gross(shop):
    o = _quarter_orders(shop)
    return _nudge(float(o["gross_amount"].sum() / o["customer_id"].nunique()), per_buyer_value(shop))


@mistake("journey_per_buyer_value", "online orders only (store orders left out)")
def _pbv_online(shop):
    o = _quarter_orders(shop).dropna(subset=["session_id"])
    return _nudge(float(o["amount"].sum() / o["customer_id"].nunique()), per_buyer_value(shop))


def _buyer_events(shop) -> pd.DataFrame:
    start, end = last_quarter(shop)
    buyers = set(_quarter_orders(shop).dropna(subset=["session_id"])["customer_id"])
    ev = shop.events
    ev = ev.loc[(ev["ts"] >= start) & (ev["ts"] < end) & ev["customer_id"].isin(buyers)]
    return ev.sort_values(["session_id", "ts", "event_id"])


@mistake("journey_stay_rate", "the last view of a session counted as a stay")
def _last_view_stays(shop):
    ev = _buyer_events(shop)
    dwell = (ev.groupby("session_id")["ts"].shift(-1) - ev["ts"]).dt.total_seconds()
    views = ev["event_type"] == "product_view"
    return _nudge(float(((dwell >= MIN_DWELL_S) | dwell.isna())[views].mean()), stay_rate(shop))


@mistake("journey_stay_rate", "views of every visitor, not only the quarter's online buyers")
def _every_visitor(shop):
    start, end = last_quarter(shop)
    ev = shop.events
    ev = ev.loc[(ev["ts"] >= start) & (ev["ts"] < end)].sort_values(["session_id", "ts", "event_id"])
    dwell = (ev.groupby("session_id")["ts"].shift(-1) - ev["ts"]).dt.total_seconds()
    return _nudge(float((dwell >= MIN_DWELL_S)[ev["event_type"] == "product_view"].mean()), stay_rate(shop))


@mistake("journey_stay_rate", "dwell measured to the next product view, not the next event")
def _next_view(shop):
    ev = _buyer_events(shop)
    views = ev.loc[ev["event_type"] == "product_view"]
    dwell = (views.groupby("session_id")["ts"].shift(-1) - views["ts"]).dt.total_seconds()
    return _nudge(float((dwell >= MIN_DWELL_S).mean()), stay_rate(shop))


@mistake("journey_praise_share", "every review, not only the praising ones (4-5 stars)")
def _all_reviews(shop):
    keywords = journey.FAB.set_index("feature").loc[PRAISE_FEATURE, "keywords"]
    text = shop.reviews["text"].astype("str").str.lower()
    return _nudge(float(text.str.contains(journey.keyword_pattern(keywords)).mean()), praise_share(shop))


@mistake("journey_praise_share", "keywords matched case-sensitively (capitalised mentions missed)")
def _case_sensitive(shop):
    keywords = journey.FAB.set_index("feature").loc[PRAISE_FEATURE, "keywords"]
    happy = shop.reviews.loc[shop.reviews["stars"] >= 4, "text"].astype("str")
    return _nudge(float(happy.str.contains(journey.keyword_pattern(keywords)).mean()), praise_share(shop))


@variant("journey_praise_share", "from journey.selling_points' counts (min_reviews=1)")
def _from_selling_points(shop):
    sp = journey.selling_points(shop.reviews, shop.events, shop.orders, shop.order_items, min_reviews=1)
    return float((sp[PRAISE_FEATURE] * sp["n_praise"]).sum() / sp["n_praise"].sum())


HOT_WEEKS = 4  # the hot-product window of the exercise (notebook 03's HOT_WEEKS default)


def hot_window(shop) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The hot-product window ``(start, end]``: the 4 weeks ending at the last order."""
    end = shop.orders["order_ts"].max()
    return end - pd.Timedelta(weeks=HOT_WEEKS), end


def _hot(shop) -> pd.DataFrame:
    _, end = hot_window(shop)
    return journey.hot_products(shop.orders, shop.order_items, shop.events, shop.products, end=end,
                                weeks=HOT_WEEKS).set_index("product_id").sort_index()


@question("journey_first_visitor_conversion", rtol=1e-6, ignore_row_order=True,
          hint="A first-time visitor of a product is a customer whose FIRST view of it ever falls "
               "in the window. Of those, count who bought that product at or after that view, up "
               "to the window's end. One value per product in `products`, 0 where nobody viewed "
               "it for the first time. Index: product_id.")
def first_visitor_conversion(shop) -> pd.Series:
    return _hot(shop)["first_visitor_conversion"].rename("first_visitor_conversion")


def _nudge_series(value: pd.Series, right: pd.Series) -> pd.Series:
    value = value.astype("float64")
    if np.allclose(value.to_numpy(), right.reindex(value.index).to_numpy(), rtol=1e-6):
        value.iloc[0] += 0.01
    return value


@mistake("journey_first_visitor_conversion", "share of first-time buyers among the product's orders")
def _first_buyers(shop):
    return _nudge_series(_hot(shop)["first_buyer_share"], first_visitor_conversion(shop))


@mistake("journey_first_visitor_conversion", "every viewer in the window, not only first-time visitors")
def _every_viewer(shop):
    start, end = hot_window(shop)
    ev = shop.events
    views = ev.loc[(ev["event_type"] == "product_view") & (ev["ts"] > start) & (ev["ts"] <= end)]
    first = views.sort_values("ts").drop_duplicates(["customer_id", "product_id"])
    lines = shop.orders[["order_id", "customer_id", "order_ts"]].merge(shop.order_items[["order_id", "product_id"]])
    lines = lines.loc[lines["order_ts"] <= end]
    j = first.merge(lines, on=["customer_id", "product_id"], how="left")
    j["bought"] = j["order_ts"] >= j["ts"]
    conv = j.groupby(["customer_id", "product_id"])["bought"].any().groupby("product_id").mean()
    ids = shop.products["product_id"].sort_values()
    out = pd.Series(conv.reindex(ids).fillna(0.0).to_numpy(), index=ids.to_numpy())
    return _nudge_series(out, first_visitor_conversion(shop))


@variant("journey_first_visitor_conversion", "a dict product_id -> share")
def _fvc_dict(shop):
    return first_visitor_conversion(shop).to_dict()
