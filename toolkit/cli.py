"""Command line: ``python -m toolkit`` (or ``toolkit``).

Sub-commands::

    run FILE       run a study file into its run folder, print the summary table
    check FILE     validate a study file and print it as resolved (nothing is run)
    params         list every model parameter with unit, default, range and source
    regimes        show the regime presets side by side on their axes
    docs           regenerate the parameter and regime tables in docs/odd.md
    power FILE     power of a planned cluster-randomized trial, by simulation
    calibrate      Bayesian calibration (ABC-SMC) of the free parameters on the targets
    validate       write the validation report (targets, checks, patterns, docking, posterior)

Errors in study files or options print one clear line (file, key, what was expected) and exit
with status 2; nothing existing is overwritten unless ``--overwrite`` is given.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.model.params import ParameterError, parameter_table
from toolkit.model.regimes import regime_table
from toolkit.study.spec import StudyError, StudySpec, parse_study, read_study_file

__all__ = ["main"]


def _parse_set(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise StudyError(
                f"--set {item!r}: expected NAME=VALUE, e.g. --set teacher_capacity=1.0"
            )
        key, raw = item.split("=", 1)
        try:
            out[key.strip()] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = raw  # a bare word, e.g. a name
    return out


def _load(args: argparse.Namespace) -> StudySpec:
    data = read_study_file(args.study)
    study = dict(data.get("study", {}))
    for opt in ("classrooms", "seed", "engine", "years"):
        value = getattr(args, opt, None)
        if value is not None:
            study[opt] = value
    if study:
        data["study"] = study
    sets = _parse_set(getattr(args, "set", None) or [])
    if sets:
        data["parameters"] = dict(data.get("parameters", {})) | sets
    return parse_study(data, source=str(Path(args.study)))


def _cmd_run(args: argparse.Namespace) -> int:
    from toolkit.study.runner import run_study

    spec = _load(args)
    result = run_study(
        spec,
        args.out,
        overwrite=args.overwrite,
        resume=args.resume,
        workers=args.workers,
        progress=not args.no_progress,
    )
    print(f"\n{spec.title}  ({spec.classrooms} classrooms per arm, seed {spec.seed})")
    if spec.parameters_from == "posterior":
        from toolkit.calibration.predict import format_posterior_summary

        shown = (
            "effect_size",
            "score",
            "total_learning",
            "engagement",
            "self_regulation_growth",
            "sd_score",
            "p90_p10",
            "matthew",
            "mean_pairwise_distance",
            "diversity_of_excellence",
        )
        print(format_posterior_summary(result.posterior_summary, shown))
        print("(every metric: posterior_summary.csv)")
    elif not result.summary.empty:
        from toolkit.study.analysis import format_summary

        print(format_summary(result.summary))
    print(f"\nResults in {result.folder}/")
    for f in result.manifest.get("files", []):
        print(f"  {f}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    spec = _load(args)
    print(json.dumps(spec.resolved(), indent=2, default=str))
    print(f"\n{spec.source}: OK ({len(spec.arms)} arms x {spec.classrooms} classrooms)")
    return 0


def _cmd_params(args: argparse.Namespace) -> int:
    t = parameter_table()
    if args.group:
        t = t[t.group == args.group]
    with pd.option_context("display.max_colwidth", 70, "display.width", 200):
        cols = ["group", "name", "default", "unit", "range"]
        print(t[cols + (["description", "source"] if args.long else [])].to_string(index=False))
    return 0


def _cmd_regimes(args: argparse.Namespace) -> int:
    t = regime_table().drop(columns=["description"])
    with pd.option_context("display.width", 200):
        print(t.to_string())
    return 0


def _cmd_docs(args: argparse.Namespace) -> int:
    from toolkit.docs import update_document

    changed = update_document(args.file, check=args.check)
    if args.check:
        print(f"{args.file}: out of date: {changed}" if changed else f"{args.file}: up to date")
        return 1 if changed else 0
    print(f"{args.file}: regenerated {changed}" if changed else f"{args.file}: already up to date")
    return 0


def _cmd_power(args: argparse.Namespace) -> int:
    from toolkit.power.study import format_power, parse_power, run_power

    data = read_study_file(args.study)
    power = dict(data.get("power", {}))
    if args.replications is not None:
        power["replications"] = args.replications
    if args.sizes:
        power["sizes"] = args.sizes
    data["power"] = power
    if args.classrooms is not None:
        data["study"] = dict(data.get("study", {})) | {"classrooms": args.classrooms}
    spec = parse_power(data, source=str(Path(args.study)))
    result = run_power(
        spec,
        args.out,
        overwrite=args.overwrite,
        resume=args.resume,
        workers=args.workers,
        progress=not args.no_progress,
    )
    print(f"\n{spec.study.title}")
    print(format_power(result, spec))
    print(f"\nResults in {result.folder}/")
    for f in result.manifest.get("files", []):
        print(f"  {f}")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from toolkit.calibration.abc import calibrate, load_config

    config = load_config(
        args.config,
        population=args.population,
        classrooms=args.classrooms,
        generations=args.generations,
        workers=args.workers,
        seed=args.seed,
    )
    sampler, client = None, None
    if args.dask:
        import pyabc
        from dask.distributed import Client

        client = Client(args.dask)
        sampler = pyabc.sampler.DaskDistributedSampler(dask_client=client)
    try:
        res = calibrate(
            config,
            args.out,
            resume=args.resume,
            overwrite=args.overwrite,
            progress=True,
            sampler=sampler,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if client is not None:
            client.close()
    with pd.option_context("display.width", 200):
        print(res.summary[["default", "prior_low", "prior_high", "median", "q05", "q95"]])
    print(
        f"\neffective sample size {res.ess:.0f} of {len(res.posterior)} particles, "
        f"{len(res.populations)} generations"
    )
    print(f"Results in {res.folder}/ (posterior.csv, posterior_summary.csv, figures/)")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from toolkit.calibration.report import write_report

    posterior = args.posterior
    if posterior is None and Path("runs/calibration/posterior.csv").is_file() and not args.defaults:
        posterior = "runs/calibration"
    path = write_report(
        args.out,
        classrooms=args.classrooms,
        posterior=posterior,
        draws=args.draws,
        coverage=args.coverage,
        docking=not args.no_docking,
        progress=True,
    )
    print(f"Validation report: {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``python -m toolkit``."""
    parser = argparse.ArgumentParser(
        prog="python -m toolkit",
        description="Simulate and compare learning regimes in classrooms.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a study file")
    run.add_argument("study", help="study file (.toml), e.g. simulations/headline.toml")
    run.add_argument("--out", help="run folder (default: the study's [output] folder)")
    run.add_argument("--overwrite", action="store_true", help="replace an existing run")
    run.add_argument("--resume", action="store_true", help="continue an interrupted run")
    run.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    check = sub.add_parser("check", help="validate a study file, run nothing")
    check.add_argument("study")
    for p in (run, check):
        p.add_argument("--classrooms", type=int, help="override [study] classrooms")
        p.add_argument("--seed", type=int, help="override [study] seed")
        p.add_argument("--years", type=int, help="override [study] years")
        p.add_argument("--engine", choices=["fast", "mesa"], help="override [study] engine")
        p.add_argument(
            "--set", action="append", metavar="NAME=VALUE", help="override a model parameter"
        )
    params = sub.add_parser("params", help="list model parameters")
    params.add_argument("--group", help="only one group (cohort, learning, system, ...)")
    params.add_argument("--long", action="store_true", help="with descriptions and sources")
    sub.add_parser("regimes", help="show the regime presets on their axes")
    docs = sub.add_parser("docs", help="regenerate the generated tables of docs/odd.md")
    docs.add_argument("--file", default="docs/odd.md")
    docs.add_argument("--check", action="store_true", help="only report stale tables")
    power = sub.add_parser("power", help="power of a planned trial of two regimes, by simulation")
    power.add_argument("study", help="power study file (simulations/power/*.toml)")
    power.add_argument("--out", help="run folder (default: the study's [output] folder)")
    power.add_argument("--overwrite", action="store_true", help="replace an existing run")
    power.add_argument("--resume", action="store_true", help="continue an interrupted run")
    power.add_argument("--workers", type=int, default=1, help="processes for the pool")
    power.add_argument("--no-progress", action="store_true", help="no progress bar")
    power.add_argument("--replications", type=int, help="override [power] replications")
    power.add_argument("--classrooms", type=int, help="override the pool size")
    power.add_argument("--sizes", type=int, nargs="+", help="override [power] sizes")
    cal = sub.add_parser("calibrate", help="Bayesian calibration (ABC-SMC) on the targets")
    cal.add_argument("--config", help="settings (default data/calibration/abc.toml)")
    cal.add_argument("--out", default="runs/calibration", help="run folder")
    cal.add_argument("--resume", action="store_true", help="continue an interrupted run")
    cal.add_argument("--overwrite", action="store_true", help="replace an existing run")
    cal.add_argument("--population", type=int, help="particles per generation")
    cal.add_argument("--classrooms", type=int, help="classrooms per arm per evaluation")
    cal.add_argument("--generations", type=int, help="most generations")
    cal.add_argument("--workers", type=int, help="processes evaluating particles")
    cal.add_argument("--seed", type=int, help="master seed")
    cal.add_argument("--dask", metavar="ADDRESS", help="evaluate particles on a Dask scheduler")
    val = sub.add_parser("validate", help="write the validation report (HTML)")
    val.add_argument("--out", default="runs/validation", help="report folder")
    val.add_argument("--classrooms", type=int, default=200, help="classrooms per arm")
    val.add_argument(
        "--posterior", help="calibration run folder (default runs/calibration if it exists)"
    )
    val.add_argument("--defaults", action="store_true", help="use the default parameters")
    val.add_argument("--draws", type=int, default=20, help="posterior draws")
    val.add_argument("--coverage", help="coverage-check folder to report")
    val.add_argument("--no-docking", action="store_true", help="skip the docking section")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m toolkit``; returns the exit status."""
    args = build_parser().parse_args(argv)
    commands = {
        "run": _cmd_run,
        "check": _cmd_check,
        "params": _cmd_params,
        "regimes": _cmd_regimes,
        "docs": _cmd_docs,
        "power": _cmd_power,
        "calibrate": _cmd_calibrate,
        "validate": _cmd_validate,
    }
    try:
        return commands[args.command](args)
    except (StudyError, ParameterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
