"""Solara's browser assets for machines without access to a CDN.

A Solara server (``solara run``) sends the browser a page that loads a few front-end packages
(Solara's Vuetify app, RequireJS, Font Awesome, a grid layout) through the server, which
fetches them once from a CDN and keeps them in a cache folder. Behind a firewall, or on a
machine that reaches package registries but not CDNs, that first fetch fails and the page stays
blank. :func:`install_assets` fills the cache from the npm registry instead, with npm itself
(``npm pack``), so that the standalone view (``python -m toolkit.viz``) works offline afterwards::

    ./run.sh python -m toolkit.viz.assets          # install what is missing
    ./run.sh python -m toolkit.viz.assets --check  # list what is missing, exit 1 if anything

The packages and their versions are read from the installed Solara itself (its page template and
widgets), so they follow Solara when it is upgraded. JupyterLab does not need any of this: its
widget extensions are installed with the Python packages.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from toolkit._optional import require

__all__ = ["cache_dir", "install_assets", "missing_assets", "required_packages"]

_REF = re.compile(r"(?:\{\{cdn\}\}|\$\{this\.getCdn\(\)\})/((?:@[\w.-]+/)?[\w.-]+@[\w.+-]+)/")


def _solara_root() -> Path:
    solara = require("solara", "Solara's front-end packages")
    return Path(solara.__file__).parent


def required_packages() -> list[str]:
    """Return the npm packages (``name@version``) that a Solara page loads from the CDN.

    Read from the installed Solara: its page template (the Vuetify 3 app when ipyvue 3 is
    installed, else the Vuetify 2 app; RequireJS), its grid-layout widget and the Font Awesome
    path in its settings. Packages referenced only by widgets this toolkit does not use (Vega,
    Mermaid, ...) are left out.

    Returns
    -------
    list of str
        Sorted ``name@version`` specs, e.g. ``"requirejs@2.3.6"``.
    """
    ipyvue = require("ipyvue", "Solara's front-end packages")
    settings = require("solara.server.settings", "Solara's front-end packages")
    root = _solara_root()
    text = (root / "server" / "templates" / "solara.html.j2").read_text(encoding="utf-8")
    vue = root / "widgets" / "vue"
    text += (vue / "gridlayout_v3.vue").read_text(encoding="utf-8")
    text += (vue / "gridlayout.vue").read_text(encoding="utf-8")
    specs = set(_REF.findall(text))
    vue3 = int(ipyvue.__version__.split(".")[0]) >= 3
    unused = "solara-vuetify-app@" if vue3 else "solara-vuetify3-app@"
    specs = {s for s in specs if unused not in s}
    fontawesome = settings.assets.fontawesome_path.strip("/").split("/")[0]
    if settings.assets.fontawesome_enabled and "@" in fontawesome:
        specs.add(fontawesome)
    return sorted(specs)


def cache_dir() -> Path:
    """Return Solara's CDN cache folder (``SOLARA_ASSETS_PROXY_CACHE_DIR`` or its default)."""
    settings = require("solara.server.settings", "Solara's front-end packages")
    return Path(settings.assets.proxy_cache_dir)


def missing_assets(folder: Path | None = None) -> list[str]:
    """Return the packages of :func:`required_packages` that are not in the cache folder.

    Parameters
    ----------
    folder : Path, optional
        The cache folder (default :func:`cache_dir`).

    Returns
    -------
    list of str
        ``name@version`` specs with no ``folder/name@version/package.json``.
    """
    folder = cache_dir() if folder is None else Path(folder)
    return [s for s in required_packages() if not (folder / s / "package.json").is_file()]


def install_assets(folder: Path | None = None, *, quiet: bool = True) -> list[str]:
    """Fetch the missing packages with ``npm pack`` and unpack them into the cache folder.

    Parameters
    ----------
    folder : Path, optional
        The cache folder (default :func:`cache_dir`).
    quiet : bool
        Hide npm's output unless it fails.

    Returns
    -------
    list of str
        The packages installed (empty if nothing was missing).

    Raises
    ------
    RuntimeError
        If npm is not installed or cannot fetch a package (its message is included).
    """
    folder = cache_dir() if folder is None else Path(folder)
    todo = missing_assets(folder)
    if not todo:
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "Solara's browser assets are missing from "
            f"{folder} ({', '.join(todo)}) and npm is not installed to fetch them from the npm "
            "registry. Install Node.js and npm, or give the machine access to cdn.jsdelivr.net."
        )
    with tempfile.TemporaryDirectory() as tmp:
        for spec in todo:
            run = subprocess.run(
                [npm, "pack", spec, "--pack-destination", tmp, "--silent"],
                capture_output=True,
                text=True,
                timeout=300,
            )
            if run.returncode != 0:
                raise RuntimeError(f"npm pack {spec} failed:\n{run.stdout}\n{run.stderr}")
            tarball = Path(tmp) / run.stdout.strip().splitlines()[-1]
            dest = folder / spec
            staging = Path(tmp) / "unpacked"
            shutil.rmtree(staging, ignore_errors=True)
            with tarfile.open(tarball) as tar:
                tar.extractall(staging, filter="data")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(dest, ignore_errors=True)
            shutil.move(staging / "package", dest)
            if not quiet:
                print(f"installed {spec} into {dest}", file=sys.stderr)
    return todo


def main(argv: list[str] | None = None) -> int:
    """Command line: install the missing assets, or list them with ``--check``."""
    parser = argparse.ArgumentParser(prog="python -m toolkit.viz.assets", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only list what is missing")
    args = parser.parse_args(argv)
    if args.check:
        missing = missing_assets()
        for spec in missing:
            print(spec)
        return 1 if missing else 0
    try:
        install_assets(quiet=False)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"Solara assets are in {cache_dir()}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
