"""crmlab.course.cli: parameter parsing, config files, plug-ins and exit codes."""

from __future__ import annotations

import json
import sys
import types

import nbformat
import pytest

from crmlab.course import cli


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7", 7), ("0.5", 0.5), ("small", "small"), ("true", True), ("null", None),
     ("[1, 2]", [1, 2]), ("2024-01-01x", "2024-01-01x"), ("'7'", "7"), ("a: b: c", "a: b: c")],
)
def test_parse_value_yaml_scalars(text, expected):
    assert cli.parse_value(text) == expected


def test_load_config_flat_and_nested(tmp_path):
    flat = tmp_path / "flat.yaml"
    flat.write_text("SEED: 7\nDATA: medium\n")
    assert cli.load_config(flat) == ({"SEED": 7, "DATA": "medium"}, {})
    nested = tmp_path / "nested.yaml"
    nested.write_text("parameters: {SEED: 7}\nnotebooks:\n  05_clv_and_churn: {HOLDOUT_WEEKS: 26}\n")
    assert cli.load_config(nested) == ({"SEED": 7}, {"05_clv_and_churn": {"HOLDOUT_WEEKS": 26}})


@pytest.mark.parametrize(
    ("content", "match"),
    [("- 1\n- 2\n", "mapping"), ("seed: 7\n", "UPPER_CASE"), ("notebooks: {a: 1}\n", "notebook name")],
)
def test_load_config_rejects(tmp_path, content, match):
    path = tmp_path / "c.yaml"
    path.write_text(content)
    with pytest.raises(ValueError, match=match):
        cli.load_config(path)
    with pytest.raises(ValueError, match="does not exist"):
        cli.load_config(tmp_path / "missing.yaml")


def test_build_command_end_to_end(tmp_path, capsys, make_notebook):
    nbdir = tmp_path / "notebooks"
    make_notebook(nbdir / "01_a.ipynb", "SEED = 1\nRATE = 0.1\nDATA = 'small'",
                  "from crmlab.nb import record\nrecord('params', [SEED, RATE, DATA])")
    config = tmp_path / "course.yaml"
    config.write_text("SEED: 3\nRATE: 0.2\n")
    out = tmp_path / "build"
    code = cli.main(["build", "--notebooks", str(nbdir), "--out", str(out), "--config", str(config),
                     "-p", "SEED", "7", "-p", "DATA", "medium", "-q"])
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    # -p overrides the config; values are typed (7 -> int, 0.2 -> float, medium -> str).
    assert manifest["notebooks"]["01_a"]["results"] == {"params": [7, 0.2, "medium"]}
    assert "built 1 notebooks" in capsys.readouterr().out


def test_build_command_reports_failures_with_exit_code_1(tmp_path, capsys, make_notebook):
    nbdir = tmp_path / "notebooks"
    make_notebook(nbdir / "01_bad.ipynb", "SEED = 1", "undefined_name")
    code = cli.main(["build", "--notebooks", str(nbdir), "--out", str(tmp_path / "b"), "-q"])
    assert code == 1
    err = capsys.readouterr().err
    assert "crmlab build: error: 01_bad: cell 2 failed with NameError" in err
    assert cli.main(["build", "--notebooks", str(nbdir), "-p", "seed", "1"]) == 2  # a usage error
    assert "UPPER_CASE" in capsys.readouterr().err


def test_notebooks_command_reexecutes_in_place(tmp_path, make_notebook):
    nbdir = tmp_path / "notebooks"
    path = make_notebook(nbdir / "01_a.ipynb", "SEED = 2", "SEED + 40")
    make_notebook(nbdir / "02_b.ipynb", "SEED = 2", "SEED + 1")
    assert cli.main(["notebooks", "01_a", "--notebooks", str(nbdir)]) == 0
    assert nbformat.read(path, 4).cells[2].outputs[0]["data"]["text/plain"] == "42"
    assert nbformat.read(nbdir / "02_b.ipynb", 4).cells[2].outputs == []  # not selected


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "build" in capsys.readouterr().out


def test_plugins_register_subcommands(monkeypatch, capsys):
    fake = types.ModuleType("crmlab.course.exercises.cli")

    def register(sub):
        p = sub.add_parser("exercises", help="fake plug-in")
        p.set_defaults(func=lambda args: print("plug-in ran"))

    fake.register = register
    monkeypatch.setitem(sys.modules, "crmlab.course.exercises.cli", fake)
    assert cli.main(["exercises"]) == 0
    assert "plug-in ran" in capsys.readouterr().out


def test_missing_plugins_are_skipped(monkeypatch):
    monkeypatch.setattr(cli, "PLUGIN_MODULES", ("crmlab.not_a_module.cli",))
    parser = cli.make_parser()
    assert parser.parse_args(["build"]).command == "build"
