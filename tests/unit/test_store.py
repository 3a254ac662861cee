"""crmlab.data.store: the SQLite CRM store.

Known answers: the tiny shop's tables (``simulate("tiny")``) must come back from the database
bit-for-bit (``assert_frame_equal``, dtypes included); a load that fails midway must leave the
database byte-for-byte as before (compared with ``Connection.iterdump()``, SQLite's own full
SQL dump); values that look like SQL are data because every value is a bound parameter.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

from crmlab.data import simulate
from crmlab.data.schema import TABLE_NAMES, TABLES
from crmlab.data.store import CRMStore, index_ddl, schema_sql, table_ddl

EVIL = "1 OR 1=1; DROP TABLE customers; --'\""


@pytest.fixture(scope="module")
def shop():
    return simulate("tiny", seed=7)


@pytest.fixture(scope="module")
def core(shop):
    """The tiny shop without its three biggest tables (nothing references them): fast reloads."""
    from crmlab.data import Shop

    return Shop(tables={k: v for k, v in shop.tables.items() if k not in ("events", "price_history", "calls")},
                truth={}, config=shop.config)


@pytest.fixture(scope="module")
def store(shop):
    st = CRMStore(":memory:")
    st.load(shop)
    yield st
    st.close()


@pytest.fixture(scope="module")
def core_store(core):
    st = CRMStore(":memory:")
    st.load(core)
    yield st
    st.close()


def snapshot(st: CRMStore) -> list[str]:
    return list(st.dump())


def with_table(shop, name: str, df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    tables = dict(shop.tables)
    tables[name] = df
    return tables


# ----------------------------------------------------------------------------- schema


def test_schema_has_every_table_key_foreign_key_and_index():
    con = sqlite3.connect(":memory:")
    con.executescript(schema_sql())
    con.execute("PRAGMA foreign_keys = ON")
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert set(TABLE_NAMES) <= names
    for name, table in TABLES.items():
        info = con.execute(f'PRAGMA table_info("{name}")').fetchall()
        assert [r[1] for r in info] == table.column_names
        key = [table.key] if isinstance(table.key, str) else list(table.key)
        pk = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5] > 0]
        assert pk == key, name
        for r in info:  # NOT NULL exactly for the contract's required columns
            assert bool(r[3]) == (not table.column(r[1]).nullable), (name, r[1])
        fks = {(r[3], f"{r[2]}.{r[4]}") for r in con.execute(f'PRAGMA foreign_key_list("{name}")')}
        assert fks == set(table.foreign.items()), name
        indexed = {con.execute(f'PRAGMA index_info("{r[1]}")').fetchone()[2]
                   for r in con.execute(f'PRAGMA index_list("{name}")')}
        for col in table.columns:
            if col.name in table.foreign or col.kind == "datetime":
                assert col.name in indexed, f"{name}.{col.name} has no index"
    assert "STRICT" in table_ddl("orders")
    assert any("order_ts" in s for s in index_ddl("orders"))


def test_store_turns_foreign_keys_on(store):
    assert store.connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_unknown_table_ddl_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown table 'order'"):
        table_ddl("order")


# ----------------------------------------------------------------------------- round trip


def test_every_table_of_the_tiny_shop_round_trips_unchanged(shop, store):
    assert store.loaded_tables() == [n for n in TABLE_NAMES if n in shop.tables]
    for name, df in shop.tables.items():
        got = store.table(name)
        pd.testing.assert_frame_equal(got, df, check_exact=True, obj=f"table {name}")
    assert store.counts() == {n: len(shop.tables.get(n, ())) for n in TABLE_NAMES}


def test_round_trip_through_a_file_and_reopen(core, tmp_path):
    shop = core
    path = tmp_path / "crm.sqlite"
    with CRMStore(path) as st:
        st.load(shop)
    with CRMStore(path) as st:  # reopening checks the schema and keeps the data
        back = st.to_shop()
        assert back.config["start"] == shop.config["start"] and back.config["end"] == shop.config["end"]
        assert back.end == shop.end
        for name in ("customers", "loyalty_ledger", "leads", "surveys"):
            pd.testing.assert_frame_equal(back.tables[name], shop.tables[name], obj=name)


def test_categories_keep_their_order_and_unused_levels(shop):
    # 'platinum' may be held by nobody in a tiny shop; the category list still has it, in order.
    ledger = shop.loyalty_ledger.copy()
    ledger["tier"] = ledger["tier"].cat.set_categories(["member", "silver", "gold", "platinum"])
    with CRMStore() as st:
        st.load({"customers": shop.customers, "orders": shop.orders.assign(session_id=pd.NA, campaign_id=pd.NA)
                 .astype({"session_id": "Int64", "campaign_id": "Int64"}), "loyalty_ledger": ledger})
        got = st.table("loyalty_ledger")
    assert list(got["tier"].cat.categories) == ["member", "silver", "gold", "platinum"]
    pd.testing.assert_series_equal(got["tier"], ledger["tier"])


def test_fractional_seconds_round_trip_and_sqlite_reads_the_format():
    agents = pd.DataFrame({
        "agent_id": np.array([1, 2, 3], dtype=np.int64),
        "name": pd.array(["A", "B", "C"], dtype="str"),
        "team": pd.Categorical(["frontline", "specialist", "frontline"], categories=["frontline", "specialist"]),
        "skills": pd.array(["delivery", "defect|return", "billing"], dtype="str"),
        "shift": pd.Categorical(["day", "evening", "day"], categories=["day", "evening"]),
        "hire_date": pd.to_datetime(["2020-01-01 00:00:00.123456789", "2021-06-30 12:00:00",
                                     "1999-12-31 23:59:59.5"], format="ISO8601").astype("datetime64[ns]"),
    })
    with CRMStore() as st:
        st.load({"agents": agents})
        pd.testing.assert_frame_equal(st.table("agents"), agents)
        text = st.query("SELECT hire_date, date(hire_date) AS d FROM agents ORDER BY agent_id")
    assert text["hire_date"].iloc[0] == "2020-01-01 00:00:00.123456789"
    assert text["d"].tolist() == ["2020-01-01", "2021-06-30", "1999-12-31"]  # SQLite reads our format


# ----------------------------------------------------------------------------- all or nothing


def test_failed_replace_midway_leaves_the_database_exactly_as_before(core, tmp_path):
    shop = core
    with CRMStore(tmp_path / "crm.sqlite") as st:
        st.load(shop)
        before = snapshot(st)
        reviews = shop.reviews.copy()
        reviews.loc[len(reviews) - 1, "review_id"] = reviews["review_id"].iloc[0]  # duplicate primary key
        with pytest.raises(ValueError, match="table 'reviews'.*UNIQUE"):
            st.load(with_table(shop, "reviews", reviews), replace=True)
        assert snapshot(st) == before
        pd.testing.assert_frame_equal(st.table("reviews"), shop.reviews)


def test_broken_foreign_key_in_the_last_table_rolls_back_everything(shop):
    with CRMStore() as st:
        before = snapshot(st)
        events = shop.events.iloc[:2000].copy()  # events are loaded last
        events.loc[3, "order_id"] = 10**9  # an order that does not exist
        events["order_id"] = events["order_id"].astype("Int64")
        with pytest.raises(ValueError, match=r"table 'events', column 'order_id': 1 row\(s\) point at no orders"):
            st.load(with_table(shop, "events", events))
        assert snapshot(st) == before
        assert st.is_empty()


def test_an_interrupt_midway_rolls_back(core, monkeypatch):
    shop = core
    with CRMStore() as st:
        st.load(shop)
        before = snapshot(st)
        calls = []
        original = CRMStore._insert

        def flaky(self, name, df):
            calls.append(name)
            if len(calls) == 8:  # seven tables already written inside the transaction
                raise KeyboardInterrupt
            return original(self, name, df)

        monkeypatch.setattr(CRMStore, "_insert", flaky)
        with pytest.raises(KeyboardInterrupt):
            st.load(shop, replace=True)
        monkeypatch.undo()
        assert len(calls) == 8
        assert snapshot(st) == before  # rows, indexes and bookkeeping all restored
        st.load(shop, replace=True)  # and the store still works
        assert st.counts()["loyalty_ledger"] == len(shop.loyalty_ledger)


@pytest.mark.parametrize(
    ("table", "change", "message"),
    [
        ("orders", lambda df: df.assign(channel=df["channel"].cat.add_categories("fax").where(
            df.index != 0, "fax")), r"table 'orders'.*CHECK"),
        ("customers", lambda df: df.assign(birth_month=df["birth_month"].where(df.index != 2, 13)),
         r"table 'customers'.*CHECK"),
        ("orders", lambda df: df.assign(customer_id=df["customer_id"].astype(str)),
         r"table 'orders', column 'customer_id' has dtype str, expected integer"),
        ("orders", lambda df: df.assign(order_ts=df["order_ts"].astype(str)),
         r"table 'orders', column 'order_ts'.*expected datetime"),
        ("orders", lambda df: df.drop(columns="discount"), r"table 'orders'.*missing column\(s\) \['discount'\]"),
        ("orders", lambda df: df.assign(note="x"), r"table 'orders'.*extra column\(s\) \['note'\]"),
        ("customers", lambda df: df.assign(email=df["email"].where(df.index != 5, None)),
         r"table 'customers'.*NOT NULL"),
    ],
)
def test_bad_tables_are_refused_with_the_table_and_column_named(core, table, change, message):
    shop = core
    with CRMStore() as st:
        before = snapshot(st)
        with pytest.raises(ValueError, match=message):
            st.load(with_table(shop, table, change(shop.tables[table])))
        assert snapshot(st) == before


def test_loading_twice_needs_replace(shop, store):
    with pytest.raises(ValueError, match="already holds data.*replace=True"):
        store.load(shop)


def test_unknown_table_and_wrong_argument():
    with CRMStore() as st:
        with pytest.raises(ValueError, match=r"unknown table\(s\) \['ordres'\]"):
            st.load({"ordres": pd.DataFrame()})
        with pytest.raises(ValueError, match="expected a Shop"):
            st.load(42)


def test_opening_a_database_with_another_schema_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    con = sqlite3.connect(path)
    con.execute('CREATE TABLE "customers" (customer_id INTEGER PRIMARY KEY, name TEXT)')
    con.commit()
    con.close()
    with pytest.raises(ValueError, match="do not match this crmlab schema"):
        CRMStore(path)


# ----------------------------------------------------------------------------- queries


def test_typed_helpers_match_pandas(shop, store):
    cid = int(shop.orders["customer_id"].value_counts().idxmax())
    expected = (shop.orders.loc[shop.orders["customer_id"] == cid]
                .sort_values(["order_ts", "order_id"]).reset_index(drop=True))
    pd.testing.assert_frame_equal(store.orders_of(cid), expected)
    row = store.customer(cid)
    assert row["email"] == shop.customers.set_index("customer_id").loc[cid, "email"]
    tickets = store.rows_of("tickets", customer_id=cid)
    pd.testing.assert_frame_equal(tickets, shop.tickets.loc[shop.tickets["customer_id"] == cid]
                                  .reset_index(drop=True))
    oid = int(expected["order_id"].iloc[0])
    lines = store.order_lines(oid)
    assert len(lines) == (shop.order_items["order_id"] == oid).sum()
    assert {"name", "category"} <= set(lines.columns)
    # None matches SQL NULL: orders without a session are the store orders
    no_session = store.rows_of("orders", session_id=None)
    assert len(no_session) == shop.orders["session_id"].isna().sum()


def test_sql_beside_pandas(shop, store):
    sql = store.query(
        "SELECT channel, COUNT(*) AS n_orders, SUM(amount) AS revenue FROM orders "
        "WHERE order_ts >= :start GROUP BY channel ORDER BY channel",
        {"start": "2024-07-01"},
    )
    recent = shop.orders.loc[shop.orders["order_ts"] >= "2024-07-01"]
    pd_ = (recent.groupby("channel", observed=True)
           .agg(n_orders=("order_id", "size"), revenue=("amount", "sum")).reset_index())
    pd_["channel"] = pd_["channel"].astype(str)
    pd_ = pd_.sort_values("channel").reset_index(drop=True)
    assert sql["channel"].tolist() == pd_["channel"].tolist()
    assert sql["n_orders"].tolist() == pd_["n_orders"].tolist()
    np.testing.assert_allclose(sql["revenue"], pd_["revenue"], rtol=1e-12)


def test_query_like_restores_dtypes(store):
    got = store.query('SELECT order_id, order_ts, channel, session_id FROM orders WHERE customer_id = ?', [1],
                      like="orders")
    assert str(got["order_ts"].dtype) == "datetime64[ns]"
    assert isinstance(got["channel"].dtype, pd.CategoricalDtype)
    assert str(got["session_id"].dtype) == "Int64"


def test_sql_in_an_id_is_data_not_sql(core, core_store):
    shop, store = core, core_store
    before = snapshot(store)
    # Bound parameter: the whole string is compared as a value, so nothing matches.
    assert store.query("SELECT * FROM orders WHERE customer_id = ?", [EVIL]).empty
    assert store.query("SELECT * FROM customers WHERE email = ?", ["x' OR '1'='1"]).empty
    # Typed helpers want integer ids and say so.
    for helper in (store.orders_of, store.customer):
        with pytest.raises(ValueError, match="must be an integer id"):
            helper(EVIL)
    with pytest.raises(ValueError, match="must be an integer id"):
        store.rows_of("tickets", customer_id="3' OR '1'='1")
    assert snapshot(store) == before
    assert store.counts()["customers"] == len(shop.customers)


def test_text_with_quotes_and_sql_is_stored_verbatim(core):
    shop = core
    customers = shop.customers.copy()
    evil_email = "o'brien\"; DROP TABLE orders; --@example.com"
    customers["email"] = customers["email"].where(customers["customer_id"] != 1, evil_email)
    with CRMStore() as st:
        st.load(with_table(shop, "customers", customers))
        found = st.rows_of("customers", email=evil_email)
        assert found["customer_id"].tolist() == [1]
        assert st.query("SELECT customer_id FROM customers WHERE email = ?", [evil_email])["customer_id"].tolist() == [1]
        assert st.counts()["orders"] == len(shop.orders)
        pd.testing.assert_frame_equal(st.table("customers"), customers)


def test_query_is_read_only_and_one_statement(core_store):
    store = core_store
    before = snapshot(store)
    for sql in ("DROP TABLE customers", "DELETE FROM orders", "UPDATE orders SET amount = 0",
                "INSERT INTO agents (agent_id) VALUES (999)", "PRAGMA foreign_keys = OFF"):
        with pytest.raises(ValueError, match="query"):
            store.query(sql)
    with pytest.raises(ValueError, match="one"):
        store.query("SELECT 1; DROP TABLE customers")
    with pytest.raises(ValueError, match="params must be"):
        store.query("SELECT * FROM orders WHERE customer_id = ?", "1")
    assert snapshot(store) == before
    assert store.connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_unknown_customer_and_bad_helper_arguments(store):
    with pytest.raises(ValueError, match="customer_id 999999 is not in table 'customers'"):
        store.customer(999999)
    assert store.orders_of(999999).empty
    with pytest.raises(ValueError, match="has no column 'nope'"):
        store.rows_of("orders", nope=1)
    with pytest.raises(ValueError, match="unknown table"):
        store.table("ordres")
