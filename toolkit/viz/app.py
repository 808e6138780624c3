"""The classroom view as an app: ``page`` in JupyterLab, ``Page`` for ``solara run``.

In JupyterLab, put ``page`` as the last line of a cell::

    from toolkit.viz.app import page
    page

Standalone, in a browser, served on this machine only (see :mod:`toolkit.viz.__main__`)::

    ./run.sh python -m toolkit.viz        # prints the address, e.g. http://127.0.0.1:8765/
"""

from toolkit._optional import require
from toolkit.viz.page import ClassroomApp, make_page

solara = require("solara", "The interactive classroom view")

__all__ = ["Page", "page"]

#: The view for a notebook: each display is a new class with the controls' defaults.
page = make_page()


@solara.component
def Page() -> None:  # noqa: N802
    """Show the view as a Solara page (``solara run`` looks for ``Page`` first)."""
    solara.Title("Classroom regimes")
    ClassroomApp()
