"""What customers did, as a recommender reads it (互動紀錄): the log, the split, the matrix.

:func:`interaction_log` is the implicit-feedback log: one row per product view, add to cart
and purchased order line, each with a weight (:data:`DEFAULT_WEIGHTS`: a purchase says more
than a view); :func:`time_split` trains on the past and tests on the future (never a random
split: it leaks the future into training and flatters every model);
:class:`InteractionMatrix` is the user x item ``scipy.sparse`` CSR matrix with its id maps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from crmlab._checks import Reads, datetime_column, frame_with, reads

#: Implicit-feedback weight of each event type: a purchase says more than a cart, a cart
#: more than a view. Summed per (customer, product).
DEFAULT_WEIGHTS: dict[str, float] = {"product_view": 1.0, "add_to_cart": 3.0, "purchase": 5.0}
#: The fix for a log without the columns a model reads.
_LOG_FIX = "Pass a frame with these columns (e.g. from crmlab.recommend.interaction_log)."


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k <= 0:
        raise ValueError(f"k must be a positive integer (list length), got {k!r}; use e.g. k=10.")
    return int(k)


def _ids(values: Any, table: str, column: str) -> np.ndarray:
    """Id column as int64; NA ids are an error (never dropped silently)."""
    s = pd.Series(values)
    if s.isna().any():
        raise ValueError(
            f"{table}.{column} has {int(s.isna().sum())} missing id(s); drop or fill those "
            "rows before building interactions."
        )
    try:
        return s.to_numpy(dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{table}.{column} must hold integer ids, got dtype {s.dtype}.") from exc
def _browse_signals(events: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
    """Views, carts (every non-purchase type with a positive weight) that name a product."""
    frame_with(events, "events", ["customer_id", "ts", "event_type", "product_id"], _LOG_FIX)
    browse = [t for t in weights if t != "purchase" and weights[t] > 0]
    ev = events.loc[events["event_type"].isin(browse) & events["product_id"].notna(),
                    ["customer_id", "product_id", "ts", "event_type"]]
    return pd.DataFrame({
        "customer_id": _ids(ev["customer_id"], "events", "customer_id"),
        "product_id": _ids(ev["product_id"], "events", "product_id"),
        "ts": ev["ts"].to_numpy(),
        "event_type": ev["event_type"].astype(str).to_numpy(),
    })


def _purchase_signals(orders: pd.DataFrame, order_items: pd.DataFrame) -> pd.DataFrame:
    """One purchase signal per order line, with the customer and time of its order."""
    frame_with(orders, "orders", ["order_id", "customer_id", "order_ts"], _LOG_FIX)
    frame_with(order_items, "order_items", ["order_id", "product_id"], _LOG_FIX)
    lines = order_items[["order_id", "product_id"]].merge(
        orders[["order_id", "customer_id", "order_ts"]], on="order_id", how="left",
        validate="many_to_one")
    orphan = lines["customer_id"].isna()
    if orphan.any():
        raise ValueError(
            f"order_items has {int(orphan.sum())} line(s) whose order_id is not in orders; "
            "pass the matching orders table.")
    return pd.DataFrame({
        "customer_id": _ids(lines["customer_id"], "orders", "customer_id"),
        "product_id": _ids(lines["product_id"], "order_items", "product_id"),
        "ts": lines["order_ts"].to_numpy(),
        "event_type": "purchase",
    })


@reads(events=Reads("events", optional=True),
       orders=Reads("orders", optional=True),
       order_items=Reads("order_items", optional=True))
def interaction_log(
    events: pd.DataFrame | None = None,
    orders: pd.DataFrame | None = None,
    order_items: pd.DataFrame | None = None,
    *,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Implicit feedback, one row per signal: ``customer_id, product_id, ts, event_type, weight``.

    Views and carts come from ``events`` (``product_view``/``add_to_cart`` rows with a
    product); purchases come from ``order_items`` joined to ``orders`` for the customer and
    time (the click-stream's ``purchase`` event carries no product, and store orders have
    no click-stream at all). ``weights`` maps event type -> weight (default
    :data:`DEFAULT_WEIGHTS`); types with weight 0 or missing from ``weights`` are left out.
    Sorted by time. Either source may be omitted (e.g. purchases only).

    Parameters
    ----------
    events : pd.DataFrame, optional
        The shop's ``events`` table (customer_id, product_id, ts, event_type).
    orders : pd.DataFrame, optional
        The shop's ``orders`` table (order_id, customer_id, order_ts), with ``order_items``.
    order_items : pd.DataFrame, optional
        The shop's ``order_items`` table (order_id, product_id).
    weights : mapping of str to float, optional
        Weight of each event type (default :data:`DEFAULT_WEIGHTS`).

    Returns
    -------
    pd.DataFrame
        One row per signal, sorted by ``ts``.
    """
    weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
    for name, w in weights.items():
        if not np.isfinite(w) or w < 0:
            raise ValueError(f"weights[{name!r}] must be a finite number >= 0, got {w!r}.")
    parts: list[pd.DataFrame] = []
    if events is not None:
        parts.append(_browse_signals(events, weights))
    if weights.get("purchase", 0) > 0 and (orders is not None or order_items is not None):
        if orders is None or order_items is None:
            raise ValueError("purchases need both orders and order_items (the line's customer "
                             "and time are on the order); pass both, or set weights['purchase']=0.")
        parts.append(_purchase_signals(orders, order_items))
    if not parts:
        raise ValueError("interaction_log needs events and/or orders + order_items; got neither.")
    log = pd.concat(parts, ignore_index=True)
    log["event_type"] = pd.Categorical(log["event_type"], categories=list(weights))
    log["weight"] = log["event_type"].map(weights).astype(float)
    log = log.sort_values(["ts", "customer_id", "product_id"], kind="stable").reset_index(drop=True)
    return log


def time_split(
    log: pd.DataFrame, cutoff: str | pd.Timestamp | float, *, ts_col: str = "ts"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a log in time: ``train`` = rows before ``cutoff``, ``test`` = rows at or after.

    ``cutoff`` is a date (``"2025-07-01"``) or a float in (0, 1): the time quantile, e.g.
    0.8 trains on the first 80 % of the signals. Both parts must be non-empty.

    Parameters
    ----------
    log : pd.DataFrame
        An interaction log with a datetime column ``ts_col``.
    cutoff : str, pd.Timestamp or float
        The first moment of the test period, or a time quantile in (0, 1).
    ts_col : str, default "ts"
        The timestamp column.

    Returns
    -------
    tuple of pd.DataFrame
        ``(train, test)``.
    """
    frame_with(log, "log", [ts_col], _LOG_FIX)
    ts = datetime_column(log, "log", ts_col, func="time_split")
    if isinstance(cutoff, float) and not isinstance(cutoff, bool):
        if not 0 < cutoff < 1:
            raise ValueError(f"cutoff as a share of time must be in (0, 1), got {cutoff}.")
        cut = ts.quantile(cutoff)
    else:
        try:
            cut = pd.Timestamp(cutoff)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"cutoff={cutoff!r} is not a date; pass e.g. '2025-07-01'.") from exc
    before = (ts < cut).to_numpy()
    if before.all() or not before.any():
        raise ValueError(
            f"cutoff {cut} leaves one side empty (log.{ts_col} runs {ts.min()} .. {ts.max()}); "
            "pick a date inside that range.")
    return log.loc[before].reset_index(drop=True), log.loc[~before].reset_index(drop=True)


# --------------------------------------------------------------------------------------
# the interaction matrix
# --------------------------------------------------------------------------------------

def _weights(interactions: pd.DataFrame, weight_col: str | None, n: int) -> np.ndarray:
    """The checked weight of each row (>= 0), or 1 for every row without a weight column."""
    if weight_col is not None and weight_col in interactions.columns:
        w = pd.to_numeric(interactions[weight_col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            raise ValueError(f"interactions.{weight_col} has {int(bad.sum())} missing, "
                             "negative or infinite weight(s); weights must be >= 0.")
    else:
        w = np.ones(n)
    return w


def _item_positions(item_vals: np.ndarray, items: Iterable[int] | None,
                    item_col: str) -> tuple[np.ndarray, np.ndarray]:
    """The item ids (seen ones, or the given catalogue) and each row's column position."""
    if items is None:
        item_ids, cols = np.unique(item_vals, return_inverse=True)
    else:
        item_ids = np.unique(np.asarray(list(items), dtype=np.int64))
        cols = np.searchsorted(item_ids, item_vals)
        cols = np.minimum(cols, len(item_ids) - 1)
        unknown = item_ids[cols] != item_vals
        if unknown.any():
            raise ValueError(
                f"interactions.{item_col} has {int(unknown.sum())} row(s) with items not in "
                f"`items` (e.g. {item_vals[unknown][:3].tolist()}); add them to the catalogue.")
    return item_ids, cols


@dataclass(frozen=True)
class InteractionMatrix:
    """User × item CSR matrix of summed weights plus the id maps.

    ``matrix[u, i]`` is the total weight of user ``user_ids[u]`` on item ``item_ids[i]``;
    ``user_ids``/``item_ids`` are sorted, so row/column positions follow the ids.

    Build one with :meth:`from_frame`.

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix
        Summed weights, users x items.
    user_ids, item_ids : np.ndarray
        Sorted ids of the rows and columns.
    user_col, item_col : str, default "customer_id", "product_id"
        Column names the ids came from (and go back to in :meth:`to_frame`).
    """

    matrix: sparse.csr_matrix
    user_ids: np.ndarray
    item_ids: np.ndarray
    user_col: str = "customer_id"
    item_col: str = "product_id"

    @classmethod
    def from_frame(
        cls,
        interactions: pd.DataFrame,
        *,
        user_col: str = "customer_id",
        item_col: str = "product_id",
        weight_col: str | None = "weight",
        items: Iterable[int] | None = None,
    ) -> InteractionMatrix:
        """Aggregate a (user, item[, weight]) frame: duplicates are summed.

        Without ``weight_col`` in the frame every row counts 1. ``items`` fixes the catalogue
        (columns), e.g. every product, so items nobody touched can still be scored.

        Parameters
        ----------
        interactions : pd.DataFrame
            One row per signal.
        user_col, item_col : str, default "customer_id", "product_id"
            The user and item columns.
        weight_col : str or None, default "weight"
            The weight column.
        items : iterable of int, optional
            The whole catalogue.

        Returns
        -------
        InteractionMatrix
            The matrix with its id maps.
        """
        frame_with(interactions, "interactions", [user_col, item_col], _LOG_FIX)
        if len(interactions) == 0:
            raise ValueError("interactions is empty: a recommender needs at least one "
                             "(user, item) signal; check the date range of the log.")
        users = _ids(interactions[user_col], "interactions", user_col)
        item_vals = _ids(interactions[item_col], "interactions", item_col)
        w = _weights(interactions, weight_col, len(users))
        user_ids, rows = np.unique(users, return_inverse=True)
        item_ids, cols = _item_positions(item_vals, items, item_col)
        m = sparse.csr_matrix((w, (rows, cols)), shape=(len(user_ids), len(item_ids)))
        m.sum_duplicates()
        m.eliminate_zeros()
        if m.nnz == 0:
            raise ValueError(f"interactions.{weight_col} sums to 0 for every (user, item); "
                             "give the signals a positive weight.")
        return cls(m, user_ids, item_ids, user_col, item_col)

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def user_index(self, users: Any) -> np.ndarray:
        """Row positions of ``users``; ``ValueError`` naming unknown ids.

        Parameters
        ----------
        users : array-like of int
            User ids.

        Returns
        -------
        np.ndarray
            Their row positions.
        """
        u = np.atleast_1d(np.asarray(users))
        if u.size == 0:
            raise ValueError("users is empty; pass at least one customer id.")
        try:
            u = u.astype(np.int64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"users must be integer {self.user_col} values.") from exc
        pos = np.searchsorted(self.user_ids, u)
        pos = np.minimum(pos, len(self.user_ids) - 1)
        unknown = self.user_ids[pos] != u
        if unknown.any():
            bad = np.unique(u[unknown])
            raise ValueError(
                f"{len(bad)} {self.user_col}(s) not in the training interactions (e.g. "
                f"{bad[:5].tolist()}): the model cannot score users it has never seen. Use "
                "crmlab.recommend.recommend_with_cold_start(...) to give new customers "
                "popular products within their interests.")
        return pos

    def to_frame(self) -> pd.DataFrame:
        """Back to a tidy ``user, item, weight`` frame (one row per non-zero cell).

        Returns
        -------
        pd.DataFrame
            ``user_col, item_col, weight``.
        """
        coo = self.matrix.tocoo()
        return pd.DataFrame({self.user_col: self.user_ids[coo.row],
                             self.item_col: self.item_ids[coo.col],
                             "weight": coo.data})
