r"""The calibration targets and checks as data: ``toolkit/calibration/data/targets.csv``.

One row per published (or computed) number the model is fitted to or checked against:

=============  ==============================================================================
column         meaning
=============  ==============================================================================
id             short unique name of the row
quantity       the model quantity it is compared with (:mod:`toolkit.calibration.quantities`)
role           ``target`` (the calibration fits it), ``check`` (held back: never fitted) or
               ``comparison`` (shown beside the model, with no pass or fail)
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
the tolerance a point calibration must meet.
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
    if not path.is_file():
        raise TargetsError(f"{path}: no such targets file.")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise TargetsError(f"{path}: missing column(s) {missing}; expected {list(COLUMNS)}.")
    extra = [c for c in df.columns if c not in COLUMNS + OPTIONAL]
    if extra:
        raise TargetsError(
            f"{path}: unknown column(s) {extra}; expected {list(COLUMNS)} and optionally "
            f"{list(OPTIONAL)}."
        )
    for c in OPTIONAL:
        if c not in df.columns:
            df[c] = ""
    if df["id"].eq("").any() or df["id"].duplicated().any():
        dup = sorted(set(df.loc[df["id"].duplicated(), "id"]))
        raise TargetsError(f"{path}: every row needs a unique 'id' (empty or repeated: {dup}).")
    for col in ("value", "sd", "low", "high"):
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
    if known:
        from toolkit.calibration.quantities import QUANTITIES

        unknown = sorted(set(df["quantity"]) - set(QUANTITIES))
        if unknown:
            raise TargetsError(
                f"{path}: quantity(ies) {unknown} are not registered in "
                "toolkit/calibration/quantities.py."
            )
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
    r"""Compare the model's quantities with the targets and checks.

    Parameters
    ----------
    targets : pandas.DataFrame
        From :func:`load_targets`.
    measured : pandas.DataFrame
        ``quantity, value, se`` (from :func:`toolkit.calibration.quantities.compute`); may
        also carry ``ci_low, ci_high`` (e.g. a posterior predictive interval), shown as the
        model's interval instead of :math:`\pm 1.96\,\mathrm{se}`.

    Returns
    -------
    pandas.DataFrame
        Per target row: ``id, quantity, role, published, model, model_low, model_high,
        z, passed`` (``None`` for comparisons or quantities the model does not compute yet)
        and the row's ``unit, source, location, confidence``. ``z`` is
        :math:`(m - v)/\sqrt{s^2 + \mathrm{se}^2}` for rows with a value and SD.
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
        }
        if t["quantity"] in m.index:
            r = m.loc[t["quantity"]]
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
            if t["role"] != "comparison":
                out["passed"] = passes(t, val, out["z"])
        rows.append(out | {k: t[k] for k in ("unit", "source", "location", "confidence", "basis")})
    return pd.DataFrame(rows)


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
