"""The documentation site: it builds, and its pages open in a real browser without errors.

The site is built by ``./run.sh docs`` (``sphinx-build -W``: a warning fails the build); .ci/run
builds it before the tests, into ``build/docs``. These tests use that build when it is newer
than every source it is made from, and otherwise build the site once into a temporary folder
(a minute or more). The browser test serves the site on 127.0.0.1, opens its pages in Debian's
headless Chromium with every request beyond this machine refused, and checks that each page
loads with no console error, no failed request, every image drawn and the formulas typeset.
The tests are skipped only where Sphinx (the ``docs`` extra) or Chromium is not installed.
"""

import contextlib
import functools
import html as html_module
import http.server
import pickle
import re
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BUILT = ROOT / "build" / "docs"

pytestmark = pytest.mark.xdist_group("docs-site")  # one build, one browser per run

#: Pages written for the site or kept in docs/ (every docs/*.md is one), the benchmarks and
#: changelog included from the repository, the notebooks index and the API's front page.
PAGES = sorted(p.stem for p in DOCS.glob("*.md"))


def _sources() -> Iterator[Path]:
    yield from (p for p in DOCS.rglob("*") if p.is_file() and "notebooks" not in p.parts)
    yield from (ROOT / "notebooks").glob("*.ipynb")
    yield from (ROOT / "toolkit").rglob("*.py")
    yield from (ROOT / n for n in ("README.md", "CHANGELOG.md", "benchmarks/README.md"))


def _current(site: Path) -> bool:
    """Whether ``site`` was built after every source of the site last changed."""
    stamp = site / ".buildinfo"
    if not (stamp.is_file() and (site / "index.html").is_file()):
        return False
    built = stamp.stat().st_mtime
    return all(p.stat().st_mtime <= built for p in _sources() if "generated" not in p.parts)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("sphinx", reason="Sphinx is not installed (the 'docs' extra)")
    if _current(BUILT):
        return BUILT
    out = tmp_path_factory.mktemp("docs-site")
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-d",
         str(out / ".doctrees"), str(DOCS), str(out / "html")],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert build.returncode == 0, f"sphinx-build -W failed:\n{build.stderr[-5000:]}"
    return out / "html"


def test_every_page_of_docs_is_on_the_site(site):
    missing = [name for name in PAGES if not (site / f"{name}.html").is_file()]
    assert not missing
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 7
    for name in notebooks:
        assert (site / "notebooks" / f"{name}.html").is_file(), name
    assert (site / "api" / "generated" / "toolkit.survey.reliability.html").is_file()
    # the API reference documents the functions from their numpydoc docstrings
    page = (site / "api" / "generated" / "toolkit.survey.reliability.html").read_text()
    assert 'id="toolkit.survey.reliability.cronbach_alpha"' in page
    assert "Parameters" in page and "Returns" in page
    # every reference of the written pages to the API resolves (an unresolved one is plain code)
    for name in PAGES:
        refs = re.findall(r'(<a [^>]*>)?<code class="xref', (site / f"{name}.html").read_text())
        assert all(refs), f"{name}: {refs.count('')} references to the API that do not resolve"
    survey = (site / "survey.html").read_text()
    assert survey.count('href="api/generated/toolkit.survey.') >= 20  # the R equivalents table
    # MathJax comes from the site itself: the page names no other host
    odd = (site / "odd.html").read_text()
    assert "_static/mathjax/MathJax.js" in odd and "cdn." not in odd
    assert (site / "_static" / "mathjax" / "MathJax.js").is_file()


def _text(html: str) -> str:
    """The text of an HTML page: tags dropped, entities decoded, white space collapsed.

    Typographic quotes (Sphinx's smart quotes) read as the straight ones of the source.
    """
    text = html_module.unescape(re.sub(r"<[^>]+>", "", html))
    return " ".join(text.translate(str.maketrans("\u2018\u2019\u201c\u201d", "''\"\"")).split())


def test_benchmarks_page_is_the_current_benchmarks_readme(site):
    # the page is benchmarks/README.md, read at build time (docs/conf.py); a build made after
    # the README changed, incremental ones included, shows every heading it has now
    page = _text((site / "benchmarks.html").read_text())
    readme = (ROOT / "benchmarks" / "README.md").read_text()
    headings = re.findall(r"^#{1,3} (.+)$", readme, flags=re.MULTILINE)
    assert len(headings) >= 10
    missing = [h for h in headings if " ".join(h.replace("`", "").split()) not in page]
    assert not missing, f"benchmarks.html lacks these headings of benchmarks/README.md: {missing}"


def test_an_incremental_build_reads_the_benchmarks_readme_again(site):
    # the page's source is outside docs/: Sphinx is told it depends on it (note_dependency);
    # the environment's pickle holds Sphinx's objects (the site fixture skips without Sphinx)
    doctrees = site / ".doctrees" if (site / ".doctrees").is_dir() else site.parent / ".doctrees"
    env_file = doctrees / "environment.pickle"
    if not env_file.is_file():
        pytest.skip(f"no Sphinx environment beside the site ({env_file})")
    with env_file.open("rb") as f:
        env = pickle.load(f)
    deps = {Path(p).name for p in env.dependencies.get("benchmarks", set())}
    assert "README.md" in deps


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no request log on the test's output
        pass


@contextlib.contextmanager
def _serve(folder: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


#: Waits for every image (lazy ones made eager) and returns those not drawn.
_IMAGES_JS = """async () => {
    const imgs = [...document.images];
    for (const img of imgs) { img.loading = "eager"; }
    await Promise.all(imgs.map(img => img.complete ? null :
        new Promise(r => { img.addEventListener("load", r); img.addEventListener("error", r); })));
    return [imgs.length, imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)];
}"""

#: Waits for MathJax to typeset the page; returns [formulas typeset, formulas in error].
_MATH_JS = """() => new Promise(resolve => {
    if (!window.MathJax || !MathJax.Hub) { resolve([0, 0]); return; }
    MathJax.Hub.Queue(() => resolve([
        document.querySelectorAll(".MathJax, .MathJax_Display").length,
        document.querySelectorAll(".MathJax_Error, merror").length]));
})"""


@pytest.mark.browser
def test_site_pages_load_offline_in_a_real_browser(site):
    from playwright.sync_api import sync_playwright

    from toolkit.viz.browser import block_outside_requests, find_chromium, launch_chromium

    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium); .ci/run does")
    notebooks = sorted(f"notebooks/{p.stem}" for p in (ROOT / "notebooks").glob("*.ipynb"))
    api = ["api/generated/toolkit.metrics.outcome"]  # a module page with formulas
    pages = [*PAGES, *notebooks, "api/index", *api, "search"]
    problems: list[str] = []
    links: set[str] = set()
    with _serve(site) as base, sync_playwright() as pw:
        browser = launch_chromium(pw, chromium)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            refused = block_outside_requests(context)
            page = context.new_page()
            events: list[str] = []
            page.on("pageerror", lambda e: events.append(f"page error: {e}"))
            page.on(
                "console",
                lambda m: events.append(f"console: {m.text}") if m.type == "error" else None,
            )
            page.on("requestfailed", lambda r: events.append(f"failed: {r.url} {r.failure}"))
            page.on(
                "response",
                lambda r: events.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
            )
            typeset = {}
            images = 0
            for name in pages:
                events.clear()
                page.goto(f"{base}{name}.html", wait_until="load")
                count, broken = page.evaluate(_IMAGES_JS)
                images += count
                typeset[name], errors = page.evaluate(_MATH_JS)
                problems += [f"{name}: {e}" for e in events]
                problems += [f"{name}: image not drawn: {src}" for src in broken]
                if errors:
                    problems.append(f"{name}: {errors} formulas in error")
                hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
                links.update(h for h in hrefs if h.startswith(base))
        finally:
            browser.close()
    assert not refused, f"requests beyond this machine: {refused[:10]}"
    assert not problems, "\n".join(problems[:30])
    assert images >= 20  # the gallery, the findings' figures, the robustness report
    assert typeset["odd"] > 100 and typeset[api[0]] >= 5
    # every link between the site's pages leads to a file of the site
    dead = sorted(
        {
            u
            for u in links
            if not (site / urllib.parse.unquote(urllib.parse.urlsplit(u).path[1:])).exists()
        }
    )
    assert not dead, dead[:20]
