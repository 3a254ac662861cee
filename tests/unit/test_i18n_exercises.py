"""The exercises of the 繁體中文 edition (issue 31): the student versions translated from the
catalogs of their sources, and a check's feedback (verdict, typical mistake, hint, "not
answered yet") in Chinese when run with ``CRMLAB_LANG=zh-TW``."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

import crmlab.exercises as ex
from crmlab import i18n
from crmlab.course import i18n as catalogs

ROOT = Path(__file__).resolve().parents[2]
EXERCISE = ROOT / "exercises" / "00_warmup_exercises.ipynb"


@pytest.fixture()
def zh(monkeypatch):
    """The 繁體中文 edition, no catalog added yet by an earlier start()."""
    monkeypatch.setenv(i18n.LANG_ENV, "zh-TW")
    monkeypatch.delenv(i18n.STRINGS_ENV, raising=False)
    monkeypatch.setattr(i18n, "_USED", [])


def test_student_version_is_translated(tmp_path: Path) -> None:
    """The committed student version (same cell ids as its source) comes out in Chinese; a
    cell whose model answer became the stub gets the stub in the translation too (and no
    model answer or mark scheme leaks into it)."""
    written = catalogs.translate_exercises(ROOT / "exercises", tmp_path, "zh-TW")
    assert [p.name for p in written] == sorted(p.name for p in (ROOT / "exercises").glob("*.ipynb"))
    out = tmp_path / "00_warmup_exercises.ipynb"
    cells = {c.get("id"): c for c in nbformat.read(out, as_version=4).cells}
    assert cells["warmup-00"].source.startswith("# 練習 00 — 認識商店資料表")
    assert "指定給 `n_customers`" in cells["warmup-03"].source
    english = {c.get("id"): c.source for c in nbformat.read(EXERCISE, as_version=4).cells}
    assert "YOUR ANSWER HERE" in english["warmup-20"]
    assert cells["warmup-20"].source == english["warmup-20"].replace("**Your answer:**", "**你的答案：**")
    assert cells["warmup-04"].source == english["warmup-04"]  # code stays as released


def test_check_feedback_in_chinese(zh, capsys) -> None:
    """start() adds the exercise's catalog, so its hints and typical-mistake names come out
    translated inside the check's Chinese lines."""
    ctx = ex.start("00_warmup", data="tiny", seed=42)
    shop = ctx.shop
    ex.check("warmup_n_customers", ex.NOT_ANSWERED)
    ex.check("warmup_n_customers", len(shop.orders))  # a registered mistake: order rows
    ex.check("warmup_n_customers", len(shop.customers))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("… warmup_n_customers：尚未作答")
    # the reason and the tolerance note too (templates of crmlab/locales/zh-TW.yaml): the shop
    # has more orders than members, so the answer is too high
    assert lines[1] == "❌ warmup_n_customers：還沒對。你的答案太高了。數字以相對誤差 1e-06 檢查（不要四捨五入）。"
    assert lines[2] == "   這看起來是常見的錯誤：數的是訂單列數，不是會員數。"
    assert lines[3] == "   提示：shop.customers 的每一列是一位會員；數一數有幾列。"
    assert lines[4] == "✅ warmup_n_customers：正確，做得好！"


def test_checkpoint_lines_in_chinese(zh, capsys) -> None:
    """An exercise that starts from an earlier answer says so in Chinese (the exercise and
    the name of the earlier answer too)."""
    ex.start("00_warmup", data="tiny", seed=42)
    ex.checkpoint("warmup_top5_customers", ex.NOT_ANSWERED, starts="Exercise 6",
                  source="Exercise 5's `top5`")
    ex.checkpoint("warmup_top5_customers", [1, 2], starts="Exercise 6",
                  source="Exercise 5's `top5`")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("… 練習 6 以 練習 5 的 `top5` 為起點，但它還沒作答")
    assert lines[1] == "⚠️ 練習 6 以 練習 5 的 `top5` 為起點，但它和正確的不同：你的結果有 2 個項目；預期是 5 個。"
    assert lines[2].startswith("   請先修正它")


def test_check_feedback_stays_english_by_default(monkeypatch, capsys) -> None:
    monkeypatch.delenv(i18n.LANG_ENV, raising=False)
    monkeypatch.setattr(i18n, "_USED", [])
    ctx = ex.start("00_warmup", data="tiny", seed=42)
    ex.check("warmup_n_customers", len(ctx.shop.orders))
    out = capsys.readouterr().out
    assert "Hint: Every row of shop.customers is one member; count the rows." in out
    assert i18n._USED == []


def _listed_exercises() -> list[Path]:
    return [p for p in catalogs.translated_list("zh-TW", ROOT) if p.parent.name == "exercises"]


@pytest.mark.parametrize("source", _listed_exercises(), ids=lambda p: p.stem)
def test_listed_exercise_translates_every_hint(source: Path, monkeypatch) -> None:
    """An exercise listed in TRANSLATED has, in its catalog's strings:, the hint, the typical
    mistakes and the accepted conventions of each of its questions (a hint changed in
    instructor/answers/ fails here instead of showing up in English)."""
    from crmlab.course.exercises.release import question_ids
    from crmlab.exercises import registry

    monkeypatch.setenv(i18n.LANG_ENV, "zh-TW")
    monkeypatch.setenv(i18n.STRINGS_ENV, str(catalogs.catalog_path(source, "zh-TW", ROOT)))
    registry.load_answers()
    missing = []
    for qid in question_ids(source):
        q = registry.get_question(qid)
        labels = [label for table in (registry.MISTAKES, registry.CONVENTIONS)
                  for label, _ in table.get(qid, [])]
        missing += [f"{qid}: {text!r}" for text in [q.hint, *labels]
                    if text and i18n.lookup(text, record=False) is None]
    assert not missing, (f"{source.name}: add these to the strings: of its catalog "
                         "(crmlab i18n status shows the catalog):\n" + "\n".join(missing))


def test_release_per_student_is_translated(tmp_path: Path) -> None:
    """make materials LANG=zh-TW STUDENTS=...: every student's folder gets its Chinese copy."""
    released = tmp_path / "exercises"
    (released / "S001").mkdir(parents=True)
    nbformat.write(nbformat.read(EXERCISE, as_version=4), released / "S001" / EXERCISE.name)
    written = catalogs.translate_exercises(released, tmp_path / "zh", "zh-TW")
    assert written == [tmp_path / "zh" / "S001" / EXERCISE.name]
    first = nbformat.read(written[0], as_version=4).cells[0].source
    assert first.startswith("# 練習 00 — 認識商店資料表")


def test_exam_form_lines_in_chinese(zh) -> None:
    """An exam checks only the form; its line comes out in Chinese too."""
    from crmlab.exercises.exam import check_form

    verdict = check_form([1, 2], {"kind": "number"})
    line = i18n.translate_lines(f"⚠️ q1: not the expected form: {verdict.reason}.")
    assert line == "⚠️ q1：不是預期的形式：你的答案是 一個 list；預期的是單一數字。"
    assert i18n.translate_lines("✅ q1: the form is right (a DataFrame (table)); your instructor "
                                "grades the value.") == "✅ q1：形式正確（DataFrame（資料表））；數值由你的老師評分。"
