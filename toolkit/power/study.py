"""Power studies: a study file with ``[power]`` and ``[survey]`` tables, run into a folder.

A power study is an ordinary study file (``[study]``, ``[arms]``, ``[parameters]``, read by
:func:`toolkit.study.parse_study`) with two more tables, read here::

    [study]
    name = "power-personalized"
    seed = 20261201
    classrooms = 400               # the pool: simulated classrooms, each under both arms
    reference = "individualized"

    [arms]
    individualized = "individualized"
    personalized = "personalized"

    [power]
    treatment = "personalized"     # default: the arm that is not the reference
    randomize = "class"            # or "school", or "class_in_school" (with [study] schools)
    sizes = [20, 40, 80, 120, 160] # classes (or schools) in the trial, both arms
    replications = 500
    alpha = 0.05
    target = 0.8
    outcomes = ["posttest"]        # or names of [survey] scales

    [survey]                       # toolkit.synthetic.SurveyDesign
    waves = 2
    test_reliability = 0.85
    students_per_class = 20
    student_response = 0.9

:func:`run_power` simulates the pool with the study runner (resumable, ``pool/``), then the
power curve of every outcome (``parts/``, one file per outcome and size as it finishes, so an
interrupted run resumes), and writes ``power.csv``, ``needed.csv``, the figures and a
``manifest.json``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from toolkit.power.simulate import RANDOMIZE
from toolkit.study.spec import StudyError, StudySpec, parse_study, read_study_file
from toolkit.synthetic import ScaleSpec, SurveyDesign
from toolkit.synthetic.survey import DEFAULT_SCALES

__all__ = [
    "PowerInterrupted",
    "PowerResult",
    "PowerSpec",
    "format_power",
    "load_power",
    "parse_power",
    "run_power",
]

_POWER_KEYS = {
    "treatment",
    "randomize",
    "sizes",
    "replications",
    "alpha",
    "target",
    "outcomes",
    "covariates",
}
_SURVEY_KEYS = {f for f in SurveyDesign.__dataclass_fields__ if f != "scales"} | {"scales"}
_SCALE_KEYS = set(ScaleSpec.__dataclass_fields__)


@dataclass(frozen=True)
class PowerSpec:
    """A parsed power study.

    Attributes
    ----------
    study : StudySpec
        The study's arms, parameters, seed and pool size (``classrooms``).
    treatment : str
        The arm compared with ``study.reference``.
    randomize : {"class", "school", "class_in_school"}
        With ``[study] schools``, ``"school"`` draws the model's schools (all their
        classrooms) and ``"class_in_school"`` randomizes half of each school's classrooms;
        ``sizes`` then count schools.
    sizes : tuple of int
        Clusters in the trial (both arms).
    replications : int
    alpha, target : float
    outcomes : tuple of str
    covariates : tuple of str or None
        Covariates of the analysis (default: the pretest with two waves).
    survey : SurveyDesign
    """

    study: StudySpec
    treatment: str
    randomize: str = "class"
    sizes: tuple[int, ...] = (20, 40, 80, 120, 160)
    replications: int = 500
    alpha: float = 0.05
    target: float = 0.8
    outcomes: tuple[str, ...] = ("posttest",)
    covariates: tuple[str, ...] | None = None
    survey: SurveyDesign = field(default_factory=SurveyDesign)

    def resolved(self) -> dict[str, Any]:
        """Return the power study as resolved, JSON-friendly."""
        sv = {k: getattr(self.survey, k) for k in _SURVEY_KEYS if k != "scales"}
        sv["scales"] = [vars(s) | {} for s in self.survey.scales]
        return {
            "study": self.study.resolved(),
            "power": {
                "reference": self.study.reference,
                "treatment": self.treatment,
                "randomize": self.randomize,
                "sizes": list(self.sizes),
                "replications": self.replications,
                "alpha": self.alpha,
                "target": self.target,
                "outcomes": list(self.outcomes),
                "covariates": None if self.covariates is None else list(self.covariates),
            },
            "survey": sv,
        }

    def fingerprint(self) -> str:
        """Hash of everything that determines the numbers (for safe resuming).

        The list of sizes is left out: every size's trials are seeded by (seed, size,
        replication), so a run can be resumed with sizes added.
        """
        core = self.resolved()
        for k in ("title", "description", "engine", "chunk_size"):
            core["study"].pop(k, None)
        # each size's trials depend only on (seed, size, replication): sizes may be added
        core["power"].pop("sizes")
        blob = json.dumps(core, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _num(table: dict[str, Any], key: str, default: Any, kind: type, where: str) -> Any:
    v = table.get(key, default)
    ok = (
        isinstance(v, kind) and not isinstance(v, bool)
        if kind is int
        else (isinstance(v, int | float) and not isinstance(v, bool))
    )
    if not ok:
        raise StudyError(
            f"{where}: '{key}' must be a {'whole number' if kind is int else 'number'}, got {v!r}."
        )
    return v


def parse_power(data: dict[str, Any], source: str = "<power>") -> PowerSpec:
    """Check a power study's tables and return a :class:`PowerSpec`.

    Raises
    ------
    StudyError
        Naming the file, table and key, and what was expected.
    """
    data = dict(data)
    if "power" not in data:
        raise StudyError(f"{source}: missing table [power] (sizes, replications, ...).")
    pw, sv = dict(data.pop("power")), dict(data.pop("survey", {}))
    study = parse_study(data, source)
    where = f"{source} [power]"
    unknown = set(pw) - _POWER_KEYS
    if unknown:
        raise StudyError(
            f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_POWER_KEYS)}."
        )
    others = [a for a in study.arms if a != study.reference]
    treatment = pw.get("treatment", others[0] if len(others) == 1 else None)
    if treatment is None:
        raise StudyError(
            f"{where}: several arms besides the reference; name the 'treatment' ({others})."
        )
    if treatment not in others:
        raise StudyError(
            f"{where}: 'treatment' = {treatment!r} is not an arm other than the reference "
            f"({others})."
        )
    randomize = pw.get("randomize", "class")
    if randomize not in RANDOMIZE:
        raise StudyError(
            f"{where}: 'randomize' must be one of {list(RANDOMIZE)}, got {randomize!r}."
        )
    if randomize == "class_in_school" and not study.schools:
        raise StudyError(
            f"{where}: randomize = 'class_in_school' randomizes classrooms within the model's "
            "schools; give [study] schools."
        )
    sizes = pw.get("sizes", [20, 40, 80, 120, 160])
    if (
        not isinstance(sizes, list)
        or not sizes
        or any(isinstance(s, bool) or not isinstance(s, int) or s < 4 for s in sizes)
        or len(set(sizes)) != len(sizes)
    ):
        raise StudyError(
            f"{where}: 'sizes' must be a list of distinct whole numbers >= 4, got {sizes!r}."
        )
    reps = _num(pw, "replications", 500, int, where)
    if reps < 10:
        raise StudyError(f"{where}: 'replications' must be >= 10, got {reps}.")
    alpha = float(_num(pw, "alpha", 0.05, float, where))
    target = float(_num(pw, "target", 0.8, float, where))
    if not (0 < alpha < 1 and 0 < target < 1):
        raise StudyError(f"{where}: 'alpha' and 'target' must be in (0, 1).")
    # survey design ------------------------------------------------------------------------
    w = f"{source} [survey]"
    unknown = set(sv) - _SURVEY_KEYS
    if unknown:
        raise StudyError(f"{w}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_SURVEY_KEYS)}.")
    scales = DEFAULT_SCALES
    if "scales" in sv:
        raw = sv.pop("scales")
        if not isinstance(raw, list):
            raise StudyError(f"{w}: 'scales' must be a list of tables ([[survey.scales]]).")
        built = []
        for i, s in enumerate(raw):
            bad = set(s) - _SCALE_KEYS
            if bad:
                raise StudyError(
                    f"{w} scales[{i}]: unknown key(s) {sorted(bad)}; "
                    f"allowed: {sorted(_SCALE_KEYS)}."
                )
            try:
                built.append(
                    ScaleSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in s.items()})
                )
            except (TypeError, ValueError) as exc:
                raise StudyError(f"{w} scales[{i}]: {exc}") from None
        scales = tuple(built)
    if "score_scale" in sv:
        sv["score_scale"] = tuple(sv["score_scale"])
    try:
        survey = SurveyDesign(scales=scales, **sv)
    except (TypeError, ValueError) as exc:
        raise StudyError(f"{w}: {exc}") from None
    outcomes = pw.get("outcomes", ["posttest"])
    valid = ["posttest", *[s.name for s in survey.scales]]
    if not isinstance(outcomes, list) or not outcomes or any(o not in valid for o in outcomes):
        raise StudyError(
            f"{where}: 'outcomes' must be a list drawn from {valid}, got {outcomes!r}."
        )
    cov = pw.get("covariates")
    if cov is not None:
        allowed = ["pretest"] if survey.waves == 2 else []
        if not isinstance(cov, list) or any(c not in allowed for c in cov):
            raise StudyError(
                f"{where}: 'covariates' must be a list drawn from {allowed}, got {cov!r}."
            )
        cov = tuple(cov)
    k = survey.classes_per_school if randomize == "school" else 1
    if study.schools and randomize != "class":  # sizes count the model's schools
        if max(sizes) > study.schools:
            raise StudyError(
                f"{source} [study]: 'schools' = {study.schools} is the pool the trials draw "
                f"schools from; the largest trial needs {max(sizes)} (at least twice that is "
                "better)."
            )
    elif max(sizes) * k > study.classrooms:
        raise StudyError(
            f"{source} [study]: 'classrooms' = {study.classrooms} is the pool the trials are drawn "
            f"from; the largest trial needs {max(sizes) * k} classrooms (at least twice that is "
            "better)."
        )
    return PowerSpec(
        study=study,
        treatment=treatment,
        randomize=randomize,
        sizes=tuple(sorted(sizes)),
        replications=reps,
        alpha=alpha,
        target=target,
        outcomes=tuple(outcomes),
        covariates=cov,
        survey=survey,
    )


def load_power(path: str | Path) -> PowerSpec:
    """Read and check a power study file (see the module docstring)."""
    return parse_power(read_study_file(path), source=str(path))


@dataclass
class PowerResult:
    """What :func:`run_power` produced.

    Attributes
    ----------
    folder : Path
    table : pandas.DataFrame
        Power per outcome and size (:func:`toolkit.power.summarise_power` plus ``outcome``).
    needed : pandas.DataFrame
        Clusters needed for the target power, per outcome and test.
    figures : list of Path
    manifest : dict
    """

    folder: Path
    table: pd.DataFrame
    needed: pd.DataFrame
    figures: list[Path]
    manifest: dict[str, Any]


class PowerInterrupted(KeyboardInterrupt):
    """A power run was interrupted (Ctrl-C); what had finished is kept and ``resume`` continues.

    Attributes
    ----------
    folder : Path
    kept : str
        What the folder keeps, in words (the pool's work units, the power-curve points).
    """

    def __init__(self, folder: Path, kept: str) -> None:
        super().__init__(f"{folder}: interrupted; kept {kept}")
        self.folder, self.kept = folder, kept


#: First element of the spawn keys of the trials, keeping them apart from classroom seeds.
POWER_KEY = 0x706F776572  # "power"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _prepare(folder: Path, spec: PowerSpec, overwrite: bool, resume: bool) -> None:
    if overwrite and resume:
        raise StudyError("Choose either --overwrite or --resume, not both.")
    if not folder.exists() or not any(folder.iterdir()):
        if resume:
            raise StudyError(f"{folder}: nothing to resume, the folder is empty or missing.")
        return
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        raise StudyError(
            f"{folder}: not empty and not a power run folder (no manifest.json); nothing was "
            "changed."
        )
    old = json.loads(manifest.read_text())
    if resume:
        if old.get("fingerprint") != spec.fingerprint():
            raise StudyError(
                f"{folder}: cannot resume, the run here was made from a different power study: "
                f"{_what_changed(old.get('power_study'), spec)}. Use --overwrite or another "
                "--out (or undo the change)."
            )
        return
    if not overwrite:
        raise StudyError(
            f"{folder}: already holds a power run (started {old.get('started')}, status "
            f"{old.get('status')}); nothing was changed. Pass --resume to continue it, "
            "--overwrite to replace it, or --out for another folder."
        )
    shutil.rmtree(folder)


def _what_changed(old: Any, spec: PowerSpec) -> str:
    """Say which settings differ from those of the power run in a folder (its manifest's)."""
    from toolkit.study.spec import describe_changes, fingerprint_core

    def core(resolved: dict[str, Any]) -> dict[str, Any]:
        out = dict(resolved)
        out["study"] = fingerprint_core(out.get("study", {}))
        out["power"] = {k: v for k, v in out.get("power", {}).items() if k != "sizes"}
        return out

    text = describe_changes(core(old), core(spec.resolved())) if isinstance(old, dict) else None
    return text or f"fingerprint {(old or {}).get('fingerprint')} vs {spec.fingerprint()}"


def _kept(folder: Path, spec: PowerSpec, pool: tuple[int, int] | None) -> str:
    """Describe what an interrupted power run keeps: the pool's units and the curve's points."""
    total = len(spec.outcomes) * len(spec.sizes)
    done = sum(
        (folder / "parts" / o / "parts" / f"size-{size:06d}.parquet").is_file()
        for o in spec.outcomes
        for size in spec.sizes
    )
    if pool is not None and pool[0] < pool[1]:
        return f"the {pool[0]} of {pool[1]} work units of the pool of classrooms that had finished"
    return (
        f"the pool of classrooms (complete) and {done} of {total} power-curve points "
        "(outcome x size) that had finished"
    )


def run_power(
    spec: PowerSpec,
    out: str | Path | None = None,
    *,
    overwrite: bool = False,
    resume: bool = False,
    workers: int = 1,
    progress: bool = True,
) -> PowerResult:
    """Simulate the pool, then the power curve of every outcome; write tables and figures.

    Parameters
    ----------
    spec : PowerSpec
    out : path, optional
        Run folder (default: the study's ``[output] folder``).
    overwrite, resume : bool
        As for :func:`toolkit.study.run_study`; ``resume`` continues an interrupted run.
    workers : int
        Worker processes for the pool simulation.
    progress : bool

    Returns
    -------
    PowerResult

    Raises
    ------
    PowerInterrupted
        On Ctrl-C, after marking the manifest ``interrupted``: the pool's finished work units
        and the finished power-curve points stay, and ``resume=True`` continues.
    """
    from toolkit._base.provenance import provenance

    folder = Path(out or spec.study.folder)
    _prepare(folder, spec, overwrite, resume)
    folder.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "power_study": spec.resolved(),
        "source": spec.study.source,
        "fingerprint": spec.fingerprint(),
        "started": _now(),
        "status": "running",
        "seeding": (
            "pool classroom i uses SeedSequence(seed, spawn_key=(i,)) in both arms; trial "
            f"replication r of size J of outcome number k uses SeedSequence(seed, "
            f"spawn_key=({POWER_KEY}, k, J, r))"
        ),
        **provenance(),
    }
    mpath = folder / "manifest.json"
    if resume and mpath.is_file():
        old = json.loads(mpath.read_text())
        manifest["started"] = old.get("started", manifest["started"])
    mpath.write_text(json.dumps(manifest, indent=2, default=str))
    pool: list[tuple[int, int] | None] = [None]
    try:
        result = _run_power(spec, folder, manifest, workers, progress, pool)
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt)
        manifest["status"] = "interrupted" if interrupted else "failed"
        manifest["stopped"] = _now()
        if not interrupted:
            manifest["error"] = f"{type(exc).__name__}: {exc}"
        mpath.write_text(json.dumps(manifest, indent=2, default=str))
        if interrupted:
            raise PowerInterrupted(folder, _kept(folder, spec, pool[0])) from None
        raise
    return result


def _run_power(
    spec: PowerSpec,
    folder: Path,
    manifest: dict[str, Any],
    workers: int,
    progress: bool,
    pool: list[tuple[int, int] | None],
) -> PowerResult:
    """Run the pool and the power curves of :func:`run_power` once its manifest is written.

    ``pool`` receives the pool's finished and total work units if the pool is interrupted.
    """
    import dataclasses

    from toolkit.charts.style import SLIDE_SIZES, chart_style, save_figure
    from toolkit.power.charts import plot_mde, plot_power_curve
    from toolkit.power.simulate import ModelTrial, power_curve
    from toolkit.study.runner import RunInterrupted, run_study

    mpath = folder / "manifest.json"
    arms = {a: spec.study.arms[a] for a in (spec.study.reference, spec.treatment)}
    pool_spec = dataclasses.replace(spec.study, arms=arms, name=f"{spec.study.name}-pool")
    pool_dir = folder / "pool"
    try:
        pool_run = run_study(
            pool_spec,
            pool_dir,
            resume=pool_dir.is_dir() and (pool_dir / "manifest.json").is_file(),
            workers=workers,
            progress=progress,
            analyse=lambda result, _spec: result,
        )
    except RunInterrupted as stop:
        pool[0] = (stop.done, stop.total)
        raise
    students = pool_run.students
    students = students[students["year"] == students["year"].max()]
    students = students.assign(arm=students["arm"].astype(str))
    tables, needed = [], []
    for k, outcome in enumerate(spec.outcomes):
        used = tuple(s for s in spec.survey.scales if s.name == outcome)
        trial = ModelTrial(
            students,
            spec.study.reference,
            spec.treatment,
            spec.survey.replace(scales=used),
            spec.randomize,
            outcome,
        )
        cov = None if spec.covariates is None else list(spec.covariates)
        curve = power_curve(
            trial,
            trial.analysis(cov),
            spec.sizes,
            spec.replications,
            seed=spec.study.seed,
            key=(POWER_KEY, k),
            alpha=spec.alpha,
            power=spec.target,
            folder=folder / "parts" / outcome,
            progress=progress,
        )
        tables.append(curve.table.assign(outcome=outcome))
        for test in ("effect_p", "spread_p"):
            need = curve.needed(test)
            needed.append(
                {"outcome": outcome, "test": "mean" if test == "effect_p" else "spread", **need}
            )
    table = pd.concat(tables, ignore_index=True)
    table.insert(0, "outcome", table.pop("outcome"))
    needed_df = pd.DataFrame(needed)
    table.to_csv(folder / "power.csv", index=False)
    needed_df.to_csv(folder / "needed.csv", index=False)
    unit = "classrooms" if spec.randomize == "class" else "schools"
    line = (
        f"{spec.study.name} | {spec.study.source} | seed {spec.study.seed} | pool "
        f"{spec.study.classrooms} classrooms | {spec.replications} replications per size | "
        f"{spec.treatment} (prediction) vs {spec.study.reference}"
    )
    figures = []
    for outcome in spec.outcomes:
        t = table[table["outcome"] == outcome]
        for test in ("effect", "spread"):
            with chart_style():
                fig, axes = plt.subplots(1, 2, figsize=SLIDE_SIZES["16:9"], layout="constrained")
            plot_power_curve(t, test, ax=axes[0], target=spec.target, unit=unit)
            plot_mde(t, test, ax=axes[1], unit=unit)
            fig.suptitle(
                f"{outcome}: {spec.treatment} vs {spec.study.reference} "
                "(the model's prediction, not a measured effect)",
                x=0.01,
                ha="left",
            )
            figures += save_figure(
                fig,
                folder / "figures" / f"power_{outcome}_{test}",
                formats=spec.study.formats,
                provenance=line,
            )
            plt.close(fig)
    manifest["finished"] = _now()
    manifest["status"] = "complete"
    manifest["files"] = sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and "parts" not in p.parts and "pool" not in p.parts
    )
    mpath.write_text(json.dumps(manifest, indent=2, default=str))
    return PowerResult(folder, table, needed_df, figures, manifest)


def format_power(result: PowerResult, spec: PowerSpec) -> str:
    """Format the power table and the clusters needed as text for the terminal."""
    from toolkit.power.simulate import describe_needed

    unit = "classrooms" if spec.randomize == "class" else "schools"
    cols = ["outcome", "size", "power_effect", "power_effect_se", "effect_mean", "mde_effect"]
    if "power_spread" in result.table:
        cols += ["power_spread", "power_spread_se", "sd_ratio_mean", "mde_sd_ratio"]
    lines = [
        f"Power: {spec.treatment} vs {spec.study.reference} ({spec.treatment} is a prediction of "
        f"the model), {spec.replications} simulated trials per size, alpha {spec.alpha}",
        result.table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"),
        "",
        f"{unit.capitalize()} needed for {spec.target:.0%} power (both arms):",
    ]
    for r in result.needed.to_dict(orient="records"):
        need = {"largest": float(max(spec.sizes))} | r
        lines.append(f"  {r['outcome']}, {r['test']}: {describe_needed(need)}")
    return "\n".join(lines)
