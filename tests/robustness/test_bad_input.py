"""The fuzz tier (issue 25): bad tables, generated from the schema, into every function that
declares which shop tables it reads (crmlab._checks.reads).

For each declared function the harness builds a clean call on a consistent slice of the
shipped shop (60 members and everything that points at them), checks that the clean call
works, then lets hypothesis pick a table argument and a kind of damage -- a missing column,
a wrong dtype, a missing value, an infinity, a negative number, a repeated key, a
time-zone-aware or a far-future timestamp, an empty or a one-row table -- and asserts:

* damage to a column the contract declares (or to the key) raises ValueError/TypeError
  whose message names the table and the column (``"orders"`` and ``"amount"``);
* an empty or one-row table either gives an answer or a ValueError naming the table --
  never a crash from deep inside pandas (KeyError, IndexError, ZeroDivisionError ...).

Hypothesis samples the (function, table, damage, column, row) space, derandomized;
``test_every_declared_function_with_every_damage`` then sweeps all of it once. Run as a
script (``python tests/robustness/test_bad_input.py``) the sweep prints its counts: clear
errors, plain answers for empty/one-row tables, damage that does not apply to a column
(skipped), and silent answers (zero). None of the declared functions corrects bad input on
its own; the readers (crmlab.data.readers) report every row they drop in ``shop.report``.
"""

from __future__ import annotations

import importlib
import inspect
import warnings
from collections import Counter
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmlab import _checks
from crmlab.data import get_shop
from crmlab.data.schema import TABLES, key_columns

MODULES = ["rfm", "kpi", "clv", "offers", "profile", "segments", "support", "survival",
           "journey", "recommend", "basket", "aftersales", "feedback", "pricing"]

#: Values for the non-table arguments a function requires, by argument name.
ARGUMENTS: dict[str, Any] = {
    "start": "2024-04-01", "end": "2025-10-01", "as_of": "2025-07-01", "when": "2025-07-01",
    "at": "2025-07-01", "cutoff": "2025-06-30", "train_cutoff": "2025-03-31",
    "test_cutoff": "2025-06-30", "snapshot": None,
}

#: Arguments a function needs beyond tables and dates (a column name, a label, a number).
EXTRA: dict[str, dict[str, Any]] = {
    "offers.ab_test": {"missing_arm": "skip"},
    "support.queue_stats": {"wait_col": "wait_seconds"},
    "aftersales.processing_times": {"end": "2026-06-30"},
    "aftersales.survey_metrics": {"survey_type": "csat"},
    "profile.view_for_role": {"role": "analyst"},
    "profile.attainment": {"targets": 100_000.0},
    "profile.loyalty_deferral": {"expected_redemption": 0.6},
}
#: Tables a function needs that its contract does not check (they are passed on as they are).
EXTRA_TABLES: dict[str, dict[str, str]] = {
    "profile.tier_migration": {"customers": "customers"},
    "journey.cohort_table": {"activity": "orders"},
}

COLUMN_DAMAGE = ("missing column", "wrong dtype", "missing value", "infinity", "negative",
                 "time-zone aware", "far future")
TABLE_DAMAGE = ("repeated key", "empty table", "one row")
DAMAGE = COLUMN_DAMAGE + TABLE_DAMAGE


@cache
def shop_slice() -> dict[str, pd.DataFrame]:
    """A consistent slice of the shipped shop: members 1..60 and the rows about them."""
    tables = get_shop("small").tables
    members = set(range(1, 61))

    def of(name: str, col: str, keep) -> pd.DataFrame:
        df = tables[name]
        return df.loc[df[col].isin(keep).to_numpy()].reset_index(drop=True)

    out = {"customers": of("customers", "customer_id", members)}
    out["orders"] = of("orders", "customer_id", members)
    orders = set(out["orders"]["order_id"])
    out["order_items"] = of("order_items", "order_id", orders)
    out["returns"] = of("returns", "order_id", orders)
    for name in ("sessions", "events", "tickets", "campaign_contacts", "loyalty_ledger",
                 "surveys", "reviews", "faq_searches"):
        out[name] = of(name, "customer_id", members)
    for name in ("products", "campaigns", "agents", "faq_articles", "leads"):
        out[name] = tables[name].reset_index(drop=True)
    out["calls"] = tables["calls"].head(400).reset_index(drop=True)
    out["social_mentions"] = tables["social_mentions"].head(200).reset_index(drop=True)
    first = sorted(tables["products"]["product_id"])[:3]
    out["price_history"] = of("price_history", "product_id", first)
    for name, df in tables.items():  # tables added later to the schema: the rows about the slice
        if name in out:
            continue
        if "order_id" in df.columns:
            df = of(name, "order_id", orders)
        elif "customer_id" in df.columns:
            df = of(name, "customer_id", members)
        out[name] = df.head(200).reset_index(drop=True)
    return out


def declared_functions() -> list[tuple[str, Any]]:
    found = []
    for name in MODULES:
        mod = importlib.import_module(f"crmlab.{name}")
        for attr in getattr(mod, "__all__", []):
            fn = getattr(mod, attr, None)
            if inspect.isfunction(fn) and _checks.contract_of(fn):
                found.append((f"{name}.{attr}", fn))
    return found


def clean_call(fn, qual: str = "") -> dict[str, Any] | None:
    """Keyword arguments for a clean call of ``fn``, or None when it needs more than tables,
    dates and :data:`EXTRA` (a fitted model, another function's output ...)."""
    contract = _checks.contract_of(fn)
    data = shop_slice()
    kwargs: dict[str, Any] = {}
    extra = {**EXTRA.get(qual, {}),
             **{k: data[t] for k, t in EXTRA_TABLES.get(qual, {}).items()}}
    for name, p in inspect.signature(fn).parameters.items():
        if name in extra:
            kwargs[name] = extra[name]
        elif name in contract:
            spec = contract[name]
            if spec.table not in data:
                return None
            kwargs[name] = data[spec.table]
        elif p.default is inspect.Parameter.empty:
            if name not in ARGUMENTS:
                return None
            kwargs[name] = ARGUMENTS[name]
    return kwargs


def _quiet(fn, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(**kwargs)


@cache
def callable_cases() -> list[tuple[str, Any, dict[str, Any]]]:
    """Declared functions whose clean call on the slice works (the baseline of the fuzz)."""
    cases = []
    for qual, fn in declared_functions():
        kwargs = clean_call(fn, qual)
        if kwargs is None:
            continue
        try:
            _quiet(fn, kwargs)
        except Exception:  # noqa: BLE001 - needs more than the slice gives (e.g. a long history)
            continue
        cases.append((qual, fn, kwargs))
    return cases


def damage(df: pd.DataFrame, table: str, col: str | None, kind: str, label: str,
           rng: np.random.Generator) -> tuple[pd.DataFrame, list[str]] | None:
    """``df`` with one kind of damage, and the words the error must contain; None when the
    damage does not apply to that column."""
    out = df.copy()
    n = len(out)
    if kind == "empty table":
        return out.iloc[:0], [label]
    if kind == "one row":
        return out.iloc[:1], [label]
    if kind == "repeated key":
        key = key_columns(table)
        if not key or not set(key) <= set(out.columns) or n == 0:
            return None
        return pd.concat([out, out.iloc[[int(rng.integers(n))]]], ignore_index=True), [label, key[0]]
    spec = TABLES[table].column(col)
    if col not in out.columns or n == 0:
        return None
    row = int(rng.integers(n))
    values = out[col]
    if kind == "missing column":
        return out.drop(columns=col), [label, col]
    if kind == "wrong dtype":
        if spec.kind in ("category", "str") or (col.endswith("_id") and spec.kind in ("int", "Int")):
            return None  # labels and ids may be text
        out[col] = values.astype("str")
        return out, [label, col]
    if kind == "missing value":
        if spec.nullable:
            return None
        if spec.kind == "datetime":
            out[col] = values.astype("datetime64[ns]").where(out.index != row)
        elif spec.kind in ("int", "Int", "float"):
            out[col] = values.astype("float64").where(out.index != row)
        elif spec.kind == "bool":
            out[col] = values.astype("boolean").where(out.index != row)
        else:
            out[col] = values.astype("object").where(out.index != row)
        return out, [label, col]
    if kind == "infinity":
        if spec.kind not in ("int", "Int", "float") or col.endswith("_id"):
            return None
        out[col] = values.astype("float64").where(out.index != row, np.inf)
        return out, [label, col]
    if kind == "negative":
        if spec.kind not in ("int", "Int", "float") or spec.min is None or spec.min < 0:
            return None
        out[col] = values.astype("float64").where(out.index != row, -(abs(spec.min) + 5.0))
        return out, [label, col]
    if spec.kind != "datetime":
        return None
    ts = values.astype("datetime64[ns]")
    if kind == "time-zone aware":
        out[col] = ts.dt.tz_localize("UTC")
    else:
        out[col] = ts.where(out.index != row, pd.Timestamp("2099-06-30"))
    return out, [label, col]


def run_case(qual: str, fn, kwargs: dict[str, Any], arg: str, col: str | None, kind: str,
             seed: int) -> tuple[str, str]:
    """One damaged call: ``("clear error" | "answer" | "silent answer" | "skipped", detail)``.

    An answer is acceptable for an empty or one-row table (nothing is wrong with it); for
    any other damage an answer is silent: the damage went unnoticed.
    """
    spec = _checks.contract_of(fn)[arg]
    label = arg  # the message may name the argument or the schema table (contacts/campaign_contacts)
    if spec.name_arg and spec.name_arg in kwargs:
        label = kwargs[spec.name_arg]
    made = damage(kwargs[arg], spec.table, col, kind, label, np.random.default_rng(seed))
    if made is None:
        return "skipped", ""
    bad, words = made
    try:
        _quiet(fn, {**kwargs, arg: bad})
    except (ValueError, TypeError) as exc:
        text = str(exc)
        missing = [w for w in words if w not in text and not (w == label and spec.table in text)]
        if missing:
            return "unclear error", f"{qual}({arg}: {kind} {col}): {text[:300]} lacks {missing}"
        return "clear error", ""
    except Exception as exc:  # noqa: BLE001 - a crash is what this tier is for
        return "crash", f"{qual}({arg}: {kind} {col}): {type(exc).__name__}: {exc}"
    if kind in ("empty table", "one row"):
        return "answer", ""
    return "silent answer", f"{qual}({arg}: {kind} {col}) gave an answer"


def _column_choices(fn, arg: str) -> list[str | None]:
    spec = _checks.contract_of(fn)[arg]
    return list(spec.columns) or [None]


def test_the_slice_feeds_most_declared_functions():
    cases = callable_cases()
    assert len(cases) >= 60, [q for q, *_ in cases]


@settings(max_examples=150, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_bad_tables_give_a_clear_error_or_a_plain_answer(data):
    cases = callable_cases()
    qual, fn, kwargs = data.draw(st.sampled_from(cases), label="function")
    arg = data.draw(st.sampled_from(sorted(_checks.contract_of(fn))), label="table argument")
    kind = data.draw(st.sampled_from(DAMAGE), label="damage")
    col = None
    if kind in COLUMN_DAMAGE:
        col = data.draw(st.sampled_from(_column_choices(fn, arg)), label="column")
        if col is None:
            return
    outcome, detail = run_case(qual, fn, kwargs, arg, col, kind,
                               data.draw(st.integers(0, 2**16), label="seed"))
    assert outcome in ("clear error", "answer", "skipped"), detail


def test_every_declared_function_with_every_damage():
    """The exhaustive sweep behind the sampled test above: no silent answer, no crash."""
    counts, problems = every_case()
    assert problems == []
    outcomes = Counter()
    for (_, outcome), n in counts.items():
        outcomes[outcome] += n
    assert outcomes["silent answer"] == 0 and outcomes["crash"] == 0
    assert outcomes["clear error"] >= 1000  # about 1,260 on the shipped shop


def every_case() -> tuple[Counter, list[str]]:
    """Each function x table argument x declared column x kind of damage, once."""
    counts: Counter = Counter()
    problems = []
    for qual, fn, kwargs in callable_cases():
        for arg in sorted(_checks.contract_of(fn)):
            for kind in DAMAGE:
                cols = _column_choices(fn, arg) if kind in COLUMN_DAMAGE else [None]
                for col in cols:
                    if kind in COLUMN_DAMAGE and col is None:
                        continue
                    outcome, detail = run_case(qual, fn, kwargs, arg, col, kind, 0)
                    counts[(kind, outcome)] += 1
                    if detail:
                        problems.append(detail)
    return counts, problems


if __name__ == "__main__":
    counts, problems = every_case()
    print(f"{len(callable_cases())} functions: {', '.join(q for q, *_ in callable_cases())}")
    for (kind, outcome), n in sorted(counts.items()):
        print(f"{kind:18s} {outcome:14s} {n}")
    total = Counter()
    for (_, outcome), n in counts.items():
        total[outcome] += n
    print(dict(total))
    for p in problems:
        print("-", p)
