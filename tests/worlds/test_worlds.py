"""The course holds in other worlds: every notebook runs, and its readings are computed.

CI runs the worlds of ``crmlab.worlds.CI_WORLDS`` (two seeds other than the default, at the
test size ``tiny``) with the test parameters of tests/notebooks/test_params.yaml; the full
sweep (``crmlab.worlds.WORLDS``: seeds at ``small``, ``tiny``, ``medium``, a custom member
count, a shop whose campaigns change nothing) is the slow tier here and ``make worlds``,
which writes the committed matrix benchmarks/results/worlds.md.

A notebook "holds" in a world when every cell runs (the notebook's own asserts against the
planted truth included), every recorded result is JSON-safe (``record`` refuses NaN), and
every claim it checked chose one of its two written readings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crmlab.nb import read_claims, read_results
from crmlab.worlds import CI_WORLDS, WORLDS, world

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
    from crmlab.worlds import sweep

    outcomes = sweep([world(name)], ROOT / "notebooks", tmp_path, jobs=2, progress=False)
    failed = [f"{o.notebook} cell {o.cell}: {o.error}" for o in outcomes if not o.ok]
    assert not failed, "\n".join(failed)
