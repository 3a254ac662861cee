"""Helpers of the browser tier (tests/browser): Chromium's path and flags, a tab that records
what it loaded, screenshots. The fixtures are in conftest.py beside this file."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
#: Committed notebooks the tier builds from: a short one, one with display math and figures,
#: one with inline math and figures; the exercises of the last are released as a page.
NOTEBOOKS = ("00_welcome", "05_clv_and_churn", "06_recommendations_and_baskets")
EXERCISE = "06_recommendations_and_baskets_exercises"
#: The flags Chromium needs here: root (no sandbox), no GPU, and none of its own background
#: connections (updates, sync, safe browsing), which a closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--disable-default-apps"]
LOCAL_SCHEMES = ("file", "data", "blob", "about")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def chromium_path() -> str | None:
    """Debian's chromium (or ``CRMLAB_CHROMIUM``), or ``None`` when it is not installed."""
    wanted = os.environ.get("CRMLAB_CHROMIUM")
    if wanted:
        return wanted if Path(wanted).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Tab:
    """A browser tab and what it did: requests stopped, console errors, failed loads."""

    page: Any
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def outside_folder(self, root: Path) -> list[Path]:
        """Files the tab loaded from outside ``root`` (pages must load only from build/)."""
        return [f for f in self.files if not f.resolve().is_relative_to(root.resolve())]

    def problems(self) -> dict[str, list[str]]:
        """Everything that went wrong so far, empty lists when nothing did."""
        return {"requests off the machine": self.outside, "console errors": self.errors,
                "failed loads": self.failed}

    def wait_for_math(self) -> None:
        """Wait until MathJax has typeset the page (no-op on pages without MathJax)."""
        has_mathjax = self.page.evaluate("() => !!document.getElementById('MathJax-script')")
        if not has_mathjax:
            return
        try:
            self.page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                timeout=30_000)
        except Exception as exc:  # playwright's TimeoutError: say what the page did instead
            raise AssertionError(f"MathJax did not start: {self.problems()}") from exc
        self.page.evaluate("() => MathJax.startup.promise.then(() => true)")


def is_local(url: str) -> bool:
    """Whether loading ``url`` stays on this machine (a file, inline data, localhost).

    A file URL with a host (``//cdn.example/x.js`` in a page opened from disk becomes
    ``file://cdn.example/x.js``) is not local: served over HTTP, that page would fetch it.
    """
    parsed = urlparse(url)
    host = parsed.hostname or ""
    if parsed.scheme == "file":
        return host in ("", *LOCAL_HOSTS)
    return parsed.scheme in LOCAL_SCHEMES or host in LOCAL_HOSTS


def screenshot_path(name: str) -> Path:
    """``build/screenshots/<name>.png`` (the folder is created)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def screenshot(tab: Tab, name: str, full_page: bool = False) -> Path:
    """Keep a screenshot of the tab as ``build/screenshots/<name>.png``."""
    path = screenshot_path(name)
    tab.page.screenshot(path=str(path), full_page=full_page)
    return path
