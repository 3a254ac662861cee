"""Distinct (x, t_x, T) rows and their weights: the step that makes a 30-million-customer
BTYD fit take seconds (``crmlab.clv.compress``, issue 28).

The known answer is pandas' own ``groupby(..., sort=False).sum()``, which lists groups in
order of first appearance, exactly what ``_compress`` promises on each of its three paths
(direct counting on a whole-number grid, hashing a grid key, hashing column by column).
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlab import clv
from crmlab.clv import compress


def _groupby_answer(columns, weights):
    frame = pd.DataFrame({f"c{i}": c for i, c in enumerate(columns)})
    frame["w"] = 1.0 if weights is None else weights
    names = [f"c{i}" for i in range(len(columns))]
    total = frame.groupby(names, sort=False)["w"].sum()
    return [total.index.get_level_values(n).to_numpy() for n in names], total.to_numpy()


def _assert_same(got, expected):
    (got_cols, got_w), (exp_cols, exp_w) = got, expected
    for g, e in zip(got_cols, exp_cols, strict=True):
        np.testing.assert_array_equal(g, e)
    np.testing.assert_array_equal(got_w, exp_w)


columns_strategy = st.integers(1, 400).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 12), min_size=n, max_size=n),
    st.lists(st.integers(-3, 40), min_size=n, max_size=n),
    st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 7.0, 52.0]), min_size=n, max_size=n),
    st.lists(st.integers(0, 3), min_size=n, max_size=n),
    st.booleans(),
))


@settings(max_examples=150, deadline=None)
@given(data=columns_strategy, block_rows=st.sampled_from([1, 7, 64, 1 << 20]),
       table=st.sampled_from([1, 1 << 22]), weighted=st.booleans())
def test_compress_matches_groupby_in_first_appearance_order(data, block_rows, table,
                                                             weighted):
    """Every path and block size gives pandas' groups, in the same order, same totals."""
    x, tx, third, w, fractional = data
    x = np.asarray(x, dtype=float)
    tx = np.asarray(tx, dtype=np.int64)
    third = np.asarray(third, dtype=float) + (0.25 if fractional else 0.0)
    weights = np.asarray(w, dtype=float) if weighted else None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compress, "BLOCK_ROWS", block_rows)
        patch.setattr(compress, "_MAX_TABLE", table)
        got = compress._compress([x, tx, third], weights)
    _assert_same(got, _groupby_answer([x, tx, third], weights))
    assert [c.dtype for c in got[0]] == [x.dtype, tx.dtype, third.dtype]


def test_drop_zero_leaves_out_rows_without_weight():
    """A row of weight 0 adds nothing: it neither forms a group nor fixes a group's order."""
    x = np.array([5.0, 1.0, 5.0, 2.0])
    w = np.array([0.0, 1.0, 2.0, 0.0])
    (cols, totals) = compress._compress([x], w, drop_zero=True)
    np.testing.assert_array_equal(cols[0], [1.0, 5.0])
    np.testing.assert_array_equal(totals, [1.0, 2.0])
    (cols, totals) = compress._compress([x], w)  # kept: group order by first row
    np.testing.assert_array_equal(cols[0], [5.0, 1.0, 2.0])
    np.testing.assert_array_equal(totals, [2.0, 1.0, 0.0])


def _integer_summary(n: int, seed: int = 3) -> pd.DataFrame:
    """A weekly-style summary: whole-number (x, t_x, T), t_x <= T, t_x > 0 iff x > 0."""
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 53, n)
    x = rng.poisson(1.5, n)
    tx = np.where(x > 0, rng.integers(0, 1 << 30, n) % T + 1, 0)
    return pd.DataFrame({"frequency": x, "recency": tx.astype(float), "T": T.astype(float)})


def test_fit_on_integer_and_float_frequency_is_the_same():
    """Keeping an integer frequency column native (no float copy) changes nothing."""
    summary = _integer_summary(20_000)
    as_float = summary.assign(frequency=summary["frequency"].astype(float))
    a, b = clv.BetaGeoModel().fit(summary), clv.BetaGeoModel().fit(as_float)
    pd.testing.assert_series_equal(a.params_, b.params_, check_exact=True)
    assert a.n_distinct_ == b.n_distinct_ < len(summary) / 2


def test_fit_makes_no_copy_the_size_of_the_summary(monkeypatch):
    """The fit's peak of new memory stays below one column of the summary.

    Before blockwise checking and counting, a fit allocated several full-size arrays (a
    float copy of frequency, the clipped recency, boolean selections, the keys of five
    hashing passes): on 25 million customers, each a few hundred MB of fresh pages.
    """
    summary = _integer_summary(1_000_000)
    monkeypatch.setattr(compress, "BLOCK_ROWS", 1 << 16)
    one_column = summary["recency"].to_numpy().nbytes  # 8 MB
    tracemalloc.start()
    try:
        clv.BetaGeoModel().fit(summary)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < one_column / 2, f"peak {peak / 2**20:.1f} MiB"


def test_summary_arrays_do_not_write_into_the_table():
    """Float columns come back as read-only views: a model cannot change the user's table."""
    summary = _integer_summary(1_000)
    before = summary.copy()
    model = clv.BetaGeoModel().fit(summary)
    model.predict_purchases(4.0, summary)
    model.p_alive(summary)
    model.prob_no_purchase(4.0, summary)
    pd.testing.assert_frame_equal(summary, before)


@pytest.mark.parametrize("bad, message", [
    ({"frequency": [1.5]}, "non-integer"),
    ({"recency": [np.nan]}, "1 missing or infinite"),
    ({"recency": [9.0]}, "1 customers have 'recency' > 'T'"),
])
def test_blockwise_checks_keep_their_messages(bad, message, monkeypatch):
    """The checks count across blocks and say what they said before."""
    monkeypatch.setattr(compress, "BLOCK_ROWS", 2)
    summary = pd.DataFrame({"frequency": [2.0, 0.0, 1.0], "recency": [3.0, 0.0, 2.0],
                            "T": [5.0, 4.0, 6.0]})
    for col, values in bad.items():
        summary.loc[summary.index[-1:], col] = values
    with pytest.raises(ValueError, match=message):
        clv.BetaGeoModel().fit(summary)
