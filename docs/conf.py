"""Sphinx configuration of the documentation site.

Build it with ``./run.sh docs`` (``sphinx-build -W --keep-going -b html docs build/docs``):
warnings are errors. The site loads nothing from other machines: the theme (furo) uses the
system's fonts, MathJax is served from the site's own copy (the ``jupyter-server-mathjax``
package), and the notebooks are rendered as stored, without being executed.
"""

from __future__ import annotations

import filecmp
import re
import shutil
import sys
from pathlib import Path

import jupyter_server_mathjax

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # the toolkit of this checkout, whatever is installed

import toolkit  # noqa: E402

project = "Classroom regimes toolkit"
author = "Classroom Regimes Toolkit developers"
copyright = "the Classroom Regimes Toolkit developers"
release = version = toolkit.__version__

extensions = [
    "myst_nb",  # Markdown pages (MyST) and the notebooks; includes myst_parser
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]

exclude_patterns = ["_build", "gallery", "screenshots", "**/.ipynb_checkpoints"]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["site.css"]

# --- pages --------------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 4  # [text](page.md#a-heading) links, as on GitHub
myst_dmath_double_inline = True  # $$...$$ inside a paragraph (docs/odd.md) is display math
suppress_warnings = [
    # numpydoc gives each docstring's References their own labels; a docstring that lists its
    # sources without citing them inline is the house style, not a broken link.
    "ref.citation",
]

# --- notebooks: rendered as stored, never executed (they run minutes; the test suite runs
# them at small sizes through papermill) --------------------------------------------------
nb_execution_mode = "off"
NOTEBOOKS = DOCS / "notebooks"  # copies of ../notebooks/*.ipynb (git-ignored)

# --- API reference from the numpydoc docstrings -----------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # the docstrings state the types; signatures stay readable
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# --- theme and math, from this machine only ---------------------------------------------------
html_theme = "furo"
html_title = f"Classroom regimes toolkit {release}"
html_last_updated_fmt = None
html_copy_source = False
MATHJAX = Path(jupyter_server_mathjax.__file__).parent / "static"
# MathJax 2 as the classic Jupyter Notebook shipped it: the combined TeX configuration and the
# HTML-CSS output with its STIX web fonts, all inside the package (no CDN, no system fonts).
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
mathjax2_config = {
    "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]]},
    "HTML-CSS": {
        "availableFonts": [],
        "webFont": "STIX-Web",
        "imageFont": None,
        "preferredFont": None,
        # MathJax's placeholder font is url('about:blank'), which Chromium refuses with a console
        # error; a local() name is missing the same way without a request.
        "styles": {"@font-face": {"font-family": "MathJax_Blank", "src": "local('MathJax_Blank')"}},
    },
    "showMathMenu": False,
    "menuSettings": {"zoom": "None"},
}
myst_update_mathjax = False


def _copy_notebooks(app) -> None:
    """Copy ../notebooks/*.ipynb next to the pages (only those that changed)."""
    NOTEBOOKS.mkdir(exist_ok=True)
    for src in sorted((ROOT / "notebooks").glob("*.ipynb")):
        dest = NOTEBOOKS / src.name
        if not dest.exists() or not filecmp.cmp(src, dest, shallow=False):
            shutil.copyfile(src, dest)


def _copy_mathjax(app, exception) -> None:
    """Put MathJax into the built site's _static/mathjax (formulas without a CDN)."""
    if exception is None and app.builder.format == "html":
        shutil.copytree(MATHJAX, Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)


def _benchmarks_page(app, docname: str, source: list[str]) -> None:
    """Serve ../benchmarks/README.md as the page benchmarks, its file links made relative here."""
    if docname != "benchmarks":
        return
    folder = ROOT / "benchmarks"

    def relink(match: re.Match) -> str:
        target = match.group(2)
        if "://" in target or target.startswith("#") or not (folder / target).exists():
            return match.group(0)
        return f"{match.group(1)}(../benchmarks/{target})"

    readme = folder / "README.md"
    source[0] = re.sub(r"(!?\[[^\]]*\])\(([^)\s]+)\)", relink, readme.read_text())
    # an incremental build reads the page again whenever the README changes
    app.env.note_dependency(str(readme))


def setup(app):
    """Register the build hooks."""
    from pygments.lexers.special import TextLexer

    # mermaid diagrams (docs/architecture.md) render on GitHub; here they show as their text
    app.add_lexer("mermaid", TextLexer)
    app.connect("builder-inited", _copy_notebooks)
    app.connect("build-finished", _copy_mathjax)
    app.connect("source-read", _benchmarks_page)
