"""One small translation function for what the library draws and prints (issue 31).

The course has two editions built from the same notebooks: English (the default) and
繁體中文 (``crmlab build --lang zh-TW``). Prose is translated per notebook, in catalogs beside
the notebooks (``locales/zh-TW/notebooks/<stem>.yaml``, keyed by cell id; see
:mod:`crmlab.course.i18n` and ``docs/translating.md``). This module translates the *text the
code produces* while a notebook runs in the other edition:

* :func:`language` -- the edition's language, from the environment variable ``CRMLAB_LANG``
  (``"en"`` when unset);
* :func:`tr` -- one string (exact text, or a template with ``{name}`` placeholders), looked up
  in the strings catalog ``crmlab/locales/<lang>.yaml`` (package data) and in the ``strings:``
  section of the catalogs named by ``CRMLAB_I18N_STRINGS`` (the build sets it to the running
  notebook's catalog, so each notebook's own figure titles live beside its prose);
* :func:`translate_figure` -- titles, axis labels, tick labels, legend entries and annotations
  of a matplotlib figure, replaced where the catalog knows them (hooked into the inline
  display by :func:`crmlab.nb.setup_notebook`, so every figure shown is translated);
* :func:`display_table` -- a DataFrame with its headers (column and index labels) renamed for
  display only; :func:`install_table_display` makes IPython show every DataFrame that way;
* :func:`untranslated` -- the strings seen but not in the catalog (the coverage report lists
  them; with ``CRMLAB_I18N_MISSING=<file>`` they are appended to that file when the process
  ends);
* :func:`glossary` -- the rows of ``docs/glossary.md`` (English | 繁體中文 | 简体中文 | unit |
  meaning), the one source of the course's terms, as data.

In English every function is the identity (``tr`` only fills the placeholders), so the English
notebooks' outputs do not change.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "LANGUAGES", "language", "tr", "lookup", "translate_lines", "translate_figure", "display_table",
    "install_table_display", "untranslated", "glossary", "avoided_words", "strings_catalog",
    "use_catalog",
]

#: Editions of the course: language tag -> its name in that language.
LANGUAGES: dict[str, str] = {"en": "English", "zh-TW": "繁體中文"}

#: Environment variable naming the edition's language.
LANG_ENV = "CRMLAB_LANG"
#: Environment variable listing extra catalogs (``os.pathsep``-separated YAML files) whose
#: ``strings:`` sections are looked up before the package's strings catalog.
STRINGS_ENV = "CRMLAB_I18N_STRINGS"
#: Environment variable naming a file to which the untranslated strings are appended at exit.
MISSING_ENV = "CRMLAB_I18N_MISSING"

_LOCALES = Path(__file__).resolve().parent / "locales"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_LETTERS = re.compile(r"[A-Za-z]{2,}")
_SEEN_MISSING: Counter[str] = Counter()


def language() -> str:
    """The edition being built or shown: ``CRMLAB_LANG`` (``"en"`` when unset or empty).

    Returns
    -------
    str
        A key of :data:`LANGUAGES`.

    Raises
    ------
    ValueError
        When ``CRMLAB_LANG`` names a language the course has no edition in.
    """
    lang = os.environ.get(LANG_ENV, "").strip() or "en"
    if lang not in LANGUAGES:
        raise ValueError(f"{LANG_ENV}={lang!r} is not an edition of the course; use one of "
                         f"{sorted(LANGUAGES)} (or unset it for English)")
    return lang


@functools.cache
def _read_strings(path: str, section: str = "strings"
                  ) -> tuple[dict[str, str], list[tuple[re.Pattern[str], str, str]]]:
    """The exact strings and the compiled templates of one YAML file's ``strings:`` section
    (or ``values:``, the text values of tables)."""
    import yaml

    file = Path(path)
    if not file.is_file():
        raise ValueError(f"strings catalog {file} does not exist; check {STRINGS_ENV} or create it "
                         "with `crmlab i18n extract`")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ValueError(f"strings catalog {file}: YAML error{where} ({getattr(exc, 'problem', exc)}); "
                         "quote an English text that holds ': ' or starts with a quote, e.g. "
                         "'Sales: by month': 每月銷售") from None
    entries = data.get(section) or {}
    if not isinstance(entries, Mapping):
        raise ValueError(f"{file}: '{section}' must be a mapping of English text -> translation")
    exact: dict[str, str] = {}
    templates: list[tuple[re.Pattern[str], str, str]] = []
    for english, translated in entries.items():
        if not translated:
            continue  # not translated yet
        english, translated = str(english), str(translated)
        names = _PLACEHOLDER.findall(english)
        if set(_PLACEHOLDER.findall(translated)) != set(names):
            raise ValueError(f"{file}: the translation of {english!r} must use the placeholders "
                             f"{sorted(set(names))}, it has {translated!r}")
        if names:
            templates.append((_template_pattern(english), english, translated))
        exact[english] = translated
    return exact, templates


def _template_pattern(template: str) -> re.Pattern[str]:
    """A regular expression matching ``template`` with each ``{name}`` captured."""
    parts, pos, seen = [], 0, set()
    for m in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[pos:m.start()]))
        name = m.group(1)
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")  # a repeat: the same text
        seen.add(name)
        pos = m.end()
    parts.append(re.escape(template[pos:]))
    return re.compile("".join(parts) + r"\Z", re.S)


def strings_catalog(lang: str | None = None) -> Path:
    """The package's strings catalog of ``lang`` (default: :func:`language`).

    Parameters
    ----------
    lang : str, optional
        A language tag other than ``"en"``.

    Returns
    -------
    Path
        ``crmlab/locales/<lang>.yaml``.
    """
    lang = lang or language()
    if lang == "en" or lang not in LANGUAGES:
        raise ValueError(f"no strings catalog for {lang!r}: English is the source; use one of "
                         f"{sorted(set(LANGUAGES) - {'en'})}")
    return _LOCALES / f"{lang}.yaml"


#: Catalogs added by the running code (:func:`use_catalog`), looked up after ``STRINGS_ENV``'s.
_USED: list[str] = []


def use_catalog(path: str | Path) -> None:
    """Look up strings in the ``strings:`` of catalog ``path`` too, from now on (an exercise
    notebook's catalog, added by :func:`crmlab.exercises.start`: its hints).

    Parameters
    ----------
    path : str or Path
        An existing YAML catalog (``locales/<lang>/exercises/<stem>.yaml``).
    """
    if not Path(path).is_file():
        raise ValueError(f"use_catalog: {path} does not exist; create it with `crmlab i18n extract`")
    if str(path) not in _USED:
        _USED.append(str(path))


def _catalogs(lang: str) -> list[str]:
    """The strings catalogs to look in, first match wins: the notebook's, then the package's."""
    extra = [p for p in os.environ.get(STRINGS_ENV, "").split(os.pathsep) if p.strip()]
    return [*extra, *(p for p in _USED if p not in extra), str(strings_catalog(lang))]


def lookup(text: str, lang: str | None = None, *, record: bool = True,
           value: bool = False) -> str | None:
    """The translation of a whole displayed string, or None when no catalog knows it.

    Exact entries are tried first, then templates (``"Top {n} customers"`` matches
    ``"Top 10 customers"``; a captured value is itself translated when the catalog knows it).
    A table's text *value* (``value=True``) is looked up among the exact entries of the
    ``values:`` sections (so "orders" as a table name need not read as the axis label
    "orders"), then among the templates. A text the code shortened with an ellipsis
    (``"defective…"``) is its start translated, then ``…``.

    Parameters
    ----------
    text : str
        The English text as displayed.
    lang : str, optional
        Target language (default :func:`language`).
    record : bool
        Remember ``text`` as untranslated when nothing matches (see :func:`untranslated`).
    value : bool
        ``text`` is a value in a table's cell, not a label.

    Returns
    -------
    str or None
        The translated text, or None.
    """
    lang = lang or language()
    if lang == "en" or not isinstance(text, str) or not text.strip():
        return None  # a tick label may be a number (a FixedFormatter of ints)
    tables = [_read_strings(path) for path in _catalogs(lang)]
    exacts = [_read_strings(path, "values")[0] for path in _catalogs(lang)] if value else \
        [exact for exact, _ in tables]
    for exact in exacts:
        if text in exact:
            return exact[text]
    for _, templates in tables:
        for pattern, _english, translated in templates:
            m = pattern.match(text)
            if m:
                values = {k: lookup(v, lang, record=False) or v for k, v in m.groupdict().items()}
                return translated.format(**values)
    if len(text) > 1 and text.endswith(ELLIPSIS):  # a label shortened by the code: its start
        start = lookup(text[:-1], lang, record=record, value=value)
        return None if start is None else start + ELLIPSIS
    if record and _is_prose(text) and not _is_translation(text, lang):
        _SEEN_MISSING[text] += 1
    return None


@functools.cache
def _translations(path: str) -> tuple[frozenset[str], tuple[re.Pattern[str], ...]]:
    """The translations of one catalog's ``strings:`` and ``values:``: the exact texts, and
    a pattern per translated template (``"前 {n} 名客戶"`` matches ``"前 10 名客戶"``; only
    those whose own words are not plain ASCII: ``"{name} {pct}%"`` would match any text)."""
    exact: set[str] = set()
    patterns = []
    for section in ("strings", "values"):
        found, templates = _read_strings(path, section)
        exact.update(found.values())
        patterns += [_template_pattern(translated) for _, english, translated in templates
                     if translated != english and not _PLACEHOLDER.sub("", translated).isascii()]
    return frozenset(exact), tuple(patterns)


def _is_translation(text: str, lang: str) -> bool:
    """``text`` is already a translation (a catalog's value, or a translated template filled
    in): a figure title set from ``tr()`` and then seen again by :func:`translate_figure`
    is not a missing string."""
    for path in _catalogs(lang):
        exact, patterns = _translations(path)
        if text in exact or any(p.match(text) for p in patterns):
            return True
    return False


_IDENTIFIER = re.compile(r"[A-Za-z_][\w.]*")
#: A label shortened with an ellipsis (``"defective…"``) is translated as its start + ``…``.
ELLIPSIS = "\u2026"


#: A whole text that is one math formula: matplotlib's tick labels of a log axis
#: (``$\mathdefault{10^{0}}$``), a formula as a label (``$R^2$``).
_MATH_ONLY = re.compile(r"\$[^$]*\$")


#: Han characters (a text mostly in Chinese is already translated).
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z]{2,}")


def _is_prose(text: str) -> bool:
    """Worth translating: English words, not a number, an amount (``NT$1,000``), a formula
    alone (``$\\mathdefault{10^{0}}$``), a text mostly in Chinese already (``RFM 的三個指標``:
    more than two Han characters per Latin word) or a code identifier (``customer_id``,
    ``orders.order_id``: names students type stay English)."""
    if not _LETTERS.search(text.replace("NT$", "")) or _MATH_ONLY.fullmatch(text.strip()):
        return False
    if len(_HAN.findall(text)) > 2 * len(_WORD.findall(text)):
        return False
    return not (_IDENTIFIER.fullmatch(text) and ("_" in text or "." in text))


def tr(text: str, /, lang: str | None = None, *, context: str | None = None, **values: Any) -> str:
    """Translate one string the library shows, then fill its ``{name}`` placeholders.

    A ``context`` (gettext's msgctxt) keeps a short template out of the lookups of drawn text:
    ``tr("no {what}", context="skipped")`` is the catalog's ``'skipped|no {what}'``, which no
    figure label or table value matches (a bare ``no {what}`` would swallow every label
    beginning with "no ").

    Parameters
    ----------
    text : str
        The English text or template, e.g. ``"Top {n} customers"``.
    lang : str, optional
        Target language (default :func:`language`); so a placeholder cannot be named ``lang``.
    context : str, optional
        The catalog key is ``"<context>|<text>"`` (nor can a placeholder be named ``context``).
    **values
        Values of the placeholders (text values are translated too when the catalog knows them).

    Returns
    -------
    str
        The text in the edition's language (English: ``text.format(**values)``).
    """
    lang = lang or language()
    translated = None
    if lang != "en":
        key = f"{context}|{text}" if context else text
        tables = [_read_strings(path) for path in _catalogs(lang)]
        translated = next((exact[key] for exact, _ in tables if key in exact), None)
        if translated is None and not context:  # a computed text: "5 agents" matches "{n} agents"
            translated = lookup(text, lang, record=False)
        if translated is None and _is_prose(text) and not _is_translation(text, lang):
            _SEEN_MISSING[key] += 1
        values = {k: (lookup(v, lang, record=False) or v) if isinstance(v, str) else v
                  for k, v in values.items()}
    out = translated if translated is not None else text
    return out.format(**values) if values else out


def translate_lines(text: str, lang: str | None = None) -> str:
    """Translate a printed message line by line (an exercise check's verdict, its hint).

    Parameters
    ----------
    text : str
        The English message; each line is looked up whole (templates match numbers, ids).
    lang : str, optional
        Target language (default :func:`language`).

    Returns
    -------
    str
        The message with every known line translated (English: ``text`` itself).
    """
    lang = lang or language()
    if lang == "en":
        return text
    return "\n".join(lookup(line, lang) or line for line in text.split("\n"))


def _swap(text_obj: Any, lang: str) -> None:
    """Replace the text of a matplotlib ``Text`` when the catalog knows it."""
    new = lookup(text_obj.get_text(), lang)
    if new is not None:
        text_obj.set_text(new)


def _translated_formatter(formatter: Any, lang: str) -> Any:
    """``formatter`` wrapped so that each tick label it makes is translated when known."""
    from matplotlib.ticker import Formatter

    if getattr(formatter, "_crmlab_translated", False):
        return formatter

    class Translated(Formatter):
        _crmlab_translated = True

        def __call__(self, x, pos=None):
            label = formatter(x, pos)
            return lookup(label, lang) or label

        def format_ticks(self, values):
            return [lookup(s, lang) or s for s in formatter.format_ticks(values)]

        def set_locs(self, locs):
            formatter.set_locs(locs)

        def get_offset(self):
            return formatter.get_offset()

        def set_axis(self, axis):
            super().set_axis(axis)
            if axis is not None:
                formatter.set_axis(axis)

    return Translated()


def translate_figure(fig: Any, lang: str | None = None) -> Any:
    """Translate a figure's texts in place: figure and axes titles, axis labels, tick labels
    (through the axis formatters, so they stay translated when redrawn), legend titles and
    entries, annotations and free texts. Text the catalogs do not know stays as it is and is
    remembered (:func:`untranslated`).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to translate.
    lang : str, optional
        Target language (default :func:`language`); ``"en"`` leaves the figure unchanged.

    Returns
    -------
    matplotlib.figure.Figure
        The same figure.
    """
    lang = lang or language()
    if lang == "en":
        return fig
    for fig_text in [getattr(fig, "_suptitle", None), getattr(fig, "_supxlabel", None),
                     getattr(fig, "_supylabel", None), *fig.texts]:
        if fig_text is not None:
            _swap(fig_text, lang)
    legends = list(fig.legends)
    for ax in fig.get_axes():
        for loc in ("left", "center", "right"):
            title = ax.get_title(loc=loc)
            new = lookup(title, lang) if title else None
            if new is not None:
                ax.set_title(new, loc=loc)
        _swap(ax.xaxis.label, lang)
        _swap(ax.yaxis.label, lang)
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(_translated_formatter(axis.get_major_formatter(), lang))
            axis.set_minor_formatter(_translated_formatter(axis.get_minor_formatter(), lang))
        for text in ax.texts:
            _swap(text, lang)
        if ax.get_legend() is not None:
            legends.append(ax.get_legend())
    for legend in legends:
        _swap(legend.get_title(), lang)
        for text in legend.get_texts():
            _swap(text, lang)
    return fig


def _rename(labels: Iterable[Any], lang: str, record: bool = True,
            value: bool = False) -> dict[Any, str]:
    return {label: new for label in labels if isinstance(label, str)
            and (new := lookup(label, lang, record=record, value=value)) is not None}


#: Tables longer than this show their text values untranslated (display shows a few rows).
MAX_TRANSLATED_ROWS = 1000


def _names(names: Iterable[Any], lang: str) -> list[Any]:
    return [(lookup(n, lang) or n) if isinstance(n, str) else n for n in names]


def display_table(table: Any, lang: str | None = None) -> Any:
    """A copy of a DataFrame (or Series) with its headers translated, for display only.

    Column labels, index labels that are text and the names of both axes are looked up in
    the catalogs' ``strings:``; text values in ``values:`` (a category such as ``"signup"``)
    and among the templates (a computed sentence); the caller's table keeps its English names and values (code keeps working with
    ``table["revenue"]``). Code identifiers (``customer_id``) are never candidates.

    Parameters
    ----------
    table : pandas.DataFrame or pandas.Series
        The table to show.
    lang : str, optional
        Target language (default :func:`language`).

    Returns
    -------
    pandas.DataFrame or pandas.Series
        ``table`` itself in English, else a relabelled copy.
    """
    import pandas as pd

    lang = lang or language()
    if lang == "en" or not isinstance(table, pd.DataFrame | pd.Series):
        return table
    out = table.copy(deep=False)
    if isinstance(out, pd.DataFrame):
        flat = out.columns.to_flat_index() if isinstance(out.columns, pd.MultiIndex) else out.columns
        labels = {x for item in flat for x in (item if isinstance(item, tuple) else (item,))}
        out = out.rename(columns=_rename(labels, lang))
        out.columns = out.columns.set_names(_names(out.columns.names, lang))
        if len(out) <= MAX_TRANSLATED_ROWS:
            for i in range(out.shape[1]):
                if _is_text(out.iloc[:, i]):
                    out.isetitem(i, _translated_values(out.iloc[:, i], lang))
    else:
        if isinstance(out.name, str):
            out.name = lookup(out.name, lang) or out.name
        if _is_text(out) and len(out) <= MAX_TRANSLATED_ROWS:
            out = _translated_values(out, lang)
    index = out.index.to_flat_index() if isinstance(out.index, pd.MultiIndex) else out.index
    if index.dtype == object or isinstance(out.index, pd.MultiIndex) or index.dtype == "string":
        labels = {x for item in index for x in (item if isinstance(item, tuple) else (item,))}
        out = out.rename(index=_rename(labels, lang, record=False))
    out.index = out.index.set_names(_names(out.index.names, lang))
    return out


def _is_text(values: Any) -> bool:
    from pandas.api.types import is_object_dtype, is_string_dtype

    return is_object_dtype(values.dtype) or is_string_dtype(values.dtype)


def _translated_values(values: Any, lang: str) -> Any:
    """A Series with each text value the catalogs know replaced (others kept)."""
    known = _rename(values.dropna().unique(), lang, record=False, value=True)
    return values.map(lambda v: known.get(v, v) if isinstance(v, str) else v) if known else values


def install_table_display(shell: Any = None) -> bool:
    """Make IPython show every DataFrame and Series through :func:`display_table`.

    Parameters
    ----------
    shell : IPython shell, optional
        Default: the running one.

    Returns
    -------
    bool
        False outside IPython or in English (nothing installed).
    """
    if language() == "en":
        return False
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython is a dependency of the course
            return False
        shell = get_ipython()
    if shell is None:
        return False
    import pandas as pd

    formatters = shell.display_formatter.formatters
    for kind in (pd.DataFrame, pd.Series):
        formatters["text/html"].for_type(
            kind, lambda t: getattr(display_table(t), "_repr_html_", lambda: None)())
        formatters["text/plain"].for_type(kind, lambda t, p, cycle: p.text(repr(display_table(t))))
    return True


def untranslated() -> list[str]:
    """The strings looked up in this process that no catalog knows, most frequent first.

    Returns
    -------
    list of str
        Texts with letters (numbers and dates are not counted).
    """
    return [text for text, _ in _SEEN_MISSING.most_common()]


@atexit.register
def _write_missing() -> None:
    """Append :func:`untranslated` to the file named by ``CRMLAB_I18N_MISSING`` (if set)."""
    target = os.environ.get(MISSING_ENV)
    if target and _SEEN_MISSING:
        with open(target, "a", encoding="utf-8") as out:
            out.writelines(f"{text!r}\n" for text in untranslated())


# --------------------------------------------------------------------------- the glossary

#: Column keys of :func:`glossary` rows, in the table's order.
GLOSSARY_COLUMNS = ("english", "zh-TW", "zh-CN", "unit", "meaning")


def _glossary_file(path: str | os.PathLike | None) -> Path:
    candidates = [Path(path)] if path else [
        Path(__file__).resolve().parent.parent / "docs" / "glossary.md",  # the repository
        Path.cwd() / "docs" / "glossary.md", Path.cwd().parent / "docs" / "glossary.md",
    ]
    for file in candidates:
        if file.is_file():
            return file
    raise ValueError(f"glossary: no docs/glossary.md at {', '.join(map(str, candidates))}; run from "
                     "the repository (the glossary ships with it) or pass its path")


def _md_tables(text: str) -> list[list[list[str]]]:
    tables, current = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def glossary(path: str | os.PathLike | None = None) -> list[dict[str, str]]:
    """The course's terms from ``docs/glossary.md``, one dict per row.

    Parameters
    ----------
    path : str or PathLike, optional
        The glossary file (default: ``docs/glossary.md`` of the repository).

    Returns
    -------
    list of dict
        Keys :data:`GLOSSARY_COLUMNS`: ``english``, ``zh-TW``, ``zh-CN``, ``unit``,
        ``meaning``.
    """
    file = _glossary_file(path)
    table = _md_tables(file.read_text(encoding="utf-8"))[0]
    if [c.lower() for c in table[0][:3]] != ["english", "繁體中文", "简体中文"]:
        raise ValueError(f"{file}: the first table must have the columns English | 繁體中文 | "
                         f"简体中文 | unit | meaning, it has {table[0]}")
    return [dict(zip(GLOSSARY_COLUMNS, row + [""] * (5 - len(row)), strict=False))
            for row in table[2:]]


def avoided_words(path: str | os.PathLike | None = None) -> dict[str, str]:
    """The glossary's "Words we do not use" table: ``{avoided word: the word to use}``.

    Parameters
    ----------
    path : str or PathLike, optional
        The glossary file (default: ``docs/glossary.md`` of the repository).

    Returns
    -------
    dict
        Avoided 繁體中文 word -> the glossary's word.
    """
    tables = _md_tables(_glossary_file(path).read_text(encoding="utf-8"))
    found = [t for t in tables[1:] if t and t[0][:2] == ["avoid", "use"]]
    return {row[0]: row[1] for row in found[0][2:]} if found else {}
