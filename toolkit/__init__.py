"""Classroom regimes toolkit: simulate and compare learning regimes, analyse real survey data."""

from importlib.metadata import PackageNotFoundError, version

from toolkit._base import plugins as _plugins

try:
    __version__ = version("classroom-regimes-toolkit")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]

#: The composition root: what the upper layers plug into the lower ones, by name, imported on
#: first use (:mod:`toolkit._base.plugins`; the layers are drawn in docs/architecture.md).
PLUGINS = {
    # tables and parameter sources of a study file that the study layer does not read itself
    "study.robustness": "toolkit.robustness.spec:parse_robustness",
    "study.cohort": "toolkit.realcohort.study:DataCohort",
    "study.posterior.load": "toolkit.calibration.abc:load_posterior",
    "study.posterior.sample": "toolkit.calibration.abc:sample_posterior",
    # the default analysis of each kind of run (toolkit.study.runner.default_analysis)
    "analysis.robustness": "toolkit.robustness.report:analyse_design",
    "analysis.cohort": "toolkit.realcohort.study:analyse_cohort_run",
    "analysis.posterior": "toolkit.calibration.predict:analyse_posterior_run",
    # the figures of an ordinary study's run (toolkit.study.analysis.analyse_run)
    "analysis.figures": "toolkit.charts.runs:draw_run_figures",
}
for _point, _target in PLUGINS.items():
    _plugins.declare(_point, _target)
del _point, _target
