"""Answers of ``exercises/10_after_sales_exercises.ipynb`` (notebook 10: after-sales service).

Each function computes the expected answer from the shop the student works on, through
:mod:`crmlab.aftersales`; the notebook's model solutions take the plain pandas/numpy route,
so a passing solution run cross-checks both. Typical mistakes are registered at the end and
tested in ``tests/unit/test_exercises_unit10.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from crmlab import aftersales as A
from crmlab.exercises import mistake, question, variant

#: Numbers stated in the exercise texts (kept here so texts and answers agree).
WITHIN_HOURS = 72.0


def _lines(shop) -> pd.DataFrame:
    return A.return_lines(shop.orders, shop.order_items, shop.returns, shop.products)


#: Columns of the line table that exercises 3-5 and 12 use, with their meaning on a line
#: that was not returned (money and units 0, return type and reason empty).
LINE_COLUMNS = {"returned": False, "category": "", "unit_cost": None, "quantity": None,
                "line_amount": None, "return_type": "", "reason": "", "returned_qty": 0.0,
                "refund_amount": 0.0, "shipping_cost": 0.0, "restocking_cost": 0.0}


def _line_view(frame: pd.DataFrame) -> pd.DataFrame:
    """The checked columns of a line table, keyed by (order_id, line_no), with the empty
    values of unreturned lines made alike (NaN money -> 0, missing text -> "")."""
    if {"order_id", "line_no"} <= set(frame.columns):
        frame = frame.set_index(["order_id", "line_no"])
    out = pd.DataFrame(index=frame.index)
    for col, empty in LINE_COLUMNS.items():
        if col not in frame.columns:
            continue
        values = frame[col]
        if isinstance(empty, bool):  # a flag stays a flag (the provided table feeds exercise 5)
            values = values.astype(object).where(values.notna(), empty).astype(bool)
        elif isinstance(empty, str):
            values = values.astype(object).where(values.notna(), "").astype(str)
        elif empty is not None:
            values = pd.to_numeric(values, errors="coerce").fillna(empty).astype(float)
        out[col] = values
    return out.sort_index()


def _compare_lines(answer, expected):
    from crmlab.exercises.compare import compare

    if not isinstance(answer, pd.DataFrame):
        return False, "your lines is not a DataFrame"
    view = _line_view(answer)
    need = [c for c in expected.columns if c in view.columns]  # columns not made yet: later
    return compare(view[need], expected[need], ignore_row_order=True)


@question("after_lines", compare=_compare_lines,
          hint="One row per order line of items, returned or not, with the return's columns "
               "(empty on lines that were not returned) and the product's category and cost.")
def lines_table(shop) -> pd.DataFrame:
    """The line table of exercises 1-2 (a checkpoint for exercises 3-5; not checked itself)."""
    return _line_view(_lines(shop))


@question("after_return_rate",
          hint="An order line is returned when (order_id, line_no) appears in returns. Return "
               "rate = returned lines / all lines of order_items (a share, not orders).")
def return_rate(shop) -> float:
    return float(A.return_rates(_lines(shop), None)["return_rate"].iloc[0])


@question("after_return_rate_by_category", ignore_row_order=True,
          hint="Per category: returned lines of that category / all lines of that category "
               "(join order_items to products for the category). A Series indexed by category.")
def return_rate_by_category(shop) -> pd.Series:
    r = A.return_rates(_lines(shop), "category")
    return pd.Series(r["return_rate"].to_numpy(), index=r["category"].astype(str).to_numpy(),
                     name="return_rate")


@question("after_wilson_fashion", rtol=2e-5,
          hint="k = returned fashion lines, n = fashion lines, z = 1.96 (95%). Wilson: centre "
               "(p + z^2/2n) / (1 + z^2/n), half-width z / (1 + z^2/n) * sqrt(p(1-p)/n + "
               "z^2/4n^2). Answer [low, high].")
def wilson_fashion(shop) -> list[float]:
    r = A.return_rates(_lines(shop), "category", level=0.95).set_index("category")
    return [float(r.loc["fashion", "low"]), float(r.loc["fashion", "high"])]


@question("after_chi2_category", rtol=1e-6,
          hint="Cross-tabulate category x returned (True/False) over order lines and pass the "
               "table to scipy.stats.chi2_contingency; answer its statistic.")
def chi2_category(shop) -> float:
    return float(A.return_chi_square(_lines(shop), by="category")["statistic"])


#: Return reasons whose unit can be resold (crmlab.aftersales.RESELLABLE_REASONS); a unit
#: returned defective or damaged in transit cannot, and is written off at its unit cost.
RESELLABLE = ("size_fit", "changed_mind", "late_delivery", "not_as_described")


def _cost_table(shop, *, refund_is_cost: bool = False, write_off_all: bool = False,
                base_all_sales: bool = False) -> pd.DataFrame:
    """Per category: ``kept_margin`` (margin of the sales that stuck), ``return_cost``
    (shipping + restocking of every return + unit cost of units that cannot be resold) and
    ``share`` = return_cost / kept_margin. The keyword switches build typical mistakes."""
    lines = _lines(shop)
    ret = lines["returned"].to_numpy(bool)
    qty_back = lines["returned_qty"].fillna(0).to_numpy(float) * ret
    refunded = ret & (lines["return_type"].astype(str) == "refund").to_numpy()
    lost_unit = ret & ~lines["reason"].astype(str).isin(RESELLABLE).to_numpy()
    if write_off_all:
        lost_unit = ret
    cost = lines["unit_cost"].to_numpy(float)
    handling = lines["shipping_cost"].fillna(0).to_numpy(float) + \
        lines["restocking_cost"].fillna(0).to_numpy(float)
    refund = lines["refund_amount"].fillna(0).to_numpy(float)
    kept_units = lines["quantity"].to_numpy(float) - np.where(refunded, qty_back, 0.0)
    work = pd.DataFrame({
        "category": lines["category"].astype(str).to_numpy(),
        "kept_margin": lines["line_amount"].to_numpy(float) - refund - cost * kept_units,
        "all_margin": lines["line_amount"].to_numpy(float) - cost * lines["quantity"].to_numpy(float),
        "return_cost": handling + np.where(lost_unit, cost * qty_back, 0.0)
        + (refund if refund_is_cost else 0.0),
    })
    out = work.groupby("category").sum()
    base = out["all_margin"] if (base_all_sales or refund_is_cost) else out["kept_margin"]
    out["share"] = out["return_cost"] / base
    return out


@question("after_return_cost_share", ignore_row_order=True, rtol=1e-6,
          hint="A refund undoes a sale: the money goes back but the unit comes back too, so it "
               "is not a cost — it only removes that sale from the margin. What a return costs "
               "on top is the courier, the warehouse handling and any unit that cannot be sold "
               "again. Check which reasons leave a resellable unit.")
def return_cost_share(shop) -> pd.Series:
    out = _cost_table(shop)
    return pd.Series(out["share"].to_numpy(), index=out.index.to_numpy(), name="return_cost_share")


@question("after_complaints_n",
          hint="A complaint is a ticket whose category is defect, delivery, return or billing "
               "AND whose priority is high or urgent -- OR any reopened ticket. Count them.")
def complaints_n(shop) -> int:
    return int(A.flag_complaints(shop.tickets)["complaint"].sum())


#: The rule a weekly report can apply when it is written: category and priority are known
#: when the ticket is opened; whether it will be reopened is known only later (look-ahead).
REPORT_RULE = A.ComplaintRule(include_reopened=False)


def _weekly(shop, rule: A.ComplaintRule = REPORT_RULE) -> pd.DataFrame:
    """Complaints as seen at the end of the week they were raised in (not after the data end),
    flagged only by what is known then: category and priority, not a later reopening."""
    t = shop.tickets
    t = t.loc[t["created_ts"] <= shop.end_ts]  # a ticket opened after the data end is not reported
    parts = []
    for per, group in t.groupby(t["created_ts"].dt.to_period("W"), sort=True):
        end = min(per.end_time.floor("s"), shop.end_ts)
        part = A.complaint_metrics(group, end=end, rule=rule)
        if len(part):
            parts.append(part)
    return pd.concat(parts, ignore_index=True)


@question("after_km_within_72h", rtol=1e-6,
          hint="Ask of every input: could the manager know it on Sunday night? A reopening "
               "happens after the ticket was first resolved, so it cannot flag a complaint in "
               "that week's report. Complaints not resolved by the report time are censored at "
               "their age then, not dropped.")
def km_within_72h(shop) -> float:
    return float(A.resolution_summary(_weekly(shop), within_hours=WITHIN_HOURS)["resolved_within"].iloc[0])


def _nps_scores(shop) -> pd.Series:
    s = shop.surveys
    return s.loc[(s["survey_type"] == "nps") & s["responded"], "score"]


@question("after_nps", rtol=1e-6,
          hint="Answered NPS surveys only. NPS = 100 * (share of 9-10 - share of 0-6), in points "
               "between -100 and 100.")
def nps(shop) -> float:
    return float(A.nps_score(_nps_scores(shop))["nps"])


@question("after_nps_se", rtol=1e-6,
          hint="The promoter and detractor shares come from the same answers, so they move "
               "together: the variance of their difference needs their covariance, not only the "
               "two binomial variances. Answer in points, like the NPS.")
def nps_se(shop) -> float:
    return float(A.nps_score(_nps_scores(shop))["se"])


@question("after_csat_quarterly", ignore_row_order=True,
          hint="Order CSAT surveys (touchpoint 'order') that were answered; per quarter of "
               "sent_ts: share of scores 4 or 5. Index: quarters as strings like '2024Q1'.")
def csat_quarterly(shop) -> pd.Series:
    s = shop.surveys
    q = A.survey_metrics(s.loc[s["touchpoint"] == "order"], "csat", freq="QE")
    q = q.loc[q["n"] > 0]
    return pd.Series(q["csat"].to_numpy(), index=q["period"].dt.to_period("Q").astype(str).to_numpy(),
                     name="csat")


def _experiences(shop) -> pd.DataFrame:
    t = shop.tickets  # tickets opened after the data end are refused (as in notebook 10)
    return A.order_experiences(shop.orders, shop.returns, t.loc[t["created_ts"] <= shop.end_ts],
                               end=shop.end_ts)


@question("after_driver_coefs", ignore_row_order=True, rtol=1e-5,
          hint="Respondents of the order CSAT survey joined to experiences on order_id. "
               "Standardize each driver with its mean and sd (ddof=1) over the respondents "
               "(leave out a driver that does not vary), regress the 1-5 score on them with an "
               "intercept (least squares), answer the slopes as a Series indexed by driver.")
def driver_coefs(shop) -> pd.Series:
    d = A.SatisfactionDrivers(method="linear", min_responses=2).fit(_experiences(shop), shop.surveys)
    return pd.Series(d.table_["std_coef"].to_numpy(), index=d.table_["driver"].to_numpy(),
                     name="std_coef")


# -- typical mistakes that the checks must reject (run by tests/exercises) ------------------


@mistake("after_return_rate", "returned orders / orders instead of lines")
def _order_level_rate(shop) -> float:
    return float(shop.orders["order_id"].isin(shop.returns["order_id"]).mean())


@mistake("after_return_rate", "number of returns / number of orders")
def _returns_per_order(shop) -> float:
    return len(shop.returns) / len(shop.orders)


@mistake("after_return_rate_by_category", "each category's share of all returns, not its rate")
def _share_of_returns(shop) -> pd.Series:
    lines = _lines(shop)
    ret = lines.loc[lines["returned"]]
    return ret["category"].astype(str).value_counts(normalize=True).rename("return_rate")


@mistake("after_wilson_fashion", "the Wald interval p +- z se")
def _wald(shop) -> list[float]:
    lines = _lines(shop)
    f = lines.loc[lines["category"].astype(str) == "fashion", "returned"]
    p, n = float(f.mean()), len(f)
    se = math.sqrt(p * (1 - p) / n)
    return [p - 1.959963984540054 * se, p + 1.959963984540054 * se]


@mistake("after_chi2_category", "goodness of fit of return counts across categories")
def _goodness_of_fit(shop) -> float:
    lines = _lines(shop)
    counts = lines.loc[lines["returned"], "category"].astype(str).value_counts()
    return float(stats.chisquare(counts.to_numpy()).statistic)


def _share_series(out: pd.DataFrame) -> pd.Series:
    return pd.Series(out["share"].to_numpy(), index=out.index.to_numpy())


@mistake("after_return_cost_share", "the full refund counted as a cost, as if every refunded "
         "unit were lost")
def _refund_as_cost(shop) -> pd.Series:
    c = A.return_costs(_lines(shop), by="category")  # refunds + shipping + restocking + replacements
    return pd.Series(c["return_cost_share"].to_numpy(), index=c["category"].astype(str).to_numpy())


@mistake("after_return_cost_share", "every returned unit written off, even the resellable ones")
def _write_off_all(shop) -> pd.Series:
    return _share_series(_cost_table(shop, write_off_all=True))


@mistake("after_return_cost_share", "the margin of all sales as the base, refunded sales "
         "counted as kept")
def _all_sales_base(shop) -> pd.Series:
    return _share_series(_cost_table(shop, base_all_sales=True))


@mistake("after_return_cost_share", "return cost over revenue instead of the margin")
def _over_revenue(shop) -> pd.Series:
    out = _cost_table(shop)
    lines = _lines(shop)
    revenue = lines.groupby(lines["category"].astype(str))["line_amount"].sum()
    return pd.Series((out["return_cost"] / revenue.reindex(out.index)).to_numpy(),
                     index=out.index.to_numpy())


@mistake("after_complaints_n", "reopened tickets forgotten")
def _no_reopened(shop) -> int:
    return int(A.flag_complaints(shop.tickets, A.ComplaintRule(include_reopened=False))["complaint"].sum())


@mistake("after_complaints_n", "every high/urgent ticket, whatever its category")
def _any_category(shop) -> int:
    t = shop.tickets
    serious = t["priority"].astype(str).isin(["high", "urgent"])
    return int((serious | t["reopened"]).sum())


@mistake("after_km_within_72h", "share within 72 h among complaints resolved by the report (open ones ignored)")
def _naive_within(shop) -> float:
    w = _weekly(shop)
    done = w.loc[w["event"] == 1, "duration_hours"]
    return float((done <= WITHIN_HOURS).mean())


@mistake("after_km_within_72h", "look-ahead: reopened tickets counted as complaints in the "
         "weekly report (a reopening is known only later)")
def _reopened_in_report(shop) -> float:
    w = _weekly(shop, rule=A.COMPLAINT_RULE)
    return float(A.resolution_summary(w, within_hours=WITHIN_HOURS)["resolved_within"].iloc[0])


@mistake("after_km_within_72h", "the final view at the data end instead of the weekly report")
def _final_view(shop) -> float:
    comp = A.complaint_metrics(shop.tickets, end=shop.end_ts)
    return float(A.resolution_summary(comp, within_hours=WITHIN_HOURS)["resolved_within"].iloc[0])


@mistake("after_nps", "passives (7-8) counted as promoters")
def _passives_promote(shop) -> float:
    s = _nps_scores(shop).to_numpy(dtype=float)
    return float(100 * ((s >= 7).mean() - (s <= 6).mean()))


@mistake("after_nps", "non-respondents kept in the denominator")
def _over_invited(shop) -> float:
    s = shop.surveys.loc[shop.surveys["survey_type"] == "nps", "score"]
    v = s.to_numpy(dtype=float, na_value=np.nan)
    return float(100 * (np.nansum(v >= 9) - np.nansum(v <= 6)) / len(v))


@mistake("after_nps", "a share (-1..1) instead of points")
def _share_not_points(shop) -> float:
    return nps(shop) / 100


@mistake("after_nps_se", "the promoters' binomial standard error only")
def _binomial_se(shop) -> float:
    s = _nps_scores(shop).to_numpy(dtype=float)
    p = (s >= 9).mean()
    return float(100 * math.sqrt(p * (1 - p) / len(s)))


@mistake("after_nps_se", "variances added without the covariance term")
def _no_covariance(shop) -> float:
    s = _nps_scores(shop).to_numpy(dtype=float)
    p, d = (s >= 9).mean(), (s <= 6).mean()
    return float(100 * math.sqrt((p * (1 - p) + d * (1 - d)) / len(s)))


@mistake("after_csat_quarterly", "mean score instead of the share of 4-5")
def _mean_score(shop) -> pd.Series:
    s = shop.surveys
    a = s.loc[(s["survey_type"] == "csat") & (s["touchpoint"] == "order") & s["responded"]]
    return a.groupby(a["sent_ts"].dt.to_period("Q").astype(str))["score"].mean().astype(float)


@mistake("after_csat_quarterly", "return-touchpoint surveys mixed in")
def _all_touchpoints(shop) -> pd.Series:
    s = shop.surveys
    a = s.loc[(s["survey_type"] == "csat") & s["responded"]]
    return a.groupby(a["sent_ts"].dt.to_period("Q").astype(str))["score"].apply(lambda x: float((x >= 4).mean()))


@mistake("after_driver_coefs", "coefficients per unit of the driver (not standardized)")
def _unstandardized(shop) -> pd.Series:
    d = A.SatisfactionDrivers(method="linear", min_responses=2).fit(_experiences(shop), shop.surveys)
    return pd.Series(d.table_["coef"].to_numpy(), index=d.table_["driver"].to_numpy())


@mistake("after_driver_coefs", "satisfied yes/no (4-5) as the outcome instead of the score")
def _top_box_outcome(shop) -> pd.Series:
    d = A.SatisfactionDrivers(method="linear", min_responses=2).fit(_experiences(shop), shop.surveys)
    data = d.data_
    Z = ((data[d.used_].astype(float) - d.mean_) / d.sd_).to_numpy()
    y = (pd.to_numeric(data["score"]).to_numpy(dtype=float) >= 4).astype(float)
    coef = np.linalg.lstsq(np.c_[np.ones(len(Z)), Z], y, rcond=None)[0][1:]
    return pd.Series(coef, index=d.used_)


# -- right answers in other forms that the checks must accept ---------------------------------


@variant("after_return_rate_by_category", "a dict, categories in another order")
def _rate_dict(shop) -> dict:
    s = return_rate_by_category(shop)
    return {k: float(s[k]) for k in sorted(s.index)}


@variant("after_wilson_fashion", "a tuple with z rounded to 1.96")
def _wilson_tuple(shop) -> tuple:
    lines = _lines(shop)
    f = lines.loc[lines["category"].astype(str) == "fashion", "returned"]
    k, n, z = float(f.sum()), len(f), 1.96
    p = k / n
    c = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    h = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return (c - h, c + h)


@variant("after_complaints_n", "a numpy integer")
def _np_int(shop):
    return np.int64(complaints_n(shop))


# -- return-policy design (notebook 10_return_policy, section 1) -------------------------------

#: The return window the exercise states, in days after delivery.
WINDOW_DAYS = 14


def _asked_returns(shop) -> pd.DataFrame:
    """The returns asked for by the data end (a later one has not happened yet)."""
    return shop.returns.loc[shop.returns["requested_ts"] <= shop.end_ts]


def _days_from(shop, column: str) -> pd.Series:
    r = _asked_returns(shop)
    start = r["order_id"].map(shop.orders.set_index("order_id")[column])
    return (r["requested_ts"] - start) / pd.Timedelta(days=1)


@question("after_window_refused",
          hint="A window counts from the day the parcel arrived, in days as a float; a return "
               "asked for more than the window after that would be refused. Use the returns "
               "asked for by shop.end_ts, and decide what the share is of: returns, not orders. "
               "A share between 0 and 1.")
def window_refused(shop) -> float:
    r = _asked_returns(shop)
    out = A.return_policy_whatif(shop.orders, shop.order_items, r, shop.products,
                                 {"window": A.ReturnPolicy(window_days=WINDOW_DAYS)})
    return float(1 - out.loc[0, "returns"] / len(r))


@mistake("after_window_refused", "days counted from the order, not from the delivery")
def _window_from_order(shop) -> float:
    return float((_days_from(shop, "order_ts") > WINDOW_DAYS).mean())


@mistake("after_window_refused", "late returns divided by the number of orders, not of returns")
def _window_per_order(shop) -> float:
    return float((_days_from(shop, "delivered_ts") > WINDOW_DAYS).sum() / len(shop.orders))


def _margin(shop, days_after: pd.Series, *, recover_goods: bool = True, drop_handling: bool = True) -> float:
    """Margin (NT$) with the returns asked within the window kept: revenue - cost of goods -
    refunds + refunded sellable units back in stock - replacements of written-off exchanges -
    handling (for the slips: no units back in stock; handling of refused returns still paid)."""
    r = _asked_returns(shop)
    cost = shop.products.set_index("product_id")["unit_cost"]
    kept = (days_after <= WINDOW_DAYS).to_numpy()
    goods = (r["quantity"] * r["product_id"].map(cost)).to_numpy(dtype="float64")
    refund = (r["return_type"].astype("str") == "refund").to_numpy()
    write_off = r["reason"].astype("str").isin(A.WRITE_OFF_REASONS).to_numpy()
    handling = (r["shipping_cost"] + r["restocking_cost"]).to_numpy(dtype="float64")
    items = shop.order_items
    return float(shop.orders["amount"].sum() - (items["quantity"] * items["product_id"].map(cost)).sum()
                 - r["refund_amount"].to_numpy(dtype="float64")[kept & refund].sum()
                 + (goods[kept & refund & ~write_off].sum() if recover_goods else 0.0)
                 - goods[kept & ~refund & write_off].sum()
                 - handling[kept if drop_handling else np.ones(len(r), bool)].sum())


@question("after_window_margin", rtol=1e-6,
          hint="Start from today's margin after returns (revenue - cost of goods - refunds + "
               "refunded sellable units back in stock - replacements for written-off exchanges - "
               "handling), then leave out everything a refused return would have caused: its "
               "refund, the unit it brings back, its handling. Customers' behaviour held fixed.")
def window_margin(shop) -> float:
    out = A.return_policy_whatif(shop.orders, shop.order_items, _asked_returns(shop), shop.products,
                                 {"window": A.ReturnPolicy(window_days=WINDOW_DAYS)})
    return float(out.loc[0, "margin"])


@mistake("after_window_margin", "refused returns' parcels and restocking still paid")
def _margin_handling_kept(shop) -> float:
    return _margin(shop, _days_from(shop, "delivered_ts"), drop_handling=False)


@mistake("after_window_margin", "refunded units never come back to stock (their cost not recovered)")
def _margin_no_recovery(shop) -> float:
    return _margin(shop, _days_from(shop, "delivered_ts"), recover_goods=False)


@mistake("after_window_margin", "the window counted from the order, not from the delivery")
def _margin_from_order(shop) -> float:
    return _margin(shop, _days_from(shop, "order_ts"))
