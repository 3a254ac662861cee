"""Feedback into product development (回饋用於產品開發): tag requests, prioritise, track to a change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from crmlab._checks import as_timestamp, datetime_column, reads, require_columns
from crmlab.journey import keyword_pattern

__all__ = [
    "REQUEST_THEMES",
    "change_effect",
    "prioritize_requests",
    "tag_requests",
]


#: Keyword rules for the shop's feature-request themes (a request takes the first theme whose
#: keyword it contains, lower case). Data: a shop writes its own as new themes appear.
REQUEST_THEMES: dict[str, tuple[str, ...]] = {
    "eco_packaging": ("plastic", "packaging"),
    "same_day_delivery": ("same-day", "same day"),
    "larger_sizes": ("sizes above", "larger size", "xl"),
    "longer_battery": ("battery",),
    "refill_packs": ("refill",),
    "bulk_discount": ("bulk",),
    "wishlist_sharing": ("wishlist",),
}


def tag_requests(requests: pd.DataFrame, themes: Mapping[str, Sequence[str]] = REQUEST_THEMES,
                 text_col: str = "text") -> pd.DataFrame:
    """Give each feature request a ``theme`` by keyword rules (first match in ``themes`` order;
    ``"other"`` when none matches, so nothing is dropped). Returns a copy with ``theme``.

    Parameters
    ----------
    requests : pd.DataFrame
        The ``feature_requests`` table.
    themes : mapping of str to sequence of str, default REQUEST_THEMES
        Theme -> keywords, in order of precedence.
    text_col : str, default "text"
        The text column.

    Returns
    -------
    pd.DataFrame
        A copy of ``requests`` with ``theme``.
    """
    require_columns(requests, "feature_requests", [text_col])
    if not themes or any(not kws for kws in themes.values()):
        raise ValueError("tag_requests: every theme needs at least one keyword, e.g. {'refills': ('refill',)}.")
    text = requests[text_col].astype("str").str.lower()
    theme = pd.Series("other", index=requests.index, dtype="str")
    done = pd.Series(False, index=requests.index)
    for name, keywords in themes.items():
        hit = ~done & text.str.contains(keyword_pattern(keywords), regex=True)
        theme[hit] = name
        done |= hit
    return requests.assign(theme=theme)


@reads(orders="customer_id amount")
def prioritize_requests(tagged: pd.DataFrame, orders: pd.DataFrame,
                        effort: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Rank the themes a product team could work on: per ``theme``, ``requests``, ``reach``
    (distinct customers asking), ``requester_spend`` (what those customers paid, NT$: whose
    wish it is) and, when ``effort`` (person-weeks per theme) is given, ``score`` =
    requester spend / effort (NT$ of the customers served per week of work, a RICE-style
    value for effort; themes without an effort estimate get no score). Sorted by score, else
    by reach.

    Parameters
    ----------
    tagged : pd.DataFrame
        Output of :func:`tag_requests` (``customer_id``, ``theme``).
    orders : pd.DataFrame
        The ``orders`` table (``customer_id``, ``amount``).
    effort : mapping of str to float, optional
        Person-weeks per theme.

    Returns
    -------
    pd.DataFrame
        One row per theme, best first.
    """
    require_columns(tagged, "feature_requests", ["customer_id", "theme"])
    require_columns(orders, "orders", ["customer_id", "amount"])
    spend = orders.groupby("customer_id")["amount"].sum()
    g = tagged.groupby("theme")
    out = pd.DataFrame({"requests": g.size(), "reach": g["customer_id"].nunique()})
    out["requester_spend"] = [float(spend.reindex(ids.unique()).fillna(0).sum())
                              for _, ids in g["customer_id"]]
    if effort is not None:
        bad = {k: v for k, v in effort.items() if not (np.isfinite(v) and v > 0)}
        if bad:
            raise ValueError(f"prioritize_requests: effort must be positive person-weeks, got {bad}.")
        weeks = pd.Series(effort, dtype="float64").reindex(out.index)
        out["effort_weeks"] = weeks
        out["score"] = out["requester_spend"] / weeks
        out = out.sort_values(["score", "reach"], ascending=False, na_position="last")
    else:
        out = out.sort_values("reach", ascending=False)
    return out.reset_index()


def change_effect(tagged: pd.DataFrame, changes: pd.DataFrame, *, end: object,
                  start: object = None, level: float = 0.95) -> pd.DataFrame:
    """Did a shipped change answer the requests? Per change: requests a day on its theme before
    and after ``shipped_ts``, the rate ratio after / before and its exact interval (conditional
    binomial: given n requests in total, the number after is Binomial(n, p) with
    p = r t_after / (t_before + r t_after); Clopper-Pearson on p, mapped back to r).

    A ratio well below 1 closes the loop (the need was met); near 1, the change did not answer
    what customers asked. ``start``/``end`` bound the observation (default start: the first
    request).

    Parameters
    ----------
    tagged : pd.DataFrame
        Output of :func:`tag_requests` (``ts``, ``theme``).
    changes : pd.DataFrame
        The ``product_changes`` table (``change_id``, ``theme``, ``shipped_ts``).
    end : datetime-like
        End of the observation.
    start : datetime-like, optional
        Start of the observation; default the first request.
    level : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    pd.DataFrame
        One row per change.
    """
    require_columns(tagged, "feature_requests", ["ts", "theme"])
    require_columns(changes, "product_changes", ["change_id", "theme", "shipped_ts"])
    ts = datetime_column(tagged, "feature_requests", "ts")
    t1 = as_timestamp(end, "end")
    t0 = ts.min() if start is None else as_timestamp(start, "start")
    alpha = 1 - level
    rows = []
    for ch in changes.itertuples(index=False):
        shipped = pd.Timestamp(ch.shipped_ts)
        if not (t0 < shipped < t1):
            raise ValueError(f"change_effect: change {ch.change_id} shipped {shipped} outside the "
                             f"observed window ({t0} .. {t1}); widen start/end.")
        own = ts[(tagged["theme"] == ch.theme).to_numpy() & (ts >= t0).to_numpy() & (ts <= t1).to_numpy()]
        before_days = (shipped - t0) / pd.Timedelta(days=1)
        after_days = (t1 - shipped) / pd.Timedelta(days=1)
        n_after = int((own >= shipped).sum())
        n = len(own)
        ratio = (n_after / after_days) / ((n - n_after) / before_days) if n > n_after else float("inf")
        lo_p = stats.beta.ppf(alpha / 2, n_after, n - n_after + 1) if n_after > 0 else 0.0
        hi_p = stats.beta.ppf(1 - alpha / 2, n_after + 1, n - n_after) if n_after < n else 1.0
        rows.append({"change_id": ch.change_id, "theme": ch.theme, "shipped_ts": shipped,
                     "per_day_before": (n - n_after) / before_days, "per_day_after": n_after / after_days,
                     "rate_ratio": ratio, "low": _odds_to_rate_ratio(lo_p, before_days, after_days),
                     "high": _odds_to_rate_ratio(hi_p, before_days, after_days), "level": level})
    return pd.DataFrame(rows)


def _odds_to_rate_ratio(p: float, before_days: float, after_days: float) -> float:
    """Share of requests after the change -> rate ratio after / before (exposure-adjusted)."""
    return (p / (1 - p)) * before_days / after_days if p < 1 else float("inf")
