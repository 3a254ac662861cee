"""Churn early warning (流失預警): labels, features and scores judged out of time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmlab._checks import Reads, reads
from crmlab._checks import as_timestamp as _to_timestamp
from crmlab.clv.models.bgnbd import BetaGeoModel
from crmlab.clv.summary import _log_columns, _log_reads, summarize

__all__ = [
    "auc",
    "top_decile_lift",
    "time_to_next_purchase",
    "churn_labels",
    "churn_features",
    "churn_early_warning",
    "ChurnWarning",
]


def auc(y_true, score) -> float:
    """Area under the ROC curve: the chance a random churner scores above a random
    stayer (ties count half) — the Mann-Whitney U statistic scaled to [0, 1].

    Parameters
    ----------
    y_true : array-like of bool or 0/1
        True where the customer churned.
    score : array-like of float
        Churn score; higher means more likely to churn.

    Returns
    -------
    float
        The AUC in [0, 1] (0.5: no better than chance).
    """
    from scipy.stats import rankdata

    y = np.asarray(y_true).astype(bool)
    s = np.asarray(score, dtype=float)
    if y.shape != s.shape or y.size == 0:
        raise ValueError("y_true and score must be non-empty and of the same length.")
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("y_true needs both classes (churners and stayers) for an AUC.")
    ranks = rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def top_decile_lift(y_true, score, frac: float = 0.1) -> float:
    """Churn rate among the ``frac`` highest scores divided by the overall churn rate.

    Ties at the cut are broken by order of appearance after a stable sort, so the
    top group always has exactly ``ceil(frac * n)`` members.

    Parameters
    ----------
    y_true : array-like of 0/1
        1 where the customer churned.
    score : array-like of float
        Churn score; higher means more likely to churn.
    frac : float, default 0.1
        Share of customers in the top group, in (0, 1].

    Returns
    -------
    float
        Churn rate of the top group over the overall churn rate (1: no better than chance).
    """
    y = np.asarray(y_true, dtype=float)
    s = np.asarray(score, dtype=float)
    if y.size == 0 or y.shape != s.shape:
        raise ValueError("y_true and score must be non-empty and of the same length.")
    if not np.isin(y, [0, 1]).all():
        raise ValueError("y_true must be 0/1 labels.")
    if not 0 < frac <= 1:
        raise ValueError("frac must be in (0, 1], e.g. 0.1 for the top decile.")
    base = y.mean()
    if base == 0:
        raise ValueError("y_true has no positives; lift is undefined.")
    k = int(np.ceil(frac * y.size))
    top = np.argsort(-s, kind="stable")[:k]
    return float(y[top].mean() / base)


def _horizon_days(horizon) -> float:
    if isinstance(horizon, pd.Timedelta | np.timedelta64):
        days = pd.Timedelta(horizon) / pd.Timedelta(days=1)
    else:
        try:
            days = float(horizon)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"horizon={horizon!r} must be a number of days or a pd.Timedelta.") from exc
    if not np.isfinite(days) or days <= 0:
        raise ValueError(f"horizon={horizon!r} must be a positive number of days.")
    return float(days)


def _order_log(orders: pd.DataFrame, customer_col: str, date_col: str, amount_col: str | None):
    cust, dates, amount = _log_columns(orders, customer_col, date_col, amount_col)
    out = pd.DataFrame({"customer": cust.to_numpy(), "ts": dates.to_numpy()})
    if amount is not None:
        out["amount"] = amount.to_numpy(dtype=float)
    return out


@reads(orders=_log_reads(amount=False))
def time_to_next_purchase(
    orders: pd.DataFrame,
    observation_end=None,
    *,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
) -> pd.DataFrame:
    """Days from each order to the same customer's next order, for survival curves.

    One row per order up to ``observation_end`` (default: the last order). When the
    customer orders again, ``duration_days`` is the gap and ``event`` is True; for
    each customer's last order the next purchase has not been seen yet, so the row
    is censored: ``duration_days`` runs to ``observation_end`` and ``event`` is False.
    Feeding these to :func:`crmlab.survival.kaplan_meier` gives the probability that
    a customer has *not* bought again t days after a purchase — the honest way to
    pick a "lapsed after N days" rule, because simply averaging observed gaps ignores
    the customers who have not come back yet. Orders at the same timestamp count once.

    Parameters
    ----------
    orders : pd.DataFrame
        The order log (``customer_col``, ``date_col``).
    observation_end : date-like, optional
        End of observation (default: the last order); later orders are ignored (counted
        in ``attrs["n_orders_after_end"]``).
    customer_col, date_col : str
        Its customer id and order timestamp columns.

    Returns
    -------
    pd.DataFrame
        One row per distinct order: ``customer_col``, ``date_col``, ``duration_days``,
        ``event``.
    """
    log = _order_log(orders, customer_col, date_col, None)
    end = log["ts"].max() if observation_end is None else _to_timestamp(observation_end, "observation_end")
    n_after = int((log["ts"] > end).sum())
    log = log.loc[log["ts"] <= end].drop_duplicates(["customer", "ts"])
    log = log.sort_values(["customer", "ts"], kind="stable").reset_index(drop=True)
    nxt = log.groupby("customer", sort=False)["ts"].shift(-1)
    event = nxt.notna().to_numpy()
    stop = nxt.fillna(end)
    out = pd.DataFrame({
        customer_col: log["customer"].to_numpy(),
        date_col: log["ts"].to_numpy(),
        "duration_days": (stop - log["ts"]).dt.total_seconds().to_numpy() / 86400.0,
        "event": event,
    })
    out.attrs["n_orders_after_end"] = n_after
    return out


@reads(orders=_log_reads(amount=False))
def churn_labels(
    orders: pd.DataFrame,
    cutoff,
    horizon=90,
    *,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
) -> pd.DataFrame:
    """Who churned after ``cutoff``: no order in (cutoff, cutoff + horizon days].

    Only customers with at least one order up to ``cutoff`` are labelled (you cannot
    lose someone who never bought). Returns ``customer_col`` and ``churned`` (bool).
    Raises if the data end before ``cutoff + horizon`` (the labels would be wrong).

    Parameters
    ----------
    orders : pd.DataFrame
        The order log (``customer_col``, ``date_col``).
    cutoff : date-like
        The day the churn question is asked.
    horizon : float or pd.Timedelta, default 90
        Length of the look-ahead window (days).
    customer_col, date_col : str
        Its customer id and order timestamp columns.

    Returns
    -------
    pd.DataFrame
        One row per customer who bought by ``cutoff``: ``customer_col``, ``churned``.
    """
    log = _order_log(orders, customer_col, date_col, None)
    cut = _to_timestamp(cutoff, "cutoff")
    stop = cut + pd.Timedelta(days=_horizon_days(horizon))
    if log["ts"].max() < stop - pd.Timedelta(days=1):
        raise ValueError(
            f"orders: the last order in '{date_col}' is {log['ts'].max()}, before "
            f"cutoff + horizon ({stop}); the churn labels need the whole horizon — "
            "choose an earlier cutoff or a shorter horizon."
        )
    before = log.loc[log["ts"] <= cut, "customer"].unique()
    if before.size == 0:
        raise ValueError(f"orders: no order on or before cutoff {cut}; choose a later cutoff.")
    bought = log.loc[(log["ts"] > cut) & (log["ts"] <= stop), "customer"].unique()
    before = np.sort(before)
    return pd.DataFrame({customer_col: before, "churned": ~np.isin(before, bought)})


# Long function: most of it is the docstring defining each feature; the body
# is 30 lines (the session features are in _add_session_features).
@reads(orders=_log_reads(),
       sessions=Reads("sessions", ("customer_id", "start_ts"), rename={"start_ts": "session_date_col"},
                      optional=True))
def churn_features(
    orders: pd.DataFrame,
    cutoff,
    *,
    sessions: pd.DataFrame | None = None,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    amount_col: str = "amount",
    session_date_col: str = "start_ts",
) -> pd.DataFrame:
    """RFM and engagement features of every customer who bought by ``cutoff``.

    Uses only data up to ``cutoff`` (no peeking): ``recency_days`` since the last
    order, ``frequency`` (orders), ``monetary`` (total spend), ``tenure_days`` since
    the first order, ``orders_90d`` and ``spend_90d`` (last 90 days), ``mean_gap_days``
    ((last - first order) / (orders - 1); NaN for one-time buyers and for customers
    whose orders all share one timestamp, who show no gap) and ``overdue`` (recency /
    mean gap: > 1 means later than usual; NaN where the gap is). Every value is finite
    or NaN, never infinite. With ``sessions`` it adds
    ``sessions_30d``, ``sessions_90d`` and ``days_since_session`` (NaN if never).

    Parameters
    ----------
    orders : pd.DataFrame
        The order log (``customer_col``, ``date_col``, ``amount_col``).
    cutoff : date-like
        Only data up to this moment is used.
    sessions : pd.DataFrame, optional
        The shop's ``sessions`` table (``customer_col``, ``session_date_col``).
    customer_col, date_col, amount_col, session_date_col : str
        Column names in ``orders`` and ``sessions``.

    Returns
    -------
    pd.DataFrame
        One row per customer who bought by ``cutoff``, sorted by id, with the features above.
    """
    log = _order_log(orders, customer_col, date_col, amount_col)
    cut = _to_timestamp(cutoff, "cutoff")
    log = log.loc[log["ts"] <= cut]
    if log.empty:
        raise ValueError(f"orders: no order on or before cutoff {cut}; choose a later cutoff.")
    recent = log["ts"] > cut - pd.Timedelta(days=90)
    g = log.assign(
        recent_order=recent.astype(np.int64), recent_spend=log["amount"].where(recent, 0.0)
    ).groupby("customer", sort=True)
    feats = g.agg(
        first=("ts", "min"), last=("ts", "max"), frequency=("ts", "size"),
        monetary=("amount", "sum"), orders_90d=("recent_order", "sum"),
        spend_90d=("recent_spend", "sum"),
    )
    out = pd.DataFrame({customer_col: feats.index.to_numpy()})
    day = pd.Timedelta(days=1)
    out["recency_days"] = ((cut - feats["last"]) / day).to_numpy()
    out["frequency"] = feats["frequency"].to_numpy(dtype=np.int64)
    out["monetary"] = feats["monetary"].to_numpy()
    out["tenure_days"] = ((cut - feats["first"]) / day).to_numpy()
    out["orders_90d"] = feats["orders_90d"].to_numpy(dtype=np.int64)
    out["spend_90d"] = feats["spend_90d"].to_numpy()
    span = ((feats["last"] - feats["first"]) / day).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        # a zero span (several orders at one timestamp) shows no gap: NaN, not 0, so that
        # overdue = recency / gap is never infinite
        gap = np.where((out["frequency"] > 1) & (span > 0), span / (out["frequency"] - 1), np.nan)
    out["mean_gap_days"] = gap
    out["overdue"] = out["recency_days"] / gap
    if sessions is not None:
        _add_session_features(out, sessions, cut, customer_col, session_date_col)
    return out


def _add_session_features(out: pd.DataFrame, sessions: pd.DataFrame, cut: pd.Timestamp,
                          customer_col: str, session_date_col: str) -> None:
    """Add ``sessions_30d``, ``sessions_90d`` and ``days_since_session`` (NaN if never) to
    the feature table ``out``, from the visits up to ``cut``."""
    if session_date_col not in sessions.columns or customer_col not in sessions.columns:
        raise ValueError(
            f"sessions: columns '{customer_col}' and '{session_date_col}' are needed; pass "
            "session_date_col= naming the visit time."
        )
    day = pd.Timedelta(days=1)
    st = pd.to_datetime(sessions[session_date_col])
    ses = pd.DataFrame({"customer": sessions[customer_col].to_numpy(), "ts": st.to_numpy()})
    ses = ses.loc[ses["ts"] <= cut]
    age = (cut - ses["ts"]) / day
    sg = ses.assign(s30=(age <= 30).astype(np.int64), s90=(age <= 90).astype(np.int64),
                    age=age).groupby("customer")
    sf = sg.agg(sessions_30d=("s30", "sum"), sessions_90d=("s90", "sum"),
                days_since_session=("age", "min"))
    sf = sf.reindex(out[customer_col].to_numpy())
    out["sessions_30d"] = sf["sessions_30d"].fillna(0).to_numpy(dtype=np.int64)
    out["sessions_90d"] = sf["sessions_90d"].fillna(0).to_numpy(dtype=np.int64)
    out["days_since_session"] = sf["days_since_session"].to_numpy(dtype=float)


@dataclass
class ChurnWarning:
    """Result of :func:`churn_early_warning`.

    ``metrics``: one row per method with ``auc`` and ``top_decile_lift`` on the test
    cut-off. ``scores``: per test customer the label and every method's churn score.
    ``thresholds``: the P(alive) rule "flag when P(alive) < threshold" — share of
    customers flagged, precision (churn rate among flagged) and recall.
    ``feature_importance``: permutation importance of the classifier's features (AUC
    drop on the test cut-off).

    Parameters
    ----------
    metrics, scores, thresholds, feature_importance : pd.DataFrame
        The four tables described above.
    """

    metrics: pd.DataFrame
    scores: pd.DataFrame
    thresholds: pd.DataFrame
    feature_importance: pd.DataFrame


# Long function: most of it is the docstring (the three methods and the
# out-of-time design); the body is 40 lines calling one helper per step.
@reads(orders=_log_reads(), sessions=Reads("sessions", ("customer_id", "start_ts"), optional=True))
def churn_early_warning(
    orders: pd.DataFrame,
    train_cutoff,
    test_cutoff,
    horizon=90,
    *,
    sessions: pd.DataFrame | None = None,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    amount_col: str = "amount",
    thresholds=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7),
    seed: int = 0,
) -> ChurnWarning:
    """Compare churn early-warning scores out of time (流失預警).

    * **BG/NBD**: fitted on the orders up to ``test_cutoff`` (it needs no labels);
      scores ``1 - P(alive)`` and ``P(no purchase in the horizon)``.
    * **classifier**: gradient boosting (scikit-learn's GradientBoostingClassifier) on
      :func:`churn_features` at ``train_cutoff`` with labels from the following
      ``horizon`` days, then applied to the features at ``test_cutoff``.
    * **recency rule**: days since the last order, the baseline every shop has.

    Everything is judged on the customers who had bought by ``test_cutoff`` against
    whether they ordered in (test_cutoff, test_cutoff + horizon]. ``train_cutoff +
    horizon`` must not be after ``test_cutoff`` so no test-period order leaks into
    training.

    Parameters
    ----------
    orders : pd.DataFrame
        The order log (``customer_col``, ``date_col``, ``amount_col``).
    train_cutoff, test_cutoff : date-like
        Cut-offs of training and judging; ``train_cutoff + horizon <= test_cutoff``.
    horizon : float or pd.Timedelta, default 90
        Days without an order that count as churn.
    sessions : pd.DataFrame, optional
        Visits, for the classifier's engagement features.
    customer_col, date_col, amount_col : str
        Column names in ``orders``.
    thresholds : sequence of float
        P(alive) thresholds of the flagging rule.
    seed : int, default 0
        Seed of the classifier and the permutation importance.

    Returns
    -------
    ChurnWarning
        ``metrics``, ``scores``, ``thresholds`` and ``feature_importance``.
    """
    days = _horizon_days(horizon)
    tr, te = _to_timestamp(train_cutoff, "train_cutoff"), _to_timestamp(test_cutoff, "test_cutoff")
    if tr + pd.Timedelta(days=days) > te:
        raise ValueError(
            f"train_cutoff + horizon ({tr + pd.Timedelta(days=days)}) is after test_cutoff ({te}); "
            "the training labels would overlap the test period — move train_cutoff earlier."
        )
    kw = {"customer_col": customer_col, "date_col": date_col}
    fkw = {**kw, "amount_col": amount_col, "sessions": sessions}
    X_tr, X_te = (_labelled_features(orders, cut, days, name, kw, fkw)
                  for name, cut in (("train", tr), ("test", te)))
    feat_cols = [c for c in X_tr.columns if c not in (customer_col, "churned")]
    clf, gbm = _classifier_scores(X_tr, X_te, feat_cols, seed)
    p_alive, p_none = _bgnbd_scores(orders, X_te[customer_col].to_numpy(), te, days, kw)

    y = X_te["churned"].to_numpy().astype(int)
    scores = pd.DataFrame({
        customer_col: X_te[customer_col].to_numpy(),
        "churned": X_te["churned"].to_numpy(),
        "p_alive": p_alive,
        "bgnbd_no_purchase": p_none,
        "gradient_boosting": gbm,
        "recency_days": X_te["recency_days"].to_numpy(),
    })
    methods = {
        "BG/NBD 1 - P(alive)": 1 - p_alive,
        "BG/NBD P(no purchase in horizon)": p_none,
        "gradient boosting (RFM + engagement)": gbm,
        "recency rule (days since last order)": X_te["recency_days"].to_numpy(),
    }
    metrics = pd.DataFrame({
        "method": list(methods),
        "auc": [auc(y, s) for s in methods.values()],
        "top_decile_lift": [top_decile_lift(y, s) for s in methods.values()],
    })
    importance = _permutation_importance(clf, X_te[feat_cols].fillna(-1.0), y, gbm, seed)
    return ChurnWarning(metrics=metrics, scores=scores,
                        thresholds=_threshold_table(p_alive, y, thresholds),
                        feature_importance=importance)


def _labelled_features(orders: pd.DataFrame, cut: pd.Timestamp, days: float, name: str,
                       kw: dict, fkw: dict) -> pd.DataFrame:
    """:func:`churn_features` at ``cut`` joined to the churn labels of the next ``days``,
    refusing a cut-off where every customer has the same label (nothing to learn or judge)."""
    y = churn_labels(orders, cut, days, **kw)
    if y["churned"].nunique() < 2:
        raise ValueError(
            f"orders: at the {name} cut-off every customer has the same churn label; "
            "use more data or another horizon."
        )
    return churn_features(orders, cut, **fkw).merge(y, on=kw["customer_col"], validate="1:1")


def _classifier_scores(X_tr: pd.DataFrame, X_te: pd.DataFrame, feat_cols: list[str], seed: int):
    """Gradient boosting trained on the earlier cut-off; (classifier, churn scores at the later)."""
    from sklearn.ensemble import GradientBoostingClassifier

    # trees need numbers: "never" (one-time buyer's gap, no visit yet) becomes -1
    M_tr = X_tr[feat_cols].fillna(-1.0)
    M_te = X_te[feat_cols].fillna(-1.0)
    clf = GradientBoostingClassifier(n_estimators=150, max_depth=3, learning_rate=0.05,
                                     subsample=0.8, random_state=seed)
    clf.fit(M_tr, X_tr["churned"])
    return clf, clf.predict_proba(M_te)[:, 1]


def _bgnbd_scores(orders: pd.DataFrame, customers: np.ndarray, cut: pd.Timestamp, days: float,
                  kw: dict) -> tuple[np.ndarray, np.ndarray]:
    """BG/NBD fitted on the orders up to ``cut`` (no labels needed): P(alive) and P(no
    purchase in the next ``days``) of ``customers``, in their order."""
    customer_col, date_col = kw["customer_col"], kw["date_col"]
    summ = summarize(orders, customer_col, date_col, None, freq="D", observation_end=cut)
    bg = BetaGeoModel().fit(summ)
    summ = summ.set_index(customer_col).loc[customers]
    return bg.p_alive(summ).to_numpy(), bg.prob_no_purchase(days, summ).to_numpy()


def _threshold_table(p_alive: np.ndarray, y: np.ndarray, thresholds) -> pd.DataFrame:
    """The rule "flag when P(alive) < threshold": share flagged, precision and recall."""
    rows = []
    for thr in thresholds:
        flag = p_alive < thr
        n_flag = int(flag.sum())
        rows.append({
            "threshold": float(thr),
            "flagged_share": n_flag / y.size,
            "precision": float(y[flag].mean()) if n_flag else np.nan,
            "recall": float(y[flag].sum() / y.sum()),
        })
    return pd.DataFrame(rows)


def _permutation_importance(clf, M_te: pd.DataFrame, y: np.ndarray, scores: np.ndarray,
                            seed: int) -> pd.DataFrame:
    """AUC lost when one feature is shuffled (3 shuffles each), largest first."""
    rng = np.random.default_rng(seed)
    base_auc = auc(y, scores)
    feat_cols = list(M_te.columns)
    M = M_te.to_numpy(dtype=float)
    drops = []
    for j in range(M.shape[1]):
        lost = []
        for _ in range(3):
            Mp = M.copy()
            Mp[:, j] = rng.permutation(Mp[:, j])
            lost.append(base_auc - auc(y, clf.predict_proba(pd.DataFrame(Mp, columns=feat_cols))[:, 1]))
        drops.append(float(np.mean(lost)))
    return pd.DataFrame({"feature": feat_cols, "auc_drop": drops}) \
        .sort_values("auc_drop", ascending=False, ignore_index=True)
