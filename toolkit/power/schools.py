r"""What the school level costs a trial: three-level ICCs from data, and the clusters needed.

A real trial of teaching regimes samples classes in schools. The school level costs power in
two ways: when whole schools are randomized, the school variance enters the treatment contrast
(and the degrees of freedom count schools); when classes are randomized one per school, the
school variance is part of each class's (:math:`\rho = \rho_S + \rho_C`). Randomizing classes
within schools (blocked by school) removes it from the contrast. :func:`three_level_components`
estimates the school and class intraclass correlations, and the shares of each level's variance
a pretest explains, from three-level data (the synthetic survey of a study with
``[study] schools``, or a real survey) by :func:`toolkit.survey.nested_model`;
:func:`school_level_cost` turns them into the clusters each design needs
(:mod:`toolkit.power.closed_form`).

References
----------
.. [1] Hedges, L. V., & Hedberg, E. C. (2007). Intraclass correlation values for planning
   group-randomized trials in education. *Educational Evaluation and Policy Analysis*, 29(1),
   60-87. https://doi.org/10.3102/0162373707299706
.. [2] Konstantopoulos, S. (2008). The power of the test for treatment effects in three-level
   cluster randomized designs. *Journal of Research on Educational Effectiveness*, 1(1), 66-88.
.. [3] Raudenbush, S. W. (1997). Statistical analysis and optimal design for cluster randomized
   trials. *Psychological Methods*, 2(2), 173-185.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from toolkit.power.closed_form import clusters_for_power, schools_for_power, three_level_mde

__all__ = ["ThreeLevelComponents", "school_level_cost", "three_level_components"]


@dataclass(frozen=True)
class ThreeLevelComponents:
    r"""Variance shares of three-level data and what a covariate explains at each level.

    Attributes
    ----------
    icc_school, icc_class : float
        :math:`\rho_S = \tau_S/V`, :math:`\rho_C = \tau_C/V` of the null model
        (:math:`V = \tau_S + \tau_C + \sigma^2`).
    r2_school, r2_class, r2_student : float
        :math:`R^2_3 = 1 - \tau_S'/\tau_S`, :math:`R^2_2 = 1 - \tau_C'/\tau_C`,
        :math:`R^2_1 = 1 - \sigma'^2/\sigma^2` with the primed variances from the model with
        the covariate (0 without one; capped at 0.99, as a variance estimated at 0 would
        otherwise claim a perfect covariate).
    n_per_class, classes_per_school : float
        Mean students per class and classes per school in the data.
    schools, classes, students : int
    """

    icc_school: float
    icc_class: float
    r2_school: float
    r2_class: float
    r2_student: float
    n_per_class: float
    classes_per_school: float
    schools: int
    classes: int
    students: int


def three_level_components(
    data: pd.DataFrame,
    outcome: str = "posttest",
    covariate: str | None = "pretest",
    school: str = "school",
    cls: str = "class",
) -> ThreeLevelComponents:
    """Estimate the three-level ICCs (and a covariate's :math:`R^2` per level) of a data set.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per student (e.g. :func:`toolkit.synthetic.synthetic_survey` of one arm of a
        study with ``[study] schools``).
    outcome, covariate : str
        Outcome and (optional) covariate columns.
    school, cls : str
        School and class columns.

    Returns
    -------
    ThreeLevelComponents
        From :func:`toolkit.survey.nested_model` (REML) of ``outcome ~ 1`` and
        ``outcome ~ covariate``, both with ``(1 | school/class)``, on the rows with both
        observed.
    """
    from toolkit.survey.multilevel import nested_model

    cols = [outcome, school, cls] + ([covariate] if covariate else [])
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ValueError(f"data: column(s) {missing} are missing; got {list(data.columns)}.")
    d = data[cols].dropna().rename(columns={outcome: "_y", school: "_s", cls: "_c"})
    null = nested_model(d, "_y ~ 1 + (1 | _s/_c)")
    v0 = null.random["vcov"].to_numpy()  # class:school, school, residual
    r2 = [0.0, 0.0, 0.0]
    if covariate:
        cond = nested_model(d.rename(columns={covariate: "_x"}), "_y ~ _x + (1 | _s/_c)")
        v1 = cond.random["vcov"].to_numpy()
        r2 = [min(max(1 - a / b, 0.0), 0.99) if b > 0 else 0.0 for a, b in zip(v1, v0, strict=True)]
    f = null.fit.iloc[0]
    return ThreeLevelComponents(
        icc_school=float(f["icc_school"]),
        icc_class=float(f["icc_class"]),
        r2_school=r2[1],
        r2_class=r2[0],
        r2_student=r2[2],
        n_per_class=float(f["mean_class_size"]),
        classes_per_school=float(f["nclasses"]) / float(f["ngroups"]),
        schools=int(f["ngroups"]),
        classes=int(f["nclasses"]),
        students=int(f["nobs"]),
    )


def school_level_cost(
    components: ThreeLevelComponents,
    effect: float,
    *,
    classes_per_school: int = 2,
    n_per_class: float | None = None,
    covariate: bool = True,
    alpha: float = 0.05,
    power: float = 0.8,
) -> pd.DataFrame:
    r"""Clusters a trial needs for the power asked, with the school level and without it.

    Parameters
    ----------
    components : ThreeLevelComponents
        The ICCs (and :math:`R^2` per level) of :func:`three_level_components`.
    effect : float
        The effect to detect, in units of the total SD.
    classes_per_school : int
        Classes per school in the school-level designs.
    n_per_class : float, optional
        Students per class (default: the data's mean).
    covariate : bool
        Analyse with the covariate (its :math:`R^2` per level) or without.
    alpha, power : float

    Returns
    -------
    pandas.DataFrame
        One row per design: ``design``, ``randomized`` (the unit), ``units`` (schools, or
        classes), ``classes`` and ``students`` needed, and ``mde`` at those units:

        - ``classes, one per school``: the two-level trial
          (:func:`~toolkit.power.closed_form.clusters_for_power`) with
          :math:`\rho = \rho_S + \rho_C` (each class from another school: the school variance
          is the class's);
        - ``classes, no school level``: the same with :math:`\rho = \rho_C`, as if schools did
          not differ (what a two-level analysis of classes in one school, or a model without
          schools, would plan);
        - ``schools``: whole schools randomized, :math:`m` classes each (three-level,
          :func:`~toolkit.power.closed_form.schools_for_power`);
        - ``schools, no school level``: the same with :math:`\rho_S = 0`;
        - ``classes within schools``: half of each school's classes treated, fixed school
          effects (the school variance drops out).

        The cost of the school level is the difference between a design and its
        ``no school level`` row.
    """
    c = components
    n = float(n_per_class if n_per_class is not None else c.n_per_class)
    m = int(classes_per_school)
    r3, r2, r1 = (c.r2_school, c.r2_class, c.r2_student) if covariate else (0.0, 0.0, 0.0)
    g = 1 if covariate else 0
    rows = []
    for name, rho_s in (
        ("classes, one per school", c.icc_school),
        ("classes, no school level", 0.0),
    ):
        rho = rho_s + c.icc_class
        between = (rho_s * r3 + c.icc_class * r2) / rho if rho > 0 else 0.0
        kw = {"r2_between": between, "r2_within": r1} if covariate else {}
        j = clusters_for_power(effect, n, rho, alpha, power, **kw)
        rows.append({"design": name, "randomized": "class", "units": j, "classes": j})
    three = {"n_per_class": n, "icc_class": c.icc_class, "covariates": g}
    three |= {"r2_school": r3, "r2_class": r2, "r2_student": r1}
    designs = (
        ("schools", "school", c.icc_school),
        ("schools, no school level", "school", 0.0),
        ("classes within schools", "class_in_school", c.icc_school),
    )
    for name, randomize, rho_s in designs:
        kw = three | {"icc_school": rho_s, "classes_per_school": m, "randomize": randomize}
        k = schools_for_power(effect, alpha, power, **kw)
        rows.append(
            {"design": name, "randomized": randomize, "units": k, "classes": k * m, "schools": k}
        )
    out = pd.DataFrame(rows)
    out["students"] = out["classes"] * n
    out["mde"] = [
        _mde(r, c, n, m, r3, r2, r1, g, alpha, power, covariate) for r in out.to_dict("records")
    ]
    return out


def _mde(
    row: dict,
    c: ThreeLevelComponents,
    n: float,
    m: int,
    r3: float,
    r2: float,
    r1: float,
    g: int,
    alpha: float,
    power: float,
    covariate: bool,
) -> float:
    """Minimum detectable effect of one row of :func:`school_level_cost` at its units."""
    from toolkit.power.closed_form import cluster_trial_mde

    if row["randomized"] == "class":
        rho_s = c.icc_school if row["design"] == "classes, one per school" else 0.0
        rho = rho_s + c.icc_class
        between = (rho_s * r3 + c.icc_class * r2) / rho if rho > 0 else 0.0
        kw = {"r2_between": between, "r2_within": r1} if covariate else {}
        return cluster_trial_mde(int(row["units"]), n, rho, alpha, power, **kw)
    rho_s = 0.0 if row["design"].endswith("no school level") else c.icc_school
    return three_level_mde(
        int(row["units"]),
        alpha,
        power,
        classes_per_school=m,
        n_per_class=n,
        icc_school=rho_s,
        icc_class=c.icc_class,
        randomize=row["randomized"],
        covariates=g,
        r2_school=r3,
        r2_class=r2,
        r2_student=r1,
    )
