"""The run folder: its layout, which files are the run's, and whether a run may go there.

A run folder holds::

    manifest.json        config as resolved, its source and command-line overrides, master
                         seed, versions, git commit, where it ran, times, status, and every
                         file the run wrote (with its SHA-256)
    students.parquet/    the student table, partitioned: one Parquet file per work unit
                         (keep = "students", the default; pandas.read_parquet reads the folder)
    parts/               per work unit, its classroom-level metrics (and, with
                         keep = "classrooms", the few student columns the analysis needs,
                         deleted when the run completes)
    classrooms.csv       metrics per classroom (the unit of replication)
    summary.csv          arm x metric: mean and 95% CI, paired difference vs the reference
    tails.csv            outcomes by prior-achievement quintile
    figures/             presenter charts (PNG/SVG/PDF)

An existing run is never replaced unless ``overwrite=True`` (``--overwrite``), and then only
what the run wrote is deleted: the files its manifest lists (unchanged since), its parts and
temporary files. Anything else in the folder is kept; anything else that is in the way of the
new run (a file where it would write) is listed and nothing is deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit._base.atomic import write_atomic
from toolkit.study.spec import StudyError, StudySpec

__all__ = ["MANIFEST", "OUTPUTS", "PARTS", "STUDENTS", "check_run_folder", "collect_parts"]

MANIFEST = "manifest.json"
STUDENTS = "students.parquet"
PARTS = "parts"
#: Files the analysis writes at the top of the run folder.
OUTPUTS = ("classrooms.csv", "summary.csv", "tails.csv")
#: Work-unit ids: a study's points and classrooms (``p000-c000000``), a cohort study's cohorts
#: (``p000``) and a robustness study's design points (``d000000-n1``,
#: :meth:`toolkit.robustness.spec.RobustnessSpec.units`).
_UNIT_ID = r"(p\d{3,}(-c\d{6,})?|d\d{6,}-n\d+)"
_PART_FILES = (
    re.compile(rf"{STUDENTS}/{_UNIT_ID}\.parquet"),
    re.compile(rf"{PARTS}/{_UNIT_ID}\.(classrooms|students)\.parquet"),
    re.compile(rf"{PARTS}/{_UNIT_ID}\.parquet"),  # run folders of earlier versions
)
_FIGURE_TYPES = (".png", ".svg", ".pdf")


def collect_parts(parts: Path, ids: Sequence[str]) -> pd.DataFrame:
    """Concatenate the parts (per-classroom metrics) of a robustness study's design points."""
    frames = [pd.read_parquet(parts / f"{i}.classrooms.parquet") for i in ids]
    return pd.concat(frames, ignore_index=True)


def _unit_paths(folder: Path, unit_id: str, keep: str) -> tuple[Path | None, Path]:
    if keep == "design":  # a robustness study's design points: classroom metrics only
        students = None
    elif keep == "students":
        students = folder / STUDENTS / f"{unit_id}.parquet"
    else:
        students = folder / PARTS / f"{unit_id}.students.parquet"
    return students, folder / PARTS / f"{unit_id}.classrooms.parquet"


def _unit_done(folder: Path, unit_id: str, keep: str) -> bool:
    students, classrooms = _unit_paths(folder, unit_id, keep)
    return classrooms.is_file() and (students is None or students.is_file())


def _store_unit(
    folder: Path, unit_id: str, keep: str, out: tuple[pd.DataFrame | None, pd.DataFrame]
) -> None:
    students_path, classrooms_path = _unit_paths(folder, unit_id, keep)
    if students_path is not None:
        write_atomic(out[0], students_path)
    write_atomic(out[1], classrooms_path)  # written last: marks the unit done


#: What a worker that wrote its unit's parts returns instead of them.
_WRITTEN = "written"
#: The token file that lets workers write into a run folder: ``.workers-write-<hex>.tmp`` (a
#: leading dot and ``.tmp``, so it is the run's own temporary file to readers and cleanup).
_TOKEN = ".workers-write-{}.tmp"


def _token_matches(path: Path, token: str) -> bool:
    try:
        return path.read_text() == token
    except (OSError, UnicodeDecodeError):
        return False


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files(folder: Path) -> Iterator[str]:
    """Every file under ``folder`` (symlinks as files, never followed), relative, POSIX."""
    for root, dirs, files in os.walk(folder, followlinks=False):
        base = Path(root)
        for name in files + [d for d in dirs if (base / d).is_symlink()]:
            yield (base / name).relative_to(folder).as_posix()


def _is_run_owned_name(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    if rel == MANIFEST or any(p.fullmatch(rel) for p in _PART_FILES):
        return True
    return name.startswith(".") and name.endswith(".tmp")  # the run's temporary files


def _in_the_way(rel: str) -> bool:
    """Whether a file the run did not write sits where the new run would write."""
    parts = rel.split("/")
    if rel in OUTPUTS or parts[0] in (STUDENTS, PARTS):
        return True
    return len(parts) == 2 and parts[0] == "figures" and Path(rel).suffix in _FIGURE_TYPES


def _clear_for_overwrite(folder: Path, old: dict[str, Any], dry_run: bool = False) -> None:
    listed = {f for f in old.get("files", []) if not f.endswith("/")}
    hashes: dict[str, str] = old.get("sha256", {})
    owned, changed, blocking = [], [], []
    for rel in sorted(_files(folder)):
        path = folder / rel
        if _is_run_owned_name(rel):
            owned.append(path)
        elif rel in listed:
            if rel in hashes and (path.is_symlink() or _sha256(path) != hashes[rel]):
                changed.append(rel)
            else:
                owned.append(path)
        elif _in_the_way(rel):
            blocking.append(rel)
    if changed or blocking:
        lines = [f"  {r}   (written by the run, changed since)" for r in changed]
        lines += [f"  {r}   (not written by the run)" for r in blocking]
        raise StudyError(
            f"{folder}: --overwrite deletes only what the run wrote, and these files are in "
            "the way of the new run:\n" + "\n".join(lines) + "\nNothing was deleted. Move them "
            "out of the folder (or delete them yourself), or choose another --out."
        )
    if dry_run:
        return
    for path in owned:
        path.unlink()
    for sub in (STUDENTS, PARTS, "figures"):
        d = folder / sub
        if d.is_dir() and not d.is_symlink():
            for root, _, _ in sorted(os.walk(d), key=lambda w: -len(w[0])):
                with contextlib.suppress(OSError):
                    Path(root).rmdir()  # only if empty: the user's files stay


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise StudyError(
            f"{folder / MANIFEST}: cannot be read as a run manifest ({exc})."
        ) from None


def check_run_folder(
    spec: StudySpec, folder: str | Path, *, overwrite: bool = False, resume: bool = False
) -> None:
    """Raise the error :func:`run_study` would raise for this folder, changing nothing.

    Parameters
    ----------
    spec : StudySpec
    folder : str or Path
    overwrite, resume : bool
        As for :func:`run_study`.

    Raises
    ------
    StudyError
        The folder holds something else, another study's run, a run and neither flag is given,
        or (with ``overwrite``) files in the way of the new run.
    """
    _prepare_folder(Path(folder), spec, overwrite, resume, dry_run=True)


def _prepare_folder(
    folder: Path, spec: StudySpec, overwrite: bool, resume: bool, dry_run: bool = False
) -> None:
    if overwrite and resume:
        raise StudyError("Choose either --overwrite or --resume, not both.")
    if not folder.exists():
        if resume:
            raise StudyError(f"{folder}: nothing to resume, the folder does not exist.")
        return
    if not folder.is_dir():
        raise StudyError(f"{folder}: exists and is not a folder; choose another --out.")
    if not any(folder.iterdir()):
        return
    if not (folder / MANIFEST).is_file():
        raise StudyError(
            f"{folder}: the folder is not empty and is not a run folder (no {MANIFEST}); "
            "nothing was changed. Choose another --out."
        )
    old = _read_manifest(folder)
    if resume:
        if (folder / STUDENTS).is_file():
            raise StudyError(
                f"{folder}: cannot resume, the run was made by an earlier version of the toolkit "
                f"({STUDENTS} is one file, not a folder of parts). Use --overwrite (it deletes "
                "only that run's files) or another --out."
            )
        if old.get("fingerprint") != spec.fingerprint():
            raise StudyError(
                f"{folder}: cannot resume, the run in this folder was made from a different "
                f"study: {_what_changed(old.get('study'), spec)}. Use --overwrite or another "
                "--out (or undo the change)."
            )
        old_keep = old.get("study", {}).get("keep", "students")
        if old_keep != spec.keep:
            raise StudyError(
                f"{folder}: cannot resume, the run in this folder keeps {old_keep!r} and the "
                f"study now says keep = {spec.keep!r}. Use --overwrite or another --out."
            )
        if old.get("status") == "complete" and spec.keep == "classrooms":
            raise StudyError(
                f"{folder}: the run is complete; nothing to resume (it kept only classroom-level "
                "rows, so its analysis cannot be redone: use --overwrite to run it again)."
            )
        return
    if not overwrite:
        raise StudyError(
            f"{folder}: already holds a run (study '{old.get('study', {}).get('name')}', started "
            f"{old.get('started')}, status {old.get('status')}); nothing was changed. Pass "
            "--resume to continue it, --overwrite to replace it (only the run's own files are "
            "deleted), or --out for another folder."
        )
    _clear_for_overwrite(folder, old, dry_run)


def _what_changed(old_study: Any, spec: StudySpec) -> str:
    """Say which settings differ from those of the run in a folder (its manifest's study)."""
    from toolkit.study.spec import describe_changes, fingerprint_core

    if isinstance(old_study, dict):
        text = describe_changes(fingerprint_core(old_study), fingerprint_core(spec.resolved()))
        if text:
            return text
    return "seed, classrooms, years, arms, parameters or sweep changed"


def _remove_stale_temporaries(folder: Path) -> None:
    for rel in list(_files(folder)):
        name = rel.rsplit("/", 1)[-1]
        if name.startswith(".") and name.endswith(".tmp") and _is_run_owned_name(rel):
            (folder / rel).unlink(missing_ok=True)
