"""Big worlds on disk (crmlab.data.world): written in customer blocks, reproducible from the
seed, never loaded by get_shop, read by crmlab.scale.

Known answers: block 0 of a world is ``simulate(block_size, seed=seed, detail="orders")``
(the documented seeding rule), so its tables equal the simulator's; a rerun, and a run with
two worker processes, write the same rows; ids are unique across blocks.
"""

from __future__ import annotations

import glob

import pandas as pd
import pytest

import crmlab.data
from crmlab import rfm, scale
from crmlab.course import cli
from crmlab.data.world import ORDER_ID_STRIDE, block_seed, read_world_info, write_world

pytest.importorskip("duckdb")

BLOCK = 120  # tiny has 300 customers: blocks of 120, 120 and 60


def _table(folder, name: str) -> pd.DataFrame:
    files = sorted(glob.glob(str(folder / name / "*.parquet")))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return write_world("tiny", tmp_path_factory.mktemp("w") / "world", seed=7, block_size=BLOCK)


def test_world_layout_and_info(world):
    info = read_world_info(world)
    assert info["blocks"] == 3 and info["n_customers"] == 300
    for name in ("customers", "orders", "order_items", "campaigns"):
        assert len(list((world / name).glob("*.parquet"))) == 3
        assert info["rows"][name] == len(_table(world, name))
    assert info["truth"]["bgnbd"]["r"] == 0.8
    customers, orders, items = (_table(world, n) for n in ("customers", "orders", "order_items"))
    assert customers["customer_id"].tolist() == list(range(1, 301))
    assert orders["order_id"].is_unique
    assert set(items["order_id"]) <= set(orders["order_id"])
    assert set(orders["customer_id"]) <= set(customers["customer_id"])
    assert orders["order_id"].max() > 2 * ORDER_ID_STRIDE  # block 2's range


def test_block_zero_is_the_simulator_with_the_seed(world):
    sim = crmlab.data.simulate(BLOCK, start="2024-01-01", end="2024-12-31", seed=7,
                               detail="orders", n_products=80)
    part = pd.read_parquet(world / "orders" / "part-00000.parquet")
    expected = sim.tables["orders"]
    pd.testing.assert_frame_equal(part, expected, check_dtype=False)
    assert block_seed(7, 0) == 7 and block_seed(7, 1) != block_seed(7, 2)


def test_rerun_and_two_jobs_write_the_same_rows(world, tmp_path):
    again = write_world("tiny", tmp_path / "again", seed=7, block_size=BLOCK, jobs=2)
    for name in ("customers", "orders", "order_items"):
        pd.testing.assert_frame_equal(_table(again, name), _table(world, name))
    other = write_world("tiny", tmp_path / "other", seed=8, block_size=BLOCK)
    assert not _table(other, "orders")["amount"].equals(_table(world, "orders")["amount"])


def test_get_shop_refuses_a_world_and_scale_reads_it(world):
    with pytest.raises(ValueError, match="not loaded into memory.*crmlab.scale"):
        crmlab.data.get_shop(str(world))
    tables = scale.world_tables(world)
    assert set(tables) >= {"customers", "orders", "order_items"}
    pd.testing.assert_frame_equal(scale.rfm_table(tables["orders"]),
                                  rfm.rfm_table(_table(world, "orders")), rtol=1e-9)


def test_write_world_refuses_bad_arguments(world, tmp_path):
    with pytest.raises(ValueError, match="is not empty"):
        write_world("tiny", world)
    with pytest.raises(ValueError, match="block_size=0"):
        write_world("tiny", tmp_path / "a", block_size=0)
    with pytest.raises(ValueError, match="detail='orders'"):
        write_world("tiny", tmp_path / "b", detail="full")
    with pytest.raises(ValueError, match="unknown size 'huge'"):
        write_world("huge", tmp_path / "c")


def test_cli_generate_parquet(tmp_path, capsys):
    out = tmp_path / "cli"
    assert cli.main(["data", "generate", "--size", "200", "--detail", "orders", "--format",
                     "parquet", "--out", str(out), "--block-size", "150", "--seed", "3"]) == 0
    assert "200 customers" in capsys.readouterr().out
    assert read_world_info(out)["blocks"] == 2
    # a usage error: one line naming the option and the fix, exit code 2 (issue 25)
    assert cli.main(["data", "generate", "--size", "200", "--format", "parquet", "--out",
                     str(tmp_path / "x")]) == 2
    assert "add --detail orders" in capsys.readouterr().err
