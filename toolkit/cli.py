"""Command line: ``python -m toolkit`` (or ``toolkit``).

Sub-commands::

    run FILE       run a study file into its run folder, print the summary table
    check FILE     validate a study file and print it as resolved (nothing is run)
    robustness FILE  run a study's [robustness] design and write its robustness report
    params         list every model parameter with unit, default, range and source
    regimes        show the regime presets side by side on their axes
    runs [FOLDER]  list the run folders under FOLDER (default runs/): study, status, seed, date
    docs           regenerate the parameter and regime tables in docs/odd.md
    power FILE     power of a planned cluster-randomized trial, by simulation
    calibrate      Bayesian calibration (ABC-SMC) of the free parameters on the targets;
                   --method emulator: the engagement weights on the trial record (emulator)
    validate       write the validation report (targets, checks, patterns, docking, posterior)

Errors in study files or options print one clear line naming where the wrong value came from
(the file and key, or the command-line option) and what was expected, and exit with status 2;
nothing existing is overwritten unless ``--overwrite`` is given. Options that change the study
file's settings (``--set``, ``--classrooms``, ``--seed``, ``--years``, ``--engine``) are recorded
in the run's manifest and shown in its charts' provenance line. Output cut short by the reader
(``python -m toolkit params | head``) ends quietly.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import sys
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit._optional import MissingExtraError, require
from toolkit.model.params import ParameterError, Parameters, parameter_table, suggest_name
from toolkit.model.regimes import Regime, regime_table
from toolkit.study.spec import StudyError, StudySpec, parse_study, read_study_file

__all__ = ["main"]


class CommandError(ValueError):
    """A command-line argument (not a study file) is wrong: a missing folder, for example."""


def _parse_set(items: list[str]) -> list[tuple[str, str, Any]]:
    """``--set NAME=VALUE`` items as ``(item, name, value)``; values are read as TOML."""
    out = []
    for item in items:
        if "=" not in item:
            raise StudyError(
                f"--set {item!r}: expected NAME=VALUE, e.g. --set teacher_capacity=1.0"
            )
        key, raw = item.split("=", 1)
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw  # a bare word, e.g. a name
        out.append((item, key.strip(), value))
    return out


def _check_sets(sets: list[tuple[str, str, Any]], data: Mapping[str, Any], source: str) -> None:
    """Check ``--set`` items one by one; errors name the item, not the study file."""
    file_params = data.get("parameters", {})
    if not isinstance(file_params, Mapping):
        return  # parse_study reports the file's malformed table
    try:  # the file's own values first, so that their errors name the file
        Parameters.from_mapping(file_params, source=f"{source} [parameters]")
    except ParameterError as exc:
        raise StudyError(str(exc)) from None
    sweep = data.get("sweep", {})
    swept = sweep.get("parameter") if isinstance(sweep, Mapping) else None
    merged = dict(file_params)
    for item, key, value in sets:
        where = f"--set {item}"
        if key not in Parameters.names():
            hint = (
                f" '{key}' is a regime axis: set it in the study file's [arms] (or sweep it)."
                if key in Regime.axes()
                else suggest_name(key, Parameters.names())
            )
            raise StudyError(
                f"{where}: unknown parameter '{key}'.{hint} "
                "Run `python -m toolkit params` for the list."
            )
        if key == swept:
            raise StudyError(
                f"{where}: {source} sweeps '{key}' ([sweep] values {sweep.get('values')}), so this "
                "value would be ignored; change the [sweep] values instead."
            )
        merged[key] = value
        try:
            Parameters.from_mapping(merged, source=where)
        except ParameterError as exc:
            raise StudyError(str(exc)) from None


def _load(args: argparse.Namespace) -> StudySpec:
    """Read the study file, apply the command-line overrides and record them in the spec."""
    source = str(Path(args.study))
    data = read_study_file(args.study)
    overrides: list[tuple[str, str, Any]] = []
    study = data.get("study", {})
    if isinstance(study, Mapping):
        study = dict(study)
        for opt in ("classrooms", "seed", "engine", "years"):
            value = getattr(args, opt, None)
            if value is not None:
                study[opt] = value
                overrides.append((f"--{opt} {value}", f"study.{opt}", value))
        if study:
            data["study"] = study
    sets = _parse_set(getattr(args, "set", None) or [])
    if sets:
        _check_sets(sets, data, source)
        data["parameters"] = dict(data.get("parameters", {})) | {k: v for _, k, v in sets}
        overrides += [(f"--set {item}", f"parameters.{k}", v) for item, k, v in sets]
    rob = {k: getattr(args, k, None) for k in ("n", "design")}
    rob = {k: v for k, v in rob.items() if v is not None}
    if rob:
        if "robustness" not in data:
            raise StudyError(f"{args.study}: --n and --design need a [robustness] table.")
        data["robustness"] = dict(data["robustness"]) | rob
        overrides += [(f"--{k} {v}", f"robustness.{k}", v) for k, v in rob.items()]
    try:
        spec = parse_study(data, source=source)
    except StudyError as exc:
        if not overrides:
            raise
        options = " ".join(o for o, _, _ in overrides)
        raise StudyError(f"{exc} (with the command-line options {options})") from None
    return dataclasses.replace(spec, overrides=tuple(overrides))


def _at_least(minimum: int, what: str) -> Callable[[str], int]:
    """Return an argparse type: a whole number >= ``minimum`` (argparse names the option)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {what} (>= {minimum}), got {value}")
        return value

    return parse


def _print_overrides(spec: StudySpec) -> None:
    if spec.overrides:
        print("\nChanged from " + spec.source + " on the command line:")
        for option, setting, value in spec.overrides:
            print(f"  {option:<32} {setting} = {value!r}")


#: Options each command's resume command repeats (as given), after the study and ``--out``.
_RESUME_OPTIONS = {
    "run": ("classrooms", "seed", "years", "engine", "workers", "scheduler"),
    "robustness": ("classrooms", "seed", "years", "n", "design", "workers", "scheduler"),
    "power": ("classrooms", "replications", "sizes", "workers"),
    "calibrate": (
        "method",
        "config",
        "population",
        "classrooms",
        "generations",
        "design",
        "workers",
        "seed",
        "dask",
    ),
}


def _resume_command(args: argparse.Namespace, folder: Path) -> str:
    """Return the command that continues an interrupted run (same study, overrides, workers)."""
    command = args.command
    parts = [f"python -m toolkit {command}"]
    if getattr(args, "study", None) is not None:
        parts.append(shlex.quote(args.study))
    parts += ["--out", shlex.quote(str(folder))]
    for opt in _RESUME_OPTIONS[command]:
        value = getattr(args, opt, None)
        if value is None or (opt, value) in (("workers", 1), ("method", "abc")):  # defaults
            continue
        values = value if isinstance(value, list) else [value]
        parts += [f"--{opt}", *(shlex.quote(str(v)) for v in values)]
    for item in getattr(args, "set", None) or []:
        parts += ["--set", shlex.quote(item)]
    return " ".join([*parts, "--resume"])


def _in_design_points(spec: StudySpec, stop: Any) -> Any:
    """Count an interrupted robustness run in design points (a unit may hold several)."""
    from toolkit.study.units import design_points_done

    return _Stopped(stop.folder, *design_points_done(spec, stop.folder))


@dataclasses.dataclass(frozen=True)
class _Stopped:
    """Where an interrupted run is and how far it got (finished and total)."""

    folder: Path
    done: int
    total: int


def _say_interrupted(args: argparse.Namespace, stop: Any, unit: str = "work units") -> int:
    """Print what an interrupted run kept and the command that continues it; return 130."""
    if getattr(stop, "kept", None):
        kept = f"kept {stop.kept}"
    elif stop.done < stop.total:
        kept = f"kept the {stop.done} of {stop.total} {unit} that had finished"
        if unit == "work units":
            kept += " (every arm of their classrooms)"
    else:
        kept = f"all {stop.total} {unit} had finished; the analysis was interrupted"
    print(
        f"\nInterrupted: {kept} in {stop.folder}/ (its manifest.json says "
        f"'interrupted').\nContinue with:\n  {_resume_command(args, stop.folder)}",
        file=sys.stderr,
    )
    return 130


def _estimate(spec: StudySpec, args: argparse.Namespace, folder: Path, done: int = 0) -> Any:
    """Time a short sample of the study and return its :class:`~toolkit.study.estimate.Estimate`."""
    from toolkit.study.estimate import estimate_study

    scheduler = getattr(args, "scheduler", None) or os.environ.get("DASK_SCHEDULER_ADDRESS")
    workers = None if scheduler else getattr(args, "workers", 1)
    return estimate_study(spec, workers=workers, folder=folder, done_units=done)


def _confirm(spec: StudySpec, args: argparse.Namespace, folder: Path) -> None:
    """Print the estimate; refuse beyond free disk; ask for --yes beyond an hour or the memory."""
    from toolkit.study.estimate import format_bytes, format_seconds
    from toolkit.study.units import units_done

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
    if reasons and not args.yes:
        _ask_to_start(spec, " and ".join(reasons))


def _ask_to_start(spec: StudySpec, why: str) -> None:
    """Ask at a terminal whether to start a large study; refuse elsewhere (``--yes`` starts it)."""
    if sys.stdin.isatty():
        answer = input(f"This study is large: {why}. Start it? [y/N] ")
        if answer.strip().lower() in ("y", "yes"):
            return
        raise StudyError("Not started.")
    raise StudyError(
        f"{spec.source}: not started, because {why}. Pass --yes to start it anyway "
        "(Ctrl-C stops it, keeping what has finished; --resume continues)."
    )


def _confirm_robustness(spec: StudySpec, args: argparse.Namespace, folder: Path) -> None:
    """Apply the gate of :func:`_confirm` to a ``[robustness]`` study (its design's estimate)."""
    from toolkit.robustness.report import estimate, format_estimate
    from toolkit.study import estimate as study_estimate

    workers = 1 if getattr(args, "scheduler", None) else getattr(args, "workers", 1)
    info = estimate(spec, probe=True, workers=workers)
    print(format_estimate(info), file=sys.stderr)
    free = study_estimate.free_disk_bytes(folder)
    if free is not None and info["bytes"] > free:
        raise StudyError(
            f"{folder}: the design's parts need about "
            f"{study_estimate.format_bytes(int(info['bytes']))} of disk and "
            f"{study_estimate.format_bytes(free)} are free there; nothing was started. Free some "
            "space, choose an --out on a larger disk, or use a smaller design (--n)."
        )
    if info["seconds"] > study_estimate.CONFIRM_SECONDS and not args.yes:
        seconds = study_estimate.format_seconds(info["seconds"])
        _ask_to_start(spec, f"it is estimated to take about {seconds}")


def _cmd_run(args: argparse.Namespace) -> int:
    from toolkit.study.runner import RunInterrupted, check_run_folder, run_study

    spec = _load(args)
    folder = Path(args.out or spec.folder)
    check_run_folder(spec, folder, overwrite=args.overwrite, resume=args.resume)
    started = None
    if args.workers > 1 and not (args.scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")):
        from toolkit.study.executor import start_executor

        started = start_executor(args.workers)  # the workers start while the estimate runs
    try:
        if not args.no_estimate:
            (_confirm if spec.robustness is None else _confirm_robustness)(spec, args, folder)
    except BaseException:
        from toolkit.study.executor import close_started

        close_started(started)
        raise
    try:
        result = run_study(
            spec,
            folder,
            overwrite=args.overwrite,
            resume=args.resume,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=not args.no_progress,
            executor=started,
        )
    except RunInterrupted as stop:
        if spec.robustness is not None:
            return _say_interrupted(args, _in_design_points(spec, stop), "design points")
        return _say_interrupted(args, stop)
    if spec.robustness is not None:  # a [robustness] study: its report
        _print_robustness(result, spec)
        return 0
    print(f"\n{spec.title}  ({spec.classrooms} classrooms per arm, seed {spec.seed})")
    _print_overrides(spec)
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
    elif spec.cohort is not None:
        from toolkit.realcohort import format_cohort_summary

        print(format_cohort_summary(result.summary))
    elif not result.summary.empty:
        from toolkit.study.analysis import format_summary, format_sweep

        if result.summary["point"].nunique() > 1:  # a sweep: the headline metric at every point
            for metric in ("effect_size", "sd_score"):
                print(format_sweep(result.summary, spec.sweep_parameter, metric) + "\n")
            print("Every metric, at the first point (every point: summary.csv):")
        print(format_summary(result.summary, parameter=spec.sweep_parameter))
    print(f"\nResults in {result.folder}/")
    for f in result.manifest.get("files", []):
        print(f"  {f}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    spec = _load(args)
    print(json.dumps(spec.resolved(), indent=2, default=str))
    _print_overrides(spec)
    print(f"\n{spec.source}: OK ({len(spec.arms)} arms x {spec.classrooms} classrooms)")
    if spec.nesting():
        print(f"  schools: {spec.nesting()}")
    if spec.cohort is not None:  # a study on a data file's classes: what is read, what is drawn
        print(spec.cohort.describe(spec.base_parameters()))
    if spec.robustness is not None:
        from toolkit.robustness.report import estimate, format_estimate

        claims = spec.robustness.claims
        print(f"{len(claims)} claim(s): " + "; ".join(c.text for c in claims))
        info = estimate(spec, probe=not args.no_probe, workers=args.workers)
        print(format_estimate(info))
        return 0
    if not args.no_estimate:
        est = _estimate(spec, args, Path(spec.folder))
        print(est.format())
        if not est.fits_on_disk:
            print("  This run would not fit on the disk of its output folder.")
        elif est.needs_confirmation:
            print("  More than an hour: `run` will ask for --yes.")
    return 0


def _print_robustness(result: Any, spec: StudySpec) -> None:
    claims = result.summary
    print(f"\n{spec.title}: robustness over {spec.robustness.design} n={spec.robustness.n}")
    with pd.option_context("display.width", 200, "display.max_colwidth", 90):
        cols = ["claim", "share", "share_low", "share_high", "drivers", "region"]
        if not claims.empty:
            print(claims[cols].round(3).to_string(index=False))
    print(f"\nReport: {result.folder / 'report.html'} and {result.folder / 'report.md'}")


def _cmd_robustness(args: argparse.Namespace) -> int:
    from toolkit.robustness.report import publish, require_robustness, run_robustness
    from toolkit.study.runner import RunInterrupted, check_run_folder

    spec = _load(args)
    require_robustness(spec)  # before the estimate, which needs the design
    folder = Path(args.out or spec.folder)
    check_run_folder(spec, folder, overwrite=args.overwrite, resume=args.resume)
    if not args.no_estimate:
        _confirm_robustness(spec, args, folder)
    try:
        result = run_robustness(
            spec,
            folder,
            overwrite=args.overwrite,
            resume=args.resume,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=not args.no_progress,
        )
    except RunInterrupted as stop:
        return _say_interrupted(args, _in_design_points(spec, stop), "design points")
    _print_robustness(result, spec)
    if args.publish:
        for f in publish(result.folder, args.publish, label=args.label):
            print(f"  wrote {f}")
    return 0


def _cmd_params(args: argparse.Namespace) -> int:
    from toolkit.cli_text import format_parameters

    t = parameter_table()
    if args.group:
        groups = list(dict.fromkeys(t.group))
        if args.group not in groups:
            raise CommandError(
                f"--group {args.group}: no such group.{suggest_name(args.group, groups)} "
                f"Groups: {', '.join(groups)}."
            )
        t = t[t.group == args.group]
    print(format_parameters(t, long=args.long, width=args.width))
    return 0


def _cmd_runs(args: argparse.Namespace) -> int:
    from toolkit.cli_text import format_runs, list_runs

    try:
        runs = list_runs(args.folder)
    except FileNotFoundError as exc:
        raise CommandError(str(exc)) from None
    print(format_runs(runs, args.folder, width=args.width))
    return 0


def _cmd_regimes(args: argparse.Namespace) -> int:
    t = regime_table().drop(columns=["description"])
    with pd.option_context("display.width", 200):
        print(t.to_string())
    return 0


def _cmd_docs(args: argparse.Namespace) -> int:
    from toolkit.docs import update_document

    if not Path(args.file).is_file():
        raise CommandError(f"--file {args.file}: no such file.")
    try:
        changed = update_document(args.file, check=args.check)
    except ValueError as exc:  # the document lacks a generated block
        raise CommandError(f"--file {args.file}: {exc}") from None
    if args.check:
        print(f"{args.file}: out of date: {changed}" if changed else f"{args.file}: up to date")
        return 1 if changed else 0
    print(f"{args.file}: regenerated {changed}" if changed else f"{args.file}: already up to date")
    return 0


EXAMPLES = """\
examples:
  python -m toolkit check simulations/headline.toml
  python -m toolkit run simulations/headline.toml --out runs/headline --workers 2
  python -m toolkit run simulations/headline.toml --out runs/headline --resume
  python -m toolkit run simulations/headline.toml --set teacher_capacity=1.0 --out runs/two-teachers
  python -m toolkit run simulations/sweep-teacher-capacity.toml --classrooms 20 --out runs/quick
  python -m toolkit params --long --group system
  python -m toolkit regimes
  python -m toolkit runs runs/

./run.sh python -m toolkit ... runs the same in the repository's virtual environment.
"""


def _width() -> int:
    import shutil

    from toolkit.cli_text import WIDTH

    return max(60, min(WIDTH, shutil.get_terminal_size((WIDTH, 24)).columns))


class _Version(argparse.Action):
    """``--version``: the toolkit's version and git commit (looked up only when asked)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from toolkit._base.provenance import provenance

        p = provenance()
        version = p["versions"].get("classroom-regimes-toolkit") or "dev"
        git = p["git"]
        commit = (git.get("commit") or "no git")[:8] + (" +dirty" if git.get("dirty") else "")
        print(
            f"classroom-regimes-toolkit {version} (commit {commit}; Python {p['python']}, "
            f"numpy {p['versions'].get('numpy')})"
        )
        parser.exit()


def _cmd_power(args: argparse.Namespace) -> int:
    from toolkit.power.study import PowerInterrupted, format_power, parse_power, run_power

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
    try:
        result = run_power(
            spec,
            args.out,
            overwrite=args.overwrite,
            resume=args.resume,
            workers=args.workers,
            progress=not args.no_progress,
        )
    except PowerInterrupted as stop:
        return _say_interrupted(args, stop)
    print(f"\n{spec.study.title}")
    print(format_power(result, spec))
    print(f"\nResults in {result.folder}/")
    for f in result.manifest.get("files", []):
        print(f"  {f}")
    return 0


def _cmd_calibrate_emulator(args: argparse.Namespace) -> int:
    from toolkit.calibration.emulator import calibrate_emulator, load_emulator_config

    if args.dask or args.generations is not None:
        raise CommandError("--dask and --generations are options of --method abc.")
    try:
        config = load_emulator_config(
            args.config,
            particles=args.population,
            classrooms=args.classrooms,
            design=args.design,
            workers=args.workers,
            seed=args.seed,
        )
    except (ValueError, FileNotFoundError) as exc:
        raise CommandError(str(exc)) from None
    out = args.out or "runs/calibration-emulator"
    try:
        res = calibrate_emulator(
            config, out, resume=args.resume, overwrite=args.overwrite, progress=True
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"\nInterrupted: the finished design points are kept in {out}/design.csv."
            f"\nContinue with:\n  {_resume_command(args, Path(out))}",
            file=sys.stderr,
        )
        return 130
    cols = ["default", "prior_low", "prior_high", "median", "q05", "q95"]
    print(res["summary"][cols].to_string(float_format=lambda v: f"{v:.3g}"))
    reached = "reached 1" if res["stages"]["beta"].iloc[-1] == 1.0 else "did NOT reach 1"
    print(
        f"\n{len(res['posterior'])} particles, {len(res['stages'])} tempering stages "
        f"(temperature {reached}); {config.design + config.check} model runs; "
        f"{res['seconds'] / 60:.1f} min"
    )
    print(
        f"Results in {res['folder']}/ (posterior.csv, posterior_summary.csv, information.csv, "
        "predictions.csv, emulator_check.csv)"
    )
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from toolkit.calibration.abc import CalibrationInterrupted, calibrate, load_config

    if args.method == "emulator":
        return _cmd_calibrate_emulator(args)
    if args.design is not None:
        raise CommandError("--design is an option of --method emulator.")
    args.out = args.out or "runs/calibration"
    try:
        config = load_config(
            args.config,
            population=args.population,
            classrooms=args.classrooms,
            generations=args.generations,
            workers=args.workers,
            seed=args.seed,
        )
    except (ValueError, FileNotFoundError) as exc:  # the settings file's own errors
        raise CommandError(str(exc)) from None
    sampler, client = None, None
    if args.dask:
        from dask.distributed import Client

        pyabc = require("pyabc", "Calibration by ABC-SMC")

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
    except CalibrationInterrupted as stop:
        print(
            f"\nInterrupted: kept the {stop.done} finished generation(s) (of at most "
            f"{stop.total}) in {stop.folder}/abc.db (its manifest.json says 'interrupted')."
            f"\nContinue with:\n  {_resume_command(args, stop.folder)}",
            file=sys.stderr,
        )
        return 130
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
    from toolkit.calibration.abc import load_posterior
    from toolkit.calibration.report import write_report
    from toolkit.calibration.targets import TargetsError

    posterior = args.posterior
    if posterior is None and Path("runs/calibration/posterior.csv").is_file() and not args.defaults:
        posterior = "runs/calibration"
    if posterior is not None:
        try:
            load_posterior(posterior)  # before any model run: a missing or malformed file
        except ValueError as exc:
            raise CommandError(f"--posterior {posterior}: {exc}") from None
    if args.mappings is not None and args.targets is None:
        raise CommandError("--mappings goes with --targets FILE (the rows it maps).")
    try:
        path = write_report(
            args.out,
            classrooms=args.classrooms,
            posterior=posterior,
            draws=args.draws,
            coverage=args.coverage,
            docking=not args.no_docking,
            progress=True,
            extra=args.targets,
            mappings=args.mappings,
            cross_validation=args.cross_validation,
        )
    except TargetsError as exc:  # a bad row or mapping in the user's files: no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Validation report: {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``python -m toolkit``."""
    parser = argparse.ArgumentParser(
        prog="python -m toolkit",
        description="Simulate and compare learning regimes in classrooms.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="run a study file",
        epilog="examples:\n" + "\n".join(ln for ln in EXAMPLES.splitlines() if " run " in ln),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("study", help="study file (.toml), e.g. simulations/headline.toml")
    run.add_argument("--out", help="run folder (default: the study's [output] folder)")
    run.add_argument("--overwrite", action="store_true", help="replace an existing run")
    run.add_argument("--resume", action="store_true", help="continue an interrupted run")
    run.add_argument(
        "--workers",
        type=_at_least(1, "a number of processes"),
        default=1,
        help="worker processes on this machine (default 1: the units run in this process)",
    )
    check = sub.add_parser("check", help="validate a study file, run nothing")
    check.add_argument("study", help="study file (.toml)")
    check.add_argument(
        "--workers",
        type=_at_least(1, "a number of processes"),
        default=1,
        help="workers for the time estimate",
    )
    check.add_argument(
        "--no-probe", action="store_true", help="estimate a robustness study without timing a point"
    )
    rob = sub.add_parser("robustness", help="run a [robustness] study and write its report")
    rob.add_argument("study", help="study file with a [robustness] table")
    rob.add_argument("--out", help="run folder (default: the study's [output] folder)")
    rob.add_argument("--overwrite", action="store_true", help="replace an existing run")
    rob.add_argument(
        "--resume", action="store_true", help="continue a run (or re-analyse a finished one)"
    )
    rob.add_argument(
        "--workers",
        type=_at_least(1, "a number of processes"),
        default=1,
        help="worker processes (default 1)",
    )
    rob.add_argument(
        "--publish", metavar="ROOT", help="fill ROOT/README.md's robustness block and ROOT/docs"
    )
    rob.add_argument("--label", help="note on the published summary (e.g. interim)")
    for p in (run, rob):
        p.add_argument(
            "--scheduler",
            default=None,
            metavar="tcp://HOST:PORT",
            help="run on an existing Dask cluster (default: $DASK_SCHEDULER_ADDRESS, if set)",
        )
        p.add_argument("--no-progress", action="store_true", help="no progress bar")
        p.add_argument(
            "--yes", action="store_true", help="start a study estimated to take over an hour"
        )
    for p in (run, check, rob):
        p.add_argument(
            "--no-estimate", action="store_true", help="skip the timed estimate of time and disk"
        )
    for p in (check, rob):
        p.add_argument("--n", type=_at_least(1, "a design size"), help="override [robustness] n")
        p.add_argument("--design", help="override [robustness] design")
    for p in (run, check, rob):
        p.add_argument(
            "--classrooms",
            type=_at_least(2, "replicates per arm, needed for confidence intervals"),
            help="override [study] classrooms",
        )
        p.add_argument("--seed", type=_at_least(0, "a master seed"), help="override [study] seed")
        p.add_argument("--years", type=_at_least(1, "school years"), help="override [study] years")
    for p in (run, check):
        p.add_argument("--engine", choices=["fast", "mesa"], help="override [study] engine")
        p.add_argument(
            "--set",
            action="append",
            metavar="NAME=VALUE",
            help="override a model parameter (repeatable), e.g. --set teacher_capacity=1.0",
        )
    params = sub.add_parser("params", help="list model parameters")
    params.add_argument("--group", help="only one group (cohort, learning, system, ...)")
    params.add_argument(
        "--long", action="store_true", help="with what each is and where its value comes from"
    )
    sub.add_parser("regimes", help="show the regime presets on their axes")
    runs = sub.add_parser("runs", help="list run folders: study, status, seed, date")
    runs.add_argument("folder", nargs="?", default="runs", help="where runs are (default runs/)")
    for p in (params, runs):
        p.add_argument(
            "--width",
            type=_at_least(40, "a line length"),
            default=_width(),
            help="line length (default: the terminal's, at most 100)",
        )
    docs = sub.add_parser("docs", help="regenerate the generated tables of docs/odd.md")
    docs.add_argument("--file", default="docs/odd.md")
    docs.add_argument("--check", action="store_true", help="only report stale tables")
    power = sub.add_parser("power", help="power of a planned trial of two regimes, by simulation")
    power.add_argument("study", help="power study file (simulations/power/*.toml)")
    power.add_argument("--out", help="run folder (default: the study's [output] folder)")
    power.add_argument("--overwrite", action="store_true", help="replace an existing run")
    power.add_argument("--resume", action="store_true", help="continue an interrupted run")
    power.add_argument(
        "--workers",
        type=_at_least(1, "a number of processes"),
        default=1,
        help="processes for the pool",
    )
    power.add_argument("--no-progress", action="store_true", help="no progress bar")
    power.add_argument(
        "--replications",
        type=_at_least(2, "simulated trials per size"),
        help="override [power] replications",
    )
    power.add_argument(
        "--classrooms", type=_at_least(2, "classrooms in the pool"), help="override the pool size"
    )
    power.add_argument(
        "--sizes",
        type=_at_least(4, "classrooms in a trial, two per arm at least"),
        nargs="+",
        help="override [power] sizes",
    )
    cal = sub.add_parser("calibrate", help="Bayesian calibration (ABC-SMC) on the targets")
    cal.add_argument(
        "--method",
        choices=("abc", "emulator"),
        default="abc",
        help="abc: ABC-SMC on the model, the nine mechanism parameters on the targets file; "
        "emulator: the engagement weights on the trial record through a Gaussian-process "
        "emulator (toolkit/calibration/data/emulator.toml)",
    )
    cal.add_argument(
        "--config",
        help="settings (default toolkit/calibration/data/abc.toml, or emulator.toml)",
    )
    cal.add_argument(
        "--out", help="run folder (default runs/calibration, or runs/calibration-emulator)"
    )
    cal.add_argument(
        "--design",
        type=_at_least(4, "design points"),
        help="model runs the emulator is fitted to (--method emulator)",
    )
    cal.add_argument("--resume", action="store_true", help="continue an interrupted run")
    cal.add_argument("--overwrite", action="store_true", help="replace an existing run")
    cal.add_argument(
        "--population",
        type=_at_least(2, "particles per generation"),
        help="particles per generation (of the tempered SMC with --method emulator)",
    )
    cal.add_argument(
        "--classrooms",
        type=_at_least(2, "classrooms per arm"),
        help="classrooms per arm per evaluation",
    )
    cal.add_argument(
        "--generations", type=_at_least(1, "a number of generations"), help="most generations"
    )
    cal.add_argument(
        "--workers",
        type=_at_least(1, "a number of processes"),
        help="processes evaluating particles",
    )
    cal.add_argument("--seed", type=_at_least(0, "a master seed"), help="master seed")
    cal.add_argument("--dask", metavar="ADDRESS", help="evaluate particles on a Dask scheduler")
    val = sub.add_parser("validate", help="write the validation report (HTML)")
    val.add_argument("--out", default="runs/validation", help="report folder")
    val.add_argument(
        "--classrooms",
        type=_at_least(2, "classrooms per arm, needed for confidence intervals"),
        default=200,
        help="classrooms per arm",
    )
    val.add_argument(
        "--posterior", help="calibration run folder (default runs/calibration if it exists)"
    )
    val.add_argument("--defaults", action="store_true", help="use the default parameters")
    val.add_argument(
        "--draws",
        type=_at_least(1, "a number of posterior draws"),
        default=20,
        help="posterior draws",
    )
    val.add_argument("--coverage", help="coverage-check folder to report")
    val.add_argument("--no-docking", action="store_true", help="skip the docking section")
    val.add_argument(
        "--targets",
        metavar="FILE",
        help="a CSV of your own rows (trial-record columns), judged with the package's rows; "
        "a row with a package row's id replaces it; the package is not changed",
    )
    val.add_argument(
        "--mappings",
        metavar="FILE",
        help="mappings of your rows (TOML, like toolkit/calibration/data/evidence-mappings.toml;"
        " default: FILE.toml next to --targets)",
    )
    val.add_argument(
        "--cross-validation",
        metavar="FILE",
        help="a leave-one-out table (CSV from toolkit.calibration.crossval.cross_validate)",
    )
    return parser


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    commands = {
        "run": _cmd_run,
        "check": _cmd_check,
        "robustness": _cmd_robustness,
        "params": _cmd_params,
        "regimes": _cmd_regimes,
        "runs": _cmd_runs,
        "docs": _cmd_docs,
        "power": _cmd_power,
        "calibrate": _cmd_calibrate,
        "validate": _cmd_validate,
    }
    try:
        return commands[args.command](args)
    except (StudyError, ParameterError, CommandError, MissingExtraError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a folder that cannot be written, a full disk: no traceback
        if isinstance(exc, BrokenPipeError):
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # the commands that write runs say what they kept themselves
        print("\nInterrupted.", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m toolkit``; returns the exit status.

    When the reader of the output goes away (``python -m toolkit params | head``), the rest
    of the output is dropped quietly and the status is 141 (128 + SIGPIPE), as for a program
    stopped by the broken pipe.
    """
    try:
        try:
            return _main(argv)
        finally:  # also after --help or --version, which leave by SystemExit
            sys.stdout.flush()
    except BrokenPipeError:
        try:  # point stdout at /dev/null so that the interpreter's final flush is silent too
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
