"""Answer functions of the exercises, one module per course unit: ``unitNN.py``.

Importing this package does nothing by itself; :func:`import_all` (called by
:func:`crmlab.exercises.registry.get_question` the first time an id is looked up) imports
every ``unit*.py`` module here, so a new unit only has to drop its file in this folder.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

_LOADED = False


def unit_modules() -> list[str]:
    """Names of the ``unitNN`` modules in this package, sorted."""
    here = Path(__file__).parent
    return sorted(
        info.name for info in pkgutil.iter_modules([str(here)])
        if info.name.startswith("unit") and not info.ispkg
    )


def import_all() -> None:
    """Import every ``unitNN`` module once (an import error in one of them is raised)."""
    global _LOADED
    if _LOADED:
        return
    for name in unit_modules():
        importlib.import_module(f"{__name__}.{name}")
    _LOADED = True
