"""The shop's table contract: every table, column, dtype kind and meaning.

This is the single source for three things: ``validate()`` checks tables against it,
``datasets/README.md`` is generated from it (``crmlab data schema``), and every
course unit reads columns by the names written here.

Dtype kinds: ``int`` (int64 ids and counts), ``Int`` (nullable integer), ``float``,
``bool``, ``datetime`` (naive local shop time), ``category`` (repeated labels),
``str`` (free text, pandas ``str`` dtype).
Timestamps are naive and in local shop time (Asia/Taipei, UTC+8, no DST).
Money is in NT$ (TWD) and already net of discounts unless the column says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Column:
    """One column of the contract."""

    name: str
    kind: str
    doc: str
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Table:
    """One table: its columns, primary key and foreign keys (column -> 'table.column')."""

    name: str
    doc: str
    columns: tuple[Column, ...]
    key: str | tuple[str, ...] | None = None
    foreign: dict[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


C = Column

CHANNELS_ORDER = ("web", "app", "marketplace", "store")
TRAFFIC_SOURCES = ("organic_search", "paid_search", "social", "email", "direct", "referral")
DEVICES = ("mobile_app", "mobile_web", "desktop", "tablet")
CATEGORIES = ("electronics", "fashion", "beauty", "home", "grocery", "kids", "sports", "books")
SEGMENTS = ("vip", "deal_seeker", "family", "casual")
EVENT_TYPES = (
    "page_view",
    "product_view",
    "search",
    "add_to_cart",
    "begin_checkout",
    "purchase",
    "favorite",
    "faq_view",
    "chat_start",
)
FUNNEL_STEPS = ("visit", "product_view", "add_to_cart", "begin_checkout", "purchase")
TICKET_CHANNELS = ("chat", "phone", "email", "faq_escalation")
TICKET_CATEGORIES = ("delivery", "defect", "return", "account", "billing", "presales")
PRIORITIES = ("low", "medium", "high", "urgent")
RETURN_REASONS = (
    "size_fit",
    "defective",
    "not_as_described",
    "changed_mind",
    "late_delivery",
    "damaged_in_transit",
)
TIERS = ("member", "silver", "gold", "platinum")
LEAD_STAGES = ("new", "contacted", "qualified", "proposal", "negotiation", "won", "lost")
REGIONS = ("north", "central", "south", "east")
PLATFORMS = ("facebook", "instagram", "threads", "ptt", "dcard", "youtube")

TABLES: dict[str, Table] = {}


def _add(table: Table) -> None:
    TABLES[table.name] = table


_add(
    Table(
        "customers",
        "One row per registered member, unified across web, app, marketplace and store.",
        (
            C("customer_id", "int", "Member id, 1..n.", min=1),
            C("signup_ts", "datetime", "When the member registered."),
            C("acquisition_channel", "category", "Traffic source of the first visit.",
              values=TRAFFIC_SOURCES + ("marketplace", "store")),
            C("age_band", "category", "Age band.", values=("18-24", "25-34", "35-44", "45-54", "55+")),
            C("gender", "category", "Self-reported gender.", values=("female", "male", "other")),
            C("region", "category", "Region of Taiwan.", values=REGIONS),
            C("city", "category", "City."),
            C("device", "category", "Device used most often.", values=DEVICES),
            C("interests", "str", "Declared interests: categories joined by '|'."),
            C("birth_month", "int", "Birth month (for birthday offers).", min=1, max=12),
            C("marketing_opt_in", "bool", "May receive marketing messages."),
            C("email", "str", "Pseudonymous address at example.com (no real personal data)."),
            C("referred_by", "Int", "customer_id of the referring member, if referred.", nullable=True),
        ),
        key="customer_id",
        foreign={"referred_by": "customers.customer_id"},
    )
)

_add(
    Table(
        "products",
        "The catalogue.",
        (
            C("product_id", "int", "Product id.", min=1),
            C("name", "str", "Display name."),
            C("category", "category", "Category.", values=CATEGORIES),
            C("brand", "category", "Brand."),
            C("list_price", "float", "Reference (regular) price, NT$.", min=0.01),
            C("unit_cost", "float", "Landed unit cost, NT$.", min=0.0),
            C("launch_date", "datetime", "First day on sale."),
            C("quality", "float", "Visible average rating quality proxy in [0, 1] (higher is better).",
              min=0.0, max=1.0),
        ),
        key="product_id",
    )
)

_add(
    Table(
        "sessions",
        "One row per website/app visit (offline store orders have no session).",
        (
            C("session_id", "int", "Session id.", min=1),
            C("customer_id", "int", "Visitor (members only; the shop requires login to buy)."),
            C("start_ts", "datetime", "First event time."),
            C("end_ts", "datetime", "Last event time."),
            C("traffic_source", "category", "Where the visit came from.", values=TRAFFIC_SOURCES),
            C("device", "category", "Device.", values=DEVICES),
            C("funnel_depth", "category", "Deepest funnel step reached.", values=FUNNEL_STEPS),
            C("n_events", "int", "Number of events in the session.", min=1),
            C("converted", "bool", "Session ended in a purchase."),
        ),
        key="session_id",
        foreign={"customer_id": "customers.customer_id"},
    )
)

_add(
    Table(
        "events",
        "Click-stream events. Sorted by session then time.",
        (
            C("event_id", "int", "Event id.", min=1),
            C("session_id", "int", "Session."),
            C("customer_id", "int", "Member."),
            C("ts", "datetime", "Event time."),
            C("event_type", "category", "Event type.", values=EVENT_TYPES),
            C("product_id", "Int", "Product for product_view/add_to_cart/favorite/purchase.", nullable=True),
            C("order_id", "Int", "Order created by a purchase event.", nullable=True),
        ),
        key="event_id",
        foreign={
            "session_id": "sessions.session_id",
            "customer_id": "customers.customer_id",
            "product_id": "products.product_id",
            "order_id": "orders.order_id",
        },
    )
)

_add(
    Table(
        "orders",
        "One row per order. Includes orders later returned; no cancelled orders.",
        (
            C("order_id", "int", "Order id.", min=1),
            C("customer_id", "int", "Member."),
            C("order_ts", "datetime", "Time the order was placed."),
            C("channel", "category", "Sales channel.", values=CHANNELS_ORDER),
            C("session_id", "Int", "Online session that placed it (NA for store orders).", nullable=True),
            C("n_items", "int", "Units in the order.", min=1),
            C("gross_amount", "float", "Sum of list-price units before any discount, NT$.", min=0.0),
            C("discount", "float", "Price promotions plus coupon, NT$.", min=0.0),
            C("amount", "float", "Paid amount = sum of order_items.line_amount, NT$.", min=0.0),
            C("coupon_code", "str", "Coupon used, if any.", nullable=True),
            C("campaign_id", "Int", "Campaign the order is attributed to (coupon redeemed).", nullable=True),
            C("promised_days", "int", "Promised delivery days.", min=0),
            C("delivery_days", "int", "Actual delivery days (0 for store pickup).", min=0),
            C("delivered_ts", "datetime", "Delivery time."),
        ),
        key="order_id",
        foreign={
            "customer_id": "customers.customer_id",
            "session_id": "sessions.session_id",
            "campaign_id": "campaigns.campaign_id",
        },
    )
)

_add(
    Table(
        "order_items",
        "Order lines.",
        (
            C("order_id", "int", "Order."),
            C("line_no", "int", "Line number within the order, 1..", min=1),
            C("product_id", "int", "Product."),
            C("quantity", "int", "Units.", min=1),
            C("list_price", "float", "That day's list price (price_history.price before coupon), NT$.",
              min=0.01),
            C("unit_price", "float", "Paid price per unit after coupon, NT$.", min=0.0),
            C("line_amount", "float", "quantity * unit_price, NT$.", min=0.0),
        ),
        key=("order_id", "line_no"),
        foreign={"order_id": "orders.order_id", "product_id": "products.product_id"},
    )
)

_add(
    Table(
        "campaigns",
        "Monthly targeted marketing campaigns, each with a randomized holdout.",
        (
            C("campaign_id", "int", "Campaign id.", min=1),
            C("name", "str", "Campaign name."),
            C("channel", "category", "Send channel.", values=("email", "sms", "app_push", "line")),
            C("offer", "category", "Offer type.", values=("pct_off", "amount_off", "free_shipping", "points_x2")),
            C("discount_pct", "float", "Coupon value as a share of the order, 0..1.", min=0.0, max=1.0),
            C("target_rule", "str", "Who was targeted (plain words)."),
            C("send_ts", "datetime", "Send time."),
            C("window_days", "int", "Days after sending in which a purchase counts as converted.", min=1),
            C("cost_per_contact", "float", "Sending cost per treated contact, NT$.", min=0.0),
            C("holdout_share", "float", "Share of targeted customers randomly held out.", min=0.0, max=1.0),
        ),
        key="campaign_id",
    )
)

_add(
    Table(
        "campaign_contacts",
        "Every targeted customer of every campaign: treatment (sent) or randomized holdout.",
        (
            C("campaign_id", "int", "Campaign."),
            C("customer_id", "int", "Member."),
            C("group", "category", "treatment or holdout.", values=("treatment", "holdout")),
            C("sent", "bool", "Message sent (False for holdout)."),
            C("opened", "bool", "Opened (False for holdout)."),
            C("clicked", "bool", "Clicked (False for holdout)."),
            C("converted", "bool", "Any order within the campaign window."),
            C("revenue", "float", "Paid amount of orders within the window, NT$.", min=0.0),
        ),
        key=("campaign_id", "customer_id"),
        foreign={"campaign_id": "campaigns.campaign_id", "customer_id": "customers.customer_id"},
    )
)

_add(
    Table(
        "loyalty_ledger",
        "Points ledger: earn (1 point per NT$100 paid, credited at delivery), redeem, expire (12 months), and tier changes.",
        (
            C("entry_id", "int", "Entry id.", min=1),
            C("customer_id", "int", "Member."),
            C("ts", "datetime", "Entry time."),
            C("entry_type", "category", "earn, redeem, expire or tier_change.",
              values=("earn", "redeem", "expire", "tier_change")),
            C("points", "int", "Signed points (+earn, -redeem, -expire, 0 for tier_change)."),
            C("order_id", "Int", "Order that earned the points.", nullable=True),
            C("tier", "category", "New tier for tier_change rows.", nullable=True, values=TIERS),
        ),
        key="entry_id",
        foreign={"customer_id": "customers.customer_id", "order_id": "orders.order_id"},
    )
)

_add(
    Table(
        "leads",
        "Corporate / bulk-gift enquiries moving through the sales pipeline (one row per lead).",
        (
            C("lead_id", "int", "Lead id.", min=1),
            C("created_ts", "datetime", "Enquiry received."),
            C("source", "category", "Lead source.", values=("web_form", "phone", "referral", "trade_show", "email")),
            C("company_size", "category", "Company size.", values=("small", "medium", "large")),
            C("owner", "category", "Sales rep who owns the lead."),
            C("value", "float", "Expected deal value, NT$.", min=0.0),
            C("stage", "category", "Current stage at the data end.", values=LEAD_STAGES),
            C("contacted_ts", "datetime", "Entered 'contacted'.", nullable=True),
            C("qualified_ts", "datetime", "Entered 'qualified'.", nullable=True),
            C("proposal_ts", "datetime", "Entered 'proposal'.", nullable=True),
            C("negotiation_ts", "datetime", "Entered 'negotiation'.", nullable=True),
            C("closed_ts", "datetime", "Won or lost.", nullable=True),
        ),
        key="lead_id",
    )
)

_add(
    Table(
        "agents",
        "Support agents.",
        (
            C("agent_id", "int", "Agent id.", min=1),
            C("name", "str", "Pseudonymous name."),
            C("team", "category", "Team.", values=("frontline", "specialist")),
            C("skills", "str", "Ticket categories the agent handles, joined by '|'."),
            C("shift", "category", "Shift.", values=("day", "evening")),
            C("hire_date", "datetime", "Hire date."),
        ),
        key="agent_id",
    )
)

_add(
    Table(
        "tickets",
        "Support tickets from every channel.",
        (
            C("ticket_id", "int", "Ticket id.", min=1),
            C("customer_id", "int", "Member."),
            C("order_id", "Int", "Related order.", nullable=True),
            C("created_ts", "datetime", "Created."),
            C("channel", "category", "Contact channel.", values=TICKET_CHANNELS),
            C("category", "category", "Issue category.", values=TICKET_CATEGORIES),
            C("priority", "category", "Priority.", values=PRIORITIES),
            C("subject", "str", "Subject line."),
            C("text", "str", "Customer's first message."),
            C("agent_id", "int", "Assigned agent."),
            C("first_response_ts", "datetime", "First agent response.", nullable=True),
            C("resolved_ts", "datetime", "Resolved (NA if still open at the data end).", nullable=True),
            C("reopened", "bool", "Reopened after resolution."),
            C("csat", "Int", "Post-ticket CSAT 1..5 if the customer answered.", nullable=True, min=1, max=5),
        ),
        key="ticket_id",
        foreign={"customer_id": "customers.customer_id", "order_id": "orders.order_id",
                 "agent_id": "agents.agent_id"},
    )
)

_add(
    Table(
        "calls",
        "Phone queue log: every call offered to the call centre.",
        (
            C("call_id", "int", "Call id.", min=1),
            C("arrival_ts", "datetime", "Call arrival."),
            C("customer_id", "Int", "Caller if identified.", nullable=True),
            C("ticket_id", "Int", "Ticket the call opened, if any.", nullable=True),
            C("wait_seconds", "float", "Seconds in queue (until answer or hang-up).", min=0.0),
            C("abandoned", "bool", "Caller hung up before an answer."),
            C("handle_seconds", "float", "Talk + wrap-up seconds (0 if abandoned).", min=0.0),
            C("agent_id", "Int", "Answering agent.", nullable=True),
        ),
        key="call_id",
        foreign={"customer_id": "customers.customer_id", "ticket_id": "tickets.ticket_id",
                 "agent_id": "agents.agent_id"},
    )
)

_add(
    Table(
        "faq_articles",
        "Self-service knowledge base.",
        (
            C("article_id", "int", "Article id.", min=1),
            C("category", "category", "Ticket category it answers.", values=TICKET_CATEGORIES),
            C("title", "str", "Title."),
            C("body", "str", "Body text."),
        ),
        key="article_id",
    )
)

_add(
    Table(
        "faq_searches",
        "Searches in the help centre.",
        (
            C("search_id", "int", "Search id.", min=1),
            C("customer_id", "int", "Member."),
            C("ts", "datetime", "Search time."),
            C("query", "str", "What the customer typed."),
            C("intent", "category", "The category the customer needed.", values=TICKET_CATEGORIES),
            C("clicked_article_id", "Int", "Article opened.", nullable=True),
            C("ticket_id", "Int", "Ticket opened afterwards (escalation), if any.", nullable=True),
        ),
        key="search_id",
        foreign={"customer_id": "customers.customer_id", "clicked_article_id": "faq_articles.article_id",
                 "ticket_id": "tickets.ticket_id"},
    )
)

_add(
    Table(
        "returns",
        "Return and exchange requests, one per returned order line.",
        (
            C("return_id", "int", "Return id.", min=1),
            C("order_id", "int", "Order."),
            C("line_no", "int", "Order line."),
            C("product_id", "int", "Product."),
            C("customer_id", "int", "Member."),
            C("requested_ts", "datetime", "Request time (after delivery)."),
            C("reason", "category", "Reason given.", values=RETURN_REASONS),
            C("return_type", "category", "refund or exchange.", values=("refund", "exchange")),
            C("quantity", "int", "Units returned.", min=1),
            C("refund_amount", "float", "Money refunded (0 for exchanges), NT$.", min=0.0),
            C("shipping_cost", "float", "Reverse-logistics cost borne by the shop, NT$.", min=0.0),
            C("restocking_cost", "float", "Inspection/restocking cost, NT$.", min=0.0),
            C("processed_ts", "datetime", "Completed (NA if still open).", nullable=True),
        ),
        key="return_id",
        foreign={"order_id": "orders.order_id", "product_id": "products.product_id",
                 "customer_id": "customers.customer_id"},
    )
)

_add(
    Table(
        "surveys",
        "Survey invitations and answers (score NA = no response).",
        (
            C("survey_id", "int", "Survey id.", min=1),
            C("customer_id", "int", "Member."),
            C("survey_type", "category", "csat (1-5), nps (0-10) or ces (1-7, 7 = very easy).",
              values=("csat", "nps", "ces")),
            C("touchpoint", "category", "What it asked about.", values=("order", "support", "return", "relationship")),
            C("order_id", "Int", "Order asked about.", nullable=True),
            C("ticket_id", "Int", "Ticket asked about.", nullable=True),
            C("sent_ts", "datetime", "Invitation time."),
            C("responded", "bool", "Customer answered."),
            C("score", "Int", "Answer on the survey's scale.", nullable=True),
            C("comment", "str", "Free-text comment.", nullable=True),
        ),
        key="survey_id",
        foreign={"customer_id": "customers.customer_id", "order_id": "orders.order_id",
                 "ticket_id": "tickets.ticket_id"},
    )
)

_add(
    Table(
        "reviews",
        "Product reviews (a minority of order lines get one).",
        (
            C("review_id", "int", "Review id.", min=1),
            C("product_id", "int", "Product."),
            C("customer_id", "int", "Member."),
            C("order_id", "int", "Order."),
            C("ts", "datetime", "Posted."),
            C("stars", "int", "1..5 stars.", min=1, max=5),
            C("title", "str", "Title."),
            C("text", "str", "Review text (English)."),
        ),
        key="review_id",
        foreign={"product_id": "products.product_id", "customer_id": "customers.customer_id",
                 "order_id": "orders.order_id"},
    )
)

_add(
    Table(
        "social_mentions",
        "Public social-media posts that mention the shop.",
        (
            C("mention_id", "int", "Mention id.", min=1),
            C("ts", "datetime", "Posted."),
            C("platform", "category", "Platform.", values=PLATFORMS),
            C("product_id", "Int", "Product mentioned, if any.", nullable=True),
            C("text", "str", "Post text (English)."),
            C("reach", "int", "Followers/views reached.", min=0),
        ),
        key="mention_id",
        foreign={"product_id": "products.product_id"},
    )
)

_add(
    Table(
        "price_history",
        "Daily price, stock and units sold per product.",
        (
            C("date", "datetime", "Day (midnight)."),
            C("product_id", "int", "Product."),
            C("price", "float", "That day's selling price before coupons, NT$.", min=0.01),
            C("on_promotion", "bool", "Price below list price that day."),
            C("stock", "int", "Units in stock at the start of the day.", min=0),
            C("units", "int", "Units sold that day (= sum of order_items quantities).", min=0),
        ),
        key=("date", "product_id"),
        foreign={"product_id": "products.product_id"},
    )
)

#: Paid customisation options (定制化產品、個性化包裝).
CUSTOMIZATION_OPTIONS = ("gift_wrap", "engraving", "monogram", "custom_size")
#: Where a feature request reached the shop.
FEEDBACK_SOURCES = ("review", "ticket", "survey")

_add(
    Table(
        "customizations",
        "Paid customisation of order lines (gift wrap, engraving, monogram, custom size); a line "
        "may take more than one option.",
        (
            C("customization_id", "int", "Customisation id.", min=1),
            C("order_id", "int", "Order."),
            C("line_no", "int", "Line of the order.", min=1),
            C("customer_id", "int", "Member."),
            C("product_id", "int", "Product customised."),
            C("option", "category", "What was customised.", values=CUSTOMIZATION_OPTIONS),
            C("fee", "float", "Fee the customer paid, NT$ (on top of the order amount).", min=0),
            C("cost", "float", "The shop's cost of doing it, NT$.", min=0),
        ),
        key="customization_id",
        foreign={"order_id": "orders.order_id", "customer_id": "customers.customer_id",
                 "product_id": "products.product_id"},
    )
)

_add(
    Table(
        "feature_requests",
        "The shop's feedback inbox: product and service ideas customers sent in reviews, tickets "
        "and surveys (free text; the theme is for the analyst to find).",
        (
            C("request_id", "int", "Request id.", min=1),
            C("ts", "datetime", "Received."),
            C("customer_id", "int", "Member who asked."),
            C("source", "category", "Where it came from.", values=FEEDBACK_SOURCES),
            C("category", "category", "Product category it is about, if any.", nullable=True,
              values=CATEGORIES),
            C("text", "str", "What the customer asked for (English)."),
        ),
        key="request_id",
        foreign={"customer_id": "customers.customer_id"},
    )
)

_add(
    Table(
        "product_changes",
        "Changes the shop shipped in answer to feedback (the closed loop: idea -> change).",
        (
            C("change_id", "int", "Change id.", min=1),
            C("theme", "str", "The feedback theme it answers."),
            C("shipped_ts", "datetime", "When customers could first see it."),
            C("description", "str", "What changed."),
        ),
        key="change_id",
    )
)

TABLE_NAMES: tuple[str, ...] = tuple(TABLES)

#: Parameter names that stand for a shop table under a shorter name (``contacts`` for
#: ``campaign_contacts``); the input contract (:func:`crmlab._checks.reads`) uses them.
TABLE_ALIASES: dict[str, str] = {
    "contacts": "campaign_contacts",
    "items": "order_items",
    "ledger": "loyalty_ledger",
    "mentions": "social_mentions",
}

#: The plausible range of every timestamp in the shop. A date before ``EARLIEST_DATE`` or more
#: than ``FUTURE_YEARS`` years after today is a typo (2099 for 2025, 1900 for a missing value
#: in a spreadsheet), not data: one such order would move every default snapshot ("the day
#: after the last order") by decades and turn every recency into nonsense. The input contract
#: rejects it, naming the rows; pass the real date, or drop the row and report it.
EARLIEST_DATE = pd.Timestamp("1970-01-02")
FUTURE_YEARS = 5


def latest_plausible_date() -> pd.Timestamp:
    """The latest timestamp the contract accepts: today plus :data:`FUTURE_YEARS` years."""
    return pd.Timestamp.now().normalize() + pd.DateOffset(years=FUTURE_YEARS)


def key_columns(table: str) -> list[str]:
    """The primary key of ``table`` as a list of column names (empty without a key)."""
    key = TABLES[table].key
    if key is None:
        return []
    return [key] if isinstance(key, str) else list(key)


def schema_markdown() -> str:
    """Render the contract as the Markdown of datasets/README.md's table section."""
    lines: list[str] = []
    for table in TABLES.values():
        key = table.key if isinstance(table.key, str) else ", ".join(table.key or ())
        lines += [f"### `{table.name}`", "", table.doc, "", f"Primary key: `{key}`."]
        if table.foreign:
            fks = ", ".join(f"`{c}` → `{t}`" for c, t in table.foreign.items())
            lines += ["", f"Foreign keys: {fks}."]
        lines += ["", "| column | kind | nullable | meaning |", "|---|---|---|---|"]
        for col in table.columns:
            extra = ""
            if col.values:
                extra = " Values: " + ", ".join(f"`{v}`" for v in col.values) + "."
            lines.append(
                f"| `{col.name}` | {col.kind} | {'yes' if col.nullable else 'no'} | {col.doc}{extra} |"
            )
        lines.append("")
    return "\n".join(lines)
