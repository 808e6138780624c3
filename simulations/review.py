"""The referee's measurements of issue 10, reproducible on any version of the model.

Each quantity is measured on common random numbers (the same classrooms in every arm). Usage::

    ./run.sh python simulations/review.py [--classrooms 200] [--draws 200] [--out FILE]

Prints one line per quantity; with ``--out`` also writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from toolkit.engine import simulate_arms
from toolkit.model import Parameters, classroom_seed
from toolkit.model.params import plausible_ranges
from toolkit.model.regimes import PRESETS

SEED = 20261125
ARMS = ["standardized", "individualized", "personalized", "personal"]


def seeds(n, master=SEED):
    return [classroom_seed(master, i) for i in range(n)]


def run(arms, params, n, master=SEED):
    return simulate_arms(arms, params, seeds(n, master))


def effect(df, arm, ref):
    """Paired effect on the test: mean classroom difference / SD of the reference's scores."""
    m = df.groupby(["arm", "classroom"], observed=True).score.mean().unstack(0)
    sd = df[df.arm == ref].score.std()
    return float((m[arm] - m[ref]).mean() / sd)


def mean_of(df, arm, col):
    return float(df[df.arm == arm][col].mean())


def axis_supported(name):
    return name in PRESETS["standardized"].to_dict()


def preset(name, **changes):
    d = {"base": name}
    d.update({k: v for k, v in changes.items() if axis_supported(k)})
    return d


def measure_headline(p, n):
    df = run({a: a for a in ARMS}, p, n)
    out = {}
    for a in ARMS:
        out[f"effect_{a}"] = effect(df, a, "standardized")
        out[f"core_time_{a}"] = mean_of(df, a, "core_time")
        out[f"fit_{a}"] = mean_of(df, a, "fit")
        out[f"score_{a}"] = mean_of(df, a, "score")
        out[f"sd_score_{a}"] = float(df[df.arm == a].score.std())
    # peer learning of the lowest prior quintile
    std = df[df.arm == "standardized"]
    q = pd.qcut(std.prior_score.rank(method="first"), 5, labels=False).to_numpy()
    for a in ("standardized", "individualized"):
        sub = df[df.arm == a]
        out[f"peer_low_quintile_{a}"] = float(sub.peer_learning.to_numpy()[q == 0].mean())
    return out


def param_supported(name):
    return name in Parameters.names()


def measure_floor_and_remediation(p, n):
    out = {}
    if param_supported("core_floor"):
        # the school's floor, applied alike to every regime
        q = p.replace(core_floor=0.5)
        df = run({a: a for a in ARMS}, q, n)
        for a in ARMS[1:]:
            out[f"effect_{a}_school_floor05"] = effect(df, a, "standardized")
        for a in ARMS:
            out[f"core_time_{a}_school_floor05"] = mean_of(df, a, "core_time")
    if axis_supported("core_floor"):
        df = run(
            {
                "standardized": "standardized",
                "individualized": preset("individualized", core_floor=0.0),
                "personalized": preset("personalized", core_floor=0.0),
            },
            p,
            n,
        )
        out["effect_personalized_floor0"] = effect(df, "personalized", "standardized")
        out["effect_individualized_floor0"] = effect(df, "individualized", "standardized")
        out["core_time_personalized_floor0"] = mean_of(df, "personalized", "core_time")
    df = run(
        {"standardized": "standardized", "ind_norem": preset("individualized", remediation=0.0)},
        p,
        n,
    )
    out["effect_individualized_no_remediation"] = effect(df, "ind_norem", "standardized")
    return out


def measure_groups(p, n):
    out = {}
    arms = {
        "standardized": "standardized",
        "ind3": "individualized",
        "ind21": preset("individualized", n_groups=p.n_students),
        "random3": preset("standardized", n_groups=3),
    }
    df = run(arms, p, n)
    for a in arms:
        out[f"score_{a}"] = mean_of(df, a, "score")
    p2 = p.replace(teacher_capacity=2.0)
    df2 = run(
        {"standardized": "standardized", "random3": preset("standardized", n_groups=3)}, p2, n
    )
    out["score_standardized_capacity2"] = mean_of(df2, "standardized", "score")
    out["score_random3_capacity2"] = mean_of(df2, "random3", "score")
    return out


def measure_personal_low_sr(p, n):
    p1 = p.replace(self_regulation_mean=0.1, self_regulation_sd=0.03)
    df = run({"standardized": "standardized", "personal": "personal"}, p1, n)
    return {
        "fit_personal_sr01": mean_of(df, "personal", "fit"),
        "fit_standardized_sr01": mean_of(df, "standardized", "fit"),
    }


def grouping_arms(p):
    """Within-class ability grouping alone, and random groups with the same adaptation."""
    alone = {"base": "standardized", "n_groups": 3, "grouping": "ability", "path_adaptation": 1.0}
    rand = {"base": "standardized", "n_groups": 3, "grouping": "random", "path_adaptation": 1.0}
    if axis_supported("practice_individualization"):
        alone["practice_individualization"] = 0.0
        rand["practice_individualization"] = 0.0
    return alone, rand


def measure_checks(p, n):
    out = {}
    alone, rand = grouping_arms(p)
    df = run({"standardized": "standardized", "grouped": alone, "random": rand}, p, n)
    out["grouping_alone"] = effect(df, "grouped", "standardized")
    out["sorted_vs_random"] = effect(df, "grouped", "random")
    std = df[df.arm == "standardized"]
    q = pd.qcut(std.prior_score.rank(method="first"), 5, labels=False).to_numpy()
    sd = std.score.std()
    g = df[df.arm == "grouped"].score.to_numpy()
    s = std.score.to_numpy()
    out["grouping_by_quintile"] = [float((g[q == k] - s[q == k]).mean() / sd) for k in range(5)]
    small = run({"s": "standardized"}, p.replace(n_students=15), n)
    big = run({"s": "standardized"}, p.replace(n_students=23), n)
    sd_big = big.score.std()
    d = (small.score.mean() - big.score.mean()) / sd_big
    from scipy.stats import norm

    out["class_size_sd"] = float(d)
    out["class_size_percentile_points"] = float(100 * (norm.cdf(d) - 0.5))
    gain_big = float((big.core_end - big.core_start).mean())
    gain_small = float((small.core_end - small.core_start).mean())
    out["class_size_share_of_year"] = (gain_small - gain_big) / gain_big
    tutor = {"base": "individualized", "n_groups": p.n_students, "grouping": "ability"}
    pt = p.replace(teacher_capacity=float(p.n_students))
    df = run({"standardized": "standardized", "tutor": tutor}, pt, n)
    out["tutoring_vs_standardized_capacity_N"] = effect(df, "tutor", "standardized")
    df = run({"with": "personal", "without": {"base": "personal", "scaffolding": 0.0}}, p, n)
    out["scaffolding_on_test"] = effect(df, "with", "without")
    sd0 = df[df.arm == "with"].self_regulation_start.std()
    out["scaffolding_on_self_regulation"] = float(
        (mean_of(df, "with", "self_regulation_end") - mean_of(df, "without", "self_regulation_end"))
        / sd0
    )
    return out


def draws(n_draws, rng):
    r = plausible_ranges()
    r = r[~r.integer]
    out = []
    for _ in range(n_draws):
        row = {}
        for name, x in r.iterrows():
            if x.scale == "log":
                row[name] = float(np.exp(rng.uniform(np.log(x.low), np.log(x.high))))
            else:
                row[name] = float(rng.uniform(x.low, x.high))
        out.append(row)
    return out


def measure_box(p, n_draws, n):
    """Share of random plausible draws where each headline conclusion holds."""
    rng = np.random.default_rng(7)
    rows = []
    arms = {a: a for a in ARMS}
    if axis_supported("core_floor"):
        arms |= {
            "individualized_floor0": preset("individualized", core_floor=0.0),
            "personalized_floor0": preset("personalized", core_floor=0.0),
        }
    for values in draws(n_draws, rng):
        q = p.replace(**values)
        df = run(arms, q, n, master=SEED + 1)
        e = {a: effect(df, a, "standardized") for a in arms}
        sd = {a: float(df[df.arm == a].groupby("classroom").score.std().mean()) for a in arms}
        row = dict(values)
        row |= {f"e_{a}": e[a] for a in arms}
        row |= {f"sd_{a}": sd[a] for a in arms}
        rows.append(row)
    t = pd.DataFrame(rows)
    out = {
        "box_pers_gt_ind": float((t.e_personalized > t.e_individualized).mean()),
        "box_personal_gt_std": float((t.e_personal > 0).mean()),
        "box_only_ind_narrows": float(
            (
                (t.sd_individualized < t.sd_standardized)
                & (t.sd_personalized >= t.sd_standardized)
                & (t.sd_personal >= t.sd_standardized)
            ).mean()
        ),
    }
    if param_supported("core_floor"):
        rows2 = []
        for values in draws(n_draws, np.random.default_rng(7)):
            q = p.replace(**{**values, "core_floor": 0.5})
            df = run({a: a for a in ARMS}, q, n, master=SEED + 1)
            rows2.append({a: effect(df, a, "standardized") for a in ARMS})
        t2 = pd.DataFrame(rows2)
        out["box_pers_gt_ind_school_floor05"] = float((t2.personalized > t2.individualized).mean())
    if "e_personalized_floor0" in t:
        out["box_pers_gt_ind_floor0"] = float(
            (t.e_personalized_floor0 > t.e_individualized_floor0).mean()
        )
    lead = t.e_individualized
    out["box_rankcorr_practice_efficacy_ind_lead"] = float(
        t.practice_efficacy.rank().corr(lead.rank())
    )
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--classrooms", type=int, default=200)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--box-classrooms", type=int, default=30)
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    p = Parameters()
    n = args.classrooms
    res = {}
    for f in (
        measure_headline,
        measure_floor_and_remediation,
        measure_groups,
        measure_personal_low_sr,
        measure_checks,
    ):
        t0 = time.time()
        part = f(p, n)
        res |= part
        for k, v in part.items():
            print(f"{k:45s} {np.round(v, 4).tolist() if isinstance(v, list) else round(v, 4)}")
        print(f"  ({f.__name__}: {time.time() - t0:.0f} s)", flush=True)
    if args.draws:
        t0 = time.time()
        part = measure_box(p, args.draws, args.box_classrooms)
        res |= part
        for k, v in part.items():
            print(f"{k:45s} {round(v, 4)}")
        print(f"  (box: {time.time() - t0:.0f} s)")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
