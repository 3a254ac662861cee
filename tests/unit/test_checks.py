"""Tests for crmlab._checks: the input checks every unit module shares.

Each error must name the table, the column and the fix (DEVELOPERS.md, "Bad input gets a
clear error"), and the same mistake must read the same in every unit; the last test calls
public functions of four units with the same bad input and compares their messages.
"""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab import _checks


def test_as_frame_names_the_table_and_the_fix():
    frame = pd.DataFrame({"a": [1]})
    assert _checks.as_frame(frame, "orders") is frame
    with pytest.raises(ValueError, match=r"^rfm_table: orders must be a pandas DataFrame, got list; pass e.g. shop.orders\.$"):
        _checks.as_frame([1, 2], "orders", func="rfm_table")


def test_require_columns_lists_missing_and_present_and_the_argument_to_pass():
    frame = pd.DataFrame({"customer_id": [1], "ts": [pd.Timestamp("2025-01-01")]})
    assert _checks.require_columns(frame, "orders", ["customer_id"]) is frame
    with pytest.raises(ValueError, match=r"orders: column\(s\) \['amount'\] not found \(it has \['customer_id', 'ts'\]\)\. Rename"):
        _checks.require_columns(frame, "orders", ["customer_id", "amount"])
    with pytest.raises(ValueError, match=r"pass amount_col= naming them"):
        _checks.require_columns(frame, "orders", {"customer_id": "customer_col", "amount": "amount_col"})
    with pytest.raises(ValueError, match=r"not found .*\. Use ticket_metrics\(\)\.$"):
        _checks.require_columns(frame, "metrics", ["fcr"], "Use ticket_metrics().")


def test_datetime_column_rejects_strings_time_zones_and_missing_times():
    frame = pd.DataFrame({"ts": pd.to_datetime(["2025-01-01", "2025-01-02"]).as_unit("s")})
    out = _checks.datetime_column(frame, "events", "ts")
    assert out.dtype == "datetime64[ns]" and out.iloc[1] == pd.Timestamp("2025-01-02")
    with pytest.raises(ValueError, match=r"events: column 'ts' has dtype .*, not datetime; convert it with "
                                         r"events\['ts'\] = pd.to_datetime\(events\['ts'\]\)"):
        _checks.datetime_column(frame.astype({"ts": "str"}), "events", "ts")
    with pytest.raises(ValueError, match="time-zone aware.*tz_localize"):
        _checks.datetime_column(frame.assign(ts=frame["ts"].dt.tz_localize("UTC")), "events", "ts")
    with_nat = pd.DataFrame({"ts": pd.to_datetime(["2025-01-01", None])})
    with pytest.raises(ValueError, match=r"events: column 'ts' has 1 missing timestamps \(NaT\).*dropna"):
        _checks.datetime_column(with_nat, "events", "ts")
    assert _checks.datetime_column(with_nat, "events", "ts", allow_missing=True).isna().sum() == 1
    # A column that is entirely missing may be of any dtype when missing values are allowed.
    all_missing = pd.DataFrame({"ts": [None, None]})
    assert _checks.datetime_column(all_missing, "returns", "ts", allow_missing=True).isna().all()


@pytest.mark.parametrize(("value", "match"), [
    ("soon", r"as_of='soon' is not a date"),
    (None, r"as_of is missing \(NaT\)"),
    (pd.Timestamp("2025-01-01", tz="UTC"), "time-zone aware"),
])
def test_as_timestamp_says_what_to_pass(value, match):
    assert _checks.as_timestamp("2025-06-30", "as_of") == pd.Timestamp("2025-06-30")
    with pytest.raises(ValueError, match=match):
        _checks.as_timestamp(value, "as_of")


def test_z_for_level_and_as_list():
    assert _checks.z_for_level(0.95) == pytest.approx(1.959963985, abs=1e-9)  # the textbook 1.96
    for bad in (0, 1, 1.5, "high", True):
        with pytest.raises(ValueError, match="must be between 0 and 1"):
            _checks.z_for_level(bad)
    assert _checks.as_list(None) == [] and _checks.as_list("a") == ["a"] and _checks.as_list(("a", "b")) == ["a", "b"]


def test_every_unit_words_a_missing_column_the_same_way():
    from crmlab import aftersales, feedback, journey, support

    empty = pd.DataFrame({"x": [1]})
    calls = [
        lambda: journey.sessionize(empty),
        lambda: support.ticket_metrics(empty),
        lambda: aftersales.return_rates(empty, empty),
        lambda: feedback.rating_summary(empty),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=r"^\w+: column\(s\) \[.*\] not found \(it has \['x'\]\)\. "):
            call()
