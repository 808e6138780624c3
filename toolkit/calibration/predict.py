r"""Predictions with parameter uncertainty: a study run over posterior draws.

A study file with ``[parameters] from = "posterior"`` (see :mod:`toolkit.study.spec`) runs
every arm on the same classrooms once per draw :math:`d = 1..D` of the calibrated parameters.
For each arm, metric and draw the study's summary gives the paired difference against the
reference, :math:`\hat\Delta_d`, with its classroom-sampling standard error
:math:`s_d` (from the t interval over classrooms). They combine into three intervals:

- **classroom sampling**: :math:`\bar\Delta \pm 1.96\,\bar s`, with
  :math:`\bar s^2 = \frac1D\sum_d s_d^2`: what the interval would be if the parameters were
  known;
- **parameters**: the 2.5% and 97.5% quantiles of :math:`\hat\Delta_d` over draws. Every draw
  runs the same classrooms (common random numbers), so their sampling errors are largely
  shared and the spread over draws is the parameters' uncertainty;
- **both**: the 2.5% and 97.5% quantiles of the mixture :math:`\frac1D\sum_d N(\hat\Delta_d,
  s_d^2)`, whose variance is :math:`\operatorname{Var}_d(\hat\Delta_d) + \bar s^2` (the law
  of total variance; Draper 1995).

Regimes that the calibration's targets and checks do not cover (everything but the
standardized and individualized presets) are labelled *prediction* in every table.

References
----------
.. [1] Draper, D. (1995). Assessment and propagation of model uncertainty. *Journal of the
   Royal Statistical Society B*, 57(1), 45-97.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from toolkit.model.model import resolve_schedule
from toolkit.model.regimes import PRESETS

__all__ = [
    "CHECKED_REGIMES",
    "analyse_posterior_run",
    "arm_status",
    "combine_draws",
    "format_posterior_summary",
]

#: Presets whose outcomes the calibration targets or checks (the rest are predictions).
CHECKED_REGIMES = ("standardized", "individualized")


def arm_status(spec_arm: object, years: int = 1) -> str:
    """Label an arm: ``"checked"`` if every year is a checked preset, else ``"prediction"``.

    Examples
    --------
    >>> arm_status("individualized"), arm_status("personal")
    ('checked', 'prediction')
    """
    regimes = resolve_schedule(spec_arm, years)
    checked = [PRESETS[n].to_dict() for n in CHECKED_REGIMES]
    same = all({**r.to_dict(), "name": ""} in [{**c, "name": ""} for c in checked] for r in regimes)
    return "checked" if same else "prediction"


def _mixture_quantiles(means: np.ndarray, sds: np.ndarray, qs: tuple[float, float]) -> list[float]:
    """Quantiles of an equal-weight mixture of normals, by bisection on its CDF."""
    sds = np.where(sds > 0, sds, 1e-12)
    out = []
    for q in qs:
        lo = float((means - 10 * sds).min())
        hi = float((means + 10 * sds).max())
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            if stats.norm.cdf((mid - means) / sds).mean() < q:
                lo = mid
            else:
                hi = mid
        out.append(0.5 * (lo + hi))
    return out


def combine_draws(summary: pd.DataFrame, *, value: str = "diff") -> pd.DataFrame:
    """Combine a per-draw summary into sampling, parameter and total intervals.

    Parameters
    ----------
    summary : pandas.DataFrame
        A study summary (:func:`toolkit.study.analysis.summarise`) with one ``point`` per
        posterior draw.
    value : {"diff", "mean"}
        Combine the paired differences against the reference (default) or the arm means.

    Returns
    -------
    pandas.DataFrame
        Per ``year, arm, metric``: ``estimate`` (mean over draws), ``sampling_low``,
        ``sampling_high``, ``parameter_low``, ``parameter_high``, ``total_low``,
        ``total_high``, ``sampling_se`` (root mean square of the draws' SEs),
        ``parameter_sd`` (SD over draws), ``draws``, ``n_units``.
    """
    lo_col, hi_col = ("diff_ci_low", "diff_ci_high") if value == "diff" else ("ci_low", "ci_high")
    rows = []
    for (year, arm, metric), g in summary.groupby(
        ["year", "arm", "metric"], observed=True, sort=False
    ):
        est = g[value].to_numpy(dtype=float)
        n = g["n_units"].to_numpy(dtype=float)
        tcrit = stats.t.ppf(0.975, np.maximum(n - 1, 1))
        se = ((g[hi_col] - g[lo_col]).to_numpy(dtype=float)) / (2 * tcrit)
        if np.all(np.isnan(se)):  # the reference arm's differences
            rows.append(
                {
                    "year": year,
                    "arm": arm,
                    "metric": metric,
                    "estimate": float(np.nanmean(est)),
                    "draws": len(g),
                    "n_units": int(np.nanmedian(n)),
                }
            )
            continue
        se = np.nan_to_num(se)
        mean = float(est.mean())
        s_bar = float(np.sqrt(np.mean(se**2)))
        total = _mixture_quantiles(est, se, (0.025, 0.975))
        rows.append(
            {
                "year": year,
                "arm": arm,
                "metric": metric,
                "estimate": mean,
                "sampling_low": mean - 1.96 * s_bar,
                "sampling_high": mean + 1.96 * s_bar,
                "parameter_low": float(np.quantile(est, 0.025)),
                "parameter_high": float(np.quantile(est, 0.975)),
                "total_low": total[0],
                "total_high": total[1],
                "sampling_se": s_bar,
                "parameter_sd": float(est.std(ddof=1)) if len(est) > 1 else 0.0,
                "draws": len(g),
                "n_units": int(np.median(n)),
            }
        )
    return pd.DataFrame(rows)


def _as_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """One summary table (point 0) with the combined (total) intervals, for the charts."""
    means = combine_draws(summary, value="mean").set_index(["year", "arm", "metric"])
    diffs = combine_draws(summary, value="diff").set_index(["year", "arm", "metric"])
    base = summary[summary["point"] == summary["point"].min()].copy()
    idx = pd.MultiIndex.from_frame(base[["year", "arm", "metric"]].astype({"arm": str}))
    m = means.reindex(idx)
    d = diffs.reindex(idx)
    base["mean"] = m["estimate"].to_numpy()
    base["ci_low"] = m.get("total_low", pd.Series(np.nan, index=idx)).to_numpy()
    base["ci_high"] = m.get("total_high", pd.Series(np.nan, index=idx)).to_numpy()
    base["diff"] = d["estimate"].to_numpy()
    base["diff_ci_low"] = d.get("total_low", pd.Series(np.nan, index=idx)).to_numpy()
    base["diff_ci_high"] = d.get("total_high", pd.Series(np.nan, index=idx)).to_numpy()
    ref = base["diff_ci_low"].isna() & (base["diff"].abs() < 1e-12)
    base.loc[ref & (base["metric"] == "effect_size"), ["ci_low", "ci_high"]] = 0.0
    base["point"] = 0
    base["sweep_value"] = np.nan
    return base.reset_index(drop=True)


def analyse_posterior_run(result: Any, spec: Any) -> Any:
    """Analyse a study run over posterior draws: per-draw tables, combined intervals, figures.

    Writes what :func:`toolkit.study.analysis.analyse_run` writes (``classrooms.csv``,
    ``summary.csv`` and ``tails.csv``, with ``point`` the draw) plus
    ``posterior_summary.csv`` (:func:`combine_draws` of the differences, with each arm's
    ``status``: checked or prediction) and ``posterior_draws.csv`` (the parameters of each
    draw), and draws the headline figures from the combined intervals.

    Parameters
    ----------
    result : toolkit.study.result.RunResult
    spec : toolkit.study.spec.StudySpec

    Returns
    -------
    toolkit.study.result.RunResult
        With ``summary`` the per-draw summary and ``posterior_summary`` set as an attribute.
    """
    import matplotlib.pyplot as plt

    from toolkit.charts.study import headline_figures
    from toolkit.charts.style import save_figure
    from toolkit.study.analysis import classroom_metrics, provenance_line, summarise, tails_table

    students = result.students
    classrooms = classroom_metrics(students, spec.reference)
    summary = summarise(classrooms, students, spec.reference)
    tails = tails_table(students, spec.reference)
    folder = result.folder
    classrooms.to_csv(folder / "classrooms.csv", index=False)
    summary.to_csv(folder / "summary.csv", index=False)
    tails.to_csv(folder / "tails.csv", index=False)
    combined = combine_draws(summary)
    status = {a: arm_status(s, spec.years) for a, s in spec.arms.items()}
    combined.insert(2, "status", combined["arm"].astype(str).map(status))
    combined.to_csv(folder / "posterior_summary.csv", index=False)
    spec.posterior_draws_table().rename_axis("draw").to_csv(folder / "posterior_draws.csv")
    line = provenance_line(result, spec) + f" | {spec.posterior_draws} posterior draws"
    figs = headline_figures(_as_summary(summary))
    paths = []
    for name, fig in figs.items():
        fig.suptitle(
            "Intervals: classroom sampling and parameter uncertainty together; "
            + ", ".join(a for a, s in status.items() if s == "prediction")
            + " are predictions",
            x=0.01,
            ha="left",
            fontsize=11,
        )
        paths += save_figure(fig, folder / "figures" / name, formats=spec.formats, provenance=line)
        plt.close(fig)
    result.classrooms, result.summary, result.tails, result.figures = (
        classrooms,
        summary,
        tails,
        paths,
    )
    result.posterior_summary = combined  # type: ignore[attr-defined]
    return result


def format_posterior_summary(combined: pd.DataFrame, metrics: tuple[str, ...] | None = None) -> str:
    """Format the combined intervals as text: one block per arm, one line per metric.

    Examples
    --------
    >>> c = pd.DataFrame([{"year": 0, "arm": "b", "status": "prediction", "metric": "score",
    ...     "estimate": 0.2, "sampling_low": 0.18, "sampling_high": 0.22, "parameter_low": 0.1,
    ...     "parameter_high": 0.3, "total_low": 0.09, "total_high": 0.31, "draws": 20}])
    >>> print(format_posterior_summary(c))  # doctest: +NORMALIZE_WHITESPACE
    Paired difference vs reference, over 20 posterior draws [95% intervals]
    b (prediction)
      metric  estimate  classroom sampling          parameters          both
      score    +0.200     [+0.180, +0.220]    [+0.100, +0.300]    [+0.090, +0.310]
    """
    c = combined[combined["year"] == combined["year"].max()]
    c = c[c["sampling_low"].notna()] if "sampling_low" in c else c
    if metrics is not None:
        c = c[c["metric"].isin(metrics)]
    draws = int(c["draws"].max()) if len(c) else 0
    lines = [f"Paired difference vs reference, over {draws} posterior draws [95% intervals]"]

    def iv(lo: float, hi: float) -> str:
        return f"[{lo:+.3f}, {hi:+.3f}]"

    for arm, g in c.groupby("arm", sort=False, observed=True):
        lines.append(f"{arm} ({g['status'].iloc[0]})")
        width = max(6, *(len(m) for m in g["metric"]))
        lines.append(
            f"  {'metric':<{width}}  estimate  {'classroom sampling':>18}  {'parameters':>18}"
            f"  {'both':>18}"
        )
        for r in g.itertuples():
            samp = iv(r.sampling_low, r.sampling_high)
            par, both = iv(r.parameter_low, r.parameter_high), iv(r.total_low, r.total_high)
            lines.append(
                f"  {r.metric:<{width}}  {r.estimate:+8.3f}  {samp:>18}  {par:>18}  {both:>18}"
            )
    return "\n".join(lines)
