"""Plug-in points: where an upper layer plugs its code into a lower one, named and loaded on use.

A lower layer that needs behaviour only an upper layer has (the study file's ``[robustness]``
table is read by :mod:`toolkit.robustness`; the figures of a run are drawn by
:mod:`toolkit.charts`) does not import that layer. It names a *plug-in point* and asks for
what is plugged in there when it needs it (:func:`load`); what is plugged in is declared by
the package's composition root, ``toolkit/__init__.py``, as ``"module:attribute"`` text
(:func:`declare`), and imported only when first asked for. So imports run one way (see
``docs/architecture.md``): the lower layer defines the point and the signature of what it
expects there, the upper layer implements it, and the root wires the two.

Someone extending the toolkit declares their own implementation the same way, before use::

    from toolkit._base import plugins
    plugins.declare("study.figures", "mypackage.figures:draw")
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["PluginError", "declare", "declared", "load"]

_DECLARED: dict[str, str] = {}
_LOADED: dict[str, Any] = {}


class PluginError(LookupError):
    """Nothing is declared at a plug-in point, or what is declared cannot be imported."""


def declare(point: str, target: str) -> None:
    """Plug ``target`` (``"package.module:attribute"``) in at ``point``, replacing any other.

    Parameters
    ----------
    point : str
        The plug-in point's name (``"study.robustness"``).
    target : str
        Where the object lives, as ``"module:attribute"``; imported on first :func:`load`.

    Raises
    ------
    ValueError
        If ``target`` is not ``"module:attribute"``.
    """
    module, sep, attribute = target.partition(":")
    if not (module and sep and attribute):
        raise ValueError(f"plug-in {point!r}: target must be 'module:attribute', got {target!r}.")
    _DECLARED[point] = target
    _LOADED.pop(point, None)


def declared(point: str) -> str | None:
    """Return the target declared at ``point`` (``"module:attribute"``), or None."""
    return _DECLARED.get(point)


def load(point: str) -> Any:
    """Return the object plugged in at ``point``, importing its module on first use.

    Raises
    ------
    PluginError
        If nothing is declared there, or its module or attribute cannot be found.
    """
    if point in _LOADED:
        return _LOADED[point]
    target = _DECLARED.get(point)
    if target is None:
        raise PluginError(f"nothing is plugged in at {point!r} (see toolkit/__init__.py).")
    module, _, attribute = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise PluginError(f"plug-in {point!r}: {target} has no {part!r}.") from None
    _LOADED[point] = obj
    return obj
