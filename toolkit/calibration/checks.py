"""Calibration targets and held-back checks of the model: the table of docs/odd.md section 10.

(This module was ``toolkit.model.checks``; it lives in the calibration package, whose
quantities it evaluates, so that the model layer imports nothing above it.)

A thin view of :mod:`toolkit.calibration`, kept for its names: each entry of :data:`CHECKS` is
a row of ``toolkit/calibration/data/targets.csv`` with role ``target`` (a parameter was tuned
to it) or
``check`` (held back, never fitted), and the model computes it with the quantity of the same
row in :mod:`toolkit.calibration.quantities`, the single implementation (arms on common random
numbers, Monte Carlo standard errors over classrooms). :func:`evaluate` gives the model's value
with its standard error and whether it passes the row (:func:`toolkit.calibration.targets.passes`:
inside the row's range, or, for a row with only a value and SD, within two combined SDs);
``simulations/checks.py`` writes the full-size table, ``python -m toolkit validate`` the
validation report with the same numbers, and ``tests/test_checks.py`` recomputes each row at a
smaller size.

Every quantity is computed the way the study that measured it did, as far as the model allows:
within-class ability grouping *alone* (no remediation, no ability-sorted peer networks) against
whole-class teaching (:func:`grouping_arms`); ability-sorted against randomly formed groups
with the same adaptation; the grouping effect by quintile of prior achievement; the class-size
effect in percentile points of the regular classes' distribution, at the median (the
calibrated reading) and as Krueger's mean percentile rank; one adult per student;
scaffolding's effect on the test; the change of interest over a year; and the multilevel
structure of real class-nested data (nlschools, egsingle).

References
----------
.. [1] Lou, Y., Abrami, P. C., Spence, J. C., Poulsen, C., Chambers, B., & d'Apollonia, S.
   (1996). Within-class grouping: a meta-analysis. *Review of Educational Research*, 66(4),
   423-458.
.. [2] Steenbergen-Hu, S., Makel, M. C., & Olszewski-Kubilius, P. (2016). What one hundred years
   of research says about the effects of ability grouping and acceleration on K-12 students'
   academic achievement. *Review of Educational Research*, 86(4), 849-899.
.. [3] Krueger, A. B. (1999). Experimental estimates of education production functions.
   *The Quarterly Journal of Economics*, 114(2), 497-532.
.. [4] VanLehn, K. (2011). The relative effectiveness of human tutoring, intelligent tutoring
   systems, and other tutoring systems. *Educational Psychologist*, 46(4), 197-221.
.. [5] Dignath, C., & Büttner, G. (2008). Components of fostering self-regulated learning
   among students. *Metacognition and Learning*, 3(3), 231-264.
.. [6] Hill, C. J., Bloom, H. S., Black, A. R., & Lipsey, M. W. (2008). Empirical benchmarks
   for interpreting effect sizes in research. *Child Development Perspectives*, 2(3), 172-177.
.. [7] Frenzel, A. C., Goetz, T., Pekrun, R., & Watt, H. M. G. (2010). Development of
   mathematics interest in adolescence. *Journal of Research on Adolescence*, 20(2), 507-537.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from toolkit.calibration.quantities import MASTER_SEED, QUANTITIES, Simulations, compute
from toolkit.calibration.quantities import grouping_arms as grouping_arms
from toolkit.calibration.targets import evaluate as compare
from toolkit.calibration.targets import load_targets
from toolkit.model.params import Parameters

__all__ = ["CHECKS", "SEED", "Check", "evaluate", "grouping_arms"]

#: Master seed of the checks (the calibration's).
SEED = MASTER_SEED


@dataclass(frozen=True)
class Check:
    """One row of the targets file that the model is checked against.

    Attributes
    ----------
    name : str
        The row's ``id``.
    quantity : str
        The registered quantity (:data:`toolkit.calibration.quantities.QUANTITIES`).
    description : str
        How the model computes it.
    low, high : float
        The row's range (NaN where it has none, or for an open side).
    value, sd : float
        The published value and its SD (NaN where the row gives a range only).
    published : str
        The published value(s), as the source reports them (the row's ``location``).
    source : str
    role : {"target", "check"}
        ``"target"``: a parameter was tuned to it; ``"check"``: held back.
    note : str
        What the model can and cannot represent of it.
    """

    name: str
    quantity: str
    description: str
    low: float
    high: float
    value: float
    sd: float
    published: str
    source: str
    role: str
    note: str = ""


def _checks() -> tuple[Check, ...]:
    t = load_targets(known=True)
    return tuple(
        Check(
            name=str(rid),
            quantity=r["quantity"],
            description=QUANTITIES[r["quantity"]].description,
            low=float(r["low"]),
            high=float(r["high"]),
            value=float(r["value"]),
            sd=float(r["sd"]),
            published=r["location"],
            source=r["source"],
            role=r["role"],
            note=r["note"],
        )
        for rid, r in t.iterrows()
        if r["role"] in ("target", "check")
    )


#: Every calibration target and held-back check, in the order of the targets file
#: (``toolkit/calibration/data/targets.csv``; docs/odd.md section 10).
CHECKS: tuple[Check, ...] = _checks()


def evaluate(
    params: Parameters | None = None,
    n_classrooms: int = 200,
    seed: int = SEED,
    names: list[str] | None = None,
) -> pd.DataFrame:
    """Compute every check (or those named) and whether the model passes it.

    Parameters
    ----------
    params : Parameters, optional
        Defaults: :class:`Parameters`.
    n_classrooms : int
        Classrooms per arm (200: the size of ``python -m toolkit validate``).
    seed : int
        Master seed (classroom ``i`` has ``classroom_seed(seed, i)`` in every arm).
    names : list of str, optional
        Check names (targets-file ids); default all of :data:`CHECKS`.

    Returns
    -------
    pandas.DataFrame
        One row per check: ``name, role, quantity, value, se, low, high, inside, published,
        source, note``; ``inside`` is the verdict of
        :func:`toolkit.calibration.targets.evaluate` (inside the range, or within two combined
        SDs for a row with only a value and SD).

    Examples
    --------
    >>> t = evaluate(Parameters(n_students=8, n_days=20), 3, names=["annual_gain"])
    >>> t[["name", "role", "low", "high"]].to_dict("records")
    [{'name': 'annual_gain', 'role': 'target', 'low': 0.32, 'high': 0.41}]
    """
    known = {c.name: c for c in CHECKS}
    if names is not None:
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown checks {unknown}; expected some of {list(known)}")
    chosen = [c for c in CHECKS if names is None or c.name in names]
    sims = Simulations(params or Parameters(), n_classrooms, seed)
    measured = compute(list(dict.fromkeys(c.quantity for c in chosen)), sims=sims)
    verdicts = compare(load_targets().loc[[c.name for c in chosen]], measured).set_index("id")
    m = measured.set_index("quantity")
    return pd.DataFrame(
        [
            {
                "name": c.name,
                "role": c.role,
                "quantity": c.quantity,
                "value": float(m.loc[c.quantity, "value"]),
                "se": float(m.loc[c.quantity, "se"]),
                "low": c.low,
                "high": c.high,
                "inside": bool(verdicts.loc[c.name, "passed"]),
                "published": c.published,
                "source": c.source,
                "note": c.note,
            }
            for c in chosen
        ]
    )
