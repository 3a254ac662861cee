"""Topic x sentiment vocabularies the simulator writes reviews, tickets, mentions and FAQs from.

Topics use disjoint key words so that topic models can recover them; sentiment words are
shared across topics so that sentiment is learnable independently of topic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REVIEW_TOPICS = ("quality", "delivery", "value", "fit", "service", "packaging", "defect")

# (topic, sentiment) -> phrases. sentiment in {"pos", "neu", "neg"}.
REVIEW_PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "quality": {
        "pos": ("the material feels solid and durable", "excellent build quality and sturdy finish",
                "well made, sturdy and durable material"),
        "neu": ("the material is average, build quality is fine", "finish is okay, material feels standard"),
        "neg": ("the material feels cheap and flimsy", "poor build quality, flimsy finish"),
    },
    "delivery": {
        "pos": ("shipping was fast and the parcel arrived early", "arrived quickly, courier was on time"),
        "neu": ("shipping took the promised days, courier was fine", "the parcel arrived on the expected date"),
        "neg": ("shipping was slow and the parcel arrived late", "courier delayed, arrived days late",
                "waited a week, delivery was late"),
    },
    "value": {
        "pos": ("great price, worth every dollar with the discount", "good value for money at this price"),
        "neu": ("the price is fair for what you get", "price is normal, value is okay"),
        "neg": ("overpriced, not worth the money", "too expensive for this, poor value"),
    },
    "fit": {
        "pos": ("the size fits perfectly, true to size", "fits well, sizing chart accurate"),
        "neu": ("size runs slightly large but fits", "fit is okay, sizing a bit loose"),
        "neg": ("wrong size, too small and tight", "sizing is off, does not fit at all"),
    },
    "service": {
        "pos": ("customer service was friendly and helpful", "support agent replied fast and solved it"),
        "neu": ("asked customer service a question, got an answer", "support replied within a day"),
        "neg": ("customer service ignored my messages", "support agent was rude and unhelpful"),
    },
    "packaging": {
        "pos": ("beautiful packaging, nicely wrapped gift box", "neat packaging, box well wrapped"),
        "neu": ("packaging is plain, box is standard", "simple packaging in a plain box"),
        "neg": ("box was crushed, packaging torn", "packaging damaged, wrapping ripped"),
    },
    "defect": {
        "pos": ("replacement unit works after the first one had a fault",),
        "neu": ("one part had a small fault but it still works",),
        "neg": ("arrived broken and defective, stopped working", "defective unit, broken after two days",
                "it broke immediately, faulty and defective"),
    },
}

OPENERS = {
    "pos": ("Love it!", "Very happy.", "Highly recommend.", "Excellent purchase.", "Great!"),
    "neu": ("It's okay.", "Average.", "Nothing special.", "As expected.", "Fine."),
    "neg": ("Very disappointed.", "Terrible.", "Would not recommend.", "Awful experience.", "Bad."),
}
CLOSERS = {
    "pos": ("Will buy again.", "Five stars from me.", "Thank you!", ""),
    "neu": ("Might buy again.", "Decent overall.", ""),
    "neg": ("Never again.", "Want a refund.", "Avoid this.", ""),
}
TITLES = {
    "pos": ("Great product", "Love it", "Worth it", "Excellent", "Very good"),
    "neu": ("Okay", "Average", "It's fine", "Mixed feelings"),
    "neg": ("Disappointed", "Not good", "Terrible", "Do not buy"),
}

TICKET_TEXT: dict[str, tuple[tuple[str, str], ...]] = {
    # category -> (subject, first message) templates
    "delivery": (
        ("Where is my order?", "my parcel has not arrived yet, tracking shows no update, when will it be delivered"),
        ("Late delivery", "the delivery is late, courier missed the promised date, please check shipment"),
        ("Tracking not updating", "tracking number shows in transit for days, where is my package"),
    ),
    "defect": (
        ("Item arrived broken", "the product arrived broken and does not work, I need a replacement"),
        ("Defective product", "it stopped working after two days, seems defective, please help"),
        ("Faulty unit", "the unit is faulty, screen flickers and it will not power on"),
    ),
    "return": (
        ("Return request", "I want to return this item, how do I print the return label"),
        ("Exchange size", "can I exchange for a different size, it does not fit"),
        ("Refund status", "I sent the return last week, when will the refund arrive"),
    ),
    "account": (
        ("Cannot log in", "I cannot log in to my account, password reset email never arrives"),
        ("Change email", "please update the email address on my member account"),
        ("Points missing", "my loyalty points from the last order are missing from my account"),
    ),
    "billing": (
        ("Charged twice", "my credit card was charged twice for one order, please refund"),
        ("Invoice request", "I need an electronic invoice with my company tax id"),
        ("Coupon not applied", "the coupon code was not applied at checkout, I paid full price"),
    ),
    "presales": (
        ("Question about product", "is this product in stock and does it come with warranty"),
        ("Size advice", "which size should I choose, what are the measurements"),
        ("Bulk order", "do you offer a discount for bulk orders or gift wrapping"),
    ),
}

FAQ_ARTICLES: dict[str, tuple[tuple[str, str], ...]] = {
    "delivery": (
        ("How do I track my order?", "Open My Orders and click the tracking number to follow your parcel and courier updates."),
        ("What if my delivery is late?", "Deliveries may be delayed in peak seasons. If the parcel is late beyond the promised date contact us."),
    ),
    "defect": (
        ("My item arrived broken or defective", "Take a photo of the broken or faulty item and request a replacement within 7 days."),
        ("Warranty for faulty products", "Electronics have a one year warranty against defects; faulty units are repaired or replaced."),
    ),
    "return": (
        ("How do I return or exchange an item?", "Request a return in My Orders, print the return label and drop the parcel; exchanges for another size are free."),
        ("When will I get my refund?", "Refunds are issued to the original payment within 5 working days after the return is received."),
    ),
    "account": (
        ("I cannot log in", "Use Forgot password to receive a reset email; check your spam folder for the reset link."),
        ("Where are my loyalty points?", "Points are credited after delivery and expire after 12 months; see Member Points."),
    ),
    "billing": (
        ("I was charged twice", "A duplicate charge is usually an authorization hold released within 3 days; otherwise contact billing."),
        ("How do I use a coupon or get an invoice?", "Enter the coupon code at checkout; electronic invoices with a tax id are issued automatically."),
    ),
    "presales": (
        ("How do I choose the right size?", "See the size chart and measurements on each product page."),
        ("Do you offer bulk or gift orders?", "Bulk and corporate gift orders get tiered discounts and gift wrapping; contact sales."),
    ),
}

FAQ_QUERIES: dict[str, tuple[str, ...]] = {
    "delivery": ("where is my order", "tracking parcel", "late delivery", "courier delay", "shipping status"),
    "defect": ("item broken", "defective product", "not working", "faulty warranty", "arrived damaged"),
    "return": ("return item", "exchange size", "refund status", "return label", "how to refund"),
    "account": ("cannot login", "reset password", "points missing", "change email", "account locked"),
    "billing": ("charged twice", "coupon not working", "invoice tax id", "payment failed", "double charge"),
    "presales": ("size chart", "bulk order discount", "gift wrapping", "in stock", "warranty question"),
}

SOCIAL_TEXT = {
    "pos": ("just got my order from the shop, super happy", "the shop's sale prices are amazing this week",
            "fast delivery again, love this shop", "great customer service from the shop today"),
    "neu": ("anyone tried ordering from the shop?", "the shop has a sale coming up", "ordered a few things from the shop"),
    "neg": ("the shop delivery is so slow", "customer service at the shop never answers",
            "terrible experience with the shop, want a refund"),
}
INCIDENT_SOCIAL_TEXT = (
    "the {name} from the shop arrived broken, defective junk",
    "my {name} stopped working after two days, faulty, do not buy",
    "third broken {name} this week? quality control at the shop is a joke",
    "warning: {name} is defective, mine broke immediately",
)

SURVEY_COMMENTS = {
    "pos": ("fast delivery and good quality", "easy to shop, will come back", "great service"),
    "neu": ("okay experience", "nothing to add", "average"),
    "neg": ("delivery was late", "item was broken", "return process too slow", "support never replied"),
}


def pick(rng: np.random.Generator, options: tuple[str, ...] | list[str], n: int) -> np.ndarray:
    """n random picks from a tuple of strings, as an object array."""
    arr = np.asarray(options, dtype=object)
    return arr[rng.integers(0, len(arr), size=n)]


def compose_reviews(rng: np.random.Generator, topics: np.ndarray, sentiments: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """Title and text per review from topic and sentiment labels (vectorised by group)."""
    n = len(topics)
    text = np.empty(n, dtype=object)
    title = np.empty(n, dtype=object)
    for sent in ("pos", "neu", "neg"):
        s_mask = sentiments == sent
        title[s_mask] = pick(rng, TITLES[sent], int(s_mask.sum()))
        openers = pick(rng, OPENERS[sent], int(s_mask.sum()))
        closers = pick(rng, CLOSERS[sent], int(s_mask.sum()))
        body = np.empty(int(s_mask.sum()), dtype=object)
        sub_topics = topics[s_mask]
        for topic in REVIEW_TOPICS:
            t_mask = sub_topics == topic
            body[t_mask] = pick(rng, REVIEW_PHRASES[topic][sent], int(t_mask.sum()))
        text[s_mask] = [f"{o} {b[0].upper()}{b[1:]}. {c}".strip() for o, b, c in zip(openers, body, closers, strict=True)]
    return pd.Series(title, dtype="str"), pd.Series(text, dtype="str")
