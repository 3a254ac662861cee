"""Who may see which fields, retention and consent (issue 24 item 10), on hand-made tables."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab import profile as P


def customers():
    return pd.DataFrame({
        "customer_id": [1, 2, 3],
        "signup_ts": pd.to_datetime(["2020-01-01", "2024-06-01", "2021-01-01"]),
        "email": ["alice@example.com", "bob@shop.tw", None],
        "city": ["Taipei", "Tainan", "Hsinchu"],
        "marketing_opt_in": pd.array([True, False, pd.NA], dtype="boolean"),
    })


def test_roles_see_what_the_policy_says():
    policy = {"agent": {"customer_id": "show", "email": "mask"}, "dpo": {}}
    agent = P.view_for_role(customers(), "agent", policy)
    assert list(agent.columns) == ["customer_id", "email"]  # city and signup: not listed -> hidden
    assert agent["email"].tolist()[:2] == ["a***@example.com", "b***@shop.tw"]
    assert P.view_for_role(customers(), "dpo", policy).equals(customers())
    with pytest.raises(ValueError, match="unknown role"):
        P.view_for_role(customers(), "intern", policy)
    with pytest.raises(ValueError, match="show, mask or hide"):
        P.view_for_role(customers(), "agent", {"agent": {"email": "blur"}})


def test_default_policy_hides_contact_fields_from_analysts():
    view = P.view_for_role(customers(), "analyst")
    assert "email" not in view.columns and "city" not in view.columns


def test_retention_counts_from_the_last_activity():
    orders = pd.DataFrame({"customer_id": [3], "order_ts": pd.to_datetime(["2024-12-01"])})
    due = P.retention_due(customers(), orders, as_of="2025-01-01", keep_days=365)
    # 1: signed up 2020, never ordered -> due; 2: signed up 2024-06; 3: ordered 2024-12 -> kept
    assert due["customer_id"].tolist() == [1]
    assert due["days_inactive"].tolist() == [(pd.Timestamp("2025-01-01") - pd.Timestamp("2020-01-01")).days]


def test_consent_is_per_purpose_and_missing_means_no():
    assert P.consent_filter(customers())["customer_id"].tolist() == [1]
    with pytest.raises(ValueError, match="purpose"):
        P.consent_filter(customers(), "profiling")
