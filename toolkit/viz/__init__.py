"""Interactive classroom view (Mesa SolaraViz), kept apart from the model's code.

``toolkit.viz.app.page`` is the page; :mod:`toolkit.viz.classroom` holds the view's model
wrapper, drawing functions and Solara components; :mod:`toolkit.viz.assets` installs Solara's
browser assets for machines without access to a CDN.
"""
