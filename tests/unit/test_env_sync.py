"""environment.yml (conda) and pyproject.toml (pip) list the same dependencies.

conda cannot run on the CI machine, so this test is the guard: it fails when a dependency or
its version constraint is added, removed or changed in one file but not the other.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]

#: pip (PyPI) name -> conda-forge name, where they differ.
CONDA_NAMES = {
    "duckdb": "python-duckdb",
    "torch": "pytorch",
    "tables": "pytables",
    "graphviz": "python-graphviz",
}
#: conda-only entries that have no pip counterpart.
CONDA_ONLY = {"python", "pip"}
CONDA_SPEC = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$")


def pip_requirements() -> dict[str, str]:
    """``{conda-forge name: version specifier}`` from pyproject's dependencies and extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    out: dict[str, str] = {}
    for text in reqs:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        out[CONDA_NAMES.get(name, name)] = str(req.specifier)
    return out


def conda_requirements() -> tuple[dict[str, str], dict[str, str]]:
    """``({conda name: specifier}, {pip name: specifier})`` from environment.yml."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda: dict[str, str] = {}
    pip: dict[str, str] = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):  # a `pip:` section for packages not on conda-forge
            for text in dep.get("pip", []):
                req = Requirement(text)
                name = canonicalize_name(req.name)
                pip[CONDA_NAMES.get(name, name)] = str(req.specifier)
            continue
        match = CONDA_SPEC.match(dep)
        assert match, f"environment.yml: cannot parse {dep!r}"
        name, spec = match.group(1).lower(), match.group(2).replace(" ", "")
        if name in CONDA_ONLY:
            continue
        # conda's single "=" pin means "==" for our purpose; normalise through packaging.
        spec = re.sub(r"(?<![<>=!~])=(?!=)", "==", spec)
        conda[name] = str(Requirement(f"x{spec}").specifier)
    return conda, pip


def test_channel_is_conda_forge():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert env["channels"] == ["conda-forge"]
    assert any(str(d).startswith("python>=3.11") for d in env["dependencies"])


def test_same_packages_and_versions():
    pip_side = pip_requirements()
    conda, conda_pip = conda_requirements()
    both = {**conda, **conda_pip}
    missing_in_conda = sorted(set(pip_side) - set(both))
    missing_in_pip = sorted(set(both) - set(pip_side))
    assert not missing_in_conda, f"in pyproject.toml but not environment.yml: {missing_in_conda}"
    assert not missing_in_pip, f"in environment.yml but not pyproject.toml: {missing_in_pip}"
    differ = {k: (pip_side[k], both[k]) for k in pip_side if pip_side[k] != both[k]}
    assert not differ, f"version constraints differ (pyproject, environment.yml): {differ}"


def test_python_requirement_matches():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["requires-python"] == ">=3.11"
