"""A real browser and a real `gpw serve` for the browser tests (issue #8).

* :func:`chromium` launches the distribution's Chromium (``/usr/bin/chromium``, Debian's
  ``chromium`` package) headless through Playwright for Python, with a fresh user-data dir, and
  closes it (the profile goes with it). Playwright's own browser download is never used (it
  cannot work on these machines): `make test` installs the package and a CJK font
  (`make browser`) when they are missing.
* :func:`page` opens a page at a desktop or a phone size (375 × 812, touch, mobile viewport rules)
  in its own context (no cookies shared), records every dialog and page error, and refuses (and
  records) every request that is not for the server under test.
* :func:`serving` starts a real ``gpw --db URL serve --host 127.0.0.1 --port N`` subprocess on a
  free port, waits until it answers HTTP, and stops it (SIGTERM, then SIGKILL after a timeout).
* :func:`shot` saves a full-page screenshot under :data:`SCREENSHOTS` (git-ignored), the folder the
  browser tests print at the end of the run; look at them.
* :func:`platform_fonts` asks the browser which installed fonts drew an element's text (the
  DevTools protocol's ``CSS.getPlatformFontsForNode``): the one reliable way to tell glyphs from
  tofu (``document.fonts.check`` answers true even for a font that is not installed).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO = Path(__file__).resolve().parent.parent
#: where screenshots go (``GPW_TEST_ARTIFACTS`` overrides the parent folder)
SCREENSHOTS = Path(os.environ.get("GPW_TEST_ARTIFACTS", REPO / "test-artifacts")) / "screenshots"
#: the distribution's Chromium (``GPW_TEST_CHROMIUM`` overrides)
CHROMIUM = os.environ.get("GPW_TEST_CHROMIUM", "/usr/bin/chromium")
#: headless on a machine with no GPU, no sandbox (root in a container) and no network calls of
#: the browser's own (no QUIC, component updates, sync or first-run pages)
FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
)
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
#: a phone: 375 CSS pixels wide, laid out by mobile rules (the page's <meta name=viewport> counts)
PHONE: dict[str, Any] = {
    "viewport": {"width": 375, "height": 812},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
#: font families that cover Chinese (Debian's fonts-wqy-microhei, fonts-noto-cjk, ...)
CJK_FAMILY = re.compile(r"WenQuanYi|文泉|CJK|Source Han|Droid Sans Fallback|AR PL", re.I)
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class BrowserUnavailable(RuntimeError):
    """No Chromium at /usr/bin/chromium: run `make browser` (or `make test`, which runs it);
    it installs Debian's chromium and fonts-wqy-microhei."""


# -- the browser -------------------------------------------------------------------------------


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, closed at the end. Playwright's launch() gives it a fresh
    user-data dir of its own (``--user-data-dir=/tmp/playwright_chromiumdev_profile-…``) and
    removes it on close; a persistent context would allow one context only, and the tests want a
    desktop one and a phone one that share no cookies."""
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not executable:
        raise BrowserUnavailable(BrowserUnavailable.__doc__)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=list(FLAGS)
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watched:
    """What a page did that a test may want to assert never happened."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: requests for anything not on the server under test (refused: the pages need no network)
    external: list[str] = field(default_factory=list)


@contextlib.contextmanager
def page(
    browser: Browser,
    base_url: str,
    *,
    size: Mapping[str, Any] = DESKTOP,
    locale: str = "zh-CN",
) -> Iterator[tuple[Page, Watched]]:
    """A page in a fresh context (its own cookies) at ``size``; every dialog is recorded and
    dismissed, every uncaught page error recorded, every request that leaves ``base_url``
    recorded and refused (a page that needs a CDN fails here as it would offline)."""
    context = browser.new_context(
        base_url=base_url, locale=locale, timezone_id="Asia/Shanghai", **dict(size)
    )
    context.set_default_timeout(15_000)
    watched = Watched()
    own = base_url.rstrip("/") + "/"

    def only_own(route: Any) -> None:
        url = route.request.url
        if url.startswith((own, "data:", "blob:", "about:")):
            route.continue_()
        else:
            watched.external.append(url)
            route.abort("blockedbyclient")

    try:
        context.route("**/*", only_own)
        tab = context.new_page()

        def on_dialog(dialog: Any) -> None:
            watched.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        tab.on("dialog", on_dialog)
        tab.on("pageerror", lambda error: watched.errors.append(str(error)))
        yield tab, watched
    finally:
        context.close()


#: the screenshots this run took
TAKEN: list[Path] = []


def shot(tab: Page, name: str) -> Path:
    """A full-page screenshot, ``SCREENSHOTS/<name>.png``; returns its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    tab.screenshot(path=str(path), full_page=True)
    TAKEN.append(path)
    return path


def widths(tab: Page) -> tuple[int, int]:
    """(the page's scroll width, the window's inner width) in CSS pixels: the page scrolls
    sideways when the first is larger."""
    scroll, inner = tab.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return int(scroll), int(inner)


def platform_fonts(tab: Page, selector: str) -> dict[str, int]:
    """The installed fonts that drew the text of the first element matching ``selector``, with
    the number of glyphs each drew (Chromium's DevTools protocol)."""
    cdp = tab.context.new_cdp_session(tab)
    try:
        root = cdp.send("DOM.getDocument", {"depth": 0})
        cdp.send("CSS.enable")
        node = cdp.send(
            "DOM.querySelector", {"nodeId": root["root"]["nodeId"], "selector": selector}
        )
        if not node.get("nodeId"):
            raise AssertionError(f"no element matches {selector!r}")
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})
    finally:
        cdp.detach()
    return {f["familyName"]: int(f["glyphCount"]) for f in fonts["fonts"]}


def cjk_glyphs(fonts: Mapping[str, int]) -> int:
    """How many glyphs of :func:`platform_fonts`' answer a CJK font drew."""
    return sum(n for family, n in fonts.items() if CJK_FAMILY.search(family))


# -- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running ``gpw serve``: its base URL, process and log."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _answers(url: str) -> bool:
    import httpx

    try:
        httpx.get(url, timeout=1.0, follow_redirects=False)
    except httpx.TransportError:
        return False
    return True


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> int:
    """SIGTERM, then SIGKILL when it has not ended after ``timeout`` seconds; the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    return int(process.returncode)


@contextlib.contextmanager
def serving(
    db_url: str,
    *,
    now: str | None = None,
    args: tuple[str, ...] = (),
    env: Mapping[str, str] | None = None,
    startup: float = 60.0,
) -> Iterator[Server]:
    """``gpw --db URL serve --host 127.0.0.1 --port <free>`` until the block ends. ``now`` (an
    aware ISO datetime) is the server's clock (GPW_NOW: no test depends on today's date)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_dir = Path(tempfile.mkdtemp(prefix="gpw-serve-"))
    log = log_dir / "serve.log"
    environment = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
    if now is not None:
        environment["GPW_NOW"] = now
    command = [sys.executable, "-m", "workflow", "--db", db_url, "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port), *args]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, env=environment, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO
        )
    server = Server(url, process, log)
    try:
        deadline = time.monotonic() + startup
        while not _answers(url + "/"):
            if process.poll() is not None:
                raise AssertionError(f"gpw serve exited {process.returncode}:\n{server.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"gpw serve did not answer in {startup} s:\n{server.output()}")
            time.sleep(0.2)
        yield server
    finally:
        code = stop(process)
        # pytest shows a test's captured output only when it fails: then the server's log is there
        print(f"--- gpw serve on {url} exited {code}; its log:\n{server.output()}--- end of log")
        shutil.rmtree(log_dir, ignore_errors=True)
