"""User feedback and the closed feedback loop (用戶反饋與反饋循環) — course unit 6.

Feedback reaches a shop through product reviews and star ratings (評論與評分), social media
(社群聆聽), support tickets and returns. This module holds the computations behind
``notebooks/11_feedback_loop.ipynb``, in the order of the loop *collect -> analyse -> act ->
measure*:

* **Review analytics (評論分析)** -- :func:`rating_distribution` (how the 1-5 stars spread,
  usually J-shaped), :func:`rating_summary` with the **Bayesian average** (:func:`bayesian_average`)
  and the **Wilson lower bound** of the share of positive (4-5 star) reviews
  (:func:`wilson_lower_bound`), and :func:`rank_products`: why a 5.0 from two reviews should
  not top the list.
* **Sentiment (情感分析)** -- :func:`vader_sentiment` scores English text with VADER (Hutto &
  Gilbert 2014; the ``vaderSentiment`` package ships its lexicon, no network), and
  :class:`StarSentimentClassifier` learns sentiment from the shop's own star ratings (TF-IDF +
  logistic regression). :func:`time_split` splits by time so the model is tested on reviews
  written after the ones it learned from; :func:`score_sentiment` gives accuracy and macro-F1
  against any reference labels (the shop's planted sentiment in the course).
* **Topics (主題模型)** -- :class:`TopicModel` (NMF or LDA on TF-IDF / counts) with
  :meth:`TopicModel.top_words`, and :func:`match_topics`, which maps model topics to known
  labels with the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``) and reports
  the recovery accuracy.
* **Social listening (社群聆聽)** -- :func:`daily_mentions` (volume, negative mentions and their
  share per day), two alarms -- :func:`rolling_zscore` on a daily count and the Shewhart
  :func:`proportion_chart` (p-chart) on the daily negative share -- and :func:`alert_summary`
  (first alert after an event, alerts before it, false alarms elsewhere).
* **The loop (反饋循環)** -- :func:`defect_events` collects defect signals about products from
  every source (1-2 star reviews on a defect topic, defect tickets, defective returns,
  negative product mentions), :func:`product_signals` scores each product-week against its
  own past and combines the sources, :func:`defect_return_lines` and :func:`period_rates` give
  the before / during / after defect-return rates, and :func:`diff_in_diff` measures the
  effect of a fix against unaffected products of the same category, with a confidence
  interval.

Conventions: a review is **positive** with 4-5 stars, **neutral** with 3, **negative** with
1-2 (:func:`stars_to_sentiment`); sentiment labels are ``"neg"``, ``"neu"``, ``"pos"``. Weeks
start on Monday. Timestamps are naive local time. Texts must be non-empty strings; anything
else raises ``ValueError`` naming the table and column (nothing is dropped silently).

The package, one concept per module (``from crmlab.feedback import ...`` reaches them all):
:mod:`~crmlab.feedback.validation`, :mod:`~crmlab.feedback.ratings`,
:mod:`~crmlab.feedback.sentiment`, :mod:`~crmlab.feedback.topics`,
:mod:`~crmlab.feedback.social`, :mod:`~crmlab.feedback.loop` (defect signals),
:mod:`~crmlab.feedback.fixes` (measuring a fix) and :mod:`~crmlab.feedback.feature_requests`.
"""

from __future__ import annotations

from crmlab.feedback.feature_requests import (
    REQUEST_THEMES,
    change_effect,
    prioritize_requests,
    tag_requests,
)
from crmlab.feedback.fixes import (
    defect_return_lines,
    diff_in_diff,
    period_rates,
)
from crmlab.feedback.loop import (
    SOURCES,
    defect_events,
    product_signals,
)
from crmlab.feedback.ratings import (
    POSITIVE_STARS,
    bayesian_average,
    rank_products,
    rating_distribution,
    rating_summary,
    wilson_lower_bound,
)
from crmlab.feedback.sentiment import (
    SENTIMENTS,
    StarSentimentClassifier,
    score_sentiment,
    stars_to_sentiment,
    time_split,
    vader_sentiment,
)
from crmlab.feedback.sentiment import (
    VADER_THRESHOLDS as VADER_THRESHOLDS,  # not in __all__, kept for crmlab.feedback.VADER_THRESHOLDS
)
from crmlab.feedback.social import (
    alert_summary,
    daily_mentions,
    proportion_chart,
    rolling_zscore,
)
from crmlab.feedback.topics import (
    TopicMatch,
    TopicModel,
    match_topics,
)
from crmlab.feedback.validation import (
    validate_texts,
)

__all__ = [
    "REQUEST_THEMES",
    "change_effect",
    "prioritize_requests",
    "tag_requests",
    "POSITIVE_STARS",
    "SENTIMENTS",
    "SOURCES",
    "StarSentimentClassifier",
    "TopicMatch",
    "TopicModel",
    "alert_summary",
    "bayesian_average",
    "daily_mentions",
    "defect_events",
    "defect_return_lines",
    "diff_in_diff",
    "match_topics",
    "period_rates",
    "product_signals",
    "proportion_chart",
    "rank_products",
    "rating_distribution",
    "rating_summary",
    "rolling_zscore",
    "score_sentiment",
    "stars_to_sentiment",
    "time_split",
    "vader_sentiment",
    "validate_texts",
    "wilson_lower_bound",
]
