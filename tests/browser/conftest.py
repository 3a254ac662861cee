"""The browser tier: the built course site and decks opened from disk in headless Chromium.

* ``built_site``: a small site built once per session from three committed notebooks (they
  hold the outputs of their defaults, so nothing is executed: building costs seconds) and
  one released student exercise notebook, with decks, into a temporary ``build/``.
* ``browser``: Debian's ``chromium`` driven by Playwright for Python through
  ``executable_path`` (Playwright's own browser download is never used). ``make test``
  installs chromium and fonts-noto-cjk with apt-get when they are missing (the Makefile's
  ``browser-deps``); without chromium the tier is skipped and says why.
* ``open_page(path)``: a new tab with every request that is not ``file:``, ``data:`` or
  ``blob:`` (or localhost) aborted and recorded, and console errors, page errors and failed
  requests collected; the tests assert all three lists are empty.

Screenshots are kept in ``build/screenshots/`` of the repository.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from browser_helpers import CHROMIUM_ARGS, EXERCISE, NOTEBOOKS, ROOT, Tab, chromium_path, is_local


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Build pages, decks, the exercise page, index and assets; return paths and seconds."""
    from crmlab.course.exercises.release import release
    from crmlab.course.site import publish_committed

    tmp = tmp_path_factory.mktemp("browser_site")
    nbdir, out = tmp / "notebooks", tmp / "build"
    nbdir.mkdir()
    for stem in NOTEBOOKS:
        shutil.copyfile(ROOT / "notebooks" / f"{stem}.ipynb", nbdir / f"{stem}.ipynb")
    release(ROOT / "exercises" / f"{EXERCISE}.ipynb", out / "exercises" / f"{EXERCISE}.ipynb")
    start = time.perf_counter()
    written = publish_committed(nbdir, out)
    return {"notebooks": nbdir, "out": out, "site": out / "site", "slides": out / "slides",
            "written": written, "seconds": time.perf_counter() - start}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian chromium through Playwright (skipped, with the reason, without it)."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("Debian's chromium is not installed, so the browser tier cannot run: `make "
                    "test` installs it as root (apt-get install chromium fonts-noto-cjk)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip extra dev: make install)")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, headless=True,
                                      args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Tab]]:
    """``open_page(path_or_none, width=1280, height=800) -> Tab`` in a fresh context."""
    contexts = []

    def open_(path: Path | None, width: int = 1280, height: int = 800) -> Tab:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        tab = Tab(page)

        def route(request_route: Any) -> None:
            url = request_route.request.url
            if url.startswith("file:"):
                tab.files.append(Path(unquote(urlparse(url).path)))
            if is_local(url):
                request_route.continue_()
            else:
                tab.outside.append(url)
                request_route.abort()

        context.route("**/*", route)
        page.on("console", lambda msg: tab.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: tab.errors.append(f"page error: {exc}"))
        page.on("requestfailed", lambda req: tab.failed.append(f"{req.url}: {req.failure}")
                if is_local(req.url) else None)
        if path is not None:
            page.goto(path.as_uri(), wait_until="load")
            tab.wait_for_math()
        return tab

    yield open_
    for context in contexts:
        context.close()
