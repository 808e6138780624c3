"""The classroom view as a Solara app: ``solara run toolkit/viz/app.py``, or ``page`` in Jupyter.

::

    ./run.sh python -m solara run toolkit/viz/app.py     # opens http://localhost:8765

In JupyterLab, put ``page`` as the last line of a cell::

    from toolkit.viz.app import page
    page
"""

from toolkit.viz.classroom import make_page

__all__ = ["page"]

#: The SolaraViz page of :class:`toolkit.viz.classroom.ClassroomView` with its default controls.
page = make_page()
