"""Calibrate the model's free parameters on published anchors, and check the defaults against them.

Nine parameters are set from data (docs/odd.md, section 10); each has one target row of
``toolkit/calibration/data/targets.csv`` (role ``target``), and the nine are solved jointly by
least squares (they interact), each residual scaled by its row's SD:

- ``learning_rate``: ``annual_gain``, a year's gain in true core skill (Hill et al. 2008);
- ``peer_learning``: ``peer_share``, the share of a year's learning from peers;
- ``scaffolding_effect``: ``scaffolding_self_regulation``, scaffolding's effect on
  self-regulation (Dignath & Buettner 2008);
- ``disruption``: ``star_kindergarten``, STAR's class-size effect as Krueger's statistic, with a
  kindergarten year's growth;
- ``teacher_effect_sd``: ``teacher_value_added``, the SD of teacher value added (Hanushek &
  Rivkin 2010);
- ``cooperative_learning``: ``grouping_alone``, within-class grouping against none (Lou et al.);
- ``aptitude_sd``, ``aptitude_skill_correlation``, ``school_effect_sd``: ``egsingle_gain_sd``,
  ``egsingle_gain_corr``, ``egsingle_gain_icc``, the spread of observed one-year gains, their
  correlation with the prior score and their share between schools (egsingle, grade 4 to 5).

Usage::

    ./run.sh python simulations/calibrate.py            # check the current defaults
    ./run.sh python simulations/calibrate.py --search   # re-derive the nine values

Everything else the literature measured is a held-back check (``python -m toolkit validate``).
"""

from __future__ import annotations

import argparse
import dataclasses
import math

import numpy as np

from toolkit.calibration.quantities import MASTER_SEED, Simulations, compute
from toolkit.calibration.targets import load_targets
from toolkit.model import Parameters

#: The target row each parameter is tuned on.
TUNED = {
    "learning_rate": "annual_gain",
    "peer_learning": "peer_share",
    "scaffolding_effect": "scaffolding_self_regulation",
    "disruption": "star_kindergarten",
    "teacher_effect_sd": "teacher_value_added",
    "cooperative_learning": "grouping_alone",
    "aptitude_sd": "egsingle_gain_sd",
    "aptitude_skill_correlation": "egsingle_gain_corr",
    "school_effect_sd": "egsingle_gain_icc",
}
#: Parameters searched on the Fisher-z (atanh) scale; the others on the log scale.
CORRELATIONS = {"aptitude_skill_correlation"}


def rows() -> dict[str, tuple[str, float, float]]:
    """Each tuned parameter's row: (quantity, value, sd)."""
    t = load_targets()
    return {
        k: (t.at[r, "quantity"], float(t.at[r, "value"]), float(t.at[r, "sd"]))
        for k, r in TUNED.items()
    }


def _to_x(name: str, v: float) -> float:
    return math.atanh(v) if name in CORRELATIONS else math.log(max(v, 1e-6))


def _from_x(name: str, x: float) -> float:
    return math.tanh(x) if name in CORRELATIONS else math.exp(x)


def search(n: int, base: Parameters | None = None) -> Parameters:
    """Solve the targets jointly by least squares on transformed parameters.

    The measured quantities are smooth functions of the parameters on fixed classrooms (common
    random numbers), so a trust-region solver with finite differences converges in a few dozen
    evaluations; the residuals are (model - value) / sd of each target row.
    """
    from scipy.optimize import least_squares

    p0 = base or Parameters()
    names = list(TUNED)
    target = rows()
    fields = {f.name: f for f in dataclasses.fields(Parameters)}
    x0 = np.array([_to_x(k, getattr(p0, k)) for k in names])
    lo = np.array(
        [
            _to_x(k, max(fields[k].metadata["lo"], -0.95 if k in CORRELATIONS else 1e-6))
            for k in names
        ]
    )
    hi = np.array(
        [_to_x(k, min(fields[k].metadata["hi"], 0.95 if k in CORRELATIONS else 1e9)) for k in names]
    )

    def params_of(x: np.ndarray) -> Parameters:
        return p0.replace(**{k: _from_x(k, v) for k, v in zip(names, x, strict=True)})

    def residuals(x: np.ndarray) -> np.ndarray:
        p = params_of(x)
        got = compute([target[k][0] for k in names], p, n_classrooms=n, seed=MASTER_SEED)
        r = (got["value"].to_numpy() - np.array([target[k][1] for k in names])) / np.array(
            [target[k][2] for k in names]
        )
        print(
            "  " + ", ".join(f"{k}={getattr(p, k):.4g}" for k in names),
            "->",
            np.round(r, 3).tolist(),
            flush=True,
        )
        return r

    fit = least_squares(
        residuals,
        np.clip(x0, lo, hi),
        bounds=(lo, hi),
        diff_step=0.02,
        xtol=1e-3,
        ftol=1e-4,
        max_nfev=60,
    )
    p = params_of(fit.x)
    return p.replace(**{k: float(f"{getattr(p, k):.3g}") for k in names})


def report(p: Parameters, n: int) -> None:
    """Print each target row's value against the model's."""
    target = rows()
    sims = Simulations(p, n, MASTER_SEED)
    got = compute([q for q, _, _ in target.values()], sims=sims).set_index("quantity")
    head = f"{'parameter':<28}{'value':>10}  {'target row':<28}"
    print(head + f"{'wanted':>8}{'sd':>7}{'got':>9}{'se':>8}")
    for name, (q, v, sd) in target.items():
        print(
            f"{name:<28}{getattr(p, name):>10.4g}  {TUNED[name]:<28}{v:>8.3f}{sd:>7.3f}"
            f"{got.at[q, 'value']:>9.3f}{got.at[q, 'se']:>8.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search", action="store_true", help="re-derive the calibrated values")
    parser.add_argument("--classrooms", type=int, default=300)
    args = parser.parse_args()
    p = search(args.classrooms) if args.search else Parameters()
    if args.search:
        print("\nCalibrated values (copy into toolkit/model/params.py):")
        for name in TUNED:
            print(f"  {name} = {getattr(p, name)}")
        print()
    report(p, args.classrooms)


if __name__ == "__main__":
    main()
