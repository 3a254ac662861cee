"""Tables shared by several indicators, computed once per call or per report.

Intermediate tables shared by several indicators (the order lines behind the return and
defect rates, the campaign reads and money, the SLA table) are computed once per
:func:`crmlab.kpi.compute_indicators` call, and the shop-wide ones (every order line, every
campaign's read) once per report (:func:`crmlab.kpi.kpi_history`,
:func:`crmlab.kpi.scorecard`), each period taking its rows. Outside such a call nothing is
cached: the tables may change between calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from crmlab._checks import trusting as _trusting

_SHARED: dict[tuple, Any] | None = None
_SHOP_WIDE = False  # inside a report: shop-wide tables, sliced per period


@contextmanager
def sharing(shop_wide: bool = False) -> Iterator[None]:
    """Inside the block, shared tables are computed once (shop-wide ones too with ``shop_wide``)."""
    global _SHARED, _SHOP_WIDE
    outer, outer_wide = _SHARED, _SHOP_WIDE
    if outer is None:
        _SHARED = {}
    _SHOP_WIDE = outer_wide or shop_wide
    try:
        with _trusting():  # the tables do not change during one report: check them once
            yield
    finally:
        _SHOP_WIDE = outer_wide
        if outer is None:
            _SHARED = None


def shared(key: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()``, or its earlier result for the same ``key`` inside :func:`sharing`.
    Keys hold the ``id`` of the input tables, which do not change during one call."""
    if _SHARED is None:
        return compute()
    if key not in _SHARED:
        _SHARED[key] = compute()
    return _SHARED[key]


def shop_wide() -> bool:
    """True inside a report (:func:`sharing` with ``shop_wide``): shop-wide tables, sliced per period."""
    return _SHOP_WIDE
