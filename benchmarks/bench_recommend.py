"""Benchmark: item-kNN (and ALS, PureSVD, popularity) fit + top-10 for every user.

Target (issue 16): ``crmlab.recommend.ItemKNN`` fit + ``recommend(k=10)`` for every user on
1,000,000 interactions in at most 10 s on this 2-core machine, with the peak memory reported.
There is no peer in the issue; instead the output is checked against a brute-force dense
computation (cosine similarities from scikit-learn, scores and top-10 by ``numpy.argsort``)
for a sample of items and users, so a fast wrong answer cannot pass.

Input: the first 1,000,000 purchase lines (by time) of a simulated shop
(``crmlab.data.simulate(120_000, detail="orders", n_products=2000, seed=1)``;
``crmlab.recommend.interaction_log`` of orders + order_items), cached under
``benchmarks/.cache/``. Timed: ``fit(log)`` (aggregating duplicate pairs included) plus
``recommend(k=10)`` for every user, excluding what they bought.

Memory: max resident set size of a fresh Python process that reads the cached log and
runs fit + recommend once (``harness.peak_rss``; the baseline is after imports, before
reading the file), and ``tracemalloc``'s peak of the fit + recommend alone (NumPy buffers
included).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

from crmlab import recommend  # noqa: E402

SIZES = {"full": 120_000, "quick": 24_000, "smoke": 2_000}
N_PRODUCTS = {"full": 2000, "quick": 2000, "smoke": 200}
#: The first N signals (by time) are used, so the workload has exactly this many rows.
N_ROWS = {"full": 1_000_000, "quick": 200_000, "smoke": None}


def _cache_path(mode: str) -> Path:
    return harness.CACHE_DIR / f"recommend_{mode}_{SIZES[mode]}_{N_PRODUCTS[mode]}_{N_ROWS[mode]}.parquet"


def interactions(mode: str) -> pd.DataFrame:
    """The purchase log of the simulated shop for ``mode`` (cached as Parquet)."""
    path = _cache_path(mode)
    if path.is_file():
        return pd.read_parquet(path)
    from crmlab.data import simulate

    shop = simulate(SIZES[mode], detail="orders", n_products=N_PRODUCTS[mode], seed=1)
    log = recommend.interaction_log(orders=shop.orders, order_items=shop.order_items)
    log = log[["customer_id", "product_id", "ts", "weight"]]
    if N_ROWS[mode] is not None:
        if len(log) < N_ROWS[mode]:
            raise RuntimeError(f"the simulated log has {len(log):,} rows < {N_ROWS[mode]:,}; "
                               "raise SIZES[mode]")
        log = log.iloc[:N_ROWS[mode]].reset_index(drop=True)
    if mode != "smoke":
        path.parent.mkdir(parents=True, exist_ok=True)
        log.to_parquet(path)
    return log


def make_model(name: str) -> recommend.Recommender:
    return {"item_knn": lambda: recommend.ItemKNN(n_neighbors=50),
            "als": lambda: recommend.ImplicitALS(factors=32, iterations=10, cg_steps=3),
            "pure_svd": lambda: recommend.PureSVD(factors=32),
            "popularity": lambda: recommend.Popularity()}[name]()


def fit_recommend(name: str, log: pd.DataFrame, k: int = 10) -> tuple[recommend.Recommender, pd.DataFrame]:
    model = make_model(name).fit(log)
    return model, model.recommend(k=k)


def peak_once(name: str, mode: str) -> int:
    """For ``harness.peak_rss``: read the cached log and fit + recommend once."""
    log = pd.read_parquet(_cache_path(mode))
    return len(fit_recommend(name, log)[1])


def check_knn(model: recommend.ItemKNN, recs: pd.DataFrame, n_items: int = 40,
              n_users: int = 300, seed: int = 0) -> str:
    """Compare with a brute-force dense computation on sampled items and users."""
    from sklearn.metrics.pairwise import cosine_similarity

    rng = np.random.default_rng(seed)
    X = model._X_fit
    im = model.matrix_
    items = rng.choice(X.shape[1], size=min(n_items, X.shape[1]), replace=False)
    full = cosine_similarity(X.T[items], X.T)  # sampled items × all items
    full[np.arange(len(items)), items] = 0.0
    S = model.similarity_.toarray()
    for row, item in enumerate(items):
        ref = np.sort(full[row])[::-1][:model.n_neighbors]
        ref = ref[ref > 0]
        kept = np.sort(S[:, item][S[:, item] > 0])[::-1]
        # the kept neighbours' similarities are the true top-n values (ties at the cut agree)
        np.testing.assert_allclose(kept, ref, rtol=1e-4, atol=1e-6)
    users = rng.choice(X.shape[0], size=min(n_users, X.shape[0]), replace=False)
    scores = np.asarray(X[users] @ S, dtype=np.float64)
    sub = X[users]
    scores[np.repeat(np.arange(len(users)), np.diff(sub.indptr)), sub.indices] = -np.inf
    got = recs.set_index(im.user_col)
    mismatched = 0
    for row, u in enumerate(users):
        uid = im.user_ids[u]
        ours = got.loc[[uid]].sort_values("rank")
        ref_scores = np.sort(scores[row])[::-1][:len(ours)]
        if not np.allclose(ours["score"].to_numpy(), ref_scores, rtol=1e-4, atol=1e-6):
            mismatched += 1
    if mismatched:
        raise AssertionError(f"item-kNN: {mismatched} of {len(users)} sampled users' top-10 "
                             "scores differ from the brute-force computation")
    return (f"item-kNN checked against brute force: neighbour similarities of {len(items)} "
            f"sampled items equal scikit-learn's cosine_similarity top-{model.n_neighbors} "
            f"(rtol 1e-4), and the top-10 scores of {len(users)} sampled users equal a dense "
            "X·S with seen items excluded.")


def _run(mode: str, repeat: int, memory: bool = True,
         models: tuple[str, ...] = ("item_knn", "popularity", "pure_svd", "als")) -> str:
    log = interactions(mode)
    n_pairs = len(log[["customer_id", "product_id"]].drop_duplicates())
    rows, check = [], ""
    for name in models:
        cpu: list[float] = []

        def once(name: str = name, cpu: list[float] = cpu):
            start = time.process_time()
            out = fit_recommend(name, log)
            cpu.append(time.process_time() - start)
            return out

        reps = repeat if name in ("item_knn", "popularity") else max(1, repeat // 2)
        times, (model, recs) = harness.timeit_result(once, repeat=reps, warmup=0 if mode == "smoke" else 1)
        med = harness.median(times)
        if name == "item_knn":
            check = check_knn(model, recs)
            traced, _ = harness.traced_peak(lambda name=name: fit_recommend(name, log))
        else:
            traced = None
        peak = harness.peak_rss("bench_recommend:peak_once", name, mode) \
            if memory and mode != "smoke" and name in ("item_knn", "als") else None
        cpu_med = harness.median(cpu)
        target = (f"≤ 10 s: wall {harness.verdict(med, 10.0)}, CPU {harness.verdict(cpu_med, 10.0)}"
                  if name == "item_knn" else "—")
        rows.append({
            "model": {"item_knn": "ItemKNN(n_neighbors=50)", "popularity": "Popularity()",
                      "pure_svd": "PureSVD(factors=32)",
                      "als": "ImplicitALS(factors=32, iterations=10, cg_steps=3)"}[name],
            "users × items": f"{model.matrix_.shape[0]:,} × {model.matrix_.shape[1]:,}",
            "fit + top-10 for all (median)": harness.fmt_seconds(med),
            "CPU time": harness.fmt_seconds(cpu_med),
            "runs": f"{len(times)}",
            "target": target,
            "peak memory": (peak.describe() if peak else "—")
            + (f"; tracemalloc peak {traced:,.0f} MiB" if traced is not None else ""),
        })
    return "\n".join([
        f"## Recommenders: fit + top-10 for every user on {len(log):,} interactions",
        "",
        f"Input: {len(log):,} purchase lines ({n_pairs:,} distinct customer-product pairs), the "
        f"first by time of the simulated shop (`simulate({SIZES[mode]:,}, detail=\"orders\", "
        f"n_products={N_PRODUCTS[mode]:,}, seed=1)`). Timed: `fit(log)` + `recommend(k=10)` "
        "for every customer, excluding items they bought; median wall time, and the CPU time "
        "of this process (single-threaded code: on an idle machine wall ≈ CPU; wall time is "
        "inflated when other jobs share the 2 cores, see the load average above). No peer in "
        "the issue; correctness is checked against brute force instead.",
        "",
        check,
        "",
        harness.markdown_table(rows),
        "",
        "Peak memory: max RSS of a fresh process reading the log and running fit + recommend "
        "once (baseline after imports, before reading the file); tracemalloc: NumPy/Python "
        "allocations of fit + recommend alone.",
    ])


def main(quick: bool = False) -> str:
    """Full: ~1.0 M interactions, 3 repeats (ALS/SVD 1). Quick: ~200 k, 2 repeats."""
    return _run("quick" if quick else "full", repeat=2 if quick else 3)


def smoke() -> str:
    """A 2,000-customer shop's purchases, one run, no subprocess memory probe."""
    return _run("smoke", repeat=1, memory=False)


if __name__ == "__main__":
    print(main(quick="--quick" in sys.argv))
