"""crmlab.nb readings: say() renders computed prose, claim() picks the reading that holds,
read_claims() reads the outcomes back from an executed notebook; the world matrix."""

from __future__ import annotations

import nbformat
import numpy as np
import pytest

from crmlab import nb
from crmlab.nb import CLAIMS_METADATA, claim, compare, read_claims, say


@pytest.fixture
def shown(monkeypatch):
    """Capture what IPython.display.display receives."""
    calls = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: calls.append((obj, kw)))
    nb._pending_claims.clear()
    return calls


def test_claim_returns_the_reading_that_holds(shown):
    assert claim(True, "most", "few") == "most"
    assert claim(np.bool_(False), "most", "few") == "few"
    assert claim(bool(np.float64(0.7) > 0.5), "a", "b", name="majority") == "a"


@pytest.mark.parametrize("bad", [np.array([True, False]), 1, "yes", None])
def test_claim_rejects_anything_but_one_truth_value(bad):
    with pytest.raises(ValueError, match="single True/False"):
        claim(bad, "a", "b")


def test_say_renders_markdown_and_plain_text_with_the_claims(shown):
    share = 0.634
    say(f"The top 20% bring **{share:.0%}** of revenue.",
        claim(share > 0.5, "That is the majority.", "That is not the majority.", name="pareto"))
    (obj, kw), = shown
    text = "The top 20% bring **63%** of revenue. That is the majority."
    assert obj == {"text/markdown": text, "text/plain": text}
    assert kw["raw"] is True
    assert kw["metadata"] == {CLAIMS_METADATA: [{"name": "pareto", "holds": True}]}
    say("No claim here.")  # claims are attached once, to the next reading only
    assert shown[1][1]["metadata"] is None


def test_say_escapes_money_dollars_unless_math(shown):
    say("From NT$1,744 to NT$1,699.")
    say("Already \\$5.")
    say("Elasticity $\\beta$.", math=True)
    # Markdown gets an escaped backslash before each dollar (\\$): the only spelling that both
    # JupyterLab and the site render as "$" (tests/browser/test_money.py checks both)
    assert shown[0][0] == {"text/markdown": "From NT\\\\$1,744 to NT\\\\$1,699.",
                           "text/plain": "From NT$1,744 to NT$1,699."}
    assert shown[1][0]["text/markdown"] == "Already \\\\$5."
    assert shown[2][0]["text/markdown"] == "Elasticity $\\beta$."


def test_say_rejects_non_text(shown):
    with pytest.raises(ValueError, match="one or more strings"):
        say(0.5)
    with pytest.raises(ValueError, match="one or more strings"):
        say()


def test_compare_reads_noise_as_same():
    assert compare(0.52, 0.50) == "higher than"
    assert compare(0.48, 0.50) == "lower than"
    assert compare(0.52, 0.50, tol=0.03) == "about the same as"
    assert compare(3, 2, more="more", less="fewer") == "more"
    with pytest.raises(ValueError, match="finite"):
        compare(float("nan"), 1)


def test_read_claims_from_an_executed_notebook():
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("say(...)")
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={"text/markdown": "x", "text/plain": "x"},
        metadata={CLAIMS_METADATA: [{"name": "a", "holds": True}, {"name": "b", "holds": False}]},
    )]
    notebook.cells = [nbformat.v4.new_markdown_cell("# t"), cell]
    assert read_claims(notebook) == [
        {"name": "a", "holds": True, "cell": 1}, {"name": "b", "holds": False, "cell": 1},
    ]


def test_world_matrix_lists_failures_and_alternatives():
    from crmlab.course.worlds import WORLDS, Outcome, matrix_markdown, world

    assert len(WORLDS) >= 8 and len({w.name for w in WORLDS}) == len(WORLDS)
    assert world("tiny-7").parameters == {"DATA": "tiny", "SEED": 7}
    with pytest.raises(ValueError, match="unknown world"):
        world("nowhere")
    text = matrix_markdown([
        Outcome("tiny-7", "02_rfm_and_value", True, 3.2, alternatives=["pareto"]),
        Outcome("tiny-7", "05_clv_and_churn", False, 1.0, cell=12, error="ValueError: boom"),
    ])
    assert "| `tiny-7` |" in text and "ok 3 s, alt 1" in text and "**failed** cell 12" in text
    assert "**1 of 2**" in text and "ValueError: boom" in text
    assert "- `02_rfm_and_value`: `pareto` (every world, 1)" in text


def test_world_outcomes_round_trip_and_merge(tmp_path):
    from crmlab.course.worlds import Outcome, load_outcomes, merge_outcomes, save_outcomes

    old = [Outcome("small-7", "05_clv_and_churn", False, 2.0, cell=15, error="RuntimeError: x"),
           Outcome("small-7", "02_rfm_and_value", True, 3.0)]
    path = save_outcomes(old, tmp_path / "outcomes.json")
    assert load_outcomes(path) == old
    assert load_outcomes(tmp_path / "none.json") == []
    new = [Outcome("small-7", "05_clv_and_churn", True, 4.0, alternatives=["a"])]
    merged = merge_outcomes(load_outcomes(path), new)
    assert [(o.notebook, o.ok) for o in merged] == [("02_rfm_and_value", True), ("05_clv_and_churn", True)]
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="not a saved sweep"):
        load_outcomes(tmp_path / "bad.json")


def test_choose_takes_the_first_band_that_holds(shown):
    from crmlab.nb import choose

    bands = lambda s: [(s > 0.5, "strong"), (s > 0.25, "weak")]  # noqa: E731
    assert choose(bands(0.7), "none", name="band") == "strong"
    assert choose(bands(0.3), "none", name="band") == "weak"
    assert choose(bands(0.1), "none", name="band") == "none"
    say("x")
    assert shown[0][1]["metadata"][CLAIMS_METADATA] == [
        {"name": "band", "holds": True, "choice": 0},
        {"name": "band", "holds": False, "choice": 1},
        {"name": "band", "holds": False, "choice": 2},
    ]
    with pytest.raises(ValueError, match="pairs"):
        choose([], "none", name="band")
    with pytest.raises(ValueError, match="single True/False"):
        choose([(np.array([True]), "a")], "none", name="band")


def test_num_never_prints_minus_zero():
    from crmlab.nb import num

    assert num(-0.001) == "0.00" and num(-0.004, signed=True) == "0.00"
    assert num(1234.567, 1) == "1,234.6" and num(0.35, signed=True) == "+0.35"
    assert num(-1.2, signed=True) == "-1.20"
    with pytest.raises(ValueError, match="finite"):
        num(float("inf"))
