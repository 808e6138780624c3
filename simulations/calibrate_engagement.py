"""Publish the emulator calibration of the engagement weights: posterior, rows, checks.

The calibration itself is one command (resumable: finished design points stay in the run's
``design.csv``; settings in ``toolkit/calibration/data/emulator.toml``):

    ./run.sh python -m toolkit calibrate --method emulator --workers 2
    ./run.sh python -m toolkit calibrate --method emulator --workers 2 --resume   # after a stop

This script reads the finished run folder and writes what the repository keeps of it:

- ``simulations/calibrated/engagement-posterior.csv``: 1000 equally weighted draws of the
  posterior (systematic resampling of the particles), the format of ``posterior.csv``, for
  ``[parameters] from = "posterior"``, ``[robustness] over = "posterior"`` and
  ``validate --posterior``;
- ``simulations/calibrated/engagement-calibration.txt``: each parameter's prior and posterior
  (median, 90% interval), the rows that inform it, the correlation of the fitted rows' Monte
  Carlo errors, the emulator's check, the tempering stages,
  the predictions of every row (fitted and held out) with verdicts, the leave-one-out table
  with its coverage, and the time.

    ./run.sh python simulations/calibrate_engagement.py [--run runs/calibration-emulator]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from toolkit.calibration.abc import load_posterior, sample_posterior
from toolkit.calibration.emulator import mc_correlation

HERE = Path(__file__).resolve().parent


def informing_rows(info: pd.DataFrame, threshold: float = 1.0) -> dict[str, str]:
    """Per parameter, the rows whose model value moves by at least ``threshold`` of their SDs
    over its prior (strongest first), or the strongest one if none does."""
    out = {}
    for p in info.columns:
        col = info[p].sort_values(ascending=False)
        strong = col[col >= threshold]
        pick = strong if len(strong) else col.iloc[:1]
        out[p] = ", ".join(f"{r} ({v:.1f})" for r, v in pick.items())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="runs/calibration-emulator")
    parser.add_argument("--out", default=str(HERE / "calibrated"))
    args = parser.parse_args()
    run, out = Path(args.run), Path(args.out)
    manifest = json.loads((run / "manifest.json").read_text())
    cfg = manifest["config"]
    post = load_posterior(run)
    draws = sample_posterior(post, 1000, int(cfg["seed"]))
    draws.assign(weight=1.0 / len(draws)).to_csv(
        out / "engagement-posterior.csv", index=False, float_format="%.6g"
    )
    summ = pd.read_csv(run / "posterior_summary.csv", index_col=0)
    info = pd.read_csv(run / "information.csv", index_col=0)
    preds = pd.read_csv(run / "predictions.csv")
    check = pd.read_csv(run / "emulator_check.csv")
    stages = pd.read_csv(run / "populations.csv")
    cv = pd.read_csv(run / "crossval.csv")
    rows = informing_rows(info)
    f = "{:.3g}".format
    lines = [
        "Emulator calibration of the engagement weights on the trial record (issue 18)",
        f"run {run} | {cfg['design']} design points + {cfg['check']} check points, "
        f"{cfg['classrooms']} classrooms per arm | {cfg['particles']} particles | seed "
        f"{cfg['seed']} | {cfg['workers']} worker(s) | commit "
        f"{(manifest.get('git') or {}).get('commit', '')[:10]}",
        f"time: {manifest['seconds'] / 60:.1f} min in this session (design "
        f"{manifest['seconds_design'] / 60:.1f} min of it; see benchmarks/README.md for the "
        "whole calibration)",
        f"tempering: {len(stages)} stages, temperature reached 1: "
        f"{manifest['temperature_reached_1']}",
        "",
        "Fitted rows: " + ", ".join(cfg["rows"]),
        "",
        "Posterior (prior uniform from 0): median [90% interval]; default; rows that inform it "
        "(their model value moves by that many of their SDs over the prior)",
    ]
    for p, r in summ.iterrows():
        lines.append(
            f"  {p:<28} {f(r['median']):>7} [{f(r['q05'])}, {f(r['q95'])}]  prior "
            f"[{f(r['prior_low'])}, {f(r['prior_high'])}]  default {f(r['default'])}"
        )
        lines.append(f"  {'':<28} informed by: {rows[p]}")
    lines += ["", "Sensitivity of each fitted row to each parameter (row SDs over the prior):"]
    lines.append(info.round(2).to_string())
    fitted = list(cfg["rows"])
    corr = mc_correlation(pd.read_csv(run / "design.csv"), fitted)
    lines += [
        "",
        "Correlation of the fitted rows' Monte Carlo errors (delete-a-group jackknife over the "
        "design's classrooms, pooled over its points; in the likelihood):",
        pd.DataFrame(corr, index=fitted, columns=range(1, len(fitted) + 1)).round(2).to_string(),
    ]
    lines += ["", "Emulator check on held-out model runs (RMSE in the row's SDs, 90% coverage):"]
    lines.append(check.round(3).to_string(index=False))
    lines += ["", "Tempering stages:", stages.round(4).to_string(index=False)]
    lines += [
        "",
        "Posterior predictive of every emulated row (model: the emulator with its error; pred: "
        "plus the row's own SD), 90% intervals:",
        preds.round(3).to_string(index=False),
        "",
        f"Leave-one-out (fitted rows refitted without themselves; held-out rows from the full "
        f"posterior): {cv['covered'].mean():.0%} of {len(cv)} rows inside their 90% predictive "
        "intervals",
        cv.round(3).to_string(index=False),
    ]
    text = "\n".join(lines) + "\n"
    (out / "engagement-calibration.txt").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
