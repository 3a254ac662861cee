"""Build the course: execute every notebook with papermill and publish an HTML site.

``crmlab build`` (see :mod:`crmlab.cli`) and ``make materials`` call :func:`build`, which

1. finds ``notebooks/NN_topic.ipynb`` (or the ones named with ``only``);
2. executes each with papermill (kernel ``python3``, working directory ``notebooks/``),
   injecting only the parameters that the notebook's ``parameters`` cell defines, so
   ``-p N_CUSTOMERS 500`` reaches the notebooks that use it and leaves the others alone;
3. writes ``build/notebooks/<name>.ipynb`` (executed), ``build/site/<name>.html`` (one page
   per notebook), ``build/site/index.html`` (the course map) and ``build/manifest.json``
   (parameters, Python and package versions, seconds per notebook, recorded results).

A failing cell raises :class:`NotebookExecutionError`, naming the notebook, the cell and the
error. :func:`execute_notebook` is the single execution path, shared by the build, by
``crmlab notebooks`` (re-execute the committed notebooks in place) and by the test fixture.
"""

from __future__ import annotations

import ast
import concurrent.futures as cf
import datetime as _dt
import functools
import importlib.metadata
import json
import logging
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from crmlab.nb import read_results


class CourseEntry(NamedTuple):
    """One notebook in the course map."""

    unit: str  #: the course unit, e.g. "2 data analysis" (0 for the welcome notebook)
    modules: str  #: the crmlab module(s) the notebook teaches
    lecture: str  #: its place in the unit, e.g. "2a" (the label in its heading)


#: The course map: notebook -> (unit, crmlab module(s), lecture label). The one source of the
#: labels in notebook headings, exercise headings, the README and the site. Notebooks not
#: listed here are still built; their unit shows as "-".
COURSE_MAP: dict[str, CourseEntry] = {
    "00_welcome": CourseEntry("how to use the workbook, the shop's tables", "crmlab.data", "0"),
    "01_crm_systems": CourseEntry("1 CRM systems", "crmlab.profile, crmlab.data.store", "1a"),
    "01_data_governance_and_omnichannel": CourseEntry("1 CRM systems", "crmlab.profile", "1b"),
    "01_loyalty_and_privacy": CourseEntry("1 CRM systems", "crmlab.profile, crmlab.kpi", "1c"),
    "02_rfm_and_value": CourseEntry("2 data analysis", "crmlab.rfm", "2a"),
    "03_customer_journey": CourseEntry("2 data analysis", "crmlab.journey", "2b"),
    "03_transaction_value_and_selling_points": CourseEntry("2 data analysis",
                                                           "crmlab.journey, crmlab.kpi, crmlab.basket",
                                                           "2c"),
    "04_group_segmentation": CourseEntry("2 data analysis", "crmlab.segments", "2d"),
    "05_clv_and_churn": CourseEntry("2 data analysis", "crmlab.clv", "2e"),
    "05_early_warning_and_survival": CourseEntry("2 data analysis", "crmlab.clv, crmlab.survival",
                                                 "2f"),
    "06_recommendations_and_baskets": CourseEntry("3 personalization",
                                                  "crmlab.recommend, crmlab.basket", "3a"),
    "07_dynamic_pricing": CourseEntry("3 personalization", "crmlab.pricing", "3b"),
    "07_revenue_management": CourseEntry("3 personalization", "crmlab.pricing", "3c"),
    "08_offers_and_experiments": CourseEntry("3 personalization", "crmlab.offers", "3d"),
    "08_uplift_and_targeting": CourseEntry("3 personalization", "crmlab.offers", "3e"),
    "09_customer_support": CourseEntry("4 support", "crmlab.support", "4a"),
    "09_online_and_smart_service": CourseEntry("4 support", "crmlab.support, crmlab.journey", "4b"),
    "09_staffing_and_queues": CourseEntry("4 support", "crmlab.support", "4c"),
    "10_after_sales": CourseEntry("5 after-sales", "crmlab.aftersales", "5a"),
    "10_return_policy": CourseEntry("5 after-sales", "crmlab.aftersales", "5b"),
    "10_satisfaction_surveys": CourseEntry("5 after-sales", "crmlab.aftersales", "5c"),
    "11_feedback_loop": CourseEntry("6 feedback", "crmlab.feedback", "6a"),
    "11_root_cause_and_fix": CourseEntry("6 feedback", "crmlab.feedback", "6b"),
    "12_crm_scorecard": CourseEntry("7 evaluation + capstone", "crmlab.kpi", "7a"),
    "12_end_to_end_capstone": CourseEntry("7 evaluation + capstone",
                                          "crmlab.kpi, crmlab.segments, crmlab.clv, crmlab.offers, "
                                          "crmlab.pricing, crmlab.support, crmlab.feedback", "7b"),
    "13_research_at_scale": CourseEntry("2 data analysis, research (after 05)", "crmlab.scale",
                                        "2g"),
}

#: The course units in the source's words (繁體中文, English), keyed by unit number.
UNIT_NAMES: dict[str, tuple[str, str]] = {
    "0": ("開始之前", "before the units"),
    "1": ("CRM系統", "CRM systems"),
    "2": ("客戶數據分析", "customer data analysis"),
    "3": ("個性化行銷", "personalization"),
    "4": ("客戶服務", "customer support"),
    "5": ("售後服務", "after-sales service"),
    "6": ("用戶回饋", "user feedback"),
    "7": ("CRM實施效果評估", "evaluating CRM"),
}


def unit_label(stem: str) -> str:
    """The heading label of a course notebook, e.g. ``"Unit 2a · 客戶數據分析 (customer data
    analysis)"``, from :data:`COURSE_MAP` and :data:`UNIT_NAMES` (the one source)."""
    if stem not in COURSE_MAP:
        raise ValueError(f"{stem!r} is not in crmlab.build.COURSE_MAP; add it there first")
    lecture = COURSE_MAP[stem].lecture
    zh, en = UNIT_NAMES[lecture.rstrip("abcdefgh")]
    return f"Unit {lecture} · {zh} ({en})"


#: Tag of the last cell of a course notebook: links to its exercises, the next notebook and
#: the glossary, generated by :func:`navigation_markdown` (``crmlab notebooks --links``).
NAVIGATION_TAG = "navigation"


def exercise_notebook(stem: str, root: Path | None = None) -> str | None:
    """The exercise notebook of a course notebook (``"02_rfm_and_value_exercises.ipynb"``), or
    None when its unit has none. Looked up in ``exercises/`` of the repository."""
    folder = (root or Path(__file__).resolve().parent.parent) / "exercises"
    number = stem[:2]
    names = sorted(p.name for p in folder.glob(f"{number}_*_exercises.ipynb"))
    return names[0] if names else None


def demo_notebooks(stem: str, root: Path | None = None) -> list[str]:
    """The live what-if demos (``demos/*_demo.ipynb``) of a course notebook: those whose first
    cell links back to ``../notebooks/<stem>.ipynb`` (the demo says which lecture it serves)."""
    folder = (root or Path(__file__).resolve().parent.parent) / "demos"
    found = []
    for path in sorted(folder.glob("*_demo.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        first = "".join(cells[0].get("source", "")) if cells else ""
        if f"../notebooks/{stem}.ipynb" in first:
            found.append(path.stem)
    return found


def shared_exercise_notebook(stem: str, root: Path | None = None) -> str | None:
    """The exercise notebook of another number whose title cell names ``notebooks/<stem>.ipynb``
    (04's exercises live in 02's notebook), or None."""
    folder = (root or Path(__file__).resolve().parent.parent) / "exercises"
    for path in sorted(folder.glob("[0-9][0-9]_*_exercises.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        first = "".join(cells[0].get("source", "")) if cells else ""
        if f"notebooks/{stem}.ipynb" in first:
            return path.name
    return None


def navigation_markdown(stem: str, root: Path | None = None) -> str:
    """The last cell of notebook ``stem``: where to go next (exercises, next notebook, glossary).

    Links are relative to ``notebooks/``, so they work in the repository, in a student's
    workspace (the same layout) and on the site (which rewrites ``.ipynb`` links to pages).
    """
    stems = list(COURSE_MAP)
    if stem not in COURSE_MAP:
        raise ValueError(f"{stem!r} is not in crmlab.build.COURSE_MAP; add it there first")
    lines = ["## Next (下一步)", ""]
    exercise = exercise_notebook(stem, root)
    shared = shared_exercise_notebook(stem, root) if exercise is None else None
    if exercise:
        lines.append(f"* **Exercises:** [{exercise[:-len('.ipynb')]}](../exercises/{exercise}) "
                     "— checked answers for this notebook; open it, run all, fill in the blanks.")
    elif shared:
        lines.append(f"* **Exercises:** [{shared[:-len('.ipynb')]}](../exercises/{shared}) "
                     "— this notebook's exercises are in that notebook (shared); open it, run all, "
                     "fill in the blanks.")
    else:
        lines.append("* **Exercises:** this notebook has no exercise notebook yet; its "
                     "\"Try it\" prompts above are the practice.")
    for demo in demo_notebooks(stem, root):
        lines.append(f"* **Live demo:** [{demo}](../demos/{demo}.ipynb) — move the sliders and "
                     f"watch the answer change (JupyterLab, or `make demo NB={demo[:2]}`).")
    earlier = stems[: stems.index(stem)]
    if earlier:
        lines.append(f"* **Previous notebook:** [{earlier[-1]}]({earlier[-1]}.ipynb).")
    later = stems[stems.index(stem) + 1:]
    if later:
        nxt = later[0]
        lines.append(f"* **Next notebook:** [{nxt}]({nxt}.ipynb) — {unit_label(nxt)}.")
    else:
        lines.append("* **This is the last notebook.** Back to the course map in "
                     "[00_welcome](00_welcome.ipynb).")
    lines.append("* **Words:** the [glossary](../docs/glossary.md) (English, 繁體中文, 简体中文); "
                 "the course map is in [00_welcome](00_welcome.ipynb).")
    return "\n".join(lines)


def set_navigation(notebook: Any, stem: str, root: Path | None = None) -> bool:
    """Make the last cell of ``notebook`` its navigation cell (tag :data:`NAVIGATION_TAG`).

    Replaces an existing navigation cell, else appends one. Returns True when it changed.
    """
    import nbformat

    text = navigation_markdown(stem, root)
    cells = notebook.cells
    old = [i for i, c in enumerate(cells) if NAVIGATION_TAG in c.get("metadata", {}).get("tags", [])]
    if old == [len(cells) - 1] and cells[-1].source == text:
        return False
    for i in reversed(old):
        del cells[i]
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["tags"] = [NAVIGATION_TAG]
    cell["id"] = NAVIGATION_TAG  # a stable id: regenerating the cell changes nothing else
    cells.append(cell)
    return True


#: Tag of code cells that only record results for the tests (crmlab.nb.record): collapsed in
#: JupyterLab and left out of the site and the decks, so a notebook does not end in a printout.
RECORD_TAG = "record"


def is_record_cell(source: str) -> bool:
    """True for a code cell that only records results: each statement is a ``record(...)``
    call or an assignment feeding one, and there is at least one ``record(...)``."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False

    def is_record(stmt: ast.stmt) -> bool:
        return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
                and getattr(stmt.value.func, "id", None) == "record")

    records = sum(is_record(st) for st in body)
    others_ok = all(is_record(st) or isinstance(st, ast.Assign | ast.AnnAssign | ast.For)
                    for st in body)
    return records > 0 and others_ok


def quiet_record_cells(notebook: Any) -> bool:
    """Tag every record-only code cell :data:`RECORD_TAG` and collapse it (source and outputs).
    Returns True when something changed."""
    changed = False
    for cell in notebook.cells:
        if cell.cell_type != "code" or not is_record_cell(cell.source):
            continue
        meta = cell.setdefault("metadata", {})
        tags = meta.setdefault("tags", [])
        hidden = meta.setdefault("jupyter", {})
        if RECORD_TAG not in tags or not hidden.get("source_hidden") or not hidden.get("outputs_hidden"):
            if RECORD_TAG not in tags:
                tags.append(RECORD_TAG)
            hidden.update(source_hidden=True, outputs_hidden=True)
            changed = True
    return changed


def refresh_navigation(path: Path) -> bool:
    """Rewrite the navigation cell of the notebook file ``path`` (see :func:`set_navigation`)
    and collapse its record-only cells (:func:`quiet_record_cells`); True when the file changed.
    Outputs are untouched."""
    import nbformat

    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    quiet = quiet_record_cells(notebook)
    if not set_navigation(notebook, path.stem, path.resolve().parent.parent) and not quiet:
        return False
    nbformat.write(notebook, path)
    return True


#: Packages whose versions go into the manifest.
MANIFEST_PACKAGES = (
    "crmlab", "numpy", "pandas", "scipy", "scikit-learn", "mlxtend", "matplotlib", "seaborn",
    "pyarrow", "papermill", "nbconvert", "nbformat", "ipykernel", "lifetimes",
)

KERNEL_NAME = "python3"

#: Tag of code cells that only render a computed reading (crmlab.nb.say): input hidden on the site.
READING_TAG = "reading"


class NotebookExecutionError(RuntimeError):
    """A notebook cell raised. The message names the notebook, the cell and the error."""

    def __init__(self, notebook: str, cell: int | None, ename: str, evalue: str,
                 source: str = "", output: Path | None = None):
        self.notebook, self.cell, self.ename, self.evalue = notebook, cell, ename, evalue
        self.source, self.output = source, output
        where = f"cell {cell}" if cell is not None else "an unknown cell"
        first_line = next((ln for ln in source.splitlines() if ln.strip()), "")
        msg = f"{notebook}: {where} failed with {ename}: {evalue}"
        if first_line:
            msg += f"\n    the cell starts with: {first_line.strip()[:120]}"
        if output is not None:
            msg += f"\n    the partly executed notebook is at {output}"
        super().__init__(msg)

    def __reduce__(self):  # keep the fields when the error crosses a process boundary
        return (type(self), (self.notebook, self.cell, self.ename, self.evalue, self.source,
                             self.output))


# --------------------------------------------------------------------------- parameters


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


# --------------------------------------------------------------------------- execution


def _source_cell_index(src_nb: Any, failing_source: str) -> int | None:
    """Index of the cell in the *source* notebook with this source (papermill's index counts
    its injected cells, which the student never sees)."""
    for i, cell in enumerate(src_nb["cells"]):
        if cell.get("cell_type") == "code" and cell["source"].strip() == failing_source.strip():
            return i
    return None


def clean_papermill_metadata(nb: Any) -> Any:
    """Remove papermill's timestamps and durations so re-executed notebooks diff cleanly."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    return nb


class _PapermillParameterNoise(logging.Filter):
    """Drop papermill's two warnings about parameters cells with trailing comments.

    papermill re-parses the parameters cell itself and warns about every line with a comment
    ("Unable to parse line ...") and then about every injected name it missed ("Passed unknown
    parameter ..."). crmlab parses and checks the cell itself (:func:`parse_parameters`,
    :func:`split_parameters`: only names the cell defines are injected), so in a build log
    these are noise that hides real warnings.
    """

    NOISE = ("Unable to parse line", "Passed unknown parameter")

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.NOISE)


def _quiet_papermill() -> None:
    for name in ("papermill", "papermill.translators"):
        log = logging.getLogger(name)
        if not any(isinstance(f, _PapermillParameterNoise) for f in log.filters):
            log.addFilter(_PapermillParameterNoise())


def execute_notebook(
    source: str | os.PathLike,
    output: str | os.PathLike,
    parameters: Mapping[str, Any] | None = None,
    cwd: str | os.PathLike | None = None,
    kernel_name: str = KERNEL_NAME,
    clean_metadata: bool = False,
    timeout: int | None = None,
) -> float:
    """Execute ``source`` with papermill into ``output``; return the wall time in seconds.

    Only parameters the notebook's ``parameters`` cell defines are injected. ``cwd`` defaults
    to the source notebook's folder. On a failing cell the partly executed notebook is left
    at ``output`` and :class:`NotebookExecutionError` is raised.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError
    from traitlets.config import Config

    source, output = Path(source), Path(output)
    if not source.is_file():
        raise ValueError(f"execute_notebook: no notebook at {source}")
    _quiet_papermill()
    src_nb = _read(source)
    inject, _ignored = split_parameters(parameters or {}, notebook_parameters(src_nb))
    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        # The kernel talks over local IPC sockets in a private temporary folder: nothing
        # listens on TCP ports, and ipykernel has no reason to warn about plain-text TCP.
        with tempfile.TemporaryDirectory(prefix="crmlab-kernel-") as sockets:
            pm.execute_notebook(
                str(source),
                str(output),
                parameters=inject,
                kernel_name=kernel_name,
                cwd=str(cwd if cwd is not None else source.parent),
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                execution_timeout=timeout,
                config=Config({"KernelManager": {"transport": "ipc", "ip": f"{sockets}/kernel"}}),
            )
    except PapermillExecutionError as exc:
        raise NotebookExecutionError(
            source.stem, _source_cell_index(src_nb, exc.source), exc.ename, exc.evalue,
            source=exc.source, output=output,
        ) from None
    seconds = time.perf_counter() - start
    if clean_metadata:
        import nbformat

        nb = nbformat.read(output, as_version=4)
        nbformat.write(clean_papermill_metadata(nb), output)
    return seconds


def execute_in_place(notebook: str | os.PathLike, failed_dir: str | os.PathLike = "build/failed") -> float:
    """Re-execute a committed notebook at its defaults and replace it only on success.

    The notebook runs into a temporary file first, so a failing cell never clobbers the
    committed outputs; the failed copy is kept in ``failed_dir`` for inspection.
    """
    notebook = Path(notebook)
    with tempfile.TemporaryDirectory(prefix="crmlab-nb-") as tmp:
        out = Path(tmp) / notebook.name
        try:
            seconds = execute_notebook(notebook, out, None, cwd=notebook.parent, clean_metadata=True)
        except NotebookExecutionError as exc:
            keep = Path(failed_dir) / notebook.name
            keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(out, keep)
            raise NotebookExecutionError(exc.notebook, exc.cell, exc.ename, exc.evalue,
                                         exc.source, keep) from None
        shutil.copyfile(out, notebook)
    if notebook.stem in COURSE_MAP:
        refresh_navigation(notebook)  # its links follow the course map
    return seconds


# --------------------------------------------------------------------------- discovery


def discover(notebooks_dir: str | os.PathLike, only: Iterable[str] | None = None) -> list[Path]:
    """Course notebooks ``NN_topic.ipynb`` in ``notebooks_dir``, sorted; ``only`` picks some.

    ``only`` entries may be full stems (``02_rfm_and_value``), numbers (``02``) or file names.
    """
    root = Path(notebooks_dir)
    if not root.is_dir():
        raise ValueError(f"no notebooks folder at {root}; run from the repository root")
    found = sorted(p for p in root.glob("[0-9][0-9]_*.ipynb") if p.is_file())
    if only is None:
        return found
    picked: list[Path] = []
    for want in only:
        stem = Path(want).stem if want.endswith(".ipynb") else want
        matches = [p for p in found if p.stem == stem or p.stem.split("_", 1)[0] == stem]
        if not matches:
            raise ValueError(
                f"no notebook {want!r} in {root}; choose from: {', '.join(p.stem for p in found)}"
            )
        picked.extend(m for m in matches if m not in picked)
    return picked


def _title(nb: Any, fallback: str) -> str:
    """First markdown heading of the notebook (its title), without the leading #'s."""
    for cell in nb["cells"]:
        if cell.get("cell_type") == "markdown":
            for line in cell["source"].splitlines():
                if line.lstrip().startswith("#"):
                    return line.lstrip("# ").strip()
            break
    return fallback


def package_versions(names: Iterable[str] = MANIFEST_PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``names`` (``None`` when a package is not installed)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


# --------------------------------------------------------------------------- the build


@dataclass
class _Job:
    source: Path
    output: Path
    inject: dict[str, Any]
    ignored: list[str]


def _run_job(job: _Job, cwd: str, site: Path, slides: Path | None = None) -> float:
    """Execute one notebook, render its HTML page and, with ``slides``, its lecture deck
    into that folder (in a worker when jobs > 1)."""
    seconds = execute_notebook(job.source, job.output, job.inject, cwd=cwd)
    _html_page(job.output, site / f"{job.source.stem}.html")
    if slides is not None:
        from crmlab.slides import write_deck

        write_deck(job.output, slides / f"{job.source.stem}.html")
    return seconds


def _html_page(executed: Path, page: Path) -> None:
    """Render an executed notebook as a standalone HTML page (JupyterLab look)."""
    body, _ = _page_exporter().from_filename(str(executed))
    page.write_text(body, encoding="utf-8")


#: nbconvert's alt text for images that have none (the same words, so pages read the same).
MISSING_ALT = "No description has been provided for this image"
_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\salt=)", re.IGNORECASE)
_FOCUSABLE_DIV = re.compile(
    r'(<div\b[^>]*\sclass="(?:[^"]*\s)?(?:jp-Cell-inputWrapper|jp-OutputArea-output)(?=[\s"])[^"]*"'
    r"(?![^>]*\stabindex=)[^>]*?)(\s*/?>)"
)


def accessible_html(page: str) -> str:
    """nbconvert's accessibility pass, without parsing the page into a tree.

    ``HTMLExporter`` gives every ``<img>`` without alt text a placeholder and makes code
    inputs and outputs keyboard-focusable (``tabindex="0"``) by parsing the whole page with
    BeautifulSoup and printing it again: about 0.7 s of the 1.2 s a course page takes, most
    of it walking base64 images and highlighted code. The same two edits on the tags
    themselves give the same page (tests/unit/test_build.py compares the parsed trees).
    """
    page = _IMG_WITHOUT_ALT.sub(f'<img alt="{MISSING_ALT}"', page)
    return _FOCUSABLE_DIV.sub(r'\1 tabindex="0"\2', page)


def _fast_exporter(base: type) -> type:
    """``base`` (nbconvert's ``HTMLExporter`` or ``SlidesExporter``) with the accessibility
    pass done by :func:`accessible_html` instead of a BeautifulSoup round trip."""
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class CourseExporter(base):  # type: ignore[misc, valid-type]
        def from_notebook_node(self, nb, resources=None, **kw):  # type: ignore[override]
            # HTMLExporter.from_notebook_node (nbconvert 7) up to its BeautifulSoup pass.
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return accessible_html(page), resources

    CourseExporter.__name__ = CourseExporter.__qualname__ = f"Course{base.__name__}"
    return CourseExporter


@functools.cache
def _page_exporter() -> Any:
    """One HTML exporter per process (templates load once), with three changes to nbconvert's.

    * the template is :data:`crmlab.site.PAGE_TEMPLATE`: MathJax from ``build/assets`` and
      no other script from a CDN (pages work offline), room for the site's navigation;
    * ``clean_html``: the lab template runs every highlighted code cell through an HTML
      sanitizer (bleach); the code here is the course's own source highlighted by pygments,
      so that pass is skipped (outputs are treated as before);
    * the accessibility pass is :func:`accessible_html`.
    """
    from nbconvert import HTMLExporter

    from crmlab.site import page_settings

    exporter = _fast_exporter(HTMLExporter)(**page_settings())
    exporter.register_filter("clean_html", _own_html)
    # Reading cells (tag "reading") print computed prose with crmlab.nb.say: the site shows
    # the prose, not the code that renders it.
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_input_tags={READING_TAG}, remove_cell_tags={RECORD_TAG},
                              enabled=True), enabled=True
    )
    return exporter


def _own_html(text: str) -> str:
    """The identity, as nbconvert's ``clean_html`` filter for the course's own notebooks."""
    return text


def write_index(site: Path, notebooks: list[Path], manifest: Mapping[str, Any],
                out_dir: Path) -> Path:
    """Write ``site/index.html``, the course map (see :func:`crmlab.site.write_index`)."""
    from crmlab.site import write_index as site_index

    return site_index(site, notebooks, manifest, out_dir)


def worker_setup() -> None:
    """Initializer of the processes that execute notebooks (build and test pools).

    Importing papermill imports nbformat, whose JSON-schema library (jsonschema) also imports
    ``rfc3987_syntax`` when it is installed (JupyterLab's jupyter-events pulls it in), which
    compiles a grammar for 2-3 s, only to check "iri" string formats. Notebook files use no
    such format, so these worker processes mark the module as absent and skip that cost;
    the kernels, the main process and users' own sessions are untouched.
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]


def longest_first(jobs_list: list[_Job], previous_manifest: Path) -> list[_Job]:
    """The jobs in the order to start them: longest expected run first.

    With several workers, a long notebook started last runs alone at the end while the other
    workers idle; starting the longest first ("longest processing time" scheduling) keeps
    them all busy. Expected seconds come from the previous build's manifest when there is
    one; otherwise the amount of code in the notebook stands in for its run time.
    """
    seconds: dict[str, float] = {}
    if previous_manifest.is_file():
        try:
            old = json.loads(previous_manifest.read_text(encoding="utf-8")).get("notebooks", {})
            seconds = {name: float(info["seconds"]) for name, info in old.items() if "seconds" in info}
        except (ValueError, TypeError, KeyError, AttributeError):
            seconds = {}

    if all(job.source.stem in seconds for job in jobs_list):
        return sorted(jobs_list, key=lambda job: -seconds[job.source.stem])
    return sorted(jobs_list, key=lambda job: -code_size(job.source))


def code_size(notebook: str | os.PathLike) -> int:
    """Characters of code in a notebook: a rough stand-in for its run time when scheduling."""
    return sum(len(c["source"]) for c in _read(notebook)["cells"] if c.get("cell_type") == "code")


def build(
    notebooks_dir: str | os.PathLike = "notebooks",
    out_dir: str | os.PathLike = "build",
    parameters: Mapping[str, Any] | None = None,
    only: Iterable[str] | None = None,
    jobs: int = 1,
    progress: bool = True,
    per_notebook: Mapping[str, Mapping[str, Any]] | None = None,
    slides: bool = False,
) -> dict[str, Any]:
    """Execute the course notebooks and write the site; return the manifest (also saved).

    ``parameters`` apply to every notebook that defines them; ``per_notebook`` maps a
    notebook stem to extra parameters for that notebook only (from a YAML config).
    ``slides`` also writes each executed notebook's reveal.js deck to ``out_dir/slides/``.
    The site (:func:`crmlab.site.publish`) gets its offline assets, a page per released
    exercise notebook (``out_dir/exercises/``), the index and the navigation.
    Raises :class:`NotebookExecutionError` when a cell fails (after the notebooks already
    running have finished).
    """
    parameters = dict(parameters or {})
    per_notebook = {k: dict(v) for k, v in (per_notebook or {}).items()}
    if jobs < 1:
        raise ValueError(f"build: jobs must be >= 1, got {jobs}")
    notebooks_dir, out_dir = Path(notebooks_dir).resolve(), Path(out_dir).resolve()
    sources = discover(notebooks_dir, only)
    if not sources:
        raise ValueError(f"build: no NN_topic.ipynb notebooks in {notebooks_dir}")
    unknown = set(per_notebook) - {p.stem for p in discover(notebooks_dir)}
    if unknown:
        raise ValueError(f"build: per-notebook parameters name unknown notebooks: {sorted(unknown)}")

    executed_dir, site = out_dir / "notebooks", out_dir / "site"
    executed_dir.mkdir(parents=True, exist_ok=True)
    site.mkdir(parents=True, exist_ok=True)
    decks = out_dir / "slides" if slides else None

    jobs_list: list[_Job] = []
    defined_anywhere: set[str] = set()
    for src in sources:
        defined = notebook_parameters(src)
        defined_anywhere |= set(defined)
        wanted = {**parameters, **per_notebook.get(src.stem, {})}
        inject, ignored = split_parameters(wanted, defined)
        jobs_list.append(_Job(src, executed_dir / src.name, inject, ignored))
    unused = sorted(set(parameters) - defined_anywhere)
    if unused:
        import warnings

        warnings.warn(
            f"parameters {unused} are not defined by any of the selected notebooks "
            "(check the spelling: parameters are UPPER_CASE names from the parameters cells)",
            UserWarning,
            stacklevel=2,
        )

    seconds: dict[str, float] = {}
    failures: list[NotebookExecutionError] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs_list), desc="notebooks", unit="nb")
    start = time.perf_counter()
    cwd = str(notebooks_dir)
    if jobs == 1:
        for job in jobs_list:
            if bar is not None:
                bar.set_postfix_str(job.source.stem)
            try:
                seconds[job.source.stem] = _run_job(job, cwd, site, decks)
            except NotebookExecutionError as exc:
                failures.append(exc)
                break
            finally:
                if bar is not None:
                    bar.update(1)
    else:
        with cf.ProcessPoolExecutor(max_workers=jobs, initializer=worker_setup) as pool:
            order = longest_first(jobs_list, out_dir / "manifest.json")
            futures = {pool.submit(_run_job, job, cwd, site, decks): job for job in order}
            for fut in cf.as_completed(futures):
                job = futures[fut]
                try:
                    seconds[job.source.stem] = fut.result()
                except NotebookExecutionError as exc:
                    failures.append(exc)
                    for other in futures:
                        other.cancel()
                except cf.CancelledError:
                    pass
                if bar is not None:
                    bar.set_postfix_str(f"finished {job.source.stem}", refresh=False)
                    bar.update(1)
    if bar is not None:
        bar.close()
    if failures:
        raise failures[0]

    manifest: dict[str, Any] = {
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
        "parameters": parameters,
        "per_notebook_parameters": per_notebook,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "jobs": jobs,
        "total_seconds": round(time.perf_counter() - start, 2),
        "notebooks": {},
    }
    for job in jobs_list:
        stem = job.source.stem
        page = site / f"{stem}.html"
        manifest["notebooks"][stem] = {
            "source": os.path.relpath(job.source, out_dir.parent),
            "executed": os.path.relpath(job.output, out_dir),
            "html": os.path.relpath(page, out_dir),
            "seconds": round(seconds[stem], 2),
            "parameters": job.inject,
            "ignored_parameters": job.ignored,
            "results": read_results(job.output),
        }
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    from crmlab.site import publish

    publish(notebooks_dir, out_dir, manifest)
    return manifest
