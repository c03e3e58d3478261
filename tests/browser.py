"""Look at a page as a person would: open a file in headless Chromium (Debian's `chromium`),
driven by Playwright over the DevTools protocol (Playwright from PyPI, never a browser download:
it runs the system's /usr/bin/chromium).

`render(path)` gives what a reader would see (the text after rendering), every request the page
made beyond the file itself (each is refused, never sent), and every dialog a script opened
(each dismissed). One browser serves every call of a test run; it is started on first use.
"""

from __future__ import annotations

import atexit
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"


@dataclass
class Page:
    text: str  # document.body.innerText once loaded: what the reader sees
    requests: list[str] = field(default_factory=list)  # every URL but the file's own
    dialogs: list[str] = field(default_factory=list)  # alert/confirm/prompt messages
    dom: str = ""  # the document's HTML after rendering


_browser: dict[str, Any] = {}


def available() -> str | None:
    """Why the browser cannot run here, or None."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        return "headless Chromium is not installed: apt-get install chromium (see .ci/apt-packages)"
    return None


def _start() -> Any:
    if "browser" not in _browser:
        reason = available()
        if reason:
            pytest.skip(reason)
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
        browser = playwright.chromium.launch(executable_path=executable)
        _browser.update(playwright=playwright, browser=browser)
        atexit.register(_stop)
    return _browser["browser"]


def _stop() -> None:
    browser = _browser.pop("browser", None)
    if browser is not None:
        browser.close()
        _browser.pop("playwright").stop()


def render(
    path: Path, *, width: int = 1200, height: int = 900, screenshot: Path | None = None
) -> Page:
    """Open `path` as file://, wait for it to load, and report what happened; with
    `screenshot`, save the whole page there as PNG."""
    browser = _start()
    url = path.resolve().as_uri()
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    seen = Page(text="")

    def requested(request: Any) -> None:
        if request.url != url:
            seen.requests.append(request.url)

    def route(request_route: Any) -> None:
        # Logged by `requested`; refused here, so that nothing leaves this machine.
        if request_route.request.url == url:
            request_route.continue_()
        else:
            request_route.abort()

    def dialog(opened: Any) -> None:
        seen.dialogs.append(opened.message)
        opened.dismiss()

    page.on("request", requested)
    page.route("**/*", route)
    page.on("dialog", dialog)
    try:
        page.goto(url, wait_until="load")
        # An SVG file has no body: its text is the document's.
        html = page.evaluate("!!document.body")
        seen.text = page.evaluate(
            "document.body ? document.body.innerText : document.documentElement.textContent"
        )
        seen.dom = page.content()
        if screenshot is not None:
            # Chromium cannot measure a whole SVG document's page: the viewport, as sized.
            page.screenshot(path=str(screenshot), full_page=html)
    finally:
        context.close()
    return seen
