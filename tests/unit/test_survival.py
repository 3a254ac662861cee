"""Tests for crmlab.survival (Kaplan–Meier).

Known answer: the 6-MP arm of the Freireich et al. (1963) leukaemia remission trial, the
textbook Kaplan–Meier example (Klein & Moeschberger, "Survival Analysis", 2nd ed. 2003,
Table 4.1A; also Kleinbaum & Klein, "Survival Analysis: A Self-Learning Text"): 21
patients, remission times in weeks, "+" = censored. Printed estimates S(t) and Greenwood
standard errors at the event times are asserted to the printed 3-4 decimals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab.survival import kaplan_meier, km_quantiles, median_survival, survival_quantile

# 6, 6, 6, 6+, 7, 9+, 10, 10+, 11+, 13, 16, 17+, 19+, 20+, 22, 23, 25+, 32+, 32+, 34+, 35+
SIX_MP_TIMES = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
SIX_MP_EVENT = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
# time: (S(t), Greenwood s.e.) as printed
PRINTED = {
    6: (0.857, 0.0764),
    7: (0.807, 0.0869),
    10: (0.753, 0.0963),
    13: (0.690, 0.1068),
    16: (0.627, 0.1141),
    22: (0.538, 0.1282),
    23: (0.448, 0.1346),
}


def test_kaplan_meier_textbook_six_mp():
    km = kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENT).set_index("time")
    for t, (s, se) in PRINTED.items():
        assert round(km.loc[t, "survival"], 3) == s, t
        assert round(km.loc[t, "se"], 4) == se, t
    # risk sets: 21 at week 6, 17 at week 7 (three events and one censoring at 6)
    assert km.loc[6, "at_risk"] == 21 and km.loc[6, "events"] == 3 and km.loc[6, "censored"] == 1
    assert km.loc[7, "at_risk"] == 17
    # censored-only times keep S flat
    assert km.loc[9, "survival"] == km.loc[7, "survival"]
    assert km.loc[0, "survival"] == 1.0
    assert median_survival(km.reset_index()) == 23.0
    # the confidence band contains the estimate and stays inside [0, 1]
    assert ((km["lower"] <= km["survival"]) & (km["survival"] <= km["upper"])).all()
    assert km["lower"].min() >= 0 and km["upper"].max() <= 1


def test_kaplan_meier_without_censoring_is_the_empirical_survival():
    t = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    km = kaplan_meier(t).set_index("time")
    for time in np.unique(t):
        assert km.loc[time, "survival"] == pytest.approx((t > time).mean())
    assert median_survival(km.reset_index()) == 3.0  # S(3) = 4/8


def test_median_is_infinite_when_most_survive():
    km = kaplan_meier([1, 2, 3, 4], [1, 0, 0, 0])
    assert median_survival(km) == float("inf")


@pytest.mark.parametrize(
    "durations, events, match",
    [
        ([], None, "empty"),
        ([1.0, -2.0], None, "negative"),
        ([1.0, np.nan], None, "missing"),
        ([1.0, 2.0], [1, 2], "0/1"),
        ([1.0, 2.0], [1], "one event flag per duration"),
        (["a", "b"], None, "numeric"),
    ],
)
def test_kaplan_meier_bad_input(durations, events, match):
    with pytest.raises(ValueError, match=match):
        kaplan_meier(durations, events)


def test_median_survival_needs_a_km_table():
    with pytest.raises(ValueError, match="kaplan_meier"):
        median_survival(pd.DataFrame({"t": [1]}))


def test_survival_quantiles_read_off_the_six_mp_curve():
    # From the printed table: S drops to 0.857 at week 6 (the 10th percentile of time to
    # relapse is 6), to 0.753 at 10 (25th: S <= 0.75 first at 13, 0.690), to 0.448 at 23
    # (the median); it never falls to 0.1 (90th percentile not reached: inf).
    km = kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENT)
    assert survival_quantile(km, 0.1) == 6.0
    assert survival_quantile(km, 0.25) == 13.0
    assert survival_quantile(km, 0.5) == median_survival(km) == 23.0
    assert survival_quantile(km, 0.9) == float("inf")
    assert km_quantiles(SIX_MP_TIMES, SIX_MP_EVENT, (0.25, 0.5, 0.9)) == [13.0, 23.0, float("inf")]


def test_km_quantiles_tolerate_rounding_and_empty_groups():
    # Ten uncensored durations 1..10: S(9) = 0.1 exactly in theory, 1 - 0.9 = 0.0999... in floats;
    # the 90th percentile is still 9.
    assert km_quantiles(np.arange(1, 11), np.ones(10, bool), (0.5, 0.9)) == [5.0, 9.0]
    # No durations at all: no quantile (NaN), not an infinitely long one.
    assert all(np.isnan(km_quantiles([], [], (0.5, 0.9))))
    with pytest.raises(ValueError, match="q=1.5 must be between 0 and 1"):
        survival_quantile(kaplan_meier([1, 2], [1, 1]), 1.5)
