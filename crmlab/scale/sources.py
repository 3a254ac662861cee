"""Where the data live: Parquet paths and globs, DuckDB relations, Spark or pandas frames,
and the engine a call runs on."""

from __future__ import annotations

import glob as _glob
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

ENGINES: tuple[str, ...] = ("duckdb", "spark", "pandas")


_INT64_MIN = np.iinfo(np.int64).min


def _is_spark_frame(obj: object) -> bool:
    """A pyspark DataFrame (classic or Spark Connect), recognised without importing pyspark."""
    return any(c.__module__.startswith("pyspark.sql") and c.__name__ == "DataFrame"
               for c in type(obj).__mro__)


def _is_relation(obj: object) -> bool:
    return type(obj).__name__ == "DuckDBPyRelation"


def _is_path(obj: object) -> bool:
    return isinstance(obj, str | os.PathLike)


def _parquet_glob(path: str | os.PathLike, table: str) -> str:
    """A Parquet path, directory (every ``*.parquet`` below it) or glob, checked to exist."""
    text = os.fspath(path)
    if os.path.isdir(text):
        text = os.path.join(text, "**", "*.parquet")
    if not _glob.glob(text, recursive=True):
        raise ValueError(
            f"{table}: no Parquet file matches {os.fspath(path)!r}; pass a file, a folder of "
            "*.parquet files or a glob such as 'world/orders/*.parquet' (write one with "
            "`crmlab data generate --detail orders --format parquet --out DIR`).")
    return text


def _describe(obj: object) -> str:
    return type(obj).__module__.split(".")[0] + "." + type(obj).__name__


def _check_source(obj: object, table: str) -> None:
    if not (isinstance(obj, pd.DataFrame) or _is_path(obj) or _is_relation(obj)
            or _is_spark_frame(obj)):
        raise ValueError(
            f"{table}: got a {_describe(obj)}; pass a pandas DataFrame, a Parquet path or glob, "
            "a DuckDB relation or a Spark DataFrame.")


def _resolve_engine(sources: Sequence[object], engine: str | None, func: str) -> str:
    if engine is None:
        return "spark" if any(_is_spark_frame(s) for s in sources) else "duckdb"
    if engine not in ENGINES:
        raise ValueError(f"{func}: engine={engine!r}; use one of {list(ENGINES)} (or None to "
                         "choose from the source).")
    if engine == "duckdb" and any(_is_spark_frame(s) for s in sources):
        raise ValueError(f"{func}: a Spark DataFrame runs on engine='spark' (or 'pandas' to "
                         "collect it); DuckDB cannot read it where it lives.")
    return engine


def world_tables(folder: str | os.PathLike) -> dict[str, str]:
    """``{table: glob}`` of a world written by ``crmlab data generate --format parquet``.

    The globs are what every function here takes as a source, e.g.
    ``rfm_table(world_tables(DIR)["orders"])``.

    Parameters
    ----------
    folder : str or path
        The world's folder (it holds ``world.json``).

    Returns
    -------
    dict of str to str
        A Parquet glob per table that has files.
    """
    root = Path(folder)
    if not (root / "world.json").exists():
        raise ValueError(f"world_tables: {root} has no world.json; write a world with `crmlab data "
                         "generate --size N --detail orders --format parquet --out DIR`.")
    return {sub.name: str(sub / "*.parquet") for sub in sorted(root.iterdir())
            if sub.is_dir() and any(sub.glob("*.parquet"))}
