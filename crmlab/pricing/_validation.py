"""Checks shared by the pricing modules: numbers, prices and seeds.

Bad input raises ``ValueError`` naming the argument (and where it was passed) and the fix.
"""

from __future__ import annotations

import math

import numpy as np

Seed = int | np.random.Generator | None
def _rng(seed: Seed) -> np.random.Generator:
    """A Generator from an int seed (or pass a Generator through)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _floats(values: object, name: str, *, where: str = "input") -> np.ndarray:
    """``values`` as a 1-d float array, or a ValueError naming ``name``."""
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=float))
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: '{name}' must be numbers, got {values!r}") from err
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{where}: '{name}' must be a non-empty list of numbers, got {values!r}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{where}: '{name}' contains NaN or infinity; remove or fill those values")
    return arr


def _check_positive(arr: np.ndarray, name: str, *, where: str = "input", fix: str = "") -> None:
    if np.any(arr <= 0):
        bad = arr[arr <= 0][:3].tolist()
        hint = fix or f"pass {name} > 0"
        raise ValueError(f"{where}: '{name}' must be positive, got {bad}; {hint}")


def _check_prices(price: object, *, where: str = "price") -> np.ndarray:
    """Prices as a float array; non-positive, NaN or infinite prices raise ValueError."""
    arr = np.asarray(price, dtype=float)
    if arr.size == 0:
        raise ValueError(f"{where}: no prices given; pass at least one price > 0")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{where}: prices contain NaN or infinity; pass finite prices > 0")
    if np.any(arr <= 0):
        bad = arr[arr <= 0].ravel()[:3].tolist()
        raise ValueError(
            f"{where}: prices must be positive (a price of 0 or less is not a price), got {bad}; "
            "pass prices > 0 in NT$"
        )
    return arr


def _scalar(value: float, name: str, *, where: str, minimum: float | None = None,
            strict: bool = True) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: '{name}' must be a number, got {value!r}") from err
    if not math.isfinite(out):
        raise ValueError(f"{where}: '{name}' must be finite, got {value!r}")
    if minimum is not None and (out <= minimum if strict else out < minimum):
        sign = ">" if strict else ">="
        raise ValueError(f"{where}: '{name}' must be {sign} {minimum}, got {value!r}")
    return out
