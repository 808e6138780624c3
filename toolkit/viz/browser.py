"""Serve the classroom view on loopback and drive it in headless Chromium (tests, screenshots).

Uses Debian's Chromium (``/usr/bin/chromium``) through Playwright's ``executable_path``: no
browser is downloaded. The browser starts with background networking switched off, so it
makes no connection besides the loopback page.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "CHROMIUM_ARGS",
    "ViewDriver",
    "find_chromium",
    "launch_chromium",
    "screenshot_view",
    "serve_view",
]

ROOT = Path(__file__).resolve().parents[2]
APP = Path(__file__).with_name("app.py")

#: Flags for a quiet headless Chromium that only talks to the page it is given.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


def find_chromium() -> str | None:
    """Return the path of a Chromium binary (``$CHROMIUM``, ``chromium`` on PATH), or None."""
    for candidate in (os.environ.get("CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_view(
    app: str | Path = APP, *, timeout: float = 60.0, log: Path | None = None
) -> Iterator[str]:
    """Run ``solara run APP`` on 127.0.0.1 at a free port; yield its URL; stop it on exit.

    Parameters
    ----------
    app : str or Path
        The Solara app (default: the classroom view, ``toolkit/viz/app.py``).
    timeout : float
        Seconds to wait for the server to answer.
    log : Path, optional
        File for the server's output (default: discarded).

    Yields
    ------
    str
        The page's URL, e.g. ``http://127.0.0.1:40123/``.
    """
    port = _free_port()
    env = os.environ | {
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",  # no calls home
        "MPLBACKEND": "Agg",
        "PYTHONUNBUFFERED": "1",
    }
    cmd = [sys.executable, "-m", "solara", "run", str(app), "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--production", "--no-open"]
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"solara run exited with status {proc.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the view did not answer on {url} in {timeout} s") from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()


def launch_chromium(playwright: Any, executable: str | None = None) -> Any:
    """Launch headless Chromium with :data:`CHROMIUM_ARGS` through a Playwright instance."""
    executable = executable or find_chromium()
    if executable is None:
        raise FileNotFoundError("no Chromium found (install Debian's chromium package)")
    return playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))


#: Reads an image element's bytes in the page (blob or data URL) and returns (size, hash).
_IMAGE_DIGEST_JS = """async (img) => {
    const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
    let h = 2166136261;
    for (const b of bytes) { h = Math.imul(h ^ b, 16777619) >>> 0; }
    return [bytes.length, h];
}"""


class ViewDriver:
    """Drive the classroom view in a Playwright page: wait, choose a regime, reset, step.

    Parameters
    ----------
    page : playwright.sync_api.Page
        A page already at the view's URL (see :func:`serve_view`).
    timeout : float
        Milliseconds to wait for the page to react to each action.
    """

    def __init__(self, page: Any, timeout: float = 30_000) -> None:
        self.page = page
        self.timeout = timeout

    def wait_loaded(self, timeout: float = 90_000) -> str:
        """Wait until the stats line shows, and return it."""
        self.page.locator(".classroom-stats").wait_for(timeout=timeout)
        return self.stats()

    def stats(self) -> str:
        """Return the stats line (``regime | day d of N, year y | mean core skill ...``)."""
        return self.page.locator(".classroom-stats").inner_text()

    def wait_stats(self, text: str, *, start: bool = False) -> str:
        """Wait until the stats line contains (or starts with) ``text``; return it."""
        test = "startsWith" if start else "includes"
        self.page.wait_for_function(
            f"t => (document.querySelector('.classroom-stats')?.innerText ?? '').{test}(t)",
            arg=text,
            timeout=self.timeout,
        )
        return self.stats()

    def select(self, label: str, option: str) -> None:
        """Choose ``option`` in the drop-down labelled ``label`` (e.g. "Regime")."""
        page = self.page
        page.locator(".v-select").filter(has=page.get_by_text(label, exact=True)).click()
        page.get_by_role("option", name=option, exact=True).click()

    def reset(self) -> None:
        """Press Reset: a new model from the current inputs."""
        self.page.get_by_role("button", name="Reset").click()

    def step(self, n: int = 1) -> str:
        """Press Step ``n`` times, each time waiting for the day to advance; return the stats."""
        for _ in range(n):
            day = int(self.stats().split("| day ")[1].split(" ")[0])
            self.page.get_by_role("button", name="Step").click()
            self.wait_stats(f"| day {day + 1} of")
        return self.stats()

    def image_digest(self, selector: str) -> tuple[int, int]:
        """Return (bytes, FNV-1a hash) of the image in ``selector`` (e.g. the outcome chart)."""
        return tuple(self.page.locator(f"{selector} img").evaluate(_IMAGE_DIGEST_JS))

    def wait_images_settled(
        self,
        selectors: tuple[str, ...] = (".classroom-network", ".classroom-outcomes"),
        quiet: float = 1.5,
    ) -> None:
        """Wait until the images in ``selectors`` have not changed for ``quiet`` seconds.

        The stats line is text and updates first; the charts are images re-rendered on the
        server, which can arrive a moment later.
        """
        deadline = time.monotonic() + self.timeout / 1000
        last = [self.image_digest(s) for s in selectors]
        since = time.monotonic()
        while time.monotonic() - since < quiet:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the view's charts kept changing for {self.timeout} ms")
            time.sleep(0.25)
            now = [self.image_digest(s) for s in selectors]
            if now != last:
                last, since = now, time.monotonic()


def screenshot_view(
    path: str | Path,
    *,
    regime: str = "personalized",
    steps: int = 40,
    width: int = 1600,
    height: int = 1000,
) -> Path:
    """Serve the view, run ``steps`` days of ``regime`` and save a PNG screenshot.

    Parameters
    ----------
    path : str or Path
        The PNG to write.
    regime : str
        Preset to select before resetting the model.
    steps : int
        Days to step (each click waits for the page to update).
    width, height : int
        Viewport size in pixels.

    Returns
    -------
    Path
    """
    from playwright.sync_api import sync_playwright

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with serve_view() as url, sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(url)
            view = ViewDriver(page)
            view.wait_loaded()
            view.select("Regime", regime)
            view.reset()
            view.wait_stats(f"{regime} | day 0 of", start=True)
            view.step(steps)
            view.wait_images_settled()  # the charts show the same day as the stats line
            page.screenshot(path=str(path))
        finally:
            browser.close()
    return path
