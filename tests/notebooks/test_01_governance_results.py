"""Recorded results of notebooks/01_data_governance_and_omnichannel.ipynb executed at the test
parameters (DATA="tiny"), checked against the simulator's planted channel mix and the shop's
access policy."""

from __future__ import annotations

import pytest

from crmlab import profile
from crmlab.nb import read_claims, read_results

NAME = "01_data_governance_and_omnichannel"


@pytest.fixture(scope="module")
def results(executed_notebook):
    return read_results(executed_notebook(NAME))


def test_omnichannel_count_matches_the_planted_channel_mix(results):
    # planted: each order's channel is drawn from the member's segment's mix
    # (crmlab.data.simulate.SEGMENT_CHANNEL), independently, so the number of members who
    # used both channels is a sum of Bernoulli(1 - p^n - (1-p)^n); within 3 standard errors
    gap = results["n_omnichannel"] - results["expected_omnichannel"]
    assert abs(gap) < 3 * results["expected_omnichannel_se"], (gap, results["expected_omnichannel_se"])
    kinds = results["kind_counts"]
    assert set(kinds) <= set(profile.CHANNEL_KINDS)
    assert sum(kinds.values()) == results["n_members_with_orders"]
    assert kinds.get("omnichannel", 0) == results["n_omnichannel"]


def test_role_sees_exactly_its_policy(results):
    # profile.FIELD_ACCESS: shown and masked fields are kept, hidden and unlisted ones dropped
    rules = profile.FIELD_ACCESS[results["role"]]
    assert results["role_columns"]
    assert all(rules.get(c, "hide") in ("show", "mask") for c in results["role_columns"])
    assert "email" not in results["role_columns"] or rules["email"] == "mask"


def test_retention_and_consent(results):
    if results["n_retention_due"]:
        assert results["min_days_inactive_due"] > results["keep_days"]
    # consent: exactly the members who opted in (a missing answer is no)
    assert results["n_consented"] == results["n_opt_in"]


def test_readings_are_rendered(results, executed_notebook):
    names = {c["name"] for c in read_claims(executed_notebook(NAME))}
    assert {"omnichannel_by_order_count", "omnichannel_like_with_like", "leak_assessment"} <= names
