"""The code is laid out as the course is: short modules and functions, layers that import downward.

Rules (CONTRIBUTING.md, "Architecture"):

* no module of ``crmlab`` over ``MAX_MODULE_LINES`` lines;
* no function over ``MAX_FUNCTION_LINES`` lines unless a comment line ``# Long function: <why>``
  stands right above it (above its decorators);
* no unit imports another unit's private names (``_name``); the shared layers (``crmlab.data``,
  ``crmlab.stats``, ``crmlab.base``, ``crmlab._checks``, ``crmlab.survival``) are not units;
* the analysis layer (units and shared layers) never imports the presentation layer
  (``crmlab.plots``, ``crmlab.nb``, ``crmlab.demos``) or the course layer (``crmlab.course``);
* nothing in the library imports the course layer except the CLI and the course layer itself;
  an old name kept for a function that moved there is declared in the module's
  ``__moved_names__`` (name -> module) and looked up only when used (a module ``__getattr__``),
  so importing the library never loads the course layer.

Modules kept only so that an old import path works declare ``__moved_to__ = "<new path>"`` and
are skipped by the import rules (they import the module they point to, nothing else).

``python -m tests.unit.test_code_layout`` prints the counts.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "crmlab"
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 60
LONG_MARK = "# Long function:"

#: Layers that every unit may use, private helpers included.
SHARED = ("crmlab.data", "crmlab.stats", "crmlab.base", "crmlab._checks", "crmlab.survival",
          "crmlab.units")
PRESENTATION = ("crmlab.plots", "crmlab.nb", "crmlab.demos")
COURSE = ("crmlab.course",)
#: Modules that may import the course layer.
COURSE_USERS = ("crmlab.course", "crmlab.cli", "crmlab.__main__")


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _unit(name: str) -> str | None:
    """The unit a module belongs to (``crmlab.clv.models.bgnbd`` -> ``crmlab.clv``), or None
    for the shared, presentation and course layers and the package itself."""
    parts = name.split(".")
    if len(parts) < 2 or _within(name, SHARED + PRESENTATION + COURSE) or name in COURSE_USERS:
        return None
    if parts[1] == "exercises":
        return None
    return ".".join(parts[:2])


def _is_moved(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__moved_to__" for t in node.targets)
        for node in tree.body
    )


def _imports(path: Path, tree: ast.Module) -> list[tuple[str, list[str], int]]:
    """(module imported, names imported from it, line) for every crmlab import in ``tree``."""
    here = _name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names if a.name.startswith("crmlab")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("crmlab"):
                out.append((mod, [a.name for a in node.names], node.lineno))
    return out


def _long_functions(path: Path, tree: ast.Module) -> list[tuple[str, int]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        length = node.end_lineno - node.lineno + 1
        if length <= MAX_FUNCTION_LINES:
            continue
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        above = lines[first - 2].strip() if first >= 2 else ""
        # A reason may take several comment lines; the marker opens the block.
        k = first - 2
        while k >= 0 and lines[k].strip().startswith("#") and not lines[k].strip().startswith(LONG_MARK):
            k -= 1
        marked = above.startswith("#") and k >= 0 and lines[k].strip().startswith(LONG_MARK)
        if not marked:
            found.append((node.name, length))
    return found


MODULES = _modules()
IDS = [str(p.relative_to(ROOT)) for p in MODULES]


@pytest.mark.parametrize("path", MODULES, ids=IDS)
def test_module_is_short(path: Path) -> None:
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_MODULE_LINES, (
        f"{path.relative_to(ROOT)} has {n} lines (limit {MAX_MODULE_LINES}); split it into a "
        "subpackage whose files name the concepts (see CONTRIBUTING.md, Architecture)."
    )


@pytest.mark.parametrize("path", MODULES, ids=IDS)
def test_functions_are_short_or_say_why(path: Path) -> None:
    long = _long_functions(path, ast.parse(path.read_text(encoding="utf-8")))
    assert not long, (
        f"{path.relative_to(ROOT)}: functions over {MAX_FUNCTION_LINES} lines without a "
        f"'{LONG_MARK} <why>' comment above them: {long}"
    )


@pytest.mark.parametrize("path", MODULES, ids=IDS)
def test_imports_follow_the_layers(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if _is_moved(tree):
        return
    here = _name(path)
    problems = []
    for mod, names, line in _imports(path, tree):
        if _within(mod, COURSE) and not _within(here, COURSE_USERS):
            problems.append(f"line {line}: imports the course layer {mod}")
        analysis = _unit(here) is not None or _within(here, SHARED)
        if analysis and _within(mod, PRESENTATION):
            problems.append(f"line {line}: analysis code imports presentation module {mod}")
        other = _unit(mod)
        if _unit(here) and other and other != _unit(here):
            private = [n for n in names if n.startswith("_")]
            if private or mod.rpartition(".")[2].startswith("_"):
                problems.append(f"line {line}: imports private {private or mod} from unit {other}")
    assert not problems, f"{here}: " + "; ".join(problems)


_COURSE_PATH = re.compile(r"crmlab\.course(\.\w+)*")


def _course_names(tree: ast.Module) -> tuple[list[tuple[str, int]], set[str]]:
    """String constants that name a course-layer module (an ``importlib`` import hidden from
    the import statements), and those declared in ``__moved_names__``."""
    named = [(n.value, n.lineno) for n in ast.walk(tree)
             if isinstance(n, ast.Constant) and isinstance(n.value, str)
             and _COURSE_PATH.fullmatch(n.value)]
    declared = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__moved_names__" for t in node.targets):
            declared |= {n.value for n in ast.walk(node.value)
                         if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return named, declared


@pytest.mark.parametrize("path", MODULES, ids=IDS)
def test_library_reaches_the_course_layer_only_through_declared_old_names(path: Path) -> None:
    """A library module may name a course-layer module only to keep an old name working,
    declared in ``__moved_names__``; and importing the library loads no course module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _name(path)
    if _within(here, COURSE_USERS) or _is_moved(tree):
        return
    named, declared = _course_names(tree)
    hidden = [f"line {line}: {value}" for value, line in named if value not in declared]
    assert not hidden, (f"{here} names the course layer outside __moved_names__: {hidden}; "
                        "the library must not depend on crmlab.course")


def test_importing_the_library_loads_no_course_module() -> None:
    """``import crmlab.<every library module>`` in a fresh interpreter leaves crmlab.course out."""
    import subprocess
    import sys

    names = [_name(p) for p in MODULES if not _within(_name(p), COURSE + COURSE_USERS)
             and not _is_moved(ast.parse(p.read_text(encoding="utf-8")))]
    code = ("import importlib, sys\n"
            f"for n in {names!r}: importlib.import_module(n)\n"
            "print(sorted(m for m in sys.modules if m.startswith('crmlab.course')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.strip()
    assert out == "[]", f"importing the library loaded course modules: {out}"


def _library_modules() -> list[str]:
    """Dotted names of the library modules whose public names need numpydoc docstrings."""
    names = []
    for p in MODULES:
        name = _name(p)
        if _within(name, COURSE + COURSE_USERS) or name.startswith("crmlab.exercises"):
            continue
        if name == "crmlab" or _is_moved(ast.parse(p.read_text(encoding="utf-8"))):
            continue
        names.append(name)
    return names


_SECTION = r"^{}\n-{{3,}}$"


def _doc_problems(obj: object) -> list[str]:
    """What a public function's or class's docstring lacks of the numpydoc sections."""
    doc = inspect.getdoc(obj) or ""
    missing = []
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    params = [p for p in sig.parameters.values() if p.name not in ("self", "cls")]
    if params and not re.search(_SECTION.format("Parameters"), doc, re.M):
        missing.append("Parameters")
    if inspect.isfunction(obj) and sig.return_annotation not in (None, "None"):
        if not re.search(_SECTION.format("(Returns|Yields)"), doc, re.M):
            missing.append("Returns")
    return missing


@pytest.mark.parametrize("module", _library_modules())
def test_public_names_have_numpydoc_sections(module: str) -> None:
    """Every function and class a library module exports (``__all__``) documents its
    parameters and what it returns in numpydoc's sections (``Parameters``/``Returns``)."""
    mod = importlib.import_module(module)
    problems = {}
    for name in getattr(mod, "__all__", []):
        obj = getattr(mod, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if getattr(obj, "__module__", "").partition(".")[0] != "crmlab":
            continue
        if obj.__module__ != module and not obj.__module__.startswith(module + "."):
            continue  # re-exported from elsewhere: checked where it is defined
        missing = _doc_problems(obj)
        if missing:
            problems[name] = missing
    assert not problems, f"{module}: docstrings without numpydoc sections: {problems}"


def test_rules_catch_what_they_claim(tmp_path: Path) -> None:
    """The checker finds an unmarked long function and accepts a marked one."""
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    src = f"def long_one():\n{body}\n\n\n{LONG_MARK} a table of constants\ndef marked():\n{body}\n"
    p = tmp_path / "m.py"
    p.write_text(src)
    assert _long_functions(p, ast.parse(src)) == [("long_one", MAX_FUNCTION_LINES + 1)]
    assert _unit("crmlab.clv.models.bgnbd") == "crmlab.clv"
    assert _unit("crmlab.stats") is None
    hidden = ast.parse('import importlib\nimportlib.import_module("crmlab.course.build")\n'
                       '__moved_names__ = {"f": "crmlab.course.site"}\n')
    assert _course_names(hidden) == ([("crmlab.course.build", 2), ("crmlab.course.site", 3)],
                                     {"f", "crmlab.course.site"})

    def documented(x: int) -> int:
        """Twice x.

        Parameters
        ----------
        x : int
            A number.

        Returns
        -------
        int
            ``2 * x``.
        """
        return 2 * x

    def undocumented(x: int) -> int:
        """Twice x."""
        return 2 * x

    assert _doc_problems(documented) == []
    assert _doc_problems(undocumented) == ["Parameters", "Returns"]


if __name__ == "__main__":
    over_modules = []
    over_functions = []
    for p in MODULES:
        text = p.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_MODULE_LINES:
            over_modules.append((len(text.splitlines()), str(p.relative_to(ROOT))))
        over_functions += [(n, str(p.relative_to(ROOT)), f) for f, n in _long_functions(p, ast.parse(text))]
    print(f"modules over {MAX_MODULE_LINES} lines: {len(over_modules)}")
    for n, p in sorted(over_modules, reverse=True):
        print(f"  {n:5d} {p}")
    print(f"functions over {MAX_FUNCTION_LINES} lines without a reason: {len(over_functions)}")
    for n, p, f in sorted(over_functions, reverse=True):
        print(f"  {n:5d} {p}:{f}")
