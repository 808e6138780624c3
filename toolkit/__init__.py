"""Classroom regimes toolkit: simulate and compare learning regimes, analyse real survey data."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("classroom-regimes-toolkit")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
