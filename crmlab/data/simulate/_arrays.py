"""Array tools the simulator's stages share: categoricals, vectorised draws, group ranks, times."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: Sorting key of (customer, day) pairs as one float: ``customer * DAY_KEY + day``
#: (days stay far below a million, so the pairs sort by customer, then day).
DAY_KEY = 1e6


def _cat(values: Any, categories: tuple[str, ...] | list[str]) -> pd.Categorical:
    """A categorical of ``values`` with the categories in the given order."""
    return pd.Categorical(values, categories=list(categories))


def _codes(codes: np.ndarray, categories: tuple[str, ...] | list[str]) -> pd.Categorical:
    """A categorical from integer codes into ``categories`` (fast: no string matching)."""
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=list(categories))


def _categorical_draw(rng: np.random.Generator, probs: np.ndarray, owner: np.ndarray | None = None) -> np.ndarray:
    """One categorical draw per row of a (n, k) probability matrix.

    With ``owner``, ``probs`` holds one row per owner (customer, segment) and a draw is made
    for every entry of ``owner`` without materialising an (len(owner), k) matrix: the draw is
    the count of CDF entries <= u, accumulated one CDF column at a time over chunks of draws
    (k small gathers from a contiguous column beat one (chunk, k) row gather by about 3x).
    """
    cum = np.cumsum(probs, axis=1)
    cum = cum / cum[:, -1:]
    k = probs.shape[1]
    if owner is None:
        u = rng.random(len(probs))[:, None]
        return np.minimum((u >= cum).sum(axis=1), k - 1)
    columns = np.ascontiguousarray(cum.T, dtype=np.float32)  # float32 halves the memory traffic
    owner = np.asarray(owner, dtype=np.int64)
    u = rng.random(len(owner), dtype=np.float32)
    out = np.empty(len(owner), dtype=np.int64)
    chunk = 1_000_000  # bounds the temporaries and keeps them in cache
    count_dtype = np.int16 if k < 2**15 else np.int64
    for lo in range(0, len(owner), chunk):
        who, draw = owner[lo:lo + chunk], u[lo:lo + chunk]
        count = np.zeros(len(who), dtype=count_dtype)
        for column in columns:
            count += column.take(who) <= draw
        out[lo:lo + chunk] = count
    return np.minimum(out, k - 1)


def _sorted_unique(sorted_values: np.ndarray) -> np.ndarray:
    """``np.unique`` of an already sorted array, without sorting it again."""
    if len(sorted_values) == 0:
        return sorted_values
    return sorted_values[np.r_[True, sorted_values[1:] != sorted_values[:-1]]]


def _unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` via a stable sort, which is fast on
    nearly sorted input (the simulator's keys come in order-id order)."""
    perm = np.argsort(values, kind="stable")
    ordered = values[perm]
    new = np.r_[True, ordered[1:] != ordered[:-1]] if len(values) else np.zeros(0, dtype=bool)
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[perm] = np.cumsum(new) - 1
    return ordered[new], inverse


def _group_rank(group: np.ndarray) -> np.ndarray:
    """0-based position of each element within runs of equal (sorted) group ids."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(group[1:] != group[:-1]) + 1]
    lengths = np.diff(np.r_[starts, n])
    return np.arange(n) - np.repeat(starts, lengths)


def _ts(start: pd.Timestamp, day_float: np.ndarray) -> np.ndarray:
    """Calendar timestamps from float days since start (second resolution)."""
    secs = np.round(np.asarray(day_float, dtype=float) * 86400.0).astype("int64")
    return (np.datetime64(start, "s") + secs.astype("timedelta64[s]")).astype("datetime64[ns]")

