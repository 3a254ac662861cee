"""BG/NBD with given parameters, for what-if questions and the live demo
(:func:`crmlab.demos.clv_demo`): P(alive) and expected purchases by history."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.clv.models.bgnbd import BetaGeoModel

__all__ = ["bgnbd_model", "bgnbd_what_if"]


def bgnbd_model(r: float, alpha: float, a: float, b: float) -> BetaGeoModel:
    """A :class:`BetaGeoModel` with the given parameters instead of fitted ones.

    For what-if questions and published parameters (e.g. FHL 2005's CDNOW r = 0.243,
    alpha = 4.414, a = 0.793, b = 2.426, in weeks): every prediction method works as after
    ``fit``; ``standard_errors_`` and the log-likelihood of a fit are absent.

    Parameters
    ----------
    r, alpha, a, b : float
        The four BG/NBD parameters (all > 0; ``alpha`` in the periods of the summaries
        it will score).

    Returns
    -------
    BetaGeoModel
        A model ready to predict, with ``params_`` named "given".
    """
    values = {"r": r, "alpha": alpha, "a": a, "b": b}
    for name, value in values.items():
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"bgnbd_model: {name}={value!r} must be a number > 0.") from None
        if not np.isfinite(v) or v <= 0:
            raise ValueError(f"bgnbd_model: {name}={value!r} must be a finite number > 0 "
                             "(all four BG/NBD parameters are positive).")
    model = BetaGeoModel()
    model.params_ = pd.Series([float(v) for v in values.values()],
                              index=list(BetaGeoModel.param_names), name="given")
    model.boundary_ = ()
    model.boundary_note_ = ""
    return model


def bgnbd_what_if(r: float, alpha: float, a: float, b: float, *, T: float, horizon: float,
                  frequencies: tuple[int, ...] = (1, 2, 4, 8), n_recency: int = 40,
                  summary: pd.DataFrame | None = None) -> dict[str, object]:
    """P(alive) and expected purchases of customers seen for ``T`` periods, by history.

    ``grid``: for each repeat-purchase count in ``frequencies`` and ``n_recency`` recencies
    from ``T / n_recency`` to ``T`` (the last repeat purchase), :meth:`BetaGeoModel.p_alive`
    and :meth:`BetaGeoModel.predict_purchases` over the next ``horizon`` periods, for the
    model :func:`bgnbd_model` (r, alpha, a, b). With a ``summary`` (one row per customer,
    :func:`summarize`) also ``customers``, ``mean_p_alive`` and ``expected_purchases``
    (their total over the horizon). Time is in the unit of ``alpha``, ``T`` and ``horizon``.

    Parameters
    ----------
    r, alpha, a, b : float
        The BG/NBD parameters.
    T : float
        Periods each grid customer has been observed.
    horizon : float
        Forecast horizon in periods.
    frequencies : tuple of int, default (1, 2, 4, 8)
        Repeat-purchase counts of the grid.
    n_recency : int, default 40
        Recencies per frequency (at least 2).
    summary : pd.DataFrame, optional
        Real customers to score with the same model.

    Returns
    -------
    dict
        ``params``, ``T``, ``horizon`` and ``grid`` (a DataFrame), plus ``customers``,
        ``mean_p_alive`` and ``expected_purchases`` with a ``summary``.
    """
    model = bgnbd_model(r, alpha, a, b)
    T_, h = float(T), float(horizon)
    if not (np.isfinite(T_) and T_ > 0 and np.isfinite(h) and h > 0):
        raise ValueError(f"bgnbd_what_if: T={T!r} and horizon={horizon!r} must be numbers of "
                         "periods > 0 (the same unit as alpha).")
    xs = np.asarray(frequencies, dtype=float)
    if xs.ndim != 1 or xs.size == 0 or (xs < 0).any() or (xs != np.round(xs)).any():
        raise ValueError(f"bgnbd_what_if: frequencies={frequencies!r} must be whole numbers of "
                         "repeat purchases >= 0, e.g. (1, 2, 4, 8).")
    if int(n_recency) < 2:
        raise ValueError(f"bgnbd_what_if: n_recency={n_recency!r} must be at least 2.")
    recency = np.linspace(T_ / int(n_recency), T_, int(n_recency))
    grid = pd.DataFrame({"frequency": np.repeat(xs, recency.size).astype("int64"),
                         "recency": np.tile(recency, xs.size), "T": T_})
    grid["p_alive"] = model.p_alive(grid).to_numpy()
    grid["expected_purchases"] = model.predict_purchases(h, grid).to_numpy()
    out: dict[str, object] = {"params": model.params_.to_dict(), "T": T_, "horizon": h,
                              "grid": grid}
    if summary is not None:
        out.update(customers=len(summary),
                   mean_p_alive=float(model.p_alive(summary).mean()),
                   expected_purchases=float(model.predict_purchases(h, summary).sum()))
    return out
