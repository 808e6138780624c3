"""HTML templates of the toolkit's reports, shipped as package data, and their stylesheet.

``base.html.j2`` is the page every report extends: it inlines ``report.css``, the one
stylesheet of all reports, so each report stays a single self-contained file.
``macros.html.j2`` holds the table every report draws. :func:`render` fills a template with
Jinja2 (autoescaping: text passed in is escaped; only values wrapped in
:class:`markupsafe.Markup`, such as a table pandas rendered, are inserted as HTML).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

__all__ = ["environment", "render"]


@cache
def environment() -> jinja2.Environment:
    """Return the Jinja2 environment reading ``toolkit/templates`` (autoescaping, strict).

    Returns
    -------
    jinja2.Environment
        Undefined names raise (:class:`jinja2.StrictUndefined`) instead of rendering empty.
    """
    return jinja2.Environment(
        loader=jinja2.PackageLoader("toolkit", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, /, **context: Any) -> str:
    """Render the template ``name`` (e.g. ``"validation.html.j2"``) with ``context``.

    Examples
    --------
    >>> page = render("base.html.j2", title="A <b>test</b>")
    >>> page.startswith("<!doctype html>"), "A &lt;b&gt;test&lt;/b&gt;" in page
    (True, True)
    """
    return environment().get_template(name).render(**context)
