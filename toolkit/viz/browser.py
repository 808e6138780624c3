"""Serve the classroom view on loopback and drive it in headless Chromium (tests, screenshots).

Two ways to serve it: :func:`serve_view` runs the standalone page (``python -m toolkit.viz``),
:func:`serve_jupyterlab` a JupyterLab server in which :func:`open_notebook` opens a notebook and
runs it. Both listen on 127.0.0.1 only. :class:`ViewDriver` then works the view the same way in
either: choose a regime, type into a field, Reset, Step.

Uses Debian's Chromium (``/usr/bin/chromium``) through Playwright's ``executable_path``: no
browser is downloaded. The browser starts with background networking switched off, and
:func:`block_outside_requests` refuses (and records) any request the page makes to a host other
than this machine, as if the machine were offline.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from toolkit._optional import require

__all__ = [
    "CHROMIUM_ARGS",
    "ViewDriver",
    "block_outside_requests",
    "find_chromium",
    "launch_chromium",
    "open_notebook",
    "screenshot_view",
    "serve_jupyterlab",
    "serve_view",
    "solara_command",
    "solara_env",
    "wait_until_up",
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


def solara_env() -> dict[str, str]:
    """Return the environment for the view's Solara server: no telemetry, no pytest leftovers.

    Solara skips its one-time check from solara.dev while pytest runs (it looks for
    ``PYTEST_CURRENT_TEST``); that variable is removed here, so that a test sees the page as a
    user's browser does.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    return env | {
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",  # no usage statistics sent to Mixpanel
        "MPLBACKEND": "Agg",
        "PYTHONUNBUFFERED": "1",
    }


def solara_command(
    app: str | Path = APP, *, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False
) -> list[str]:
    """Return the ``solara run`` command serving ``app`` in production mode on ``host:port``.

    Production mode leaves out the development helpers (hot reload, and the check that the
    page would otherwise load once from solara.dev).
    """
    cmd = [sys.executable, "-m", "solara", "run", str(app), "--host", host, "--port", str(port)]
    cmd += ["--production"]
    return cmd if open_browser else [*cmd, "--no-open"]


def wait_until_up(url: str, timeout: float = 90.0, proc: subprocess.Popen | None = None) -> str:
    """Wait until ``url`` answers (and ``proc``, if given, is still running); return ``url``.

    Raises
    ------
    TimeoutError
        If ``url`` gives no answer in ``timeout`` seconds.
    RuntimeError
        If ``proc`` exits first.
    """
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return url
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer from {url} in {timeout} s") from None
            time.sleep(0.3)


@contextlib.contextmanager
def _server(
    cmd: list[str],
    url: str,
    *,
    env: dict[str, str],
    cwd: Path,
    timeout: float,
    log: Path | None,
    wait: bool,
) -> Iterator[str]:
    """Start ``cmd``; yield ``url`` (once it answers, if ``wait``); stop its process group."""
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        if wait:
            try:
                wait_until_up(url, timeout, proc)
            except (RuntimeError, TimeoutError) as exc:
                raise type(exc)(f"{exc}{f' (its output is in {log})' if log else ''}") from None
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)  # the server and the kernels it started
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            proc.wait()
        if log:
            out.close()


@contextlib.contextmanager
def serve_view(
    app: str | Path = APP, *, timeout: float = 60.0, log: Path | None = None, wait: bool = True
) -> Iterator[str]:
    """Serve ``app`` as ``python -m toolkit.viz`` does, on 127.0.0.1 at a free port; yield its URL.

    Parameters
    ----------
    app : str or Path
        The Solara app (default: the classroom view, ``toolkit/viz/app.py``).
    timeout : float
        Seconds to wait for the server to answer.
    log : Path, optional
        File for the server's output (default: discarded).
    wait : bool
        Wait until the page answers before yielding (else call :func:`wait_until_up`).

    Yields
    ------
    str
        The page's URL, e.g. ``http://127.0.0.1:40123/``.
    """
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    cmd = solara_command(app, port=port)
    with _server(cmd, url, env=solara_env(), cwd=ROOT, timeout=timeout, log=log, wait=wait):
        yield url


#: JupyterLab's own requests outside this machine, switched off in :func:`serve_jupyterlab`.
_LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


@contextlib.contextmanager
def serve_jupyterlab(
    root: str | Path,
    *,
    token: str = "view-test",
    timeout: float = 90.0,
    log: Path | None = None,
    wait: bool = True,
) -> Iterator[str]:
    """Run JupyterLab on 127.0.0.1 at a free port, serving ``root``; yield its URL.

    Everything JupyterLab would write goes under ``root/.jupyter-test`` (settings, workspaces,
    runtime files, the config and data folders): nothing of the user's Jupyter set-up is read
    or changed. No browser is opened; its news and update checks are off; the extension manager
    is read-only. Kernels are the project's Python (``python3``, from ipykernel).

    Parameters
    ----------
    root : str or Path
        The folder JupyterLab serves (notebooks go here).
    token : str
        The server's token (it is in the yielded URL).
    timeout : float
        Seconds to wait for the server to answer.
    log : Path, optional
        File for the server's output (default: discarded).
    wait : bool
        Wait until the server answers before yielding (else call :func:`wait_until_up`).

    Yields
    ------
    str
        The server's URL with the token, e.g. ``http://127.0.0.1:40123/lab?token=view-test``;
        see :func:`open_notebook`.
    """
    root = Path(root).resolve()
    home = root / ".jupyter-test"
    for name, value in _LAB_SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value), encoding="utf-8")
    port = _free_port()
    env = solara_env() | {
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "SOLARA_HOME": str(home / "solara"),  # as on a machine that never ran Solara
    }
    env.pop("MPLBACKEND")  # the kernel uses its inline backend, as for a user
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1"]
    cmd += [f"--port={port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}"]
    cmd += [f"--IdentityProvider.token={token}", "--allow-root"]
    cmd += [f"--LabApp.user_settings_dir={home / 'settings'}"]
    cmd += [f"--LabApp.workspaces_dir={home / 'workspaces'}"]
    cmd += ["--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    cmd += ["--LabApp.extension_manager=readonly"]
    url = f"http://127.0.0.1:{port}/lab?token={token}"
    with _server(cmd, url, env=env, cwd=root, timeout=timeout, log=log, wait=wait):
        yield url


def open_notebook(page: Any, lab_url: str, name: str, timeout: float = 90_000) -> None:
    """Open notebook ``name`` in JupyterLab and run its first cell, as a user would.

    Waits for the kernel to be idle, clicks into the first cell and presses Shift+Enter.

    Parameters
    ----------
    page : playwright.sync_api.Page
    lab_url : str
        The URL :func:`serve_jupyterlab` yields.
    name : str
        The notebook's path under the server's root.
    timeout : float
        Milliseconds to wait for the notebook and its kernel.
    """
    parts = urllib.parse.urlsplit(lab_url)
    page.goto(f"{parts.scheme}://{parts.netloc}/lab/tree/{name}?{parts.query}")
    cell = page.locator(".jp-Notebook .jp-Cell .cm-content").first
    cell.wait_for(timeout=timeout)
    page.get_by_text(re.compile(r"\| Idle$")).wait_for(timeout=timeout)
    cell.click()
    page.keyboard.press("Shift+Enter")


_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def block_outside_requests(context: Any) -> list[str]:
    """Refuse every request of a Playwright browser context to a host other than this machine.

    The page then behaves as on an offline machine, and the refused URLs are recorded.

    Parameters
    ----------
    context : playwright.sync_api.BrowserContext

    Returns
    -------
    list of str
        Filled with the URLs refused, as the pages in ``context`` request them.
    """
    refused: list[str] = []

    def route(r: Any) -> None:
        url = r.request.url
        host = urllib.parse.urlsplit(url).hostname or ""
        if url.startswith(("http:", "https:", "ws:", "wss:")) and host not in _LOOPBACK:
            refused.append(url)
            r.abort("internetdisconnected")
        else:
            r.continue_()

    context.route("**/*", route)
    return refused


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
    """Drive the classroom view in a Playwright page: choose, type, Reset, Step, wait.

    Works the same on the standalone page and in a JupyterLab output (the view's elements
    carry the same classes in both). Every action waits for what it changes to show.

    Parameters
    ----------
    page : playwright.sync_api.Page
        A page showing the view (see :func:`serve_view`, :func:`open_notebook`).
    timeout : float
        Milliseconds to wait for the page to react to each action.
    """

    def __init__(self, page: Any, timeout: float = 30_000) -> None:
        self.page = page
        self.timeout = timeout

    def wait_loaded(self, timeout: float = 90_000) -> str:
        """Wait until the stats line and both charts show; return the stats line."""
        self.page.locator(".classroom-stats").wait_for(timeout=timeout)
        self.wait_charts()
        return self.stats()

    def stats(self) -> str:
        """Return the stats line (``regime | day d of N, year y | mean core skill ...``)."""
        return self.page.locator(".classroom-stats").inner_text()

    def state(self) -> str:
        """Return where the class is: ``regime | day d of N, year y``."""
        return self.stats().split(" | mean")[0]

    def wait_stats(self, text: str, *, start: bool = False) -> str:
        """Wait until the stats line contains (or starts with) ``text``; return it."""
        test = "startsWith" if start else "includes"
        self.page.wait_for_function(
            f"t => (document.querySelector('.classroom-stats')?.innerText ?? '').{test}(t)",
            arg=text,
            timeout=self.timeout,
        )
        return self.stats()

    def wait_day(self, at_least: int) -> str:
        """Wait until the stats line shows day ``at_least`` or later (of any year)."""
        self.page.wait_for_function(
            """d => {
                const s = document.querySelector('.classroom-stats')?.innerText ?? '';
                const m = /\\| day (\\d+) of/.exec(s);
                return m !== null && Number(m[1]) >= d;
            }""",
            arg=at_least,
            timeout=self.timeout,
        )
        return self.stats()

    def day(self) -> int:
        """Return the day of the school year the stats line shows."""
        return int(self.state().split("| day ")[1].split(" ")[0])

    def wait_charts(self) -> None:
        """Wait until both charts are drawn for the stats line's state, and loaded."""
        self.page.wait_for_function(
            """() => {
                const tick = document.querySelector('.classroom-stats')?.dataset.tick;
                const imgs = [...document.querySelectorAll(
                    '.classroom-network img, .classroom-outcomes img')];
                return tick !== undefined && imgs.length === 2 && imgs.every(
                    i => i.dataset.tick === tick && i.complete && i.naturalWidth > 0);
            }""",
            timeout=self.timeout,
        )

    def control(self, name: str) -> Any:
        """Return the locator of the control for keyword ``name`` (e.g. ``"seed"``)."""
        return self.page.locator(f".control-{name}")

    def select(self, label: str, option: str) -> None:
        """Choose ``option`` in the drop-down labelled ``label`` (e.g. "Regime")."""
        page = self.page
        page.locator(".v-select").filter(has=page.get_by_text(label, exact=True)).click()
        page.get_by_role("option", name=option, exact=True).click()
        self.page.locator(".v-select").filter(has=page.get_by_text(label, exact=True)).filter(
            has_text=option
        ).wait_for(timeout=self.timeout)

    def box(self, name: str) -> Any:
        """Return the locator of the text box of control ``name`` (a number's box, the seed)."""
        return self.control(name).locator("input[type='text']")

    def wait_box(self, name: str, text: str) -> str:
        """Wait until the box of control ``name`` holds ``text``; return it.

        The box follows its slider through the kernel, so it may lag behind the note
        that the value is not applied yet: wait for it rather than read it at once.
        """
        self.page.wait_for_function(
            """([sel, t]) => document.querySelector(sel)?.value === t""",
            arg=[f".control-{name} input[type='text']", text],
            timeout=self.timeout,
        )
        return self.box(name).input_value()

    def fill(self, name: str, text: str) -> None:
        """Type ``text`` into the box of control ``name`` (the page reads it as it changes)."""
        self.box(name).fill(text)

    def message(self, name: str) -> str:
        """Return the message under control ``name`` (an error, or a note), or ""."""
        messages = self.control(name).locator(".v-messages")
        return " ".join(messages.all_inner_texts()).strip()

    def wait_message(self, name: str, text: str) -> str:
        """Wait until the message under control ``name`` contains ``text``; return it."""
        self.control(name).locator(".v-messages").filter(has_text=text).first.wait_for(
            timeout=self.timeout
        )
        return self.message(name)

    def wait_no_message(self, name: str) -> None:
        """Wait until control ``name`` shows no message."""
        self.control(name).locator(".v-messages__message").first.wait_for(
            state="detached", timeout=self.timeout
        )

    def button(self, name: str) -> Any:
        """Return the locator of the button named ``name`` (Reset, Play, Pause, Step)."""
        return self.page.get_by_role("button", name=name, exact=True)

    def reset(self, *, refused: bool = False) -> str:
        """Press Reset and wait for the new class and its charts; return the stats line.

        With ``refused=True``, wait instead for the message that says why Reset did not
        start a new class (a field is not valid), and return that message.
        """
        before = self.page.locator(".classroom-stats").get_attribute("data-tick")
        self.button("Reset").click()
        if refused:
            notice = self.page.locator(".classroom-notice").filter(has_text="Not reset")
            notice.wait_for(timeout=self.timeout)
            return notice.inner_text()
        self.page.wait_for_function(
            "t => document.querySelector('.classroom-stats')?.dataset.tick !== t",
            arg=before,
            timeout=self.timeout,
        )
        self.wait_charts()
        return self.stats()

    def set_step_size(self, size: str) -> None:
        """Choose what Step and Play advance by: ``"day"``, ``"week"`` or ``"month"``."""
        toggle = self.page.locator(".classroom-step-size")
        toggle.get_by_role("button", name=size, exact=True).click()
        toggle.locator(".v-btn--active").filter(has_text=size).wait_for(timeout=self.timeout)

    def step(self, n: int = 1) -> str:
        """Press Step ``n`` times, each time waiting for the class to move and the charts.

        Returns
        -------
        str
            The stats line after the last step.
        """
        for _ in range(n):
            before = self.state()
            self.button("Step").click()
            self.page.wait_for_function(
                "s => !(document.querySelector('.classroom-stats')?.innerText ?? s).startsWith(s)",
                arg=before + " |",
                timeout=self.timeout,
            )
            self.wait_charts()
        return self.stats()

    def advance(self, days: int) -> str:
        """Step ``days`` school days, in as few clicks as months, weeks and days allow."""
        from toolkit.viz.page import STEP_SIZES

        for size, length in sorted(STEP_SIZES.items(), key=lambda kv: -kv[1]):
            clicks, days = divmod(days, length)
            if clicks:
                self.set_step_size(size)
                self.step(clicks)
        return self.stats()

    def image_digest(self, selector: str) -> tuple[int, int]:
        """Return (bytes, FNV-1a hash) of the image in ``selector`` (e.g. the outcome chart)."""
        return tuple(self.page.locator(f"{selector} img").evaluate(_IMAGE_DIGEST_JS))


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
        School days to advance (by months, weeks and days; each click waits until the stats
        line and both charts show the new day).
    width, height : int
        Viewport size in pixels.

    Returns
    -------
    Path
    """
    sync_playwright = require("playwright.sync_api", "A screenshot of the view").sync_playwright

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
            view.advance(steps)  # each click waits until both charts show the new day
            page.screenshot(path=str(path))
        finally:
            browser.close()
    return path
