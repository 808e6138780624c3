r"""The mapping from a data file's columns to the model's student attributes: a ``[cohort]`` table.

A mapping says where each student attribute comes from. In a study file::

    [cohort]
    data = "my-students.csv"     # relative to the study file; or dataset = "nlschools"
    codebook = "codebook.toml"   # optional: labels, reverse keys, missing codes, scales
    class = "class"              # class membership (required)
    school = "school"            # optional
    class_size = "size"          # optional: the real class size; unlisted classmates are drawn
    weight = "w"                 # optional student weight (default 1 each)
    strata = "stratum"           # optional: strata of the jackknife replicate design
    replicate_weights = "W_FSTURWT\\d+"     # optional: the file's own replicate weights
    replicate_method = "fay"     # with replicate_weights: fay, brr, jk1, jk2
    attributes = "data"          # "drawn": every attribute drawn; classes, schools from the file
    missing = "impute"           # chained equations (scikit-learn), or "listwise"
    imputations = 5              # imputed cohorts (with plausible values: one per value)
    auxiliary = ["SES"]          # columns that inform the imputation only
    true_score = "draw"          # or "estimate" (Kelley's regressed true score)
    small_classes = "refuse"     # or "drop": classes of fewer than 2 pupils
    unassigned = "refuse"        # or "drop": pupils without a class

    [cohort.achievement.reading]     # a model domain
    column = "lang"                  # or plausible_values = "PV@READ" (or a list of columns)
    reliability = 0.85               # the test's reliability (default: taken as error-free)
    reference = "sample"             # or { mean = 500.0, sd = 100.0 }

    [cohort.interest.mathematics]
    scale = "interest_math"          # a codebook scale; or items = ["i1", "-i2"]; or column
    [cohort.self_regulation]
    scale = "srl"

Every error names the file (or ``<cohort>``), the table and key, and what was expected.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toolkit.model.params import suggest_name

__all__ = ["CohortError", "CohortMapping", "Measure", "load_data", "parse_mapping"]

KEYS = {
    "data",
    "dataset",
    "format",
    "codebook",
    "class",
    "school",
    "class_size",
    "weight",
    "strata",
    "replicate_weights",
    "replicate_method",
    "fay_k",
    "n_replicates",
    "attributes",
    "missing",
    "imputations",
    "auxiliary",
    "true_score",
    "small_classes",
    "unassigned",
    "achievement",
    "interest",
    "self_regulation",
}
MEASURE_KEYS = {"column", "plausible_values", "items", "scale", "reliability", "reference"}
CHOICES = {
    "attributes": ("data", "drawn"),
    "missing": ("impute", "listwise"),
    "true_score": ("draw", "estimate"),
    "small_classes": ("refuse", "drop"),
    "unassigned": ("refuse", "drop"),
    "replicate_method": ("fay", "brr", "jk1", "jk2"),
}


class CohortError(ValueError):
    """A cohort mapping or its data file is invalid (the message names the key or column)."""


@dataclass(frozen=True)
class Measure:
    """Where one attribute comes from.

    Attributes
    ----------
    attribute : str
        ``skill_<domain>``, ``interest_<domain>`` or ``self_regulation``.
    kind : {"column", "plausible_values", "items", "scale"}
        A score column, the plausible values of a score, questionnaire items (keyed
        psych-style, a leading ``-`` for reverse-keyed items) or a scale of the codebook.
    columns : tuple of str
        The column, the plausible-value columns, or the (keyed) items.
    reliability : float or None
        Reliability of the measure in the reference population; ``None``: Cronbach's alpha of
        the items in the file (items, scale), error-free (column), or no error (plausible
        values, which are draws of the true score already).
    reference : tuple of (float, float) or None
        ``(mean, sd)`` of the reference population on the file's scale; ``None``: the file's
        own students (weighted).
    scale : str or None
        The codebook scale (kind ``"scale"``).
    """

    attribute: str
    kind: str
    columns: tuple[str, ...]
    reliability: float | None = None
    reference: tuple[float, float] | None = None
    scale: str | None = None

    @property
    def items(self) -> list[str]:
        """Item columns without their keys."""
        return [c.lstrip("-") for c in self.columns]

    def describe(self) -> str:
        """One line: what is read and how."""
        what = {
            "column": f"column {self.columns[0]!r}",
            "plausible_values": f"plausible values {list(self.columns)}",
            "items": f"items {list(self.columns)}",
            "scale": f"codebook scale {self.scale!r} (items {list(self.columns)})",
        }[self.kind]
        ref = (
            "the file's students (weighted)"
            if self.reference is None
            else f"mean {self.reference[0]:g}, SD {self.reference[1]:g}"
        )
        if self.kind == "plausible_values":
            rel = "one cohort per plausible value"
        elif self.reliability is not None:
            rel = f"reliability {self.reliability:g}"
        elif self.kind in ("items", "scale"):
            rel = "reliability: Cronbach's alpha in the file"
        else:
            rel = "taken as error-free (no reliability given)"
        return f"{what}; reference {ref}; {rel}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly record (for the manifest)."""
        return {
            "attribute": self.attribute,
            "kind": self.kind,
            "columns": list(self.columns),
            "reliability": self.reliability,
            "reference": None if self.reference is None else list(self.reference),
            "scale": self.scale,
        }


@dataclass(frozen=True)
class CohortMapping:
    """A parsed ``[cohort]`` table: which columns give which attributes, and the survey design.

    Build it with :func:`parse_mapping` (from a study file's table or a dict); the attributes
    are documented in the module docstring.
    """

    class_column: str
    measures: tuple[Measure, ...] = ()
    data: str | None = None
    dataset: str | None = None
    format: str | None = None
    codebook: str | None = None
    school: str | None = None
    class_size: str | None = None
    weight: str | None = None
    strata: str | None = None
    replicate_weights: str | tuple[str, ...] | None = None
    replicate_method: str = "fay"
    fay_k: float = 0.5
    n_replicates: int | None = None
    attributes: str = "data"
    missing: str = "impute"
    imputations: int = 5
    auxiliary: tuple[str, ...] = ()
    true_score: str = "draw"
    small_classes: str = "refuse"
    unassigned: str = "refuse"
    where: str = field(default="<cohort>", compare=False)

    @property
    def plausible_values(self) -> int:
        """Number of plausible values (0 if no measure has them)."""
        return max(
            (len(m.columns) for m in self.measures if m.kind == "plausible_values"), default=0
        )

    @property
    def n_cohorts(self) -> int:
        """Cohorts built and simulated: one per plausible value, else ``imputations``; 1 drawn."""
        if self.attributes == "drawn":
            return 1
        return self.plausible_values or self.imputations

    def columns(self) -> list[str]:
        """Every column of the file the mapping reads."""
        cols = [self.class_column]
        for c in (self.school, self.class_size, self.weight, self.strata):
            if c is not None:
                cols.append(c)
        if isinstance(self.replicate_weights, tuple):
            cols += list(self.replicate_weights)
        for m in self.measures:
            cols += m.items
        cols += list(self.auxiliary)
        return list(dict.fromkeys(cols))

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly record of the mapping (for the manifest and ``check``)."""
        out: dict[str, Any] = {
            "data": self.data,
            "dataset": self.dataset,
            "codebook": self.codebook,
            "class": self.class_column,
            "school": self.school,
            "class_size": self.class_size,
            "weight": self.weight,
            "strata": self.strata,
            "replicate_weights": (
                list(self.replicate_weights)
                if isinstance(self.replicate_weights, tuple)
                else self.replicate_weights
            ),
            "replicate_method": self.replicate_method,
            "fay_k": self.fay_k,
            "n_replicates": self.n_replicates,
            "attributes": self.attributes,
            "missing": self.missing,
            "imputations": self.imputations,
            "cohorts": self.n_cohorts,
            "auxiliary": list(self.auxiliary),
            "true_score": self.true_score,
            "small_classes": self.small_classes,
            "unassigned": self.unassigned,
            "measures": [m.to_dict() for m in self.measures],
        }
        return out


# ---------------------------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------------------------
def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    from toolkit._base.checks import check_keys as check

    check(table, allowed, where, CohortError)


def _opt_str(table: Mapping[str, Any], key: str, where: str, what: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise CohortError(f"{where}: '{key}' must be {what}, got {value!r}.")
    return value


def _choice(table: Mapping[str, Any], key: str, where: str) -> str:
    choices = CHOICES[key]
    value = table.get(key, choices[0])
    if value not in choices:
        raise CohortError(
            f"{where}: '{key}' must be one of {list(choices)}, got {value!r}."
            f"{suggest_name(str(value), choices)}"
        )
    return str(value)


def _reliability(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise CohortError(
            f"{where}: 'reliability' must be a number in (0, 1] (the share of the observed "
            f"variance that is true-score variance in the reference population), got {value!r}."
        )
    return float(value)


def _reference(value: object, where: str) -> tuple[float, float] | None:
    if value is None or value == "sample":
        return None
    if isinstance(value, Mapping):
        _check_keys(value, {"mean", "sd", "name"}, f"{where} reference")
        mean, sd = value.get("mean"), value.get("sd")
        ok = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (mean, sd))
        if ok and math.isfinite(mean) and math.isfinite(sd) and sd > 0:  # type: ignore[arg-type]
            return float(mean), float(sd)  # type: ignore[arg-type]
    raise CohortError(
        f"{where}: 'reference' must be \"sample\" (the file's own students, weighted) or a "
        f"table {{ mean = ..., sd = ... }} with sd > 0 (the reference population on the file's "
        f"scale, e.g. {{ mean = 500.0, sd = 100.0 }} for PISA), got {value!r}."
    )


def _pv_columns(spec: object, columns: Sequence[str] | None, where: str) -> tuple[str, ...]:
    """Resolve ``"PV@MATH"`` (``@`` for the number) or a list into the PV columns, in order."""
    if isinstance(spec, list) and spec and all(isinstance(c, str) for c in spec):
        if len(spec) < 2:
            raise CohortError(f"{where}: 'plausible_values' needs at least 2 columns, got {spec}.")
        return tuple(spec)
    if not isinstance(spec, str) or "@" not in spec:
        raise CohortError(
            f"{where}: 'plausible_values' must be a pattern with '@' standing for the value's "
            f'number (e.g. "PV@MATH") or a list of at least 2 columns, got {spec!r}.'
        )
    if columns is None:
        raise CohortError(f"{where}: a plausible-value pattern needs the data's columns.")
    pattern = re.escape(spec).replace("@", r"(\d+)")
    found = sorted(
        (int(m.group(1)), c) for c in columns if (m := re.fullmatch(pattern, str(c))) is not None
    )
    if len(found) < 2:
        raise CohortError(
            f"{where}: the plausible-value pattern {spec!r} matches {len(found)} column(s) of the "
            f"data ({[c for _, c in found]}); expected at least 2."
        )
    nums = [k for k, _ in found]
    gaps = sorted(set(range(nums[0], nums[-1] + 1)) - set(nums))
    if gaps:
        raise CohortError(
            f"{where}: the plausible values {spec!r} are numbered {nums[0]}..{nums[-1]} but "
            f"{gaps} are missing; check the column names."
        )
    return tuple(c for _, c in found)


def _measure(
    attribute: str,
    table: object,
    where: str,
    columns: Sequence[str] | None,
    codebook: Any,
    achievement: bool,
) -> Measure:
    if not isinstance(table, Mapping):
        raise CohortError(f"{where}: must be a table, got {table!r}.")
    _check_keys(table, MEASURE_KEYS, where)
    kinds = [k for k in ("column", "plausible_values", "items", "scale") if k in table]
    allowed = ("column", "plausible_values") if achievement else ("column", "items", "scale")
    if len(kinds) != 1 or kinds[0] not in allowed:
        raise CohortError(
            f"{where}: give exactly one of {list(allowed)} (where the values come from), got "
            f"{kinds or 'none'}."
        )
    kind = kinds[0]
    rel = _reliability(table.get("reliability"), where)
    ref = _reference(table.get("reference", "sample"), where)
    scale = None
    if kind == "column":
        col = table["column"]
        if not isinstance(col, str) or not col:
            raise CohortError(f"{where}: 'column' must be a column name, got {col!r}.")
        cols: tuple[str, ...] = (col,)
    elif kind == "plausible_values":
        if rel is not None:
            raise CohortError(
                f"{where}: plausible values are draws of the true score already; drop "
                "'reliability' (or map one score column with its reliability instead)."
            )
        cols = _pv_columns(table["plausible_values"], columns, where)
    elif kind == "items":
        items = table["items"]
        if not (
            isinstance(items, list) and len(items) >= 2 and all(isinstance(i, str) for i in items)
        ):
            raise CohortError(
                f"{where}: 'items' must be a list of at least 2 item columns (a leading '-' for "
                f"a reverse-keyed item), got {items!r}."
            )
        cols = tuple(items)
    else:
        scale = table["scale"]
        if codebook is None:
            raise CohortError(f"{where}: 'scale' = {scale!r} needs a codebook ('codebook' key).")
        keys = codebook.keys
        if scale not in keys:
            raise CohortError(
                f"{where}: 'scale' = {scale!r} is not a scale of the codebook "
                f"{sorted(keys)}.{suggest_name(str(scale), sorted(keys))}"
            )
        cols = tuple(keys[scale])
    return Measure(attribute, kind, cols, rel, ref, scale)


def parse_mapping(
    table: Mapping[str, Any],
    *,
    domains: Sequence[str],
    where: str = "<cohort>",
    columns: Sequence[str] | None = None,
    codebook: Any = None,
) -> CohortMapping:
    """Check a ``[cohort]`` table and return a :class:`CohortMapping`.

    Parameters
    ----------
    table : mapping
        The table as read from TOML (or written as a dict in Python).
    domains : sequence of str
        The model's domains (``Parameters.domains``): the keys allowed under ``achievement``
        and ``interest``.
    where : str
        Location for messages (``"study.toml [cohort]"``).
    columns : sequence of str, optional
        The data's columns, to expand plausible-value patterns.
    codebook : toolkit.survey.Codebook, optional
        For ``scale = ...`` measures.

    Returns
    -------
    CohortMapping

    Raises
    ------
    CohortError
        Naming the key and what was expected.

    Examples
    --------
    >>> table = {"dataset": "nlschools", "class": "class",
    ...          "achievement": {"reading": {"column": "lang"}}}
    >>> m = parse_mapping(table, domains=["mathematics", "reading"])
    >>> m.measures[0].attribute, m.n_cohorts
    ('skill_reading', 5)
    """
    if not isinstance(table, Mapping):
        raise CohortError(f"{where}: must be a table, got {table!r}.")
    _check_keys(table, KEYS, where)
    if ("data" in table) == ("dataset" in table):
        raise CohortError(
            f"{where}: give exactly one of 'data' (a file: CSV, Excel, SPSS .sav, Stata .dta) "
            "or 'dataset' (a dataset shipped with the toolkit, e.g. \"nlschools\")."
        )
    data = table.get("data")
    if data is not None and not isinstance(data, str | pd.DataFrame):
        raise CohortError(f"{where}: 'data' must be a file path, got {data!r}.")
    class_column = _opt_str(table, "class", where, "the column of class membership")
    if class_column is None:
        raise CohortError(f"{where}: missing key 'class' (the column of class membership).")
    names = {
        k: _opt_str(table, k, where, "a column name")
        for k in ("school", "class_size", "weight", "strata")
    }
    reps = table.get("replicate_weights")
    if reps is not None:
        if isinstance(reps, list) and len(reps) >= 2 and all(isinstance(c, str) for c in reps):
            reps = tuple(reps)
        elif not isinstance(reps, str) or not reps:
            raise CohortError(
                f"{where}: 'replicate_weights' must be a regular expression matching the "
                'replicate-weight columns (e.g. "W_FSTURWT\\\\d+") or a list of them, '
                f"got {reps!r}."
            )
        if names["weight"] is None:
            raise CohortError(f"{where}: 'replicate_weights' needs 'weight' (the final weight).")
        if names["strata"] is not None:
            raise CohortError(
                f"{where}: 'strata' builds jackknife replicate weights; the file's own "
                "'replicate_weights' already carry the design: give one or the other."
            )
    fay_k = table.get("fay_k", 0.5)
    if isinstance(fay_k, bool) or not isinstance(fay_k, int | float) or not 0 <= fay_k < 1:
        raise CohortError(f"{where}: 'fay_k' must be a number in [0, 1), got {fay_k!r}.")
    n_rep = table.get("n_replicates")
    if n_rep is not None and (isinstance(n_rep, bool) or not isinstance(n_rep, int) or n_rep < 2):
        raise CohortError(f"{where}: 'n_replicates' must be a whole number >= 2, got {n_rep!r}.")
    m = table.get("imputations", 5)
    if isinstance(m, bool) or not isinstance(m, int) or m < 2:
        raise CohortError(
            f"{where}: 'imputations' must be a whole number >= 2 (Rubin's rules need at least "
            f"two imputed cohorts; 5 to 20 is usual), got {m!r}."
        )
    aux = table.get("auxiliary", [])
    if not isinstance(aux, list) or not all(isinstance(c, str) for c in aux):
        raise CohortError(f"{where}: 'auxiliary' must be a list of column names, got {aux!r}.")
    measures: list[Measure] = []
    domains = list(domains)
    for group, prefix in (("achievement", "skill"), ("interest", "interest")):
        sub = table.get(group, {})
        if not isinstance(sub, Mapping):
            raise CohortError(
                f"{where}: '{group}' must be a table of domains ([cohort.{group}.<domain>])."
            )
        for dom, spec in sub.items():
            w = f"{where} {group}.{dom}"
            if dom not in domains:
                raise CohortError(
                    f"{w}: '{dom}' is not a model domain {domains}."
                    f"{suggest_name(str(dom), domains)}"
                )
            measures.append(
                _measure(f"{prefix}_{dom}", spec, w, columns, codebook, group == "achievement")
            )
    if "self_regulation" in table:
        measures.append(
            _measure(
                "self_regulation",
                table["self_regulation"],
                f"{where} self_regulation",
                columns,
                codebook,
                False,
            )
        )
    pvs = {len(x.columns) for x in measures if x.kind == "plausible_values"}
    if len(pvs) > 1:
        raise CohortError(
            f"{where}: the domains have different numbers of plausible values {sorted(pvs)}; "
            "each cohort takes the m-th value of every domain, so they must have as many."
        )
    attributes = _choice(table, "attributes", where)
    if attributes == "data" and not measures:
        raise CohortError(
            f"{where}: no attribute is read from the data; map at least one of "
            "[cohort.achievement.<domain>], [cohort.interest.<domain>], [cohort.self_regulation] "
            '(or set attributes = "drawn" to draw every attribute for the file\'s classes).'
        )
    if pvs and "imputations" in table and table["imputations"] != next(iter(pvs)):
        raise CohortError(
            f"{where}: 'imputations' = {table['imputations']} but the file has {next(iter(pvs))} "
            "plausible values; one cohort is built per plausible value (with its own imputation "
            "of any missing values), so drop 'imputations'."
        )
    return CohortMapping(
        class_column=class_column,
        measures=tuple(measures),
        data=data if isinstance(data, str) else None,
        dataset=_opt_str(table, "dataset", where, "the name of a toolkit dataset"),
        format=_opt_str(
            table, "format", where, "a file format (csv, excel, spss, stata, qualtrics)"
        ),
        codebook=_opt_str(table, "codebook", where, "the path of a codebook (TOML or CSV)"),
        school=names["school"],
        class_size=names["class_size"],
        weight=names["weight"],
        strata=names["strata"],
        replicate_weights=reps,
        replicate_method=_choice(table, "replicate_method", where),
        fay_k=float(fay_k),
        n_replicates=n_rep,
        attributes=attributes,
        missing=_choice(table, "missing", where),
        imputations=m,
        auxiliary=tuple(aux),
        true_score=_choice(table, "true_score", where),
        small_classes=_choice(table, "small_classes", where),
        unassigned=_choice(table, "unassigned", where),
        where=where,
    )


# ---------------------------------------------------------------------------------------------
# the data
# ---------------------------------------------------------------------------------------------
def load_data(
    table: Mapping[str, Any], *, where: str = "<cohort>", base: str | Path = "."
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read the file (or toolkit dataset) a ``[cohort]`` table names, with its provenance.

    Parameters
    ----------
    table : mapping
        With ``data`` (a path, relative to ``base``; or, in Python, a DataFrame) or
        ``dataset``, optionally ``format`` and ``codebook``.
    where : str
        Location for messages.
    base : str or Path
        Folder that relative paths are resolved against (the study file's folder).

    Returns
    -------
    data : pandas.DataFrame
    record : dict
        ``source`` (path or ``dataset:<name>`` or ``<DataFrame>``), ``sha256`` of the file's
        bytes (of the table's contents for a dataset or a DataFrame), ``rows``, ``columns``,
        and the codebook's path and hash when there is one.
    """
    from toolkit.survey.readers import read_survey

    base = Path(base)
    data = table.get("data")
    if isinstance(data, pd.DataFrame):
        df = data.copy()
        record: dict[str, Any] = {"source": "<DataFrame>", "sha256": _frame_hash(df)}
    elif isinstance(data, str):
        path = _path(data, "data", where, base)
        try:
            df = read_survey(path, format=table.get("format"))
        except (ValueError, OSError, TypeError) as exc:
            raise CohortError(f"{where}: 'data' = {data!r} could not be read: {exc}") from None
        record = {"source": str(path), "sha256": _file_hash(path)}
    elif isinstance(table.get("dataset"), str):
        from toolkit.datasets import DATASETS, load_dataset

        name = table["dataset"]
        if name not in DATASETS:
            raise CohortError(
                f"{where}: 'dataset' = {name!r} is not a toolkit dataset "
                f"{sorted(DATASETS)}.{suggest_name(name, sorted(DATASETS))}"
            )
        df = load_dataset(name)
        record = {"source": f"dataset:{name}", "sha256": _frame_hash(df)}
    else:
        raise CohortError(f"{where}: give 'data' (a file) or 'dataset' (a toolkit dataset).")
    if df.empty:
        raise CohortError(f"{where}: the data ({record['source']}) has no rows.")
    record |= {"rows": len(df), "columns": len(df.columns)}
    cb = table.get("codebook")
    if cb is not None:
        path = _path(cb, "codebook", where, base)
        record["codebook"] = {"source": str(path), "sha256": _file_hash(path)}
    return df, record


def read_codebook_for(table: Mapping[str, Any], *, where: str, base: str | Path = ".") -> Any:
    """Read the codebook a ``[cohort]`` table names (None if it names none)."""
    from toolkit.survey.codebook import Codebook

    cb = table.get("codebook")
    if cb is None:
        return None
    path = _path(cb, "codebook", where, Path(base))
    try:
        return Codebook.read(path)
    except (ValueError, OSError) as exc:
        raise CohortError(f"{where}: 'codebook' = {cb!r} could not be read: {exc}") from None


def _path(value: str, key: str, where: str, base: Path) -> Path:
    """Resolve a file named in the table (relative to ``base``); refuse one that is not there."""
    path = Path(value)
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise CohortError(
            f"{where}: '{key}' = {value!r}: no such file {str(path)!r} (a relative path is taken "
            "from the study file's folder)."
        )
    return path


def _file_hash(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _frame_hash(df: pd.DataFrame) -> str:
    """SHA-256 of a table's contents (values, column names and dtypes), for the manifest."""
    h = hashlib.sha256()
    h.update(repr([(str(c), str(t)) for c, t in df.dtypes.items()]).encode())
    h.update(np.asarray(pd.util.hash_pandas_object(df, index=True).to_numpy()).tobytes())
    return h.hexdigest()
