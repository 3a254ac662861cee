"""Answers of ``exercises/03_customer_journey_exercises.ipynb`` (notebook 03: purchase journeys).

Each function computes the expected answer from the shop the student works on, through
:mod:`crmlab.journey` where it has a helper; the notebook's model solutions take the plain
pandas/numpy route, so a passing solution run cross-checks both.
"""

from __future__ import annotations

import pandas as pd

from crmlab import journey
from crmlab.exercises import question
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
