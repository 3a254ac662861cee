"""crmlab.plots is a package (issue 30): the theme and figure checks in core.py, the charts of
each group of notebooks in charts_NN_MM.py, the demo charts in demo_charts.py. Every public
name of those files is reachable as ``crmlab.plots.<name>`` (the notebooks write
``plots.lorenz(...)``), and each group's file keeps the marker a new chart goes above."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

import crmlab.plots as plots

PACKAGE = Path(plots.__file__).parent
FILES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def test_the_package_has_the_core_and_one_file_per_group():
    assert FILES == ["charts_00_04", "charts_05_07", "charts_08_10", "charts_11_13", "core", "demo_charts"]


@pytest.mark.parametrize("stem", FILES)
def test_every_public_name_is_re_exported(stem):
    module = importlib.import_module(f"crmlab.plots.{stem}")
    own = [name for name, obj in vars(module).items()
           if not name.startswith("_") and (inspect.isfunction(obj) and obj.__module__ == module.__name__
                                            or name.isupper())]
    assert own, stem
    missing = [name for name in own if getattr(plots, name, None) is not getattr(module, name)]
    assert not missing, f"add {missing} to the imports of crmlab/plots/__init__.py"


@pytest.mark.parametrize("stem", [s for s in FILES if s.startswith("charts_")])
def test_each_group_file_ends_with_its_marker(stem):
    group = stem.removeprefix("charts_").replace("_", "-")
    last = (PACKAGE / f"{stem}.py").read_text(encoding="utf-8").rstrip().splitlines()[-1]
    assert last == f"# (end of the charts of notebooks {group})"
