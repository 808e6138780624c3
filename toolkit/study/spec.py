"""Study files: a TOML description of a simulation study, parsed and checked.

A study file says which arms (regimes, blends or per-year schedules) to compare, on how many
classrooms, for how many years, with which parameters, under which master seed; optionally a
sweep of one parameter. Example (``simulations/headline.toml``)::

    [study]
    name = "headline"
    title = "Four learning regimes on the same classrooms"
    seed = 20261125
    classrooms = 200
    # schools = 50      # optional: classrooms nested in schools (4 each), see StudySpec.schools
    years = 1
    engine = "fast"
    kernel = "fast"
    reference = "standardized"
    # keep = "classrooms"   # keep only classroom-level rows, no student table (same numbers)

    [arms]
    standardized = "standardized"
    individualized = "individualized"
    personalized = "personalized"
    personal = "personal"
    # an arm can also be a blend, a table of axes, or a list with one regime per year:
    # transition = ["personalized", "blend(personalized, personal, 0.5)", "personal"]

    [parameters]
    n_students = 25
    # or run over posterior draws of the calibrated parameters (toolkit.calibration):
    # from = "posterior"
    # posterior = "runs/calibration/posterior.csv"
    # draws = 20

    [sweep]            # optional
    parameter = "teacher_capacity"
    values = [0.25, 0.5, 1.0, 2.0]

    [output]
    folder = "runs/headline"
    formats = ["png", "svg"]

    [robustness]       # optional: a sampling design over the plausible ranges, with claims
    parameters = ["teacher_capacity", "zpd_width"]   # see toolkit.robustness.spec
    design = "sobol"
    n = 256
    claims = ["personalized - individualized > 0 on effect_size"]

Every error names the file, the table and key, and what was expected.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit._base import plugins
from toolkit._base.checks import check_keys
from toolkit.model.model import resolve_schedule
from toolkit.model.params import ParameterError, Parameters, suggest_name
from toolkit.model.regimes import PRESETS, Regime, resolve_regime

__all__ = [
    "StudyError",
    "StudySpec",
    "changed_settings",
    "describe_changes",
    "fingerprint_core",
    "load_study",
    "parse_study",
    "read_study_file",
]

ENGINES = ("fast", "mesa")
#: What a run keeps: every student row, or only classroom-level rows (see :class:`StudySpec`).
KEEP = ("students", "classrooms")
#: Kernels of the school days for ``engine = "fast"`` (see :mod:`toolkit.engine.fast`).
KERNELS = ("fast", "exact", "numpy")
FORMATS = ("png", "svg", "pdf")
_TABLES = {
    "study": {
        "name",
        "title",
        "description",
        "seed",
        "classrooms",
        "years",
        "engine",
        "kernel",
        "reference",
        "chunk_size",
        "decomposition",
        "keep",
        "schools",
    },
    "arms": None,  # free keys: arm names
    "parameters": None,  # checked against Parameters
    "sweep": {"parameter", "values", "axis"},
    "output": {"folder", "formats", "charts"},
    "robustness": None,  # checked by toolkit.robustness.spec.parse_robustness
    "cohort": None,  # checked by toolkit.realcohort (a study on the real classes of a data file)
}


class StudyError(ValueError):
    """A study file is missing, not valid TOML, or has a missing, unknown or invalid key."""


@dataclass(frozen=True)
class StudySpec:
    """A parsed, validated study.

    Attributes
    ----------
    name, title, description : str
    seed : int
        The master seed; classroom ``i`` uses ``classroom_seed(seed, i)`` in every arm.
    classrooms : int
        Replicate classrooms per arm (and per sweep point).
    years : int
        School years simulated per classroom.
    engine : {"fast", "mesa"}
        Vectorized engine (default) or the Mesa reference model.
    kernel : {"fast", "exact", "numpy"}
        The engine's kernel of the school days: ``"fast"`` (default; its own counter-based
        random numbers, the Mesa model's distributions), ``"exact"`` or ``"numpy"`` (the Mesa
        model's numbers on the same seeds, to ``rtol=1e-12``). Recorded in the manifest.
    reference : str
        Arm that differences and effect sizes are computed against.
    arms : dict
        Arm name -> raw regime spec (string, table or per-year list), as written.
    parameters : dict
        Parameter overrides, as written.
    sweep_parameter : str or None
        Name of a model parameter or a regime axis (``axis = true``) to sweep.
    sweep_values : list
    sweep_is_axis : bool
        Whether the swept name is a regime axis (applied to every arm) rather than a parameter.
    folder : str
        Default output folder (relative to the working directory).
    formats : tuple of str
        Chart file formats.
    chunk_size : int
        Classrooms per work unit (also the unit of resuming).
    decomposition : int
        Classrooms (the first ones) on which every arm's difference from the reference is
        decomposed into its channels (:func:`toolkit.study.decompose.decompose`); 0 = none.
    keep : {"students", "classrooms"}
        What the run folder keeps: every student row (``students.parquet/``, the default) or
        only classroom-level rows (the classroom table, summary and tails; the student columns
        the analysis needs are kept in ``parts/`` until the run completes, then deleted). The
        numbers are the same either way.
    schools : int
        Schools the classrooms are nested in (``[study] schools``); 0 when the study file does
        not say (then each classroom is a school of its own unless ``[parameters]`` sets
        ``classrooms_per_school``). With ``schools = S`` the ``classrooms`` (a multiple of
        ``S``) form ``S`` schools of ``K = classrooms / S`` consecutive classrooms: classroom
        ``i`` is in school ``i // K`` (``classrooms_per_school = K``,
        :func:`toolkit.model.cohort.school_seed`), in every arm, and the run's tables get a
        ``school`` column.
    source : str
        File the spec was read from (for messages and the manifest).
    overrides : tuple of (str, str, object)
        Settings changed after reading ``source`` (e.g. on the command line), as
        ``(option as given, setting, value)``: ``("--set teacher_capacity=1.0",
        "parameters.teacher_capacity", 1.0)``. Their values are already in the fields above;
        this records where they came from, for the manifest and the charts' provenance line.
    parameters_from : {"defaults", "posterior"}
        ``"posterior"``: every point is a draw of the parameters from ``posterior`` (a
        calibration's ``posterior.csv``), over the same classrooms, so results carry
        parameter uncertainty besides classroom sampling (:mod:`toolkit.calibration.predict`).
    posterior : str
        Path of the posterior file (with ``parameters_from = "posterior"``).
    posterior_draws : int
        Parameter draws (systematic resampling of the weighted particles with the seed).
    """

    name: str
    title: str = ""
    description: str = ""
    seed: int = 0
    classrooms: int = 100
    years: int = 1
    engine: str = "fast"
    kernel: str = "fast"
    reference: str = "standardized"
    arms: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    sweep_parameter: str | None = None
    sweep_values: list[Any] = field(default_factory=list)
    sweep_is_axis: bool = False
    folder: str = ""
    formats: tuple[str, ...] = ("png", "svg")
    chunk_size: int = 50
    decomposition: int = 60
    keep: str = "students"
    schools: int = 0
    source: str = "<study>"
    overrides: tuple[tuple[str, str, Any], ...] = ()
    robustness: Any = None  # toolkit.robustness.spec.RobustnessSpec: design points as points
    parameters_from: str = "defaults"
    posterior: str = ""
    posterior_draws: int = 0
    cohort: Any = None  # toolkit.realcohort.DataCohort: classrooms are a data file's classes

    # --------------------------------------------------------------------------------------------
    def base_parameters(self) -> Parameters:
        """Model parameters with the study's overrides (no sweep applied)."""
        return Parameters.from_mapping(self.parameters, source=f"{self.source} [parameters]")

    def posterior_draws_table(self) -> Any:
        """Return the parameter draws of a ``from = "posterior"`` study, one row per draw."""
        load_posterior = plugins.load("study.posterior.load")  # toolkit.calibration.abc's
        sample_posterior = plugins.load("study.posterior.sample")
        post = load_posterior(self.posterior)
        return sample_posterior(post, self.posterior_draws, self.seed)

    def points(self) -> list[tuple[Any, Parameters, dict[str, list[Regime]]]]:
        """Sweep points: ``(value, parameters, {arm: per-year regimes})``; one point if no sweep.

        With a ``[robustness]`` table, the design points: ``value`` is the dict of the point's
        design values (see :meth:`toolkit.robustness.spec.RobustnessSpec.points`).

        With ``parameters_from = "posterior"`` every point is a posterior draw: ``value`` is
        the draw's number and the parameters are the study's with the draw's values.
        """
        if self.robustness is not None:
            return self.robustness.points(self)
        if self.cohort is not None:
            return self.cohort.points(self)
        base = self.base_parameters()
        if self.parameters_from == "posterior":
            arms = {
                a: resolve_schedule(s, self.years, f"{self.source} [arms] {a}")
                for a, s in self.arms.items()
            }
            draws = self.posterior_draws_table()
            return [(i, base.replace(**row.to_dict()), arms) for i, row in draws.iterrows()]
        values = self.sweep_values if self.sweep_parameter else [None]
        out = []
        for v in values:
            params = base
            arms = {
                a: resolve_schedule(s, self.years, f"{self.source} [arms] {a}")
                for a, s in self.arms.items()
            }
            if self.sweep_parameter and not self.sweep_is_axis:
                params = base.replace(**{self.sweep_parameter: v})
            elif self.sweep_parameter:
                arms = {
                    a: [r.replace(**{self.sweep_parameter: v}) for r in regs]
                    for a, regs in arms.items()
                }
            out.append((v, params, arms))
        return out

    def resolved(self) -> dict[str, Any]:
        """Return the study as resolved: every parameter and arm's regimes, JSON-friendly."""
        out = self._resolved()
        if self.robustness is not None:  # only then, so other studies' fingerprints stay
            out["robustness"] = self.robustness.resolved()
        if self.cohort is not None:
            out["cohort"] = self.cohort.resolved()
        if self.schools:  # only then, so other studies' fingerprints stay
            out["schools"] = self.schools
        return out

    def nesting(self) -> str | None:
        """Say how the classrooms nest in schools (None when every classroom is its own school).

        Examples
        --------
        >>> spec = parse_study({"study": {"name": "n", "seed": 1, "classrooms": 12, "schools": 4}})
        >>> print(spec.nesting())
        12 classrooms in 4 schools of 3 (classroom i is in school i // 3, in every arm)
        """
        if self.cohort is not None:
            return None
        k = int(self.base_parameters().classrooms_per_school)
        if k <= 1:
            return None
        n = -(-self.classrooms // k)
        sizes = (
            f"of {k}" if self.classrooms % k == 0 else f"of {k} (the last of {self.classrooms % k})"
        )
        return (
            f"{self.classrooms} classrooms in {n} schools {sizes} (classroom i is in school "
            f"i // {k}, in every arm)"
        )

    def _resolved(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "seed": self.seed,
            "classrooms": self.classrooms,
            "years": self.years,
            "engine": self.engine,
            "kernel": self.kernel,
            "reference": self.reference,
            "chunk_size": self.chunk_size,
            "decomposition": self.decomposition,
            "keep": self.keep,
            "parameters": self.base_parameters().to_dict(),
            "arms": {
                a: [r.to_dict() for r in resolve_schedule(s, self.years)]
                for a, s in self.arms.items()
            },
            "sweep": (
                {
                    "parameter": self.sweep_parameter,
                    "values": self.sweep_values,
                    "axis": self.sweep_is_axis,
                }
                if self.sweep_parameter
                else None
            ),
            **(
                {"posterior": self._posterior_record()}
                if self.parameters_from == "posterior"
                else {}
            ),
        }

    def _posterior_record(self) -> dict[str, Any]:
        path = Path(self.posterior)
        return {
            "file": str(path),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()[:16],
            "draws": self.posterior_draws,
            "values": self.posterior_draws_table().to_dict(orient="records"),
        }

    def fingerprint(self) -> str:
        """Hash of what determines the numbers (not the output options); for safe resuming."""
        core = fingerprint_core(self.resolved())
        blob = json.dumps(core, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def fingerprint_core(resolved: Mapping[str, Any]) -> dict[str, Any]:
    """Return the part of a resolved study that determines the numbers (what is hashed).

    ``resolved`` is :meth:`StudySpec.resolved` or a run manifest's ``study``; the result is
    what :meth:`StudySpec.fingerprint` hashes.
    """
    core = dict(resolved)
    for k in ("chunk_size", "decomposition", "keep", "title", "description"):
        core.pop(k, None)
    engine = core.pop("engine", None)
    # the Mesa model and the exact and numpy kernels give the same numbers; the fast
    # kernel other draws from the same distributions
    core["kernel"] = "fast" if engine == "fast" and core.get("kernel") == "fast" else "exact"
    cohort = core.get("cohort")
    if isinstance(cohort, Mapping):  # a data file's classes: its hash, not where it lies
        data = {k: v for k, v in dict(cohort.get("data", {})).items() if k != "source"}
        if isinstance(data.get("codebook"), Mapping):
            data["codebook"] = {"sha256": data["codebook"].get("sha256")}
        mapping = dict(cohort.get("mapping", {}))
        core["cohort"] = dict(cohort) | {
            "data": data,
            "mapping": {k: v for k, v in mapping.items() if k not in ("data", "codebook")},
        }
    return core


def changed_settings(old: Any, new: Any, prefix: str = "", limit: int = 60) -> list[str]:
    """List the settings that differ between two resolved studies, as ``"key: old -> new"``.

    Nested tables give dotted keys (``parameters.teacher_capacity: 1.0 -> 2.0``); a key only
    one side has shows ``(none)`` on the other; long values are cut to ``limit`` characters.

    Examples
    --------
    >>> changed_settings({"seed": 1, "p": {"a": 1, "b": 2}}, {"seed": 1, "p": {"a": 3, "b": 2}})
    ['p.a: 1 -> 3']
    """

    def show(v: Any) -> str:
        text = "(none)" if v is _MISSING else json.dumps(v, default=str)
        return text if len(text) <= limit else text[: limit - 3] + "..."

    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out = []
        for k in list(dict.fromkeys([*old, *new])):
            key = f"{prefix}.{k}" if prefix else str(k)
            out += changed_settings(old.get(k, _MISSING), new.get(k, _MISSING), key, limit)
        return out
    same = json.dumps(old, sort_keys=True, default=str) == json.dumps(
        new, sort_keys=True, default=str
    )
    return [] if same else [f"{prefix}: {show(old)} -> {show(new)}"]


_MISSING = object()


def describe_changes(old: Any, new: Any, most: int = 8) -> str | None:
    """Say which settings changed, for a refusal to resume: None if none differ.

    Returns
    -------
    str or None
        ``"changed seed: 3 -> 4; ... (the run's value -> now)"``, listing at most ``most``
        of :func:`changed_settings` and counting the rest.

    Examples
    --------
    >>> describe_changes({"seed": 3}, {"seed": 4})
    "changed seed: 3 -> 4 (the run's value -> now)"
    """
    changes = changed_settings(old, new)
    if not changes:
        return None
    more = f" and {len(changes) - most} more" if len(changes) > most else ""
    return "changed " + "; ".join(changes[:most]) + more + " (the run's value -> now)"


def _require(table: Mapping[str, Any], key: str, types: type | tuple, what: str, where: str) -> Any:
    if key not in table:
        raise StudyError(f"{where}: missing key '{key}' ({what}).")
    value = table[key]
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise StudyError(f"{where}: '{key}' must be {what}, got {value!r}.")
    if not isinstance(value, types):
        raise StudyError(f"{where}: '{key}' must be {what}, got {value!r}.")
    return value


def _check_keys(
    table: Mapping[str, Any], allowed: set[str], where: str, error: type[Exception] = StudyError
) -> None:
    check_keys(table, allowed, where, error)


def parse_study(
    data: Mapping[str, Any], source: str = "<study>", base: str | Path | None = None
) -> StudySpec:
    """Check a study mapping (as read from TOML) and return a :class:`StudySpec`.

    Parameters
    ----------
    data : mapping
        Tables ``study`` (required), ``arms``, ``parameters``, ``sweep``, ``output``.
    source : str
        File name for messages.
    base : str or Path, optional
        Folder that relative paths of a ``[cohort]`` table are taken from (default: the folder
        of ``source`` if it is a file, else the working directory).

    Returns
    -------
    StudySpec

    Raises
    ------
    StudyError
        Naming the file, table and key, and what was expected.

    Examples
    --------
    >>> spec = parse_study({"study": {"name": "demo", "seed": 1, "classrooms": 4}})
    >>> sorted(spec.arms)
    ['individualized', 'personal', 'personalized', 'standardized']
    """
    _check_keys(data, set(_TABLES), source)
    for name, value in data.items():
        if not isinstance(value, Mapping):
            raise StudyError(f"{source}: '{name}' must be a table ([{name}]), got {value!r}.")
    if "study" not in data:
        raise StudyError(f"{source}: missing table [study] (with at least 'name' and 'seed').")
    st = data["study"]
    where = f"{source} [study]"
    _check_keys(st, _TABLES["study"], where)
    name = _require(st, "name", str, "a short name for the run", where)
    seed = _require(st, "seed", int, "a non-negative whole number (the master seed)", where)
    if seed < 0:
        raise StudyError(f"{where}: 'seed' must be non-negative, got {seed}.")
    classrooms = st.get("classrooms", 100)
    if isinstance(classrooms, bool) or not isinstance(classrooms, int) or classrooms < 2:
        raise StudyError(
            f"{where}: 'classrooms' must be a whole number >= 2 (replicates per arm, needed for "
            f"confidence intervals), got {classrooms!r}."
        )
    years = st.get("years", 1)
    if isinstance(years, bool) or not isinstance(years, int) or years < 1:
        raise StudyError(f"{where}: 'years' must be a whole number >= 1, got {years!r}.")
    engine = st.get("engine", "fast")
    if engine not in ENGINES:
        raise StudyError(
            f"{where}: 'engine' must be one of {list(ENGINES)}, got {engine!r}."
            f"{suggest_name(str(engine), ENGINES)}"
        )
    kernel = st.get("kernel", "fast")
    if kernel not in KERNELS:
        raise StudyError(
            f"{where}: 'kernel' must be one of {list(KERNELS)}, got {kernel!r}."
            f"{suggest_name(str(kernel), KERNELS)}"
        )
    chunk = st.get("chunk_size", classrooms if "robustness" in data else 50)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise StudyError(f"{where}: 'chunk_size' must be a whole number >= 1, got {chunk!r}.")
    decomposition = st.get("decomposition", 60)
    if isinstance(decomposition, bool) or not isinstance(decomposition, int) or decomposition < 0:
        raise StudyError(
            f"{where}: 'decomposition' must be a whole number of classrooms (0 for none), got "
            f"{decomposition!r}."
        )
    if "robustness" in data and chunk < classrooms:
        raise StudyError(
            f"{where}: 'chunk_size' = {chunk} is below 'classrooms' = {classrooms}; a robustness "
            "study runs each design point's classrooms in one work unit (drop chunk_size)."
        )
    keep = st.get("keep", "students")
    if keep not in KEEP:
        raise StudyError(
            f"{where}: 'keep' must be one of {list(KEEP)} (every student row, or only "
            f"classroom-level rows), got {keep!r}.{suggest_name(str(keep), KEEP)}"
        )

    arms_raw = dict(data.get("arms", {name: name for name in PRESETS}))
    if not arms_raw:
        raise StudyError(f"{source} [arms]: no arms; name at least two regimes to compare.")
    for arm, spec in arms_raw.items():
        try:
            resolve_schedule(spec, years, f"{source} [arms] {arm}")
        except ParameterError as exc:
            raise StudyError(str(exc)) from None
        if isinstance(spec, list | tuple) and len(spec) > years:  # the later years would never run
            raise StudyError(
                f"{source} [arms] {arm}: lists {len(spec)} regimes, one per school year, but "
                f"[study] years = {years}, so the last {len(spec) - years} would never run. "
                f"Set years = {len(spec)} or shorten the list (a shorter list is fine: its "
                "last regime continues)."
            )
        if isinstance(spec, Mapping) and "name" not in spec:
            arms_raw[arm] = dict(spec) | {"name": arm}
        elif isinstance(spec, str) and spec != arm:
            base = resolve_regime(spec, f"{source} [arms] {arm}")
            arms_raw[arm] = base.to_dict() | {"name": arm}
    reference = st.get("reference", "standardized")
    if reference not in arms_raw:
        raise StudyError(
            f"{where}: 'reference' = {reference!r} is not one of the arms {list(arms_raw)}."
            f"{suggest_name(str(reference), list(arms_raw))}"
        )
    parameters = dict(data.get("parameters", {}))
    parameters_from, posterior, draws = _parameter_source(parameters, source)
    schools = _schools(st, classrooms, parameters, data, where)
    if schools:
        parameters["classrooms_per_school"] = classrooms // schools
    try:
        base_params = Parameters.from_mapping(parameters, source=f"{source} [parameters]")
    except ParameterError as exc:
        raise StudyError(str(exc)) from None
    cohort = None
    if "cohort" in data:
        if parameters_from != "defaults":
            raise StudyError(
                f"{source} [cohort]: a study on a data file's classes runs on one parameter set, "
                'not over posterior draws ([parameters] from = "posterior").'
            )
        cohort = _parse_cohort(data, st, parameters, base_params, keep, source, base)
        classrooms = cohort.n_classes
        if "chunk_size" not in st:  # one unit per cohort: classes of a size run together
            chunk = classrooms

    sweep_parameter, sweep_values, sweep_is_axis = None, [], False
    if "sweep" in data:
        sw = data["sweep"]
        w = f"{source} [sweep]"
        _check_keys(sw, _TABLES["sweep"], w)
        sweep_parameter = _require(sw, "parameter", str, "the name of a parameter or axis", w)
        sweep_values = list(_require(sw, "values", list, "a list of values", w))
        if not sweep_values:
            raise StudyError(f"{w}: 'values' is empty.")
        sweep_is_axis = bool(sw.get("axis", sweep_parameter in Regime.axes()))
        valid = Regime.axes() if sweep_is_axis else Parameters.names()
        if sweep_parameter not in valid:
            kind = "regime axis" if sweep_is_axis else "parameter"
            raise StudyError(
                f"{w}: unknown {kind} '{sweep_parameter}'.{suggest_name(sweep_parameter, valid)}"
            )
        for v in sweep_values:
            try:
                if sweep_is_axis:
                    Regime().replace(**{sweep_parameter: v})
                else:
                    Parameters.from_mapping(parameters | {sweep_parameter: v}, source=w)
            except ParameterError as exc:
                raise StudyError(f"{w}: value {v!r} for '{sweep_parameter}': {exc}") from None

    robustness = None
    if "robustness" in data:
        if sweep_parameter:
            raise StudyError(f"{source}: a study has either [sweep] or [robustness], not both.")
        parse_robustness = plugins.load("study.robustness")  # toolkit.robustness.spec's
        ry = data["robustness"].get("year")
        if isinstance(ry, int) and not isinstance(ry, bool) and ry > years:
            raise StudyError(
                f"{source} [robustness]: 'year' = {ry} is after the study's last school year "
                f"({years})."
            )
        try:
            robustness = parse_robustness(
                data["robustness"],
                arms=list(arms_raw),
                reference=reference,
                parameters=parameters,
                where=f"{source} [robustness]",
            )
        except ValueError as exc:
            raise StudyError(str(exc)) from None

    if parameters_from == "posterior" and sweep_parameter:
        raise StudyError(
            f"{source}: a study runs either a [sweep] or over posterior draws "
            '([parameters] from = "posterior"), not both.'
        )
    out = data.get("output", {})
    w = f"{source} [output]"
    _check_keys(out, _TABLES["output"], w)
    folder = out.get("folder", f"runs/{name}")
    if not isinstance(folder, str) or not folder:
        raise StudyError(f"{w}: 'folder' must be a path, got {folder!r}.")
    formats = out.get("formats", ["png", "svg"])
    if not isinstance(formats, list) or any(f not in FORMATS for f in formats):
        raise StudyError(
            f"{w}: 'formats' must be a list drawn from {list(FORMATS)}, got {formats!r}."
        )
    return StudySpec(
        name=name,
        title=str(st.get("title", name)),
        description=str(st.get("description", "")),
        seed=seed,
        classrooms=classrooms,
        years=years,
        engine=engine,
        kernel=kernel,
        reference=reference,
        arms=arms_raw,
        parameters=parameters,
        sweep_parameter=sweep_parameter,
        sweep_values=sweep_values,
        sweep_is_axis=sweep_is_axis,
        folder=folder,
        formats=tuple(formats),
        chunk_size=chunk,
        decomposition=min(decomposition, classrooms) if decomposition >= 2 else 0,
        keep=keep,
        schools=schools,
        source=source,
        robustness=robustness,
        parameters_from=parameters_from,
        posterior=posterior,
        posterior_draws=draws,
        cohort=cohort,
    )


def _schools(
    study: Mapping[str, Any],
    classrooms: int,
    parameters: Mapping[str, Any],
    data: Mapping[str, Any],
    where: str,
) -> int:
    """Check ``[study] schools`` (0 when absent): a whole number dividing ``classrooms``."""
    if "schools" not in study:
        return 0
    schools = study["schools"]
    if isinstance(schools, bool) or not isinstance(schools, int) or schools < 1:
        raise StudyError(
            f"{where}: 'schools' must be a whole number >= 1 (the schools the classrooms are "
            f"nested in), got {schools!r}."
        )
    if "cohort" in data:
        raise StudyError(
            f"{where}: 'schools' comes from the data in a study with a [cohort] table (give "
            "'school' in [cohort]); drop 'schools'."
        )
    if schools > classrooms:
        raise StudyError(
            f"{where}: 'schools' = {schools} is more than 'classrooms' = {classrooms}; every "
            "school needs at least one classroom."
        )
    if classrooms % schools:
        lo, hi = classrooms // schools, -(-classrooms // schools)
        raise StudyError(
            f"{where}: 'classrooms' = {classrooms} is not a multiple of 'schools' = {schools}; "
            f"schools have equal numbers of classrooms (e.g. classrooms = {lo * schools} or "
            f"{hi * schools})."
        )
    if "classrooms_per_school" in parameters:
        raise StudyError(
            f"{where}: 'schools' sets classrooms_per_school (classrooms / schools = "
            f"{classrooms // schools}); drop 'classrooms_per_school' from [parameters]."
        )
    sweep = data.get("sweep")
    if isinstance(sweep, Mapping) and sweep.get("parameter") == "classrooms_per_school":
        raise StudyError(
            f"{where}: 'schools' fixes classrooms_per_school, which [sweep] varies; drop one."
        )
    return schools


def _parse_cohort(
    data: Mapping[str, Any],
    study: Mapping[str, Any],
    parameters: Mapping[str, Any],
    params: Parameters,
    keep: str,
    source: str,
    base: str | Path | None,
) -> Any:
    """Check what a ``[cohort]`` study cannot combine with, then read its data and mapping."""
    where = f"{source} [cohort]"
    for table, what in (("sweep", "a [sweep]"), ("robustness", "a [robustness] design")):
        if table in data:
            raise StudyError(
                f"{where}: a study on a data file's classes runs without {what}; run one study "
                "per setting (--set name=value) instead."
            )
    if "classrooms" in study:
        raise StudyError(
            f"{source} [study]: 'classrooms' comes from the data in a study with a [cohort] "
            "table (its classes); drop 'classrooms'."
        )
    if "n_students" in parameters:
        raise StudyError(
            f"{source} [parameters]: 'n_students' comes from the data in a study with a "
            "[cohort] table (each class at its size; give 'class_size' in [cohort] for classes "
            "larger than the pupils listed); drop 'n_students'."
        )
    if "classrooms_per_school" in parameters:
        raise StudyError(
            f"{source} [parameters]: 'classrooms_per_school' comes from the data in a study with "
            "a [cohort] table (give 'school' in [cohort]); drop it."
        )
    if keep != "students":
        raise StudyError(
            f"{source} [study]: a study on a data file's classes keeps its student rows "
            '(keep = "students"); its weighted estimates need them.'
        )
    if base is None:
        base = Path(source).parent if Path(source).is_file() else Path(".")
    DataCohort = plugins.load("study.cohort")
    try:
        cohort = DataCohort(data["cohort"], parameters=params, source=source, base=base)
    except ValueError as exc:
        raise StudyError(str(exc)) from None
    if cohort.n_classes < 2:
        raise StudyError(
            f"{where}: the data has {cohort.n_classes} class; a comparison needs at least 2."
        )
    return cohort


def _parameter_source(parameters: dict[str, Any], source: str) -> tuple[str, str, int]:
    """Pop and check ``from``, ``posterior`` and ``draws`` from a [parameters] table."""
    where = f"{source} [parameters]"
    origin = parameters.pop("from", "defaults")
    posterior = parameters.pop("posterior", None)
    draws = parameters.pop("draws", None)
    if origin not in ("defaults", "posterior"):
        raise StudyError(f'{where}: \'from\' must be "defaults" or "posterior", got {origin!r}.')
    if origin == "defaults":
        if posterior is not None or draws is not None:
            raise StudyError(f"{where}: 'posterior' and 'draws' need from = \"posterior\".")
        return "defaults", "", 0
    if not isinstance(posterior, str) or not posterior:
        raise StudyError(
            f"{where}: from = \"posterior\" needs 'posterior', the path of a calibration's "
            'posterior.csv (e.g. "runs/calibration/posterior.csv").'
        )
    draws = 20 if draws is None else draws
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 2:
        raise StudyError(f"{where}: 'draws' must be a whole number >= 2, got {draws!r}.")
    path = Path(posterior)
    if path.is_dir():
        path = path / "posterior.csv"
    if not path.is_file():
        raise StudyError(
            f"{where}: posterior file {str(path)!r} not found; run the calibration first "
            "(python -m toolkit calibrate) or point 'posterior' at its posterior.csv."
        )
    load_posterior = plugins.load("study.posterior.load")  # toolkit.calibration.abc's
    try:
        post = load_posterior(path)
    except ValueError as exc:
        raise StudyError(f"{where}: {exc}") from None
    clash = sorted(set(parameters) & set(post.columns))
    if clash:
        raise StudyError(
            f"{where}: {clash} are set in the study and drawn from the posterior; remove them "
            "from [parameters]."
        )
    return "posterior", str(path), draws


def load_study(path: str | Path) -> StudySpec:
    """Read and check a study file.

    Parameters
    ----------
    path : str or Path
        A ``.toml`` study file.

    Returns
    -------
    StudySpec

    Raises
    ------
    StudyError
        If the file is missing, is not valid TOML (with the line and column), or its content is
        invalid (see :func:`parse_study`).
    """
    return parse_study(read_study_file(path), source=str(path), base=Path(path).parent)


def read_study_file(path: str | Path) -> dict[str, Any]:
    """Read a study file's TOML tables, unchecked (:func:`parse_study` checks them).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict

    Raises
    ------
    StudyError
        If the file is missing or a folder (listing the study files in it), not UTF-8 text, or
        not valid TOML (with the line and column).
    """
    path = Path(path)
    if path.is_dir():
        found = sorted(p.name for p in path.glob("*.toml"))
        hint = f" Study files in it: {', '.join(found)}." if found else " It has no .toml files."
        raise StudyError(f"{path}: is a folder, not a study file (.toml).{hint}")
    if not path.is_file():
        raise StudyError(f"{path}: no such study file.")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(f"{path}: not valid TOML: {exc}.") from None
    except UnicodeDecodeError:
        raise StudyError(f"{path}: not a UTF-8 text file.") from None
