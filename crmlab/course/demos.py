"""Re-execute the committed live what-if demos (``demos/NN_*_demo.ipynb``) in place.

A maintenance command of the course (``python -m crmlab.course.demos [07 ...]``); the demos'
widgets themselves are the presentation layer's :mod:`crmlab.demos`.

:func:`execute_translated_demos` runs an edition's translated demos (``crmlab build --lang
zh-TW``), so their pages show the chart and the readings in the edition's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = ["execute_demo_notebooks", "execute_translated_demos"]


def _drop_widget_state(path: Path) -> None:
    """Drop the saved widget state: a viewer without a live kernel (the HTML site, GitHub)
    then shows the demo's chart (its ``image/png``) instead of an empty widget."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    if nb.metadata.pop("widgets", None) is not None:
        nbformat.write(nb, path)


def execute_demo_notebooks(names: Sequence[str] = (), folder: str = "demos") -> dict[str, float]:
    """Re-execute the committed demo notebooks (``demos/NN_*_demo.ipynb``, or those whose
    names start with one of ``names``) at their defaults, in place; return seconds per notebook.

    The saved widget state is dropped: without it a viewer that has no live kernel (the HTML
    site, GitHub) shows the demo's default chart (its ``image/png``) instead of an empty widget
    (``python -m crmlab.course.demos [07 ...]``).
    """
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
        _drop_widget_state(path)
    return seconds


def execute_translated_demos(translated: Sequence[Path], missing_dir: Path | None = None,
                             folder: Path | None = None) -> dict[str, float]:
    """Execute an edition's translated demos (written by :func:`crmlab.course.i18n.apply`, their
    language and catalog in the metadata) in place, with ``CRMLAB_LANG`` set, so the widget's
    heading, chart and reading and the reading cells are in that language; return seconds per
    demo. They run in the committed demos' folder ``folder`` (default ``demos/`` of the
    repository), as the English ones do; with ``missing_dir`` the strings no catalog knew go
    to ``<stem>.missing.txt`` there. A failing cell raises
    :class:`crmlab.course.build.NotebookExecutionError`.
    """
    import shutil
    import tempfile

    from crmlab.course import repository_root
    from crmlab.course.build import execute_notebook
    from crmlab.course.i18n import edition_environment

    cwd = folder or repository_root() / "demos"
    seconds = {}
    for path in map(Path, translated):
        with tempfile.TemporaryDirectory(prefix="crmlab-demo-") as tmp, \
                edition_environment(path, missing_dir):
            out = Path(tmp) / path.name
            seconds[path.stem] = execute_notebook(path, out, None, cwd=cwd, clean_metadata=True)
            shutil.copyfile(out, path)
        _drop_widget_state(path)
    return seconds


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    import sys

    for stem, took in execute_demo_notebooks(sys.argv[1:]).items():
        print(f"{stem}: {took:.1f} s")
