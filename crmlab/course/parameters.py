"""A notebook's ``parameters`` cell: find it, parse its literal defaults, split the overrides.

Papermill can only override simple assignments, and students read this cell as "the knobs of
this notebook", so :func:`parse_parameters` accepts ``UPPER_CASE = literal`` lines only and
names the offending line otherwise. Used by the build (:mod:`crmlab.course.build`), the world
sweep and the notebook tests.
"""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["notebook_parameters", "parameters_cell", "parse_parameters", "split_parameters"]


def parameters_cell(nb: Mapping) -> tuple[int, Any] | None:
    """Return ``(index, cell)`` of the first code cell tagged ``parameters``, or ``None``."""
    for i, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get(
            "tags", []
        ):
            return i, cell
    return None


def parse_parameters(source: str, where: str = "parameters cell") -> dict[str, Any]:
    """Parse a parameters cell: literal ``UPPER_CASE = value`` assignments (and comments) only.

    Raises ``ValueError`` naming the offending line, because papermill can only override
    simple assignments and students read this cell as "the knobs of this notebook".
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"{where}: not valid Python ({exc.msg}, line {exc.lineno})") from exc
    params: dict[str, Any] = {}
    for node in tree.body:
        line = ast.get_source_segment(source, node) or ""
        if not (isinstance(node, ast.Assign | ast.AnnAssign)):
            raise ValueError(
                f"{where}: line {node.lineno} `{line}` is not an assignment; keep only "
                "`NAME = literal` lines in the parameters cell"
            )
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            raise ValueError(f"{where}: line {node.lineno} `{line}` must assign one plain name")
        name = targets[0].id
        if name != name.upper() or not name[0].isalpha():
            raise ValueError(
                f"{where}: parameter {name!r} (line {node.lineno}) must be UPPER_CASE, "
                f"e.g. {name.upper()}"
            )
        if node.value is None:
            raise ValueError(f"{where}: parameter {name} (line {node.lineno}) has no value")
        try:
            params[name] = ast.literal_eval(node.value)
        except ValueError as exc:
            raise ValueError(
                f"{where}: parameter {name} (line {node.lineno}) must be a literal "
                "(number, string, bool, None, list/dict of those), not an expression"
            ) from exc
    return params


def notebook_parameters(notebook: str | os.PathLike | Mapping) -> dict[str, Any]:
    """Return the default parameters ``{NAME: value}`` a notebook's ``parameters`` cell defines."""
    nb = _read(notebook)
    found = parameters_cell(nb)
    if found is None:
        return {}
    index, cell = found
    name = Path(notebook).stem if isinstance(notebook, str | os.PathLike) else "notebook"
    return parse_parameters(cell["source"], where=f"{name}: parameters cell (cell {index})")


def split_parameters(
    parameters: Mapping[str, Any], defined: Iterable[str]
) -> tuple[dict[str, Any], list[str]]:
    """Split ``parameters`` into those a notebook defines (to inject) and the ignored names."""
    defined = set(defined)
    inject = {k: v for k, v in parameters.items() if k in defined}
    ignored = sorted(k for k in parameters if k not in defined)
    return inject, ignored


def _read(notebook: str | os.PathLike | Mapping) -> Any:
    """A notebook as a mapping with ``cells`` whose ``source`` is one string.

    v4 files are read as plain JSON: only cell sources and tags are needed here, and
    importing nbformat costs 2-3 s (its JSON-schema validator), which a build would pay in
    the main process before any notebook starts. Other versions go through nbformat.
    """
    if not isinstance(notebook, str | os.PathLike):
        return notebook
    path = Path(notebook)
    nb = json.loads(path.read_text(encoding="utf-8"))
    if nb.get("nbformat") != 4:
        import nbformat

        return nbformat.read(path, as_version=4)
    for cell in nb.get("cells", []):
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    return nb
