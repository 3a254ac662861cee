"""Saving and loading shops: Parquet tables plus the planted truth.

Layout of a saved shop directory::

    config.json          simulate() settings
    <table>.parquet      one file per table (types kept: categoricals, nullable ints, str)
    truth.json           scalar and dict truth
    truth/<key>.parquet  tabular truth (per-customer values, calendars, ...)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .schema import TABLE_NAMES
from .simulate import SIZES, Shop, simulate
from .validate import missing_references
from .world import read_world_info

DEFAULT_SEED = 42
SHIPPED_SIZES = ("small",)


def datasets_dir() -> Path:
    """The repository's datasets/shop folder (override with the CRMLAB_DATASETS variable)."""
    env = os.environ.get("CRMLAB_DATASETS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "datasets" / "shop"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return str(value)
    return value


def save_shop(shop: Shop, path: str | Path) -> Path:
    """Write every table and the truth under ``path``; returns the directory.

    Parameters
    ----------
    shop : Shop
        The shop to save (tables as Parquet, truth and config alongside).
    path : str or Path
        The folder to write (created when missing).

    Returns
    -------
    Path
        The folder written.
    """
    out = Path(path)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(_jsonable(shop.config), indent=2, sort_keys=True) + "\n")
    for name, df in shop.tables.items():
        df.to_parquet(out / f"{name}.parquet", index=False)
    plain: dict[str, Any] = {}
    for key, value in shop.truth.items():
        if isinstance(value, pd.DataFrame):
            value.to_parquet(out / "truth" / f"{key}.parquet", index=True)
        elif isinstance(value, pd.Series):
            value.to_frame().to_parquet(out / "truth" / f"{key}.series.parquet", index=True)
        else:
            plain[key] = _jsonable(value)
    (out / "truth.json").write_text(json.dumps(plain, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return out


def read_shop_dir(path: str | Path) -> Shop:
    """Load a shop saved by :func:`save_shop` (or any folder of <table>.parquet files)."""
    src = Path(path)
    if not src.is_dir():
        raise ValueError(f"load_shop(): {src} is not a directory of <table>.parquet files.")
    _refuse_world(src)
    tables = {}
    for name in TABLE_NAMES:
        file = src / f"{name}.parquet"
        if file.exists():
            tables[name] = pd.read_parquet(file)
    if not tables:
        raise ValueError(f"load_shop(): no <table>.parquet files in {src}; write one with save_shop(shop, path).")
    broken = missing_references(tables)
    if broken:
        raise ValueError(f"get_shop(): {src} is incomplete:\n- " + "\n- ".join(broken))
    truth: dict[str, Any] = {}
    if (src / "truth.json").exists():
        truth.update(json.loads((src / "truth.json").read_text()))
    for file in sorted((src / "truth").glob("*.parquet")) if (src / "truth").exists() else []:
        if file.name.endswith(".series.parquet"):
            frame = pd.read_parquet(file)
            truth[file.name[: -len(".series.parquet")]] = frame.iloc[:, 0]
        else:
            truth[file.stem] = pd.read_parquet(file)
    config = json.loads((src / "config.json").read_text()) if (src / "config.json").exists() else {}
    if "start" not in config and "orders" in tables:
        config["start"] = str(tables["orders"]["order_ts"].min().date())
        config["end"] = str(tables["orders"]["order_ts"].max().date())
    return Shop(tables=tables, truth=truth, config=config)


def _refuse_world(src: Path) -> None:
    """A world written in blocks (``crmlab data generate --format parquet``) is not loaded:
    it may hold a hundred million orders. Say how to analyse it instead."""
    info = read_world_info(src)
    if info is None:
        return
    rows = info.get("rows", {})
    raise ValueError(
        f"get_shop(): {src} holds a world written in blocks ({info.get('n_customers', 0):,} "
        f"customers, {rows.get('orders', 0):,} orders in {info.get('blocks', '?')} files per "
        "table); it is not loaded into memory. Aggregate it where it lies with crmlab.scale, "
        "e.g. crmlab.scale.rfm_table(crmlab.scale.world_tables(DIR)['orders']), or read one "
        "block with pandas.read_parquet(DIR + '/orders/part-00000.parquet').")


def load_shop(size: str = "small") -> Shop:
    """Read a committed shop from ``datasets/shop/<size>/`` without regenerating it.

    Parameters
    ----------
    size : str, default "small"
        The committed size to read.

    Returns
    -------
    Shop
        The shop with its tables, truth and config as saved.
    """
    if size not in SHIPPED_SIZES:
        raise ValueError(
            f"load_shop(): only {list(SHIPPED_SIZES)} is shipped; simulate other sizes with "
            f"crmlab.data.simulate({size!r}) or crmlab.data.get_shop({size!r})."
        )
    folder = datasets_dir() / size
    if not folder.exists():
        raise ValueError(f"load_shop(): {folder} is missing; regenerate it with `crmlab data generate --size {size}`.")
    return read_shop_dir(folder)


def _find_folder(path: Path) -> Path | None:
    """``path`` if it is a folder; else, for a relative path, the same path under the
    repository root (the parent of the ``crmlab`` package when it holds ``notebooks/``)."""
    if path.is_dir():
        return path
    root = Path(__file__).resolve().parents[2]
    if not path.is_absolute() and (root / "notebooks").is_dir() and (root / path).is_dir():
        return root / path
    return None


def get_shop(data: str | int | os.PathLike = "small", seed: int = DEFAULT_SEED, **knobs: Any) -> Shop:
    """What notebooks call: the shipped shop, a simulated size, or a saved folder.

    * ``"small"`` with the default seed and no knobs reads the committed files (fast);
    * a size name ("tiny", "small", "medium") or an integer simulates with ``seed``;
    * a path to a folder loads a saved shop (e.g. a per-student variant or real data). A
      relative path is tried from the working directory first, then from the repository root
      (the folder holding ``notebooks/``), so ``DATA = "my_data"`` works in a notebook (which
      runs in ``notebooks/``) as well as in a script at the root;
      a world written in blocks (``crmlab data generate --format parquet``) is refused with
      a ``ValueError`` pointing to :mod:`crmlab.scale` (it is never loaded by accident).

    Parameters
    ----------
    data : str, int or os.PathLike, default "small"
        A size name, a number of customers, or a folder of a saved shop.
    seed : int, default DEFAULT_SEED
        The seed when the shop is simulated.
    **knobs
        Simulator knobs (``crmlab.data.simulate.DEFAULT_KNOBS``) when simulating.

    Returns
    -------
    Shop
        The shop's tables, ``truth`` (empty for real data) and ``config``.
    """
    if isinstance(data, (str, os.PathLike)) and not (isinstance(data, str) and data in SIZES):
        path = _find_folder(Path(data))
        if path is not None:
            return read_shop_dir(path)
        if isinstance(data, str) and data.isdigit():
            return simulate(int(data), seed=seed, **knobs)
        raise ValueError(f"get_shop(): {data!r} is neither a size {sorted(SIZES)}, an integer, nor a folder "
                         f"(looked in {Path.cwd()} and in the repository root).")
    if isinstance(data, bool) or not isinstance(data, (str, int, np.integer)):
        raise ValueError(f"get_shop(): data={data!r} must be a size name, an integer or a folder path.")
    if data in SHIPPED_SIZES and seed == DEFAULT_SEED and not knobs and (datasets_dir() / str(data)).exists():
        return load_shop(str(data))
    return simulate(data if isinstance(data, str) else int(data), seed=seed, **knobs)
