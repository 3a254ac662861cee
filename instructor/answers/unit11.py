"""Answers of ``exercises/11_feedback_loop_exercises.ipynb`` (notebook 11: user feedback and the
closed feedback loop).

Each function computes the expected answer from the shop the student works on through
:mod:`crmlab.feedback`; the notebook's model solutions take the plain pandas/numpy/scipy
route, so a passing solution run cross-checks both. Typical mistakes (``@mistake``) and right
answers in other shapes (``@variant``) sit next to the answers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from crmlab import feedback as fb
from crmlab.exercises import mistake, question, variant

#: Exercise 3: the Bayesian average's prior weight m (pseudo-reviews at the shop's mean).
BAYES_M = 5
#: Exercise 5: the p-chart's baseline window, guard band, limit and minimum count.
ALERT_WINDOW, ALERT_GUARD, ALERT_L, ALERT_MIN_COUNT = 56, 7, 3.0, 3
#: Exercise 6: topics of the topic model and its seed.
N_TOPICS, TOPIC_SEED = 7, 0
#: Exercise 7: days after the fix in the "after" period; returns of the last days are not in.
AFTER_DAYS, RETURN_LAG_DAYS = 120, 30


# -- exercise 1: star shares ------------------------------------------------------------------


@question("feedback_star_shares",
          hint="Share of ALL reviews that have 1, 2, 3, 4 and 5 stars (shares between 0 and 1 "
               "that add up to 1). A Series indexed by the star level 1..5, in that order.")
def star_shares(shop) -> pd.Series:
    d = fb.rating_distribution(shop.reviews)
    return pd.Series(d["share"].to_numpy(), index=d["stars"].to_numpy(), name="share")


@mistake("feedback_star_shares", "counts instead of shares")
def _star_counts(shop):
    return fb.rating_distribution(shop.reviews).set_index("stars")["n"]


@mistake("feedback_star_shares", "percent (x100) instead of a share")
def _star_percent(shop):
    return star_shares(shop) * 100


@variant("feedback_star_shares", "a dict {stars: share}")
def _star_dict(shop):
    return {int(k): float(v) for k, v in star_shares(shop).items()}


# -- exercise 2: Wilson lower bound per product -------------------------------------------------


def _positives(shop) -> pd.DataFrame:
    r = shop.reviews
    return r.groupby("product_id")["stars"].agg(n="size", k=lambda s: int((s >= 4).sum()))


@question("feedback_wilson_low", rtol=1e-4, ignore_row_order=True,
          hint="Per product with reviews: k = reviews with 4 or 5 stars, n = all its reviews, "
               "phat = k/n, z = 1.96. Lower bound = (phat + z^2/(2n) - z*sqrt(phat(1-phat)/n + "
               "z^2/(4n^2))) / (1 + z^2/n). A Series indexed by product_id.")
def wilson_low(shop) -> pd.Series:
    s = fb.rating_summary(shop.reviews)
    return pd.Series(s["wilson_low"].to_numpy(), index=s["product_id"].to_numpy(), name="wilson_low")


@mistake("feedback_wilson_low", "the Wald bound phat - z*se (negative for small n)")
def _wald_low(shop):
    p = _positives(shop)
    phat = p["k"] / p["n"]
    return phat - stats.norm.ppf(0.975) * np.sqrt(phat * (1 - phat) / p["n"])


@mistake("feedback_wilson_low", "only 5-star reviews counted as positive")
def _five_only(shop):
    r = shop.reviews
    p = r.groupby("product_id")["stars"].agg(n="size", k=lambda s: int((s == 5).sum()))
    return pd.Series(fb.wilson_lower_bound(p["k"].to_numpy(), p["n"].to_numpy()), index=p.index)


@mistake("feedback_wilson_low", "the plain positive share k/n")
def _plain_share(shop):
    p = _positives(shop)
    return p["k"] / p["n"]


# -- exercise 3: Bayesian average top 5 ---------------------------------------------------------


@question("feedback_bayes_top5", ids=True,
          hint="C = mean stars of ALL reviews, m = 5. Per product W = (m*C + sum of its stars) "
               "/ (m + its number of reviews). The five product_ids with the highest W, highest "
               "first (ties: more reviews first, then the lower product_id). A list.")
def bayes_top5(shop) -> list[int]:
    s = fb.rating_summary(shop.reviews, prior_weight=BAYES_M)
    return [int(p) for p in fb.rank_products(s, "bayes", top=5)["product_id"]]


@mistake("feedback_bayes_top5", "sorted by the raw mean stars")
def _top5_by_mean(shop):
    s = fb.rating_summary(shop.reviews, prior_weight=BAYES_M)
    return [int(p) for p in fb.rank_products(s, "mean", top=5)["product_id"]]


@mistake("feedback_bayes_top5", "lowest first (ascending sort)")
def _top5_reversed(shop):
    s = fb.rating_summary(shop.reviews, prior_weight=BAYES_M)
    return [int(p) for p in fb.rank_products(s, "bayes")["product_id"].iloc[::-1][:5]]


@variant("feedback_bayes_top5", "a NumPy array")
def _top5_array(shop):
    return np.array(bayes_top5(shop))


# -- exercise 4: VADER against the stars -------------------------------------------------------


@question("feedback_vader_macro_f1", rtol=1e-6,
          hint="Label each review with VADER's compound score: >= 0.05 'pos', <= -0.05 'neg', "
               "else 'neu'. Reference: 4-5 stars 'pos', 3 'neu', 1-2 'neg'. Macro-F1 = the plain "
               "mean of the three classes' F1 (sklearn f1_score(..., average='macro')).")
def vader_macro_f1(shop) -> float:
    pred = fb.vader_sentiment(shop.reviews["text"])["label"]
    return float(fb.score_sentiment(fb.stars_to_sentiment(shop.reviews["stars"]), pred)["macro_f1"])


@mistake("feedback_vader_macro_f1", "accuracy instead of macro-F1")
def _vader_accuracy(shop):
    pred = fb.vader_sentiment(shop.reviews["text"])["label"]
    return fb.score_sentiment(fb.stars_to_sentiment(shop.reviews["stars"]), pred)["accuracy"]


@mistake("feedback_vader_macro_f1", "3 stars counted as positive in the reference")
def _vader_three_positive(shop):
    pred = fb.vader_sentiment(shop.reviews["text"])["label"]
    ref = np.where(shop.reviews["stars"] >= 3, "pos", "neg")
    return fb.score_sentiment(ref, pred)["macro_f1"]


@mistake("feedback_vader_macro_f1", "F1 weighted by class size instead of the plain mean")
def _vader_weighted(shop):
    from sklearn.metrics import f1_score

    pred = fb.vader_sentiment(shop.reviews["text"])["label"].to_numpy()
    return float(f1_score(fb.stars_to_sentiment(shop.reviews["stars"]), pred, average="weighted"))


# -- exercise 5: the social-listening alarm ----------------------------------------------------


def _daily_negative(shop) -> pd.DataFrame:
    neg = (fb.vader_sentiment(shop.social_mentions["text"])["label"] == "neg").to_numpy()
    return fb.daily_mentions(shop.social_mentions, neg, start=shop.start, end=shop.end).set_index("date")


def _alert_days(chart: pd.DataFrame) -> set[str]:
    return {f"{d:%Y-%m-%d}" for d in chart.index[chart["alert"].to_numpy()]}


@question("feedback_alert_days",
          hint="Daily n (all mentions, 0 on days without) and k (VADER-negative). Baseline for "
               "day t: days t-62..t-7 (56 days ending 7 days before t; at least 28 of them), "
               "p0 = (sum k + 0.5) / (sum n + 1). Alert when k/n >= p0 + 3*sqrt(p0(1-p0)/n) and "
               "k >= 3. Answer the alert dates as 'YYYY-MM-DD' strings (a list or set).")
def alert_days(shop) -> set[str]:
    d = _daily_negative(shop)
    chart = fb.proportion_chart(d["n_negative"], d["n_mentions"], window=ALERT_WINDOW, guard=ALERT_GUARD,
                                L=ALERT_L, min_count=ALERT_MIN_COUNT)
    return _alert_days(chart)


@mistake("feedback_alert_days", "no minimum count of 3 negative mentions")
def _alert_no_min(shop):
    d = _daily_negative(shop)
    return _alert_days(fb.proportion_chart(d["n_negative"], d["n_mentions"], window=ALERT_WINDOW,
                                           guard=ALERT_GUARD, L=ALERT_L, min_count=0))


@mistake("feedback_alert_days", "a z-score on the daily count of negative mentions, not the share")
def _alert_count(shop):
    d = _daily_negative(shop)
    return _alert_days(fb.rolling_zscore(d["n_negative"], window=ALERT_WINDOW, guard=ALERT_GUARD,
                                         threshold=ALERT_L, min_count=ALERT_MIN_COUNT))


@mistake("feedback_alert_days", "z-score on the total volume of mentions")
def _alert_volume(shop):
    d = _daily_negative(shop)
    return _alert_days(fb.rolling_zscore(d["n_mentions"], window=ALERT_WINDOW, guard=ALERT_GUARD,
                                         threshold=ALERT_L, min_count=ALERT_MIN_COUNT))


@variant("feedback_alert_days", "a sorted list")
def _alert_list(shop):
    return sorted(alert_days(shop))


# -- exercise 6: topic recovery with the Hungarian algorithm -------------------------------------


def _topics(shop) -> tuple[np.ndarray, np.ndarray]:
    text = shop.reviews["text"]
    pred = fb.TopicModel(N_TOPICS, seed=TOPIC_SEED).fit(text).predict(text)
    planted = shop.truth["reviews"].set_index("review_id")["topic"].loc[shop.reviews["review_id"]]
    return pred, planted.astype(str).to_numpy()


@question("feedback_topic_accuracy", rtol=1e-9,
          hint="Cross-tabulate model topic x planted topic (counts). Pair topics and labels one "
               "to one so that the total count on the pairs is largest (scipy.optimize."
               "linear_sum_assignment on the NEGATED table). Accuracy = that total / number of "
               "reviews.")
def topic_accuracy(shop) -> float:
    pred, planted = _topics(shop)
    return float(fb.match_topics(pred, planted).one_to_one_accuracy)


@mistake("feedback_topic_accuracy", "each topic mapped to its majority label (not one to one)")
def _topic_majority(shop):
    pred, planted = _topics(shop)
    table = pd.crosstab(pred, planted)
    return float(table.max(axis=1).sum() / len(pred))


@mistake("feedback_topic_accuracy", "topic k paired with the k-th label in alphabetical order")
def _topic_by_number(shop):
    pred, planted = _topics(shop)
    labels = sorted(set(planted))
    return float(np.mean([k < len(labels) and labels[k] == y for k, y in zip(pred, planted, strict=True)]))


@mistake("feedback_topic_accuracy", "the assignment that MINIMISES agreement (table not negated)")
def _topic_min(shop):
    from scipy.optimize import linear_sum_assignment

    pred, planted = _topics(shop)
    table = pd.crosstab(pred, planted).to_numpy()
    r, c = linear_sum_assignment(table)
    return float(table[r, c].sum() / len(pred))


# -- exercise 7: difference-in-differences of the fix --------------------------------------------


def _did_panel(shop, *, category_only: bool = True) -> pd.DataFrame:
    inc = shop.truth["incident"]
    start, fix = pd.Timestamp(inc["start"]), pd.Timestamp(inc["fix"])
    end = min(fix + pd.Timedelta(days=AFTER_DAYS), shop.end - pd.Timedelta(days=RETURN_LAG_DAYS))
    lines = fb.defect_return_lines(shop.orders, shop.order_items, shop.returns, shop.products)
    cat = shop.products.set_index("product_id").loc[inc["product_id"], "category"]
    ts = lines["order_ts"]
    keep = (ts >= start) & (ts < end)
    if category_only:
        keep &= lines["category"] == cat
    x = lines.loc[keep.to_numpy()]
    return pd.DataFrame({"y": x["defect_return"].astype(float),
                         "treated": x["product_id"] == inc["product_id"],
                         "post": x["order_ts"] >= fix})


@question("feedback_did_fix", rtol=1e-6,
          hint="Order lines of the incident product's category ordered from the incident start "
               "up to min(fix + 120 days, shop.end - 30 days); y = 1 if the line was returned "
               "with reason 'defective'. DiD = (affected after fix - affected before fix) - "
               "(others after - others before), means of y by ORDER date.")
def did_fix(shop) -> float:
    return float(fb.diff_in_diff(_did_panel(shop), "y")["estimate"])


@mistake("feedback_did_fix", "before/after of the affected product only (no control group)")
def _did_no_control(shop):
    p = _did_panel(shop)
    t = p.loc[p["treated"]]
    return float(t.loc[t["post"], "y"].mean() - t.loc[~t["post"], "y"].mean())


@mistake("feedback_did_fix", "controls from every category, not the incident product's")
def _did_all_categories(shop):
    return float(fb.diff_in_diff(_did_panel(shop, category_only=False), "y")["estimate"])


@mistake("feedback_did_fix", "the sign flipped (before minus after)")
def _did_flipped(shop):
    return -did_fix(shop)


# -- feedback into product development (notebook 11_root_cause_and_fix, section 5.3) ----------

def _tagged(shop) -> pd.DataFrame:
    """The feature requests tagged with the notebook's keyword rules (given in the exercise)."""
    return fb.tag_requests(shop.feature_requests)


def _before_after(shop) -> pd.DataFrame:
    """Per shipped change: requests on its theme and days before / after the ship date."""
    tagged, rows = _tagged(shop), []
    for ch in shop.product_changes.itertuples(index=False):
        ts = tagged.loc[tagged["theme"] == ch.theme, "ts"]
        ts = ts[(ts >= shop.start) & (ts <= shop.end_ts)]
        rows.append({"theme": str(ch.theme), "n_before": int((ts < ch.shipped_ts).sum()),
                     "n_after": int((ts >= ch.shipped_ts).sum()),
                     "days_before": (ch.shipped_ts - shop.start) / pd.Timedelta(days=1),
                     "days_after": (shop.end_ts - ch.shipped_ts) / pd.Timedelta(days=1)})
    return pd.DataFrame(rows).set_index("theme")


@question("feedback_change_rate_ratio",
          hint="For each shipped change, only the requests tagged with its theme. Two periods of "
               "different length meet at shipped_ts (from shop.start, to shop.end_ts): compare "
               "requests per day, after over before. A dict {theme: ratio}.")
def change_rate_ratio(shop) -> dict[str, float]:
    eff = fb.change_effect(_tagged(shop), shop.product_changes, start=shop.start, end=shop.end_ts)
    return {str(t): float(r) for t, r in zip(eff["theme"], eff["rate_ratio"], strict=True)}


@mistake("feedback_change_rate_ratio", "request counts after over before, not requests per day")
def _ratio_counts(shop) -> dict[str, float]:
    b = _before_after(shop)
    return (b["n_after"] / b["n_before"]).to_dict()


@mistake("feedback_change_rate_ratio", "before over after (the ratio turned upside down)")
def _ratio_inverted(shop) -> dict[str, float]:
    return {t: 1 / r for t, r in change_rate_ratio(shop).items()}


@variant("feedback_change_rate_ratio", "a Series indexed by theme")
def _ratio_series(shop) -> pd.Series:
    return pd.Series(change_rate_ratio(shop))


@question("feedback_theme_reach", ignore_row_order=True,
          hint="Reach counts people, not messages: per theme, how many different customers sent "
               "at least one request. A Series indexed by theme (every theme in `tagged`).")
def theme_reach(shop) -> pd.Series:
    pri = fb.prioritize_requests(_tagged(shop), shop.orders)
    return pd.Series(pri["reach"].to_numpy(), index=pd.Index(pri["theme"].astype("str"), name="theme"),
                     name="reach")


@mistake("feedback_theme_reach", "requests counted, not different customers")
def _reach_requests(shop) -> pd.Series:
    return _tagged(shop)["theme"].value_counts()


@mistake("feedback_theme_reach", "each theme's share of the customers instead of a count")
def _reach_share(shop) -> pd.Series:
    r = theme_reach(shop)
    return r / r.sum()
