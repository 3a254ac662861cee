"""Sales automation (銷售自動化): the lead pipeline from enquiry to won or lost deal.

:func:`lead_snapshot` places every lead in the pipeline on a given day;
:func:`stage_conversion` gives censoring-aware step rates, :func:`stage_durations` the days
between stages, :func:`sales_velocity` the sales-velocity equation, :func:`pipeline_forecast`
the stage-probability weighted pipeline and :func:`attainment` quota attainment by owner.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlab._checks import Reads, frame_with, reads
from crmlab._checks import as_timestamp as _timestamp
from crmlab.data.schema import LEAD_STAGES

__all__ = ["PIPELINE_STAGES", "attainment", "lead_snapshot", "pipeline_forecast", "sales_velocity",
           "stage_conversion", "stage_durations", "win_probability_by_stage"]


PIPELINE_STAGES: tuple[str, ...] = ("new", "contacted", "qualified", "proposal", "negotiation", "won")
_STAGE_TS = {"new": "created_ts", "contacted": "contacted_ts", "qualified": "qualified_ts",
             "proposal": "proposal_ts", "negotiation": "negotiation_ts"}


_LEAD_COLUMNS = ["lead_id", "created_ts", "owner", "value", "stage", "contacted_ts", "qualified_ts",
                 "proposal_ts", "negotiation_ts", "closed_ts"]


@reads(leads=Reads("leads", ("lead_id", "created_ts", "owner", "value", "stage", "contacted_ts",
                              "qualified_ts", "proposal_ts", "negotiation_ts", "closed_ts")))
def lead_snapshot(leads: pd.DataFrame, as_of: Any = None) -> pd.DataFrame:
    """Each lead's position in the pipeline, as the data end or as it stood at ``as_of``.

    Columns: lead_id, owner, value, created_ts, ``reached`` (furthest stage reached, one of
    :data:`PIPELINE_STAGES`), ``reached_idx`` (0 = new ... 5 = won), ``status`` (open / won /
    lost), ``stage_ts`` (when the current stage was entered) and ``closed_ts``. Leads created
    after ``as_of`` are left out (they did not exist yet); with ``as_of`` the timestamps after
    it are ignored, so a lead won later is still open on that day.

    Parameters
    ----------
    leads : pd.DataFrame
        The shop's ``leads`` table (lead_id, created_ts, owner, value, stage, the stage
        timestamps contacted_ts ... negotiation_ts, closed_ts).
    as_of : date-like, optional
        The day to look back to; default the data end (every timestamp counts).

    Returns
    -------
    pd.DataFrame
        One row per lead created by ``as_of``, with the columns above.
    """
    frame_with(leads, "leads", _LEAD_COLUMNS)
    bad_stage = ~leads["stage"].astype(str).isin(LEAD_STAGES)
    if bad_stage.any():
        raise ValueError(f"table 'leads', column 'stage': unknown value(s) "
                         f"{sorted(leads.loc[bad_stage, 'stage'].astype(str).unique())[:5]}; allowed: {list(LEAD_STAGES)}.")
    cut = None if as_of is None else _timestamp(as_of, "as_of")
    df = leads if cut is None else leads.loc[leads["created_ts"] <= cut]
    stamps, reached = _stages_reached(df, cut)
    closed, is_closed, won, lost = _closing(df, cut)
    reached = np.where(won, 5, reached)
    status = np.where(won, "won", np.where(lost, "lost", "open"))
    stage_ts = stamps[np.arange(len(df)), np.clip(reached, 0, 4)]
    stage_ts = np.where(won, closed, stage_ts)
    return pd.DataFrame({
        "lead_id": df["lead_id"].to_numpy(),
        "owner": df["owner"].reset_index(drop=True),
        "value": df["value"].to_numpy(dtype=float),
        "created_ts": df["created_ts"].to_numpy(),
        "reached": pd.Categorical(np.asarray(PIPELINE_STAGES, dtype=object)[reached], categories=list(PIPELINE_STAGES),
                                  ordered=True),
        "reached_idx": reached.astype(np.int64),
        "status": pd.Categorical(status, categories=["open", "won", "lost"]),
        "stage_ts": stage_ts,
        "closed_ts": np.where(is_closed, closed, np.datetime64("NaT", "ns")),
    })

def _stages_reached(df: pd.DataFrame, cut: pd.Timestamp | None) -> tuple[np.ndarray, np.ndarray]:
    """(stage timestamps, index of the furthest open-pipeline stage reached by ``cut``) per lead;
    a stage reached without the ones before it is an error in the data."""
    stamps = np.column_stack([df[_STAGE_TS[s]].to_numpy(dtype="datetime64[ns]") for s in PIPELINE_STAGES[:-1]])
    seen = ~np.isnat(stamps)
    if cut is not None:
        seen &= stamps <= np.datetime64(cut, "ns")
    # A stage cannot be reached without the ones before it.
    gaps = seen[:, 1:] & ~seen[:, :-1]
    if gaps.any():
        rows = df["lead_id"].to_numpy()[gaps.any(axis=1)][:5].tolist()
        raise ValueError(f"table 'leads': lead(s) {rows} have a stage timestamp without the earlier stages'; "
                         "fix: fill contacted_ts/qualified_ts/... for every stage a lead passed.")
    return stamps, seen.sum(axis=1) - 1


def _closing(df: pd.DataFrame, cut: pd.Timestamp | None) -> tuple[np.ndarray, ...]:
    """(closed_ts, closed by ``cut``, won, lost) per lead; a closed lead must be won or lost."""
    closed = df["closed_ts"].to_numpy(dtype="datetime64[ns]")
    is_closed = ~np.isnat(closed)
    if cut is not None:
        is_closed &= closed <= np.datetime64(cut, "ns")
    final = df["stage"].astype(str).to_numpy()
    if (is_closed & ~np.isin(final, ["won", "lost"])).any():
        rows = df["lead_id"].to_numpy()[is_closed & ~np.isin(final, ["won", "lost"])][:5].tolist()
        raise ValueError(f"table 'leads': lead(s) {rows} have closed_ts but stage is neither won nor lost; "
                         "fix: set stage to 'won' or 'lost', or clear closed_ts.")
    return closed, is_closed, is_closed & (final == "won"), is_closed & (final != "won")



@reads(leads="")
def stage_conversion(leads: pd.DataFrame, by: str | None = None, as_of: Any = None) -> pd.DataFrame:
    """Step conversion rates of the pipeline, counting only leads whose step is decided.

    For the step from stage k-1 to stage k: ``passed`` leads reached k; ``lost`` leads were
    lost while at k-1; leads still open at k-1 have not had their chance yet and are left
    out of the rate (counted in ``open``), otherwise a young pipeline would look like a bad
    one. ``conversion = passed / (passed + lost)`` with its binomial standard error ``se``;
    ``cum_conversion`` multiplies the steps (share of new leads that would be won).
    ``by="owner"`` gives one block per owner.

    Parameters
    ----------
    leads : pd.DataFrame
        The shop's ``leads`` table.
    by : str, optional
        A column of the snapshot or of ``leads`` (e.g. ``"owner"``) for one block per group.
    as_of : date-like, optional
        Measure the pipeline as it stood on this day (see :func:`lead_snapshot`).

    Returns
    -------
    pd.DataFrame
        One row per step (per group): step, from_stage, to_stage, reached_from, passed, lost,
        open, conversion, se, cum_conversion.
    """
    snap = lead_snapshot(leads, as_of)
    if by is not None and by not in snap.columns:
        if by not in leads.columns:
            raise ValueError(f"stage_conversion(): table 'leads' has no column {by!r} to group by.")
        snap[by] = leads.set_index("lead_id").loc[snap["lead_id"], by].to_numpy()
    groups = [(None, snap)] if by is None else list(snap.groupby(by, observed=True, sort=True))
    out = []
    for key, g in groups:
        r = g["reached_idx"].to_numpy()
        st = g["status"].astype(str).to_numpy()
        cum = 1.0
        for k in range(1, len(PIPELINE_STAGES)):
            passed = int((r >= k).sum())
            lost = int(((r == k - 1) & (st == "lost")).sum())
            still = int(((r == k - 1) & (st == "open")).sum())
            n = passed + lost
            p = passed / n if n else np.nan
            cum = cum * p if n else np.nan
            row = {"step": f"{PIPELINE_STAGES[k - 1]}->{PIPELINE_STAGES[k]}", "from_stage": PIPELINE_STAGES[k - 1],
                   "to_stage": PIPELINE_STAGES[k], "reached_from": passed + lost + still, "passed": passed,
                   "lost": lost, "open": still, "conversion": p,
                   "se": float(np.sqrt(p * (1 - p) / n)) if n else np.nan, "cum_conversion": cum}
            if by is not None:
                row = {by: key, **row}
            out.append(row)
    return pd.DataFrame(out)


@reads(leads="")
def stage_durations(leads: pd.DataFrame) -> pd.DataFrame:
    """Days spent between consecutive stages (n, mean, median, se), for leads that made the step.

    ``se_days`` is the standard error of the mean (sample standard deviation / sqrt(n); NaN
    below two leads), so a mean can be compared with a planted or target gap without reading
    noise as a difference. Steps still in progress at the data end are not counted (their
    duration is unknown), so long steps in a young pipeline are slightly under-represented.

    Parameters
    ----------
    leads : pd.DataFrame
        The shop's ``leads`` table.

    Returns
    -------
    pd.DataFrame
        One row per step: step, n, mean_days, median_days, se_days.
    """
    frame_with(leads, "leads", _LEAD_COLUMNS)
    cols = ["created_ts", "contacted_ts", "qualified_ts", "proposal_ts", "negotiation_ts"]
    won_close = leads["closed_ts"].where(leads["stage"].astype(str) == "won")
    out = []
    for k in range(5):
        a = leads[cols[k]]
        b = leads[cols[k + 1]] if k < 4 else won_close
        days = ((b - a) / pd.Timedelta(days=1)).dropna()
        out.append({"step": f"{PIPELINE_STAGES[k]}->{PIPELINE_STAGES[k + 1]}", "n": len(days),
                    "mean_days": float(days.mean()) if len(days) else np.nan,
                    "median_days": float(days.median()) if len(days) else np.nan,
                    "se_days": float(days.std(ddof=1) / np.sqrt(len(days))) if len(days) > 1 else np.nan})
    return pd.DataFrame(out)


@reads(leads="")
def sales_velocity(leads: pd.DataFrame, by: str | None = None, as_of: Any = None) -> pd.DataFrame:
    """The sales-velocity equation: open opportunities x win rate x average deal / cycle length.

    Columns: open_opportunities, win_rate (won / closed), avg_won_value, cycle_days (mean days
    from enquiry to a won close) and ``velocity_per_day`` = NT$ of revenue the current
    pipeline produces per day at these rates. ``by="owner"`` for one row per sales rep.

    Parameters
    ----------
    leads : pd.DataFrame
        The shop's ``leads`` table.
    by : str, optional
        A snapshot column such as ``"owner"`` for one row per group; default one row ``"all"``.
    as_of : date-like, optional
        Measure the pipeline as it stood on this day.

    Returns
    -------
    pd.DataFrame
        One row per group: open_opportunities, won, closed, win_rate, avg_won_value,
        cycle_days, velocity_per_day.
    """
    snap = lead_snapshot(leads, as_of)
    snap["cycle_days"] = (snap["closed_ts"] - snap["created_ts"]) / pd.Timedelta(days=1)
    groups = [("all", snap)] if by is None else list(snap.groupby(by, observed=True, sort=True))
    rows = []
    for key, g in groups:
        won = g.loc[g["status"] == "won"]
        closed = int((g["status"] != "open").sum())
        win_rate = len(won) / closed if closed else np.nan
        avg = float(won["value"].mean()) if len(won) else np.nan
        cycle = float(won["cycle_days"].mean()) if len(won) else np.nan
        n_open = int((g["status"] == "open").sum())
        vel = n_open * win_rate * avg / cycle if len(won) and cycle > 0 else np.nan
        rows.append({by or "group": key, "open_opportunities": n_open, "won": len(won), "closed": closed,
                     "win_rate": win_rate, "avg_won_value": avg, "cycle_days": cycle, "velocity_per_day": vel})
    return pd.DataFrame(rows)


def win_probability_by_stage(conversion: pd.DataFrame) -> pd.Series:
    """P(won | the lead is currently at stage s) = product of the remaining step conversions.

    Parameters
    ----------
    conversion : pd.DataFrame
        The step table of :func:`stage_conversion` (from_stage, conversion), without ``by``.

    Returns
    -------
    pd.Series
        ``win_probability`` by stage, 1 for ``won``.
    """
    frame_with(conversion, "conversion", ["from_stage", "conversion"])
    p = conversion.set_index("from_stage")["conversion"]
    probs = {}
    for i, s in enumerate(PIPELINE_STAGES[:-1]):
        probs[s] = float(np.prod([p[t] for t in PIPELINE_STAGES[i:-1]]))
    probs["won"] = 1.0
    return pd.Series(probs, name="win_probability")


@reads(leads="")
def pipeline_forecast(leads: pd.DataFrame, probabilities: Mapping[str, float] | pd.Series | None = None,
                      as_of: Any = None) -> pd.DataFrame:
    """Weighted pipeline: each open lead's value times the chance its stage ends in a win.

    ``probabilities`` maps stage -> P(win) (e.g. the sales team's standard 10/25/50/75%);
    by default they are estimated from the leads already decided at ``as_of`` with
    :func:`stage_conversion`. Returns one row per open lead: lead_id, owner, stage, value,
    win_probability and expected_value; sum ``expected_value`` for the forecast.

    Parameters
    ----------
    leads : pd.DataFrame
        The shop's ``leads`` table.
    probabilities : mapping or pd.Series, optional
        P(win) by stage for every stage an open lead is in, each in [0, 1]; default estimated
        with :func:`stage_conversion`.
    as_of : date-like, optional
        Forecast the pipeline as it stood on this day.

    Returns
    -------
    pd.DataFrame
        One row per open lead: lead_id, owner, stage, value, win_probability, expected_value.
    """
    snap = lead_snapshot(leads, as_of)
    if probabilities is None:
        conv = stage_conversion(leads, as_of=as_of)
        if conv["conversion"].isna().any():
            raise ValueError("pipeline_forecast(): some steps have no decided leads yet, so their conversion is "
                             "unknown; pass probabilities={'new': ..., 'contacted': ..., ...}.")
        probs = win_probability_by_stage(conv)
    else:
        probs = pd.Series(dict(probabilities), dtype=float)
        open_stages = set(snap.loc[snap["status"] == "open", "reached"].astype(str))
        missing = sorted(open_stages - set(probs.index))
        if missing:
            raise ValueError(f"pipeline_forecast(): probabilities lack stage(s) {missing} that open leads are in.")
        if ((probs < 0) | (probs > 1)).any():
            raise ValueError("pipeline_forecast(): probabilities must lie in [0, 1].")
    op = snap.loc[snap["status"] == "open"].reset_index(drop=True)
    p = op["reached"].astype(str).map(probs).to_numpy(dtype=float)
    return pd.DataFrame({"lead_id": op["lead_id"], "owner": op["owner"], "stage": op["reached"],
                         "value": op["value"], "win_probability": p, "expected_value": op["value"] * p})


@reads(leads="")
def attainment(leads: pd.DataFrame, targets: Mapping[str, float] | pd.Series | float, start: Any, end: Any,
               probabilities: Mapping[str, float] | pd.Series | None = None) -> pd.DataFrame:
    """Quota attainment by owner for deals closed in [start, end], plus the weighted open pipeline.

    Columns: owner, target, won_deals, won_value, attainment (won_value / target), gap
    (target - won_value, negative when over target), weighted_pipeline (open at ``end``,
    from :func:`pipeline_forecast`) and projected_attainment ((won + weighted) / target).
    ``targets`` is one number for everyone or a mapping owner -> target; an owner with
    leads but no target is an error (nothing is dropped silently).

    Parameters
    ----------
    leads : pd.DataFrame
        The shop's ``leads`` table.
    targets : float, mapping or pd.Series
        NT$ target per owner, or one number for every owner; positive.
    start, end : date-like
        The period of closed deals, both days included (a date means the whole day).
    probabilities : mapping or pd.Series, optional
        P(win) by stage for the weighted pipeline (see :func:`pipeline_forecast`).

    Returns
    -------
    pd.DataFrame
        One row per owner, best attainment first, with the columns above.
    """
    frame_with(leads, "leads", _LEAD_COLUMNS)
    t0, t1 = _timestamp(start, "start"), _timestamp(end, "end")
    if t1 < t0:
        raise ValueError(f"attainment(): end {t1.date()} is before start {t0.date()}.")
    period_end = t1 + pd.Timedelta(days=1) if t1 == t1.normalize() else t1  # a date means the whole day
    owners = sorted(leads["owner"].astype(str).unique())
    if isinstance(targets, int | float | np.integer | np.floating) and not isinstance(targets, bool):
        tgt = pd.Series(float(targets), index=owners)
    else:
        tgt = pd.Series(dict(targets), dtype=float)
        missing = [o for o in owners if o not in tgt.index]
        if missing:
            raise ValueError(f"attainment(): no target for owner(s) {missing}; pass targets for every owner "
                             "in table 'leads', column 'owner' (or one number for all).")
    if (tgt <= 0).any():
        raise ValueError("attainment(): targets must be positive NT$ amounts.")
    won = leads.loc[(leads["stage"].astype(str) == "won") & (leads["closed_ts"] >= t0) & (leads["closed_ts"] < period_end)]
    won_by = won.groupby(won["owner"].astype(str))["value"].agg(["size", "sum"])
    fc = pipeline_forecast(leads, probabilities, as_of=period_end - pd.Timedelta(seconds=1))
    pipe = fc.groupby(fc["owner"].astype(str))["expected_value"].sum()
    out = pd.DataFrame({"owner": tgt.index.astype(str), "target": tgt.to_numpy()})
    out["won_deals"] = out["owner"].map(won_by["size"]).fillna(0).astype("int64")
    out["won_value"] = out["owner"].map(won_by["sum"]).fillna(0.0)
    out["attainment"] = out["won_value"] / out["target"]
    out["gap"] = out["target"] - out["won_value"]
    out["weighted_pipeline"] = out["owner"].map(pipe).fillna(0.0)
    out["projected_attainment"] = (out["won_value"] + out["weighted_pipeline"]) / out["target"]
    return out.sort_values("attainment", ascending=False, kind="stable").reset_index(drop=True)
