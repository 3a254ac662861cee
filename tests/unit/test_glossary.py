"""docs/glossary.md: every term in English, 繁體中文 and 简体中文, covering every unit."""

from __future__ import annotations

import re
from pathlib import Path

GLOSSARY = Path(__file__).resolve().parents[2] / "docs" / "glossary.md"
HAN = re.compile(r"[\u4e00-\u9fff]")


def rows() -> list[list[str]]:
    lines = [ln for ln in GLOSSARY.read_text(encoding="utf-8").splitlines() if ln.startswith("|")]
    table = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in lines]
    assert table[0][:3] == ["English", "繁體中文", "简体中文"]
    return [r for r in table[2:]]  # skip header and |---| separator


def test_every_row_has_three_languages():
    table = rows()
    assert len(table) >= 40
    for row in table:
        assert len(row) >= 3 and all(row[:3]), f"glossary row with an empty column: {row}"
        assert HAN.search(row[1]) and HAN.search(row[2]), f"Chinese columns must hold Chinese: {row}"
        assert not HAN.search(row[0]), f"the English column holds Chinese: {row}"


def test_terms_are_unique_and_cover_units():
    table = rows()
    english = [r[0].lower() for r in table]
    assert len(english) == len(set(english)), "duplicate English terms"
    assert {r[3] for r in table} >= {str(u) for u in range(8)}


def test_key_terms_present():
    text = GLOSSARY.read_text(encoding="utf-8")
    for term in ["RFM分析", "客戶細分", "客户细分", "忠誠度計畫", "動態定價", "工單", "滿意度調查",
                 "反饋循環", "顧客終身價值", "流失預警", "淨推薦值", "客單價", "購物籃分析",
                 "轉換漏斗", "歸因", "服務水準協議"]:
        assert term in text, term
