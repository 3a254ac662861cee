"""The input contract (issue 25): bad input never gives a silently wrong answer.

One test per finding of the issue; each failed before the contract layer
(crmlab._checks.reads / check_table, driven by crmlab.data.schema) and passes now. The
expected numbers are worked out by hand from the small frames below. The last tests walk
every public function that takes a shop table and find its declared contract.
"""

from __future__ import annotations

import inspect
import json
import os
import sqlite3
import stat

import numpy as np
import pandas as pd
import pytest

from crmlab import _checks, clv, kpi, offers, profile, rfm, segments, support, survival
from crmlab.data import CRMStore, get_shop, read_cdnow, read_online_retail, save_shop, validate
from crmlab.data.schema import TABLE_ALIASES, TABLES

T = pd.Timestamp
Q = ("2024-01-01", "2025-01-01")  # one period holding every order below


def orders() -> pd.DataFrame:
    """Four orders of three customers in 2024 (revenue 100 + 200 + 300 + 400 = 1,000)."""
    return pd.DataFrame({
        "order_id": [1, 2, 3, 4],
        "customer_id": [1, 1, 2, 3],
        "order_ts": [T("2024-01-10"), T("2024-03-05"), T("2024-05-01"), T("2024-06-20")],
        "amount": [100.0, 200.0, 300.0, 400.0],
    })


def doubled(df: pd.DataFrame, rows: list[int]) -> pd.DataFrame:
    """``df`` with ``rows`` exported twice (the same keys again)."""
    return pd.concat([df, df.iloc[rows]], ignore_index=True)


# ---------------------------------------------------------------------------- 1. duplicates

DUPLICATE = r"orders: 1 extra row\(s\) with duplicated ids in key \['order_id'\]"


@pytest.mark.parametrize("call", [
    lambda o: rfm.rfm_table(o),
    lambda o: rfm.customer_value(o),
    lambda o: kpi.revenue(o, *Q),
    lambda o: kpi.average_order_value(o, *Q),
    lambda o: profile.assign_tiers(o, "2025-01-01"),
], ids=["rfm_table", "customer_value", "revenue", "average_order_value", "assign_tiers"])
def test_a_repeated_order_is_an_error_not_counted_twice(call):
    assert kpi.revenue(orders(), *Q) == 1000.0  # the clean answer, by hand
    with pytest.raises(ValueError, match=DUPLICATE):
        call(doubled(orders(), [3]))  # before: revenue 1,400, order 4 counted twice


def test_customer_features_refuses_repeated_orders_and_members():
    customers = pd.DataFrame({"customer_id": [1, 2, 3], "signup_ts": [T("2023-12-01")] * 3})
    assert segments.customer_features(customers, orders())["frequency"].tolist() == [2.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="customer_features: " + DUPLICATE):
        segments.customer_features(customers, doubled(orders(), [0]))
    with pytest.raises(ValueError, match=r"customers: 1 extra row\(s\) with duplicated ids in key \['customer_id'\]"):
        segments.customer_features(doubled(customers, [1]), orders())


def test_ab_test_refuses_a_contact_listed_twice():
    # 10 treated (4 converted) and 10 holdout (1 converted) contacts of campaign 7
    contacts = pd.DataFrame({
        "campaign_id": 7, "customer_id": range(1, 21),
        "group": ["treatment"] * 10 + ["holdout"] * 10,
        "converted": [True] * 4 + [False] * 6 + [True] + [False] * 9,
        "revenue": 0.0,
    })
    read = offers.ab_test(contacts)
    assert (read["n_treatment"].iloc[0], read["n_control"].iloc[0]) == (10, 10)
    twice = pd.concat([contacts, contacts], ignore_index=True)  # before: n doubled, p halved
    with pytest.raises(ValueError, match=r"ab_test: campaign_contacts: 20 extra row\(s\) with "
                                         r"duplicated keys in key \['campaign_id', 'customer_id'\]"):
        offers.ab_test(twice)


# ------------------------------------------------------------- 2. amounts: NaN, negative, inf

@pytest.mark.parametrize(("value", "match"), [
    (np.nan, r"revenue: orders\.amount has 1 missing values"),
    (-50.0, r"revenue: orders\.amount has 1 negative amounts below the minimum 0.*returns="),
    (np.inf, r"revenue: orders\.amount has 1 infinite values"),
])
def test_revenue_refuses_missing_negative_and_infinite_amounts(value, match):
    bad = orders().assign(amount=[100.0, 200.0, 300.0, value])
    with pytest.raises(ValueError, match=match):  # before: 600, 550 and inf
        kpi.revenue(bad, *Q)
    with pytest.raises(ValueError, match=match.replace("revenue", "average_order_value")):
        kpi.average_order_value(bad, *Q)


# ----------------------------------------------------------------------------- 3. readers

def test_online_retail_reports_fractions_overflows_and_infinite_prices(tmp_path):
    head = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
    rows = [
        "1,A,a,2,2010-12-01 08:00,1.50,100,UK",                        # kept
        "2,A,a,1.7,2010-12-01 09:00,1.50,100,UK",                      # fractional quantity
        "3,A,a,99999999999999999999,2010-12-01 10:00,1.50,100,UK",     # wraps negative in int64
        "4,A,a,1,2010-12-01 11:00,1e400,100,UK",                       # price overflows to inf
        "5,A,a,1,2010-12-01 12:00,1.50,100.5,UK",                      # id not whole
    ]
    path = tmp_path / "retail.csv"
    path.write_text(head + "\n".join(rows) + "\n")
    shop = read_online_retail(path)
    rep = shop.report.set_index("step")["rows"]
    assert rep["fractional quantity (not a whole number of units; never truncated)"] == 1
    assert rep["quantity above 1,000,000,000 or infinite (overflow in the export)"] == 1
    assert rep["infinite price (overflow in the export)"] == 1
    assert rep["customer id not a whole positive number"] == 1
    assert rep["rows kept"] == 1 and rep["rows read"] == 5
    assert shop.orders["amount"].tolist() == [3.0]  # 2 x 1.50; nothing truncated to 1 unit


def test_cdnow_reports_ids_that_are_not_whole_positive_numbers(tmp_path):
    path = tmp_path / "cdnow.txt"
    path.write_text("1 19970101 1 10.00\n1.5 19970102 1 10.00\n-5 19970103 1 10.00\n"
                    "2 19970104 1 1e400\n")
    shop = read_cdnow(path)
    rep = shop.report.set_index("step")["rows"]
    assert rep["customer id not a whole positive number (e.g. '1.5', '-5')"] == 2  # before: kept
    assert rep["infinite amount (overflow in the export)"] == 1
    assert shop.orders["customer_id"].tolist() == [1]


# -------------------------------------------------------------- 4. numbers and words as types

def test_summarize_refuses_epoch_integers_as_dates():
    epoch = orders().assign(order_ts=orders()["order_ts"].astype("int64") // 10**9)
    with pytest.raises(ValueError, match=r"summarize: transactions: column 'order_ts' has dtype "
                                         r"int64, not datetime \(numbers are not dates.*unit='s'"):
        clv.summarize(epoch)  # before: frequency, recency and T all 0


def test_open_rate_refuses_yes_no_strings():
    campaigns = pd.DataFrame({"campaign_id": [1], "send_ts": [T("2024-03-01")]})
    contacts = pd.DataFrame({"campaign_id": 1, "customer_id": [1, 2, 3, 4],
                             "group": "treatment", "sent": True,
                             "opened": [True, False, False, False]})
    assert kpi.open_rate(contacts, campaigns, *Q) == 0.25
    words = contacts.assign(opened=["yes", "no", "no", "no"])
    with pytest.raises(ValueError, match=r"open_rate: campaign_contacts\.opened must be boolean.*"
                                         r"'yes'/'no' is not a boolean"):
        kpi.open_rate(words, campaigns, *Q)  # before: 1.0 ("no" is a true string)


# --------------------------------------------------------------------- 5. far-future dates

def test_a_far_future_order_is_refused_not_used_as_the_snapshot():
    typo = orders().assign(order_ts=[T("2024-01-10"), T("2024-03-05"), T("2024-05-01"), T("2099-06-20")])
    assert rfm.rfm_table(orders())["recency"].tolist() == [108, 51, 1]  # snapshot 2024-06-21
    with pytest.raises(ValueError, match=r"rfm_table: orders\.order_ts has 1 date\(s\) after .* "
                                         r"\(up to 2099-06-20 00:00:00\).*typo"):
        rfm.rfm_table(typo)  # before: snapshot 2099-06-21, recencies of ~27,000 days
    from crmlab import journey
    customers = pd.DataFrame({"customer_id": [1, 2, 3], "signup_ts": [T("2024-01-01")] * 3})
    with pytest.raises(ValueError, match=r"activity\.order_ts has 1 date\(s\) after"):
        journey.cohort_table(customers, typo)  # before: 10,746 cohort rows instead of 78


# ------------------------------------------------------------------- 6. a missing table

def test_get_shop_names_a_referenced_table_that_is_missing(tmp_path):
    shop = get_shop("small")
    folder = save_shop(shop, tmp_path / "shop")
    (folder / "orders.parquet").unlink()
    with pytest.raises(ValueError, match=r"(?s)get_shop\(\).*table 'order_items', column 'order_id' "
                                         r"references orders\.order_id, but the shop has no 'orders' table"):
        get_shop(folder)  # before: loaded without a word
    tables = {k: v for k, v in shop.tables.items() if k != "orders"}
    with pytest.raises(ValueError, match="no 'orders' table"):
        validate(type(shop)(tables=tables, truth={}, config={}))  # before: passed


# ------------------------------------------------------------------ 7. time-zone aware

@pytest.mark.parametrize("call", [
    lambda o: rfm.rfm_table(o),
    lambda o: clv.summarize(o),
    lambda o: segments.customer_features(
        pd.DataFrame({"customer_id": [1, 2, 3], "signup_ts": [T("2023-12-01")] * 3}), o),
    lambda o: kpi.revenue(o, *Q),
], ids=["rfm_table", "summarize", "customer_features", "revenue"])
def test_time_zone_aware_timestamps_are_refused_everywhere(call):
    aware = orders().assign(order_ts=orders()["order_ts"].dt.tz_localize("UTC"))
    with pytest.raises(ValueError, match=r"orders?|transactions"):
        call(aware)
    with pytest.raises(ValueError, match=r"column 'order_ts' is time-zone aware.*tz_localize\(None\)"):
        call(aware)


# ------------------------------------------------------------ 8. broadcasting and units

def test_business_seconds_refuses_broadcasting_and_ends_before_starts():
    monday = T("2024-03-04 10:00")
    start = [monday, monday + pd.Timedelta(hours=1)]
    assert support.business_seconds(start, [monday + pd.Timedelta(hours=2)] * 2).tolist() == [7200.0, 3600.0]
    with pytest.raises(ValueError, match=r"business_seconds: the arrays must have the same length "
                                         r"\(start has 2, end has 1\)"):
        support.business_seconds(start, [monday + pd.Timedelta(hours=2)])
    with pytest.raises(ValueError, match=r"business_seconds: 1 end\(s\) before their start"):
        support.business_seconds([monday], [monday - pd.Timedelta(hours=1)])  # before: -3600


def test_kaplan_meier_refuses_timedeltas():
    days = pd.Series(pd.to_timedelta([1, 2, 3], unit="D"))
    assert survival.kaplan_meier(days / pd.Timedelta(days=1))["time"].tolist() == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match=r"holds timedeltas.*pd\.Timedelta\(days=1\)"):
        survival.kaplan_meier(days)  # before: times in nanoseconds (8.64e13 ...)


# --------------------------------------------------------------- 9. absurd parameters

class _OnePurchasePerPeriod:
    """A transaction model stub: E[purchases by t] = t for every customer."""

    def predict_purchases(self, t, summary):
        return pd.Series(float(t), index=summary.index)


def test_clv_refuses_a_negative_or_huge_discount_rate():
    summary = pd.DataFrame({"frequency": [1]}, index=[1])
    # closed form: 2 steps of 1 purchase x NT$100, discounted by 1.1 and 1.1^2
    got = clv.clv(_OnePurchasePerPeriod(), [100.0], summary, horizon=2, discount_rate=0.1)
    assert got.iloc[0] == pytest.approx(100 / 1.1 + 100 / 1.21)
    for rate in (-0.5, 10.0, float("nan")):
        with pytest.raises(ValueError, match=r"clv: discount_rate=.* must be a number >= 0 and <= 1"):
            clv.clv(_OnePurchasePerPeriod(), [100.0], summary, horizon=2, discount_rate=rate)


def test_pseudonymize_refuses_tokens_short_enough_to_collide():
    df = pd.DataFrame({"customer_id": range(1000)})
    salt = "0123456789abcdef"
    assert profile.pseudonymize(df, ["customer_id"], salt, length=16)["customer_id"].nunique() == 1000
    with pytest.raises(ValueError, match=r"pseudonymize: length=2 must be an integer >= 16"):
        profile.pseudonymize(df, ["customer_id"], salt, length=2)  # 256 tokens for 1000 ids


@pytest.mark.parametrize(("amount", "match"), [
    (np.nan, r"orders\.amount has 1 missing values"),
    (np.inf, r"orders\.amount has 1 infinite values"),
    (-1.0, r"orders\.amount has 1 negative amounts"),
])
def test_assign_tiers_refuses_bad_amounts_and_thresholds(amount, match):
    with pytest.raises(ValueError, match="assign_tiers: " + match):
        profile.assign_tiers(orders().assign(amount=[100.0, 200.0, 300.0, amount]), "2025-01-01")
    with pytest.raises(ValueError, match=r"thresholds\['silver'\]=-5 must be a number > 0"):
        profile.assign_tiers(orders(), "2025-01-01", thresholds={"silver": -5})


def leads() -> pd.DataFrame:
    nat = pd.NaT
    return pd.DataFrame({
        "lead_id": [1, 2], "created_ts": [T("2024-01-01"), T("2024-02-01")], "owner": ["Lin", "Wu"],
        "value": [1000.0, 2000.0], "stage": ["contacted", "new"],
        "contacted_ts": [T("2024-01-05"), nat], "qualified_ts": [nat, nat], "proposal_ts": [nat, nat],
        "negotiation_ts": [nat, nat], "closed_ts": [nat, nat],
    })


@pytest.mark.parametrize(("mutate", "match"), [
    (lambda d: d.assign(value=[np.nan, 2000.0]), r"leads\.value has 1 missing values"),
    (lambda d: d.assign(value=[np.inf, 2000.0]), r"leads\.value has 1 infinite values"),
    (lambda d: d.assign(value=[-1.0, 2000.0]), r"leads\.value has 1 negative amounts"),
    (lambda d: d.assign(lead_id=[1, 1]), r"leads: 1 extra row\(s\) with duplicated ids in key \['lead_id'\]"),
])
def test_lead_snapshot_refuses_bad_values_and_repeated_leads(mutate, match):
    assert profile.lead_snapshot(leads())["reached"].tolist() == ["contacted", "new"]
    with pytest.raises(ValueError, match="lead_snapshot: " + match):
        profile.lead_snapshot(mutate(leads()))


def test_a_refund_larger_than_the_order_is_refused():
    returns = pd.DataFrame({"order_id": [4], "refund_amount": [400.0]})
    assert rfm.rfm_table(orders(), returns=returns)["monetary"].tolist() == [300.0, 300.0, 0.0]
    with pytest.raises(ValueError, match=r"rfm_table: returns refund more than was paid for 1 order"):
        rfm.rfm_table(orders(), returns=returns.assign(refund_amount=4000.0))  # before: -3,600


# ------------------------------------------------------------------------------ 10. CLI

def test_cli_user_errors_are_one_line_with_exit_code_2(tmp_path, capsys):
    from crmlab.course import cli

    bad_yaml = tmp_path / "course.yaml"
    bad_yaml.write_text("SEED: [7\n")
    binary = tmp_path / "course.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    a_file = tmp_path / "out.txt"
    a_file.write_text("not a folder")
    cases = [
        (["build", "--config", str(bad_yaml)], r"--config .*course\.yaml: YAML syntax error at line 2"),
        (["build", "--config", str(binary)], r"--config .*course\.bin is not a text file"),
        (["build", "--out", str(a_file)], r"--out .*out\.txt is a file, not a folder"),
        (["data", "export", "--format", "csv", "--out", str(a_file)], r"--out .*out\.txt is a file"),
    ]
    for argv, match in cases:
        assert cli.main(argv) == 2, argv  # before: tracebacks (or exit code 1)
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert pytest.importorskip("re").search(match, err), err


def test_a_failed_build_does_not_leave_the_old_manifest_as_its_result(tmp_path, make_notebook):
    from crmlab.course import cli

    nbdir = tmp_path / "notebooks"
    make_notebook(nbdir / "01_a.ipynb", "SEED = 1", "SEED + 1")
    out = tmp_path / "build"
    assert cli.main(["build", "--notebooks", str(nbdir), "--out", str(out), "-q"]) == 0
    assert (out / "manifest.json").is_file() and not (out / cli.FAILED_MARK).exists()
    make_notebook(nbdir / "01_a.ipynb", "SEED = 1", "undefined_name")
    assert cli.main(["build", "--notebooks", str(nbdir), "--out", str(out), "-q"]) == 1
    assert not (out / "manifest.json").exists()  # before: the old one, next to the failed notebook
    assert json.loads((out / "manifest.previous.json").read_text())["notebooks"]["01_a"]
    assert "NameError" in (out / cli.FAILED_MARK).read_text()


# ---------------------------------------------------------------------------- 12. store

def test_store_file_is_private_and_refuses_inf_and_far_future_values(tmp_path):
    path = tmp_path / "crm.sqlite"
    with CRMStore(path) as st:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # before: 0644 under umask 022
        con = st.connection
        ddl_ok = ("INSERT INTO agents (agent_id, name, team, skills, shift, hire_date) "
                  "VALUES (1, 'A', 'frontline', 'delivery', 'day', ?)")
        con.execute(ddl_ok, ("2024-01-01 00:00:00",))
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            con.execute(ddl_ok.replace("VALUES (1", "VALUES (2"), ("2099-01-01 00:00:00",))
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            con.execute("INSERT INTO products (product_id, name, category, brand, list_price, unit_cost, "
                        "launch_date, quality) VALUES (1, 'p', 'books', 'b', 1e999, 1.0, "
                        "'2024-01-01 00:00:00', 0.5)")


def test_store_can_load_contact_fields_as_keyed_tokens():
    import hashlib
    import hmac

    customers = get_shop("small").customers.head(3)
    salt = "0123456789abcdef0123"
    with CRMStore() as st:
        st.load({"customers": customers.assign(referred_by=pd.array([None] * 3, dtype="Int64"))}, salt=salt)
        stored = st.table("customers")["email"].tolist()
    # the token is HMAC-SHA256(salt, address) in hex (RFC 2104), computed here by hand
    first = customers["email"].iloc[0]
    assert stored[0] == hmac.new(salt.encode(), first.encode(), hashlib.sha256).hexdigest()
    assert "@" not in "".join(stored)
    with CRMStore() as st, pytest.raises(ValueError, match="at least 16 bytes"):
        st.load({"customers": customers}, salt="short")


def test_store_errors_name_the_file_and_the_fix(tmp_path):
    with pytest.raises(ValueError, match=r"CRMStore\(\): .* is a folder, not a database file"):
        CRMStore(tmp_path)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ValueError, match=r"is not an SQLite database"):
        CRMStore(junk)
    path = tmp_path / "crm.sqlite"
    CRMStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program writing
    try:
        with CRMStore(path, timeout=0.1) as st:
            with pytest.raises(ValueError, match=r"is locked by another connection \(waited 0.1 s\).*timeout="):
                st.load({"agents": pd.DataFrame()})
    except ValueError as exc:  # the lock may already stop the schema check on opening
        assert "is locked by another connection" in str(exc)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


# --------------------------------------------------------- every function declares a contract

def _public_functions():
    import importlib

    modules = ["rfm", "kpi", "clv", "offers", "profile", "segments", "support", "survival",
               "journey", "recommend", "basket", "aftersales", "feedback", "pricing"]
    for name in modules:
        mod = importlib.import_module(f"crmlab.{name}")
        for attr in getattr(mod, "__all__", []):
            fn = getattr(mod, attr, None)
            if inspect.isfunction(fn):
                yield f"{name}.{attr}", fn


def shop_table_arguments(fn) -> list[str]:
    """The arguments of ``fn`` named like a shop table (or its alias)."""
    params = inspect.signature(fn).parameters
    return [p for p in params if p in TABLES or p in TABLE_ALIASES]


def test_declared_contracts_name_real_arguments_tables_and_columns():
    declared = {name: _checks.contract_of(fn) for name, fn in _public_functions()}
    declared = {k: v for k, v in declared.items() if v}
    assert len(declared) >= 60
    for name, contract in declared.items():
        for spec in contract.values():
            assert spec.table in TABLES, name
            for col in spec.columns:
                TABLES[spec.table].column(col)


def test_every_public_function_taking_a_shop_table_declares_its_contract():
    functions = dict(_public_functions())
    missing = [name for name, fn in functions.items()
               if shop_table_arguments(fn) and not _checks.contract_of(fn)
               and name not in UNDECLARED]
    assert missing == [], f"declare @reads(...) on {missing}"
    # the exemptions stay true: each names a function whose table-like argument is not a table
    for name in UNDECLARED:
        assert name in functions and shop_table_arguments(functions[name]), name
        assert not _checks.contract_of(functions[name]), name


def test_the_declaration_checks_before_the_body_runs():
    calls = []

    @_checks.reads(orders="customer_id amount")
    def total(orders, amount_col="amount"):
        calls.append(1)
        return float(orders[amount_col].sum())

    assert total(orders()) == 1000.0
    with pytest.raises(ValueError, match=r"^total: orders\.amount must be numeric"):
        total(orders().assign(amount="1"))
    assert calls == [1]  # the body never saw the bad table
    with pytest.raises(TypeError, match="has no argument 'customers'"):
        _checks.reads(customers="customer_id")(lambda orders: None)
    with pytest.raises(KeyError):
        _checks.reads(orders="shoe_size")(lambda orders: None)


#: Functions with a table-named argument that is not a shop table, with the reason.
UNDECLARED: dict[str, str] = {
    **{f"support.{name}": "agents is a head count (an integer), not the agents table"
       for name in ("erlang_b", "erlang_c", "service_level", "average_speed_of_answer",
                    "asa_allen_cunneen", "simulate_queue")},
    **{f"support.{name}": "calls is a number of calls per period, not the calls table"
       for name in ("staffing_table", "agents_needed", "staffing_what_if")},
    **{f"survival.{name}": "events are 0/1 event flags beside durations, not the events table"
       for name in ("kaplan_meier", "km_quantiles")},
}


def test_a_report_checks_each_table_once(monkeypatch):
    seen = []
    real = _checks._check_column
    monkeypatch.setattr(_checks, "_check_column",
                        lambda frame, table, col, name, func: (seen.append(name), real(frame, table, col, name, func)))
    o = orders()
    kpi.revenue(o, *Q)
    kpi.revenue(o, *Q)
    assert seen.count("amount") == 2  # outside a report: every call checks
    seen.clear()
    with _checks.trusting():
        kpi.revenue(o, *Q)
        kpi.revenue(o, *Q)
        kpi.revenue(o.copy(), *Q)  # another frame is checked again
    assert seen.count("amount") == 2
