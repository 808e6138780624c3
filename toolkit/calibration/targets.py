r"""The calibration targets and checks as data: ``toolkit/calibration/data/targets.csv``.

One row per published (or computed) number the model is fitted to or checked against:

=============  ==============================================================================
column         meaning
=============  ==============================================================================
id             short unique name of the row
quantity       the model quantity it is compared with (:mod:`toolkit.calibration.quantities`)
role           ``target`` (the calibration fits it), ``check`` (held back: never fitted) or
               ``comparison`` (held back too, and judged by the same rule, but mapped more
               loosely onto the model: a failed comparison is a flag to read, not a defect)
value          the published value (empty for a pure range)
sd             its uncertainty as a standard deviation: what the calibration's distance
               weighs a target by (empty for a range)
low, high      the range the model's value must fall in to pass (either may be empty: a
               bound); where given it is the verdict, for targets too (the strict ranges of
               ``tests/test_checks.py``)
unit           what the number measures
population     who was measured
grade          school grades
source         full citation
location       where in the source (page, table, abstract) and how it was read
confidence     ``high``, ``medium``, ``low``: how well the number is grounded
               (``docs/calibration-sources.md`` has the narrative)
basis          how value, uncertainty and range were derived from the source
note           what the model can and cannot represent of it (optional column)
=============  ==============================================================================

A target's *center and scale* (:func:`target_scale`) drive the calibration's distance: the
value and its SD, or for a range its midpoint and a quarter of its width (a range read as a
95% interval). A row *passes* (:func:`evaluate`) when the model's value lies inside its range
(either bound, for a one-sided row); a row with no range passes when the model's value lies
within two combined standard deviations of the published value,
:math:`|m - v| \le 2\sqrt{s^2 + \mathrm{se}_m^2}`. So a calibration target carries both: its
SD says how uncertain the published number is (the posterior's width follows it), its range is
the tolerance a point calibration must meet. Every row with a range or an SD gets a verdict,
comparisons included, and every row that does not pass gets a *flag* (:func:`evaluate`): outside
its range, ``|z| > 2``, or no model value (and why), so that no miss passes unseen.

The trial record (``toolkit/calibration/data/evidence.csv``, :mod:`toolkit.calibration.evidence`)
uses the same columns and rules, with a few more (the published interval, the kind of outcome
measure, the duration).
"""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "COLUMNS",
    "ROLES",
    "TARGETS_FILE",
    "TargetsError",
    "evaluate",
    "load_targets",
    "passes",
    "read_rows",
    "target_scale",
]

#: The package's calibration data (targets, ABC settings, egsingle), installed with it.
DATA_DIR = Path(str(resources.files("toolkit.calibration") / "data"))

#: The targets file shipped with the package.
TARGETS_FILE = DATA_DIR / "targets.csv"

COLUMNS = (
    "id",
    "quantity",
    "role",
    "value",
    "sd",
    "low",
    "high",
    "unit",
    "population",
    "grade",
    "source",
    "location",
    "confidence",
    "basis",
)
#: Columns a targets file may leave out (filled with empty text).
OPTIONAL = ("note",)
ROLES = ("target", "check", "comparison")
CONFIDENCE = ("high", "medium", "low", "none")


class TargetsError(ValueError):
    """The targets file is missing, or a row is malformed (the message names row and column)."""


def load_targets(path: str | Path | None = None, *, known: bool = False) -> pd.DataFrame:
    """Read and check the targets file.

    Parameters
    ----------
    path : str or Path, optional
        Default: :data:`TARGETS_FILE`.
    known : bool
        Also require every ``quantity`` to be registered in
        :data:`toolkit.calibration.quantities.QUANTITIES`.

    Returns
    -------
    pandas.DataFrame
        The rows, with ``value, sd, low, high`` as floats (NaN when empty), indexed by ``id``.

    Raises
    ------
    TargetsError
        Naming the file, the row's id and the column, and what was expected.

    Examples
    --------
    >>> t = load_targets()
    >>> t.loc["annual_gain", "role"], float(t.loc["annual_gain", "value"])
    ('target', 0.36)
    """
    path = Path(path) if path is not None else TARGETS_FILE
    df = read_rows(path)
    if known:
        from toolkit.calibration.quantities import QUANTITIES

        unknown = sorted(set(df["quantity"]) - set(QUANTITIES))
        if unknown:
            raise TargetsError(
                f"{path}: quantity(ies) {unknown} are not registered in "
                "toolkit/calibration/quantities.py."
            )
    return df


def read_rows(
    path: Path, optional: tuple[str, ...] = OPTIONAL, numeric: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Read a file of rows in the targets format and check every row (no quantity check).

    Parameters
    ----------
    path : Path
    optional : tuple of str
        Columns the file may leave out (filled with empty text).
    numeric : tuple of str
        Optional columns that hold numbers (converted like ``value, sd, low, high``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``id``.

    Raises
    ------
    TargetsError
        Naming the file, the row's id and the column, and what was expected.
    """
    if not path.is_file():
        raise TargetsError(f"{path}: no such targets file.")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise TargetsError(f"{path}: not a readable CSV file ({exc}).") from None
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise TargetsError(f"{path}: missing column(s) {missing}; expected {list(COLUMNS)}.")
    extra = [c for c in df.columns if c not in COLUMNS + optional]
    if extra:
        raise TargetsError(
            f"{path}: unknown column(s) {extra}; expected {list(COLUMNS)} and optionally "
            f"{list(optional)}."
        )
    for c in optional:
        if c not in df.columns:
            df[c] = ""
    if df["id"].eq("").any() or df["id"].duplicated().any():
        dup = sorted(set(df.loc[df["id"].duplicated(), "id"]))
        raise TargetsError(f"{path}: every row needs a unique 'id' (empty or repeated: {dup}).")
    for col in ("value", "sd", "low", "high", *numeric):
        conv = pd.to_numeric(df[col].replace("", np.nan), errors="coerce")
        bad = df[col].ne("") & conv.isna()
        if bad.any():
            rid = df.loc[bad, "id"].iloc[0]
            raise TargetsError(
                f"{path}: row '{rid}', column '{col}': {df.loc[bad, col].iloc[0]!r} is not a "
                "number."
            )
        df[col] = conv.astype(float)
    for row in df.itertuples():
        where = f"{path}: row '{row.id}'"
        if row.role not in ROLES:
            raise TargetsError(f"{where}, column 'role': {row.role!r}; expected one of {ROLES}.")
        if row.confidence not in CONFIDENCE:
            raise TargetsError(
                f"{where}, column 'confidence': {row.confidence!r}; expected one of {CONFIDENCE}."
            )
        if not row.quantity:
            raise TargetsError(f"{where}, column 'quantity': empty; name the model quantity.")
        has_point = not math.isnan(row.value) and not math.isnan(row.sd)
        has_range = not (math.isnan(row.low) and math.isnan(row.high))
        if not (has_point or has_range or (row.role == "comparison" and not math.isnan(row.value))):
            raise TargetsError(f"{where}: give 'value' and 'sd', or a range ('low' and/or 'high').")
        if not math.isnan(row.sd) and row.sd <= 0:
            raise TargetsError(f"{where}, column 'sd': must be positive, got {row.sd}.")
        if not (math.isnan(row.low) or math.isnan(row.high)) and row.low > row.high:
            raise TargetsError(f"{where}: 'low' ({row.low}) is above 'high' ({row.high}).")
        if row.role == "target" and not has_point and (math.isnan(row.low) or math.isnan(row.high)):
            raise TargetsError(
                f"{where}: a calibration target needs 'value' and 'sd' or both 'low' and 'high'."
            )
        if not row.source:
            raise TargetsError(f"{where}, column 'source': empty; every row cites its source.")
    return df.set_index("id")


def target_scale(row: pd.Series) -> tuple[float, float]:
    """Center and scale of a target for the calibration's distance.

    Returns
    -------
    tuple of float
        ``(value, sd)`` when the row has both; otherwise ``(midpoint, width / 4)`` of its
        range (a range read as a 95% interval).

    Examples
    --------
    >>> target_scale(pd.Series({"value": np.nan, "sd": np.nan, "low": 0.1, "high": 0.5}))
    (0.3, 0.1)
    """
    if not math.isnan(row["value"]) and not math.isnan(row["sd"]):
        return float(row["value"]), float(row["sd"])
    lo, hi = float(row["low"]), float(row["high"])
    if math.isnan(lo) or math.isnan(hi):
        raise TargetsError(f"target {row.name!r}: a one-sided range has no center.")
    return (lo + hi) / 2, (hi - lo) / 4


def evaluate(targets: pd.DataFrame, measured: pd.DataFrame) -> pd.DataFrame:
    r"""Compare the model's quantities with the targets, checks and comparisons.

    Parameters
    ----------
    targets : pandas.DataFrame
        From :func:`load_targets` (or :func:`toolkit.calibration.evidence.load_rows`).
    measured : pandas.DataFrame
        ``quantity, value, se`` (from :func:`toolkit.calibration.quantities.compute`); may
        also carry ``ci_low, ci_high`` (e.g. a posterior predictive interval), shown as the
        model's interval instead of :math:`\pm 1.96\,\mathrm{se}`, and ``note`` (why a
        quantity has no value, e.g. a test the model does not have yet).

    Returns
    -------
    pandas.DataFrame
        Per row: ``id, quantity, role, published, model, model_low, model_high, z, passed,
        flag`` and the row's ``unit, source, location, confidence, basis``. ``z`` is
        :math:`(m - v)/\sqrt{s^2 + \mathrm{se}^2}` for rows with a value and SD. ``passed`` is
        ``None`` when the model has no value for the row or the row has neither a range nor
        an SD (a bare value); comparisons get a verdict like every other row. ``flag`` is
        empty for a row that passes and says why otherwise: ``outside [low, high]``,
        ``|z| = 5.6 > 2``, ``no model value: ...`` or ``no uncertainty: no verdict``.

    Examples
    --------
    >>> t = pd.DataFrame(
    ...     {"quantity": ["q"], "role": ["comparison"], "value": [0.07], "sd": [0.03],
    ...      "low": [np.nan], "high": [np.nan], "unit": [""], "source": ["s"],
    ...      "location": [""], "confidence": ["medium"], "basis": [""]}, index=["share"])
    >>> e = evaluate(t, pd.DataFrame({"quantity": ["q"], "value": [0.24], "se": [0.01]}))
    >>> bool(e.loc[0, "passed"]), e.loc[0, "flag"]
    (False, '|z| = 5.4 > 2')
    """
    m = measured.set_index("quantity")
    rows = []
    for rid, t in targets.iterrows():
        out = {
            "id": rid,
            "quantity": t["quantity"],
            "role": t["role"],
            "published": _published(t),
            "model": math.nan,
            "model_low": math.nan,
            "model_high": math.nan,
            "z": math.nan,
            "passed": None,
            "flag": "no model value",
        }
        r = m.loc[t["quantity"]] if t["quantity"] in m.index else None
        if r is not None and not pd.isna(r["value"]):
            val, se = float(r["value"]), float(r["se"])
            lo = (
                float(r["ci_low"])
                if "ci_low" in r and not pd.isna(r["ci_low"])
                else val - 1.96 * se
            )
            hi = (
                float(r["ci_high"])
                if "ci_high" in r and not pd.isna(r["ci_high"])
                else val + 1.96 * se
            )
            out |= {"model": val, "model_low": lo, "model_high": hi}
            if not math.isnan(t["value"]) and not math.isnan(t["sd"]):
                out["z"] = (val - t["value"]) / math.hypot(t["sd"], se)
            has_range = not (math.isnan(t["low"]) and math.isnan(t["high"]))
            if has_range or not math.isnan(out["z"]):
                out["passed"] = passes(t, val, out["z"])
                out["flag"] = "" if out["passed"] else _flag(t, out["z"])
            else:
                out["flag"] = "no uncertainty: no verdict"
        elif r is not None and "note" in r and isinstance(r["note"], str) and r["note"]:
            out["flag"] = f"no model value: {r['note']}"
        rows.append(out | {k: t[k] for k in ("unit", "source", "location", "confidence", "basis")})
    df = pd.DataFrame(rows)
    df["passed"] = pd.Series([r["passed"] for r in rows], index=df.index, dtype=object)
    return df


def _flag(t: pd.Series, z: float) -> str:
    lo, hi = float(t["low"]), float(t["high"])
    if not (math.isnan(lo) and math.isnan(hi)):
        lo_s = "-inf" if math.isnan(lo) else f"{lo:g}"
        hi_s = "inf" if math.isnan(hi) else f"{hi:g}"
        return f"outside [{lo_s}, {hi_s}]" + (f" (z = {z:.1f})" if not math.isnan(z) else "")
    return f"|z| = {abs(z):.1f} > 2"


def passes(row: pd.Series, value: float, z: float = math.nan) -> bool:
    r"""Whether the model's ``value`` passes a targets row.

    Inside the row's range when it has one (either bound, for a one-sided row); otherwise
    within two combined SDs of the published value, :math:`|z| \le 2` with
    :math:`z = (m - v)/\sqrt{s^2 + \mathrm{se}^2}`.

    Parameters
    ----------
    row : pandas.Series
        A row of :func:`load_targets` (``value, sd, low, high``).
    value : float
        The model's value.
    z : float
        The row's z (needed only for a row without a range).

    Examples
    --------
    >>> row = pd.Series({"value": 4.0, "sd": 1.5, "low": 3.0, "high": 5.0})
    >>> passes(row, 5.5, z=1.0), passes(row, 4.2, z=0.1)
    (False, True)
    """
    lo, hi = float(row["low"]), float(row["high"])
    if not (math.isnan(lo) and math.isnan(hi)):
        return bool((math.isnan(lo) or value >= lo) and (math.isnan(hi) or value <= hi))
    if math.isnan(z):
        raise TargetsError(f"row {row.name!r}: no range, so a z is needed for the verdict.")
    return bool(abs(z) <= 2)


def _published(t: pd.Series) -> str:
    parts = []
    if not math.isnan(t["value"]):
        parts.append(f"{t['value']:g}" + (f" ± {t['sd']:g}" if not math.isnan(t["sd"]) else ""))
    lo, hi = t["low"], t["high"]
    if not (math.isnan(lo) and math.isnan(hi)):
        if math.isnan(lo):
            parts.append(f"≤ {hi:g}")
        elif math.isnan(hi):
            parts.append(f"≥ {lo:g}")
        else:
            parts.append(f"[{lo:g}, {hi:g}]")
    return " ".join(parts) if len(parts) == 1 else f"{parts[0]} (range {parts[1]})"
