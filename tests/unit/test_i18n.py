"""The 繁體中文 edition (issue 31): catalogs complete and current, the translation function, the
figure and table translation, the extract -> edit -> stale cycle, the glossary's terms, and
Chinese in figures without missing glyphs.

The completeness checks cover the notebooks listed in ``locales/zh-TW/TRANSLATED`` (a notebook
enters it when its catalog is 100%); ``test_coverage_report`` prints the rest
(``crmlab i18n status`` prints the same table).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from crmlab import i18n  # noqa: E402
from crmlab.course import i18n as catalogs  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LANG = "zh-TW"
TRANSLATED = catalogs.translated_list(LANG, ROOT)
IDS = [p.relative_to(ROOT).as_posix() for p in TRANSLATED]


@pytest.fixture
def zh(monkeypatch):
    """Run as the 繁體中文 edition, with only the package's strings catalog."""
    monkeypatch.setenv(i18n.LANG_ENV, LANG)
    monkeypatch.delenv(i18n.STRINGS_ENV, raising=False)


# --------------------------------------------------------------------------- the catalogs


@pytest.mark.parametrize("notebook", TRANSLATED, ids=IDS)
def test_translated_catalog_is_complete_and_current(notebook: Path) -> None:
    """Every Markdown and reading cell of a listed notebook has a translation made from its
    current English (a stale one is shown with the diff of what changed)."""
    assert notebook.is_file(), f"locales/zh-TW/TRANSLATED lists {notebook}, which does not exist"
    found = catalogs.problems(notebook.relative_to(ROOT), LANG, ROOT)
    assert not found, "\n\n".join(found)


@pytest.mark.parametrize("notebook", TRANSLATED, ids=IDS)
def test_translated_catalog_uses_the_glossary(notebook: Path) -> None:
    """A translated cell whose English uses a glossary term (two words or more) writes the
    glossary's 繁體中文 term, and no word the glossary avoids (docs/glossary.md)."""
    found = catalogs.glossary_mismatches(notebook.relative_to(ROOT), LANG, ROOT)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("notebook", TRANSLATED, ids=IDS)
def test_translated_title_cell_has_the_editions_unit_label(notebook: Path) -> None:
    """The lecture shape in Chinese: the first cell's unit line is unit_label(stem, "zh-TW")."""
    from crmlab.units import COURSE_MAP, unit_label

    if notebook.stem not in COURSE_MAP:
        pytest.skip(f"{notebook.stem} is not a lecture of the course map")
    nb = nbformat.read(notebook, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "markdown")
    catalog = catalogs.read_catalog(catalogs.catalog_path(notebook, LANG, ROOT))
    label = unit_label(notebook.stem, LANG)
    assert f"**{label}**" in catalog["cells"][first.id][LANG], (
        f"{notebook.name}: the translated title cell should carry the unit line **{label}**")


@pytest.mark.parametrize("notebook", TRANSLATED, ids=IDS)
def test_translated_markdown_has_no_line_break_inside_chinese(notebook: Path) -> None:
    found = catalogs.style_problems(notebook.relative_to(ROOT), LANG, ROOT)
    assert not found, "\n".join(found)


def test_line_breaks_inside_chinese_are_found(tmp_path: Path) -> None:
    path = _notebook(tmp_path, "# T", "say('x')")
    catalogs.extract(path, LANG, tmp_path)
    cat_file = catalogs.catalog_path(path, LANG, tmp_path)
    data = yaml.safe_load(cat_file.read_text(encoding="utf-8"))
    md_id = next(iter(data["cells"]))
    data["cells"][md_id][LANG] = "# 標題\n\n這是一段很長的句子，\n在中間換行。\n\n* 清單\n* 第二項 `code`\n  續行"
    cat_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    found = catalogs.style_problems(path, LANG, tmp_path)
    assert len(found) == 1 and md_id in found[0] and "，\\n在" in found[0]


@pytest.mark.parametrize("notebook", TRANSLATED, ids=IDS)
def test_translated_reading_cells_keep_the_code(notebook: Path) -> None:
    """A reading cell's translation is the same code with its strings translated: it parses,
    it makes the same say/claim/choose calls as the English cell, and calls nothing the English
    does not, except ``tr(...)`` for words that come from the data (an event or touchpoint
    name); a language may drop a call English needs (an "is"/"are" by ``len``)."""
    import ast

    catalog = catalogs.read_catalog(catalogs.catalog_path(notebook, LANG, ROOT))
    for cid, entry in catalog["cells"].items():
        if entry["kind"] != "reading":
            continue

        def calls(src: str) -> list[str]:
            return sorted(getattr(n.func, "id", getattr(n.func, "attr", "?"))
                          for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Call))

        try:
            translated = calls(entry[LANG])
        except SyntaxError as exc:
            pytest.fail(f"{notebook.name}: reading cell {cid}: the translation is not valid "
                        f"Python ({exc.msg}, line {exc.lineno})")
        from collections import Counter

        english = calls(entry["english"])
        extra = Counter(n for n in translated if n != "tr") - Counter(english)  # tr(): data words
        assert not extra, (
            f"{notebook.name}: reading cell {cid}: the translation calls {sorted(extra)}, which the "
            "English code does not; translate only the strings (and wrap data words in tr())")
        readings = ("say", "claim", "choose", "compare", "num")  # crmlab.nb: the computed readings
        assert [n for n in translated if n in readings] == [n for n in english if n in readings], (
            f"{notebook.name}: reading cell {cid}: the translation must make the same say/claim/"
            "choose calls as the English code (one reading per claim, with the same name=)")

        def claim_names(src: str) -> list[str]:
            return [kw.value.value for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Call)
                    for kw in n.keywords if kw.arg == "name" and isinstance(kw.value, ast.Constant)]

        assert claim_names(entry[LANG]) == claim_names(entry["english"]), (
            f"{notebook.name}: reading cell {cid}: keep every claim's name= as in English (the "
            "world sweep counts the readings by name)")


def test_translated_list_names_complete_catalogs_only() -> None:
    """The list exists and every catalog beside a notebook parses and names its notebook."""
    assert (ROOT / "locales" / LANG / catalogs.TRANSLATED_LIST).is_file()
    for path in sorted((ROOT / "locales" / LANG).rglob("*.yaml")):
        data = catalogs.read_catalog(path)
        assert (ROOT / data["notebook"]).is_file(), f"{path}: notebook {data['notebook']} is gone"
        assert data.get("language") == LANG, f"{path}: language should be {LANG}"


def test_coverage_report(capsys) -> None:
    """Every course notebook appears in the coverage table; listed ones are at 100%."""
    rows = catalogs.status(LANG, ROOT)
    assert {r["notebook"] for r in rows} >= {"notebooks/00_welcome.ipynb"}
    for row in rows:
        assert row["done"] + row["stale"] + row["missing"] == row["cells"]
        if row["listed"]:
            assert row["share"] == 1.0, row
    with capsys.disabled():
        print("\n" + catalogs.format_status(rows))


# --------------------------------------------------------------------------- extract cycle


def _notebook(root: Path, markdown: str, reading: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(markdown),
                nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell(reading)]
    nb.cells[2].metadata["tags"] = ["reading"]
    path = root / "notebooks" / "99_tmp.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _set_english(path: Path, index: int, text: str) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.cells[index].source = text
    nbformat.write(nb, path)


def test_extract_edit_stale_cycle(tmp_path: Path) -> None:
    """New cells come in empty; a translated cell whose English changes is stale, named with
    its cell id and the diff; extract keeps the translation and the old English; apply leaves
    the stale cell English until the translation is updated."""
    path = _notebook(tmp_path, "# Orders\n\nThe shop sells online.\n", 'say("Revenue grew.")')
    report = catalogs.extract(path, LANG, tmp_path)
    assert len(report.added) == 2 and not report.stale
    cat_file = catalogs.catalog_path(path, LANG, tmp_path)
    assert cat_file == tmp_path / "locales" / LANG / "notebooks" / "99_tmp.yaml"
    text = cat_file.read_text(encoding="utf-8")
    assert "english: |" in text  # a block a translator reads
    md_id, rd_id = (c.id for c in nbformat.read(path, as_version=4).cells[::2])
    assert any(md_id in p and "no zh-TW translation" in p for p in catalogs.problems(path, LANG, tmp_path))

    data = yaml.safe_load(text)
    data["cells"][md_id][LANG] = "# 訂單\n\n這家商店在網路上銷售。\n"
    data["cells"][rd_id][LANG] = 'say("營收成長了。")'
    cat_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert catalogs.problems(path, LANG, tmp_path) == []
    assert [s.state for s in catalogs.cell_states(path, LANG, tmp_path)] == ["done", "done"]

    # the English changes, nobody re-extracts: stale, with the cell id and the diff
    _set_english(path, 0, "# Orders\n\nThe shop sells online and in stores.\n")
    found = catalogs.problems(path, LANG, tmp_path)
    assert len(found) == 1 and md_id in found[0] and "99_tmp" in found[0]
    assert "-The shop sells online.\n+The shop sells online and in stores." in found[0]

    # extract: the translation and the English it was made from are kept
    report = catalogs.extract(path, LANG, tmp_path)
    assert report.stale == [md_id] and not report.added
    entry = catalogs.read_catalog(cat_file)["cells"][md_id]
    assert entry[LANG].startswith("# 訂單") and entry["old_english"].endswith("sells online.\n")
    assert "-The shop sells online." in catalogs.problems(path, LANG, tmp_path)[0]
    out = tmp_path / "out" / "99_tmp.ipynb"
    assert catalogs.apply(path, out, LANG, tmp_path) == {"translated": 1, "english": 1}
    applied = nbformat.read(out, as_version=4)
    assert applied.cells[0].source.startswith("# Orders") and "營收" in applied.cells[2].source
    assert applied.metadata["crmlab"]["language"] == LANG

    # the translator updates the text and deletes old_english: current again
    data = yaml.safe_load(cat_file.read_text(encoding="utf-8"))
    data["cells"][md_id][LANG] = "# 訂單\n\n這家商店在網路和門市銷售。\n"
    del data["cells"][md_id]["old_english"]
    cat_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert catalogs.problems(path, LANG, tmp_path) == []
    catalogs.apply(path, out, LANG, tmp_path)
    assert nbformat.read(out, as_version=4).cells[0].source.endswith("門市銷售。\n")


def test_extract_round_trips_the_english_exactly(tmp_path: Path) -> None:
    """Block scalars keep every character of the English (indentation, blank lines, no final
    newline, quotes and colons), so the hash of ``english`` is the hash of the cell."""
    tricky = "  indented: first line\n\n* a 'quote' and \"double\" -- `code: x`\n\n\n$a_b$ NT\\$5"
    path = _notebook(tmp_path, tricky, 'say(f"{x:.0%} of the revenue")')
    catalogs.extract(path, LANG, tmp_path)
    cells = catalogs.read_catalog(catalogs.catalog_path(path, LANG, tmp_path))["cells"]
    english = [c["english"] for c in cells.values()]
    assert english == [tricky, 'say(f"{x:.0%} of the revenue")']
    assert all(catalogs.cell_hash(c["english"]) == c["hash"] for c in cells.values())


def test_drawn_strings_are_offered_for_translation(tmp_path: Path) -> None:
    path = _notebook(tmp_path, "# T", "say('x')")
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = ('ax.set_title("Orders per month")\nax.set_ylabel(\'revenue (NT$)\')\n'
                          'ax.plot(x, y, label="members")\nax.set_xlabel(f"share of {who}")')
    nbformat.write(nb, path)
    assert catalogs.drawn_strings(nb) == ["Orders per month", "revenue (NT$)", "members"]
    report = catalogs.extract(path, LANG, tmp_path)
    assert report.strings_added == ["Orders per month", "revenue (NT$)", "members"]


# --------------------------------------------------------------------------- tr and figures


def test_tr_is_the_identity_in_english(monkeypatch) -> None:
    monkeypatch.delenv(i18n.LANG_ENV, raising=False)
    assert i18n.language() == "en"
    assert i18n.tr("Lorenz curve") == "Lorenz curve"
    assert i18n.tr("share of {label}", label="members") == "share of members"


def test_tr_translates_exact_strings_and_templates(zh) -> None:
    # the expected texts are the entries of crmlab/locales/zh-TW.yaml
    assert i18n.tr("Lorenz curve") == "羅倫茲曲線"
    assert i18n.tr("share of {label}", label="members") == "會員占比"  # the value is translated too
    assert i18n.lookup("share of customers") == "客戶占比"  # a template matched in drawn text
    assert i18n.tr("a sentence no catalog knows") == "a sentence no catalog knows"
    assert "a sentence no catalog knows" in i18n.untranslated()


def test_unknown_language_is_a_value_error(monkeypatch) -> None:
    monkeypatch.setenv(i18n.LANG_ENV, "fr")
    with pytest.raises(ValueError, match="CRMLAB_LANG='fr'.*zh-TW"):
        i18n.language()


def test_every_catalog_parses() -> None:
    """The package's strings catalog and every notebook catalog are valid YAML with mappings
    (a translator's unquoted 'Title: subtitle' key breaks every lookup of the edition)."""
    for path in [i18n.strings_catalog(LANG), *sorted((ROOT / "locales" / LANG).rglob("*.yaml"))]:
        i18n._read_strings.cache_clear()
        for section in ("strings", "values"):
            i18n._read_strings(str(path), section)  # raises ValueError naming file and line


def test_a_yaml_error_names_the_file_and_line(tmp_path: Path, monkeypatch) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("strings:\n  ok: 好\n  Sales: by month: 每月銷售\n", encoding="utf-8")
    monkeypatch.setenv(i18n.LANG_ENV, LANG)
    monkeypatch.setenv(i18n.STRINGS_ENV, str(bad))
    with pytest.raises(ValueError, match=r"bad.yaml: YAML error at line 3.*quote"):
        i18n.tr("Sales")


def test_a_template_must_keep_its_placeholders(tmp_path: Path, monkeypatch) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("strings:\n  'Top {n} customers': 前幾名客戶\n", encoding="utf-8")
    monkeypatch.setenv(i18n.LANG_ENV, LANG)
    monkeypatch.setenv(i18n.STRINGS_ENV, str(bad))
    with pytest.raises(ValueError, match=r"placeholders \['n'\]"):
        i18n.tr("Top {n} customers", n=5)


def test_notebook_strings_come_before_the_package_catalog(tmp_path: Path, monkeypatch) -> None:
    mine = tmp_path / "nb.yaml"
    mine.write_text("strings:\n  Lorenz curve: 營收集中度\n  'Top {n} customers': 前 {n} 名客戶\n",
                    encoding="utf-8")
    monkeypatch.setenv(i18n.LANG_ENV, LANG)
    monkeypatch.setenv(i18n.STRINGS_ENV, str(mine))
    assert i18n.tr("Lorenz curve") == "營收集中度"
    assert i18n.lookup("Top 10 customers") == "前 10 名客戶"
    assert i18n.lookup("equality") == "完全平均"  # falls through to the package catalog


@pytest.fixture
def themed():
    """The workbook's theme (its CJK font fallback) inside an rc context."""
    from crmlab import plots

    with matplotlib.rc_context():
        plots.set_theme()
        yield


def test_translate_figure(zh, themed) -> None:
    """A figure drawn in English comes out with the catalog's Chinese: title, axis labels,
    legend entries, category tick labels, annotations (crmlab/locales/zh-TW.yaml)."""
    fig, (left, right) = plt.subplots(1, 2)
    left.plot([0, 1], [0, 1], label="equality")
    left.plot([0, 1], [0, 0.5], label="not in any catalog")
    left.set_title("Lorenz curve")
    left.set_xlabel("share of customers")
    left.set_ylabel("cumulative share")
    left.legend()
    left.annotate("touchpoint", (0.5, 0.5))
    right.bar(["signup", "order", "X-17"], [3, 2, 1])
    right.set_title("Quota attainment")
    right.set_xlabel("touchpoint")
    right.set_ylabel("count")
    fig.suptitle("Conversion funnel")
    i18n.translate_figure(fig)
    fig.canvas.draw()
    assert left.get_title() == "羅倫茲曲線" and right.get_title() == "業績達成率"
    assert fig._suptitle.get_text() == "轉換漏斗"
    assert (left.get_xlabel(), left.get_ylabel()) == ("客戶占比", "累計占比")
    assert [t.get_text() for t in left.get_legend().get_texts()] == ["完全平均", "not in any catalog"]
    assert left.texts[0].get_text() == "接觸點"
    assert [t.get_text() for t in right.get_xticklabels()] == ["註冊", "訂單", "X-17"]
    assert "not in any catalog" in i18n.untranslated()
    fig2, ax2 = plt.subplots()  # tick labels that are not text (a heatmap's numbers)
    ax2.imshow([[1, 2], [3, 4]])
    ax2.set_xticks([0, 1], [np.int64(5), np.int64(4)])
    i18n.translate_figure(fig2)
    fig2.canvas.draw()
    assert [t.get_text() for t in ax2.get_xticklabels()] == ["5", "4"]
    plt.close(fig2)
    i18n.translate_figure(fig)  # twice is the same
    fig.canvas.draw()
    assert [t.get_text() for t in right.get_xticklabels()] == ["註冊", "訂單", "X-17"]
    plt.close(fig)


def test_translate_figure_leaves_english_alone(monkeypatch) -> None:
    monkeypatch.delenv(i18n.LANG_ENV, raising=False)
    fig, ax = plt.subplots()
    ax.set_title("Lorenz curve")
    i18n.translate_figure(fig)
    assert ax.get_title() == "Lorenz curve"
    plt.close(fig)


def test_display_table_renames_headers_only(zh) -> None:
    table = pd.DataFrame({"touchpoint": ["signup", "order"], "count": [3, 2]},
                         index=pd.Index(["signup", "x"], name="date"))
    shown = i18n.display_table(table)
    assert list(shown.columns) == ["接觸點", "數量"]
    assert list(shown.index) == ["註冊", "x"] and shown.index.name == "日期"
    assert list(shown["接觸點"]) == ["註冊", "訂單"]  # known text values too, for display
    assert list(shown["數量"]) == [3, 2]
    assert list(table.columns) == ["touchpoint", "count"]  # the caller's table is untouched
    assert list(table["touchpoint"]) == ["signup", "order"]
    series = i18n.display_table(pd.Series(["won", "lost", "Huang"], name="status"))
    assert series.name == "狀態" and list(series) == ["成交", "失敗", "Huang"]


def test_identifiers_and_amounts_are_not_missing_translations(zh) -> None:
    for text in ("customer_id", "orders.order_id", "NT$1,000", "2024-01"):
        assert i18n.lookup(text) is None
        assert text not in i18n.untranslated()


# --------------------------------------------------------------------------- the glossary


def test_glossary_is_data() -> None:
    rows = i18n.glossary()
    crm = next(r for r in rows if r["english"].startswith("customer relationship management"))
    assert (crm["zh-TW"], crm["zh-CN"], crm["unit"]) == ("客戶關係管理", "客户关系管理", "0")
    assert i18n.avoided_words()["顧客"] == "客戶"


def test_glossary_mismatches_are_reported(tmp_path: Path, monkeypatch) -> None:
    path = _notebook(tmp_path, "Our loyalty program rewards members.", "say('x')")
    catalogs.extract(path, LANG, tmp_path)
    cat_file = catalogs.catalog_path(path, LANG, tmp_path)
    data = yaml.safe_load(cat_file.read_text(encoding="utf-8"))
    md_id = next(iter(data["cells"]))
    data["cells"][md_id][LANG] = "我們的會員方案回饋顧客。"  # glossary: 忠誠度計畫, 客戶
    cat_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    found = catalogs.glossary_mismatches(path, LANG, tmp_path)
    assert any("loyalty program" in f and "忠誠度計畫" in f for f in found)
    assert any("顧客" in f and "客戶" in f for f in found)
    data["cells"][md_id][LANG] = "我們的忠誠度計畫回饋客戶。"
    cat_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert catalogs.glossary_mismatches(path, LANG, tmp_path) == []


# --------------------------------------------------------------------------- the CJK font


def test_chinese_renders_without_missing_glyphs(themed) -> None:
    from crmlab import plots

    if not plots.installed_cjk_fonts():
        pytest.skip("no CJK font installed (make install adds fonts-noto-cjk as root; "
                    "on another system install Noto Sans CJK TC)")
    fig, ax = plt.subplots()
    ax.bar(["註冊", "訂單"], [3, 2], label="會員")
    ax.set_title("每月訂單數與營收（NT$）")
    ax.set_xlabel("接觸點")
    ax.set_ylabel("客戶數")
    ax.legend()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" is a UserWarning
        fig.canvas.draw()
    plt.close(fig)


def test_navigation_and_unit_label_in_chinese(zh) -> None:
    """The generated navigation cell and the unit label come out in 繁體中文 (every line of the
    English template is in crmlab/locales/zh-TW.yaml); English stays as committed."""
    from crmlab.course.build import navigation_markdown
    from crmlab.units import unit_label

    assert unit_label("02_rfm_and_value", "zh-TW") == "單元 2a · 客戶數據分析"
    assert unit_label("02_rfm_and_value") == "Unit 2a · 客戶數據分析 (customer data analysis)"
    english = navigation_markdown("07_dynamic_pricing", ROOT)
    chinese = navigation_markdown("07_dynamic_pricing", ROOT, lang="zh-TW")
    assert english.startswith("## Next (下一步)") and "**Live demo:**" in english
    assert chinese.startswith("## 下一步") and "**互動示範：**" in chinese
    assert "單元 3c · 個性化行銷" in chinese and "notebook" not in chinese.replace(".ipynb", "")
    assert chinese.count("](") == english.count("](")  # every link kept


# --------------------------------------------------------------------------- the edition's build


def test_start_edition_translates_sources_and_exercises(tmp_path: Path, monkeypatch) -> None:
    """crmlab build --lang: every notebook translated into OUT/zh-TW/sources (the selected ones
    returned to run), released exercises into OUT/zh-TW/exercises; the kernel's environment
    comes from the translated notebook and is restored afterwards."""
    import os

    path = _notebook(tmp_path, "# Orders", 'say("Revenue grew.")')
    catalogs.extract(path, LANG, tmp_path)
    cat_file = catalogs.catalog_path(path, LANG, tmp_path)
    data = yaml.safe_load(cat_file.read_text(encoding="utf-8"))
    md_id = next(iter(data["cells"]))
    data["cells"][md_id][LANG] = "# 訂單"
    cat_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(catalogs, "repository_root", lambda: tmp_path)
    released = tmp_path / "build" / "exercises"
    released.mkdir(parents=True)
    nbformat.write(nbformat.read(path, as_version=4), released / "99_tmp_exercises.ipynb")

    sources, listing, edition = catalogs.start_edition(
        tmp_path / "notebooks", [path], tmp_path / "build", LANG)
    assert edition == tmp_path / "build" / LANG and listing == edition / "sources"
    assert sources == [listing / "99_tmp.ipynb"]
    assert nbformat.read(sources[0], as_version=4).cells[0].source == "# 訂單"
    assert (edition / "exercises" / "99_tmp_exercises.ipynb").is_file()

    monkeypatch.delenv(i18n.LANG_ENV, raising=False)
    with catalogs.edition_environment(sources[0], edition / "i18n"):
        assert os.environ[i18n.LANG_ENV] == LANG
        assert os.environ[i18n.STRINGS_ENV] == str(cat_file.resolve())
        assert os.environ[i18n.MISSING_ENV].endswith("99_tmp.missing.txt")
    assert i18n.LANG_ENV not in os.environ  # restored
    with catalogs.edition_environment(path):  # an English notebook: nothing set
        assert i18n.LANG_ENV not in os.environ
    with pytest.raises(ValueError, match="not an edition"):
        catalogs.start_edition(tmp_path / "notebooks", [path], tmp_path / "build", "fr")


def test_missing_strings_are_read_back(tmp_path: Path) -> None:
    (tmp_path / "05_x.missing.txt").write_text("'Orders per week'\n'a \\'quoted\\' one'\n'Orders per week'\n",
                                               encoding="utf-8")
    assert catalogs.missing_strings(tmp_path) == {"05_x": ["Orders per week", "a 'quoted' one"]}


def test_the_editions_glossary_page_puts_chinese_first() -> None:
    page = catalogs.glossary_markdown(LANG)
    assert "| 繁體中文 | English | 简体中文 | 單元 | meaning |" in page
    assert "| 客戶關係管理 | customer relationship management (CRM) | 客户关系管理 | 0 |" in page
    assert page.count("\n| ") == len(i18n.glossary()) + 1  # every term and the header


def test_a_label_is_not_a_table_value(tmp_path: Path, monkeypatch) -> None:
    """'orders' as an axis label or header (strings:) is 訂單數; 'orders' in a table's cell is a
    table name and stays, unless a values: section says otherwise."""
    mine = tmp_path / "nb.yaml"
    mine.write_text("strings:\n  orders: 訂單數\nvalues:\n  returns: 退貨\n", encoding="utf-8")
    monkeypatch.setenv(i18n.LANG_ENV, LANG)
    monkeypatch.setenv(i18n.STRINGS_ENV, str(mine))
    shown = i18n.display_table(pd.DataFrame({"orders": [1, 2], "table": ["orders", "returns"]}))
    assert list(shown.columns) == ["訂單數", "table"]
    assert list(shown["table"]) == ["orders", "退貨"]


def test_a_notebooks_own_table_values(tmp_path: Path, monkeypatch) -> None:
    """A notebook catalog's values: section (the text in the cells of its own tables, e.g. 01's
    CRM-layers table) survives extract, counts in the status when empty, and is what the
    edition's kernel looks a table's cell up in (before the package's values:)."""
    path = _notebook(tmp_path, "# Layers", 'say("ok")')
    catalogs.extract(path, LANG, tmp_path)
    cat_file = catalogs.catalog_path(path, LANG, tmp_path)
    data = yaml.safe_load(cat_file.read_text(encoding="utf-8"))
    assert "values" not in data  # written only when a translator adds it
    data["values"] = {"collection": "蒐集", "the CRM database: orders, events, tickets":
                      "CRM 資料庫：訂單、事件、工單", "won": "贏得", "analysis": ""}
    cat_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    _set_english(path, 0, "# CRM layers")  # the English changes: extract keeps the values
    catalogs.extract(path, LANG, tmp_path)
    kept = catalogs.read_catalog(cat_file)
    assert kept["values"] == data["values"] and kept["cells"]
    written = cat_file.read_text(encoding="utf-8")
    assert "\n  collection: 蒐集\n" in written and written.index("\nstrings:") < written.index("\nvalues:")
    monkeypatch.setattr(catalogs, "repository_root", lambda: tmp_path)
    row = next(r for r in catalogs.status(LANG, tmp_path) if r["notebook"].endswith("99_tmp.ipynb"))
    assert row["strings_missing"] == 1  # 'analysis' has no translation yet

    out = tmp_path / "out" / "99_tmp.ipynb"
    catalogs.apply(path, out, LANG, tmp_path)
    monkeypatch.delenv(i18n.LANG_ENV, raising=False)
    with catalogs.edition_environment(out):  # as the build runs the notebook
        table = pd.DataFrame({"step": ["collection", "analysis", "collection"],
                              "what it does": ["the CRM database: orders, events, tickets",
                                               "RFM", "won"]})
        shown = i18n.display_table(table)
        assert list(shown["step"]) == ["蒐集", "analysis", "蒐集"]  # empty: stays English
        # the notebook's own word wins over the package's values: (won -> 成交 there)
        assert list(shown.iloc[:, 1]) == ["CRM 資料庫：訂單、事件、工單", "RFM", "贏得"]
        assert i18n.lookup("collection") is None  # a table value, not a label


def test_the_command(tmp_path: Path, monkeypatch, capsys) -> None:
    """crmlab i18n extract|status|apply through the command's parser."""
    import argparse

    _notebook(tmp_path, "# Orders", 'say("Revenue grew.")')
    monkeypatch.setattr(catalogs, "repository_root", lambda: tmp_path)
    parser = argparse.ArgumentParser(prog="crmlab")
    catalogs.register(parser.add_subparsers())

    def run(*argv: str) -> int:
        args = parser.parse_args(list(argv))
        return args.func(args)

    assert run("i18n", "extract", "99") == 0
    assert "2 new cell(s)" in capsys.readouterr().out
    assert run("i18n", "status") == 0  # nothing listed in TRANSLATED yet
    assert "notebooks/99_tmp.ipynb" in capsys.readouterr().out
    (tmp_path / "locales" / LANG / "TRANSLATED").write_text("notebooks/99_tmp.ipynb\n", encoding="utf-8")
    assert run("i18n", "status") == 1  # listed, but not translated: the problems are printed
    assert "has no zh-TW translation" in capsys.readouterr().out
    assert run("i18n", "apply", "99", "--out", str(tmp_path / "out")) == 0
    assert (tmp_path / "out" / "99_tmp.ipynb").is_file()
    with pytest.raises(ValueError, match="no notebook '42'"):
        run("i18n", "extract", "42")


def test_exercise_check_messages(zh, tmp_path: Path, monkeypatch) -> None:
    """A check's lines come out in Chinese (templates of crmlab/locales/zh-TW.yaml), a hint
    the catalogs know is translated inside its line, an unknown reason stays English."""
    hints = tmp_path / "ex.yaml"
    hints.write_text("strings:\n  Count the orders per member.: 計算每位會員的訂單數。\n", encoding="utf-8")
    monkeypatch.setenv(i18n.STRINGS_ENV, str(hints))
    message = ("❌ q1: not yet. expected 3, got 2.\n   This looks like a typical mistake: off by one."
               "\n   Hint: Count the orders per member.")
    assert i18n.translate_lines(message).split("\n") == [
        "❌ q1：還沒對。expected 3, got 2.", "   這看起來是常見的錯誤：off by one。",
        "   提示：計算每位會員的訂單數。"]
    assert i18n.translate_lines("✅ q2: correct — well done!") == "✅ q2：正確，做得好！"
    monkeypatch.delenv(i18n.LANG_ENV)
    assert i18n.translate_lines(message) == message


def test_finish_edition_marks_translated_pages_and_writes_the_glossary(tmp_path: Path) -> None:
    edition = tmp_path / LANG
    for name in ("sources/99_tmp.ipynb", "site/99_tmp.html", "site/99_untranslated_demo.html"):
        (edition / name).parent.mkdir(parents=True, exist_ok=True)
        (edition / name).write_text('<!DOCTYPE html>\n<html lang="en"><body></body></html>', encoding="utf-8")
    (edition / "i18n").mkdir()
    (edition / "i18n" / "99_tmp.missing.txt").write_text("'Orders per week'\n", encoding="utf-8")
    assert catalogs.finish_edition(edition, LANG) == {"99_tmp": ["Orders per week"]}
    assert '<html lang="zh-TW">' in (edition / "site" / "99_tmp.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in (edition / "site" / "99_untranslated_demo.html").read_text(encoding="utf-8")
    glossary = (edition / "site" / "glossary.html").read_text(encoding="utf-8")
    assert "客戶關係管理" in glossary and glossary.index("繁體中文") < glossary.index("English")


# --------------------------------------------------------------------------- readings in Chinese


def test_say_joins_chinese_parts_without_spaces(zh) -> None:
    """say() joins Chinese parts as Chinese is written: no space after 。 or before ，, none
    between two Chinese characters; the optional space between Chinese and a Latin word stays;
    English keeps its single space (the committed notebooks' outputs)."""
    from crmlab.nb import join_parts

    parts = ["營收成長了。", "這是多數。", "RFM 顯示", "**45%**", "，很高", "而且", "很集中。"]
    assert join_parts(parts) == "營收成長了。這是多數。RFM 顯示 **45%**，很高而且很集中。"
    assert join_parts(["a.", "b"], lang="en") == "a. b"
    assert join_parts(["甲。", "乙"], sep="\n\n") == "甲。\n\n乙"  # only the default space


def test_skipped_line_in_chinese(zh) -> None:
    """crmlab.nb.skipped's sentence comes from the 'skipped|' templates of
    crmlab/locales/zh-TW.yaml (the expected text is those entries filled in)."""
    from crmlab.nb import Available, skipped

    cdnow = Available(("orders",), ("sessions", "events"), False, ("customers",),
                      "real data from CDNOW", "US$")
    line = skipped(cdnow, {"sessions": "漏斗", "events": "漏斗", "truth": "與真實值的比對"},
                   also={"第二個商品": "推薦"})
    assert line == ("這家商店沒有 `sessions` 和 `events` 資料表、沒有模擬設定的真實值和沒有第二個商品"
                    "（來自 CDNOW 的真實資料），所以本筆記本略過漏斗、與真實值的比對和推薦。")
    full = Available(("orders",), (), True, (), "simulated", "NT$")
    assert skipped(full, {"orders": "x", "truth": "y"}) == (
        "這家商店（模擬資料）有本筆記本用到的每一張資料表和模擬設定的真實值：沒有略過任何一節。")
    assert not [t for t in i18n.untranslated() if t.startswith("skipped|")]


def test_a_context_keeps_a_short_template_out_of_drawn_text(zh) -> None:
    """'skipped|no {what}' translates tr(..., context='skipped') only: a figure label that
    begins with "no " is not swallowed by it."""
    assert i18n.tr("no {what}", context="skipped", what="第二個商品") == "沒有第二個商品"
    assert i18n.lookup("no such label in any catalog") is None
    assert i18n.tr("no {what}", what="x") == "no x"  # without the context: not that entry


def test_course_map_in_the_editions_language(zh) -> None:
    """Notebook 00's course map in the zh-TW edition: Chinese headers and words (the
    'course map|' entries of crmlab/locales/zh-TW.yaml), the unit's Chinese name only, the
    same rows and links as English; the README is written in English whatever CRMLAB_LANG."""
    from crmlab.course.course_map import course_map_markdown, readme_table

    chinese = course_map_markdown("notebooks", ROOT)
    english = course_map_markdown("notebooks", ROOT, lang="en")
    assert chinese.splitlines()[0] == "| 講次 | 筆記本 | 單元 | crmlab 模組 | 練習 |"
    assert english.splitlines()[0] == "| lecture | notebook | unit | crmlab module(s) | exercises |"
    assert "| 2a | [02_rfm_and_value](02_rfm_and_value.ipynb) | 2 · 客戶數據分析 | `crmlab.rfm` |" in chinese
    assert "（共用）" in chinese and "(shared)" not in chinese and "customer data analysis" not in chinese
    assert len(chinese.splitlines()) == len(english.splitlines())
    assert chinese.count("](") == english.count("](")
    assert readme_table(ROOT / "README.md") == course_map_markdown(".", ROOT, lang="en")
    assert not [t for t in i18n.untranslated() if t.startswith("course map|")]


def test_math_tick_labels_are_not_missing_translations(zh, themed) -> None:
    """A log axis's tick labels are formulas ($\\mathdefault{10^{0}}$): never recorded as
    missing strings; a title with words around a formula still is."""
    fig, ax = plt.subplots()
    ax.loglog([1, 10, 1000], [1, 100, 10])
    ax.set_title("$R^2$ of a title no catalog knows")
    i18n.translate_figure(fig)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert any("mathdefault" in t for t in labels)  # what matplotlib draws on a log axis
    assert not [t for t in i18n.untranslated() if "mathdefault" in t]
    assert i18n.lookup("$\\mathdefault{10^{-1}}$") is None
    assert "$\\mathdefault{10^{-1}}$" not in i18n.untranslated()
    assert "$R^2$ of a title no catalog knows" in i18n.untranslated()
    plt.close(fig)


def test_chinese_and_shortened_labels(zh) -> None:
    """A label already in Chinese (a translated reading's title) is not a missing string; one
    the code shortened with an ellipsis (11b's topic words, 'defective…') is its start
    translated (defective -> 瑕疵品 in crmlab/locales/zh-TW.yaml), its unknown start recorded."""
    for text in ("RFM 的三個指標", "每小時 200 通電話、AHT 180 秒：客服人員數與服務水準"):
        assert i18n.lookup(text) is None and text not in i18n.untranslated()
    assert "customer unit price (客單價)" not in i18n.untranslated()
    i18n.lookup("customer unit price (客單價)")  # English with a Chinese term: still missing
    assert "customer unit price (客單價)" in i18n.untranslated()
    assert i18n.lookup("defective…") == "瑕疵品…"
    shown = i18n.display_table(pd.DataFrame({"defective…": [0.5], "zqxw…": [0.5]}))
    assert list(shown.columns) == ["瑕疵品…", "zqxw…"]
    assert "zqxw" in i18n.untranslated() and "zqxw…" not in i18n.untranslated()


def test_tr_matches_templates_as_lookup_does(tmp_path: Path, monkeypatch) -> None:
    """A computed text passed to tr() (a scenario name "5 agents" built before tr sees it) is
    translated by the catalog's template, as lookup() translates drawn text; a context keeps
    tr to its exact key."""
    mine = tmp_path / "nb.yaml"
    mine.write_text("strings:\n  '{n} agents': '{n} 位客服人員'\n  'ctx|{n} calls': '{n} 通'\n",
                    encoding="utf-8")
    monkeypatch.setenv(i18n.LANG_ENV, LANG)
    monkeypatch.setenv(i18n.STRINGS_ENV, str(mine))
    assert i18n.tr("5 agents") == "5 位客服人員"
    assert i18n.tr("{n} agents", n=7) == "7 位客服人員"  # the template itself, filled
    assert i18n.tr("3 calls", context="ctx") == "3 calls"  # a context matches its key only
    assert "5 agents" not in i18n.untranslated()


def test_a_translated_text_seen_again_is_not_missing(tmp_path: Path, monkeypatch, themed) -> None:
    """A figure title set from tr() (fig.suptitle(tr(...))) is looked up again by
    translate_figure: a catalog's translation, exact or a filled-in template, is not recorded
    as missing (it would show in the build's missing.json); English nobody translated is."""
    import matplotlib.pyplot as plt

    mine = tmp_path / "nb.yaml"
    # translations with Latin words (few Han characters), so only the catalog says they are Chinese
    mine.write_text("strings:\n  'ASA by agents': 'ASA vs SLA 人數'\n"
                    "  'Top {n} SKUs by revenue': 'Top {n} SKU 營收'\n", encoding="utf-8")
    monkeypatch.setenv(i18n.LANG_ENV, LANG)
    monkeypatch.setenv(i18n.STRINGS_ENV, str(mine))
    fig, ax = plt.subplots()
    fig.suptitle(i18n.tr("ASA by agents"))
    ax.set_title(i18n.tr("Top {n} SKUs by revenue", n=10))
    ax.set_xlabel("an English label no catalog knows")
    i18n.translate_figure(fig)
    missing = i18n.untranslated()
    assert "ASA vs SLA 人數" not in missing and "Top 10 SKU 營收" not in missing
    assert "an English label no catalog knows" in missing  # the check can fail
    plt.close(fig)
