r"""The validation report: every target and check against the model, patterns, docking, posterior.

:func:`write_report` (``python -m toolkit validate``) writes one self-contained HTML file
(figures embedded) and its tables as CSV:

1. **Targets and checks**: each row of ``toolkit/calibration/data/targets.csv`` and of the trial
   record (``evidence.csv``, with its mapping onto the model, :mod:`toolkit.calibration.evidence`)
   with its source and location, the published value or range, the model's value with its
   interval (Monte Carlo over classrooms at the defaults, or the posterior predictive interval
   over posterior draws and classrooms with a posterior), pass or fail and a flag on every row
   that does not pass (:func:`toolkit.calibration.targets.evaluate`). The calibration's rows
   (role ``target``) and the held-out rows (every other row) are listed apart; a user's file of
   extra rows and mappings is judged with the rest. If a cross-validation table is given
   (:func:`toolkit.calibration.crossval.cross_validate`), each row's prediction from a
   calibration without it and the coverage of the predictive intervals.
2. **Patterns** (pattern-oriented modelling, Grimm et al. 2005): qualitative regularities the
   model was not tuned to (:func:`pattern_checks`), and the shape of growth by prior
   achievement in every regime.
3. **Docking**: the engine against the Mesa model, exactly on shared seeds and in
   distribution on independent seeds (:mod:`toolkit.engine.docking`), and which bit-for-bit
   properties hold on this machine.
4. **Posterior**: the calibrated parameters' medians and 90% intervals, the effective sample
   size, the generations, the pair plot and, if a coverage run is given, the simulation-based
   calibration's coverage.

References
----------
.. [1] Grimm, V., Revilla, E., Berger, U., Jeltsch, F., Mooij, W. M., Railsback, S. F., ...
   & DeAngelis, D. L. (2005). Pattern-oriented modeling of agent-based complex systems:
   lessons from ecology. *Science*, 310(5750), 987-991. https://doi.org/10.1126/science.1116681
.. [2] Pfost, M., Hattie, J., Doerfler, T., & Artelt, C. (2014). Individual differences in
   reading development: a review of 25 years of empirical research on Matthew effects in
   reading. *Review of Educational Research*, 84(2), 203-244.
   https://doi.org/10.3102/0034654313509492
.. [3] Campbell, D. T., & Kenny, D. A. (1999). *A Primer on Regression Artifacts*. Guilford.
.. [4] Kulik, C.-L. C., Kulik, J. A., & Bangert-Drowns, R. L. (1990). Effectiveness of mastery
   learning programs: a meta-analysis. *Review of Educational Research*, 60(2), 265-299.
.. [5] Scammacca, N. K., Fall, A.-M., & Roberts, G. (2015). Benchmarks for expected annual
   academic growth for students in the bottom quartile of the normative distribution.
   *Journal of Research on Educational Effectiveness*, 8(3), 366-379.
"""

from __future__ import annotations

import base64
import io
import json
import math
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from markupsafe import Markup

from toolkit.calibration.quantities import (
    MASTER_SEED,
    QUANTITIES,
    Estimate,
    Simulations,
    compute,
    evidence_quantity,
)
from toolkit.calibration.targets import evaluate, target_scale
from toolkit.templates import render

__all__ = [
    "PRESET_ARMS",
    "docking_results",
    "growth_by_prior",
    "pattern_checks",
    "validation_tables",
    "write_report",
]

PRESET_ARMS = {
    "standardized": "standardized",
    "individualized": "individualized",
    "personalized": "personalized",
    "personal": "personal",
}


def validation_tables(targets: pd.DataFrame, measured: pd.DataFrame) -> pd.DataFrame:
    """:func:`~toolkit.calibration.targets.evaluate` with each row's centre and scale.

    Returns
    -------
    pandas.DataFrame
        The evaluation plus ``center`` and ``scale`` (:func:`target_scale`; NaN for one-sided
        rows) for charts in published units.
    """
    ev = evaluate(targets, measured)
    centers, scales = [], []
    for rid in ev["id"]:
        try:
            c, s = target_scale(targets.loc[rid])
        except Exception:  # one-sided range or a comparison without a scale
            c, s = math.nan, math.nan
        centers.append(c)
        scales.append(s)
    return ev.assign(center=centers, scale=scales)


def _quintiles(df: pd.DataFrame) -> pd.Series:
    rank = df.groupby(["arm", "replicate"])["prior_score"].rank(method="first")
    size = df.groupby(["arm", "replicate"])["prior_score"].transform("size")
    return np.minimum((5 * (rank - 1) / size).astype(int), 4) + 1


def growth_by_prior(sims: Simulations, arms: dict[str, Any] | None = None) -> pd.DataFrame:
    """Mean true core gain by quintile of prior score within the classroom, per regime.

    Returns
    -------
    pandas.DataFrame
        ``arm, quintile (1-5), gain, se, ci_low, ci_high`` over classrooms.
    """
    df = sims.arms(arms or PRESET_ARMS)
    df = df.assign(q=_quintiles(df), g=df["core_end"] - df["core_start"])
    per = df.groupby(["arm", "replicate", "q"])["g"].mean().reset_index()
    rows = []
    for (arm, q), g in per.groupby(["arm", "q"], sort=False):
        est = Estimate.mean(g["g"])
        rows.append(
            {
                "arm": arm,
                "quintile": int(q),
                "gain": est.value,
                "se": est.se,
                "ci_low": est.value - 1.96 * est.se,
                "ci_high": est.value + 1.96 * est.se,
            }
        )
    return pd.DataFrame(rows)


def pattern_checks(sims: Simulations) -> pd.DataFrame:
    """Qualitative patterns of real classrooms, checked in the model (none was tuned to them).

    Parameters
    ----------
    sims : Simulations
        The model at the parameters to check, on its classrooms.

    Returns
    -------
    pandas.DataFrame
        ``pattern, expected, source, confidence, value, ci_low, ci_high, passed``.
    """
    df = sims.arms(PRESET_ARMS)
    df = df.assign(q=_quintiles(df), g=df["core_end"] - df["core_start"])
    std = df[df["arm"] == "standardized"]

    def per_class_corr(part: pd.DataFrame, x: str, y: str) -> Estimate:
        r = part.groupby("replicate").apply(
            lambda c: np.corrcoef(c[x], c[y])[0, 1], include_groups=False
        )
        return Estimate.mean(r.to_numpy())

    rows = []

    def add(pattern, expected, source, confidence, est: Estimate, ok: bool) -> None:
        rows.append(
            {
                "pattern": pattern,
                "expected": expected,
                "source": source,
                "confidence": confidence,
                "value": est.value,
                "ci_low": est.value - 1.96 * est.se,
                "ci_high": est.value + 1.96 * est.se,
                "passed": bool(ok),
            }
        )

    m = per_class_corr(std, "prior_score", "g")
    add(
        "Matthew effect under standardized teaching: within-class correlation of the true "
        "core gain with the prior score",
        "weak either way, |r| < 0.3 (neither a strong fan spread nor strong compensation)",
        "Pfost, Hattie, Doerfler & Artelt (2014), RER 84(2): Matthew effects in reading are "
        "not a general pattern; studies find fan spread, parallel growth and compensation",
        "medium",
        m,
        abs(m.value) < 0.3,
    )
    obs = per_class_corr(std.assign(og=std["score"] - std["prior_score"]), "prior_score", "og")
    add(
        "Observed gains regress to the mean: within-class correlation of the observed gain "
        "(post-test minus pre-test) with the pre-test, standardized teaching",
        "negative (the pre-test's error enters the gain with a minus sign)",
        "Campbell & Kenny (1999), A Primer on Regression Artifacts",
        "high",
        obs,
        obs.value < 0,
    )
    per = df.groupby(["arm", "replicate", "q"])["g"].mean().unstack("q")
    d = (per.loc["individualized"] - per.loc["standardized"]).to_numpy()
    diff = Estimate.mean(d[:, 0] - d[:, 4])
    add(
        "Adaptive instruction with remediation helps weaker students more: individualized "
        "minus standardized true gain, bottom prior quintile minus top",
        "positive",
        "Kulik, Kulik & Bangert-Drowns (1990), RER 60(2), abstract: mastery-learning effects "
        "are stronger for the weaker students",
        "high",
        diff,
        diff.value > 0,
    )
    low = per.groupby(level="arm").mean().min(axis=1)
    worst = low.idxmin()
    w = Estimate.mean(per.loc[worst].min(axis=1).to_numpy())
    add(
        "Everyone learns in a year: mean true gain of the lowest-gaining prior quintile, "
        f"lowest regime ({worst})",
        "positive in every quintile and regime",
        "Hill et al. (2008): positive average growth in every grade; Scammacca et al. (2015): "
        "positive growth at the 10th, 25th and 50th percentiles",
        "high",
        w,
        bool((per.groupby(level="arm").mean() > 0).all().all()),
    )
    sq = per.loc["standardized"].to_numpy()
    low_mid = Estimate.mean(sq[:, 0] - sq[:, 2])
    add(
        "Students far below the median grow at least as fast (in SD units) as the median "
        "student: standardized teaching, bottom quintile minus middle quintile true gain",
        ">= 0",
        "Scammacca, Fall & Roberts (2015), JREE 8(3), Table 7 (SEELS, math): annual growth "
        "at the 10th and 25th percentiles above the 50th's, with wide intervals",
        "low",
        low_mid,
        low_mid.value >= 0,
    )
    return pd.DataFrame(rows)


def docking_results(n_mesa: int = 30, n_engine: int = 300, alpha: float = 0.01) -> dict[str, Any]:
    """Docking of the engine against the Mesa model, small classes and short years.

    The setting of ``tests/test_docking_distribution.py``: 10 students, 30 days. Exact: the
    largest relative difference of every student-table column between the Mesa model and the
    engine on the same 3 seeds. Distributional: Mesa on seeds ``(1, i)``, the engine on
    ``(2, i)``, Welch and Kolmogorov-Smirnov tests on six classroom metrics at a family-wise
    level ``alpha`` (:func:`toolkit.engine.docking.compare_distributions`).

    Returns
    -------
    dict
        ``exact`` (DataFrame: regime, max_rel_diff), ``distribution`` (DataFrame: regime,
        metric and the comparison's columns), ``bitwise`` (property to (holds, reason)).
    """
    from toolkit.engine import simulate_batch
    from toolkit.engine.docking import bitwise_properties, classroom_metrics, compare_distributions
    from toolkit.model import Parameters, classroom_seed
    from toolkit.model.model import simulate_classroom

    params = Parameters(n_students=10, n_days=30, peer_ties=3)
    exact, dist = [], []
    for name in PRESET_ARMS:
        seeds = [classroom_seed(3, i) for i in range(3)]
        eng = simulate_batch(name, params, seeds).drop(columns="classroom")
        mesa = pd.concat([simulate_classroom(name, params, s) for s in seeds], ignore_index=True)
        num = [c for c in eng.columns if pd.api.types.is_float_dtype(eng[c])]
        a, b = eng[num].to_numpy(), mesa[num].to_numpy()
        rel = np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))
        exact.append({"regime": name, "max_rel_diff": float(rel), "docked": bool(rel <= 1e-12)})
        frames = []
        for i in range(n_mesa):
            one = simulate_classroom(name, params, classroom_seed(1, i))
            one.insert(0, "classroom", i)
            frames.append(one)
        m = classroom_metrics(pd.concat(frames, ignore_index=True))
        e = classroom_metrics(
            simulate_batch(name, params, [classroom_seed(2, i) for i in range(n_engine)])
        )
        cmp = compare_distributions(m, e, alpha=alpha).reset_index()
        cmp.insert(0, "regime", name)
        dist.append(cmp)
    return {
        "exact": pd.DataFrame(exact),
        "distribution": pd.concat(dist, ignore_index=True),
        "bitwise": bitwise_properties(),
    }


# ---------------------------------------------------------------------------------------------
# HTML (toolkit/templates/validation.html.j2)
# ---------------------------------------------------------------------------------------------


def _png(fig: plt.Figure) -> str:
    """Return the figure as a ``data:`` URI (the report embeds its figures), and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return f"data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}"


def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return {True: "pass", False: "fail", None: "—"}[v]
    if isinstance(v, float | np.floating):
        if math.isnan(v):
            return "—"
        return f"{v:.4g}"
    return str(v)


def _table(df: pd.DataFrame, verdict: str | None = None) -> dict[str, Any]:
    """Return the template's table: header texts and rows of ``(text, class)`` cells.

    The ``verdict`` column's cells get the class ``pass``, ``fail`` or ``none``.
    """
    rows = []
    for _, r in df.iterrows():
        cells = []
        for c in df.columns:
            v = r[c]
            cls = {True: "pass", False: "fail"}.get(v, "none") if c == verdict else ""
            cells.append((_fmt(v), cls))
        rows.append(cells)
    return {"columns": [str(c) for c in df.columns], "rows": rows}


def _interval(lo: float, hi: float) -> str:
    return "—" if math.isnan(lo) else f"[{lo:.4g}, {hi:.4g}]"


def _targets_section(ev: pd.DataFrame, roles: tuple[str, ...], interval: str) -> dict[str, Any]:
    part = ev[ev["role"].isin(roles)]
    show = pd.DataFrame(
        {
            "id": part["id"],
            "role": part["role"],
            "model quantity": part["quantity"],
            "published": part["published"],
            "unit": part["unit"],
            "model": part["model"],
            interval: [
                _interval(a, b) for a, b in zip(part["model_low"], part["model_high"], strict=True)
            ],
            "z": part["z"],
            "verdict": part["passed"],
            "flag": part["flag"],
            "confidence": part["confidence"],
            "source": part["source"] + " — " + part["location"],
        }
    )
    return _table(show, verdict="verdict")


def _evidence_section(rows: pd.DataFrame, mappings: dict[str, Any]) -> dict[str, Any]:
    """Tabulate the trial record's rows with their mappings, for a reader to check and dispute."""
    part = rows[rows["quantity"].str.contains(":", regex=False)]
    if part.empty:
        return {"columns": [], "rows": []}
    recs = []
    for rid, r in part.iterrows():
        m = mappings[r["quantity"].partition(":")[2]]
        recs.append(
            {
                "id": rid,
                "measure": r.get("measure", ""),
                "duration": r.get("duration", ""),
                "grade": r["grade"],
                "published 95% interval": _interval(
                    r.get("ci_low", math.nan), r.get("ci_high", math.nan)
                ),
                "model arms (fidelity)": m.describe(),
                "why this mapping": m.why,
                "from": r.get("origin", ""),
            }
        )
    return _table(pd.DataFrame(recs))


def _crossval_section(path: str | Path | None) -> Markup:
    """Render the cross-validation section: each row's out-of-sample prediction, coverage."""
    if path is None:
        return Markup(render("crossval.html.j2", cv=None))
    cv = pd.read_csv(path)
    need = {"id", "published", "pred_low", "pred_high", "covered"}
    if not need <= set(cv.columns):
        raise ValueError(
            f"{path}: a cross-validation table needs columns {sorted(need)} (as "
            f"cross_validate writes them); it has {sorted(cv.columns)}."
        )
    level = float(cv["level"].iloc[0]) if "level" in cv.columns else 0.9
    data = {
        "n": len(cv),
        "share": f"{float(cv['covered'].mean()):.0%}",
        "level": f"{level:.0%}",
        "table": _table(
            cv.drop(columns=[c for c in ("level",) if c in cv.columns]), verdict="covered"
        ),
    }
    return Markup(render("crossval.html.j2", cv=data))


def _emulator_rows(posterior: str | Path | None) -> list[str]:
    """Return the rows an emulator calibration was fitted to (none for other posteriors)."""
    if posterior is None:
        return []
    run = Path(posterior) if Path(posterior).is_dir() else Path(posterior).parent
    cfg = run / "config.json"
    if not cfg.is_file():
        return []
    data = json.loads(cfg.read_text())
    return list(data.get("rows", [])) if data.get("method") == "emulator" else []


def write_report(
    folder: str | Path = "runs/validation",
    *,
    classrooms: int = 200,
    seed: int = MASTER_SEED,
    posterior: str | Path | None = None,
    draws: int = 20,
    coverage: str | Path | None = None,
    docking: bool = True,
    progress: bool = True,
    targets_file: str | Path | None = None,
    extra: str | Path | None = None,
    mappings: str | Path | None = None,
    cross_validation: str | Path | None = None,
) -> Path:
    """Write the validation report (HTML, figures embedded) and its tables (CSV).

    Parameters
    ----------
    folder : str or Path
        Output folder: ``report.html``, ``targets.csv`` (the evaluation), ``patterns.csv``,
        ``growth_by_prior.csv``, ``docking_exact.csv``, ``docking_distribution.csv``,
        ``manifest.json``. Files of an earlier report there are replaced (they are outputs).
    classrooms : int
        Classrooms per arm for every model quantity.
    seed : int
        Master seed.
    posterior : str or Path, optional
        A calibration run folder (or its ``posterior.csv``): the model's values are then
        computed over ``draws`` posterior draws, and the posterior is reported.
    draws : int
        Posterior draws for the model's values.
    coverage : str or Path, optional
        A coverage-check folder (``simulations/calibrate_abc.py --coverage``) whose
        ``coverage.csv`` is reported.
    docking : bool
        Run the docking section (about a minute).
    progress : bool
        Print what is being computed.
    targets_file : path, optional
        Targets file (default ``toolkit/calibration/data/targets.csv``).
    extra : path, optional
        A user's CSV of extra rows in the trial record's columns, judged with the package's
        rows (a row with a package row's id replaces it); the package is not changed.
    mappings : path, optional
        Mappings of ``extra``'s rows (default: the ``.toml`` file of the same name next to it).
    cross_validation : path, optional
        A CSV written from :func:`toolkit.calibration.crossval.cross_validate`, reported with
        its coverage. With an emulator calibration's posterior
        (:func:`toolkit.calibration.emulator.calibrate_emulator`), its rows are listed as the
        calibration rows (every other row held out) and its ``crossval.csv`` is the default.

    Returns
    -------
    Path
        The report's path.
    """
    from toolkit._base.provenance import provenance
    from toolkit.calibration.abc import load_posterior, posterior_predictive, posterior_summary
    from toolkit.calibration.charts import plot_posterior_pairs, plot_targets
    from toolkit.charts.style import OKABE_ITO, REGIME_COLORS, chart_style
    from toolkit.model import Parameters

    t0 = time.time()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def say(msg: str) -> None:
        if progress:
            print(f"[{time.time() - t0:6.0f} s] {msg}", file=sys.stderr, flush=True)

    from toolkit.calibration.evidence import load_rows

    targets, maps = load_rows(extra, mappings, targets=targets_file)
    fitted = _emulator_rows(posterior)
    if fitted:  # an emulator calibration's rows are its calibration rows; the rest held out
        targets = targets.copy()
        known = [r for r in fitted if r in targets.index]
        targets.loc[known, "role"] = "target"
        run = Path(posterior) if Path(posterior).is_dir() else Path(posterior).parent
        if cross_validation is None and (run / "crossval.csv").is_file():
            cross_validation = run / "crossval.csv"
    if extra is not None:
        say(f"{extra}: {int(targets['origin'].eq(str(extra)).sum())} rows added")
    names = list(dict.fromkeys([*QUANTITIES, *targets["quantity"]]))
    post = None
    base = Parameters()
    if posterior is not None:
        post = load_posterior(posterior)
        say(f"model quantities over {draws} posterior draws x {classrooms} classrooms")
        measured = posterior_predictive(
            post,
            names,
            mappings=maps,
            unavailable="skip",
            draws=draws,
            classrooms=classrooms,
            seed=seed,
            progress=(lambda i: say(f"  draw {i}/{draws}")) if progress else None,
        )
        summ = posterior_summary(post)
        base = Parameters().replace(**summ["median"].to_dict())
    else:
        say(f"model quantities at the defaults, {classrooms} classrooms per arm")
        measured = compute(
            names, n_classrooms=classrooms, seed=seed, mappings=maps, unavailable="skip"
        )
    ev = validation_tables(targets, measured)
    ev.insert(ev.columns.get_loc("role") + 1, "origin", targets["origin"].to_numpy())
    ev.to_csv(folder / "targets.csv", index=False)
    say("patterns and growth by prior achievement")
    sims = Simulations(base, classrooms, seed)
    patterns = pattern_checks(sims)
    patterns.to_csv(folder / "patterns.csv", index=False)
    growth = growth_by_prior(sims)
    growth.to_csv(folder / "growth_by_prior.csv", index=False)

    passed = int(ev["passed"].eq(True).sum())
    failed = int(ev["passed"].eq(False).sum())
    untested = int(ev["passed"].isna().sum())
    with chart_style():
        fig, ax = plt.subplots(figsize=(10, 0.45 * len(ev) + 1.5), layout="constrained")
    plot_targets(ev, ax=ax)
    targets_figure = _png(fig)
    interval = "posterior predictive 95%" if post is not None else "model 95% interval"
    how = {k: q.description for k, q in QUANTITIES.items()} | {
        n: evidence_quantity(n, maps).description for n in names if n not in QUANTITIES
    }
    qtab = measured.assign(**{"how the model computes it": measured["quantity"].map(how)})[
        ["quantity", "value", "se", "how the model computes it"]
    ]

    ptab = patterns.assign(
        interval=[_interval(a, b) for a, b in zip(patterns.ci_low, patterns.ci_high, strict=True)]
    )[["pattern", "expected", "value", "interval", "passed", "confidence", "source"]]
    with chart_style():
        fig, ax = plt.subplots(figsize=(9, 5), layout="constrained")
        for arm, g in growth.groupby("arm", sort=False):
            c = REGIME_COLORS.get(arm, OKABE_ITO["black"])
            ax.fill_between(g["quintile"], g["ci_low"], g["ci_high"], color=c, alpha=0.2, lw=0)
            ax.plot(g["quintile"], g["gain"], "o-", color=c, lw=2.5, label=arm)
        ax.set_xticks(range(1, 6), ["1 (lowest)", "2", "3", "4", "5 (highest)"])
        ax.set_xlabel("quintile of prior score within the classroom")
        ax.set_ylabel("true core gain in one year (SD)")
        ax.set_title(
            "Growth by prior achievement (personalized, personal: predictions)", loc="left"
        )
        ax.legend(frameon=False)
    growth_figure = _png(fig)

    docked = None
    if docking:
        say("docking: the engine against the Mesa model")
        dk = docking_results()
        dk["exact"].to_csv(folder / "docking_exact.csv", index=False)
        dk["distribution"].to_csv(folder / "docking_distribution.csv", index=False)
        dist = dk["distribution"]
        per = (
            dist.groupby("regime", sort=False)
            .agg(metrics=("metric", "size"), docked=("docked", "all"), min_ks_p=("ks_p", "min"))
            .reset_index()
        )
        bw = pd.DataFrame(
            [
                {"property": k, "holds here": "yes" if v[0] else "no", "why": v[1]}
                for k, v in dk["bitwise"].items()
            ]
        )
        docked = {
            "exact": _table(dk["exact"], verdict="docked"),
            "distribution": _table(per, verdict="docked"),
            "bitwise": _table(bw),
        }

    fit = None
    if post is not None:
        say("posterior")
        summ = posterior_summary(post)
        run = Path(posterior)
        run = run if run.is_dir() else run.parent
        pops = pd.read_csv(run / "populations.csv") if (run / "populations.csv").is_file() else None
        man = (
            json.loads((run / "manifest.json").read_text())
            if (run / "manifest.json").is_file()
            else {}
        )
        axes = plot_posterior_pairs(post, list(summ.index))
        cov = None
        if coverage is not None and (Path(coverage) / "coverage.csv").is_file():
            cov = pd.read_csv(Path(coverage) / "coverage.csv")
        columns = ["parameter", "default", "prior_low", "prior_high", "median", "q05", "q95", "sd"]
        fit = {
            "particles": len(post),
            "ess": f"{summ['ess'].iloc[0]:.0f}",
            "generations": None if pops is None else len(pops),
            "evaluations": None if pops is None else int(pops["samples"].sum()),
            "temperature_1": bool(man.get("temperature_reached_1")),
            "summary": _table(summ.reset_index()[columns]),
            "populations": None if pops is None else _table(pops),
            "figure": _png(axes[0, 0].figure),
            "coverage": None
            if cov is None
            else _table(
                cov.groupby("parameter")[[k for k in cov.columns if k.startswith("covered_")]]
                .mean()
                .reset_index()
            ),
            "coverage_replications": None if cov is None else cov["replication"].nunique(),
        }
    prov = provenance()
    commit = (prov["git"].get("commit") or "no-git")[:10] + (
        "+dirty" if prov["git"].get("dirty") else ""
    )
    now = datetime.now(UTC).isoformat(timespec="seconds")
    page = render(
        "validation.html.j2",
        title="Validation report",
        written=now,
        commit=commit,
        python=prov["python"],
        numpy=prov["versions"].get("numpy"),
        classrooms=classrooms,
        seed=seed,
        posterior=None if post is None else str(posterior),
        draws=draws,
        passed=passed,
        failed=failed,
        untested=untested,
        extra=None if extra is None else str(extra),
        replaced=", ".join(targets.attrs.get("replaced", [])),
        targets_figure=targets_figure,
        target_tables=[
            ("Calibration rows (fitted)", _targets_section(ev, ("target",), interval)),
            (
                "Held-out rows: checks, comparisons and the trial record",
                _targets_section(ev, ("check", "comparison"), interval),
            ),
        ],
        evidence=_evidence_section(targets, maps),
        crossval=_crossval_section(cross_validation),
        quantities=_table(qtab),
        patterns=_table(ptab, verdict="passed"),
        growth_figure=growth_figure,
        docking=docked,
        fit=fit,
    )
    out = folder / "report.html"
    out.write_text(page, encoding="utf-8")
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "written": now,
                "classrooms": classrooms,
                "seed": seed,
                "posterior": None if posterior is None else str(posterior),
                "draws": draws if posterior is not None else None,
                "passed": passed,
                "failed": failed,
                "no_verdict": untested,
                "extra_rows": None if extra is None else str(extra),
                "seconds": round(time.time() - t0, 1),
                **prov,
            },
            indent=2,
            default=str,
        )
    )
    say(f"wrote {out}")
    return out
