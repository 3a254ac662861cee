"""The ``crmlab`` command.

::

    crmlab build [-p KEY VALUE]... [--config course.yaml] [--only NAME...] [--jobs N] [--out build]
    crmlab notebooks [NAME...] [--jobs N]      # re-execute committed notebooks in place
    crmlab workspace [--out workspace]          # a student's own copy (adds, never overwrites)
    crmlab worlds [--world NAME...] [--ci] [--only NAME...] [--matrix FILE]   # the world sweep
    crmlab build --slides ...                   # also one reveal.js deck per notebook
    crmlab slides build [NAME...] [--out build] # decks from the committed notebooks (no execution)
    crmlab slides annotate [NAME...] [--dry-run]  # slide metadata by crmlab.course.slides' rules

Other packages plug in their own subcommands: if ``crmlab.data.cli`` or
``crmlab.course.exercises.cli`` exists, its ``register(subparsers)`` is called. A registered
subcommand sets ``func`` (via ``set_defaults``) to a callable taking the parsed namespace and
returning an exit code (or ``None`` for success).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from crmlab._checks import out_folder as _out_folder

#: Written into ``--out`` when a build fails: the folder then holds a failed build.
FAILED_MARK = "BUILD_FAILED.txt"

#: Modules that may add subcommands; missing ones are skipped.
PLUGIN_MODULES = ("crmlab.data.cli", "crmlab.course.exercises.cli", "crmlab.course.i18n")


def parse_value(text: str) -> Any:
    """Parse a ``-p`` value as a YAML scalar: ``7`` -> 7, ``0.5`` -> 0.5, ``small`` -> "small"."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def load_config(path: str | Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Read a YAML course config; return ``(parameters, per_notebook)``.

    Either a flat mapping of UPPER_CASE parameters::

        SEED: 7
        DATA: medium

    or a mapping with ``parameters:`` (for every notebook) and ``notebooks:`` (per notebook)::

        parameters: {SEED: 7}
        notebooks:
          05_clv_and_churn: {HOLDOUT_WEEKS: 26}
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"config file {path} does not exist; pass the path of a YAML file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"--config {path} is not a text file (not UTF-8); pass a YAML file such "
                         "as course.yaml with lines like 'SEED: 7'") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ValueError(f"--config {path}: YAML syntax error{line} ({problem}); fix that line, "
                         "e.g. 'SEED: 7' (a colon and a space after each name)") from None
    if not isinstance(data, dict):
        raise ValueError(f"config file {path}: expected a YAML mapping of PARAMETER: value")
    if set(data) <= {"parameters", "notebooks"}:
        params = data.get("parameters") or {}
        per_nb = data.get("notebooks") or {}
    else:
        params, per_nb = data, {}
    if not isinstance(params, dict) or not isinstance(per_nb, dict) or not all(
        isinstance(v, dict) for v in per_nb.values()
    ):
        raise ValueError(
            f"config file {path}: 'parameters' must map NAME: value and 'notebooks' must map "
            "notebook name -> {NAME: value}"
        )
    for name in [*params, *(k for v in per_nb.values() for k in v)]:
        if not isinstance(name, str) or name != name.upper():
            raise ValueError(
                f"config file {path}: parameter {name!r} must be an UPPER_CASE name as in the "
                "notebooks' parameters cells (e.g. SEED, DATA)"
            )
    return dict(params), {str(k): dict(v) for k, v in per_nb.items()}


def _mark_failed_build(out: Path, error: BaseException) -> str:
    """Mark ``out`` as holding a failed build: the previous run's manifest would otherwise sit
    next to the new failed notebook and read as the result of this build."""
    note = ""
    manifest = out / "manifest.json"
    if manifest.is_file():
        manifest.replace(out / "manifest.previous.json")
        note = " The previous build's manifest is kept as manifest.previous.json."
    if out.is_dir():
        (out / FAILED_MARK).write_text(f"This build failed: {error}\nRe-run crmlab build after "
                                       "fixing it; the folder is complete only without this file.\n",
                                       encoding="utf-8")
        note += f" {out / FAILED_MARK} marks the folder as a failed build."
    return note


def _cmd_build(args: argparse.Namespace) -> int:
    from crmlab.course.build import NotebookExecutionError, build

    out = _out_folder(args.out)
    params: dict[str, Any] = {}
    per_nb: dict[str, dict[str, Any]] = {}
    if args.config:
        params, per_nb = load_config(args.config)
    for key, value in args.param or []:
        if key != key.upper():
            raise ValueError(f"-p {key}: parameter names are UPPER_CASE (did you mean {key.upper()}?)")
        params[key] = parse_value(value)
    try:
        manifest = build(
            args.notebooks, args.out, params, only=args.only or None, jobs=args.jobs,
            progress=not args.quiet, per_notebook=per_nb, slides=args.slides, lang=args.lang,
        )
    except NotebookExecutionError as exc:
        note = _mark_failed_build(out, exc)
        exc.args = (f"{exc}{note}",)
        raise
    (out / FAILED_MARK).unlink(missing_ok=True)
    total = sum(nb["seconds"] for nb in manifest["notebooks"].values())
    where = Path(args.out) / (args.lang if args.lang != "en" else "")  # an edition: its own folder
    decks = f" and {where / 'slides'}/" if args.slides else ""
    print(
        f"built {len(manifest['notebooks'])} notebooks ({total:.0f} s of execution) -> "
        f"{where / 'site' / 'index.html'}{decks}"
    )
    return 0


def _cmd_slides_build(args: argparse.Namespace) -> int:
    import time

    from crmlab.course.build import worker_setup
    from crmlab.course.site import publish_committed

    worker_setup()  # this process only converts notebooks: skip jsonschema's IRI grammar (2-3 s)
    start = time.perf_counter()
    written = publish_committed(args.notebooks, args.out, only=args.names or None,
                                pages=False, slides=True)
    seconds = time.perf_counter() - start
    n = len(written["slides"])
    print(f"wrote {n} deck{'' if n == 1 else 's'} in {seconds:.1f} s -> {Path(args.out) / 'slides'}/ "
          f"(assets in {Path(args.out) / 'assets'}/)")
    return 0


def _cmd_slides_annotate(args: argparse.Namespace) -> int:
    from collections import Counter

    from crmlab.course.build import discover
    from crmlab.course.slides import annotate

    report = annotate(discover(args.notebooks, args.names or None), write=not args.dry_run)
    verb = "would set" if args.dry_run else "set"
    for path, done in report.items():
        counts = Counter(a.slide_type for a in done)
        summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "nothing"
        print(f"{path.stem}: {verb} {summary}")
    return 0


def _cmd_notebooks(args: argparse.Namespace) -> int:
    import concurrent.futures as cf

    from crmlab.course.build import code_size, discover, execute_in_place, worker_setup

    targets = discover(args.notebooks, args.names or None)
    if args.links:
        from crmlab.course.build import refresh_navigation

        for nb in targets:
            print(f"{nb.stem}: {'updated' if refresh_navigation(nb) else 'up to date'}")
        return 0
    if args.jobs == 1:
        for nb in targets:
            secs = execute_in_place(nb)
            print(f"{nb.stem}: {secs:.1f} s")
        return 0
    with cf.ProcessPoolExecutor(max_workers=args.jobs, initializer=worker_setup) as pool:
        longest_first = sorted(targets, key=lambda nb: -code_size(nb))  # keeps both workers busy
        futures = {pool.submit(execute_in_place, nb): nb for nb in longest_first}
        failed = None
        for fut in cf.as_completed(futures):
            try:
                print(f"{futures[fut].stem}: {fut.result():.1f} s", flush=True)
            except Exception as exc:  # report every notebook, then fail with the first error
                print(f"{futures[fut].stem}: FAILED", flush=True)
                failed = failed or exc
    if failed is not None:
        raise failed
    return 0


def _cmd_worlds(args: argparse.Namespace) -> int:
    from crmlab.course.worlds import (
        CI_WORLDS,
        WORLDS,
        load_outcomes,
        matrix_markdown,
        merge_outcomes,
        save_outcomes,
        sweep,
        world,
    )

    names = args.world or (list(CI_WORLDS) if args.ci else [w.name for w in WORLDS])
    chosen = [world(n) for n in names]
    per_nb: dict[str, dict[str, Any]] = {}
    if args.config:
        _, per_nb = load_config(args.config)
    outcomes = sweep(chosen, args.notebooks, args.out, only=args.only or None, jobs=args.jobs,
                     per_notebook=per_nb)
    saved = Path(args.out) / "outcomes.json"
    if args.merge:
        outcomes = merge_outcomes(load_outcomes(saved), outcomes)
        chosen = [w for w in WORLDS if any(o.world == w.name for o in outcomes)]
    save_outcomes(outcomes, saved)
    text = matrix_markdown(outcomes, chosen)
    if args.matrix:
        Path(args.matrix).parent.mkdir(parents=True, exist_ok=True)
        Path(args.matrix).write_text(text, encoding="utf-8")
        print(f"matrix -> {args.matrix}")
    failed = [o for o in outcomes if not o.ok]
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} notebook runs ok")
    return 1 if failed else 0


def _cmd_workspace(args: argparse.Namespace) -> int:
    from crmlab.course.workspace import update_workspace

    report = update_workspace(args.out)
    print(report.summary())
    for name in report.added:
        print(f"  added {name}")
    return 0


def _add_build(sub: argparse._SubParsersAction) -> None:
    """``crmlab build``: execute every notebook, write the site and manifest."""
    b = sub.add_parser("build", help="execute every notebook and write build/ (site, manifest)")
    b.add_argument("-p", "--param", nargs=2, action="append", metavar=("KEY", "VALUE"),
                   help="a notebook parameter, e.g. -p SEED 7 -p DATA medium (repeatable)")
    b.add_argument("--config", help="YAML file of parameters (flat, or parameters:/notebooks:)")
    b.add_argument("--only", nargs="+", metavar="NAME", help="notebooks to build, e.g. 02_rfm_and_value or 02")
    b.add_argument("--jobs", type=int, default=1, help="notebooks executed in parallel (default 1)")
    b.add_argument("--out", default="build", help="output folder (default build)")
    b.add_argument("--notebooks", default="notebooks", help="source folder (default notebooks)")
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    b.add_argument("--slides", action="store_true",
                   help="also write a reveal.js deck per notebook into OUT/slides/")
    b.add_argument("--lang", default="en", choices=["en", "zh-TW"],
                   help="edition: en (default) or zh-TW, the 繁體中文 edition in OUT/zh-TW/ "
                        "(docs/translating.md)")
    b.set_defaults(func=_cmd_build)


def _add_slides(sub: argparse._SubParsersAction) -> None:
    """``crmlab slides build|annotate``: decks of committed notebooks, slide metadata."""
    sl = sub.add_parser("slides", help="lecture decks: build them, annotate slide metadata")
    sl_sub = sl.add_subparsers(dest="slides_command", metavar="ACTION", required=True)
    sb = sl_sub.add_parser("build", help="decks from notebooks that hold their outputs "
                           "(the committed ones), without executing them")
    sb.add_argument("names", nargs="*", metavar="NAME", help="notebooks (default: all)")
    sb.add_argument("--notebooks", default="notebooks", help="source folder (default notebooks)")
    sb.add_argument("--out", default="build", help="output folder (default build)")
    sb.set_defaults(func=_cmd_slides_build)
    sa = sl_sub.add_parser("annotate", help="set slideshow metadata by crmlab.course.slides' rules "
                           "where an author has set none (only metadata changes)")
    sa.add_argument("names", nargs="*", metavar="NAME", help="notebooks (default: all)")
    sa.add_argument("--notebooks", default="notebooks", help="notebooks folder (default notebooks)")
    sa.add_argument("--dry-run", action="store_true", help="report, write nothing")
    sa.set_defaults(func=_cmd_slides_annotate)


def _add_notebooks(sub: argparse._SubParsersAction) -> None:
    """``crmlab notebooks``: re-execute committed notebooks in place."""
    n = sub.add_parser("notebooks", help="re-execute committed notebooks in place at their defaults")
    n.add_argument("names", nargs="*", metavar="NAME", help="notebooks to run (default: all)")
    n.add_argument("--jobs", type=int, default=1, help="notebooks executed in parallel (default 1)")
    n.add_argument("--notebooks", default="notebooks", help="notebooks folder (default notebooks)")
    n.add_argument("--links", action="store_true",
                   help="only refresh each notebook's last cell (links to its exercises, the next "
                        "notebook, the glossary) from crmlab.units.COURSE_MAP; nothing is executed")
    n.set_defaults(func=_cmd_notebooks)


def _add_worlds(sub: argparse._SubParsersAction) -> None:
    """``crmlab worlds``: the course in many worlds."""
    w = sub.add_parser("worlds", help="execute the course in many worlds (seeds, sizes, knobs)")
    w.add_argument("--world", nargs="+", metavar="NAME", help="worlds to run (default: all)")
    w.add_argument("--ci", action="store_true", help="only the worlds CI runs")
    w.add_argument("--only", nargs="+", metavar="NAME", help="notebooks to run, e.g. 05 11")
    w.add_argument("--jobs", type=int, default=2, help="notebooks executed in parallel (default 2)")
    w.add_argument("--out", default="build/worlds", help="executed notebooks (default build/worlds)")
    w.add_argument("--matrix", help="write the worlds x notebooks matrix (Markdown) here")
    w.add_argument("--config", help="YAML of per-notebook parameters (notebooks: NAME: {...})")
    w.add_argument("--merge", action="store_true",
                   help="update the previous sweep in --out (outcomes.json) with these runs only")
    w.add_argument("--notebooks", default="notebooks", help="source folder (default notebooks)")
    w.set_defaults(func=_cmd_worlds)


def _add_workspace(sub: argparse._SubParsersAction) -> None:
    """``crmlab workspace``: a student's own copy of the course."""
    ws = sub.add_parser("workspace", help="create or update a student's own copy of the course")
    ws.add_argument("--out", default="workspace", help="the workspace folder (default workspace)")
    ws.set_defaults(func=_cmd_workspace)


def _add_plugins(sub: argparse._SubParsersAction) -> None:
    """The subcommands of the plug-in modules (:data:`PLUGIN_MODULES`) that exist."""
    for module in PLUGIN_MODULES:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is not None and module.startswith(exc.name):
                continue  # the plug-in is not there (yet); its subcommand is simply absent
            raise
        mod.register(sub)


def make_parser() -> argparse.ArgumentParser:
    """The ``crmlab`` argument parser, including plug-in subcommands."""
    parser = argparse.ArgumentParser(
        prog="crmlab", description="crmlab: the e-commerce CRM workbook (電商客戶關係管理)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in (_add_build, _add_slides, _add_notebooks, _add_worlds, _add_workspace,
                _add_plugins):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``crmlab`` console command; returns the exit code."""
    from crmlab.course.build import NotebookExecutionError
    from crmlab.course.site import AssetsMissing

    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = args.func(args)
    except (NotebookExecutionError, AssetsMissing) as exc:  # the course or the install failed,
        print(f"crmlab {args.command}: error: {exc}", file=sys.stderr)  # not the command line
        return 1
    except (ValueError, OSError, yaml.YAMLError) as exc:
        # A user error (a bad option, file or folder): one line naming it and the fix, exit
        # code 2 as for argparse's own usage errors -- never a traceback.
        print(f"crmlab {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    return 0 if code is None else int(code)


def _one_line(exc: BaseException) -> str:
    """An exception as one line; an OSError says which file and what to do."""
    if isinstance(exc, OSError) and not isinstance(exc, ValueError):
        what = getattr(exc, "filename", None)
        reason = exc.strerror or type(exc).__name__
        fix = {FileNotFoundError: "check the path", PermissionError: "check the file's permissions",
               IsADirectoryError: "pass a file, not a folder",
               NotADirectoryError: "pass a folder, not a file"}.get(type(exc), "check the path")
        return f"{what}: {reason}; {fix}" if what else f"{reason}; {fix}"
    return "; ".join(line.strip().removeprefix("- ") for line in str(exc).splitlines() if line.strip())


if __name__ == "__main__":
    sys.exit(main())
