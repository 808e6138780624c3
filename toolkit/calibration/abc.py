r"""Bayesian calibration of the model's free parameters: ABC-SMC with pyabc.

The free parameters :math:`\theta` get a posterior, not a point. The targets of
``toolkit/calibration/data/targets.csv`` are read as noisy measurements of the model's quantities,

.. math::

    t_k = m_k(\theta) + \varepsilon_k, \qquad \varepsilon_k \sim N(0, s_k^2),

with :math:`t_k` the published value and :math:`s_k` its uncertainty (:func:`target_scale`),
and :math:`m_k(\theta)` the model's quantity simulated on ``classrooms`` classrooms
(:mod:`toolkit.calibration.quantities`). Priors are the plausible ranges of
:func:`toolkit.model.params.plausible_ranges`, uniform or log-uniform by their ``scale``.

Approximate Bayesian computation by sequential Monte Carlo (Beaumont et al. 2009; Del Moral
et al. 2012) with a *stochastic acceptor* (Wilkinson 2013; Schaelte & Hasenauer 2020, in
pyabc): a simulated particle is accepted with probability
:math:`\exp(-\tfrac{1}{2T}\sum_k (m_k - t_k)^2/s_k^2)` and the temperature :math:`T` falls
over the generations to 1, where the accepted particles are a weighted sample of the exact
posterior under the Gaussian error model above (with the simulator's Monte Carlo noise
included in :math:`m_k`). So the distance is built from the targets and their uncertainties,
and the result is not an approximation governed by a tolerance :math:`\epsilon`.

Why pyabc: it implements this exact-posterior scheme (stochastic acceptor, temperature
schedules), adaptive transition kernels, resumable runs in a database, and samplers from one
core to a Dask cluster (:class:`pyabc.sampler.DaskDistributedSampler`). Its particle sampling
uses numpy's global random state, so :func:`calibrate` seeds it and restores it afterwards;
with one worker a run is reproducible from its seed, with several (or after a resume) it is
not bit for bit, since which particle is accepted first depends on timing. Every model
evaluation draws its classrooms from a seed derived from the master seed and the parameter
values, so the same parameters give the same simulation wherever they run.

References
----------
.. [1] Beaumont, M. A., Cornuet, J.-M., Marin, J.-M., & Robert, C. P. (2009). Adaptive
   approximate Bayesian computation. *Biometrika*, 96(4), 983-990.
   https://doi.org/10.1093/biomet/asp052
.. [2] Del Moral, P., Doucet, A., & Jasra, A. (2012). An adaptive sequential Monte Carlo method
   for approximate Bayesian computation. *Statistics and Computing*, 22(5), 1009-1020.
.. [3] Wilkinson, R. D. (2013). Approximate Bayesian computation (ABC) gives exact results
   under the assumption of model error. *Statistical Applications in Genetics and Molecular
   Biology*, 12(2), 129-141. https://doi.org/10.1515/sagmb-2013-0010
.. [4] Schaelte, Y., & Hasenauer, J. (2020). Efficient exact inference for dynamical systems
   with noisy measurements using sequential approximate Bayesian computation.
   *Bioinformatics*, 36(Suppl. 1), i551-i559. https://doi.org/10.1093/bioinformatics/btaa397
.. [5] Schaelte, Y., Klinger, E., Alamoudi, E., & Hasenauer, J. (2022). pyABC: Efficient and
   robust easy-to-use approximate Bayesian computation. *Journal of Open Source Software*,
   7(74), 4304. https://doi.org/10.21105/joss.04304
.. [6] Talts, S., Betancourt, M., Simpson, D., Vehtari, A., & Gelman, A. (2018). Validating
   Bayesian inference algorithms with simulation-based calibration. arXiv:1804.06788.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sys
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toolkit._optional import require
from toolkit.calibration.quantities import MASTER_SEED, Simulations, compute, estimates
from toolkit.calibration.targets import DATA_DIR, TargetsError, load_targets, target_scale
from toolkit.model.params import PLAUSIBLE, ParameterError, Parameters, plausible_ranges

__all__ = [
    "CONFIG_FILE",
    "FREE_PARAMETERS",
    "CalibrationConfig",
    "CalibrationInterrupted",
    "CalibrationResult",
    "calibrate",
    "calibrated_parameters",
    "coverage_check",
    "coverage_tests",
    "load_config",
    "load_posterior",
    "posterior_predictive",
    "posterior_ranks",
    "posterior_summary",
    "sample_posterior",
]

#: The repository's calibration settings.
CONFIG_FILE = DATA_DIR / "abc.toml"

_KEYS = {
    "parameters",
    "targets",
    "classrooms",
    "population",
    "generations",
    "min_acceptance",
    "seed",
    "workers",
}


#: The calibrated parameters, one per calibration target of the targets file
#: (``simulations/calibrate.py``, docs/odd.md section 10): ``learning_rate`` (the year's gain),
#: ``peer_learning`` (the peer share), ``scaffolding_effect`` (scaffolding's effect on
#: self-regulation), ``disruption`` (STAR's class-size effect), ``teacher_effect_sd`` (teacher
#: value added), ``cooperative_learning`` (within-class grouping), and ``aptitude_sd``,
#: ``aptitude_skill_correlation`` and ``school_effect_sd`` (egsingle's one-year gains).
FREE_PARAMETERS = (
    "learning_rate",
    "peer_learning",
    "scaffolding_effect",
    "disruption",
    "teacher_effect_sd",
    "cooperative_learning",
    "aptitude_sd",
    "aptitude_skill_correlation",
    "school_effect_sd",
)


def calibrated_parameters() -> list[str]:
    """Return the parameters the calibration gives a posterior by default (the free ones).

    Each has a plausible range (``toolkit.model.params.PLAUSIBLE``), which is its prior:
    relative to the calibrated default for the rates (half to twice it, or from 0 to twice it),
    absolute for ``aptitude_skill_correlation`` and ``school_effect_sd``.

    Examples
    --------
    >>> calibrated_parameters()[:4]
    ['learning_rate', 'peer_learning', 'scaffolding_effect', 'disruption']
    """
    missing = [n for n in FREE_PARAMETERS if PLAUSIBLE[n].low is None]
    if missing:  # pragma: no cover - a guard against a change of toolkit/model/params.py
        raise ParameterError(f"calibration: {missing} have no plausible range (prior).")
    return list(FREE_PARAMETERS)


@dataclass(frozen=True)
class CalibrationConfig:
    """What to calibrate, on which targets, how hard.

    Attributes
    ----------
    parameters : tuple of str
        Free parameters (default: :func:`calibrated_parameters`); priors are their plausible
        ranges.
    targets : tuple of str
        Ids of the targets file's rows to fit (default: every row with role ``target``).
    classrooms : int
        Classrooms per arm in each model evaluation.
    population : int
        Particles per generation.
    generations : int
        Most generations (the run stops earlier when the temperature reaches 1).
    min_acceptance : float
        Stop when a generation's acceptance rate falls below this.
    seed : int
        Master seed (particles, and the classrooms of every evaluation).
    workers : int
        Processes evaluating particles (pyabc's multicore sampler when > 1).
    fixed : dict
        Model parameters held at other values than their defaults during the calibration.
    """

    parameters: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    classrooms: int = 100
    population: int = 200
    generations: int = 12
    min_acceptance: float = 0.005
    seed: int = MASTER_SEED
    workers: int = 1
    fixed: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        params = tuple(self.parameters) or tuple(calibrated_parameters())
        object.__setattr__(self, "parameters", params)
        ranges = plausible_ranges(params)  # raises for unknown names
        ints = list(ranges.index[ranges["integer"]])
        if ints:
            raise ParameterError(
                f"calibration: {ints} take whole numbers; ABC here calibrates continuous "
                "parameters only."
            )
        if not self.targets:
            t = load_targets()
            object.__setattr__(self, "targets", tuple(t.index[t["role"] == "target"]))
        object.__setattr__(self, "targets", tuple(self.targets))
        for name, least in (
            ("classrooms", 2),
            ("population", 2),
            ("generations", 1),
            ("workers", 1),
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < least:
                raise ValueError(
                    f"calibration: '{name}' must be a whole number >= {least}, got {v!r}."
                )
        Parameters.from_mapping(self.fixed, source="calibration [parameters]")
        clash = sorted(set(self.fixed) & set(params))
        if clash:
            raise ValueError(f"calibration: {clash} are both free and fixed.")

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as a JSON-friendly dict."""
        d = asdict(self)
        d["parameters"], d["targets"] = list(self.parameters), list(self.targets)
        return d


def load_config(path: str | Path | None = None, **overrides: Any) -> CalibrationConfig:
    """Read ``[abc]`` (and optional ``[parameters]``) from a TOML file.

    Parameters
    ----------
    path : str or Path, optional
        Default: :data:`CONFIG_FILE`.
    **overrides
        Values replacing the file's (e.g. ``population=50``).

    Returns
    -------
    CalibrationConfig
    """
    path = Path(path) if path is not None else CONFIG_FILE
    abc, fixed = read_settings(path, "abc", _KEYS, "calibration")
    if isinstance(abc.get("targets"), str):
        role = abc.pop("targets")
        t = load_targets()
        abc["targets"] = list(t.index[t["role"] == role])
    abc = abc | {k: v for k, v in overrides.items() if v is not None}
    for k in ("parameters", "targets"):
        if k in abc:
            abc[k] = tuple(abc[k])
    return CalibrationConfig(fixed=fixed, **abc)


def read_settings(
    path: Path, table: str, keys: set[str], what: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a calibration settings file: its ``[table]`` (checked keys) and ``[parameters]``.

    Parameters
    ----------
    path : Path
        The TOML file.
    table : str
        The settings table (``"abc"``, ``"emulator"``).
    keys : set of str
        The keys that table may have.
    what : str
        What the settings are for, in the message of a missing file.

    Returns
    -------
    settings, parameters : dict
        The table, and the fixed model parameters of ``[parameters]`` (empty if none).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        Naming the file, the table and every unknown key, with the allowed ones.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such {what} settings file.")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    settings = dict(data.get(table, {}))
    unknown = set(settings) - keys
    if unknown:
        raise ValueError(
            f"{path} [{table}]: unknown key(s) {sorted(unknown)}; allowed {sorted(keys)}."
        )
    return settings, dict(data.get("parameters", {}))


def _prior(names: Sequence[str]) -> Any:
    pyabc = require("pyabc", "Calibration by ABC-SMC")

    r = plausible_ranges(names)
    rvs = {}
    for name in names:
        lo, hi, scale = float(r.loc[name, "low"]), float(r.loc[name, "high"]), r.loc[name, "scale"]
        if scale == "log":
            rvs[name] = pyabc.RV("loguniform", lo, hi)
        else:
            rvs[name] = pyabc.RV("uniform", lo, hi - lo)
    return pyabc.Distribution(**rvs)


def _evaluation_seed(seed: int, theta: Mapping[str, float]) -> int:
    """Derive one model evaluation's seed from the master seed and the parameter values."""
    blob = json.dumps({k: float(theta[k]) for k in sorted(theta)}, sort_keys=True).encode()
    h = int.from_bytes(hashlib.sha256(blob).digest()[:8], "little")
    return int(np.random.SeedSequence(seed, spawn_key=(h,)).generate_state(1, np.uint64)[0] >> 1)


@dataclass
class _Simulator:
    """The model as pyabc sees it: parameters in, the target quantities out (picklable)."""

    config: CalibrationConfig
    quantities: dict[str, str]  # target id -> quantity name
    counter: Any = None

    def __call__(self, theta: Mapping[str, float]) -> dict[str, float]:
        values = {k: float(theta[k]) for k in self.config.parameters}
        params = Parameters.from_mapping(self.config.fixed | values, source="ABC particle")
        sims = Simulations(
            params, self.config.classrooms, _evaluation_seed(self.config.seed, values)
        )
        out = estimates(sorted(set(self.quantities.values())), sims)
        if self.counter is not None:
            self.counter()
        return {tid: float(out[q].value) for tid, q in self.quantities.items()}


class _Progress:
    """Count model evaluations and log generations, to a log file and standard error."""

    def __init__(self, log: Path | None, every: int = 50, echo: bool = True):
        self.n, self.every, self.t0, self.log, self.echo = 0, every, time.time(), log, echo

    def write(self, msg: str, echo: bool = True) -> None:
        line = f"[{datetime.now(UTC).isoformat(timespec='seconds')}] {msg}"
        if self.echo and echo:
            print(line, file=sys.stderr, flush=True)
        if self.log is not None:
            with self.log.open("a") as fh:
                fh.write(line + "\n")

    def __call__(self) -> None:
        self.n += 1
        if self.n % self.every == 0:
            rate = self.n / (time.time() - self.t0)
            self.write(f"{self.n} model evaluations ({rate:.2f} per second)")


class _LogBridge(logging.Handler):
    def __init__(self, progress: _Progress):
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if msg.startswith(("t:", "Accepted", "Stop", "Stopping")):
            self.progress.write("pyabc: " + msg, echo=False)  # pyabc prints it itself


class CalibrationInterrupted(KeyboardInterrupt):
    """A calibration was interrupted (Ctrl-C); its finished generations stay in ``abc.db``.

    Attributes
    ----------
    folder : Path
    done, total : int
        Generations finished (kept in the database) and asked for.
    """

    def __init__(self, folder: Path, done: int, total: int) -> None:
        super().__init__(f"{folder}: interrupted after {done} of {total} generations")
        self.folder, self.done, self.total = folder, done, total


@dataclass
class CalibrationResult:
    r"""A finished (or stopped) calibration run.

    Attributes
    ----------
    folder : Path
    posterior : pandas.DataFrame
        The last generation's particles: one column per parameter and ``weight`` (sums to 1).
    summary : pandas.DataFrame
        Per parameter: prior range, posterior median, 5% and 95% quantiles, mean, SD
        (:func:`posterior_summary`).
    populations : pandas.DataFrame
        Per generation: ``t``, ``temperature`` (pyabc's epsilon), ``samples`` (evaluations),
        ``particles``, ``acceptance``, ``ess``.
    ess : float
        Effective sample size of the last generation, :math:`(\sum w)^2/\sum w^2`.
    config : CalibrationConfig
    """

    folder: Path
    posterior: pd.DataFrame
    summary: pd.DataFrame
    populations: pd.DataFrame
    ess: float
    config: CalibrationConfig


def _weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x)
    x, w = x[order], w[order]
    c = np.cumsum(w) - 0.5 * w
    return float(np.interp(q, c / w.sum(), x))


def posterior_summary(
    posterior: pd.DataFrame, parameters: Sequence[str] | None = None
) -> pd.DataFrame:
    """Median, 5% and 95% quantiles, mean and SD of each parameter under weighted particles.

    Parameters
    ----------
    posterior : pandas.DataFrame
        Parameter columns and ``weight``.
    parameters : sequence of str, optional
        Default: every column but ``weight``.

    Returns
    -------
    pandas.DataFrame
        Indexed by parameter: ``default, prior_low, prior_high, median, q05, q95, mean, sd,
        ess`` (weighted quantiles by linear interpolation of the weighted empirical CDF).

    Examples
    --------
    >>> post = pd.DataFrame({"learning_rate": [0.02, 0.03, 0.04], "weight": [0.25, 0.5, 0.25]})
    >>> round(float(posterior_summary(post).loc["learning_rate", "median"]), 4)
    0.03
    """
    names = list(parameters or [c for c in posterior.columns if c != "weight"])
    w = posterior["weight"].to_numpy(dtype=float)
    w = w / w.sum()
    ranges = plausible_ranges(names)
    rows = []
    for n in names:
        x = posterior[n].to_numpy(dtype=float)
        mean = float(np.sum(w * x))
        rows.append(
            {
                "parameter": n,
                "default": float(ranges.loc[n, "default"]),
                "prior_low": float(ranges.loc[n, "low"]),
                "prior_high": float(ranges.loc[n, "high"]),
                "median": _weighted_quantile(x, w, 0.5),
                "q05": _weighted_quantile(x, w, 0.05),
                "q95": _weighted_quantile(x, w, 0.95),
                "mean": mean,
                "sd": float(np.sqrt(np.sum(w * (x - mean) ** 2))),
                "ess": float(1.0 / np.sum(w**2)),
            }
        )
    return pd.DataFrame(rows).set_index("parameter")


def _history_tables(history: Any, parameters: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    df, w = history.get_distribution(m=0, t=history.max_t)
    post = df[list(parameters)].reset_index(drop=True).astype(float)
    post["weight"] = np.asarray(w, dtype=float) / np.sum(w)
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    rows = []
    for r in pops.itertuples():
        _, wt = history.get_distribution(m=0, t=int(r.t))
        wt = np.asarray(wt, dtype=float)
        rows.append(
            {
                "t": int(r.t),
                "temperature": float(r.epsilon),
                "samples": int(r.samples),
                "particles": int(r.particles),
                "acceptance": float(r.particles) / float(r.samples) if r.samples else math.nan,
                "ess": float(wt.sum() ** 2 / np.sum(wt**2)),
                "end_time": str(r.population_end_time),
            }
        )
    return post, pd.DataFrame(rows)


def calibrate(
    config: CalibrationConfig | None = None,
    folder: str | Path = "runs/calibration",
    *,
    observed: Mapping[str, float] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    sampler: Any = None,
    figures: bool = True,
    targets: pd.DataFrame | None = None,
) -> CalibrationResult:
    """Run (or continue) an ABC-SMC calibration into a run folder.

    Parameters
    ----------
    config : CalibrationConfig, optional
        Default :func:`load_config()`.
    folder : str or Path
        Run folder; holds pyabc's database ``abc.db``, ``config.json``, ``progress.log`` and,
        at the end, ``posterior.csv``, ``posterior_summary.csv``, ``populations.csv``,
        ``manifest.json`` and ``figures/posterior_pairs.png``.
    observed : mapping, optional
        Values of the targets to fit, by target id, instead of the published ones (e.g.
        synthetic targets made by the model, for :func:`coverage_check`); their SDs stay the
        targets file's.
    resume : bool
        Continue the run in ``folder`` (same configuration) for the generations it has left.
    overwrite : bool
        Replace a run in ``folder``.
    progress : bool
        Log generations and model evaluations to standard error (and always to
        ``progress.log``).
    sampler : pyabc sampler, optional
        E.g. :class:`pyabc.sampler.DaskDistributedSampler` for a cluster; default one core, or
        :class:`pyabc.sampler.MulticoreEvalParallelSampler` with ``config.workers`` > 1.
    figures : bool
        Draw the pair plot.
    targets : pandas.DataFrame, optional
        Targets table (as :func:`toolkit.calibration.targets.load_targets` returns) instead
        of the repository's file.

    Returns
    -------
    CalibrationResult

    Raises
    ------
    CalibrationInterrupted
        On Ctrl-C: the finished generations stay in ``abc.db`` (``manifest.json`` says
        ``interrupted``) and ``resume=True`` continues from them.
    """
    pyabc = require("pyabc", "Calibration by ABC-SMC")

    config = config or load_config()
    folder = Path(folder)
    cfg_path, db_path = folder / "config.json", folder / "abc.db"
    targets = load_targets(known=True) if targets is None else targets
    missing = [t for t in config.targets if t not in targets.index]
    if missing:
        raise TargetsError(f"calibration: target id(s) {missing} are not in the targets file.")
    rows = targets.loc[list(config.targets)]
    centers = {tid: target_scale(rows.loc[tid]) for tid in config.targets}
    obs = {tid: c for tid, (c, _) in centers.items()}
    if observed is not None:
        obs = {tid: float(observed[tid]) for tid in config.targets}
    record = config.to_dict() | {"observed": obs, "scales": {k: s for k, (_, s) in centers.items()}}
    if overwrite and resume:
        raise ValueError("Choose either overwrite or resume, not both.")
    if folder.exists() and any(folder.iterdir()):
        if resume:
            old = json.loads(cfg_path.read_text()) if cfg_path.is_file() else None
            free = ("generations", "min_acceptance", "workers")  # may change on resume
            new = json.loads(json.dumps(record, default=str))
            if old is None or {k: v for k, v in old.items() if k not in free} != {
                k: v for k, v in new.items() if k not in free
            }:
                from toolkit.study.spec import describe_changes

                what = (
                    describe_changes(
                        {k: v for k, v in old.items() if k not in free},
                        {k: v for k, v in new.items() if k not in free},
                    )
                    if old is not None
                    else None
                )
                raise ValueError(
                    f"{folder}: cannot resume, the calibration there was set up differently: "
                    f"{what or f'{cfg_path} is missing'} (see {cfg_path}). Use overwrite or "
                    "another folder (or undo the change)."
                )
        elif overwrite:
            if not cfg_path.is_file():
                raise ValueError(f"{folder}: not a calibration run folder; nothing was changed.")
            for p in sorted(folder.rglob("*"), reverse=True):
                p.unlink() if p.is_file() else p.rmdir()
        else:
            raise ValueError(
                f"{folder}: already holds a calibration run; pass resume=True (--resume) to "
                "continue it or overwrite=True (--overwrite) to replace it. Nothing was changed."
            )
    elif resume:
        raise ValueError(f"{folder}: nothing to resume.")
    folder.mkdir(parents=True, exist_ok=True)
    cfg_path.write_text(json.dumps(record, indent=2, default=str))
    log = _Progress(folder / "progress.log", echo=progress)
    counter = log if (config.workers == 1 and sampler is None) else None
    sim = _Simulator(
        config, {tid: str(rows.loc[tid, "quantity"]) for tid in config.targets}, counter
    )
    keys = list(config.targets)
    var = [centers[k][1] ** 2 for k in keys]
    if sampler is None:
        sampler = (
            pyabc.sampler.SingleCoreSampler()
            if config.workers == 1
            else pyabc.sampler.MulticoreEvalParallelSampler(n_procs=config.workers)
        )
    abc = pyabc.ABCSMC(
        sim,
        _prior(config.parameters),
        pyabc.IndependentNormalKernel(var=var, keys=keys),
        population_size=config.population,
        eps=pyabc.Temperature(),
        acceptor=pyabc.StochasticAcceptor(),
        sampler=sampler,
    )
    state = np.random.get_state()  # noqa: NPY002 - pyabc samples from the global state
    logger = logging.getLogger("ABC")
    bridge = _LogBridge(log)
    old_level = logger.level
    logger.addHandler(bridge)
    logger.setLevel(logging.INFO)
    # pyabc prints generations through its own handler; silence it without progress
    own = [(h, h.level) for h in logger.handlers if h is not bridge]
    try:
        if not progress:
            for h, _ in own:
                h.setLevel(logging.WARNING)
        db = f"sqlite:///{db_path.resolve()}"
        if resume and db_path.is_file():
            history = abc.load(db, 1)
            done = history.n_populations
            np.random.seed((config.seed + 7919 * done) % 2**32)  # noqa: NPY002
            log.write(f"resuming after {done} generation(s)")
        else:
            history = abc.new(db, obs)
            done = 0
            np.random.seed(config.seed % 2**32)  # noqa: NPY002
            log.write(
                f"calibrating {list(config.parameters)} on {keys}: population "
                f"{config.population}, at most {config.generations} generations, "
                f"{config.classrooms} classrooms per arm"
            )
        left = max(config.generations - done, 0)
        if left:
            try:
                history = abc.run(
                    max_nr_populations=left, min_acceptance_rate=config.min_acceptance
                )
            except KeyboardInterrupt:
                kept = int(history.n_populations)
                log.write(f"interrupted after {kept} finished generation(s), kept in {db_path}")
                manifest = {
                    "config": record,
                    "status": "interrupted",
                    "stopped": datetime.now(UTC).isoformat(timespec="seconds"),
                    "generations": kept,
                    "database": "abc.db (pyabc History, sqlite)",
                }
                (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
                raise CalibrationInterrupted(folder, kept, config.generations) from None
    finally:
        np.random.set_state(state)  # noqa: NPY002
        logger.removeHandler(bridge)
        logger.setLevel(old_level)
        for h, lvl in own:
            h.setLevel(lvl)
    post, pops = _history_tables(history, config.parameters)
    summary = posterior_summary(post, config.parameters)
    ess = float(1.0 / np.sum(post["weight"].to_numpy() ** 2))
    post.to_csv(folder / "posterior.csv", index=False)
    summary.to_csv(folder / "posterior_summary.csv")
    pops.to_csv(folder / "populations.csv", index=False)
    reached = bool(len(pops) and abs(pops["temperature"].iloc[-1] - 1.0) < 1e-9)
    manifest = {
        "config": record,
        "status": "complete",
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "generations": len(pops),
        "evaluations": int(pops["samples"].sum()) if len(pops) else 0,
        "temperature_reached_1": reached,
        "ess": ess,
        "database": "abc.db (pyabc History, sqlite)",
        "reproducible": config.workers == 1 and not resume,
    }
    from toolkit._base.provenance import provenance

    manifest |= provenance()
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    if figures:
        import matplotlib.pyplot as plt

        from toolkit.calibration.charts import plot_posterior_pairs
        from toolkit.charts.style import save_figure

        axes = plot_posterior_pairs(post, config.parameters)
        fig = axes[0, 0].figure
        save_figure(
            fig,
            folder / "figures" / "posterior_pairs",
            formats=("png",),
            provenance=(
                f"ABC-SMC | {len(pops)} generations | population {config.population} | "
                f"{config.classrooms} classrooms/arm | seed {config.seed} | ESS {ess:.0f}"
            ),
        )
        plt.close(fig)
    if not reached:
        log.write(
            "warning: the temperature did not reach 1 (stopped by the generation limit or the "
            "acceptance rate): the particles are not yet a sample of the posterior; continue "
            "with --resume and more generations"
        )
    return CalibrationResult(folder, post, summary, pops, ess, config)


def load_posterior(path: str | Path) -> pd.DataFrame:
    """Read a posterior file (``posterior.csv``: parameter columns and ``weight``).

    Raises
    ------
    ValueError
        If the file is missing, has no ``weight`` column, or names unknown parameters.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "posterior.csv"
    if not path.is_file():
        raise ValueError(f"{path}: no such posterior file (run the calibration first).")
    df = pd.read_csv(path)
    if "weight" not in df.columns or len(df) < 1:
        raise ValueError(f"{path}: a posterior file needs a 'weight' column and at least one row.")
    unknown = [c for c in df.columns if c != "weight" and c not in Parameters.names()]
    if unknown:
        raise ValueError(f"{path}: unknown parameter column(s) {unknown}.")
    if (df["weight"] < 0).any() or df["weight"].sum() <= 0:
        raise ValueError(f"{path}: weights must be non-negative with a positive sum.")
    return df


def sample_posterior(posterior: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """Draw ``n`` parameter sets from weighted particles (systematic resampling).

    Systematic resampling (Kitagawa 1996) keeps the draws spread over the particles in
    proportion to their weights, with less noise than independent draws.

    Examples
    --------
    >>> post = pd.DataFrame({"learning_rate": [0.02, 0.03], "weight": [0.25, 0.75]})
    >>> sample_posterior(post, 4, seed=1)["learning_rate"].tolist()
    [0.02, 0.03, 0.03, 0.03]
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a whole number >= 1, got {n!r}.")
    w = posterior["weight"].to_numpy(dtype=float)
    c = np.cumsum(w / w.sum())
    u = (np.random.default_rng(seed).random() + np.arange(n)) / n
    idx = np.minimum(np.searchsorted(c, u), len(w) - 1)
    cols = [col for col in posterior.columns if col != "weight"]
    return posterior.iloc[idx][cols].reset_index(drop=True)


def posterior_predictive(
    posterior: pd.DataFrame,
    names: Sequence[str] | None = None,
    *,
    draws: int = 20,
    classrooms: int = 100,
    seed: int = MASTER_SEED,
    fixed: Mapping[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
    mappings: Mapping[str, Any] | None = None,
    unavailable: str = "raise",
) -> pd.DataFrame:
    r"""Compute quantities over posterior draws: the model's values with parameter uncertainty.

    Every draw runs the same classrooms (seed ``seed``), so the spread over draws is the
    parameters' uncertainty; each draw's Monte Carlo SE is the classroom sampling.
    ``mappings`` and ``unavailable`` are passed to
    :func:`toolkit.calibration.quantities.compute` (trial-record quantities, and quantities
    the model cannot compute yet, which keep a row with no value and the reason in ``note``).

    Returns
    -------
    pandas.DataFrame
        Per quantity: ``value`` (median over draws), ``ci_low``, ``ci_high`` (2.5% and 97.5%
        over draws, widened by each draw's Monte Carlo error: quantiles of the mixture of
        normals :math:`N(v_d, se_d^2)`), ``se`` (the predictive SD,
        :math:`\sqrt{\operatorname{Var}_d v_d + \overline{se^2}}`: parameters and classroom
        sampling, what :func:`toolkit.calibration.targets.evaluate` compares with a target's
        SD), ``mc_se`` (the root mean square Monte Carlo SE alone), ``draws``.
    """
    sample = sample_posterior(posterior, draws, seed)
    frames = []
    for i, row in sample.iterrows():
        params = Parameters.from_mapping(dict(fixed or {}) | row.to_dict(), source="posterior draw")
        sims = Simulations(params, classrooms, seed)
        frames.append(
            compute(names, sims=sims, mappings=mappings, unavailable=unavailable).assign(draw=i)
        )
        if progress is not None:
            progress(i + 1)
    allq = pd.concat(frames, ignore_index=True)
    rng = np.random.default_rng(seed)
    rows = []
    for q, g in allq.groupby("quantity", sort=False):
        note = g["note"].iloc[0] if "note" in g else ""
        g = g[g["value"].notna()]
        if g.empty:  # the model cannot compute it yet
            rows.append({"quantity": q, "value": math.nan, "se": math.nan, "note": note})
            continue
        v, se = g["value"].to_numpy(), g["se"].to_numpy()
        mix = v[:, None] + se[:, None] * rng.standard_normal((len(v), 400))
        rows.append(
            {
                "quantity": q,
                "value": float(np.median(v)),
                "ci_low": float(np.quantile(mix, 0.025)),
                "ci_high": float(np.quantile(mix, 0.975)),
                "se": float(np.sqrt(v.var(ddof=1) + np.mean(se**2)))
                if len(v) > 1
                else float(se[0]),
                "mc_se": float(np.sqrt(np.mean(se**2))),
                "draws": len(v),
                "note": note,
            }
        )
    return pd.DataFrame(rows)


def coverage_check(
    config: CalibrationConfig,
    folder: str | Path,
    *,
    replications: int = 10,
    levels: Sequence[float] = (0.5, 0.9),
    seed: int = 1,
    progress: bool = False,
    targets: pd.DataFrame | None = None,
) -> pd.DataFrame:
    r"""Check by simulation-based calibration that the posterior covers known parameters.

    For each replication, true parameters :math:`\theta^*` are drawn from the prior, the
    model makes synthetic targets :math:`t^* = m(\theta^*) + \varepsilon`,
    :math:`\varepsilon_k \sim N(0, s_k^2)` (on classrooms of their own seed), and the
    calibration is run on them. A correct posterior contains :math:`\theta^*` in its central
    :math:`\ell` interval with probability :math:`\ell`, and the rank of :math:`\theta^*` among
    posterior draws is uniform (Talts et al. 2018).

    Parameters
    ----------
    config : CalibrationConfig
    folder : path
        One run folder per replication is made inside (``rep-000`` ...), resumable.
    replications : int
    levels : sequence of float
        Central interval levels checked.
    seed : int
    progress : bool
    targets : pandas.DataFrame, optional
        Targets table instead of the repository's file.

    Returns
    -------
    pandas.DataFrame
        One row per replication and parameter: ``replication, parameter, truth, median,
        rank`` (share of posterior weight below the truth), ``covered_<level>`` for each
        level (:func:`posterior_ranks`) and ``temperature``, the last generation's (1 when
        the particles are a sample of the posterior). ``attrs["coverage"]`` holds the share
        covered per parameter and level; :func:`coverage_tests` tests them.
    """
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    prior_r = plausible_ranges(config.parameters)
    table = load_targets(known=True) if targets is None else targets
    targets = table.loc[list(config.targets)]
    rows = []
    for rep in range(replications):
        truth = {}
        for n in config.parameters:
            lo, hi = float(prior_r.loc[n, "low"]), float(prior_r.loc[n, "high"])
            u = rng.random()
            truth[n] = (
                float(np.exp(np.log(lo) + u * np.log(hi / lo)))
                if prior_r.loc[n, "scale"] == "log"
                else lo + u * (hi - lo)
            )
        sim = _Simulator(
            replace(config, seed=config.seed + 104_729 * (rep + 1)),
            {tid: str(targets.loc[tid, "quantity"]) for tid in config.targets},
        )
        clean = sim(truth)
        noisy = {
            k: v + target_scale(targets.loc[k])[1] * rng.standard_normal() for k, v in clean.items()
        }
        sub = folder / f"rep-{rep:03d}"
        if (sub / "posterior.csv").is_file():
            post = load_posterior(sub / "posterior.csv")
        else:
            post = calibrate(
                replace(config, seed=config.seed + rep),
                sub,
                observed=noisy,
                resume=(sub / "abc.db").is_file(),
                progress=progress,
                figures=False,
                targets=table,
            ).posterior
        pops = pd.read_csv(sub / "populations.csv")
        temperature = float(pops["temperature"].iloc[-1]) if len(pops) else math.nan
        for row in posterior_ranks(post, truth, levels):
            rows.append({"replication": rep, **row, "temperature": temperature})
    out = pd.DataFrame(rows)
    out.attrs["coverage"] = (
        out.groupby("parameter")[[f"covered_{lv:g}" for lv in levels]].mean().to_dict()
    )
    return out


def posterior_ranks(
    posterior: pd.DataFrame, truth: Mapping[str, float], levels: Sequence[float] = (0.5, 0.9)
) -> list[dict[str, Any]]:
    """Where known true values fall in a weighted posterior: rank and interval coverage.

    Parameters
    ----------
    posterior : pandas.DataFrame
        Particles: parameter columns and ``weight``.
    truth : mapping
        True value of each parameter (the keys are the parameters checked).
    levels : sequence of float
        Central interval levels.

    Returns
    -------
    list of dict
        Per parameter: ``parameter, truth, median, rank`` (posterior weight below the truth)
        and ``covered_<level>`` (the truth inside the central interval of weighted quantiles).

    Examples
    --------
    >>> post = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "weight": [0.25] * 4})
    >>> r = posterior_ranks(post, {"a": 2.5}, levels=(0.5,))[0]
    >>> r["rank"], r["covered_0.5"]
    (0.5, True)
    """
    w = posterior["weight"].to_numpy(dtype=float)
    w = w / w.sum()
    out = []
    for name, value in truth.items():
        x = posterior[name].to_numpy(dtype=float)
        row = {
            "parameter": name,
            "truth": float(value),
            "median": _weighted_quantile(x, w, 0.5),
            "rank": float(w[x < value].sum()),
        }
        for lv in levels:
            lo = _weighted_quantile(x, w, (1 - lv) / 2)
            hi = _weighted_quantile(x, w, (1 + lv) / 2)
            row[f"covered_{lv:g}"] = bool(lo <= value <= hi)
        out.append(row)
    return out


def coverage_tests(checks: pd.DataFrame, bins: int = 4) -> pd.DataFrame:
    r"""Test whether each parameter's posterior is calibrated, from a simulation-based check.

    Per parameter, from the rows of :func:`coverage_check` (one per replication):

    - for every ``covered_<level>`` column, the exact two-sided binomial test that the share
      of replications whose central interval holds the truth is ``level`` (a posterior that is
      too wide covers too often, one too narrow too rarely);
    - the chi-square test that the ranks are uniform on ``bins`` equal bins (Talts et al.
      2018: ranks of the truth pile up in the middle under a too-wide posterior and at the
      ends under a too-narrow or biased one).

    Parameters
    ----------
    checks : pandas.DataFrame
        From :func:`coverage_check` (or rows of :func:`posterior_ranks` with ``replication``).
    bins : int
        Rank bins of the chi-square test (at least 5 replications per bin expected).

    Returns
    -------
    pandas.DataFrame
        ``parameter, test, statistic, expected, p_value`` (``statistic`` is the share covered,
        or the chi-square statistic).
    """
    from scipy import stats

    rows = []
    levels = [c for c in checks.columns if c.startswith("covered_")]
    for name, g in checks.groupby("parameter", sort=False):
        n = len(g)
        for col in levels:
            level = float(col.removeprefix("covered_"))
            k = int(g[col].sum())
            p = float(stats.binomtest(k, n, level).pvalue)
            rows.append(
                {"parameter": name, "test": col, "statistic": k / n, "expected": level,
                 "p_value": p}
            )  # fmt: skip
        counts = np.histogram(np.clip(g["rank"], 0, 1), bins=bins, range=(0, 1))[0]
        chi = stats.chisquare(counts)
        rows.append(
            {"parameter": name, "test": f"ranks uniform ({bins} bins)",
             "statistic": float(chi.statistic), "expected": float(bins - 1),
             "p_value": float(chi.pvalue)}
        )  # fmt: skip
    return pd.DataFrame(rows)
