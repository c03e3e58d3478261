"""Look at a file as a person would: headless Chromium (Debian's `chromium`) opens it, and the
test learns what the page shows, what it asked the network for and which dialogs it opened.

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON
messages ending in NUL on file descriptors 3 and 4), so no WebSocket library is needed. One
browser is started per test process and each render opens a fresh tab.
"""

import atexit
import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SKIP_REASON = "needs headless Chromium: install the 'chromium' package"
TIMEOUT = 30.0


@dataclass
class Page:
    text: str  # the DOM's text once the page has loaded
    requests: list[str] = field(default_factory=list)  # every URL but the file itself
    dialogs: list[str] = field(default_factory=list)  # alert/confirm/prompt messages


class _Browser:
    def __init__(self) -> None:
        assert CHROMIUM is not None
        self.profile = tempfile.mkdtemp(prefix="tracker-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def pipe_fds() -> None:
            # Chromium reads commands on fd 3 and writes answers on fd 4 (in the child only;
            # copied high first, in case one pipe end already is 3 or 4).
            reader, writer = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(reader, 3)
            os.dup2(writer, 4)

        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless=new",
                "--remote-debugging-pipe",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=pipe_fds,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> Any:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _read(self, deadline: float | None = None) -> dict[str, Any]:
        deadline = deadline or time.monotonic() + TIMEOUT
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        result: dict[str, Any] = json.loads(message)
        return result

    def wait_for(self, session: str, method: str) -> dict[str, Any]:
        """Events up to `method` on `session` (answering any dialog on the way)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            found = [e for e in self.events if e.get("method") == method]
            if found:
                return found[0]
            event = self._read(deadline)
            self.events.append(event)
            if event.get("method") == "Page.javascriptDialogOpening":
                self.send("Page.handleJavaScriptDialog", {"accept": False}, session)

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._to_chrome)
        os.close(self._from_chrome)
        shutil.rmtree(self.profile, ignore_errors=True)


_browser: _Browser | None = None


def _started() -> _Browser:
    global _browser
    if CHROMIUM is None:
        pytest.skip(SKIP_REASON)
    if _browser is None:
        _browser = _Browser()
        atexit.register(_browser.close)
    return _browser


def render(
    path: Path, *, width: int = 1200, height: int = 900, screenshot: Path | None = None
) -> Page:
    """Open `path` in a fresh tab, wait for it to load (and a moment for scripts), and report."""
    browser = _started()
    browser.events.clear()
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    try:
        for domain in ("Page", "Network", "Runtime"):
            browser.send(f"{domain}.enable", {}, session)
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session,
        )
        url = path.resolve().as_uri()
        browser.events.clear()
        browser.send("Page.navigate", {"url": url}, session)
        browser.wait_for(session, "Page.loadEventFired")
        time.sleep(0.3)  # timers and late requests a hostile page might set off
        text = browser.send(
            "Runtime.evaluate",
            {"expression": "document.documentElement.textContent", "returnByValue": True},
            session,
        )["result"].get("value", "")
        if screenshot is not None:
            shot = browser.send("Page.captureScreenshot", {"format": "png"}, session)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        requests = [
            e["params"]["request"]["url"]
            for e in browser.events
            if e.get("method") == "Network.requestWillBeSent"
            and e["params"]["request"]["url"] != url
        ]
        dialogs = [
            e["params"]["message"]
            for e in browser.events
            if e.get("method") == "Page.javascriptDialogOpening"
        ]
        return Page(text=text, requests=requests, dialogs=dialogs)
    finally:
        browser.send("Target.closeTarget", {"targetId": target})
