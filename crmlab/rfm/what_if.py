"""RFM cut points as a live what-if (:func:`crmlab.demos.rfm_demo`): two cuts, four segments."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.rfm.scores import segment_summary

__all__ = ["CUT_POINT_SEGMENTS", "cut_point_segments"]

# --------------------------------------------------------------------------------------
# live what-if demo: RFM cut points -> segment sizes and revenue (crmlab.demos.rfm_demo)
# --------------------------------------------------------------------------------------

#: The four cells of a recency x frequency cut (recent = last order within the recency cut,
#: frequent = at least the order cut), in the order :func:`cut_point_segments` lists them.
CUT_POINT_SEGMENTS = pd.DataFrame({
    "segment": ["recent, frequent", "recent, infrequent", "lapsed, frequent", "lapsed, infrequent"],
    "segment_zh": ["近期常購", "近期少購", "久未購買但曾常購", "久未購買且少購"],
})


def cut_point_segments(table: pd.DataFrame, recency_days: float, min_orders: int, *,
                       monetary_col: str = "monetary") -> pd.DataFrame:
    """Split customers by two cut points and size the four segments.

    ``table`` is an :func:`rfm_table`. A customer is *recent* when ``recency <=
    recency_days`` and *frequent* when ``frequency >= min_orders``. Returns
    :func:`segment_summary` of the four :data:`CUT_POINT_SEGMENTS` (every segment listed,
    empty ones with 0 customers): ``customers``, ``customer_share``, mean ``recency``,
    ``frequency``, ``monetary``, ``revenue`` and ``revenue_share``.

    Parameters
    ----------
    table : pd.DataFrame
        An :func:`rfm_table`.
    recency_days : float
        Recency cut in days (recent: ``recency <= recency_days``).
    min_orders : int
        Frequency cut (frequent: ``frequency >= min_orders``).
    monetary_col : str, default "monetary"
        The money column.

    Returns
    -------
    pd.DataFrame
        :func:`segment_summary` of the four segments; ``attrs`` holds the cuts.
    """
    func = "cut_point_segments"
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"{func}: table must be a DataFrame from rfm_table(orders), "
                         f"got {type(table).__name__}.")
    missing = [c for c in ("recency", "frequency", monetary_col) if c not in table.columns]
    if missing:
        raise ValueError(f"{func}: table has no column(s) {missing}; pass rfm_table(orders) "
                         "(or name the money column with monetary_col=).")
    if len(table) == 0:
        raise ValueError(f"{func}: table is empty; there are no customers to segment.")
    try:
        r_cut, f_cut = float(recency_days), float(min_orders)
    except (TypeError, ValueError):
        raise ValueError(f"{func}: recency_days={recency_days!r} and min_orders={min_orders!r} "
                         "must be numbers, e.g. 90 and 2.") from None
    if not np.isfinite(r_cut) or r_cut < 0:
        raise ValueError(f"{func}: recency_days={recency_days!r} must be a number of days >= 0.")
    if not np.isfinite(f_cut) or f_cut < 1 or f_cut != round(f_cut):
        raise ValueError(f"{func}: min_orders={min_orders!r} must be a whole number of orders >= 1.")
    recent = table["recency"].to_numpy(dtype="float64") <= r_cut
    frequent = table["frequency"].to_numpy(dtype="float64") >= f_cut
    codes = np.select([recent & frequent, recent & ~frequent, ~recent & frequent], [0, 1, 2], 3)
    names = CUT_POINT_SEGMENTS["segment"].tolist()
    segmented = table.assign(segment=pd.Categorical.from_codes(codes, categories=names))
    out = segment_summary(segmented, CUT_POINT_SEGMENTS, monetary_col=monetary_col)
    out.attrs = {"recency_days": r_cut, "min_orders": int(f_cut)}
    return out
