"""Notebook helpers: one setup call per notebook, and results that tests can read back.

Every course notebook starts with::

    from crmlab.nb import setup_notebook, record
    rng = setup_notebook(SEED)

and ends by recording its key results::

    record("n_customers", len(shop.customers))

``record`` displays the value with the custom mimetype :data:`RECORD_MIMETYPE` (plus a
plain-text line so the notebook still reads well), and :func:`read_results` collects those
outputs from an executed notebook. This replaces papermill's removed ``record``/``scrapbook``
API with something we own and test.

Readings are computed, never typed
-----------------------------------------------------

The course is rebuilt with other seeds and sizes, so a sentence that *reads* a result (a
number, a comparison, "most", "near the truth", "significant") must come from that result in
the world the notebook runs in. Markdown cells hold what is true in every world (method,
definitions, questions); readings come from code::

    from crmlab.nb import claim, say

    top_share = rfm.pareto_share(orders, 0.2)
    say(f"The top 20% of buyers bring **{top_share:.0%}** of the revenue. " + claim(
        top_share >= 0.5,
        "That is the majority: the Pareto rule holds here.",
        "That is less than half: revenue is spread more evenly than the Pareto rule says.",
        name="pareto_majority",
    ))

:func:`say` displays Markdown (it reads as prose in JupyterLab, in the HTML site and in nbval);
:func:`claim` checks a qualitative statement and returns the reading that holds
(:func:`choose` does the same for more than two readings, :func:`num` formats a number without
a ``-0.00``; :func:`compare` gives the comparison word with a tolerance). Both readings
are written out in the source, so a reader of the notebook sees what the other world would
say, and the world sweep (``make worlds``) counts how often each alternative is taken
(:func:`read_claims`). Cells tagged ``reading`` have their code hidden in the HTML site.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CLAIMS_METADATA",
    "MAX_RECORD_CHARS",
    "MONEY_DOLLAR",
    "RECORD_MIMETYPE",
    "SOURCE_CURRENCY",
    "SOURCE_NAMES",
    "Available",
    "available",
    "choose",
    "claim",
    "compare",
    "join_parts",
    "num",
    "read_claims",
    "read_results",
    "record",
    "say",
    "setup_notebook",
    "skipped",
    "to_jsonable",
]

#: Mimetype of the display outputs written by :func:`record`.
RECORD_MIMETYPE = "application/vnd.crmlab.record+json"

#: Metadata key of :func:`say` outputs: the claims checked for this reading.
CLAIMS_METADATA = "crmlab_claims"

#: Largest recorded value (characters of JSON). Results are for assertions, not data dumps.
MAX_RECORD_CHARS = 100_000


def setup_notebook(seed: int = 42) -> np.random.Generator:
    """Prepare a notebook: the workbook's plot theme, pandas display options and seeds.

    With ``CRMLAB_CHECK_FIGURES`` set (the notebook test tier), every figure shown is checked
    by :func:`crmlab.plots.layout_problems`. With ``CRMLAB_LANG`` set (another edition, see
    :mod:`crmlab.i18n`), every figure shown and every table displayed is translated.

    Seeds Python's ``random`` and NumPy's legacy global RNG (for third-party code that uses
    them) and returns a fresh ``numpy.random.Generator`` for the notebook's own randomness.

    Parameters
    ----------
    seed : int, default 42
        The notebook's ``SEED`` (a bool or non-integer raises ``ValueError``).

    Returns
    -------
    numpy.random.Generator
        ``np.random.default_rng(seed)``, for the notebook's own randomness.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"setup_notebook: SEED must be an integer, got {seed!r}; set SEED = 42")
    seed = int(seed)
    # Imported here so that reading results (tests, build) does not pull in matplotlib.
    from crmlab import plots

    plots.set_theme()
    if os.environ.get("CRMLAB_CHECK_FIGURES"):
        plots.watch_figures()  # the test tier: report unreadable figures (plots.layout_problems)
    from crmlab import i18n

    if i18n.language() != "en":  # the 繁體中文 edition (CRMLAB_LANG): figures and tables too
        plots.on_shown_figures(i18n.translate_figure)  # runs before the check above
        i18n.install_table_display()
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.max_rows", 30)
    pd.set_option("display.min_rows", 10)
    pd.set_option("display.width", 120)
    pd.set_option("display.max_colwidth", 60)
    pd.set_option("display.precision", 3)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    return np.random.default_rng(seed)


#: Returned by :func:`_scalar_to_jsonable` for a value that is not a scalar.
_NOT_SCALAR = object()


def _scalar_to_jsonable(value: Any, _path: str) -> Any:
    """A scalar of :func:`to_jsonable` as plain JSON, or :data:`_NOT_SCALAR` for anything else."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        if not math.isfinite(f):
            raise ValueError(
                f"record: {_path} is {f!r}, which JSON cannot store; record a finite number, "
                "or None if the result is undefined at these parameters"
            )
        return f
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | _dt.datetime | _dt.date):
        return value.isoformat()
    if isinstance(value, pd.Timedelta | _dt.timedelta):
        raise ValueError(
            f"record: {_path} is a timedelta; record a number with its unit instead, "
            "e.g. td / pd.Timedelta(days=1) for days"
        )
    return _NOT_SCALAR


def to_jsonable(value: Any, *, _path: str = "value") -> Any:
    """Convert ``value`` to plain JSON types, or raise ``ValueError`` saying what to change.

    Accepted: ``None``, ``bool``, ``int``, finite ``float``, ``str``; NumPy scalars and arrays;
    pandas scalars, ``Timestamp``/``datetime``/``date`` (ISO strings), ``Series`` (a dict keyed
    by the index as strings); lists/tuples; dicts with ``str`` or integer keys (integer keys
    become strings, as JSON would do anyway). NaN and infinity are rejected: JSON cannot hold
    them, and a NaN result is almost always a bug worth seeing.

    Parameters
    ----------
    value : Any
        The value to convert.
    _path : str, default "value"
        Where ``value`` sits in the recorded result (used in error messages; internal).

    Returns
    -------
    Any
        ``None``, ``bool``, ``int``, ``float``, ``str``, or lists/dicts of them.

    Raises
    ------
    ValueError
        For NaN/infinity, timedeltas, DataFrames, non-str/int keys and other types.
    """
    scalar = _scalar_to_jsonable(value, _path)
    if scalar is not _NOT_SCALAR:
        return scalar
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return to_jsonable(value.item(), _path=_path)
        return [to_jsonable(v, _path=f"{_path}[{i}]") for i, v in enumerate(value.tolist())]
    if isinstance(value, pd.DataFrame):
        raise ValueError(
            f"record: {_path} is a DataFrame; record the few numbers that matter, or a small "
            "dict such as df.set_index('segment')['share'].to_dict()"
        )
    if isinstance(value, pd.Series):
        value = value.to_dict()
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if isinstance(k, np.generic):
                k = k.item()
            if isinstance(k, bool) or not isinstance(k, str | int):
                raise ValueError(
                    f"record: {_path} has a key {k!r} of type {type(k).__name__}; "
                    "use str (or int) keys"
                )
            out[str(k)] = to_jsonable(v, _path=f"{_path}[{k!r}]")
        return out
    if isinstance(value, list | tuple):
        return [to_jsonable(v, _path=f"{_path}[{i}]") for i, v in enumerate(value)]
    raise ValueError(
        f"record: {_path} has type {type(value).__name__}, which is not JSON-safe; record "
        "numbers, strings, booleans, None, or small lists/dicts of them"
    )


def record(name: str, value: Any) -> None:
    """Display ``value`` as a recorded result named ``name``.

    Returns ``None`` so that a ``record(...)`` call ending a cell does not print the value twice.

    The output carries the custom mimetype :data:`RECORD_MIMETYPE` (read back by
    :func:`read_results`) and a ``text/plain`` line such as ``record: n_orders = 1234``.

    Parameters
    ----------
    name : str
        An identifier-like name (``"n_orders"``); tests read the value back under it.
    value : Any
        A JSON-safe value (see :func:`to_jsonable`) of at most :data:`MAX_RECORD_CHARS` characters
        of JSON.

    Returns
    -------
    None
        The value is displayed, not returned.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(
            f"record: name {name!r} must be a non-empty identifier-like string, e.g. 'n_orders'"
        )
    safe = to_jsonable(value, _path=name)
    text = json.dumps(safe, ensure_ascii=False, allow_nan=False)
    if len(text) > MAX_RECORD_CHARS:
        raise ValueError(
            f"record: {name} is {len(text):,} characters of JSON (limit {MAX_RECORD_CHARS:,}); "
            "record a summary (a few numbers) rather than the data"
        )
    from IPython.display import display

    display(
        {RECORD_MIMETYPE: {"name": name, "value": safe}, "text/plain": f"record: {name} = {text}"},
        raw=True,
    )


def read_results(notebook: str | os.PathLike | Any) -> dict[str, Any]:
    """Return ``{name: value}`` for every :func:`record` output in an executed notebook.

    ``notebook`` is a path to an ``.ipynb`` file or an ``nbformat.NotebookNode``. When a name
    is recorded more than once, the last value wins (as it would for a variable).

    Parameters
    ----------
    notebook : str, os.PathLike or nbformat.NotebookNode
        An executed notebook.

    Returns
    -------
    dict of str to Any
        The recorded values by name.
    """
    nb = _load_notebook(notebook, "read_results")
    results: dict[str, Any] = {}
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") not in ("display_data", "execute_result"):
                continue
            payload = out.get("data", {}).get(RECORD_MIMETYPE)
            if payload is None:
                continue
            if isinstance(payload, str):  # some writers store JSON mimetypes as text
                payload = json.loads(payload)
            results[payload["name"]] = payload["value"]
    return results


# --------------------------------------------------------------------------- readings

#: Claims checked since the last :func:`say` (emitted with the next reading).
_pending_claims: list[dict[str, Any]] = []


def claim(holds: bool | np.bool_, reading: str, otherwise: str, *, name: str | None = None) -> str:
    """Return ``reading`` when ``holds`` is true, else ``otherwise``: a claim with its check.

    Write both sentences so that each is true when chosen; the notebook then never states a
    false reading, whatever the seed or size. ``name`` (an identifier) lets the world sweep
    report which reading each world took; the outcome is attached to the next :func:`say`.

    Parameters
    ----------
    holds : bool or numpy.bool_
        The checked condition (a single True/False).
    reading : str
        The sentence when ``holds`` is true.
    otherwise : str
        The sentence when it is false.
    name : str, optional
        An identifier naming the claim for the world sweep.

    Returns
    -------
    str
        ``reading`` or ``otherwise``.
    """
    if not isinstance(holds, bool | np.bool_):  # an array or Series must be reduced first
        raise ValueError(
            f"claim: holds must be a single True/False, got {type(holds).__name__}; reduce it "
            "first, e.g. (share > 0.5).all() or bool(p_value < 0.05)"
        )
    if not isinstance(reading, str) or not isinstance(otherwise, str):
        raise ValueError("claim: reading and otherwise must both be sentences (str)")
    if name is not None and (not isinstance(name, str) or not name.isidentifier()):
        raise ValueError(f"claim: name {name!r} must be an identifier such as 'pareto_majority'")
    holds = bool(holds)
    _pending_claims.append({"name": name or "", "holds": holds})
    return reading if holds else otherwise


#: A money dollar in Markdown, written or not as ``\$`` already.
_DOLLAR = re.compile(r"\\?\$")
#: How a money dollar is written in Markdown so that neither JupyterLab nor the site (MathJax
#: with processEscapes) reads two of them as a formula: ``\\$``. Markdown turns the escaped
#: backslash into ``\$`` in the page, which MathJax shows as ``$``; a single ``\$`` becomes a
#: bare ``$`` before MathJax runs (checked in both renderers by tests/browser/test_money.py).
MONEY_DOLLAR = "\\\\$"


def choose(cases: list[tuple[bool | np.bool_, str]], otherwise: str, *, name: str) -> str:
    """The first reading whose condition holds, else ``otherwise``: a claim with several readings.

    For a result read on a scale with more than two bands (a silhouette below 0.25, 0.25-0.5,
    above 0.5; a direction that can be up, down or neither)::

        choose([(s > 0.5, "strong structure"), (s > 0.25, "weak structure")],
               "no substantial structure", name="silhouette_band")

    The world sweep counts every reading after the first as an alternative (``holds`` is true
    only for the first case), and records which one was taken (``choice``: 0, 1, ... and
    ``len(cases)`` for ``otherwise``).

    Parameters
    ----------
    cases : list of (bool, str)
        ``(condition, reading)`` pairs, checked in order.
    otherwise : str
        The reading when no condition holds.
    name : str
        An identifier naming the claim for the world sweep.

    Returns
    -------
    str
        The reading of the first case that holds, else ``otherwise``.
    """
    if not cases or not all(isinstance(c, tuple) and len(c) == 2 for c in cases):
        raise ValueError("choose: pass a list of (condition, reading) pairs, e.g. [(p < 0.05, 'differs')]")
    chosen = len(cases)
    for i, (holds, _) in enumerate(cases):
        if not isinstance(holds, bool | np.bool_):
            raise ValueError(f"choose: condition {i} must be a single True/False, got {type(holds).__name__}")
        if holds and chosen == len(cases):
            chosen = i
    text = claim(chosen == 0, cases[0][1], cases[chosen][1] if chosen < len(cases) else otherwise, name=name)
    _pending_claims[-1]["choice"] = chosen
    return text


def num(value: float, digits: int = 2, *, signed: bool = False) -> str:
    """``value`` with ``digits`` decimals and thousands separators, never ``-0.00``.

    ``signed=True`` always shows the sign (``+0.35``, ``-1.20``) for differences.

    Parameters
    ----------
    value : float
        A finite number.
    digits : int, default 2
        Decimals shown.
    signed : bool, default False
        Always show the sign (except for zero).

    Returns
    -------
    str
        The formatted number.
    """
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"num: {value} is not a finite number; say what is undefined instead")
    text = f"{value:{'+' if signed else ''},.{digits}f}"
    if float(text.replace(",", "")) == 0:  # -0.00 and +0.00 read as 0.00
        text = f"{0.0:,.{digits}f}"
    return text


def say(*parts: str, sep: str = " ", math: bool = False) -> None:
    """Display Markdown prose made from computed parts (a reading of the results above).

    Returns ``None`` so that a ``say(...)`` call ending a cell does not print twice. The
    output has ``text/markdown`` (rendered in JupyterLab and the HTML site) and the same text
    as ``text/plain`` (what nbval and a terminal see); claims checked since the previous
    ``say`` travel in its metadata (:data:`CLAIMS_METADATA`).

    Dollar signs are money here (``NT$1,744``): they are written :data:`MONEY_DOLLAR` in the
    Markdown so that two of them in one reading do not turn the text between into LaTeX. Pass ``math=True`` for a
    reading that holds ``$...$`` formulas. In the 繁體中文 edition the parts are joined as
    Chinese is written (:func:`join_parts`: no space after a full stop ``。``).

    Parameters
    ----------
    *parts : str
        The pieces of the reading (blank ones dropped), joined with ``sep``.
    sep : str, default " "
        The separator in English (see :func:`join_parts`).
    math : bool, default False
        Keep ``$`` as LaTeX delimiters instead of escaping them as money.

    Returns
    -------
    None
        The reading is displayed, not returned.
    """
    if not parts or not all(isinstance(p, str) for p in parts):
        raise ValueError("say: pass one or more strings, e.g. say(f'{share:.0%} of revenue ...')")
    text = join_parts([p.strip() for p in parts if p.strip()], sep)
    markdown = text if math else _DOLLAR.sub(lambda _: MONEY_DOLLAR, text)
    claims = list(_pending_claims)
    _pending_claims.clear()
    from IPython.display import display

    display(
        {"text/markdown": markdown, "text/plain": text},
        metadata={CLAIMS_METADATA: claims} if claims else None,
        raw=True,
    )


#: Chinese characters and full-width punctuation (a part of a Chinese reading ends or starts with one).
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
#: CJK and full-width punctuation: no space on either side in Chinese text.
_CJK_PUNCT = "\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"


def join_parts(parts: list[str], sep: str = " ", lang: str | None = None) -> str:
    """``parts`` joined with ``sep``, as the edition's language writes them.

    English (and any ``sep`` other than one space): ``sep.join(parts)``. In Chinese the space is
    left out after or before full-width punctuation (``營收成長了。`` + ``這是多數。``) and
    between two Chinese characters; a space between Chinese and a Latin word or number stays.

    Parameters
    ----------
    parts : list of str
        The sentences or phrases, in order.
    sep : str
        The separator in English.
    lang : str, optional
        The language (default :func:`crmlab.i18n.language`).

    Returns
    -------
    str
        The joined text.
    """
    from crmlab import i18n

    lang = lang or i18n.language()
    if lang == "en" or sep != " " or not lang.startswith("zh"):
        return sep.join(parts)
    out = ""
    for part in parts:
        glue = out and part and not (
            re.search(f"[{_CJK_PUNCT}]$", out) or re.match(f"[{_CJK_PUNCT}]", part)
            or (re.search(f"[{_CJK}]$", out) and re.match(f"[{_CJK}]", part)))
        out += (sep if glue else "") + part
    return out


def compare(value: float, other: float, *, tol: float = 0.0, more: str = "higher than",
            less: str = "lower than", same: str = "about the same as") -> str:
    """The word for how ``value`` compares with ``other``: ``more``, ``less`` or ``same``.

    ``tol`` is the absolute difference still read as ``same`` (pass the standard error, or a
    difference too small to matter), so that "higher" is never said of noise.

    Parameters
    ----------
    value, other : float
        The two finite numbers compared.
    tol : float, default 0.0
        The largest absolute difference read as ``same`` (>= 0).
    more, less, same : str
        The words returned when ``value`` is larger, smaller or within ``tol``.

    Returns
    -------
    str
        ``more``, ``less`` or ``same``.
    """
    value, other, tol = float(value), float(other), float(tol)
    if not (math.isfinite(value) and math.isfinite(other)) or tol < 0:
        raise ValueError(f"compare: need finite numbers and tol >= 0, got {value}, {other}, tol={tol}")
    if abs(value - other) <= tol:
        return same
    return more if value > other else less


# --------------------------------------------------------------------------- what a shop has

#: How a shop's ``config["source"]`` (set by the real-data readers) is named in a reading.
SOURCE_NAMES = {"cdnow": "real data from CDNOW", "online_retail_ii": "real data from Online Retail II"}
#: The currency of each source's amounts (the simulated shop is in New Taiwan dollars).
SOURCE_CURRENCY = {"cdnow": "US$", "online_retail_ii": "£"}


@dataclass(frozen=True)
class Available:
    """What a shop offers a notebook: the tables and truth keys it asked for, present or not.

    Made by :func:`available`; :func:`skipped` turns it into the notebook's one line.

    Parameters
    ----------
    tables : tuple of str
        The tables (or ``"table.column"``) asked for that the shop has, non-empty.
    missing_tables : tuple of str
        Those asked for that it lacks (or are empty).
    truth : bool
        True when every truth key asked for is planted in the shop.
    missing_truth : tuple of str
        The truth keys it lacks.
    source : str
        How a reading names where the data came from (``"simulated"``, ``"real data from CDNOW"``).
    money : str
        The currency of the shop's amounts (``"NT$"``, ``"US$"``, ``"£"``).
    """

    tables: tuple[str, ...]
    missing_tables: tuple[str, ...]
    truth: bool
    missing_truth: tuple[str, ...]
    source: str
    money: str

    def has(self, *tables: str) -> bool:
        """True when every one of ``tables`` is present (``"truth"`` stands for the planted truth).

        Parameters
        ----------
        *tables : str
            Table names (as asked of :func:`available`) or ``"truth"``.

        Returns
        -------
        bool
            Whether all of them are there.
        """
        return all(self.truth if t == "truth" else t not in self.missing_tables for t in tables)


def available(shop: Any, *tables: str, truth_keys: tuple[str, ...] | list[str] = ()) -> Available:
    """Which of ``tables`` and of the planted ``truth_keys`` ``shop`` has (a real shop has no truth).

    ``shop`` is a :class:`crmlab.data.Shop`. A name ``"table.column"`` asks for a column
    (``"products.category"``: Online Retail II has products but no categories). Empty tables
    count as missing (a real export can hold a table with no rows). ``money`` is the currency of the shop's amounts
    (``NT$`` for the simulated shop), ``source`` how a reading names where the data came from.

    Parameters
    ----------
    shop : crmlab.data.Shop
        The notebook's shop.
    *tables : str
        Table names (or ``"table.column"``) the notebook uses.
    truth_keys : tuple or list of str, default ()
        Keys of ``shop.truth`` the notebook uses.

    Returns
    -------
    Available
        The present and missing tables and truth keys, the source and the currency.
    """
    if not hasattr(shop, "tables") or not isinstance(getattr(shop, "tables", None), Mapping):
        raise ValueError(f"available: pass a shop (crmlab.data.get_shop(DATA)), got {type(shop).__name__}")
    bad = [t for t in (*tables, *truth_keys) if not isinstance(t, str) or not t]
    if bad:
        raise ValueError(f"available: table names and truth keys must be non-empty strings, got {bad}")
    def there(name: str) -> bool:
        table, _, column = name.partition(".")
        frame = shop.tables.get(table)
        return frame is not None and len(frame) > 0 and (not column or column in frame.columns)

    present = tuple(t for t in tables if there(t))
    truth = getattr(shop, "truth", None) or {}
    missing_truth = tuple(k for k in truth_keys if k not in truth)
    config = getattr(shop, "config", None) or {}
    origin = str(config.get("source", ""))
    if origin:
        source = SOURCE_NAMES.get(origin, f"data from {origin}")
    else:
        source = "simulated" if truth else "saved, without planted truth"
    return Available(present, tuple(t for t in tables if t not in present), not missing_truth,
                     missing_truth, source, SOURCE_CURRENCY.get(origin, "NT$"))


def skipped(have: Available, uses: Mapping[str, str | tuple[str, ...]], *,
            also: Mapping[str, str] | None = None) -> str:
    """The one line a notebook prints about what it skips on this shop, and why.

    ``uses`` maps what a part needs (a table name, or ``"truth"`` for the planted truth) to
    the part, e.g. ``{"sessions": "the engagement features", "truth": "section 8 (the planted
    segments)"}``; a need that feeds several parts maps to a tuple of them
    (``{"returns": ("the refunds", "the six-part value")}``), and each part is named once.
    Parts whose needs are all there are not named::

        This shop has no `sessions` table (real data from CDNOW), so this notebook skips the engagement features.

    ``also`` adds what the notebook found lacking beyond tables and truth, as ``{what: part}``
    read "no <what>" (``{"second product": "the recommenders"}`` for CDNOW's one product).
    When nothing is missing the line says so, so every world prints one line in one place.
    In another edition the sentence comes from the templates of ``crmlab/locales/<lang>.yaml``
    (pass the parts in that language; a table name stays as students type it).

    Parameters
    ----------
    have : Available
        What :func:`available` returned.
    uses : mapping of str to str or tuple of str
        Need (a table asked of :func:`available`, or ``"truth"``) -> the part(s) that need it.
    also : mapping of str to str, optional
        Other lacks, ``{what: part}``.

    Returns
    -------
    str
        The one line (in the edition's language).
    """
    if not isinstance(have, Available):
        raise ValueError("skipped: pass what available(shop, ...) returned")
    unknown = [k for k in uses if k != "truth" and k not in have.tables + have.missing_tables]
    if unknown:
        raise ValueError(f"skipped: {unknown} were not asked of available(); add them to its tables")
    from crmlab.i18n import tr

    gone = [(need, part) for need, part in uses.items() if not have.has(need)]
    extra = dict(also or {})
    source = tr(have.source, context="skipped")
    if not gone and not extra:
        if "truth" in uses:
            return tr("This shop ({source}) has every table this notebook uses and the planted "
                      "truth: no section is skipped.", context="skipped", source=source)
        return tr("This shop ({source}) has every table this notebook uses: no section is skipped.",
                  context="skipped", source=source)
    lacks = _lacks([need for need, _ in gone], extra)
    named = [p for _, part in gone for p in ((part,) if isinstance(part, str) else part)]
    parts = list(dict.fromkeys(named + list(extra.values())))
    return tr("This shop has {lacks} ({source}), so this notebook skips {parts}.", context="skipped",
              lacks=_join(lacks), source=source, parts=_join(parts))


def _lacks(needs: list[str], extra: Mapping[str, str]) -> list[str]:
    """What :func:`skipped` says the shop lacks: its tables, columns, truth, then ``extra``."""
    from crmlab.i18n import tr

    lacks = []
    for kind, names in (("table", [n for n in needs if n != "truth" and "." not in n]),
                        ("column", [n for n in needs if "." in n])):
        if names:
            plural = "s" if len(names) > 1 else ""
            lacks.append(tr(f"no {{names}} {kind}{plural}", context="skipped",
                            names=_join([f"`{n}`" for n in names])))
    if "truth" in needs:
        lacks.append(tr("no planted truth", context="skipped"))
    lacks += [tr("no {what}", context="skipped", what=what) for what in extra]
    return lacks


def _join(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c`` (in Chinese ``a、b 和 c``)."""
    from crmlab.i18n import language

    if len(items) == 1:
        return items[0]
    if language().startswith("zh"):
        return join_parts(["、".join(items[:-1]), "和", items[-1]])
    return ", ".join(items[:-1]) + " and " + items[-1]


def read_claims(notebook: str | os.PathLike | Any) -> list[dict[str, Any]]:
    """Every claim an executed notebook checked, in order: ``[{"name", "holds", "cell"}]``.

    Parameters
    ----------
    notebook : str, os.PathLike or nbformat.NotebookNode
        An executed notebook.

    Returns
    -------
    list of dict
        One entry per claim: ``name``, ``holds``, ``cell`` (its index) and ``choice`` for
        :func:`choose`.
    """
    nb = _load_notebook(notebook, "read_claims")
    found: list[dict[str, Any]] = []
    for index, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            for item in out.get("metadata", {}).get(CLAIMS_METADATA, []) or []:
                entry = {"name": item.get("name", ""), "holds": bool(item.get("holds")), "cell": index}
                if "choice" in item:
                    entry["choice"] = int(item["choice"])
                found.append(entry)
    return found


def _load_notebook(notebook: str | os.PathLike | Any, caller: str) -> Mapping[str, Any]:
    """A notebook as a mapping, from a path (read as plain JSON) or a NotebookNode."""
    if isinstance(notebook, str | os.PathLike):
        path = Path(notebook)
        if not path.is_file():
            raise ValueError(f"{caller}: no notebook at {path}; pass the path of an .ipynb file")
        # Plain JSON: an .ipynb file is JSON, and importing nbformat costs 2-3 s in a kernel.
        nb = json.loads(path.read_text(encoding="utf-8"))
        if nb.get("nbformat") != 4:
            import nbformat

            nb = nbformat.read(path, as_version=4)
        return nb
    if isinstance(notebook, Mapping) and "cells" in notebook:
        return notebook
    raise ValueError(
        f"{caller}: expected a notebook path or NotebookNode, got {type(notebook).__name__}"
    )
