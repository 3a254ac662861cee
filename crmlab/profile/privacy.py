"""Data protection (個資保護): pseudonymous ids and k-anonymity before a table is shared.

:func:`pseudonymize` replaces identifying columns by keyed hashes (HMAC-SHA256);
:func:`k_anonymity` checks quasi-identifiers (:class:`KAnonymityReport`) and
:func:`suppress_rare` removes the rows of classes that are too small.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from crmlab._checks import check_number

__all__ = ["MIN_TOKEN_LENGTH", "KAnonymityReport", "k_anonymity", "pseudonymize", "suppress_rare"]




#: The shortest token :func:`pseudonymize` makes (hex characters); shorter ones collide.
MIN_TOKEN_LENGTH = 16


def pseudonymize(df: pd.DataFrame, columns: Sequence[str], salt: str | bytes, length: int | None = None) -> pd.DataFrame:
    """Replace identifying columns by keyed hashes (HMAC-SHA256 with ``salt`` as the key).

    The same value gives the same token in every table hashed with the same salt, so joins
    still work, but without the salt nobody can recompute the tokens from a list of ids or
    e-mail addresses (a plain unsalted hash of a member id is reversed by hashing 1..n).
    Values are encoded as their text (``str(value)``, UTF-8); missing values stay missing.
    ``length`` keeps the first hex characters (64 = all). Keep the salt secret and separate.

    Parameters
    ----------
    df : pd.DataFrame
        The table to share.
    columns : str or sequence of str
        The identifying columns to replace (not float columns).
    salt : str or bytes
        The secret key, at least 16 bytes.
    length : int, optional
        Hex characters to keep, from MIN_TOKEN_LENGTH to 64; default all 64.

    Returns
    -------
    pd.DataFrame
        A copy with the columns replaced by tokens (str).
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"pseudonymize(): expected a DataFrame, got {type(df).__name__}.")
    if isinstance(columns, str):
        columns = [columns]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"pseudonymize(): column(s) {missing} are not in the table; columns: {list(df.columns)}.")
    key = salt.encode("utf-8") if isinstance(salt, str) else salt
    if not isinstance(key, bytes) or len(key) < 16:
        raise ValueError("pseudonymize(): salt must be a secret of at least 16 bytes, e.g. secrets.token_hex(16); "
                         "a short key can be guessed and the tokens reversed.")
    if length is not None:
        # 16 hex characters (64 bits): two of a million ids share a token with probability
        # about 3e-8; 2 characters (256 tokens) merge customers in every join.
        check_number(length, "length", func="pseudonymize", low=MIN_TOKEN_LENGTH, high=64,
                     integer=True, example="16 (or None for all 64 hex characters)")
        length = int(length)
    out = df.copy()
    for col in columns:
        s = df[col]
        if pd.api.types.is_float_dtype(s.dtype):
            raise ValueError(f"pseudonymize(): column {col!r} holds floats, whose text is ambiguous (1 vs 1.0); "
                             "convert to int or str first.")
        values = s.astype(object).to_numpy()
        miss = s.isna().to_numpy()
        tokens = [None if m else hmac.new(key, str(v).encode("utf-8"), hashlib.sha256).hexdigest()[:length]
                  for v, m in zip(values, miss, strict=True)]
        out[col] = pd.array(tokens, dtype="str")
    return out


@dataclass
class KAnonymityReport:
    """Result of :func:`k_anonymity`.

    ``k`` is the size of the smallest group of rows sharing the same quasi-identifiers (the
    table is k-anonymous for that k); ``classes`` lists every combination with its size,
    ``violations`` those smaller than the required ``k_required``.

    Parameters
    ----------
    quasi_identifiers : list of str
        The columns checked.
    k_required : int
        The k asked for.
    k : int
        Size of the smallest class.
    n_rows, n_classes, rows_at_risk : int
        Rows, classes and rows in classes smaller than ``k_required``.
    classes : pd.DataFrame
        Every combination with its ``size``, smallest first.
    violations : pd.DataFrame
        The classes smaller than ``k_required``.
    """

    quasi_identifiers: list[str]
    k_required: int
    k: int
    n_rows: int
    n_classes: int
    rows_at_risk: int
    classes: pd.DataFrame
    violations: pd.DataFrame

    @property
    def satisfied(self) -> bool:
        return self.k >= self.k_required

    def __repr__(self) -> str:
        return (f"KAnonymityReport(k={self.k}, required {self.k_required}: "
                f"{'OK' if self.satisfied else 'NOT k-anonymous'}; {self.n_classes} classes, "
                f"{self.rows_at_risk} of {self.n_rows} rows in classes smaller than {self.k_required})")


def k_anonymity(df: pd.DataFrame, quasi_identifiers: Sequence[str], k: int = 5) -> KAnonymityReport:
    """Check k-anonymity: does every combination of quasi-identifiers cover at least ``k`` rows?

    Quasi-identifiers are columns that are not names or ids but single people out in
    combination (age band, gender, city, birth month...). Missing values count as a value.

    Parameters
    ----------
    df : pd.DataFrame
        The table to share.
    quasi_identifiers : str or sequence of str
        The quasi-identifier columns.
    k : int, default 5
        The class size required.

    Returns
    -------
    KAnonymityReport
        The smallest class size, every class and the violations.
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"k_anonymity(): expected a DataFrame, got {type(df).__name__}.")
    qi = [quasi_identifiers] if isinstance(quasi_identifiers, str) else list(quasi_identifiers)
    if not qi:
        raise ValueError("k_anonymity(): name at least one quasi-identifier column.")
    missing = [c for c in qi if c not in df.columns]
    if missing:
        raise ValueError(f"k_anonymity(): column(s) {missing} are not in the table; columns: {list(df.columns)}.")
    if int(k) < 1:
        raise ValueError("k_anonymity(): k must be >= 1.")
    if df.empty:
        raise ValueError("k_anonymity(): the table is empty.")
    classes = (df.groupby(qi, observed=True, dropna=False, sort=True).size().rename("size").reset_index()
               .sort_values(["size", *qi], kind="stable").reset_index(drop=True))
    small = classes.loc[classes["size"] < k].reset_index(drop=True)
    return KAnonymityReport(qi, int(k), int(classes["size"].min()), len(df), len(classes), int(small["size"].sum()),
                            classes, small)


def suppress_rare(df: pd.DataFrame, quasi_identifiers: Sequence[str], k: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a table into the rows whose quasi-identifier class has >= k rows and the rest.

    Returns ``(kept, removed)`` so that the suppression is visible and counted; ``kept`` is
    k-anonymous for these quasi-identifiers. Generalising (city -> region) first keeps more.

    Parameters
    ----------
    df : pd.DataFrame
        The table to share.
    quasi_identifiers : str or sequence of str
        The quasi-identifier columns.
    k : int, default 5
        The class size required.

    Returns
    -------
    tuple of pd.DataFrame
        ``(kept, removed)``.
    """
    report = k_anonymity(df, quasi_identifiers, k)
    qi = report.quasi_identifiers
    size = df.groupby(qi, observed=True, dropna=False, sort=False)[qi[0]].transform("size")
    keep = (size >= k).to_numpy()
    return df.loc[keep], df.loc[~keep]
