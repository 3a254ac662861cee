"""Online customer service (網路客服) and smart service (智能客服), issue 24 items 4 and 5:
crmlab.support's response standards, service-script scoring, inquiry-to-order conversion,
the intent classifier and FAQ bot trade-off, and social mentions that need a reply.

Every expected number below is worked out by hand in the comments next to it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab import support as S

T = pd.Timestamp


# --------------------------------------------------------------------------------------
# first response per channel against the standards
# --------------------------------------------------------------------------------------


def _frt_tickets() -> pd.DataFrame:
    end = T("2024-03-10 12:00:00")
    rows = [
        # chat (target 60 s): 45 s met; 120 s missed; unanswered 30 s before the end -> pending
        ("chat", T("2024-03-01 10:00:00"), T("2024-03-01 10:00:45")),
        ("chat", T("2024-03-01 10:00:00"), T("2024-03-01 10:02:00")),
        ("chat", end - pd.Timedelta(seconds=30), pd.NaT),
        # email (target 24 h): 12 h met; 30 h missed; unanswered for 48 h at the end -> missed
        ("email", T("2024-03-01 09:00:00"), T("2024-03-01 21:00:00")),
        ("email", T("2024-03-02 09:00:00"), T("2024-03-03 15:00:00")),
        ("email", end - pd.Timedelta(hours=48), pd.NaT),
    ]
    df = pd.DataFrame(rows, columns=["channel", "created_ts", "first_response_ts"])
    return df.astype({"first_response_ts": "datetime64[ns]"})


def test_first_response_standards_hand_worked():
    out = S.first_response_standards(_frt_tickets(), end="2024-03-10 12:00:00").set_index("channel")
    # only channels with tickets, in the standards' order
    assert list(out.index) == ["chat", "email"]
    chat, email = out.loc["chat"], out.loc["email"]
    assert (chat["unit"], chat["target"]) == ("seconds", 60.0)
    assert (chat["tickets"], chat["answered"], chat["pending"], chat["met"], chat["missed"]) == (3, 2, 1, 1, 1)
    assert chat["share_met"] == pytest.approx(0.5)
    assert chat["median"] == pytest.approx((45 + 120) / 2)  # seconds, answered tickets only
    assert (email["unit"], email["target"]) == ("hours", 24.0)
    assert (email["tickets"], email["answered"], email["pending"], email["met"], email["missed"]) == (3, 2, 0, 1, 2)
    assert email["share_met"] == pytest.approx(1 / 3)
    assert email["median"] == pytest.approx((12 + 30) / 2)  # hours


def test_first_response_standards_a_stricter_standard_changes_the_share():
    std = S.RESPONSE_STANDARDS.copy()
    std.loc[std["channel"] == "chat", "target"] = 30.0  # 45 s now misses too
    out = S.first_response_standards(_frt_tickets(), std, end="2024-03-10 12:00:00").set_index("channel")
    assert out.loc["chat", "met"] == 0 and out.loc["chat", "share_met"] == 0.0


def test_first_response_standards_bad_input():
    t = _frt_tickets()
    with pytest.raises(ValueError, match="sms"):
        S.first_response_standards(t.assign(channel=["sms"] * len(t)))
    with pytest.raises(ValueError, match="before created_ts"):
        S.first_response_standards(t.assign(first_response_ts=t["created_ts"] - pd.Timedelta(minutes=1)))
    with pytest.raises(ValueError, match="unit"):
        S.first_response_standards(t, S.RESPONSE_STANDARDS.assign(unit="days"))
    with pytest.raises(ValueError, match="first_response_ts"):
        S.first_response_standards(t.drop(columns="first_response_ts"))


def test_standards_table_is_documented_data():
    std = S.RESPONSE_STANDARDS
    assert set(std["channel"]) == {"chat", "phone", "email", "faq_escalation"}
    assert set(std["unit"]) <= set(S.UNIT_SECONDS)
    assert std["source"].str.len().gt(0).all() and std["typical"].str.len().gt(0).all()
    # chat is measured in seconds, e-mail in hours (the channel's own unit)
    units = std.set_index("channel")["unit"]
    assert units["chat"] == "seconds" and units["email"] == "hours"


# --------------------------------------------------------------------------------------
# service scripts
# --------------------------------------------------------------------------------------


def test_script_score_hand_worked():
    messages = ["is it in stock?", "any discount for a gift set?"]
    replies = ["Hello! Yes, it is in stock. Anything else I can do?",
               "Hi, I understand; the bundle ships free."]
    out = S.script_score(replies, messages)
    # message 1 needs greeting, answer (stock), closing; reply 1 covers all three
    assert out.loc[0, ["needed", "covered"]].tolist() == [3, 3]
    assert out.loc[0, "score"] == 1.0 and out.loc[0, "missing"] == ""
    # message 2 needs greeting, objection (discount), upsell (gift, set), closing;
    # reply 2 covers greeting (hi), objection (understand), upsell (bundle) -> 3 of 4
    assert out.loc[1, ["needed", "covered"]].tolist() == [4, 3]
    assert out.loc[1, "score"] == 0.75 and out.loc[1, "missing"] == "closing"


def test_script_steps_reads_messages_and_replies():
    need = S.script_steps(pd.Series(["which size fits me?"], index=[7]), column="needed_when")
    assert list(need.index) == [7]
    assert need.loc[7].to_dict() == {"greeting": True, "answer": True, "objection": False,
                                     "upsell": False, "closing": True}
    # "chocolate" holds no whole-word greeting; "hi" inside "this" is not a greeting either
    cov = S.script_steps(["this chocolate is nice"])
    assert not cov.loc[0, "greeting"]
    # without messages all five steps are needed; 您好 (greeting), 現貨 (answer) and 祝您
    # (closing) cover three of them, no objection or upsell line -> 3 of 5
    got = S.script_score(["您好，這款有現貨，祝您購物愉快"]).loc[0]
    assert got[["needed", "covered"]].tolist() == [5, 3] and got["missing"] == "objection, upsell"


def test_script_bad_input():
    with pytest.raises(ValueError, match="one string"):
        S.script_steps("hello")
    bad = S.SERVICE_SCRIPT.copy()
    bad.loc[0, "cues"] = "(unclosed"
    with pytest.raises(ValueError, match="greeting"):
        S.script_steps(["hello"], bad)
    with pytest.raises(ValueError, match="one message per reply"):
        S.script_score(["hi", "hello"], ["a question"])


# --------------------------------------------------------------------------------------
# pre-sales service as selling
# --------------------------------------------------------------------------------------


def _presales_shop():
    customers = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5],
                              "signup_ts": [T("2024-01-01")] * 4 + [T("2024-01-20")]})
    tickets = pd.DataFrame({
        "customer_id": [1, 2, 3, 4],
        "created_ts": [T("2024-01-10 14:00"), T("2024-01-10 09:00"), T("2024-01-15 11:00"),
                       T("2024-01-15 12:00")],
        "category": ["presales", "presales", "presales", "delivery"],
    })
    orders = pd.DataFrame({
        "customer_id": [1, 2, 3, 4, 5, 3],
        # c1 orders the morning of its question (same day counts); c2 8 days later (out of a
        # 7-day window); c3 exactly 7 days later (in); c5 signed up after the question days
        "order_ts": [T("2024-01-10 08:00"), T("2024-01-18 10:00"), T("2024-01-22 10:00"),
                     T("2024-01-21 10:00"), T("2024-01-21 11:00"), T("2024-01-14 10:00")],
    })
    sessions = pd.DataFrame({
        "customer_id": [1, 1, 3, 4, 2, 2, 4, 2],
        "start_ts": [T("2024-01-10 07:00"), T("2024-01-10 07:30"), T("2024-01-15 10:00"),
                     T("2024-01-15 09:00"), T("2024-01-15 09:00"), T("2024-01-15 18:00"),
                     T("2024-01-10 12:00"), T("2024-01-12 12:00")],
    })
    return customers, tickets, orders, sessions


def test_inquiry_conversion_hand_worked():
    customers, tickets, orders, sessions = _presales_shop()
    out = S.inquiry_conversion(tickets, orders, sessions, customers, days=7).set_index("group")
    # asked: c1@10 (order that day: yes), c2@10 (day 18: 8 days, no), c3@15 (day 22: yes)
    assert out.loc["asked", ["units", "converted"]].tolist() == [3, 2]
    assert out.loc["asked", "rate"] == pytest.approx(2 / 3)
    # asked and visited that day: c1@10 (2 sessions), c3@15 (1 session): both converted
    assert out.loc["asked, visited that day", ["units", "converted"]].tolist() == [2, 2]
    # visited on a question day without asking: c4@10 (1 session; order day 21 > 17: no),
    # c4@15 (1 session; 21 <= 22: yes), c2@15 (2 sessions; 18: yes); c2@12 is no question day
    assert out.loc["visited, did not ask", ["units", "converted"]].tolist() == [3, 2]
    # standardised to the askers' visit mix (half 1 session, half 2): 0.5 * 1/2 + 0.5 * 1/1
    std = out.loc["visited, did not ask, same visits"]
    assert std["rate"] == pytest.approx(0.75) and pd.isna(std["converted"])
    # all customers signed up by the question days (c1-c4 on days 10 and 15 = 8 customer-days)
    # minus the 3 questions = 5: c3@10 yes (its order on day 14), c4@10 no (day 21 > 17),
    # c1@15 no (its only order was day 10), c2@15 yes (day 18), c4@15 yes (day 21);
    # c5 orders on day 21 but signed up on day 20, so it is not counted on day 15
    assert out.loc["all customers, same days", ["units", "converted"]].tolist() == [5, 3]
    lo, hi = out.loc["asked", ["ci_low", "ci_high"]]
    assert lo < 2 / 3 < hi


def test_inquiry_conversion_window_and_groups():
    customers, tickets, orders, sessions = _presales_shop()
    out = S.inquiry_conversion(tickets, orders, days=8).set_index("group")
    assert list(out.index) == ["asked"]  # no sessions, no customers: one row
    assert out.loc["asked", "converted"] == 3  # c2's order 8 days later now counts
    assert S.inquiry_conversion(tickets, orders, days=0).loc[0, "converted"] == 1  # same day only


def test_assisted_orders_hand_worked():
    _, tickets, orders, _ = _presales_shop()
    got = S.assisted_orders(tickets, orders, days=7)
    # c1 same day: yes; c2 8 days after: no; c3 7 days after: yes; c4 never asked: no;
    # c5 never asked: no; c3's order on day 14 came before its question on day 15: no
    assert got.tolist() == [True, False, True, False, False, False]
    assert got.index.equals(orders.index)


def test_inquiry_conversion_recovers_the_planted_null_on_the_shipped_shop():
    """The simulator draws orders before tickets and starts chats at random in sessions
    (crmlab/data/simulate/support.py, after orders.py): asking has no effect on buying. Against visitors with the same
    number of visits that day the askers' conversion must then be within noise, while the
    naive comparison with all customers shows a large, spurious gap."""
    from crmlab.data import get_shop

    shop = get_shop("small", seed=42)
    out = S.inquiry_conversion(shop.tickets, shop.orders, shop.sessions, shop.customers).set_index("group")
    asked, same = out.loc["asked, visited that day"], out.loc["visited, did not ask, same visits"]
    se = np.hypot((asked["ci_high"] - asked["ci_low"]) / 3.92, (same["ci_high"] - same["ci_low"]) / 3.92)
    assert abs(asked["rate"] - same["rate"]) < 2 * se
    assert asked["rate"] - out.loc["all customers, same days", "rate"] > 0.3
    # without standardising, the visitors' busier days are not matched: a gap > 2 SE
    raw = out.loc["visited, did not ask"]
    assert asked["rate"] - raw["rate"] > 2 * se


def test_presales_bad_input():
    customers, tickets, orders, sessions = _presales_shop()
    with pytest.raises(ValueError, match="days"):
        S.inquiry_conversion(tickets, orders, days=-1)
    with pytest.raises(ValueError, match="category"):
        S.inquiry_conversion(tickets, orders, category="pre-sales")
    with pytest.raises(ValueError, match="signup_ts"):
        S.inquiry_conversion(tickets, orders, customers=customers.drop(columns="signup_ts"))
    with pytest.raises(ValueError, match="visit_strata"):
        S.inquiry_conversion(tickets, orders, sessions, visit_strata=0)


# --------------------------------------------------------------------------------------
# intent classifier and FAQ bot
# --------------------------------------------------------------------------------------

# A symmetric corpus: swapping parcel<->refund, late<->money, tracking<->label turns one
# intent's texts into the other's, so the fitted model is symmetric too.
TEXTS = ["parcel late", "parcel tracking", "late tracking", "refund money", "refund label",
         "money label"]
LABELS = ["delivery"] * 3 + ["return"] * 3


def test_intent_classifier_known_answers():
    clf = S.IntentClassifier().fit(TEXTS, LABELS)
    assert list(clf.classes_) == ["delivery", "return"]
    assert clf.predict(["parcel", "refund please"]).tolist() == ["delivery", "return"]
    p = clf.predict_proba(["parcel late", "refund money", "xyzzy"])
    # symmetry: the mirrored texts get mirrored probabilities
    assert p[0, 0] == pytest.approx(p[1, 1], abs=1e-6) and p[0, 0] > 0.5
    # a text with no known word has an all-zero TF-IDF vector: only the intercepts speak,
    # and by symmetry they are equal -> probability 1/2 for each intent
    assert p[2] == pytest.approx([0.5, 0.5], abs=1e-4)
    assert clf.score(TEXTS, LABELS) == 1.0


def test_intent_classifier_is_a_sklearn_pipeline():
    from sklearn.base import clone
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    twin = clone(S.IntentClassifier(C=3.0))
    assert twin.get_params()["C"] == 3.0
    by_hand = make_pipeline(TfidfVectorizer(sublinear_tf=True),
                            LogisticRegression(C=3.0, max_iter=2000)).fit(TEXTS, LABELS)
    np.testing.assert_allclose(twin.fit(TEXTS, LABELS).predict_proba(["parcel money"]),
                               by_hand.predict_proba(["parcel money"]), atol=1e-10)


def test_intent_classifier_bad_input():
    with pytest.raises(ValueError, match="two intents"):
        S.IntentClassifier().fit(["a b", "c d"], ["x", "x"])
    with pytest.raises(ValueError, match="fit"):
        S.IntentClassifier().predict(["a"])
    with pytest.raises(ValueError, match="labels for"):
        S.IntentClassifier().fit(["a", "b"], ["x"])
    with pytest.raises(ValueError, match="unknown"):
        S.IntentClassifier().set_params(alpha=1)


PROBA = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.55, 0.45]])
CLASSES = ["a", "b"]
TRUTH = ["a", "b", "b", "a"]  # top intents a, a, b, a: right, wrong, right, right
ESCALATED = [True, True, False, True]


def test_bot_decisions_hand_worked():
    d = S.bot_decisions(PROBA, CLASSES, threshold=0.6)
    assert d["intent"].tolist() == ["a", "a", "b", "a"]
    assert d["answered"].tolist() == [True, True, True, False]  # 0.6 >= 0.6 is answered
    assert d["probability"].tolist() == [0.9, 0.6, 0.7, 0.55]


def test_handoff_tradeoff_hand_worked():
    out = S.handoff_tradeoff(PROBA, CLASSES, TRUTH, escalated=ESCALATED,
                             thresholds=[0.5, 0.65, 0.95]).set_index("threshold")
    # 0.5: all four answered, three right -> containment 3/4, wrong 1/4; escalated and right:
    # queries 1 and 4 -> 2 of 3 escalated
    r = out.loc[0.5]
    assert (r["answer_rate"], r["containment_rate"], r["wrong_answer_rate"]) == (1.0, 0.75, 0.25)
    assert (r["tickets_reached"], r["escalated"]) == (2, 3)
    # 0.65: answers queries 1 and 3 (both right) -> containment 2/4, no wrong answer
    r = out.loc[0.65]
    assert (r["answer_rate"], r["handoff_rate"], r["containment_rate"], r["wrong_answer_rate"]) == \
        (0.5, 0.5, 0.5, 0.0)
    assert r["tickets_reached"] == 1
    # 0.95: hands everything off; the wrong-answer rate of no answers is undefined
    r = out.loc[0.95]
    assert r["answered"] == 0 and r["containment_rate"] == 0 and np.isnan(r["wrong_answer_rate"])


def test_bot_bad_input():
    with pytest.raises(ValueError, match="summing to 1"):
        S.bot_decisions([[0.5, 0.6]], CLASSES, 0.5)
    with pytest.raises(ValueError, match="threshold"):
        S.bot_decisions(PROBA, CLASSES, 1.5)
    with pytest.raises(ValueError, match="one column per class"):
        S.handoff_tradeoff(PROBA, ["a", "b", "c"], TRUTH)
    with pytest.raises(ValueError, match="true_intent"):
        S.handoff_tradeoff(PROBA, CLASSES, TRUTH[:2])


# --------------------------------------------------------------------------------------
# social media as a support channel
# --------------------------------------------------------------------------------------


def test_mentions_needing_reply_rule():
    m = pd.DataFrame({"text": ["the delivery is so slow", "love it",
                               "terrible, want a refund", "Chocolate cake was great"]},
                     index=[10, 11, 12, 13])
    out = S.mentions_needing_reply(m, sentiment=["neu", "pos", "neg", "pos"])
    assert out.index.tolist() == [10, 11, 12, 13]
    # "slow" makes a neutral mention a complaint; "late" inside "chocolate" does not count
    assert out["word"].tolist() == ["slow", "", "refund", ""]
    assert out["needs_reply"].tolist() == [True, False, True, False]
    # without the word list only the sentiment decides
    assert S.mentions_needing_reply(m, words=(), sentiment=["neu", "pos", "neg", "pos"])[
        "needs_reply"].tolist() == [False, False, True, False]


def test_mentions_needing_reply_default_sentiment_is_vader():
    pytest.importorskip("vaderSentiment")
    m = pd.DataFrame({"text": ["this is terrible and awful", "the parcel is late", "great shop"]})
    out = S.mentions_needing_reply(m)
    assert out["sentiment"].tolist()[0] == "neg" and out["sentiment"].tolist()[2] == "pos"
    assert out["needs_reply"].tolist() == [True, True, False]


def test_mentions_bad_input():
    m = pd.DataFrame({"text": ["slow"]})
    with pytest.raises(ValueError, match="labels"):
        S.mentions_needing_reply(m, sentiment=["neg", "pos"])
    with pytest.raises(ValueError, match="words"):
        S.mentions_needing_reply(m, words="slow", sentiment=["neu"])
    with pytest.raises(ValueError, match="text"):
        S.mentions_needing_reply(pd.DataFrame({"body": ["x"]}), sentiment=["neu"])
