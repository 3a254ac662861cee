"""Stage 13, B2B leads: a sales pipeline whose stage conversion depends on the owner's skill
(``truth["lead"]``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema
from ._arrays import _cat, _codes, _ts
from .timeline import Timeline

_STEPS = ("contacted", "qualified", "proposal", "negotiation", "won")
_TS_COLUMNS = ("contacted_ts", "qualified_ts", "proposal_ts", "negotiation_ts")


@dataclass(frozen=True)
class LeadConfig:
    """The planted sales pipeline.

    Parameters
    ----------
    members_per_lead, min_leads : int
        Leads = ``max(min_leads, members // members_per_lead)``, created uniformly over the window.
    owners, owner_skill : tuple
        Sales reps and their skill: P(pass step k) = ``stage_conversion[k] * skill`` for the
        steps after "contacted", clipped at ``max_pass``.
    stage_conversion : tuple of float
        Base chance of passing new->contacted->qualified->proposal->negotiation->won.
    stage_gap_days : tuple of float
        Mean days (exponential) between the steps.
    lost_after_days : float
        A lost lead closes Exponential(mean) days after its last step.
    sizes, size_mix, size_value : tuple
        Company size mix and median deal value (NT$; lognormal ``value_sd``, rounded to 100).
    sources, source_mix : tuple
        Lead sources and their shares.
    """

    members_per_lead: int = 10
    min_leads: int = 40
    owners: tuple[str, ...] = ("Chen", "Lin", "Huang", "Wang", "Wu")
    owner_skill: tuple[float, ...] = (1.2, 1.05, 1.0, 0.85, 0.7)
    stage_conversion: tuple[float, ...] = (0.9, 0.6, 0.7, 0.6, 0.55)
    stage_gap_days: tuple[float, ...] = (1.0, 5.0, 7.0, 10.0, 12.0)
    max_pass: float = 0.97
    lost_after_days: float = 8.0
    sizes: tuple[str, ...] = ("small", "medium", "large")
    size_mix: tuple[float, ...] = (0.5, 0.35, 0.15)
    size_value: tuple[float, ...] = (30000, 90000, 300000)
    value_sd: float = 0.5
    sources: tuple[str, ...] = ("web_form", "phone", "referral", "trade_show", "email")
    source_mix: tuple[float, ...] = (0.4, 0.15, 0.2, 0.1, 0.15)


LEADS = LeadConfig()


def _pipeline(rng: np.random.Generator, created: np.ndarray, owner: np.ndarray,
              cfg: LeadConfig) -> tuple[np.ndarray, ...]:
    """Steps reached, their times, whether won, and the close time of each lead."""
    n, n_steps = len(created), len(_STEPS)
    skill = np.array(cfg.owner_skill)
    # The owner's skill acts on every step after the first ("contacted").
    p = np.clip(np.array(cfg.stage_conversion)[None, :] * skill[owner][:, None] ** np.array([0, 1, 1, 1, 1]),
                0, cfg.max_pass)
    passed = rng.random((n, n_steps)) < p
    reached = np.cumprod(passed, axis=1).astype(bool)  # reached[:, k]: passed step k
    times = created[:, None] + np.cumsum(rng.exponential(np.array(cfg.stage_gap_days), (n, n_steps)), axis=1)
    # Fail time for a lost lead: some days after the last reached stage.
    n_passed = reached.sum(axis=1)
    last_t = np.where(n_passed > 0, times[np.arange(n), np.maximum(n_passed - 1, 0)], created)
    lost_t = last_t + rng.exponential(cfg.lost_after_days, n)
    won = n_passed == n_steps
    return reached, times, won, np.where(won, times[:, n_steps - 1], lost_t)


def draw_leads(rng: np.random.Generator, n_customers: int, tl: Timeline,
               cfg: LeadConfig = LEADS) -> tuple[pd.DataFrame, dict]:
    """The ``leads`` table and the pipeline's truth."""
    n = int(max(cfg.min_leads, n_customers // cfg.members_per_lead))
    owners = np.array(cfg.owners, dtype=object)
    created = np.sort(rng.uniform(0, tl.n_days - 1, n))
    owner = rng.integers(0, len(owners), n)
    size = rng.choice(len(cfg.sizes), n, p=cfg.size_mix)
    value = np.round(rng.lognormal(np.log(np.array(cfg.size_value)[size]), cfg.value_sd), -2)
    reached, times, won, closed_t = _pipeline(rng, created, owner, cfg)
    stage_names = np.asarray(schema.LEAD_STAGES, dtype=object)
    ts_cols = {}
    stage_now = np.zeros(n, dtype=int)
    for k, col in enumerate(_TS_COLUMNS):
        t = times[:, k]
        ok = reached[:, k] & (t < tl.n_days)
        ts_cols[col] = pd.Series(_ts(tl.start, t)).where(ok, pd.NaT)
        stage_now = np.where(ok, k + 1, stage_now)
    closed_ok = closed_t < tl.n_days
    stage_now = np.where(closed_ok, np.where(won, 5, 6), stage_now)  # won, lost
    table = pd.DataFrame({
        "lead_id": np.arange(1, n + 1),
        "created_ts": _ts(tl.start, created),
        "source": _cat(rng.choice(np.array(cfg.sources, dtype=object), n, p=cfg.source_mix), cfg.sources),
        "company_size": _codes(size, cfg.sizes),
        "owner": pd.Categorical(owners[owner], categories=list(owners)),
        "value": value,
        "stage": _cat(stage_names[stage_now], schema.LEAD_STAGES),
        **ts_cols,
        "closed_ts": pd.Series(_ts(tl.start, closed_t)).where(closed_ok, pd.NaT),
    })
    truth = {"stage_conversion": dict(zip(_STEPS, cfg.stage_conversion, strict=True)),
             "owner_skill": dict(zip(cfg.owners, cfg.owner_skill, strict=True)),
             "note": f"P(pass step k) = base_k * skill(owner) for steps after 'contacted', clipped at {cfg.max_pass}.",
             "stage_gap_days_mean": list(cfg.stage_gap_days)}
    return table, truth
