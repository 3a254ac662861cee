"""Answer keys: expected answers serialized to text, and read back.

An instructor's answer key is a CSV with one row per question (``question_id``, a short
human-readable ``summary`` and the full ``expected`` answer as JSON). :func:`encode` /
:func:`decode` round-trip every answer type the checks use (numbers, strings, booleans,
timestamps, lists, sets, dicts, Series, DataFrames) closely enough that
:func:`crmlab.exercises.compare.compare` accepts the decoded value against the original.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import numbers
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Columns of an answer-key CSV, in order.
KEY_COLUMNS = ("student_id", "name", "seed", "data", "notebook", "question_id", "summary",
               "expected")


def _scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, float) and math.isinf(value):
        return {"type": "float", "value": "inf" if value > 0 else "-inf"}
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, pd.Timestamp | _dt.datetime | _dt.date | np.datetime64):
        return {"type": "timestamp", "value": pd.Timestamp(value).isoformat()}
    if isinstance(value, pd.Timedelta | _dt.timedelta | np.timedelta64):
        return {"type": "timedelta", "value": pd.Timedelta(value).total_seconds()}
    if isinstance(value, pd.Period):
        return {"type": "period", "value": str(value), "freq": value.freqstr}
    if isinstance(value, numbers.Number):
        return {"type": "float", "value": float(value)}
    raise ValueError(
        f"answer key: cannot serialize a value of type {type(value).__name__}; answer "
        "functions should return numbers, strings, timestamps, lists, sets, dicts, Series "
        "or DataFrames"
    )


def _column(values: pd.Series | pd.Index) -> dict[str, Any]:
    values = pd.Series(values)
    dtype = values.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        kind = "datetime"
        data = [None if pd.isna(v) else pd.Timestamp(v).isoformat() for v in values]
    elif pd.api.types.is_timedelta64_dtype(dtype):
        kind = "timedelta"
        data = [None if pd.isna(v) else v.total_seconds() for v in values]
    elif pd.api.types.is_bool_dtype(dtype):
        kind = "bool"
        data = [None if pd.isna(v) else bool(v) for v in values]
    elif pd.api.types.is_integer_dtype(dtype):
        kind = "int"
        data = [None if pd.isna(v) else int(v) for v in values]
    elif pd.api.types.is_float_dtype(dtype):
        kind = "float"
        data = [None if pd.isna(v) else float(v) for v in values]
    else:
        kind = "object"
        data = [encode(v) for v in values.astype(object)]
    return {"kind": kind, "values": data}


def _uncolumn(payload: Mapping[str, Any]) -> pd.Series:
    kind, data = payload["kind"], payload["values"]
    if kind == "datetime":
        return pd.Series(pd.to_datetime(pd.Series(data, dtype=object)))
    if kind == "timedelta":
        return pd.Series(pd.to_timedelta(pd.Series(data, dtype=float), unit="s"))
    if kind == "int":
        return pd.Series(data, dtype="Int64" if any(v is None for v in data) else "int64")
    if kind == "float":
        return pd.Series([np.nan if v is None else v for v in data], dtype=float)
    if kind == "bool":
        return pd.Series(data, dtype="boolean" if any(v is None for v in data) else bool)
    return pd.Series([decode(v) for v in data], dtype=object)


def _index(index: pd.Index) -> dict[str, Any]:
    if (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
            and index.name is None):
        return {"range": len(index)}
    return {
        "names": [None if n is None else str(n) for n in index.names],
        "levels": [_column(index.get_level_values(i)) for i in range(index.nlevels)],
    }


def _unindex(payload: Mapping[str, Any]) -> pd.Index:
    if "range" in payload:
        return pd.RangeIndex(payload["range"])
    levels = [_uncolumn(level) for level in payload["levels"]]
    if len(levels) == 1:
        return pd.Index(levels[0], name=payload["names"][0])
    return pd.MultiIndex.from_arrays(levels, names=payload["names"])


def encode(value: Any) -> Any:
    """Turn an answer into plain JSON-able data that :func:`decode` reverses."""
    if isinstance(value, pd.DataFrame):
        if value.columns.nlevels > 1:
            raise ValueError("answer key: flatten multi-level column labels before returning")
        return {
            "type": "frame",
            "columns": [str(c) for c in value.columns],
            "index": _index(value.index),
            "data": [_column(value.iloc[:, i]) for i in range(value.shape[1])],
        }
    if isinstance(value, pd.Series):
        return {"type": "series", "name": None if value.name is None else str(value.name),
                "index": _index(value.index), "data": _column(value)}
    if isinstance(value, pd.Index):
        return {"type": "list", "items": [encode(v) for v in value.tolist()]}
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return {"type": "array", "shape": list(value.shape),
                "items": [encode(v) for v in value.ravel().tolist()]}
    if isinstance(value, set | frozenset):
        items = [encode(v) for v in value]
        items.sort(key=lambda v: json.dumps(v, sort_keys=True))
        return {"type": "set", "items": items}
    if isinstance(value, list | tuple):
        return {"type": "tuple" if isinstance(value, tuple) else "list",
                "items": [encode(v) for v in value]}
    if isinstance(value, Mapping):
        return {"type": "dict", "items": [[encode(k), encode(v)] for k, v in value.items()]}
    return _scalar(value)


def decode(payload: Any) -> Any:
    """Rebuild an answer from :func:`encode`'s output."""
    if not isinstance(payload, dict):
        return payload
    kind = payload.get("type")
    if kind == "frame":
        index = _unindex(payload["index"])
        cols = {name: _uncolumn(col).set_axis(index)
                for name, col in zip(payload["columns"], payload["data"], strict=True)}
        return pd.DataFrame(cols, index=index, columns=payload["columns"])
    if kind == "series":
        return _uncolumn(payload["data"]).set_axis(_unindex(payload["index"])).rename(
            payload["name"])
    if kind == "list":
        return [decode(v) for v in payload["items"]]
    if kind == "tuple":
        return tuple(decode(v) for v in payload["items"])
    if kind == "set":
        return {decode(v) for v in payload["items"]}
    if kind == "array":
        return np.array([decode(v) for v in payload["items"]]).reshape(payload["shape"])
    if kind == "dict":
        return {_hashable(decode(k)): decode(v) for k, v in payload["items"]}
    if kind == "timestamp":
        return pd.Timestamp(payload["value"])
    if kind == "timedelta":
        return pd.Timedelta(seconds=payload["value"])
    if kind == "period":
        return pd.Period(payload["value"], freq=payload["freq"])
    if kind == "float":
        return float(payload["value"])
    raise ValueError(f"answer key: unknown encoded type {kind!r}")


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def dumps(value: Any) -> str:
    """:func:`encode` then JSON text (compact, UTF-8 friendly)."""
    return json.dumps(encode(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def loads(text: str) -> Any:
    """Inverse of :func:`dumps`."""
    return decode(json.loads(text))


def summary(value: Any) -> str:
    """A one-line description of an answer for the key's ``summary`` column."""
    if isinstance(value, pd.DataFrame):
        cols = ", ".join(map(str, value.columns[:8])) + (", …" if value.shape[1] > 8 else "")
        return f"DataFrame {value.shape[0]}×{value.shape[1]} (columns: {cols})"
    if isinstance(value, pd.Series):
        head = ", ".join(f"{k}={_short(v)}" for k, v in value.head(5).items())
        return f"Series of {len(value)} ({head}{', …' if len(value) > 5 else ''})"
    if isinstance(value, set | frozenset | list | tuple):
        items = list(value)
        if isinstance(value, set | frozenset):
            items = sorted(items, key=str)
        text = ", ".join(_short(v) for v in items[:10])
        return f"{type(value).__name__} of {len(items)}: [{text}{', …' if len(items) > 10 else ''}]"
    if isinstance(value, Mapping):
        text = ", ".join(f"{k}: {_short(v)}" for k, v in list(value.items())[:8])
        return f"dict of {len(value)}: {{{text}{', …' if len(value) > 8 else ''}}}"
    return _short(value)


def _short(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def write_key(rows: Iterable[Mapping[str, Any]], path: str | Path) -> Path:
    """Write answer-key rows (dicts with :data:`KEY_COLUMNS`) as a UTF-8 CSV."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(list(rows), columns=list(KEY_COLUMNS))
    frame.to_csv(path, index=False, encoding="utf-8")
    return path


def read_key(path: str | Path) -> dict[str, Any]:
    """Read an answer-key CSV back into ``{question_id: expected answer}``."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"answer key {path} does not exist")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"question_id", "expected"} - set(frame.columns)
    if missing:
        raise ValueError(f"answer key {path}: missing column(s) {sorted(missing)}")
    return {row.question_id: loads(row.expected) for row in frame.itertuples(index=False)}
