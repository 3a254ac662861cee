"""The course holds in other worlds: every notebook runs, and its readings are computed.

CI runs the worlds of ``crmlab.course.worlds.CI_WORLDS`` (two seeds other than the default, at the
test size ``tiny``) with the test parameters of tests/notebooks/test_params.yaml; the full
sweep (``crmlab.course.worlds.WORLDS``: seeds at ``small``, ``tiny``, ``medium``, a custom member
count, a shop whose campaigns change nothing) is the slow tier here and ``make worlds``,
which writes the committed matrix benchmarks/results/worlds.md.

A notebook "holds" in a world when every cell runs (the notebook's own asserts against the
planted truth included), every recorded result is JSON-safe (``record`` refuses NaN), and
every claim it checked chose one of its two written readings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crmlab.course.worlds import CI_WORLDS, WORLDS, world
from crmlab.nb import read_claims, read_results

ROOT = Path(__file__).resolve().parents[2]
STEMS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("stem", STEMS)
@pytest.mark.parametrize("name", CI_WORLDS)
def test_notebook_holds_in_world(executed_notebook, name, stem):
    chosen = world(name)
    assert chosen.parameters["DATA"] == "tiny" and chosen.parameters["SEED"] != 42
    nb = executed_notebook(stem, **chosen.parameters)  # fails the test if a cell raises
    assert read_results(nb), f"{stem} recorded no results in world {name}"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    for item in read_claims(nb):
        assert item["name"], f"{stem}: an unnamed claim in cell {item['cell']}; name every claim"


def test_ci_worlds_differ_from_the_default_and_each_other():
    seeds = {world(n).parameters["SEED"] for n in CI_WORLDS}
    assert len(CI_WORLDS) >= 2 and len(seeds) == len(CI_WORLDS) and 42 not in seeds
    assert len(WORLDS) >= 8


@pytest.mark.slow
@pytest.mark.parametrize("name", [w.name for w in WORLDS if w.name not in CI_WORLDS])
def test_full_sweep_world(name, tmp_path):
    from crmlab.course.worlds import sweep

    outcomes = sweep([world(name)], ROOT / "notebooks", tmp_path, jobs=2, progress=False)
    failed = [f"{o.notebook} cell {o.cell}: {o.error}" for o in outcomes if not o.ok]
    assert not failed, "\n".join(failed)


def test_real_data_world_runs_and_says_in_one_line_what_it_skips(executed_notebook, tmp_path_factory):
    """The online-retail world (a sample in the UCI Online Retail II format, no truth) on 05_clv:
    every cell runs, the comparisons with planted values are skipped and said so once."""
    from crmlab.data import get_shop

    chosen = world("online-retail")
    shops = tmp_path_factory.mktemp("real_shops")
    chosen.prepare(shops)
    params = chosen.notebook_parameters(shops)
    shop = get_shop(params["DATA"])
    assert shop.truth == {} and "sessions" not in shop.tables
    nb = executed_notebook("05_clv_and_churn", **params)
    results = read_results(nb)
    # the reader's buyers, counted here from the saved orders, are the notebook's customers
    assert results["n_customers"] == shop.orders["customer_id"].nunique()
    assert results["holdout"]["actual"] > 0 and "bgnbd_planted" not in results
    said = [str(o["data"]["text/plain"]) for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if "text/markdown" in o.get("data", {})]
    skip_lines = [s for s in said if s.startswith("This shop")]
    assert skip_lines == ["This shop has no planted truth (real data from Online Retail II), so this notebook "
                          "skips the comparison with the planted values (section 2 and the seasonal clock)."]
    assert not any("NT$" in s for s in said)  # amounts are in pounds here
