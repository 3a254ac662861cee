"""Re-execute the committed live what-if demos (``demos/NN_*_demo.ipynb``) in place.

A maintenance command of the course (``python -m crmlab.course.demos [07 ...]``); the demos'
widgets themselves are the presentation layer's :mod:`crmlab.demos`.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["execute_demo_notebooks"]


def execute_demo_notebooks(names: Sequence[str] = (), folder: str = "demos") -> dict[str, float]:
    """Re-execute the committed demo notebooks (``demos/NN_*_demo.ipynb``, or those whose
    names start with one of ``names``) at their defaults, in place; return seconds per notebook.

    The saved widget state is dropped: without it a viewer that has no live kernel (the HTML
    site, GitHub) shows the demo's default chart (its ``image/png``) instead of an empty widget
    (``python -m crmlab.course.demos [07 ...]``).
    """
    from pathlib import Path

    import nbformat

    from crmlab.course.build import execute_in_place

    paths = sorted(Path(folder).glob("[0-9][0-9]_*_demo.ipynb"))
    if names:
        paths = [p for p in paths if any(p.name.startswith(n) for n in names)]
    if not paths:
        raise ValueError(f"execute_demo_notebooks: no demo notebook in {folder}/ matches {list(names)}; "
                         "name one by its number, e.g. 07.")
    seconds = {}
    for path in paths:
        seconds[path.stem] = execute_in_place(path)
        nb = nbformat.read(path, as_version=4)
        nb.metadata.pop("widgets", None)
        nbformat.write(nb, path)
    return seconds


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    import sys

    for stem, took in execute_demo_notebooks(sys.argv[1:]).items():
        print(f"{stem}: {took:.1f} s")
