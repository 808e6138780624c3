"""The ``[robustness]`` table of a study file: which parameters vary, the design, the claims.

Example (every key of the table; ``simulations/headline-robustness.toml`` is a real one)::

    [robustness]
    parameters = ["teacher_capacity", "zpd_width", "engagement_autonomy_weight"]   # or "all"
    design = "sobol"          # "sobol", "morris", "lhs" or "random"
    n = 256                   # base samples (sobol), trajectories (morris) or points
    second_order = false      # sobol only
    metrics = ["effect_size", "sd_score", "mean_pairwise_distance"]   # indices for these
    claims = [
        "personalized - individualized > 0 on effect_size",
        { name = "spread", claim = "only individualized is below standardized on sd_score" },
    ]

    over = "box"              # or "posterior": draws from a calibration's posterior.csv
    # posterior = "simulations/calibrated/engagement-posterior.csv"   # with over = "posterior"

    [robustness.ranges]       # narrow or widen a plausible range, or change its scale
    zpd_width = [0.7, 1.5]
    teacher_capacity = { low = 0.3, high = 1.2, scale = "log" }

    [robustness.region]       # how the failure region of a claim is described
    method = "prim"           # or "tree" (a shallow decision tree)
    max_dims = 3
    min_density = 0.8

Parameters set in ``[parameters]`` are held at that value and left out of ``"all"``. With
``over = "posterior"`` the design's points are ``n`` draws of the calibrated parameters from the
posterior file (``design`` must be ``"random"``, the default then; ``"all"`` means the
posterior's parameters), so a claim's share is its probability under the posterior rather than
its share of the plausible box (:func:`toolkit.robustness.design.posterior_design`). The design
points become the study's points (each with its own parameters), one work unit per point with
all its classrooms, so the runner resumes a killed study and can spread the points over workers.
Claims, metrics and region settings are analysis only: editing them and running again with
``--resume`` re-analyses the finished points without simulating anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.robustness.claims import Claim, ClaimError, parse_claims
from toolkit.robustness.design import (
    DESIGNS,
    Design,
    DesignError,
    make_design,
    posterior_design,
    sampling_ranges,
)

__all__ = ["DEFAULT_METRICS", "RobustnessSpec", "load_study_with", "parse_robustness"]

#: Metrics whose paired differences get sensitivity indices unless a study says otherwise
#: (outcome, spread and diversity; the claims' metrics are always added).
DEFAULT_METRICS = (
    "effect_size",
    "total_learning",
    "engagement",
    "sd_score",
    "p90_p10",
    "matthew",
    "mean_pairwise_distance",
    "diversity_of_excellence",
)

_KEYS = {
    "model",
    "parameters",
    "design",
    "n",
    "second_order",
    "num_levels",
    "seed",
    "ranges",
    "claims",
    "metrics",
    "year",
    "region",
    "resamples",
    "points_per_unit",
    "over",
    "posterior",
}
_REGION = {"method": ("prim", "tree"), "max_dims": int, "min_density": float}


@dataclass(frozen=True)
class RobustnessSpec:
    """A parsed ``[robustness]`` table.

    Attributes
    ----------
    model : str
        Design model (:func:`toolkit.robustness.models.get_model`); ``"classroom"`` by default.
    parameters : "all" or tuple of str
        Varied parameters.
    design : str
        One of :data:`toolkit.robustness.design.DESIGNS`.
    n : int
        Design size (base samples, trajectories or points).
    second_order : bool
    num_levels : int
    seed : int or None
        Seed of the design (default: the study's master seed).
    ranges : dict
        Range overrides as written.
    fixed : tuple of str
        Parameters held fixed by the study's ``[parameters]``.
    claims : tuple of Claim
    metrics : tuple of str
        Metrics whose paired differences get indices.
    arms : tuple of str
        The arms of the model's tables.
    reference : str
    year : int or None
        School year the analysis reads, counted from 1 (default: the last); the tables count
        years from 0, so it reads their ``year == year - 1``.
    region : dict
        ``method``, ``max_dims``, ``min_density``.
    resamples : int
        Bootstrap resamples of the index intervals.
    points_per_unit : int or None
        Design points per work unit (default: 1 for the classroom model, 256 for closed-form
        functions, which are cheap).
    over : {"box", "posterior"}
        Where the design's points come from: the plausible box (the designs of
        :func:`~toolkit.robustness.design.make_design`) or draws from ``posterior``.
    posterior : str
        Path of a calibration's ``posterior.csv`` (with ``over = "posterior"``).
    where : str
        File and table, for messages.
    """

    model: str = "classroom"
    parameters: str | tuple[str, ...] = "all"
    design: str = "sobol"
    n: int = 256
    second_order: bool = False
    num_levels: int = 4
    seed: int | None = None
    ranges: dict[str, Any] = field(default_factory=dict)
    fixed: tuple[str, ...] = ()
    claims: tuple[Claim, ...] = ()
    metrics: tuple[str, ...] = ()
    arms: tuple[str, ...] = ()
    reference: str = ""
    year: int | None = None
    region: dict[str, Any] = field(default_factory=dict)
    resamples: int = 500
    points_per_unit: int | None = None
    over: str = "box"
    posterior: str = ""
    where: str = "[robustness]"

    # ------------------------------------------------------------------------------------------
    def model_object(self):
        """Return the design model (:func:`toolkit.robustness.models.get_model`)."""
        from toolkit.robustness.models import get_model

        return get_model(self.model)

    def make_design(self, study_seed: int) -> Design:
        """Draw the design (deterministic: the same study gives the same points)."""
        seed = study_seed if self.seed is None else self.seed
        if self.over == "posterior":
            from toolkit.calibration.abc import load_posterior

            try:
                post = load_posterior(self.posterior)
            except ValueError as exc:
                raise DesignError(f"{self.where} posterior: {exc}") from None
            return posterior_design(
                post, self.n, seed=seed, parameters=self.parameters, fixed=self.fixed,
                where=self.where,
            )  # fmt: skip
        table = self.model_object().ranges()
        ranges = sampling_ranges(
            table, self.parameters, overrides=self.ranges, fixed=self.fixed, where=self.where
        )
        try:
            return make_design(
                ranges,
                self.design,
                self.n,
                seed=study_seed if self.seed is None else self.seed,
                second_order=self.second_order,
                num_levels=self.num_levels,
            )
        except DesignError as exc:
            raise DesignError(f"{self.where}: {exc}") from None

    def points(self, study: Any) -> list[tuple[dict[str, Any], Any, dict[str, list]]]:
        """Return the study's points: ``(design values, Parameters, {arm: regimes})`` each.

        For the classroom model each point's parameters are the study's with the design values
        applied (validated); for other models the study's parameters are passed unchanged and
        the values travel in the unit.
        """
        from toolkit.model.schedule import resolve_schedule

        design = self.make_design(study.seed)
        base = study.base_parameters()
        arms = {
            a: resolve_schedule(s, study.years, f"{study.source} [arms] {a}")
            for a, s in study.arms.items()
        }
        uses = self.model_object().uses_parameters
        out = []
        for row in design.values.to_dict(orient="records"):
            values = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            out.append((values, base.replace(**values) if uses else base, arms))
        return out

    def units(self, study: Any) -> list[dict[str, Any]]:
        """Return the runner's work units: design points with all their classrooms, in every arm.

        A unit holds :attr:`points_per_unit` consecutive design points (``points``: each with
        its ``point`` number, design ``value`` and ``params``) and names the function that
        evaluates it in the worker (``evaluate``), the design model and the reference arm.
        Every point uses classrooms ``0 .. classrooms - 1`` (the same classroom seeds at every
        point and in every arm).
        """
        pts = self.points(study)
        arms = {a: [r.to_dict() for r in regs] for a, regs in pts[0][2].items()} if pts else {}
        per = self.points_per_unit or (1 if self.model_object().uses_parameters else 256)
        units = []
        for first in range(0, len(pts), per):
            chunk = [
                {"point": i, "value": pts[i][0], "params": pts[i][1].to_dict()}
                for i in range(first, min(first + per, len(pts)))
            ]
            units.append(
                {
                    "id": f"d{first:06d}-n{len(chunk)}",
                    "point": first,
                    "points": chunk,
                    "arms": arms,
                    "start": 0,
                    "stop": study.classrooms,
                    "evaluate": "toolkit.robustness.models:evaluate_unit",
                    "model": self.model,
                    "reference": self.reference,
                    "kernel": study.kernel,
                }
            )
        return units

    def resolved(self) -> dict[str, Any]:
        """Return what determines the numbers (the design, not the claims), for the fingerprint."""
        return {
            "model": self.model,
            "parameters": self.parameters
            if isinstance(self.parameters, str)
            else list(self.parameters),
            "design": self.design,
            "n": self.n,
            "second_order": self.second_order,
            "num_levels": self.num_levels,
            "seed": self.seed,
            "ranges": self.ranges,
            "points_per_unit": self.points_per_unit,
        } | ({"over": "posterior", "posterior": self._posterior_digest()}
             if self.over == "posterior" else {})  # fmt: skip

    def _posterior_digest(self) -> dict[str, str]:
        """Return the posterior file and a hash of its content (a new posterior: a new design)."""
        import hashlib

        path = Path(self.posterior)
        blob = path.read_bytes() if path.is_file() else b""
        return {"path": str(path), "sha256": hashlib.sha256(blob).hexdigest()[:16]}

    def describe(self) -> dict[str, Any]:
        """Return the analysis settings (claims, metrics, region), for the manifest."""
        return {
            "claims": [{"name": c.name, "claim": c.text} for c in self.claims],
            "metrics": list(self.metrics),
            "year": self.year,
            "region": self.region,
            "resamples": self.resamples,
        }


def _err(where: str, msg: str) -> DesignError:
    return DesignError(f"{where}: {msg}")


def parse_robustness(
    table: Mapping[str, Any],
    *,
    arms: Sequence[str],
    reference: str,
    parameters: Mapping[str, Any],
    where: str,
) -> RobustnessSpec:
    """Check a ``[robustness]`` table and return a :class:`RobustnessSpec`.

    Parameters
    ----------
    table : mapping
        The table as read from TOML.
    arms : sequence of str
        The study's arms (for the classroom model).
    reference : str
        The study's reference arm.
    parameters : mapping
        The study's ``[parameters]`` (held fixed).
    where : str
        File and table, for messages.

    Returns
    -------
    RobustnessSpec

    Raises
    ------
    DesignError or ClaimError
        Naming the key and what was expected (with suggestions for misspelled names).
    """
    from toolkit.model.params import suggest_name
    from toolkit.robustness.models import get_model

    for key in table:
        if key not in _KEYS:
            raise _err(where, f"unknown key '{key}'.{suggest_name(key, sorted(_KEYS))} "
                              f"Allowed keys: {sorted(_KEYS)}.")  # fmt: skip
    model_name = table.get("model", "classroom")
    if not isinstance(model_name, str):
        raise _err(where, f"'model' must be a name, got {model_name!r}.")
    try:
        model = get_model(model_name)
    except ValueError as exc:
        raise _err(where, str(exc)) from None
    over = table.get("over", "box")
    if over not in ("box", "posterior"):
        raise _err(where, f'\'over\' must be "box" or "posterior", got {over!r}.')
    posterior = table.get("posterior", "")
    if over == "posterior":
        if not model.uses_parameters:
            raise _err(where, f'over = "posterior" needs the classroom model, not {model_name!r}.')
        if not isinstance(posterior, str) or not posterior:
            raise _err(where, 'over = "posterior" needs posterior = "path/to/posterior.csv".')
        if table.get("design", "random") != "random":
            raise _err(where, f"over = \"posterior\" draws independent points: design must be "
                              f"\"random\" (Sobol' and Morris indices need independent uniform "
                              f"inputs over the box), got {table.get('design')!r}.")  # fmt: skip
        if "ranges" in table:
            raise _err(where, 'over = "posterior" takes no [robustness.ranges] (the posterior '
                              "sets where the points are).")  # fmt: skip
    elif "posterior" in table:
        raise _err(where, 'a posterior file goes with over = "posterior".')
    design = table.get("design", "random" if over == "posterior" else "sobol")
    if design not in DESIGNS:
        raise _err(where, f"'design' = {design!r} is not one of {list(DESIGNS)}."
                          f"{suggest_name(str(design), list(DESIGNS))}")  # fmt: skip
    n = table.get("n", 256)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise _err(where, f"'n' must be a whole number >= 1 ({DESIGNS[design]}), got {n!r}.")
    second = table.get("second_order", False)
    if not isinstance(second, bool):
        raise _err(where, f"'second_order' must be true or false, got {second!r}.")
    if second and design != "sobol":
        raise _err(where, "'second_order' needs design = \"sobol\".")
    levels = table.get("num_levels", 4)
    if isinstance(levels, bool) or not isinstance(levels, int):
        raise _err(where, f"'num_levels' must be a whole number, got {levels!r}.")
    seed = table.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise _err(where, f"'seed' must be a non-negative whole number, got {seed!r}.")
    varied = table.get("parameters", "all")
    if isinstance(varied, list):
        varied = tuple(varied)
    ranges = table.get("ranges", {})
    if not isinstance(ranges, Mapping):
        raise _err(where, f"'ranges' must be a table ([robustness.ranges]), got {ranges!r}.")
    model_arms = tuple(model.arms(list(arms)))
    available = model.metrics()
    metrics = table.get("metrics")
    if metrics is None:
        metrics = [m for m in DEFAULT_METRICS if m in available] or list(available)
    if not isinstance(metrics, list) or not metrics:
        raise _err(where, f"'metrics' must be a non-empty list of metric names, got {metrics!r}.")
    for m in metrics:
        if m not in available:
            raise _err(where, f"'metrics': unknown metric {m!r}.{suggest_name(str(m), available)} "
                              f"The metrics are: {', '.join(available)}.")  # fmt: skip
    try:
        claims = parse_claims(table.get("claims", []), model_arms, available, f"{where} claims")
    except ClaimError as exc:
        raise ClaimError(str(exc)) from None
    metrics = list(dict.fromkeys([*metrics, *(m for c in claims for m in c.metrics)]))
    year = table.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int) or year < 1):
        raise _err(where, f"'year' must be a school year >= 1 (1 = the first), got {year!r}.")
    region = {"method": "prim", "max_dims": 3, "min_density": 0.8} | dict(table.get("region", {}))
    for key, value in region.items():
        if key not in _REGION:
            raise _err(f"{where} region", f"unknown key '{key}'; allowed: {sorted(_REGION)}.")
        spec = _REGION[key]
        ok = value in spec if isinstance(spec, tuple) else (
            isinstance(value, spec | int) and not isinstance(value, bool)
        )  # fmt: skip
        if not ok:
            raise _err(f"{where} region", f"'{key}' = {value!r} is not valid ({spec}).")
    resamples = table.get("resamples", 500)
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 10:
        raise _err(where, f"'resamples' must be a whole number >= 10, got {resamples!r}.")
    per = table.get("points_per_unit")
    if per is not None and (isinstance(per, bool) or not isinstance(per, int) or per < 1):
        raise _err(where, f"'points_per_unit' must be a whole number >= 1, got {per!r}.")
    fixed = tuple(parameters) if model.uses_parameters else ()
    ref = reference if reference in model_arms else model_arms[0]
    spec = RobustnessSpec(
        model=model_name,
        parameters=varied,
        design=design,
        n=n,
        second_order=second,
        num_levels=levels,
        seed=seed,
        ranges=dict(ranges),
        fixed=fixed,
        claims=tuple(claims),
        metrics=tuple(metrics),
        arms=model_arms,
        reference=ref,
        year=year,
        region=region,
        resamples=resamples,
        points_per_unit=per,
        over=over,
        posterior=posterior,
        where=where,
    )
    design_ = spec.make_design(0)  # check parameters, ranges and design size now, not at run time
    if model.uses_parameters:
        _check_school_limits(set(design_.ranges.index), set(parameters), where)
    if model.uses_parameters:  # every bound must be a value the model accepts
        from toolkit.model.params import ParameterError, Parameters

        for name, row in design_.ranges.iterrows():
            for bound in (row["low"], row["high"]):
                value = int(bound) if row["integer"] else float(bound)
                try:
                    Parameters.from_mapping(dict(parameters) | {name: value}, source=where)
                except ParameterError as exc:
                    raise _err(where, f"range of '{name}': {exc}") from None
    return spec


#: The school's limits on core time: a design samples both or neither (see
#: :func:`_check_school_limits`).
SCHOOL_LIMITS = ("core_floor", "core_ceiling")


def _check_school_limits(sampled: set[str], fixed: set[str], where: str) -> None:
    """Refuse a design that samples one of the school's limits on core time but not the other.

    A floor only ever trims downward moves of core time and a ceiling only upward ones, so a
    design that samples the floor alone lifts every regime whose students move time away from
    the tested domains and never the standardized regime, which moves none (and the ceiling
    alone does the reverse): the shares of such a design favour one side by construction. Both
    limits are sampled (or one is held at a value in ``[parameters]``), or neither.
    """
    floor, ceiling = SCHOOL_LIMITS
    for one, other in ((floor, ceiling), (ceiling, floor)):
        if one in sampled and other not in sampled and other not in fixed:
            raise _err(
                where,
                f"'{one}' is sampled but '{other}' is not: a floor on core time only trims "
                "downward moves and a ceiling only upward ones, so sampling one limit alone "
                "favours the regimes it never binds for. Add '{other}' to 'parameters' (or set "
                f"it in [parameters]), or sample neither.".replace("{other}", other),
            )


def load_study_with(
    path: str | Path,
    *,
    study: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
    robustness: Mapping[str, Any] | None = None,
    output: Mapping[str, Any] | None = None,
    source: str | None = None,
) -> Any:
    """Read a study file with some keys replaced, and check it (e.g. a smaller design).

    Parameters
    ----------
    path : str or Path
        The study file.
    study, parameters, robustness, output : mapping, optional
        Keys that replace (or add to) the file's ``[study]``, ``[parameters]``,
        ``[robustness]`` and ``[output]`` tables.
    source : str, optional
        Name of the file in messages and provenance (default: the path).

    Returns
    -------
    toolkit.study.StudySpec

    Examples
    --------
    >>> from pathlib import Path
    >>> root = Path(__file__).resolve().parents[2]
    >>> spec = load_study_with(root / "simulations" / "headline-robustness.toml",
    ...                        study={"classrooms": 4}, robustness={"n": 8})
    >>> spec.classrooms, spec.robustness.n, spec.chunk_size
    (4, 8, 4)
    """
    from toolkit.study.spec import parse_study, read_study_file

    data = read_study_file(path)
    for name, extra in (("study", study), ("parameters", parameters),
                        ("robustness", robustness), ("output", output)):  # fmt: skip
        if extra:
            data[name] = dict(data.get(name, {})) | dict(extra)
    if study and "classrooms" in study and "chunk_size" not in study:
        data["study"].pop("chunk_size", None)
    return parse_study(data, source=source or str(path))
