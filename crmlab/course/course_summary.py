"""The course summary: every notebook's recorded results in one table.

This reads the course (notebooks and the build manifest), not the shop, so it is course
tooling (issue 30); ``crmlab.kpi.course_summary`` still finds it here (notebook 12 uses it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["course_summary"]


def _flatten(value: Any, prefix: str, out: list[tuple[str, Any]], depth: int = 0) -> None:
    """Scalars stay; small dicts are flattened one level (``name.key``); the rest is JSON."""
    if isinstance(value, Mapping) and depth == 0 and 0 < len(value) <= 8 and all(
            not isinstance(v, Mapping | list) for v in value.values()):
        for k, v in value.items():
            out.append((f"{prefix}.{k}", v))
        return
    if isinstance(value, Mapping | list):
        text = json.dumps(value, ensure_ascii=False)
        out.append((prefix, text if len(text) <= 80 else text[:77] + "..."))
        return
    out.append((prefix, value))


def _manifest_results(path: Path) -> dict[str, dict[str, Any]]:
    """Each notebook's recorded results as the build manifest at ``path`` holds them."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc.msg}); rebuild it with `crmlab build` "
                         "or pass manifest=None to read the notebooks.") from exc
    nbs = data.get("notebooks") if isinstance(data, Mapping) else None
    if not isinstance(nbs, Mapping):
        raise ValueError(f"{path}: no 'notebooks' section; rebuild it with `crmlab build`.")
    return {k: dict(v.get("results", {})) for k, v in nbs.items()}


def _notebook_results(folder: Path) -> dict[str, dict[str, Any]]:
    """Each committed notebook's recorded results, read from the notebooks in ``folder``."""
    from crmlab.nb import read_results

    if not folder.is_dir():
        raise ValueError(f"course_summary: no folder {folder}; pass notebooks_dir= the course's "
                         "notebooks/ folder.")
    return {nb.stem: read_results(nb) for nb in sorted(folder.glob("[0-9][0-9]_*.ipynb"))}


def course_summary(notebooks_dir: str | os.PathLike = "notebooks",
                   manifest: str | os.PathLike | None = "build/manifest.json",
                   exclude: Iterable[str] = ()) -> pd.DataFrame:
    """Every notebook's recorded results (:func:`crmlab.nb.record`) in one table.

    Read from the build manifest (``crmlab build`` writes ``build/manifest.json`` with each
    notebook's results) when it exists, otherwise from the committed notebooks in
    ``notebooks_dir`` with :func:`crmlab.nb.read_results`. Columns: ``notebook``,
    ``result`` (the recorded name; a small dict of scalars is spread over ``name.key``
    rows), ``value`` (scalars as they are, longer structures as shortened JSON text) and
    ``source`` (``manifest`` or ``notebook``). ``exclude`` names notebooks (stems) to skip.

    Parameters
    ----------
    notebooks_dir : path, default "notebooks"
        The course's notebooks folder.
    manifest : path or None, default "build/manifest.json"
        The build manifest; None to read the notebooks.
    exclude : iterable of str, default ()
        Notebook stems to skip.

    Returns
    -------
    pd.DataFrame
        notebook, result, value, source.
    """
    skip = set(exclude)
    path = Path(manifest) if manifest is not None else None
    if path is not None and path.is_file():
        results, source = _manifest_results(path), "manifest"
    else:
        results, source = _notebook_results(Path(notebooks_dir)), "notebook"
    rows: list[dict[str, Any]] = []
    for stem in sorted(results):
        if stem in skip:
            continue
        flat: list[tuple[str, Any]] = []
        for name, value in results[stem].items():
            _flatten(value, name, flat)
        for name, value in flat:
            rows.append({"notebook": stem, "result": name, "value": value, "source": source})
    out = pd.DataFrame(rows, columns=["notebook", "result", "value", "source"])
    out.attrs["notebooks"] = [s for s in sorted(results) if s not in skip]
    return out
