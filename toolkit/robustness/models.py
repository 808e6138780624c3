r"""What a robustness study evaluates at each design point: the classroom model, or a plug-in.

A *design model* turns one work unit of the study runner (a design point: its parameter values,
arms and classrooms) into a table with one row per arm, classroom (``replicate``) and school
year, and one column per metric. The robustness analysis only ever reads that table, so the
same design, runner and analysis run the classroom model and closed-form functions whose
sensitivity indices are known (the checks in ``tests/robustness``).

Built in:

``"classroom"`` (:class:`ClassroomModel`)
    The study's arms on the same classrooms with the design point's :class:`Parameters`,
    through the runner's :func:`~toolkit.study.units.simulate_unit` (the vectorized engine or
    Mesa), then :func:`~toolkit.study.analysis.classroom_metrics` per classroom, plus
    ``effect_size`` per classroom: the paired difference in class mean score against the
    reference arm over the SD of the reference arm's students' scores at that point.
``"ishigami"`` (:class:`Ishigami`)
    :math:`f = \sin x_1 + a \sin^2 x_2 + b\, x_3^4 \sin x_1`, :math:`x_i \sim U(-\pi, \pi)`,
    ``a = 7``, ``b = 0.1``, and ``x4``, which it never reads.
``"sobol_g"`` (:class:`SobolG`)
    Sobol's G function :math:`\prod_i (|4x_i - 2| + a_i)/(1 + a_i)` on :math:`U(0, 1)^6`,
    ``a = (0, 1, 4.5, 9, 99, 99)``.
``"planted_box"`` (:class:`PlantedBox`)
    1 inside the box :math:`0.2 < u_1 < 0.5,\ u_2 > 0.7` of :math:`U(0,1)^4`, else 0.
``"paired"`` (:class:`PairedSynthetic`)
    Two arms on the same replicates, ``b = a + 0.5 + x2`` plus small independent noise, so
    that ``b - a > 0`` holds everywhere by construction.

A plug-in is named ``"package.module:attribute"``: an object with the attributes and methods
of :class:`DesignModel` (importable in worker processes).

References
----------
.. [1] Ishigami, T., & Homma, T. (1990). An importance quantification technique in uncertainty
   analysis for computer models. *Proceedings of ISUMA '90*, 398-403.
   https://doi.org/10.1109/ISUMA.1990.151285
.. [2] Saltelli, A., & Sobol', I. M. (1995). About the use of rank transformation in
   sensitivity analysis of model output. *Reliability Engineering & System Safety*, 50(3),
   225-239. https://doi.org/10.1016/0951-8320(95)00099-2
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd

__all__ = [
    "MODELS",
    "ClassroomModel",
    "DesignModel",
    "FunctionModel",
    "Ishigami",
    "PairedSynthetic",
    "PlantedBox",
    "SobolG",
    "evaluate_unit",
    "get_model",
]


class DesignModel(Protocol):
    """What a robustness study needs of the model it evaluates.

    Attributes
    ----------
    name : str
    uses_parameters : bool
        Whether design values are :class:`toolkit.model.Parameters` (the classroom model) or
        the model's own variables (closed-form functions).
    replicated : bool
        Whether a point has one row per classroom (Monte Carlo replicates) or a single row
        (a deterministic function).
    """

    name: str
    uses_parameters: bool
    replicated: bool

    def ranges(self) -> pd.DataFrame:
        """Variables with ``default, low, high, scale, integer, source``, indexed by name."""
        ...

    def arms(self, study_arms: Sequence[str]) -> list[str]:
        """Return the arms of the model's tables (the study's, for the classroom model)."""
        ...

    def metrics(self) -> list[str]:
        """Return the metric columns of the tables :meth:`evaluate` returns."""
        ...

    def evaluate(
        self, unit: Mapping[str, Any], seed: int, engine: str, n_years: int
    ) -> pd.DataFrame:
        """Rows ``year, arm, replicate`` and metric columns for one design point."""
        ...


class ClassroomModel:
    """The classroom model: every arm on the same classrooms at the point's parameters."""

    name = "classroom"
    uses_parameters = True
    replicated = True

    def ranges(self) -> pd.DataFrame:
        """Return the plausible range of every model parameter (:func:`plausible_ranges`)."""
        from toolkit.model.params import plausible_ranges

        return plausible_ranges()

    def arms(self, study_arms: Sequence[str]) -> list[str]:
        """Return the study's arms."""
        return list(study_arms)

    def metrics(self) -> list[str]:
        """Every metric of the study summary (:data:`toolkit.study.analysis.SUMMARY_METRICS`)."""
        from toolkit.study.analysis import SUMMARY_METRICS

        return list(SUMMARY_METRICS)

    def evaluate(
        self, unit: Mapping[str, Any], seed: int, engine: str, n_years: int
    ) -> pd.DataFrame:
        """Simulate the point's classrooms in every arm and return classroom metrics.

        Returns
        -------
        pandas.DataFrame
            :func:`~toolkit.study.analysis.classroom_metrics` columns (``year, arm,
            replicate, n``, every metric) plus ``effect_size`` and ``sd_reference``.
        """
        from toolkit.study.analysis import classroom_metrics
        from toolkit.study.units import simulate_unit

        plain = {k: v for k, v in unit.items() if k != "evaluate"} | {"value": None}
        students = simulate_unit(plain, seed, engine, n_years)
        arms = list(unit["arms"])
        ref = unit["reference"]
        students["arm"] = pd.Categorical(students["arm"], categories=arms)
        cm = classroom_metrics(students, ref)
        is_ref = students["arm"] == ref
        sd_ref = students.loc[is_ref].groupby("year")["score"].std(ddof=1)
        ref_score = cm.loc[cm["arm"] == ref].set_index(["year", "replicate"])["score"]
        key = pd.MultiIndex.from_arrays([cm["year"], cm["replicate"]])
        cm["sd_reference"] = cm["year"].map(sd_ref).to_numpy()
        cm["effect_size"] = (cm["score"].to_numpy() - ref_score.reindex(key).to_numpy()) / cm[
            "sd_reference"
        ].to_numpy()
        cm["arm"] = cm["arm"].astype(str)
        return cm.drop(columns=["point", "sweep_value"])


class FunctionModel:
    """Base of closed-form design models: a function of the design values, one arm ``"f"``.

    Subclasses set :attr:`variables` (name to ``(low, high)``) and implement :meth:`f`.
    Deterministic functions give one replicate per point (no Monte Carlo error).
    """

    name = "function"
    uses_parameters = False
    replicated = False
    variables: ClassVar[dict[str, tuple[float, float]]] = {}
    source = "closed-form test function"

    def ranges(self) -> pd.DataFrame:
        """Uniform ranges of the variables (default: the middle)."""
        rows = [
            {
                "name": k,
                "default": (lo + hi) / 2,
                "low": lo,
                "high": hi,
                "scale": "linear",
                "integer": False,
                "group": self.name,
                "unit": "",
                "source": self.source,
            }
            for k, (lo, hi) in self.variables.items()
        ]
        return pd.DataFrame(rows).set_index("name")

    def arms(self, study_arms: Sequence[str]) -> list[str]:
        """One arm, ``"f"``."""
        return ["f"]

    def metrics(self) -> list[str]:
        """One metric, ``"y"``."""
        return ["y"]

    def f(self, x: Mapping[str, float]) -> float:
        """Evaluate the function at one point."""
        raise NotImplementedError

    def _values(self, unit: Mapping[str, Any]) -> dict[str, float]:
        defaults = {k: (lo + hi) / 2 for k, (lo, hi) in self.variables.items()}
        return defaults | dict(unit.get("value") or {})

    def evaluate(
        self, unit: Mapping[str, Any], seed: int, engine: str, n_years: int
    ) -> pd.DataFrame:
        """One row: ``year = 0`` (the first), arm ``"f"``, replicate 0 and ``y``."""
        return self.evaluate_points(dict(unit, points=[dict(unit)]), seed, engine, n_years).drop(
            columns="point"
        )

    def evaluate_points(
        self, unit: Mapping[str, Any], seed: int, engine: str, n_years: int
    ) -> pd.DataFrame:
        """Every point of a unit at once: ``point, year, arm, replicate, y``."""
        pts = unit["points"]
        y = [float(self.f(self._values(p))) for p in pts]
        return pd.DataFrame(
            {"point": [p["point"] for p in pts], "year": 0, "arm": "f", "replicate": 0, "y": y}
        )


class Ishigami(FunctionModel):
    r"""The Ishigami function (a = 7, b = 0.1) and an unread variable ``x4``.

    Analytic indices (Ishigami & Homma 1990): :math:`V = a^2/8 + b\pi^4/5 + b^2\pi^8/18 + 1/2`,
    :math:`S_1 = (1 + b\pi^4/5)^2 / (2V)`, :math:`S_2 = a^2/(8V)`, :math:`S_3 = 0`,
    :math:`S_{T3} = 8 b^2 \pi^8 / (225 V)`, :math:`S_{T1} = S_1 + S_{T3}`, :math:`S_{T2} = S_2`:
    0.314, 0.442, 0 and 0.558, 0.442, 0.244.
    """

    name = "ishigami"
    a, b = 7.0, 0.1
    variables: ClassVar[dict[str, tuple[float, float]]] = {
        f"x{i}": (-math.pi, math.pi) for i in range(1, 5)
    }
    source = "Ishigami & Homma (1990); x4 is never read"

    def f(self, x: Mapping[str, float]) -> float:
        r""":math:`\sin x_1 + a \sin^2 x_2 + b x_3^4 \sin x_1`."""
        x1, x2, x3 = x["x1"], x["x2"], x["x3"]
        return math.sin(x1) + self.a * math.sin(x2) ** 2 + self.b * x3**4 * math.sin(x1)

    @classmethod
    def analytic(cls) -> pd.DataFrame:
        """First-order and total indices of x1..x4, from the closed form."""
        a, b, pi = cls.a, cls.b, math.pi
        v = a**2 / 8 + b * pi**4 / 5 + b**2 * pi**8 / 18 + 0.5
        s1 = (1 + b * pi**4 / 5) ** 2 / (2 * v)
        s2 = a**2 / (8 * v)
        st3 = 8 * b**2 * pi**8 / (225 * v)
        return pd.DataFrame(
            {"S1": [s1, s2, 0.0, 0.0], "ST": [s1 + st3, s2, st3, 0.0]},
            index=["x1", "x2", "x3", "x4"],
        )


class SobolG(FunctionModel):
    r"""Sobol's G function with ``a = (0, 1, 4.5, 9, 99, 99)``.

    Analytic indices: :math:`V_i = 1/(3(1+a_i)^2)`, :math:`V = \prod_i (1 + V_i) - 1`,
    :math:`S_i = V_i / V`, :math:`S_{Ti} = V_i \prod_{j \ne i}(1 + V_j) / V`.
    """

    name = "sobol_g"
    a = (0.0, 1.0, 4.5, 9.0, 99.0, 99.0)
    variables: ClassVar[dict[str, tuple[float, float]]] = {f"x{i}": (0.0, 1.0) for i in range(1, 7)}
    source = "Saltelli & Sobol' (1995)"

    def f(self, x: Mapping[str, float]) -> float:
        r""":math:`\prod_i (|4 x_i - 2| + a_i) / (1 + a_i)`."""
        return float(
            np.prod([(abs(4 * x[f"x{i + 1}"] - 2) + a) / (1 + a) for i, a in enumerate(self.a)])
        )

    @classmethod
    def analytic(cls) -> pd.DataFrame:
        """First-order and total indices from the closed form."""
        vi = np.array([1 / (3 * (1 + a) ** 2) for a in cls.a])
        v = np.prod(1 + vi) - 1
        st = [vi[i] * np.prod(np.delete(1 + vi, i)) / v for i in range(len(vi))]
        return pd.DataFrame({"S1": vi / v, "ST": st}, index=list(cls.variables))


class PlantedBox(FunctionModel):
    """1 inside the planted box ``0.2 < u1 < 0.5 and u2 > 0.7`` (u3, u4 are never read), else 0."""

    name = "planted_box"
    variables: ClassVar[dict[str, tuple[float, float]]] = {f"u{i}": (0.0, 1.0) for i in range(1, 5)}
    box: ClassVar[dict[str, tuple[float, float]]] = {"u1": (0.2, 0.5), "u2": (0.7, 1.0)}
    source = "synthetic: a planted box for scenario discovery"

    def f(self, x: Mapping[str, float]) -> float:
        """Return 1 inside the planted box, else 0."""
        return float(all(lo < x[k] < hi for k, (lo, hi) in self.box.items()))


class PairedSynthetic(FunctionModel):
    """Two arms on the same replicates: ``a = x1 + e_a``, ``b = a + 0.5 + x2 + e_b``.

    The noise ``e`` (SD 0.05) is drawn per replicate from the study's classroom seeds, so the
    difference ``b - a`` lies in ``[0.5, 1.5]`` up to noise: ``b - a > 0`` holds at every point
    by construction and ``a - b > 0`` at none.
    """

    name = "paired"
    replicated = True
    variables: ClassVar[dict[str, tuple[float, float]]] = {"x1": (0.0, 1.0), "x2": (0.0, 1.0)}
    source = "synthetic: a claim true by construction"

    def arms(self, study_arms: Sequence[str]) -> list[str]:
        """Arms ``a`` and ``b``."""
        return ["a", "b"]

    def metrics(self) -> list[str]:
        """One metric, ``m``."""
        return ["m"]

    evaluate_points = None  # type: ignore[assignment]  # one point at a time (noise per replicate)

    def evaluate(
        self, unit: Mapping[str, Any], seed: int, engine: str, n_years: int
    ) -> pd.DataFrame:
        """One row per arm and replicate (the unit's classrooms)."""
        from toolkit.model.cohort import classroom_seed

        x = self._values(unit)
        rows = []
        for i in range(unit["start"], unit["stop"]):
            e = np.random.default_rng(classroom_seed(seed, i)).normal(0.0, 0.05, 2)
            a = x["x1"] + e[0]
            rows += [(0, "a", i, a), (0, "b", i, a + 0.5 + x["x2"] + e[1])]
        return pd.DataFrame(rows, columns=["year", "arm", "replicate", "m"])


#: The built-in design models by name.
MODELS: dict[str, DesignModel] = {
    "classroom": ClassroomModel(),
    "ishigami": Ishigami(),
    "sobol_g": SobolG(),
    "planted_box": PlantedBox(),
    "paired": PairedSynthetic(),
}


def get_model(name: str) -> DesignModel:
    """Return a built-in design model, or import a plug-in named ``"module:attribute"``.

    Raises
    ------
    ValueError
        For an unknown name (with the built-in names) or a plug-in that cannot be imported.
    """
    if name in MODELS:
        return MODELS[name]
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            obj = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"model {name!r}: cannot import it ({exc}).") from None
        return obj() if isinstance(obj, type) else obj
    from toolkit.model.params import suggest_name

    raise ValueError(
        f"model {name!r} is not built in.{suggest_name(name, list(MODELS))} Built in: "
        f"{list(MODELS)}; a plug-in is named 'package.module:attribute'."
    )


def evaluate_unit(unit: Mapping[str, Any], seed: int, engine: str, n_years: int) -> pd.DataFrame:
    """Evaluate the design points of one runner work unit with the unit's model.

    The study runner calls this through the unit's ``evaluate`` entry, in the worker process
    that runs the unit; it returns the part the runner writes. Each point is evaluated on its
    own (its parameters, its design values), on the unit's classrooms.

    Returns
    -------
    pandas.DataFrame
        ``point, year, arm, replicate`` and the model's metric columns, for every point.
    """
    model = get_model(unit["model"])
    if (
        getattr(model, "evaluate_points", None) is not None
    ):  # a cheap model evaluates the unit's points at once
        return model.evaluate_points(unit, seed, engine, n_years)
    frames = []
    for p in unit["points"]:
        one = {k: v for k, v in unit.items() if k != "points"} | p
        df = model.evaluate(one, seed, engine, n_years)
        df.insert(0, "point", p["point"])
        frames.append(df)
    return pd.concat(frames, ignore_index=True)
