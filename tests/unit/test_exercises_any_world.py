"""Every exercise answer can be computed in any world, e.g. one with a ticket opened after the
data end (the simulator plants one at some seeds: small seed 2027, medium seed 42), which
crmlab.support / crmlab.aftersales refuse as input. Per-student variants draw such seeds."""

from __future__ import annotations

import importlib
import pkgutil

import pandas as pd
import pytest

import crmlab.data
from crmlab.exercises import registry


@pytest.fixture(scope="module")
def shop_with_late_ticket():
    shop = crmlab.data.get_shop("tiny", seed=42)
    t = shop.tables["tickets"]
    late = t.iloc[[0]].copy()
    late["ticket_id"] = t["ticket_id"].max() + 1
    shift = shop.end_ts + pd.Timedelta(hours=5) - late["created_ts"].iloc[0]
    for col in [c for c in t.columns if str(t[c].dtype).startswith("datetime")]:
        late[col] = late[col] + shift
    shop.tables["tickets"] = pd.concat([t, late], ignore_index=True)
    assert (shop.tickets["created_ts"] > shop.end_ts).sum() == 1
    return shop


def test_every_answer_computes_with_a_ticket_after_the_end(shop_with_late_ticket):
    answers_pkg = registry.answers_package()  # instructor/answers/, outside the package
    for mod in pkgutil.iter_modules(answers_pkg.__path__):
        importlib.import_module(f"{answers_pkg.__name__}.{mod.name}")
    failed = []
    for qid, q in registry.QUESTIONS.items():
        try:
            q.func(shop_with_late_ticket)
        except Exception as exc:  # report every failing question at once
            failed.append(f"{qid}: {type(exc).__name__}: {str(exc)[:100]}")
    assert not failed, "\n".join(failed)
