"""Attribution (歸因): which channels get the credit for a conversion.

:func:`touch_attribution` applies the rules (first touch, last touch, linear);
:class:`MarkovAttribution` is the data-driven Markov-chain model with the removal effect
(Anderl, Becker, von Wangenheim & Schumann 2016); :func:`attribution_table` puts them side
by side.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from crmlab.base import Estimator
from crmlab.journey._common import CONVERSION, NULL, SEP, START
from crmlab.journey.paths import _check_journeys

__all__ = ["MarkovAttribution", "attribution_table", "markov_attribution", "touch_attribution"]


def _tokens(journeys: pd.DataFrame, path_col: str, sep: str) -> pd.DataFrame:
    """Long table: one row per touch with the journey row number and position."""
    split = journeys[path_col].astype("str").str.split(sep.strip(), regex=False)
    long = split.explode().str.strip().rename("channel").to_frame()
    long["row"] = np.repeat(np.arange(len(journeys)), split.str.len().to_numpy())
    long = long.reset_index(drop=True)
    if (long["channel"] == "").any():
        raise ValueError(
            f"journeys: some paths in '{path_col}' have empty steps (e.g. 'a >  > b'); fix the "
            "path strings."
        )
    long["pos"] = long.groupby("row", sort=False).cumcount()
    long["n"] = long.groupby("row", sort=False)["channel"].transform("size")
    return long


def touch_attribution(
    journeys: pd.DataFrame,
    model: Literal["first_touch", "last_touch", "linear"] = "last_touch",
    *,
    path_col: str = "path",
    value_col: str | None = "value",
    sep: str = SEP,
) -> pd.DataFrame:
    """Rule-based attribution of converting journeys to channels.

    ``first_touch`` gives each conversion to the first channel of its path, ``last_touch``
    to the last one, ``linear`` splits it equally over all touches (a channel touched twice
    gets two shares). Columns: ``channel``, ``conversions`` (credited, fractional for
    linear), ``share`` and ``value`` (credited ``value_col``, if the journeys have it).

    Parameters
    ----------
    journeys : pd.DataFrame
        The table of :func:`crmlab.journey.journeys` (path, outcome, optionally value).
    model : {"first_touch", "last_touch", "linear"}, default "last_touch"
        The rule.
    path_col : str, default "path"
        The column of the paths.
    value_col : str or None, default "value"
        The column of the journeys' revenue, shared like the conversions; None to skip.
    sep : str, default " > "
        The separator of channels in a path.

    Returns
    -------
    pd.DataFrame
        One row per channel: channel, conversions, share (and value).
    """
    if model not in ("first_touch", "last_touch", "linear"):
        raise ValueError(
            f"touch_attribution: model={model!r}; use 'first_touch', 'last_touch' or 'linear' "
            "(or MarkovAttribution for the data-driven model)."
        )
    _check_journeys(journeys, path_col)
    conv = journeys.loc[journeys["outcome"].astype("str") == "conversion"].reset_index(drop=True)
    if len(conv) == 0:
        raise ValueError("journeys: no converting journeys (outcome 'conversion'); nothing to attribute.")
    has_value = value_col is not None and value_col in conv.columns
    long = _tokens(conv, path_col, sep)
    if model == "first_touch":
        long["credit"] = (long["pos"] == 0).astype("float64")
    elif model == "last_touch":
        long["credit"] = (long["pos"] == long["n"] - 1).astype("float64")
    else:
        long["credit"] = 1.0 / long["n"]
    long["value"] = long["credit"] * (conv[value_col].to_numpy(dtype="float64")[long["row"]]
                                      if has_value else 0.0)
    g = long.groupby("channel", sort=True)
    out = pd.DataFrame({"conversions": g["credit"].sum()})
    out["share"] = out["conversions"] / out["conversions"].sum()
    if has_value:
        out["value"] = g["value"].sum()
    return out.reset_index()


def _transitions(long: pd.DataFrame, converted: np.ndarray, states: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(counts, probabilities) of the transitions start -> touches -> conversion / null of the
    journeys' touches (``long`` of :func:`_tokens`); the two absorbing states map to themselves."""
    index = {s: i for i, s in enumerate(states)}
    code = long["channel"].map(index).to_numpy(dtype=np.int64)
    row = long["row"].to_numpy()
    first = long["pos"].to_numpy() == 0
    last = np.r_[row[1:] != row[:-1], True]
    terminal = np.where(converted, index[CONVERSION], index[NULL])
    src = np.r_[np.full(int(first.sum()), index[START]), code[~last], code[last]]
    dst = np.r_[code[first], code[1:][~last[:-1]], terminal[row[last]]]
    k = len(states)
    counts = np.bincount(src * k + dst, minlength=k * k).reshape(k, k).astype("float64")
    probs = counts / np.where(counts.sum(axis=1, keepdims=True) > 0,
                              counts.sum(axis=1, keepdims=True), 1.0)
    probs[index[CONVERSION], index[CONVERSION]] = 1.0
    probs[index[NULL], index[NULL]] = 1.0
    return counts, probs


class MarkovAttribution(Estimator):
    """First-order Markov-chain attribution with the removal effect (Anderl et al. 2016).

    Each journey becomes a path ``(start) -> c1 -> ... -> ck -> (conversion) | (null)``.
    ``fit`` counts the transitions between states, normalises them into the transition
    matrix, and solves the absorbing chain for ``P(conversion | start)``. The *removal
    effect* of channel ``c`` is the relative drop of that probability when ``c`` is removed
    (every transition into ``c`` goes to ``(null)`` instead):
    ``RE_c = 1 - P_without_c / P``. Conversions (and value) are shared in proportion to the
    removal effects.

    Input (``fit(journeys)``): one row per journey, as :func:`journeys` returns it.
    Needed columns:

    * ``path_col`` (default ``"path"``): the channels touched, in order, joined by ``sep``
      (``"search > email > direct"``);
    * ``outcome``: how the journey ended, one of ``"conversion"``, ``"null"`` (the customer
      left without buying) or ``"open"`` (the data end before either; see ``open_paths``).
      The column name is fixed: rename yours to ``outcome`` (a boolean "converted" flag maps
      to ``"conversion"``/``"null"``);
    * ``value_col`` (default ``"value"``, optional; ``None`` to skip): the converting
      journey's revenue, shared out like the conversions.

    Parameters
    ----------
    open_paths : "null", "drop" or "raise"
        What to do with journeys whose outcome is ``"open"`` (no terminal state yet):
        treat them as not converted (the default, the usual convention at the data end),
        drop them (counted in ``n_dropped_``) or raise ``ValueError``.
    collapse_repeats : bool
        Merge consecutive repeats of a channel (``a > a > b`` -> ``a > b``). Self-loops do
        not change absorption probabilities, but they change the transition counts shown.
    path_col : str, default "path"
        The column of the paths.
    value_col : str or None, default "value"
        The column of the journeys' revenue; None to skip.
    sep : str, default " > "
        The separator of channels in a path.

    Learned attributes: ``states_``, ``transition_counts_``, ``transition_matrix_`` (rows sum
    to 1; absorbing states map to themselves), ``conversion_probability_``,
    ``removal_effects_`` (Series by channel), ``attribution_`` (DataFrame: ``channel``,
    ``removal_effect``, ``share``, ``conversions``, ``value``), ``n_dropped_``.
    """

    _fit_call = "fit(journeys)"

    def __init__(
        self,
        open_paths: Literal["null", "drop", "raise"] = "null",
        collapse_repeats: bool = False,
        path_col: str = "path",
        value_col: str | None = "value",
        sep: str = SEP,
    ) -> None:
        self.open_paths = open_paths
        self.collapse_repeats = collapse_repeats
        self.path_col = path_col
        self.value_col = value_col
        self.sep = sep

    def fit(self, journeys: pd.DataFrame, y: None = None) -> MarkovAttribution:
        """Estimate the transition matrix and the removal effects from ``journeys``."""
        if self.open_paths not in ("null", "drop", "raise"):
            raise ValueError(
                f"MarkovAttribution: open_paths={self.open_paths!r}; use 'null', 'drop' or 'raise'."
            )
        _check_journeys(journeys, self.path_col)
        journeys, n_dropped = self._closed_journeys(journeys)
        converted = (journeys["outcome"].astype("str") == "conversion").to_numpy()
        if not converted.any():
            raise ValueError(
                "journeys: no converting journeys; the removal effect is undefined when "
                "nothing converts."
            )
        long = _tokens(journeys, self.path_col, self.sep)
        if self.collapse_repeats:
            prev = long.groupby("row", sort=False)["channel"].shift(1)
            long = long.loc[long["channel"] != prev].reset_index(drop=True)
            long["pos"] = long.groupby("row", sort=False).cumcount()
        channels = sorted(long["channel"].unique())
        states = [START, *channels, CONVERSION, NULL]
        counts, probs = _transitions(long, converted, states)
        self.n_dropped_ = n_dropped
        self.states_ = states
        self.transition_counts_ = pd.DataFrame(counts, index=states, columns=states).astype("int64")
        self.transition_matrix_ = pd.DataFrame(probs, index=states, columns=states)
        base = self._p_conversion(probs, removed=None)
        self.conversion_probability_ = base
        effects = {c: 1.0 - self._p_conversion(probs, removed=states.index(c)) / base for c in channels}
        self.removal_effects_ = pd.Series(effects, name="removal_effect", dtype="float64")
        self.removal_effects_.index.name = "channel"
        share = self.removal_effects_ / float(self.removal_effects_.sum())
        out = pd.DataFrame({"removal_effect": self.removal_effects_, "share": share,
                            "conversions": share * float(converted.sum())})
        if self.value_col is not None and self.value_col in journeys.columns:
            out["value"] = share * float(journeys.loc[converted, self.value_col].sum())
        self.attribution_ = out.reset_index()
        return self

    def _closed_journeys(self, journeys: pd.DataFrame) -> tuple[pd.DataFrame, int]:
        """The journeys to fit on (open ones dropped, kept as not converted, or an error, as
        ``open_paths`` says), re-indexed 0..n-1, and how many were dropped."""
        is_open = (journeys["outcome"].astype("str") == "open").to_numpy()
        n_dropped = 0
        if is_open.any():
            if self.open_paths == "raise":
                raise ValueError(
                    f"journeys: {int(is_open.sum())} journeys are still open (outcome 'open': no "
                    "terminal state yet); pass open_paths='null' to count them as not converted "
                    "or 'drop' to leave them out."
                )
            if self.open_paths == "drop":
                n_dropped = int(is_open.sum())
                journeys = journeys.loc[~is_open]
        return journeys.reset_index(drop=True), n_dropped

    @staticmethod
    def _p_conversion(probs: np.ndarray, removed: int | None) -> float:
        """P(absorbed in conversion | start) of the chain, optionally with a state removed."""
        k = probs.shape[0]
        conv, null = k - 2, k - 1
        p = probs.copy()
        if removed is not None:
            p[removed, :] = 0.0
            p[removed, null] = 1.0  # entering the removed channel ends the journey unconverted
        transient = np.arange(k - 2)
        q = p[np.ix_(transient, transient)]
        r = p[transient, conv]
        x = np.linalg.solve(np.eye(len(transient)) - q, r)
        return float(x[0])

    def transform(self, journeys: pd.DataFrame | None = None) -> pd.DataFrame:
        """The fitted attribution table (``journeys`` is accepted for the sklearn shape)."""
        self._check_fitted("attribution_")
        return self.attribution_.copy()

    def fit_transform(self, journeys: pd.DataFrame, y: None = None) -> pd.DataFrame:
        """``fit(journeys)`` then return the attribution table."""
        return self.fit(journeys).transform()


def markov_attribution(journeys: pd.DataFrame, **params: object) -> pd.DataFrame:
    """Markov-chain attribution table; ``params`` go to :class:`MarkovAttribution`.

    Parameters
    ----------
    journeys : pd.DataFrame
        The table of :func:`crmlab.journey.journeys`.
    **params
        Arguments of :class:`MarkovAttribution`.

    Returns
    -------
    pd.DataFrame
        The fitted ``attribution_`` table.
    """
    return MarkovAttribution(**params).fit_transform(journeys)  # type: ignore[arg-type]


def attribution_table(
    journeys: pd.DataFrame,
    *,
    path_col: str = "path",
    open_paths: Literal["null", "drop", "raise"] = "null",
    sep: str = SEP,
) -> pd.DataFrame:
    """Conversions credited to each channel by first touch, last touch, linear and Markov.

    Index ``channel``; one column per model; every column sums to the number of converting
    journeys, so the columns can be compared directly.

    Parameters
    ----------
    journeys : pd.DataFrame
        The table of :func:`crmlab.journey.journeys`.
    path_col : str, default "path"
        The column of the paths.
    open_paths : {"null", "drop", "raise"}, default "null"
        What the Markov model does with open journeys (see :class:`MarkovAttribution`).
    sep : str, default " > "
        The separator of channels in a path.

    Returns
    -------
    pd.DataFrame
        Conversions by channel (index) and model (columns first_touch, last_touch, linear,
        markov), by the Markov credit, largest first.
    """
    cols = {}
    for model in ("first_touch", "last_touch", "linear"):
        t = touch_attribution(journeys, model, path_col=path_col, value_col=None, sep=sep)
        cols[model] = t.set_index("channel")["conversions"]
    m = MarkovAttribution(open_paths=open_paths, path_col=path_col, value_col=None, sep=sep)
    cols["markov"] = m.fit(journeys).attribution_.set_index("channel")["conversions"]
    out = pd.DataFrame(cols).fillna(0.0)
    out.index.name = "channel"
    return out.sort_values("markov", ascending=False)
