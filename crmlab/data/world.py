"""Big worlds on disk: a shop's order tables written in customer blocks as Parquet datasets.

``simulate()`` holds a whole world in memory (about 3.8 GiB at a million customers), so a
research-size world of tens of millions of customers is written **block by block**: each
block of ``block_size`` customers is simulated (``detail="orders"``), its ids are shifted
into the world's id ranges, its tables are appended as one Parquet file per table, and it
is freed before the next block. Peak memory is that of one block (times ``jobs`` when
blocks are simulated in parallel processes), whatever the size of the world.

Layout of ``DIR``::

    world.json                         size, seed, blocks, knobs, rows per table, planted truth
    customers/part-00000.parquet ...   one file per block and table
    orders/part-00000.parquet ...
    order_items/part-00000.parquet ...
    campaigns/part-00000.parquet ...
    products/part-00000.parquet        the catalogue (block 0's, see below)

Reproducible from the seed: block ``b`` is ``simulate(size_b, seed=block_seed(seed, b),
detail="orders")`` with ``block_seed(seed, 0) == seed`` (so a world of one block holds
exactly the orders of ``simulate(n, seed=seed, detail="orders")``); ids are shifted by the
block: customers by ``b * block_size``, orders by ``b * ORDER_ID_STRIDE``, campaigns by
``b * CAMPAIGN_ID_STRIDE``, whatever ``jobs`` is. Each block is a sub-shop of the same
world: the same knobs (purchase process, spend, channels), its own customers, campaigns
and price draws. Product ids are shared: the simulator ranks popularity by the id within
its category, so product ``k`` is equally popular in every block, while its price is drawn
per block; ``products/`` holds block 0's catalogue. Price history and the per-customer
truth are not written (they would be as large as the orders); ``world.json`` keeps the
planted BG/NBD and Gamma-Gamma parameters.

Timestamps are written in microseconds (Spark reads them; nanosecond Parquet timestamps it
does not). ``crmlab.data.get_shop(DIR)`` refuses such a folder, pointing to
:mod:`crmlab.scale`, which reads the Parquet files where they are.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .simulate import SIZES, simulate

__all__ = ["CAMPAIGN_ID_STRIDE", "ORDER_ID_STRIDE", "WORLD_TABLES", "block_seed", "read_world_info",
           "write_world"]

#: tables written per block (``products`` only from block 0)
WORLD_TABLES: tuple[str, ...] = ("customers", "orders", "order_items", "campaigns", "products")
#: block ``b``'s order ids are ``b * ORDER_ID_STRIDE + `` its own order number
ORDER_ID_STRIDE = 1_000_000_000
#: block ``b``'s campaign ids are ``b * CAMPAIGN_ID_STRIDE +`` its own campaign number
CAMPAIGN_ID_STRIDE = 10_000
WORLD_FILE = "world.json"


def block_seed(seed: int, block: int) -> int:
    """The simulator seed of block ``block`` (block 0 uses ``seed`` itself).

    Parameters
    ----------
    seed : int
        The world's seed.
    block : int
        The block number (0, 1, ...).

    Returns
    -------
    int
        A seed for ``simulate`` derived from both (``SeedSequence``), ``seed`` for block 0.
    """
    if block == 0:
        return int(seed)
    state = np.random.SeedSequence([int(seed), int(block)]).generate_state(2, dtype=np.uint32)
    return int(state[0]) << 31 | int(state[1]) >> 1


def _resolve_size(size: str | int, start: str | None, end: str | None,
                  knobs: dict[str, Any]) -> tuple[int, str, str, dict[str, Any]]:
    """Customers, dates and knobs of a size name or a number (as ``simulate`` reads them)."""
    if isinstance(size, str) and not size.isdigit():
        if size not in SIZES:
            raise ValueError(f"write_world: unknown size {size!r}; use one of {sorted(SIZES)} or a "
                             "number of customers.")
        preset = dict(SIZES[size])
        n = int(preset.pop("n_customers"))
        s, e = preset.pop("start"), preset.pop("end")
        return n, start or s, end or e, {**preset, **knobs}
    n = int(size)
    return n, start or "2024-01-01", end or "2025-12-31", dict(knobs)


def _shift(tables: dict[str, pd.DataFrame], block: int, first_customer: int) -> dict[str, pd.DataFrame]:
    """Move a block's ids into the world's ranges (customers, orders, campaigns)."""
    c_off, o_off, k_off = first_customer, block * ORDER_ID_STRIDE, block * CAMPAIGN_ID_STRIDE
    out = {}
    cust = tables["customers"].copy()
    cust["customer_id"] = cust["customer_id"] + c_off
    if "referred_by" in cust.columns:
        cust["referred_by"] = cust["referred_by"] + c_off
    out["customers"] = cust
    orders = tables["orders"].copy()
    orders["order_id"] = orders["order_id"] + o_off
    orders["customer_id"] = orders["customer_id"] + c_off
    if "campaign_id" in orders.columns:
        orders["campaign_id"] = orders["campaign_id"] + k_off
    out["orders"] = orders
    items = tables["order_items"].copy()
    items["order_id"] = items["order_id"] + o_off
    out["order_items"] = items
    camps = tables["campaigns"].copy()
    camps["campaign_id"] = camps["campaign_id"] + k_off
    out["campaigns"] = camps
    if block == 0:
        out["products"] = tables["products"]
    return out


def _write_block(args: tuple[str, int, int, int, int, str, str, dict[str, Any]]) -> dict[str, Any]:
    """Simulate block ``b`` and write its tables; return its row counts and truth (a worker)."""
    out, block, first_customer, n, seed, start, end, knobs = args
    shop = simulate(n, start=start, end=end, seed=block_seed(seed, block), detail="orders",
                    **knobs)
    tables = _shift(shop.tables, block, first_customer)
    rows = {}
    for name, frame in tables.items():
        folder = Path(out) / name
        folder.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(folder / f"part-{block:05d}.parquet", index=False,
                         coerce_timestamps="us", allow_truncated_timestamps=False)
        rows[name] = len(frame)
    truth = {k: shop.truth[k] for k in ("bgnbd", "gamma_gamma") if k in shop.truth}
    del shop, tables
    return {"block": block, "rows": rows, "truth": truth}


def _check_blocks(block_size: Any, jobs: Any, knobs: dict[str, Any]) -> None:
    """ValueError for a bad ``block_size`` or ``jobs``, or a ``detail`` other than "orders"."""
    if isinstance(block_size, bool) or not isinstance(block_size, int | np.integer) \
            or block_size < 1:
        raise ValueError(f"write_world: block_size={block_size!r} must be a positive number of "
                         "customers, e.g. 200000.")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"write_world: jobs={jobs!r} must be a positive integer.")
    if knobs.get("detail", "orders") != "orders":
        raise ValueError("write_world: only detail='orders' worlds are written in blocks; pass "
                         "--detail orders (or simulate a full shop with --format shop).")


def _run_blocks(tasks: list[tuple], jobs: int, progress: bool | Callable[[str], None]) -> list[dict[str, Any]]:
    """Write every block, in this process or in ``jobs`` workers, reporting each as it ends."""
    report = progress if callable(progress) else (print if progress else None)
    n_blocks = len(tasks)
    t0 = time.perf_counter()
    results = []
    if jobs == 1 or n_blocks == 1:
        for task in tasks:
            results.append(_write_block(task))
            _report(report, results[-1], n_blocks, t0)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for result in pool.map(_write_block, tasks):
                results.append(result)
                _report(report, result, n_blocks, t0)
    return results


def write_world(size: str | int, out: str | os.PathLike, *, seed: int = 42,
                block_size: int = 200_000, jobs: int = 1, start: str | None = None,
                end: str | None = None, progress: bool | Callable[[str], None] = False,
                **knobs: Any) -> Path:
    """Write the order tables of a world of ``size`` customers under ``out``, block by block.

    ``size``: a number of customers or a size name ("tiny", "small", "medium": their dates
    and knobs). ``block_size`` customers are simulated at a time (about 0.5 GiB of memory
    per 100,000 customers); ``jobs`` blocks run side by side in worker processes (peak
    memory ``jobs`` times one block); the files do not depend on ``jobs``. Knobs are those
    of :func:`crmlab.data.simulate`. ``out`` must be empty or missing. Returns ``out``.

    Parameters
    ----------
    size : str or int
        Number of customers or a size name.
    out : str or os.PathLike
        The world folder (empty or missing).
    seed : int, default 42
        The world's seed (block ``b`` uses :func:`block_seed`).
    block_size : int, default 200_000
        Customers simulated per block.
    jobs : int, default 1
        Blocks simulated side by side in worker processes.
    start, end : str, optional
        The window (default: the size's, else 2024-01-01..2025-12-31).
    progress : bool or callable, default False
        True prints progress; a callable receives each message.
    **knobs
        Simulator knobs (``detail`` must be "orders" if given).

    Returns
    -------
    Path
        ``out``.
    """
    n, start, end, knobs = _resolve_size(size, start, end, knobs)
    _check_blocks(block_size, jobs, knobs)
    knobs.pop("detail", None)
    root = Path(out)
    if root.exists() and any(root.iterdir()):
        raise ValueError(f"write_world: {root} is not empty; pass a new folder (or delete this one "
                         "first) so that no block of an older world stays behind.")
    root.mkdir(parents=True, exist_ok=True)
    n_blocks = math.ceil(n / block_size)
    tasks = [(str(root), b, b * block_size, min(block_size, n - b * block_size), int(seed),
              start, end, knobs) for b in range(n_blocks)]
    results = _run_blocks(tasks, jobs, progress)
    rows = {name: int(sum(r["rows"].get(name, 0) for r in results)) for name in WORLD_TABLES}
    info = {"format": "crmlab-world", "version": 1, "n_customers": n, "seed": int(seed),
            "start": start, "end": end, "block_size": int(block_size), "blocks": n_blocks,
            "knobs": knobs, "rows": rows, "truth": _jsonable(results[0]["truth"]),
            "order_id_stride": ORDER_ID_STRIDE, "campaign_id_stride": CAMPAIGN_ID_STRIDE}
    (root / WORLD_FILE).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return root


def _report(report: Callable[[str], None] | None, result: dict[str, Any], n_blocks: int,
            t0: float) -> None:
    if report is not None:
        report(f"block {result['block'] + 1}/{n_blocks}: {result['rows']['orders']:,} orders "
               f"({time.perf_counter() - t0:.0f} s)")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def read_world_info(folder: str | os.PathLike) -> dict[str, Any] | None:
    """``world.json`` of a world folder, or ``None`` when ``folder`` is not one.

    Parameters
    ----------
    folder : str or os.PathLike
        A folder that may hold a world written by :func:`write_world`.

    Returns
    -------
    dict or None
        Size, seed, blocks, knobs, rows per table and planted truth; None for other folders.
    """
    file = Path(folder) / WORLD_FILE
    if not file.exists():
        return None
    return json.loads(file.read_text())
