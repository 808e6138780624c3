"""Calibration with uncertainty and validation of the classroom model.

Modules
-------
targets
    ``toolkit/calibration/data/targets.csv``: every calibration target, held-back check and
    comparison as data (value, uncertainty or range, population, grade, source, confidence),
    read and checked by :func:`load_targets`; :func:`evaluate` compares them with the model and
    flags every row that does not pass.
evidence
    The trial record, ``toolkit/calibration/data/evidence.csv``: published effects of contrasts
    the regime axes can express, each mapped onto two study-file arms and a kind of test in
    ``evidence-mappings.toml`` (:func:`load_rows`, with a user's extra rows and mappings).
quantities
    How the model computes each quantity: one registered function per quantity
    (:func:`quantity`), and the trial record's contrasts and correlations from their mappings,
    arms on common random numbers through the study runner's work unit, values with Monte
    Carlo standard errors (:func:`compute`).
crossval
    Leave-one-out and k-fold predictions of rows from calibrations that did not see them, and
    the coverage of their predictive intervals (:func:`cross_validate`).
realdata
    Checks computed from real data with the same code: nlschools' ICC, the Tennessee STAR
    class-size effect, the distribution of one-year gains in egsingle.
emulator
    The engagement weights, supervision, practice efficacy and the cost of self-direction
    calibrated on rows of the trial record through a Gaussian-process emulator of the model
    and tempered SMC (:func:`calibrate_emulator`, ``calibrate --method emulator``), with its
    leave-one-out table (:func:`emulator_cross_validation`).
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
from toolkit.calibration.crossval import cross_validate, predictive_draws
from toolkit.calibration.emulator import (
    EmulatorConfig,
    calibrate_emulator,
    emulator_cross_validation,
    load_emulator_config,
)
from toolkit.calibration.evidence import EvidenceMapping, load_evidence, load_mappings, load_rows
from toolkit.calibration.predict import arm_status, combine_draws, format_posterior_summary
from toolkit.calibration.quantities import (
    QUANTITIES,
    Estimate,
    Quantity,
    QuantityUnavailableError,
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
    "EmulatorConfig",
    "Estimate",
    "EvidenceMapping",
    "Quantity",
    "QuantityUnavailableError",
    "Simulations",
    "TargetsError",
    "arm_status",
    "calibrate",
    "calibrate_emulator",
    "calibrated_parameters",
    "combine_draws",
    "compute",
    "coverage_check",
    "cross_validate",
    "effect_size",
    "emulator_cross_validation",
    "evaluate",
    "format_posterior_summary",
    "load_config",
    "load_emulator_config",
    "load_evidence",
    "load_mappings",
    "load_posterior",
    "load_rows",
    "load_targets",
    "posterior_predictive",
    "posterior_summary",
    "predictive_draws",
    "quantity",
    "sample_posterior",
    "target_scale",
]
