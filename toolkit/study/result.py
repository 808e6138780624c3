"""What a run returns (:class:`RunResult`, read from its folder) or raises when interrupted."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit._base.atomic import write_atomic
from toolkit.study.runfolder import PARTS, STUDENTS
from toolkit.study.spec import StudyError

__all__ = ["RunInterrupted", "RunResult"]


#: Student rows read together by :meth:`RunResult.student_batches` (about 40 MB of the
#: analysis columns): enough that the fixed cost per call is small beside the work.
BATCH_ROWS = 500_000


class RunInterrupted(KeyboardInterrupt):
    """A run was interrupted (Ctrl-C); what was finished is kept and ``resume`` continues it.

    Attributes
    ----------
    folder : Path
    done, total : int
        Work units finished (kept in the folder) and in all.
    """

    def __init__(self, folder: Path, done: int, total: int) -> None:
        super().__init__(f"{folder}: interrupted after {done} of {total} work units")
        self.folder, self.done, self.total = folder, done, total


class _Reporter:
    """Progress of a run on standard error: a bar for the units, then staged messages."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def message(self, text: str) -> None:
        if self.enabled:
            print(text, file=sys.stderr, flush=True)

    @contextlib.contextmanager
    def stage(self, text: str) -> Iterator[None]:
        t0 = time.perf_counter()
        if self.enabled:
            print(f"analysis: {text} ...", end="", file=sys.stderr, flush=True)
        yield
        if self.enabled:
            print(f" {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)

    def iterate(
        self,
        items: Iterable[Any],
        total: int,
        text: str,
        size: Callable[[Any], int] | None = None,
    ) -> Iterator[Any]:
        """Yield ``items``, advancing the bar by ``size(item[0])`` parts (default 1) each."""
        if not self.enabled:
            yield from items
            return
        from tqdm.auto import tqdm

        with tqdm(total=total, desc=f"analysis: {text}", unit="part", file=sys.stderr) as bar:
            for item in items:
                yield item
                bar.update(1 if size is None else size(item[0]))


class RunResult:
    """What a run produced, read from its folder.

    Attributes
    ----------
    folder : Path
    classrooms : pandas.DataFrame
        Metrics per classroom (and arm, year, sweep point).
    summary : pandas.DataFrame
        Arm x metric with means, CIs and paired differences against the reference arm.
    tails : pandas.DataFrame
        Outcomes by prior-achievement quintile per arm.
    decomposition : pandas.DataFrame
        Each arm's difference from the reference split into channels (may be empty).
    figures : list of Path
    manifest : dict
    units : list of str
        Work-unit ids, in order (sweep point, then first classroom).
    arms : list of str
    keep : {"students", "classrooms"}
    """

    def __init__(
        self,
        folder: str | Path,
        manifest: dict[str, Any] | None = None,
        *,
        units: list[str] | None = None,
        arms: list[str] | None = None,
        keep: str = "students",
        progress: bool = False,
    ) -> None:
        self.folder = Path(folder)
        self.manifest: dict[str, Any] = manifest or {}
        self.units = list(units or [])
        self.arms = list(arms or [])
        self.keep = keep
        self.classrooms = pd.DataFrame()
        self.summary = pd.DataFrame()
        self.tails = pd.DataFrame()
        self.decomposition = pd.DataFrame()
        self.figures: list[Path] = []
        self.reporter = _Reporter(progress)
        self.written: list[Path] = []
        self._students: pd.DataFrame | None = None
        #: Where the analysis runs its tasks (:mod:`toolkit.study.pool`; set by the runner while
        #: the run's workers are up) and what it started before the units (``prepare``).
        self.pool: Any = None
        self.prepared: Any = None
        self.early: Any = None

    def __repr__(self) -> str:
        return (
            f"RunResult(folder={str(self.folder)!r}, units={len(self.units)}, "
            f"classrooms={len(self.classrooms)} rows, keep={self.keep!r})"
        )

    # -- student rows -------------------------------------------------------------------------
    def _student_path(self, unit: str) -> Path:
        if self.keep == "students":
            return self.folder / STUDENTS / f"{unit}.parquet"
        return self.folder / PARTS / f"{unit}.students.parquet"

    def _arm_categorical(self, df: pd.DataFrame) -> pd.DataFrame:
        if self.arms:
            df["arm"] = pd.Categorical(df["arm"].astype(str), categories=self.arms)
        return df

    def _to_pandas(self, pa: Any, tables: list[Any]) -> pd.DataFrame:
        """One frame from Parquet tables of the same columns, ``arm`` as :meth:`_arm_categorical`.

        The arm's codes are found by pyarrow (``index_in`` the run's arms) rather than by
        converting every row's name to a Python string and back.
        """
        import pyarrow.compute as pc

        table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        if not self.arms or "arm" not in table.column_names:
            return self._arm_categorical(table.to_pandas())
        i = table.column_names.index("arm")
        arm = table.column(i)
        if not (pa.types.is_string(arm.type) or pa.types.is_large_string(arm.type)):
            return self._arm_categorical(table.to_pandas())
        codes = pc.index_in(arm, value_set=pa.array(self.arms, type=arm.type))
        if codes.null_count:  # a name not among the arms: as pandas.Categorical would, NaN
            codes = pc.fill_null(codes, -1)
        df = table.drop_columns(["arm"]).to_pandas()
        df.insert(i, "arm", pd.Categorical.from_codes(codes.to_numpy(), categories=self.arms))
        return df

    def student_columns(self) -> list[str]:
        """Columns of the stored student rows (read from the first part's schema)."""
        import pyarrow.parquet as pq

        return list(pq.read_schema(self._student_path(self.units[0])).names)

    def student_parts(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """Yield the student rows one work unit at a time, in unit order.

        Parameters
        ----------
        columns : list of str, optional
            Read only these columns (default: all that were kept).
        """
        for unit in self.units:
            path = self._checked_student_path(unit)
            yield self._arm_categorical(pd.read_parquet(path, columns=columns))

    def _checked_student_path(self, unit: str) -> Path:
        path = self._student_path(unit)
        if not path.is_file():
            raise StudyError(
                f"{self.folder}: no student rows for work unit {unit} ({path.name}); "
                + (
                    "this run kept only classroom-level rows (keep = 'classrooms')."
                    if self.keep == "classrooms"
                    else "the run is incomplete: continue it with --resume."
                )
            )
        return path

    def student_batches(
        self, columns: list[str] | None = None, rows: int = BATCH_ROWS
    ) -> Iterator[tuple[list[str], pd.DataFrame]]:
        """Yield the student rows of consecutive work units together, in unit order.

        The parts are read with pyarrow and converted to one frame per batch: at a few
        thousand rows per part, reading and analysing the parts one at a time costs mostly the
        fixed cost of each call (a run of 10^6 classroom-years has thousands of parts).

        Parameters
        ----------
        columns : list of str, optional
            Read only these columns (default: all that were kept).
        rows : int
            A batch ends with the first part that brings it to at least this many rows.

        Yields
        ------
        (list of str, pandas.DataFrame)
            The batch's unit ids and their rows, concatenated in unit order.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        ids: list[str] = []
        tables: list[Any] = []
        n = 0
        for unit in self.units:
            path = self._checked_student_path(unit)
            tables.append(pq.ParquetFile(path).read(columns=columns))
            ids.append(unit)
            n += tables[-1].num_rows
            if n >= rows:
                yield ids, self._to_pandas(pa, tables)
                ids, tables, n = [], [], 0
        if tables:
            yield ids, self._to_pandas(pa, tables)

    def classroom_parts(self, units: list[str]) -> pd.DataFrame:
        """Return the classroom metrics that ``units`` computed, concatenated in their order."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        paths = [self.folder / PARTS / f"{u}.classrooms.parquet" for u in units]
        tables = [pq.ParquetFile(path).read() for path in paths]
        return self._to_pandas(pa, tables)

    @property
    def students(self) -> pd.DataFrame:
        """Every student-year of every arm: ``point, sweep_value, arm, replicate, year, ...``.

        Read from ``students.parquet/`` on first use (and kept), sorted by sweep point, arm,
        classroom, year and student. For a large study prefer :meth:`student_parts` or
        ``pandas.read_parquet(folder / "students.parquet", columns=..., filters=...)``.
        """
        if self._students is None:
            if self.keep != "students":
                raise StudyError(
                    f"{self.folder}: this run kept only classroom-level rows "
                    "(keep = 'classrooms' in the study's [study] table); no student table."
                )
            df = pd.concat(self.student_parts(), ignore_index=True)
            df = df.sort_values(["point", "arm", "replicate", "year", "student"], kind="stable")
            self._students = df.reset_index(drop=True)
        return self._students

    @students.setter
    def students(self, value: pd.DataFrame) -> None:
        self._students = value

    def classroom_part(self, unit: str) -> pd.DataFrame:
        """Return the classroom metrics one work unit computed."""
        return self._arm_categorical(
            pd.read_parquet(self.folder / PARTS / f"{unit}.classrooms.parquet")
        )

    # -- writing ------------------------------------------------------------------------------
    def record(self, paths: Iterable[str | Path]) -> None:
        """Note files the run wrote (listed, with their hashes, in the manifest)."""
        self.written += [Path(p) for p in paths]

    def write_table(self, df: pd.DataFrame, name: str) -> Path:
        """Write a table into the run folder atomically (CSV or Parquet by suffix) and note it."""
        path = self.folder / name
        write_atomic(df, path)
        self.record([path])
        return path
