"""Optional dependencies: which extra of the package installs each, and an import that says so.

The core install (``pip install classroom-regimes-toolkit``) runs, checks and analyses studies,
writes the validation report and reads CSV survey data. Heavier parts come with extras::

    pip install "classroom-regimes-toolkit[robustness]"   # SALib, scikit-learn
                                                          # (also: imputing a real cohort's gaps)
    pip install "classroom-regimes-toolkit[calibration]"  # pyabc (ABC-SMC)
    pip install "classroom-regimes-toolkit[survey-io]"    # pyreadstat, openpyxl (SPSS, Excel)
    pip install "classroom-regimes-toolkit[viz]"          # Solara's interactive classroom view
    pip install "classroom-regimes-toolkit[all]"          # all of the above

:func:`require` imports an optional module and, when it is missing, raises an
:class:`ImportError` that names the feature, the distribution and the extra to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["DISTRIBUTION", "EXTRAS", "MissingExtraError", "require"]

#: The toolkit's distribution name (what ``pip install`` takes).
DISTRIBUTION = "classroom-regimes-toolkit"

#: Top-level module -> (distribution on PyPI, extra of the toolkit that installs it).
EXTRAS: dict[str, tuple[str, str]] = {
    "SALib": ("SALib", "robustness"),
    "sklearn": ("scikit-learn", "robustness"),
    "threadpoolctl": ("threadpoolctl", "robustness"),
    "pyabc": ("pyabc", "calibration"),
    "pyreadstat": ("pyreadstat", "survey-io"),
    "openpyxl": ("openpyxl", "survey-io"),
    "solara": ("solara", "viz"),
    "ipywidgets": ("ipywidgets", "viz"),
    "ipyvue": ("ipyvue", "viz"),
    "reacton": ("reacton", "viz"),
    "playwright": ("playwright", "dev"),
}


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message says which extra installs it."""


def require(module: str, feature: str) -> ModuleType:
    """Import an optional module, or say which extra installs it.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"SALib.analyze.sobol"``; its top-level package must be a key
        of :data:`EXTRAS`.
    feature : str
        What needs it, for the message (e.g. ``"Sobol' indices"``).

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    MissingExtraError
        An :class:`ImportError` raised if the module cannot be imported: the message names the
        distribution and the command that installs the extra.

    Examples
    --------
    >>> require("SALib", "Sobol' indices").__name__
    'SALib'
    """
    top = module.split(".")[0]
    dist, extra = EXTRAS[top]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{feature} needs {dist}, which is in the toolkit's optional '{extra}' extra: "
            f"pip install '{DISTRIBUTION}[{extra}]' (from a checkout, ./run.sh installs every "
            f"extra). ({exc})"
        ) from exc
