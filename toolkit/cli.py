"""Command line: ``python -m toolkit`` (or ``toolkit``).

Sub-commands::

    run FILE       run a study file into its run folder, print the summary table
    check FILE     validate a study file and print it as resolved (nothing is run)
    params         list every model parameter with unit, default, range and source
    regimes        show the regime presets side by side on their axes
    docs           regenerate the parameter and regime tables in docs/odd.md

Errors in study files or options print one clear line (file, key, what was expected) and exit
with status 2; nothing existing is overwritten unless ``--overwrite`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
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


def _resume_command(args: argparse.Namespace, folder: Path) -> str:
    """Return the command that continues an interrupted run (same study, overrides, workers)."""
    parts = ["python -m toolkit run", shlex.quote(args.study), "--out", shlex.quote(str(folder))]
    for opt in ("classrooms", "seed", "years", "engine", "workers", "scheduler"):
        value = getattr(args, opt, None)
        if value is not None and not (opt == "workers" and value == 1):
            parts += [f"--{opt}", shlex.quote(str(value))]
    for item in getattr(args, "set", None) or []:
        parts += ["--set", shlex.quote(item)]
    return " ".join([*parts, "--resume"])


def _estimate(spec: StudySpec, args: argparse.Namespace, folder: Path, done: int = 0) -> Any:
    """Time a short sample of the study and return its :class:`~toolkit.study.estimate.Estimate`."""
    from toolkit.study.estimate import estimate_study

    scheduler = getattr(args, "scheduler", None) or os.environ.get("DASK_SCHEDULER_ADDRESS")
    workers = None if scheduler else getattr(args, "workers", 1)
    return estimate_study(spec, workers=workers, folder=folder, done_units=done)


def _confirm(spec: StudySpec, args: argparse.Namespace, folder: Path) -> None:
    """Print the estimate; refuse beyond free disk; ask for --yes beyond an hour or the memory."""
    from toolkit.study.estimate import format_bytes, format_seconds
    from toolkit.study.runner import units_done

    done = units_done(spec, folder)[0] if args.resume else 0
    est = _estimate(spec, args, folder, done)
    print(est.format(), file=sys.stderr)
    if not est.fits_on_disk:
        raise StudyError(
            f"{folder}: the run needs about {format_bytes(est.disk_peak_bytes)} of disk and "
            f"{format_bytes(est.free_bytes or 0)} are free there; nothing was started. Free some "
            'space, choose an --out on a larger disk, or set keep = "classrooms" in [study] '
            "to keep only classroom-level rows."
        )
    reasons = []
    if est.needs_confirmation:
        reasons.append(f"it is estimated to take about {format_seconds(est.seconds)}")
    if not est.fits_in_memory:
        reasons.append(
            f"its analysis may need about {format_bytes(est.client_memory_bytes)} of memory, "
            f"more than this machine's {format_bytes(est.memory_bytes or 0)}"
        )
    if not reasons or args.yes:
        return
    why = " and ".join(reasons)
    if sys.stdin.isatty():
        answer = input(f"This study is large: {why}. Start it? [y/N] ")
        if answer.strip().lower() in ("y", "yes"):
            return
        raise StudyError("Not started.")
    raise StudyError(
        f"{spec.source}: not started, because {why}. Pass --yes to start it anyway "
        "(Ctrl-C stops it, keeping what has finished; --resume continues)."
    )


def _cmd_run(args: argparse.Namespace) -> int:
    from toolkit.study.runner import RunInterrupted, check_run_folder, run_study

    spec = _load(args)
    folder = Path(args.out or spec.folder)
    check_run_folder(spec, folder, overwrite=args.overwrite, resume=args.resume)
    if not args.no_estimate:
        _confirm(spec, args, folder)
    try:
        result = run_study(
            spec,
            folder,
            overwrite=args.overwrite,
            resume=args.resume,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=not args.no_progress,
        )
    except RunInterrupted as stop:
        if stop.done < stop.total:
            kept = (
                f"kept the {stop.done} of {stop.total} work units that had finished (every "
                "arm of their classrooms)"
            )
        else:
            kept = f"all {stop.total} work units had finished; the analysis was interrupted"
        print(
            f"\nInterrupted: {kept} in {stop.folder}/ (its manifest.json says "
            f"'interrupted').\nContinue with:\n  {_resume_command(args, stop.folder)}",
            file=sys.stderr,
        )
        return 130
    print(f"\n{spec.title}  ({spec.classrooms} classrooms per arm, seed {spec.seed})")
    if not result.summary.empty:
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
    if not args.no_estimate:
        est = _estimate(spec, args, Path(spec.folder))
        print(est.format())
        if not est.fits_on_disk:
            print("  This run would not fit on the disk of its output folder.")
        elif est.needs_confirmation:
            print("  More than an hour: `run` will ask for --yes.")
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
    run.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="run on an existing Dask cluster (default: $DASK_SCHEDULER_ADDRESS, if set)",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument(
        "--yes", action="store_true", help="start a run estimated to take over an hour"
    )
    check = sub.add_parser("check", help="validate a study file, run nothing")
    check.add_argument("study")
    for p in (run, check):
        p.add_argument(
            "--workers",
            type=int,
            default=1,
            help="worker processes on this machine (default 1; more start a local Dask cluster)",
        )
        p.add_argument(
            "--no-estimate", action="store_true", help="skip the timed estimate of time and disk"
        )
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
    }
    try:
        return commands[args.command](args)
    except (StudyError, ParameterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nInterrupted; no run was started.", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
