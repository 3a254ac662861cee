"""Distinct rows and their weights: how a 30-million-customer summary becomes a small fit.

A BTYD model's likelihood depends on a customer only through (x, t_x, T), so customers with
the same triple share one term, weighted by how many they are. On a weekly summary of a
two-year shop there are about a hundred thousand distinct triples whatever the number of
customers, and the fit's cost follows the triples, not the customers.

``_compress`` finds the distinct rows. The usual case, whole-number columns (repeat counts
and ages in whole periods), is counted straight into a table indexed by the row's
mixed-radix number, block by block, so no temporary the size of the input is made (on a
25-million-row summary each full-size copy costs a few hundred MB and, on a busy machine,
seconds of page faults). Other columns (spend, fractional ages) go through hashing
(``pd.factorize``). Either way the distinct rows come out in the order of their first
appearance, so a fit sees the same rows in the same order whichever path ran.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd

BLOCK_ROWS = 1 << 20
"""Rows per block in the blockwise passes: their temporaries stay near 8 MB per column."""

_MAX_TABLE = 1 << 22
"""Largest mixed-radix table counted directly (4M cells, 32 MB per array)."""


def blocks(n: int) -> Iterator[slice]:
    """Slices covering ``range(n)`` in blocks of :data:`BLOCK_ROWS` (one slice when small)."""
    return (slice(start, min(start + BLOCK_ROWS, n)) for start in range(0, n, BLOCK_ROWS))


def _compress(columns: list[np.ndarray], weights: np.ndarray | None, *,
              drop_zero: bool = False) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the given columns and the summed weight of each.

    ``weights`` None counts each row once. With ``drop_zero`` rows of weight 0 are left
    out (they add nothing to a likelihood). Rows come out in order of first appearance.
    Linear in the number of rows on every path.
    """
    if weights is not None and drop_zero:
        keep = weights > 0
        if not keep.all():
            columns, weights = [c[keep] for c in columns], weights[keep]
    grid = _whole_number_grid(columns)
    cells = None if grid is None else math.prod(grid[1])
    if cells is not None and cells <= _MAX_TABLE:
        return _count_on_grid(columns, weights, *grid)
    if cells is not None and cells < 2**62:
        key = _grid_keys(columns, *grid, n=len(columns[0]))
    else:
        key = _hashed_keys(columns)
    return _count_keys(columns, weights, key)


def _whole_number_grid(columns: list[np.ndarray]) -> tuple[list[float], list[int]] | None:
    """Each column's lowest value and span when all hold whole numbers, else None."""
    lows, spans = [], []
    for col in columns:
        if col.size == 0 or col.dtype.kind not in "iuf":
            return None
        if col.dtype.kind == "f":
            low, high = float(col.min()), float(col.max())
            if not (np.isfinite(low) and np.isfinite(high)) or high - low >= 2**53:
                return None
            if any((col[s] != np.floor(col[s])).any() for s in blocks(col.size)):
                return None
        else:
            low, high = int(col.min()), int(col.max())
        lows.append(low)
        spans.append(int(high - low) + 1)
    return lows, spans


def _block_keys(columns: list[np.ndarray], rows: slice, lows: list[float],
                spans: list[int]) -> np.ndarray:
    """Mixed-radix number of each row of one block (column 0 most significant)."""
    key = np.zeros(rows.stop - rows.start, dtype=np.int64)
    for col, low, span in zip(columns, lows, spans, strict=True):
        key *= span
        key += (col[rows] - low).astype(np.int64)
    return key


def _count_on_grid(columns: list[np.ndarray], weights: np.ndarray | None, lows: list[float],
                   spans: list[int]) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows by counting into the mixed-radix table, one block at a time."""
    cells = math.prod(spans)  # Python integers: exact, no overflow
    totals = np.zeros(cells)
    first = np.full(cells, -1, dtype=np.int64)
    scratch = np.full(cells, -1, dtype=np.int64)
    for rows in blocks(len(columns[0])):
        key = _block_keys(columns, rows, lows, spans)
        w = None if weights is None else weights[rows]
        totals += np.bincount(key, weights=w, minlength=cells)
        # first appearance: the earliest row of the block per cell, kept if the cell is new
        scratch[key[::-1]] = np.arange(rows.stop - 1, rows.start - 1, -1)
        new = key[first[key] < 0]
        first[new] = scratch[new]
        scratch[key] = -1
    seen = np.flatnonzero(first >= 0)
    cell = seen[np.argsort(first[seen], kind="stable")]
    out = []
    for col, low, span, stride in zip(columns, lows, spans, _strides(spans), strict=True):
        out.append(((cell // stride) % span + low).astype(col.dtype))
    return out, totals[cell]


def _strides(spans: list[int]) -> list[int]:
    """Place values of the mixed-radix number (the last column varies fastest)."""
    strides, step = [], 1
    for span in reversed(spans):
        strides.append(step)
        step *= span
    return strides[::-1]


def _grid_keys(columns: list[np.ndarray], lows: list[float], spans: list[int],
               n: int) -> np.ndarray:
    """Mixed-radix numbers of all rows (the table would be too large to count directly)."""
    key = np.empty(n, dtype=np.int64)
    for rows in blocks(n):
        key[rows] = _block_keys(columns, rows, lows, spans)
    return pd.factorize(key)[0].astype(np.int64, copy=False)


def _hashed_keys(columns: list[np.ndarray]) -> np.ndarray:
    """Group numbers 0, 1, ... in order of first appearance, by hashing column by column."""
    key = None
    for col in columns:
        codes, uniq = pd.factorize(col)
        if key is None:
            key = codes.astype(np.int64)
        else:
            key, _ = pd.factorize(key * len(uniq) + codes)
            key = key.astype(np.int64)
    return key


def _count_keys(columns: list[np.ndarray], weights: np.ndarray | None,
                key: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Summed weight and first row of each group of ``key`` (numbered by first appearance)."""
    n_groups = int(key.max()) + 1
    counts = np.bincount(key, weights=weights, minlength=n_groups).astype(float, copy=False)
    first = np.full(n_groups, -1, dtype=np.int64)
    first[key[::-1]] = np.arange(key.size - 1, -1, -1)
    return [c[first] for c in columns], counts
