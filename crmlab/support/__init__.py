"""Customer support (客戶支持): tickets, SLAs, routing, triage, phone staffing and FAQ search.

Course unit 4. A CRM manages support with one record of every interaction, tickets that are
created and assigned automatically, progress tracking and performance reports. This module
holds the computations behind ``notebooks/09_customer_support.ipynb``:

* **Ticket lifecycle (工單生命週期)** -- :func:`ticket_metrics` turns the ``tickets`` table into
  one row per ticket with first response time (FRT, 首次回應時間) and resolution time (解決時間)
  on the calendar clock and on a business-hours clock (:class:`BusinessHours`, vectorised),
  first-contact resolution (FCR, 首次聯繫解決率) and reopen flags. :func:`lifecycle_summary`
  aggregates by channel, category, priority or agent (median and P90; a Kaplan-Meier median
  that counts tickets still open as censored). :func:`backlog` counts open tickets per day
  (tickets still open at the data end stay in the backlog), :func:`littles_law` checks
  L = lambda W on it, and :func:`sla_attainment` scores tickets against SLA targets per
  priority (服務水準協議; the targets are data: :data:`SLA_TARGETS`).
* **Priority and routing (優先級與派單)** -- :func:`priority_rule` looks priorities up in an
  impact x urgency matrix (:data:`PRIORITY_MATRIX`); :func:`route_tickets` replays the shop's
  tickets in time order and gives each one to the least-loaded agent who has the skill (a heap
  per skill keyed by open load). :class:`TicketTriage` predicts the category from the text
  (TF-IDF + logistic regression) so the router knows the skill before a human reads it.
* **Phone staffing (人力排班)** -- Erlang C: :func:`erlang_b`, :func:`erlang_c` (probability of
  waiting), :func:`service_level`, :func:`average_speed_of_answer`, :func:`staffing_table`
  and :func:`agents_needed` (with shrinkage and an occupancy cap). Erlang B is computed by its
  recursion, so nothing overflows for thousands of agents. :func:`simulate_queue` simulates
  the same FCFS queue (optionally with lognormal handling and abandonment, like the shop's
  call centre) and :func:`call_center_by_hour` sets the shop's call log beside Erlang C.
* **Self-service (自助服務)** -- :class:`FaqSearch` is TF-IDF retrieval over ``faq_articles``
  (hit@k against the searcher's intent) and :func:`deflection_rate` counts searches that were
  not followed by a ticket.
* **Reporting** -- :func:`support_report`: the weekly table a support manager reads, per week
  and optionally per agent.

Definitions used throughout (documented once here):

* *FRT* = ``first_response_ts - created_ts``; *resolution time* = ``resolved_ts - created_ts``.
  Hours on the calendar clock (``*_hours``) or counting only business hours
  (``*_business_hours``, default Mon-Fri 09:00-18:00).
* *Open* = no ``resolved_ts`` at the observation end (or resolved after it). Open tickets are
  right-censored: their resolution time is at least their age at the end.
* *First-contact resolution* = the ticket was resolved, was not reopened, and the customer did
  not contact support again about the same category within ``repeat_window`` (7 days) after
  opening it. FCR rate = FCR tickets / resolved tickets.
* *Reopen rate* = reopened tickets / resolved tickets.
* *SLA attainment* = met / (met + breached) per target; a ticket still waiting whose elapsed
  time already exceeds the target counts as breached, one still within its target is
  *pending* and left out (and counted).

The package, one concept per module (``from crmlab.support import ...`` reaches them all):
:mod:`~crmlab.support.hours` (the business-hours clock), :mod:`~crmlab.support.tickets`
(lifecycle, backlog, Little's law), :mod:`~crmlab.support.sla`, :mod:`~crmlab.support.routing`
(priority matrix, skill-based assignment), :mod:`~crmlab.support.triage` (text
classification), :mod:`~crmlab.support.staffing` (Erlang C), :mod:`~crmlab.support.calls`
(queue simulation, the call log), :mod:`~crmlab.support.faq`, :mod:`~crmlab.support.reports`,
:mod:`~crmlab.support.online` (response standards, scripts, inquiry conversion) and
:mod:`~crmlab.support.intents` (the FAQ bot and social mentions).
"""

from __future__ import annotations

from crmlab.support.calls import (
    call_center_by_hour,
    queue_stats,
    simulate_queue,
)
from crmlab.support.faq import (
    FaqSearch,
    deflection_rate,
)
from crmlab.support.hours import (
    OFFICE_HOURS,
    BusinessHours,
    business_seconds,
)
from crmlab.support.intents import (
    SERVICE_COMPLAINT_WORDS,
    IntentClassifier,
    bot_decisions,
    handoff_tradeoff,
    mentions_needing_reply,
)
from crmlab.support.online import (
    RESPONSE_STANDARDS,
    SERVICE_SCRIPT,
    assisted_orders,
    first_response_standards,
    inquiry_conversion,
    script_score,
    script_steps,
)
from crmlab.support.online import (
    UNIT_SECONDS as UNIT_SECONDS,  # not in __all__, kept for crmlab.support.UNIT_SECONDS
)
from crmlab.support.reports import (
    support_report,
)
from crmlab.support.routing import (
    CATEGORY_IMPACT,
    CHANNEL_URGENCY,
    PRIORITY_MATRIX,
    URGENT_PHRASES,
    priority_rule,
    route_tickets,
    skill_match,
)
from crmlab.support.routing import (
    LEVELS as LEVELS,  # not in __all__, kept for crmlab.support.LEVELS
)
from crmlab.support.sla import (
    PRIORITY_ORDER,
    SLA_TARGETS,
    sla_attainment,
    sla_flags,
)
from crmlab.support.staffing import (
    agents_needed,
    asa_allen_cunneen,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    service_level,
    staffing_table,
    staffing_what_if,
)
from crmlab.support.tickets import (
    backlog,
    lifecycle_summary,
    littles_law,
    ticket_metrics,
)
from crmlab.support.triage import (
    TicketTriage,
    classification_scores,
    confusion_table,
    time_split,
)

__all__ = [
    "PRIORITY_ORDER",
    "BusinessHours",
    "OFFICE_HOURS",
    "SLA_TARGETS",
    "PRIORITY_MATRIX",
    "CATEGORY_IMPACT",
    "CHANNEL_URGENCY",
    "URGENT_PHRASES",
    "business_seconds",
    "ticket_metrics",
    "lifecycle_summary",
    "backlog",
    "littles_law",
    "sla_flags",
    "sla_attainment",
    "priority_rule",
    "route_tickets",
    "skill_match",
    "time_split",
    "TicketTriage",
    "classification_scores",
    "confusion_table",
    "erlang_b",
    "erlang_c",
    "service_level",
    "average_speed_of_answer",
    "asa_allen_cunneen",
    "staffing_table",
    "agents_needed",
    "simulate_queue",
    "queue_stats",
    "call_center_by_hour",
    "FaqSearch",
    "deflection_rate",
    "support_report",
    "RESPONSE_STANDARDS",
    "first_response_standards",
    "SERVICE_SCRIPT",
    "script_steps",
    "script_score",
    "inquiry_conversion",
    "assisted_orders",
    "IntentClassifier",
    "bot_decisions",
    "handoff_tradeoff",
    "SERVICE_COMPLAINT_WORDS",
    "mentions_needing_reply",
    "staffing_what_if",
]
