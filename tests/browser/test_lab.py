"""A student's first day in JupyterLab (issue 22), in headless Debian chromium.

JupyterLab runs on a fresh student workspace (``crmlab.course.workspace.update_workspace``, what
``make lab`` makes) on a free local port with a token. The student opens 00_welcome, finds
the course map rendered with links, opens the glossary from its link (rendered, not raw
Markdown), clicks the exercise link, runs all cells of the student
version (no error; every exercise says "not answered yet"), answers one exercise rightly and
one wrongly, runs all again and saves. The saved notebook holds one right and one wrong
verdict and no error output, and the course's own files are unchanged (``git status`` stays
clean). Skipped, with the reason, without chromium or JupyterLab.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import ROOT, screenshot

import crmlab.exercises as ex
from crmlab.course.workspace import SETTINGS_DIR, update_workspace

EXERCISE = "00_warmup_exercises"
#: The kernel loads the shipped small shop once; Run All of the warm-up takes seconds.
RUN_TIMEOUT_MS = 120_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """JupyterLab on a new workspace, as ``make lab`` starts it (plus a port and a token)."""
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (make install)")
    tmp = tmp_path_factory.mktemp("lab")
    workspace = tmp / "workspace"
    update_workspace(workspace)
    settings = workspace / SETTINGS_DIR  # as make lab: the workspace's JupyterLab settings
    lab_ext = settings / "@jupyterlab"
    (lab_ext / "notebook-extension").mkdir(parents=True)
    # for the test: every cell in the page (no virtual scrolling), no question about news
    (lab_ext / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        '{"windowingMode": "none"}')
    (lab_ext / "apputils-extension").mkdir()
    (lab_ext / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false"}')
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "lab-workspaces"),
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), OMP_NUM_THREADS="1")
    log = (tmp / "lab.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
         "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
         f"--ServerApp.token={token}", f"--ServerApp.root_dir={workspace}",
         "--LabApp.default_url=/lab/tree/notebooks/00_welcome.ipynb",
         "--LabApp.expose_app_in_browser=True",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workspace)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited: {(tmp / 'lab.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer in 90 s: "
                                f"{(tmp / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield {"base": base, "token": token, "workspace": workspace}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _run_all_and_save(page: Any) -> None:
    """Run ▸ Run All Cells on the current notebook, wait until it is idle, save it."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        """() => { const w = window.jupyterapp.shell.currentWidget;
                   const k = w && w.sessionContext && w.sessionContext.session
                             && w.sessionContext.session.kernel;
                   const cells = w ? w.content.widgets : [];
                   return k && k.status === 'idle' && cells.length > 0 && cells.every(
                       c => c.model.type !== 'code' || (c.promptNode
                            && !c.promptNode.textContent.includes('*'))); }""",
        timeout=RUN_TIMEOUT_MS)
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function(
        "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000)


def _answer(page: Any, question_id: str, code: str) -> None:
    """Replace the released stub of the exercise that checks ``question_id`` by ``code``."""
    replaced = page.evaluate(
        """([qid, code]) => {
             const nb = window.jupyterapp.shell.currentWidget.content;
             for (const cell of nb.widgets) {
               const src = cell.model.sharedModel.getSource();
               if (cell.model.type === 'code' && src.includes(`check("${qid}"`)) {
                 const lines = src.split('\\n').filter(
                     l => !l.startsWith('# YOUR CODE HERE') && !l.includes('= ex.NOT_ANSWERED'));
                 cell.model.sharedModel.setSource([code, ...lines].join('\\n'));
                 return true;
               }
             }
             return false; }""", [question_id, code])
    assert replaced, f"no exercise cell checks {question_id}"


def _checks(path: Path) -> dict[str, dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, f"error outputs in the saved notebook: {errors[:1]}"
    return {c["question_id"]: c for c in ex.read_checks(path)}


def test_first_day_in_jupyterlab(lab, open_page):
    course_files = {p: p.read_bytes() for folder in ("notebooks", "exercises")
                    for p in (ROOT / folder).glob("00_*.ipynb")}
    tab = open_page(None)
    page = tab.page
    page.goto(f"{lab['base']}/?token={lab['token']}", wait_until="load")  # make lab opens /
    # make lab's default URL: the welcome notebook, opened from the student's workspace
    page.wait_for_function(
        """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                   return w && w.context && w.context.path === 'notebooks/00_welcome.ipynb'; }""",
        timeout=60_000)
    assert page.url.endswith("/lab/tree/notebooks/00_welcome.ipynb")
    heading = page.get_by_role("heading", name="2. The course map (課程地圖)")
    heading.wait_for()
    heading.scroll_into_view_if_needed()
    link = page.locator(".jp-OutputArea-output a", has_text=EXERCISE).first
    link.wait_for()
    # ../exercises/... from notebooks/: the student version at the workspace's exercises/
    assert f"/files/exercises/{EXERCISE}.ipynb" in link.get_attribute("href")
    screenshot(tab, "lab_00_welcome")

    glossary = page.locator(".jp-RenderedMarkdown a", has_text="glossary").first
    glossary.scroll_into_view_if_needed()
    glossary.click()  # the glossary opens rendered (the workspace's settings), not as raw text
    page.wait_for_function(
        """() => { const w = window.jupyterapp.shell.currentWidget;
                   return w && w.context && w.context.path === 'docs/glossary.md'
                          && w.node.querySelector('.jp-RenderedMarkdown h1'); }""",
        timeout=60_000)
    assert page.evaluate(
        "() => !window.jupyterapp.shell.currentWidget.node.querySelector('.cm-editor')")
    screenshot(tab, "lab_glossary")
    page.evaluate("() => window.jupyterapp.commands.execute('application:close')")

    link.click()  # JupyterLab opens the linked notebook in a new tab
    page.wait_for_function(
        f"""() => {{ const w = window.jupyterapp.shell.currentWidget;
                     return w && w.context && w.context.path === 'exercises/{EXERCISE}.ipynb'
                            && w.content.widgets.length > 0; }}""", timeout=60_000)
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel", timeout=60_000)
    text = page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets
                              .map(c => c.model.sharedModel.getSource()).join('\\n')""")
    assert "ex.NOT_ANSWERED" in text and "BEGIN SOLUTION" not in text  # the student version

    saved = lab["workspace"] / "exercises" / f"{EXERCISE}.ipynb"
    _run_all_and_save(page)
    checks = _checks(saved)
    assert checks and all(c.get("answered") is False for c in checks.values())
    assert page.get_by_text("warmup_n_customers: not answered yet").count() == 1

    _answer(page, "warmup_n_customers", 'n_customers = customers["customer_id"].nunique()')
    _answer(page, "warmup_aov", 'aov = orders["amount"].sum()  # a wrong answer: not a mean')
    _run_all_and_save(page)
    checks = _checks(saved)
    assert checks["warmup_n_customers"]["passed"] is True
    assert checks["warmup_aov"]["passed"] is False
    others = [c for q, c in checks.items() if q not in ("warmup_n_customers", "warmup_aov")]
    assert others and all(c.get("answered") is False for c in others)
    screenshot(tab, "lab_00_warmup_exercises")
    assert not tab.outside, f"requests off the machine: {tab.outside}"
    # the student worked in the workspace: the course's own files did not change
    assert {p: p.read_bytes() for p in course_files} == course_files
