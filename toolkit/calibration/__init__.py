"""Calibration with uncertainty and validation of the classroom model.

Modules
-------
targets
    ``toolkit/calibration/data/targets.csv``: every calibration target, held-back check and
    comparison as data (value, uncertainty or range, population, grade, source, confidence),
    read and checked by :func:`load_targets`; :func:`evaluate` compares them with the model.
quantities
    How the model computes each quantity: one registered function per quantity
    (:func:`quantity`), arms on common random numbers through the study runner's work unit,
    values with Monte Carlo standard errors (:func:`compute`).
realdata
    Checks computed from real data with the same code: nlschools' ICC, the Tennessee STAR
    class-size effect, the distribution of one-year gains in egsingle.
abc
    Bayesian calibration by ABC-SMC (pyabc, stochastic acceptor): :func:`calibrate`, its
    coverage check (:func:`coverage_check`), posterior draws and posterior predictions.
predict
    Studies run over posterior draws: sampling, parameter and total intervals of every paired
    difference (:func:`combine_draws`), arms labelled checked or prediction.
report
    The validation report (:func:`write_report`, ``python -m toolkit validate``).
charts
    The posterior's pair plot and the targets-against-model chart.
"""

from toolkit.calibration.abc import (
    CalibrationConfig,
    CalibrationResult,
    calibrate,
    calibrated_parameters,
    coverage_check,
    load_config,
    load_posterior,
    posterior_predictive,
    posterior_summary,
    sample_posterior,
)
from toolkit.calibration.predict import arm_status, combine_draws, format_posterior_summary
from toolkit.calibration.quantities import (
    QUANTITIES,
    Estimate,
    Quantity,
    Simulations,
    compute,
    effect_size,
    quantity,
)
from toolkit.calibration.targets import TargetsError, evaluate, load_targets, target_scale

__all__ = [
    "QUANTITIES",
    "CalibrationConfig",
    "CalibrationResult",
    "Estimate",
    "Quantity",
    "Simulations",
    "TargetsError",
    "arm_status",
    "calibrate",
    "calibrated_parameters",
    "combine_draws",
    "compute",
    "coverage_check",
    "effect_size",
    "evaluate",
    "format_posterior_summary",
    "load_config",
    "load_posterior",
    "load_targets",
    "posterior_predictive",
    "posterior_summary",
    "quantity",
    "sample_posterior",
    "target_scale",
]
