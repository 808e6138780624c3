"""Interactive classroom view, kept apart from the model's code.

``toolkit.viz.app.page`` is the view for JupyterLab and ``./run.sh python -m toolkit.viz``
serves it in a browser; :mod:`toolkit.viz.page` holds its controls and Solara components,
:mod:`toolkit.viz.classroom` the view's model wrapper and drawing functions,
:mod:`toolkit.viz.browser` serves it on loopback and drives it in headless Chromium (tests,
screenshots), and :mod:`toolkit.viz.assets` installs Solara's browser assets for machines
without access to a CDN.
"""
