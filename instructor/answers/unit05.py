"""Answers of ``exercises/05_clv_and_churn_exercises.ipynb`` (notebook 05: CLV and churn).

Each function computes the expected answer from the shop the student works on through
:mod:`crmlab.clv` and :mod:`crmlab.survival`; the notebook's model solutions take the
plain pandas / numpy / scipy route (their own likelihood, their own Kaplan–Meier table),
so a passing solution run cross-checks both.

One convention for the whole unit (stated in notebook 05 and in the exercises): time in
whole calendar days, orders of a customer on the same calendar day are one purchase (a
*purchase day*), and the data end on ``shop.end`` (a date: its whole day belongs to the data).
The Kaplan–Meier and churn-score questions also accept the other defensible conventions —
gaps from exact timestamps (fractional days), and notebook 05's per-order gaps rounded up —
with a message that names the difference (``@convention``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab import clv
from crmlab.exercises import convention, mistake, question, variant
from crmlab.survival import kaplan_meier, median_survival

MONTH = 365.25 / 12
HOLDOUT_DAYS = 91
CHURN_DAYS = 90


def _summary(shop) -> pd.DataFrame:
    return clv.summarize(shop.orders, freq="D", observation_end=shop.end)


def _bgnbd(shop) -> clv.BetaGeoModel:
    return clv.BetaGeoModel().fit(_summary(shop))


@question("clv_summary", ignore_row_order=True,
          hint="Per customer on calendar days: frequency = number of distinct purchase days "
               "AFTER the first one; recency = days from the first to the last purchase day; "
               "T = days from the first purchase day to shop.end's day. Columns customer_id, "
               "frequency, recency, T.")
def summary_table(shop) -> pd.DataFrame:
    return _summary(shop)[["customer_id", "frequency", "recency", "T"]]


@question("clv_never_returned_share",
          hint="Among customers who bought at least once (the summary's rows), the share "
               "whose frequency is 0.")
def never_returned_share(shop) -> float:
    return float((_summary(shop)["frequency"] == 0).mean())


@question("clv_bgnbd_params", rtol=2e-3,
          hint="Maximise the sum of the BG/NBD log-likelihoods (FHL 2005 eq. 6) over the "
               "daily summary; optimise log-parameters so they stay positive, and tighten the "
               "optimizer's tolerance. Answer {'r': ..., 'alpha': ..., 'a': ..., 'b': ...}.")
def bgnbd_params(shop) -> dict[str, float]:
    return {k: float(v) for k, v in _bgnbd(shop).params_.items()}


@question("clv_mean_p_alive", rtol=2e-3,
          hint="P(alive) = 1 / (1 + a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x)) for x > 0 and "
               "1 for x = 0; average over every buyer (one-time buyers included).")
def mean_p_alive(shop) -> float:
    s = _summary(shop)
    return float(_bgnbd(shop).p_alive(s).mean())


@question("clv_holdout_forecast", rtol=2e-3,
          hint="Calibration = orders up to shop.end - 91 days (whole days), holdout = the "
               "91 days after. Refit the BG/NBD on the calibration summary, then sum every "
               "calibration customer's E[Y(91) | x, t_x, T] (FHL 2005 eq. 10, with "
               "scipy.special.hyp2f1).")
def holdout_forecast(shop) -> float:
    cal_end = shop.end - pd.Timedelta(days=HOLDOUT_DAYS)
    ch = clv.summarize(shop.orders, freq="D", calibration_end=cal_end, observation_end=shop.end)
    model = clv.BetaGeoModel().fit(ch)
    return float(model.predict_purchases(HOLDOUT_DAYS, ch).sum())


@question("clv_top_decile_share", rtol=2e-3,
          hint="12-month CLV: 12 monthly steps of 365.25/12 days; expected purchases in each "
               "month from the BG/NBD times the Gamma-Gamma expected spend, divided by "
               "1.01**month. Sort customers by CLV, take the first ceil(n/10); their share of "
               "the total CLV.")
def top_decile_share(shop) -> float:
    s = _summary(shop)
    value = clv.GammaGammaModel().fit(s).clv(s, _bgnbd(shop), horizon=12 * MONTH,
                                             discount_rate=0.01, step=MONTH)
    k = int(np.ceil(len(value) / 10))
    return float(value.nlargest(k).sum() / value.sum())


def _purchase_day_gaps(shop) -> pd.DataFrame:
    """Per purchase day of a customer: whole days to their next purchase day (event) or to
    the day after ``shop.end`` (censored: the whole last day belongs to the data)."""
    o = shop.orders
    days = (o.assign(day=o["order_ts"].dt.normalize())[["customer_id", "day"]]
            .drop_duplicates().sort_values(["customer_id", "day"]))
    nxt = days.groupby("customer_id")["day"].shift(-1)
    stop = nxt.fillna(shop.end.normalize() + pd.Timedelta(days=1))
    return pd.DataFrame({"customer_id": days["customer_id"].to_numpy(),
                         "duration_days": (stop - days["day"]).dt.days.to_numpy(dtype=float),
                         "event": nxt.notna().to_numpy()})


@question("clv_km_median_days", rtol=1e-9,
          hint="Work on purchase days, as in exercise 1: from each purchase day of a customer, "
               "the whole days to their next purchase day are an event; from the last one, the "
               "days to the day after END are censored (the customer may still come back). "
               "Kaplan–Meier keeps the censored gaps in the number at risk until they end.")
def km_median_days(shop) -> float:
    gaps = _purchase_day_gaps(shop)
    return median_survival(kaplan_meier(gaps["duration_days"], gaps["event"]))


def _churn_frame(shop, whole_days: bool = True) -> pd.DataFrame:
    cut = shop.end - pd.Timedelta(days=CHURN_DAYS)
    labels = clv.churn_labels(shop.orders, cut, CHURN_DAYS)
    feats = clv.churn_features(shop.orders, cut).merge(labels, on="customer_id")
    if whole_days:
        o = shop.orders
        last = o.loc[o["order_ts"] <= cut].groupby("customer_id")["order_ts"].max()
        score = (cut.normalize() - last.dt.normalize()).dt.days.astype(float)
        feats["recency_days"] = feats["customer_id"].map(score).to_numpy()
    return feats


@question("clv_recency_auc", rtol=1e-9,
          hint="The alarm score is the number of whole calendar days from the customer's last "
               "purchase day to the cut-off's day; count a (churner, stayer) pair as 1 when the "
               "churner scores higher and as 1/2 on a tie, then average over all such pairs.")
def recency_auc(shop) -> float:
    feats = _churn_frame(shop)
    return clv.auc(feats["churned"], feats["recency_days"])


@convention("clv_km_median_days", "gaps measured from exact order timestamps in fractional "
            "days, not between calendar purchase days")
def _km_exact(shop):
    gaps = clv.time_to_next_purchase(shop.orders, shop.end + pd.Timedelta(days=1))
    return median_survival(kaplan_meier(gaps["duration_days"], gaps["event"]))


@convention("clv_km_median_days", "notebook 05's table: every order starts a gap, measured "
            "from its exact time and rounded up to whole days")
def _km_notebook(shop):
    gaps = clv.time_to_next_purchase(shop.orders, shop.end + pd.Timedelta("23:59:59"))
    return median_survival(kaplan_meier(np.ceil(gaps["duration_days"]), gaps["event"]))


@convention("clv_recency_auc", "score in fractional days from exact order timestamps, not "
            "whole calendar days")
def _auc_exact(shop):
    feats = _churn_frame(shop, whole_days=False)
    return clv.auc(feats["churned"], feats["recency_days"])


# ----------------------------------------------------------------------------- typical
# mistakes (the check must reject them) and other right forms (it must accept them);
# tests/exercises/test_mistakes.py runs each on the tiny shop.


@mistake("clv_summary", "frequency counts the first purchase too")
def _frequency_with_first(shop):
    s = summary_table(shop)
    return s.assign(frequency=s["frequency"] + 1)


@mistake("clv_summary", "T measured from the last purchase instead of the first")
def _t_from_last(shop):
    s = summary_table(shop)
    return s.assign(T=s["T"] - s["recency"])


@variant("clv_summary", "customer_id as the index, float frequency")
def _summary_indexed(shop):
    s = summary_table(shop).set_index("customer_id")
    return s.astype({"frequency": float})


@mistake("clv_never_returned_share", "share of all members, not of buyers")
def _share_of_members(shop):
    s = _summary(shop)
    return float((s["frequency"] == 0).sum() / len(shop.customers))


@mistake("clv_bgnbd_params", "fitted on weekly periods (purchases in a week merged)")
def _weekly_fit(shop):
    s = clv.summarize(shop.orders, freq="W", observation_end=shop.end)
    params = clv.BetaGeoModel().fit(s).params_
    return {k: float(v) for k, v in params.items()}


@variant("clv_bgnbd_params", "a pandas Series")
def _params_series(shop):
    return pd.Series(bgnbd_params(shop))


@mistake("clv_mean_p_alive", "averaged over repeat buyers only")
def _p_alive_repeaters(shop):
    s = _summary(shop)
    p = _bgnbd(shop).p_alive(s)
    return float(p[s["frequency"] > 0].mean())


@mistake("clv_mean_p_alive", "ratio upside down: ((alpha+t_x)/(alpha+T))^(r+x)")
def _p_alive_inverted(shop):
    s = _summary(shop)
    r, alpha, a, b = _bgnbd(shop).params_
    x, tx, T = s["frequency"], s["recency"], s["T"]
    odds = a / (b + np.maximum(x, 1) - 1) * ((alpha + tx) / (alpha + T)) ** (r + x)
    return float(np.where(x > 0, 1 / (1 + odds), 1.0).mean())


@mistake("clv_holdout_forecast", "naive forecast: past rate x / T times 91 days")
def _naive_forecast(shop):
    cal_end = shop.end - pd.Timedelta(days=HOLDOUT_DAYS)
    ch = clv.summarize(shop.orders, freq="D", calibration_end=cal_end, observation_end=shop.end)
    rate = np.where(ch["T_cal"] > 0, ch["frequency_cal"] / ch["T_cal"].clip(lower=1), 0.0)
    return float((rate * HOLDOUT_DAYS).sum())


@mistake("clv_top_decile_share", "top decile of past spend instead of CLV")
def _past_spend_share(shop):
    spend = shop.orders.groupby("customer_id")["amount"].sum()
    k = int(np.ceil(len(spend) / 10))
    return float(spend.nlargest(k).sum() / spend.sum())


@mistake("clv_km_median_days", "median of the completed gaps only (censoring ignored)")
def _km_ignoring_censoring(shop):
    gaps = _purchase_day_gaps(shop)
    return float(gaps.loc[gaps["event"], "duration_days"].median())



@mistake("clv_recency_auc", "score reversed (recent customers ranked as churners)")
def _auc_reversed(shop):
    return 1.0 - recency_auc(shop)
