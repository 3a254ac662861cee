"""The knobs of ``simulate()``: size presets, defaults, ranges, and their checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import schema

#: Size presets: customers, window and catalogue.
SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"n_customers": 300, "start": "2024-01-01", "end": "2024-12-31", "n_products": 80},
    "small": {"n_customers": 2000, "start": "2024-01-01", "end": "2025-12-31", "n_products": 240},
    "medium": {"n_customers": 20000, "start": "2024-01-01", "end": "2025-12-31", "n_products": 400},
}

#: The knobs and their defaults (planted as ``truth["bgnbd"]``, ``truth["gamma_gamma"]``, ...).
DEFAULT_KNOBS: dict[str, Any] = {
    "n_products": 240,
    # BG/NBD: lam ~ Gamma(r, rate alpha) purchases per average day; dropout p ~ Beta(a, b).
    "r": 0.8, "alpha": 55.0, "a": 0.8, "b": 3.2,
    # Gamma-Gamma: basket budget z ~ Gamma(gg_p, rate nu), nu ~ Gamma(gg_q, rate gg_gamma).
    "gg_p": 6.0, "gg_q": 4.0, "gg_gamma": 800.0,
    # Members who ever buy; campaign holdout; campaign effect (0: campaigns change nothing).
    "buyer_share": 0.85, "holdout_share": 0.2, "campaign_uplift_scale": 1.0,
    # Background calls a day (None: 60 per 1,000 members); defect rate during the incident;
    # chance a planted co-purchase anchor pulls its partner into the basket.
    "calls_per_day": None, "incident_defect_rate": 0.3, "copurchase_attach": 0.45,
    # "full" builds every table; "orders" only customers, products, orders, items, prices.
    "detail": "full",
}

#: Allowed range of each numeric knob.
KNOB_RANGES: dict[str, tuple[float, float]] = {
    "n_customers": (1, 50_000_000),
    "n_products": (len(schema.CATEGORIES) * 4, 100_000),
    "r": (1e-3, 100.0), "alpha": (1e-3, 1e6), "a": (1e-3, 100.0), "b": (1e-3, 1000.0),
    "gg_p": (0.1, 100.0), "gg_q": (1.01, 100.0), "gg_gamma": (1e-3, 1e8),
    "buyer_share": (0.0, 1.0), "holdout_share": (0.01, 0.99),
    "campaign_uplift_scale": (0.0, 5.0), "calls_per_day": (0.0, 1e5),
    "incident_defect_rate": (0.0, 1.0), "copurchase_attach": (0.0, 1.0),
}


def check_knobs(knobs: dict[str, Any]) -> None:
    """ValueError naming the knob when a value is not a number inside its range, or
    ``detail`` is not "full" or "orders"."""
    for name, (lo, hi) in KNOB_RANGES.items():
        if name in knobs and knobs[name] is not None:
            value = knobs[name]
            if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
                raise ValueError(f"simulate(): knob {name}={value!r} must be a number in [{lo}, {hi}].")
            if not (lo <= value <= hi):
                raise ValueError(
                    f"simulate(): knob {name}={value!r} is outside its range [{lo}, {hi}]; "
                    f"pick a value inside it."
                )
    if knobs.get("detail") not in ("full", "orders"):
        raise ValueError(f"simulate(): detail={knobs.get('detail')!r} must be 'full' or 'orders'.")


def _preset(n_customers: int | str, start: str, end: str, knobs: dict[str, Any]) -> tuple[Any, ...]:
    """Expand a size name into customers, window (unless given) and knobs."""
    if not isinstance(n_customers, str):
        return n_customers, start, end, knobs
    if n_customers not in SIZES:
        raise ValueError(f"simulate(): unknown size {n_customers!r}; use one of {sorted(SIZES)} or an integer.")
    preset = dict(SIZES[n_customers])
    n_customers = preset.pop("n_customers")
    if start == "2024-01-01" and end == "2025-12-31":
        start, end = preset.pop("start"), preset.pop("end")
    preset.pop("start", None)
    preset.pop("end", None)
    return n_customers, start, end, {**preset, **knobs}


def resolve(n_customers: int | str, start: str, end: str, seed: Any, knobs: dict[str, Any]) -> dict[str, Any]:
    """The full configuration of a ``simulate()`` call: preset expanded, defaults filled, checked.

    Parameters
    ----------
    n_customers : int or str
        Number of customers or a size name from ``SIZES``.
    start, end : str
        The window (a size preset's own window applies unless both are given).
    seed : int
        The random seed.
    knobs : dict
        Knob overrides (keys of ``DEFAULT_KNOBS``).

    Returns
    -------
    dict
        Every knob plus ``n_customers``, ``seed``, ``start`` and ``end`` (ISO dates).
    """
    n_customers, start, end, knobs = _preset(n_customers, start, end, knobs)
    unknown = set(knobs) - set(DEFAULT_KNOBS)
    if unknown:
        raise ValueError(f"simulate(): unknown knob(s) {sorted(unknown)}; known: {sorted(DEFAULT_KNOBS)}.")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"simulate(): seed={seed!r} must be an integer.")
    cfg = {**DEFAULT_KNOBS, **knobs, "n_customers": n_customers, "seed": int(seed)}
    check_knobs(cfg)
    try:
        s, e = pd.Timestamp(start), pd.Timestamp(end)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"simulate(): start/end must be dates like '2024-01-01' ({exc}).") from None
    cfg["start"], cfg["end"] = str(s.date()), str(e.date())
    cfg["n_customers"] = int(cfg["n_customers"])
    cfg["n_products"] = int(cfg["n_products"])
    return cfg
