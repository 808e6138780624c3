"""Calibrate the model's free rates on published anchors, and check the defaults against them.

Four parameters are set from data (docs/odd.md, "Calibration"); each is found by bisection on
one target while the others stay fixed, and the loop repeats until none moves:

=========================  ==========================================================  =======
parameter                  target (standardized regime unless stated)                    value
=========================  ==========================================================  =======
learning_rate              mean one-year gain in true core skill (SD)                   0.36
disruption                 small class (15) vs regular (23): difference in test score   4
                           in percentile points of the regular classes' distribution
                           (Tennessee STAR first year, Krueger 1999)
peer_learning              share of the yearly learning (all domains) that comes from    0.10
                           peers
scaffolding_effect         personal regime, scaffolding 0.15 vs 0: difference in end     0.69
                           self-regulation in SDs of starting self-regulation
=========================  ==========================================================  =======

Usage::

    ./run.sh python simulations/calibrate.py            # check the current defaults
    ./run.sh python simulations/calibrate.py --search   # re-derive the four values

Everything else that the literature measured is a held-back check, not a target (see
``simulations/review.py`` and docs/odd.md section 10).
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from toolkit.calibration.quantities import MASTER_SEED, Simulations, compute
from toolkit.model import Parameters

TARGETS = {
    "learning_rate": 0.36,
    "disruption": 4.0,
    "peer_learning": 0.10,
    "scaffolding_effect": 0.69,
}


#: The registered quantity (toolkit.calibration.quantities) each parameter is tuned on.
QUANTITY = {
    "learning_rate": "one_year_core_gain",
    "disruption": "class_size_percentile_points",
    "peer_learning": "peer_share",
    "scaffolding_effect": "scaffolding_self_regulation",
}


def measure(name: str, p: Parameters, n: int) -> float:
    """Value of the target quantity for parameter ``name`` under parameters ``p``.

    Computed by the calibration's registry (the same function as ``python -m toolkit
    validate`` and the ABC calibration), on ``n`` classrooms from the master seed.
    """
    out = compute([QUANTITY[name]], p, n_classrooms=n, seed=MASTER_SEED)
    return float(out["value"].iloc[0])


def search(n: int, base: Parameters | None = None) -> Parameters:
    """Solve the four targets jointly (they interact) by least squares on log parameters.

    The measured quantities are smooth functions of the parameters on fixed classrooms
    (common random numbers), so a trust-region solver with finite differences converges in a
    few dozen evaluations; the residuals are relative errors against the targets.
    """
    from scipy.optimize import least_squares

    p0 = base or Parameters()
    names = list(TARGETS)
    x0 = np.log([max(getattr(p0, k), 1e-6) for k in names])

    def params_of(x: np.ndarray) -> Parameters:
        return p0.replace(**{k: float(np.exp(v)) for k, v in zip(names, x, strict=True)})

    def residuals(x: np.ndarray) -> np.ndarray:
        p = params_of(x)
        r = np.array([measure(k, p, n) / TARGETS[k] - 1.0 for k in names])
        print(
            "  " + ", ".join(f"{k}={getattr(p, k):.4g}" for k in names),
            "->",
            np.round(r, 4).tolist(),
            flush=True,
        )
        return r

    fields = {f.name: f for f in dataclasses.fields(Parameters)}
    lo = np.log([max(fields[k].metadata["lo"], 1e-6) for k in names])
    hi = np.log([fields[k].metadata["hi"] for k in names])
    fit = least_squares(
        residuals,
        np.clip(x0, lo, hi),
        bounds=(lo, hi),
        diff_step=0.01,
        xtol=1e-4,
        ftol=1e-6,
        max_nfev=80,
    )
    p = params_of(fit.x)
    return p.replace(**{k: float(f"{getattr(p, k):.3g}") for k in names})


def report(p: Parameters, n: int) -> None:
    print(f"{'target':<22}{'wanted':>8}{'got':>9}")
    sims = Simulations(p, n, MASTER_SEED)
    got = compute(list(QUANTITY.values()), sims=sims).set_index("quantity")["value"]
    for name, target in TARGETS.items():
        print(f"{name:<22}{target:>8.3f}{got[QUANTITY[name]]:>9.3f}")
    more = compute(["individualized_effect", "interest_change"], sims=sims)
    d, interest = more["value"].tolist()
    print(f"\nindividualized vs standardized, test score effect: {d:.3f} SD (check: 0.05-0.30)")
    print(f"standardized regime, mean change of interest over the year {interest:+.3f} SD")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search", action="store_true", help="re-derive the calibrated values")
    parser.add_argument("--classrooms", type=int, default=300)
    args = parser.parse_args()
    p = search(args.classrooms) if args.search else Parameters()
    if args.search:
        print("\nCalibrated values (copy into toolkit/model/params.py):")
        for name in TARGETS:
            print(f"  {name} = {getattr(p, name)}")
        print()
    report(p, args.classrooms)


if __name__ == "__main__":
    main()
