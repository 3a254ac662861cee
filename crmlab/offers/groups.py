"""Treatment and holdout groups (實驗組與對照組): the treatment column read as True/False.

Every shop campaign keeps a randomized holdout. :func:`treatment_flags` accepts booleans, 0/1
or the shop's ``"treatment"``/``"holdout"`` labels and refuses anything that is not a
two-group experiment.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: Labels of the treatment column that mean "treated" / "control".
TREATED_LABELS = ("treatment", "treated")
CONTROL_LABELS = ("holdout", "control")
def treatment_flags(values: Any, table: str = "campaign_contacts", column: str = "group",
                    func: str = "treatment_flags") -> np.ndarray:
    """The treatment column as a boolean array (True = treated), or a ValueError.

    Accepts booleans, the integers 0/1, or the labels ``"treatment"``/``"treated"`` and
    ``"holdout"``/``"control"`` (as str or category). Anything else -- a third group, a 2,
    missing values -- is not a two-arm experiment and raises a ValueError naming the column.

    Parameters
    ----------
    values : array-like or pd.Series
        The treatment column, one value per contact.
    table, column : str, default "campaign_contacts", "group"
        Table and column names used in error messages.
    func : str, default "treatment_flags"
        The calling function's name, used in error messages.

    Returns
    -------
    np.ndarray
        Boolean, True for treated contacts.
    """
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if len(s) == 0:
        raise ValueError(f"{func}: {table}.{column} is empty; pass the contacts of at least one "
                         "campaign (treatment and holdout rows).")
    if s.isna().any():
        raise ValueError(
            f"{func}: {table}.{column} has {int(s.isna().sum())} missing values; every contact "
            "must be either treated or held out -- fix or drop those rows (and report how many).")
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(s):
        arr = s.to_numpy(dtype="float64")
        bad = ~np.isin(arr, (0.0, 1.0))
        if bad.any():
            raise ValueError(
                f"{func}: {table}.{column} is not binary: it holds {sorted(set(arr[bad].tolist()))[:5]} "
                "besides 0/1; code treatment as 1 (or True) and control as 0 (or False).")
        return arr == 1.0
    labels = s.astype("str").str.strip().str.lower()
    known = set(TREATED_LABELS) | set(CONTROL_LABELS)
    bad = ~labels.isin(known)
    if bad.any():
        raise ValueError(
            f"{func}: {table}.{column} is not binary: it holds {sorted(labels[bad].unique().tolist())[:5]}; "
            "use 'treatment' and 'holdout' (or True/False, 1/0) -- a third arm needs its own "
            "comparison against the holdout.")
    return labels.isin(TREATED_LABELS).to_numpy()


def _require_both_arms(w: np.ndarray, table: str, column: str, func: str, where: str = "") -> None:
    n_t = int(w.sum())
    n_c = int(len(w) - n_t)
    if n_c == 0:
        raise ValueError(
            f"{func}: {table}.{column} has no control (holdout) rows{where}; without a randomized "
            "holdout the campaign's effect cannot be estimated -- keep a holdout group (e.g. 10-20% "
            "of the target list) or drop this campaign from the analysis.")
    if n_t == 0:
        raise ValueError(
            f"{func}: {table}.{column} has no treated rows{where}; there is nothing to compare "
            "the holdout with -- check the treatment labels or drop this group.")
