"""Work units: what they are, how one is simulated, and which are done in a run folder.

A work unit is a chunk of classrooms at one sweep point, in every arm. It simulates them and
computes their classroom metrics; its parts are written atomically as soon as it finishes
(:mod:`toolkit.study.runfolder`), so an interrupted run loses nothing that was finished.

Classroom ``i`` uses seed ``classroom_seed(master, i)`` in every arm (common random numbers), so
differences between arms are paired by classroom; results are the same whatever the chunk
size, the number of workers, where they ran or the order in which units finish.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit._base.atomic import write_atomic
from toolkit.engine import simulate_arms
from toolkit.model.cohort import classroom_seed, school_of
from toolkit.model.model import simulate_classroom
from toolkit.model.params import Parameters
from toolkit.model.regimes import Regime
from toolkit.study.runfolder import _TOKEN, _WRITTEN, _token_matches, _unit_done, _unit_paths
from toolkit.study.spec import StudySpec

__all__ = [
    "design_points_done",
    "label_unit_rows",
    "run_unit",
    "run_unit_into",
    "simulate_unit",
    "units_done",
]


def _sweep_value(value: Any) -> Any:
    """One type for the sweep-value column in every part (numbers as float)."""
    if value is None:
        return float("nan")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def _n_units(spec: StudySpec) -> int:
    """Return the number of work units: sweep points x chunks of classrooms."""
    n_points = len(spec.sweep_values) if spec.sweep_parameter else 1
    if spec.cohort is not None:  # one point per imputed cohort of a data file's classes
        n_points = spec.cohort.n_cohorts
    return n_points * -(-spec.classrooms // spec.chunk_size)


def _units(spec: StudySpec) -> list[dict[str, Any]]:
    """Work units: a chunk of classrooms at one sweep point, in every arm (same classrooms).

    The parameters and arms of a sweep point are one shared dict for all its units (a study
    of millions of classrooms has hundreds of thousands of units).
    """
    if spec.robustness is not None:  # design points, grouped by toolkit.robustness.spec
        return spec.robustness.units(spec)
    if spec.cohort is not None:  # a data file's classes, per imputed cohort (toolkit.realcohort)
        return spec.cohort.units(spec)
    units = []
    for pi, (value, params, arms) in enumerate(spec.points()):
        pdict = params.to_dict()
        adict = {arm: [r.to_dict() for r in regs] for arm, regs in arms.items()}
        for start in range(0, spec.classrooms, spec.chunk_size):
            stop = min(start + spec.chunk_size, spec.classrooms)
            units.append(
                {
                    "id": f"p{pi:03d}-c{start:06d}",
                    "point": pi,
                    "value": value,
                    "params": pdict,
                    "arms": adict,
                    "start": start,
                    "stop": stop,
                    "kernel": spec.kernel,
                }
            )
    return units


def _unit_size(spec: StudySpec, unit: dict[str, Any]) -> int:
    """Progress of one unit: its classrooms, or its design points in a robustness study."""
    return len(unit["points"]) if spec.robustness is not None else unit["stop"] - unit["start"]


def simulate_unit(unit: dict[str, Any], seed: int, engine: str, n_years: int) -> pd.DataFrame:
    """Simulate one work unit: a chunk of classrooms at one sweep point, in every arm.

    Every arm runs the same classrooms (common random numbers). The fast engine draws their
    randomness once for all arms (:func:`toolkit.engine.simulate_arms`, with the unit's
    ``kernel``); the Mesa model runs each arm's classrooms one by one, with the numbers of the
    ``"exact"`` kernel.

    Parameters
    ----------
    unit : dict
        As built by the runner: ``params`` as a dict, ``arms`` (arm name to its per-year
        regimes as dicts), classroom range ``start:stop``, ``point``, sweep ``value`` and the
        engine's ``kernel`` (``"exact"`` when the unit names none, as the calibration's units).
    seed : int
        The study's master seed.
    engine : {"fast", "mesa"}
    n_years : int

    Returns
    -------
    pandas.DataFrame
        Student table with ``point, sweep_value, arm, replicate`` in front, sorted by arm (in
        the unit's order), classroom, year and student; or, for a unit with an ``evaluate``
        entry (``"module:function"``, a design point of a robustness study), what that function
        returns for the unit (see :mod:`toolkit.robustness.models`).
    """
    if unit.get("evaluate"):
        module, _, name = unit["evaluate"].partition(":")
        return getattr(importlib.import_module(module), name)(unit, seed, engine, n_years)
    params = Parameters.from_mapping(unit["params"], source=f"unit {unit['id']}")
    arms = {arm: [Regime(**r) for r in regs] for arm, regs in unit["arms"].items()}
    idx = list(range(unit["start"], unit["stop"]))
    seeds = [classroom_seed(seed, i) for i in idx]
    if engine == "fast":
        df = simulate_arms(
            arms,
            params,
            seeds,
            n_years=n_years,
            chunk_size=len(seeds),
            kernel=unit.get("kernel", "exact"),
        )
        df["arm"] = df["arm"].astype(str)
        df["classroom"] = df["classroom"].map(dict(enumerate(idx)))
    else:
        frames = []
        for arm, regimes in arms.items():
            for i, s in zip(idx, seeds, strict=True):
                one = simulate_classroom(regimes, params, s, n_years=n_years)
                one.insert(0, "classroom", i)
                one.insert(0, "arm", arm)
                frames.append(one)
        df = pd.concat(frames, ignore_index=True)
    return with_school(label_unit_rows(df, unit, list(arms)), params.classrooms_per_school)


def with_school(df: pd.DataFrame, classrooms_per_school: int) -> pd.DataFrame:
    """Add the ``school`` of each row's ``replicate`` after it, when classrooms share schools.

    ``school = replicate // classrooms_per_school`` (:func:`toolkit.model.cohort.school_of`),
    the same in every arm; nothing is added when every classroom is a school of its own
    (``classrooms_per_school = 1``), so such runs keep their columns.
    """
    if classrooms_per_school <= 1 or "school" in df.columns:
        return df
    df = df.copy()
    at = list(df.columns).index("replicate") + 1
    df.insert(at, "school", school_of(df["replicate"].to_numpy(), classrooms_per_school))
    return df


def label_unit_rows(df: pd.DataFrame, unit: dict[str, Any], arms: list[str]) -> pd.DataFrame:
    """Put a unit's ``point`` and ``sweep_value`` in front and sort its rows as the runner does.

    ``classroom`` becomes ``replicate``; rows are sorted by arm (in ``arms``' order), classroom,
    year and student.
    """
    df = df.rename(columns={"classroom": "replicate"})
    df.insert(0, "sweep_value", _sweep_value(unit["value"]))
    df.insert(0, "point", unit["point"])
    order = pd.Categorical(df["arm"], categories=arms).codes
    df = df.assign(_arm=order).sort_values(["_arm", "replicate", "year", "student"], kind="stable")
    return df.drop(columns="_arm").reset_index(drop=True)


def run_unit(
    unit: dict[str, Any], seed: int, engine: str, n_years: int, reference: str, keep: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate a work unit and compute its classroom metrics (what a worker runs).

    Parameters
    ----------
    unit, seed, engine, n_years
        As for :func:`simulate_unit`.
    reference : str
        Reference arm (for the variance ratio).
    keep : {"students", "classrooms", "design"}
        Return every student column, or only :func:`toolkit.study.analysis.analysis_columns`;
        ``"design"`` (a robustness study's design points): no student rows, the unit's own
        per-classroom metrics (:func:`simulate_unit` with its ``evaluate`` entry).

    Returns
    -------
    students : pandas.DataFrame or None
        The unit's student rows (every column, or the analysis columns; None for a design).
    classrooms : pandas.DataFrame
        :func:`toolkit.study.analysis.local_classroom_metrics` of those students.
    """
    from toolkit.study.analysis import analysis_columns, local_classroom_metrics

    if keep == "design":
        return None, simulate_unit(unit, seed, engine, n_years)
    students = simulate_unit(unit, seed, engine, n_years)
    classrooms = local_classroom_metrics(students, reference)
    classrooms["arm"] = classrooms["arm"].astype(str)
    if "school" in students.columns:
        classrooms = with_school(classrooms, int(unit["params"]["classrooms_per_school"]))
    if keep == "classrooms":
        students = students[analysis_columns(students.columns)]
    return students, classrooms


def run_unit_into(
    folder: str,
    token: str,
    unit: dict[str, Any],
    seed: int,
    engine: str,
    n_years: int,
    reference: str,
    keep: str,
) -> str | tuple[pd.DataFrame | None, pd.DataFrame]:
    """Run a work unit and write its parts into the run folder (what a worker that sees it runs).

    The parts are written as the client writes them (:func:`_store_unit`: each atomically,
    the student part first, the classroom part last as the mark that the unit is done), under
    temporary names unique to this process. Each is renamed into place only while the run's
    token file (``folder/.workers-write-<token>.tmp``, removed by the client when the units
    phase ends or stops) holds ``token``: a unit that finishes after its run was stopped, or on
    a worker that does not see the folder, writes nothing.

    Parameters
    ----------
    folder : str
        Absolute path of the run folder.
    token : str
        The run's token (its file's name and content).
    unit, seed, engine, n_years, reference, keep
        As for :func:`run_unit`.

    Returns
    -------
    str or tuple
        ``"written"``, or (when the token file was not there) what :func:`run_unit` returns,
        for the client to write.
    """
    out = run_unit(unit, seed, engine, n_years, reference, keep)
    root = Path(folder)
    token_path = root / _TOKEN.format(token)

    def ours() -> bool:
        return _token_matches(token_path, token)

    if not ours():
        return out
    students_path, classrooms_path = _unit_paths(root, unit["id"], keep)
    for df, path in ((out[0], students_path), (out[1], classrooms_path)):
        if path is not None and not write_atomic(df, path, unique=True, commit=ours):
            return out
    return _WRITTEN


def units_done(spec: StudySpec, folder: str | Path) -> tuple[int, int]:
    """Work units of ``spec`` already finished in ``folder``, and in all.

    Returns
    -------
    (int, int)
    """
    folder = Path(folder)
    units = _units(spec)
    return sum(_unit_done(folder, u["id"], spec.keep) for u in units), len(units)


def design_points_done(spec: StudySpec, folder: str | Path) -> tuple[int, int]:
    """Design points of a robustness study already finished in ``folder``, and in all.

    A work unit may hold several design points (:class:`toolkit.robustness.spec.RobustnessSpec`
    ``points_per_unit``); this counts the points of the finished units.

    Returns
    -------
    (int, int)
    """
    folder = Path(folder)
    units = _units(spec)
    done = sum(_unit_size(spec, u) for u in units if _unit_done(folder, u["id"], "design"))
    return done, sum(_unit_size(spec, u) for u in units)
