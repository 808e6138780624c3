r"""The trial record as data: published effects of contrasts the regime axes can express.

Two files in ``toolkit/calibration/data/``:

``evidence.csv``
    One row per published number, in the columns of the targets file
    (:mod:`toolkit.calibration.targets`) plus ``ci_low, ci_high`` (the published 95%
    interval, when the source gives one), ``measure`` (the outcome measure the study used:
    ``standardized``, ``researcher-made``, ``local``, ``mixed``, ``self-report`` or
    ``grades``), ``duration`` and ``studies`` (how many studies or effects it pools). The
    ``quantity`` of a row is ``contrast:<mapping>`` or ``correlation:<mapping>``; its ``sd``
    is the published standard error (from the interval, :math:`(hi - lo)/3.92`) or, when
    the source gives none, a judgement stated in ``basis``.
``evidence-mappings.toml``
    One table per row id: how the study is expressed in the model, as a reader can check and
    dispute it. A ``contrast`` has two arms written as study-file arms (a preset name,
    ``"blend(a, b, w)"``, a table of axes with an optional ``base``, or a list with one per
    school year), ``years``, ``[<id>.parameters]`` the study implies for both arms (dosage
    ``n_days``, class size ``n_students`` ...) and optionally ``[<id>.treatment_parameters]``
    and ``[<id>.control_parameters]``; ``outcome`` (``"test"`` or a student-table column such
    as ``"engagement"``) and, for the test, ``test`` (``"standardized"``: the model's broad
    test of the core domains, column ``score``; ``"aligned"``: a test of what was taught,
    column ``aligned_score``). A ``correlation`` has one ``arm`` and columns ``x`` and ``y``.
    Every table has ``fidelity`` (``close``, ``approximate`` or ``loose``: how well the axes
    express what the study did) and ``why``, the argument for the choice.

:func:`load_rows` reads both files with the targets file (and a user's extra rows and
mappings, for ``python -m toolkit validate --targets FILE``) and checks that every row's
quantity exists; every error names the file, the row (or table) and the column (or key).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.calibration.targets import (
    DATA_DIR,
    OPTIONAL,
    TARGETS_FILE,
    TargetsError,
    load_targets,
    read_rows,
)
from toolkit.model.params import ParameterError, Parameters, suggest_name

__all__ = [
    "EVIDENCE_FILE",
    "KINDS",
    "MAPPINGS_FILE",
    "MEASURES",
    "TEST_KINDS",
    "EvidenceMapping",
    "load_evidence",
    "load_mappings",
    "load_rows",
]

#: The trial record shipped with the package.
EVIDENCE_FILE = DATA_DIR / "evidence.csv"
#: How each row of the trial record maps onto the model.
MAPPINGS_FILE = DATA_DIR / "evidence-mappings.toml"

#: Optional columns of the trial record (beyond the targets file's); the first two are numbers.
EVIDENCE_COLUMNS = ("ci_low", "ci_high", "measure", "duration", "studies")
#: Outcome measures a study can use. ``standardized`` rows map to the model's standardized
#: test; ``researcher-made`` and ``local`` (tests written for the taught unit or course) to the
#: aligned test; ``mixed`` to either, the mapping saying why.
MEASURES = ("standardized", "researcher-made", "local", "mixed", "self-report", "grades")
#: Kinds of test a mapping can name.
TEST_KINDS = ("standardized", "aligned")
#: Kinds of mapping (the prefix of the row's quantity).
KINDS = ("contrast", "correlation")
#: How well a mapping expresses what the study did.
FIDELITY = ("close", "approximate", "loose")

_KEYS = {
    "contrast": {
        "kind",
        "treatment",
        "control",
        "outcome",
        "test",
        "years",
        "parameters",
        "treatment_parameters",
        "control_parameters",
        "fidelity",
        "why",
    },
    "correlation": {"kind", "arm", "x", "y", "years", "parameters", "fidelity", "why"},
}
_TEST_OF_MEASURE = {
    "standardized": ("standardized",),
    "researcher-made": ("aligned",),
    "local": ("aligned",),
    "mixed": TEST_KINDS,
}


@dataclass(frozen=True)
class EvidenceMapping:
    """How one row of the trial record is expressed in the model (a table of the mappings file).

    Attributes
    ----------
    id : str
    kind : {"contrast", "correlation"}
    treatment, control : regime spec
        The arms of a contrast, as written (study-file syntax).
    outcome : str
        ``"test"`` or a student-table column.
    test : str or None
        ``"standardized"`` or ``"aligned"`` when the outcome is the test.
    arm : regime spec
        The arm of a correlation.
    x, y : tuple of str
        Student-table columns of a correlation (several are averaged per student).
    years : int
    parameters, treatment_parameters, control_parameters : dict
        Model parameters the study implies, for both arms and for each.
    fidelity : {"close", "approximate", "loose"}
    why : str
        The argument for the mapping.
    source : str
        File the mapping was read from.
    """

    id: str
    kind: str
    treatment: Any = None
    control: Any = None
    outcome: str = "test"
    test: str | None = None
    arm: Any = None
    x: tuple[str, ...] = ()
    y: tuple[str, ...] = ()
    years: int = 1
    parameters: dict[str, Any] = field(default_factory=dict)
    treatment_parameters: dict[str, Any] = field(default_factory=dict)
    control_parameters: dict[str, Any] = field(default_factory=dict)
    fidelity: str = "approximate"
    why: str = ""
    source: str = ""

    @property
    def column(self) -> str:
        """Student-table column of a contrast's outcome (``score``, ``aligned_score`` ...)."""
        from toolkit.calibration.quantities import TEST_COLUMNS

        return TEST_COLUMNS[self.test] if self.outcome == "test" else self.outcome

    def describe(self) -> str:
        """Return the mapping in one line, for the validation report."""

        def arm(spec: Any) -> str:
            if isinstance(spec, str):
                return spec
            if isinstance(spec, list):
                return " then ".join(arm(s) for s in spec)
            items = dict(spec)
            base = items.pop("base", "standardized")
            items.pop("name", None)
            inner = ", ".join(f"{k} {v}" for k, v in items.items())
            return f"{base} with {inner}" if inner else base

        def params(p: Mapping[str, Any]) -> str:
            return ", ".join(f"{k} = {v}" for k, v in p.items())

        shared = dict(self.parameters)
        days = shared.pop("n_days", None)
        if days is None:
            years = f"{self.years} school year{'s' if self.years > 1 else ''}"
        elif self.years == 1:
            years = f"{days} school days"
        else:
            years = f"{self.years} periods of {days} school days"
        extra = params(shared)
        if self.kind == "correlation":
            what = (
                f"correlation of {' + '.join(self.x)} with {' + '.join(self.y)} over students, "
                f"{arm(self.arm)}"
            )
        else:
            outcome = f"the {self.test} test" if self.outcome == "test" else self.outcome
            what = f"{arm(self.treatment)} against {arm(self.control)}, on {outcome}"
            for name, p in (
                ("treatment", self.treatment_parameters),
                ("control", self.control_parameters),
            ):
                if p:
                    what += f"; {name} arm: {params(p)}"
        return f"{what}; {years}" + (f"; {extra}" if extra else "") + f" ({self.fidelity})"


def load_evidence(path: str | Path | None = None) -> pd.DataFrame:
    """Read and check the trial record (or a user's file of extra rows).

    Parameters
    ----------
    path : str or Path, optional
        Default: :data:`EVIDENCE_FILE`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``id``, with the targets file's columns and :data:`EVIDENCE_COLUMNS`
        (``value, sd, low, high, ci_low, ci_high`` as floats).

    Raises
    ------
    TargetsError
        Naming the file, the row and the column.

    Examples
    --------
    >>> e = load_evidence()
    >>> float(e.loc["alfieri2011_unassisted", "value"]), e.loc["alfieri2011_unassisted", "measure"]
    (-0.38, 'mixed')
    """
    path = Path(path) if path is not None else EVIDENCE_FILE
    df = read_rows(path, optional=OPTIONAL + EVIDENCE_COLUMNS, numeric=("ci_low", "ci_high"))
    for rid, row in df.iterrows():
        where = f"{path}: row '{rid}'"
        if row["measure"] and row["measure"] not in MEASURES:
            raise TargetsError(
                f"{where}, column 'measure': {row['measure']!r}; expected one of {MEASURES}."
                f"{suggest_name(row['measure'], MEASURES)}"
            )
        lo, hi = row["ci_low"], row["ci_high"]
        if math.isnan(lo) != math.isnan(hi):
            raise TargetsError(f"{where}: give both 'ci_low' and 'ci_high', or neither.")
        if not math.isnan(lo) and not (lo <= hi):
            raise TargetsError(f"{where}: 'ci_low' ({lo}) is above 'ci_high' ({hi}).")
        if not math.isnan(lo) and not math.isnan(row["value"]) and not lo <= row["value"] <= hi:
            raise TargetsError(
                f"{where}: 'value' ({row['value']}) lies outside its interval [{lo}, {hi}]."
            )
    return df


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise TargetsError(f"{path}: no such mappings file.")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TargetsError(f"{path}: not valid TOML: {exc}.") from None
    except UnicodeDecodeError:
        raise TargetsError(f"{path}: not a UTF-8 text file.") from None


def _check_params(values: Any, where: str) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise TargetsError(f"{where}: must be a table of model parameters, got {values!r}.")
    try:
        Parameters.from_mapping(dict(values), source=where)
    except ParameterError as exc:
        raise TargetsError(str(exc)) from None
    return dict(values)


def _check_arm(spec: Any, years: int, where: str) -> Any:
    from toolkit.model.schedule import resolve_schedule

    if spec is None:
        raise TargetsError(f"{where}: missing (a preset name, blend or table of axes).")
    try:
        resolve_schedule(spec, years, where)
    except ParameterError as exc:
        raise TargetsError(str(exc)) from None
    return spec


def _columns(value: Any, where: str) -> tuple[str, ...]:
    cols = [value] if isinstance(value, str) else value
    if not isinstance(cols, list) or not cols or not all(isinstance(c, str) and c for c in cols):
        raise TargetsError(
            f"{where}: must be a student-table column or a list of them, got {value!r}."
        )
    return tuple(cols)


def _mapping(mid: str, table: Any, source: Path) -> EvidenceMapping:
    where = f"{source} [{mid}]"
    if not isinstance(table, Mapping):
        raise TargetsError(f"{where}: must be a table, got {table!r}.")
    kind = table.get("kind", "contrast")
    if kind not in KINDS:
        raise TargetsError(f"{where}, key 'kind': {kind!r}; expected one of {KINDS}.")
    unknown = sorted(set(table) - _KEYS[kind])
    if unknown:
        raise TargetsError(
            f"{where}: unknown key(s) {unknown}.{suggest_name(unknown[0], sorted(_KEYS[kind]))} "
            f"Allowed for a {kind}: {sorted(_KEYS[kind])}."
        )
    years = table.get("years", 1)
    if isinstance(years, bool) or not isinstance(years, int) or years < 1:
        raise TargetsError(f"{where}, key 'years': must be a whole number >= 1, got {years!r}.")
    fidelity = table.get("fidelity", "")
    if fidelity not in FIDELITY:
        raise TargetsError(f"{where}, key 'fidelity': {fidelity!r}; expected one of {FIDELITY}.")
    why = table.get("why", "")
    if not isinstance(why, str) or len(why.strip()) < 20:
        raise TargetsError(
            f"{where}, key 'why': give the argument for the mapping (a sentence or more), so a "
            "reader can check and dispute it."
        )
    shared = _check_params(table.get("parameters", {}), f"{where} parameters")
    common = {
        "id": mid,
        "kind": kind,
        "years": years,
        "parameters": shared,
        "fidelity": fidelity,
        "why": " ".join(why.split()),
        "source": str(source),
    }
    if kind == "correlation":
        return EvidenceMapping(
            **common,
            arm=_check_arm(table.get("arm"), years, f"{where} arm"),
            x=_columns(table.get("x"), f"{where}, key 'x'"),
            y=_columns(table.get("y"), f"{where}, key 'y'"),
        )
    outcome = table.get("outcome", "test")
    if not isinstance(outcome, str) or not outcome:
        raise TargetsError(f"{where}, key 'outcome': 'test' or a student-table column.")
    test = table.get("test")
    if outcome == "test" and test not in TEST_KINDS:
        raise TargetsError(
            f"{where}, key 'test': {test!r}; a contrast on the test says which kind, one of "
            f"{TEST_KINDS} (standardized: the model's broad test of the core domains; aligned: "
            "a test of what was taught)."
        )
    if outcome != "test" and test is not None:
        raise TargetsError(f"{where}, key 'test': only for outcome = 'test' (got {outcome!r}).")
    per_arm = {}
    for arm in ("treatment", "control"):
        p = _check_params(table.get(f"{arm}_parameters", {}), f"{where} {arm}_parameters")
        _check_params(shared | p, f"{where} {arm} arm's parameters")
        per_arm[f"{arm}_parameters"] = p
    return EvidenceMapping(
        **common,
        treatment=_check_arm(table.get("treatment"), years, f"{where} treatment"),
        control=_check_arm(table.get("control"), years, f"{where} control"),
        outcome=outcome,
        test=test,
        **per_arm,
    )


def load_mappings(path: str | Path | None = None) -> dict[str, EvidenceMapping]:
    """Read and check a mappings file.

    Parameters
    ----------
    path : str or Path, optional
        Default: :data:`MAPPINGS_FILE`.

    Returns
    -------
    dict of str to EvidenceMapping

    Raises
    ------
    TargetsError
        Naming the file, the table and the key, and what was expected.

    Examples
    --------
    >>> m = load_mappings()["pane2017_math"]
    >>> m.kind, m.test, m.control
    ('contrast', 'standardized', 'standardized')
    """
    path = Path(path) if path is not None else MAPPINGS_FILE
    data = _read_toml(path)
    return {mid: _mapping(mid, table, path) for mid, table in data.items()}


def load_rows(
    extra: str | Path | None = None,
    mappings: str | Path | None = None,
    *,
    targets: str | Path | None = None,
) -> tuple[pd.DataFrame, dict[str, EvidenceMapping]]:
    """Every row the validation report judges, and the mappings of the trial record's rows.

    The targets file's rows, the trial record's, and (optionally) a user's file of extra rows
    with its mappings. A user's row or mapping with the id of a package one replaces it (the
    returned table's ``attrs["replaced"]`` lists them), so a reader can dispute a number or a
    mapping without editing the package.

    Parameters
    ----------
    extra : str or Path, optional
        A CSV file of rows in the trial record's columns.
    mappings : str or Path, optional
        The mappings of ``extra``'s rows (a TOML file like ``evidence-mappings.toml``); default:
        the file next to ``extra`` with the same name and the suffix ``.toml``, if there is
        one.
    targets : str or Path, optional
        Targets file instead of the package's.

    Returns
    -------
    rows : pandas.DataFrame
        Indexed by ``id``; ``origin`` says where each row comes from (``targets``,
        ``evidence`` or the user's file).
    mappings : dict of str to EvidenceMapping

    Raises
    ------
    TargetsError
        For a malformed row or mapping, or a row whose quantity is neither registered nor
        mapped (naming the file, row and column).

    Examples
    --------
    >>> rows, maps = load_rows()
    >>> {"annual_gain", "alfieri2011_unassisted"} <= set(rows.index)
    True
    """
    from toolkit.calibration.quantities import EVIDENCE_KINDS, QUANTITIES

    t = load_targets(targets).assign(origin="targets")
    e = load_evidence().assign(origin="evidence")
    maps = load_mappings()
    frames = [t, e]
    replaced: list[str] = []
    sources = {rid: str(targets or TARGETS_FILE) for rid in t.index} | {
        rid: str(EVIDENCE_FILE) for rid in e.index
    }
    if extra is not None:
        extra = Path(extra)
        user = load_evidence(extra).assign(origin=str(extra))
        replaced = sorted(set(user.index) & (set(t.index) | set(e.index)))
        frames = [f.drop(index=[r for r in replaced if r in f.index]) for f in frames] + [user]
        sources |= {rid: str(extra) for rid in user.index}
        if mappings is None and extra.with_suffix(".toml").is_file():
            mappings = extra.with_suffix(".toml")
    if mappings is not None:
        own = load_mappings(mappings)
        replaced += sorted(f"[{m}]" for m in set(own) & set(maps))
        maps = maps | own
    rows = pd.concat(frames)
    for c in ("note", *EVIDENCE_COLUMNS):
        if c in rows.columns:
            rows[c] = rows[c].fillna("" if c not in ("ci_low", "ci_high") else math.nan)
    for rid, q in rows["quantity"].items():
        if q in QUANTITIES:
            continue
        kind, sep, mid = q.partition(":")
        where = f"{sources[rid]}: row '{rid}', column 'quantity'"
        if not sep or kind not in EVIDENCE_KINDS:
            raise TargetsError(
                f"{where}: {q!r} is neither a registered quantity nor 'contrast:<mapping>' / "
                f"'correlation:<mapping>'.{suggest_name(q, sorted(QUANTITIES))}"
            )
        if mid not in maps:
            raise TargetsError(
                f"{where}: {q!r} names the mapping [{mid}], which no mappings file has"
                + (f" (read: {mappings})" if mappings is not None else " (give --mappings FILE)")
                + "."
            )
        m = maps[mid]
        if m.kind != kind:
            raise TargetsError(f"{where}: {q!r}, but the mapping [{mid}] is a {m.kind}.")
        measure = rows.at[rid, "measure"]
        if (
            m.kind == "contrast"
            and m.outcome == "test"
            and measure in _TEST_OF_MEASURE
            and m.test not in _TEST_OF_MEASURE[measure]
        ):
            raise TargetsError(
                f"{where}: the row's measure is {measure!r} but its mapping [{mid}] compares "
                f"on the {m.test} test; map a {measure} measure to the "
                f"{' or '.join(_TEST_OF_MEASURE[measure])} test."
            )
    rows.attrs["replaced"] = replaced
    return rows, maps
