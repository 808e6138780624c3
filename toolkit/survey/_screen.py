"""Screening survey data for values that pass as answers but are not (private).

Shared by the readers, the codebook, the reliability functions and the replicate designs:

* missing-value codes typed into the data (-99, 9, 99) or labelled as such ("Don't know") but
  not declared missing: :func:`screen_codes` masks the declared ones and refuses the others;
* summary rows left under the data ("Mean", "Total"): :func:`summary_rows`, :func:`check_footer`;
* numbers stored as text in a column that must be numeric ("31,302"): :func:`numeric_column`.

Off the happy path a plausible wrong number is the worst outcome: strong evidence (a code the
file labels "Don't know", a negative code on a positive scale, a code separated from the
answers by unused values) raises a ValueError that names the item, the code and the rows and
says how to declare it; weak evidence (one unused value, a rare code next to the scale, a
non-integer value among integer answers) raises a warning.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from toolkit._base.checks import preview

#: Label wording that usually marks a missing-value code ("don't know", "refused", ...).
MISSING_WORDS = re.compile(
    r"don.?t know|do not know|refus|not applicable|\bn/?a\b|no answer|not answered|missing|"
    r"prefer not|not asked|skipped|weiß nicht|keine angabe|ne sais pas|no sabe|no contesta",
    re.IGNORECASE,
)

#: A cell that labels a summary row rather than a respondent.
SUMMARY_LABEL = re.compile(
    r"\s*(mean|means|average|avg|total|totals|grand total|sub-?total|sum|sd|s\.d\.|std\.?|"
    r"std\.? ?dev\.?|standard deviation|st\.? ?dev\.?|median|count|n|min|max|minimum|maximum|"
    r"variance|overall|mittelwert|summe|gesamt|moyenne|somme|media|suma|promedio)\s*[:.]?\s*",
    re.IGNORECASE,
)
#: The summary words that are safe to recognise in a text column of names (not "Max", "N").
_STRONG_SUMMARY = re.compile(
    r"\s*(mean|means|average|total|totals|grand total|sub-?total|sum|standard deviation|"
    r"std\.? ?dev\.?|median|mittelwert|summe|gesamt|moyenne|somme|promedio)\s*[:.]?\s*",
    re.IGNORECASE,
)


def as_number(value: object) -> float | None:
    """Return ``value`` as a float if it is a number or a numeric string, else None."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def as_range(code: object) -> tuple[float, float] | None:
    """Return ``code`` as an inclusive (lo, hi) range if it is a pair of numbers, else None."""
    if isinstance(code, list | tuple) and len(code) == 2:
        lo, hi = as_number(code[0]), as_number(code[1])
        if lo is not None and hi is not None:
            return lo, hi
    return None


def _fmt(v: float) -> str:
    return f"{v:g}"


def _missing_spec(missing: object, param: str) -> tuple[set[float], list[tuple[float, float]]]:
    """Split a ``missing=`` argument into numeric codes and (lo, hi) ranges."""
    if missing is None:
        return set(), []
    if isinstance(missing, str) or not isinstance(missing, Iterable):
        missing = [missing]
    codes: set[float] = set()
    ranges: list[tuple[float, float]] = []
    for c in missing:  # type: ignore[union-attr]
        rng = as_range(c)
        num = as_number(c)
        if rng is not None:
            if rng[0] > rng[1]:
                raise ValueError(f"{param}: range {list(c)} has lo above hi.")  # type: ignore[call-overload]
            ranges.append(rng)
        elif num is not None:
            codes.add(num)
        else:
            raise ValueError(
                f"{param}: missing codes must be numbers or [lo, hi] ranges, got {c!r} (recode "
                "labels to numbers first, e.g. with toolkit.survey.Codebook.recode)."
            )
    return codes, ranges


def _mask(col: np.ndarray, codes: set[float], ranges: Iterable[tuple[float, float]]) -> np.ndarray:
    m = np.isin(col, list(codes)) if codes else np.zeros(col.shape, dtype=bool)
    for lo, hi in ranges:
        m |= (col >= lo) & (col <= hi)
    return m


def _blocks(values: np.ndarray, counts: np.ndarray) -> list[tuple[float, float, int]]:
    """Split sorted distinct integers where at least two values in a row are unused.

    Returns (min, max, number of answers) per block; a single unused value (nobody chose 6 on
    a 1-7 scale) does not split, except between negative and positive values (-1 and 1-5).
    """
    out = []
    start = 0
    for i in range(1, values.size + 1):
        if (
            i == values.size
            or values[i] - values[i - 1] > 2
            or (values[i - 1] < 0 <= values[i] and values[i] - values[i - 1] > 1)
        ):
            out.append((float(values[start]), float(values[i - 1]), int(counts[start:i].sum())))
            start = i
    return out


def _code_like(v: float) -> bool:
    """99, 98, 97, 96, 999, 998 ...: the numbers questionnaires use for 'no answer'."""
    return v == int(v) and re.fullmatch(r"9+[6-9]", str(abs(int(v)))) is not None


class _Findings:
    """Collects flagged cells per item: strong ones are refused, weak ones warned about."""

    def __init__(self, names: Sequence[str], index: pd.Index) -> None:
        self.names = names
        self.index = index
        self.groups: dict[tuple[bool, str, tuple], list[tuple[str, set[float], list]]] = {}

    def add(self, strong: bool, j: int, mask: np.ndarray, col: np.ndarray, note: str = "") -> None:
        if not mask.any():
            return
        vals = tuple(float(v) for v in np.unique(col[mask]))
        self.groups.setdefault((strong, note, vals), []).append(
            (self.names[j], set(vals), list(self.index[mask]))
        )

    def codes(self, strong: bool) -> list[float]:
        return sorted({v for (s, _, vals), _g in self.groups.items() if s == strong for v in vals})

    def text(self, strong: bool) -> str:
        parts = []
        for (s, note, vals), group in self.groups.items():
            if s != strong:
                continue
            where = ", ".join(f"{name!r} (rows {preview(rows, 4)})" for name, _, rows in group[:3])
            more = f" and {len(group) - 3} more items" if len(group) > 3 else ""
            parts.append(f"{', '.join(_fmt(v) for v in vals[:5])}{note} in {where}{more}")
        return "; ".join(parts)


def screen_codes(
    data: pd.DataFrame,
    names: Sequence[str],
    x: np.ndarray,
    func: str,
    lo: float | None = None,
    hi: float | None = None,
    missing: object = None,
) -> np.ndarray:
    """Mask declared missing codes and refuse or flag the undeclared ones.

    Parameters
    ----------
    data : pandas.DataFrame
        The frame the items come from (its ``attrs`` may carry ``value_labels`` and
        ``missing_values`` from :mod:`toolkit.survey.readers`).
    names : sequence of str
        Item columns, in the order of the columns of ``x``.
    x : numpy.ndarray
        ``(n, k)`` item values.
    func : str
        Name of the calling function, for the messages.
    lo, hi : float, optional
        The declared answer scale.
    missing : sequence, optional
        Codes (numbers or ``(lo, hi)`` ranges) the caller declares missing.

    Returns
    -------
    numpy.ndarray
        A copy of ``x`` with the declared missing codes (``missing`` and the file's
        ``attrs["missing_values"]``) set to NaN.

    Raises
    ------
    ValueError
        For codes that are not answers: a value the file labels like a missing code ("Don't
        know", "Refused"); a value outside the declared scale or the file's labelled scale;
        without either, a negative code among non-negative answers, or a code separated from
        a short scale's answers by at least two unused values or typed as 99, 98, 999 ... .

    Warns
    -----
    UserWarning
        For a code separated by one unused value, a rare code just outside the range nearly
        all answers use (under 0.5% of them), and non-integer values among integer answers.
    """
    x = np.array(x, dtype=float, copy=True)
    codes, ranges = _missing_spec(missing, "missing")
    declared: Mapping[str, Any] = data.attrs.get("missing_values") or {}
    labels: Mapping[str, Any] = data.attrs.get("value_labels") or {}
    checked: Mapping[str, Any] = data.attrs.get("scale_bounds") or {}
    for j, name in enumerate(names):
        file_ranges = [(float(a), float(b)) for a, b in declared.get(name, ()) or ()]
        x[_mask(x[:, j], codes, [*ranges, *file_ranges]), j] = np.nan
    found = _Findings(names, data.index)
    free = []  # items checked by the heuristics (no declared or labelled scale)
    labelled_scale = {}
    for j, name in enumerate(names):
        col = x[:, j]
        lab = {
            n: str(v)
            for k, v in (labels.get(name) or {}).items()
            if (n := as_number(k)) is not None
        }
        answers = sorted(c for c, text in lab.items() if not MISSING_WORDS.search(text))
        for code, text in sorted(lab.items()):
            if MISSING_WORDS.search(text):
                found.add(True, j, col == code, col, f" = {text!r}")
        low, high = lo, hi
        if low is None and high is None and name in checked:
            low, high = (float(v) for v in checked[name])  # checked by Codebook.recode
            labelled_scale[name] = (low, high)
        elif low is None and high is None and len(answers) >= 2:
            low, high = answers[0], answers[-1]
            labelled_scale[name] = (low, high)
        if low is None and high is None:
            free.append(j)
            continue
        outside = np.isfinite(col) & (
            (col < (-np.inf if low is None else low)) | (col > (np.inf if high is None else high))
        )
        outside &= ~np.isin(col, [c for c, t in lab.items() if MISSING_WORDS.search(t)])
        where = (
            " outside the declared scale"
            if name not in labelled_scale
            else f" outside its scale {_fmt(low)} to {_fmt(high)}"  # type: ignore[arg-type]
        )
        found.add(True, j, outside, col, where)
    if free:
        _heuristics(x, free, found)
    if found.codes(True):
        scale = (
            f" The declared scale is [{_fmt(lo) if lo is not None else '-inf'}, "
            f"{_fmt(hi) if hi is not None else 'inf'}]."
            if lo is not None or hi is not None
            else ""
        )
        codes_txt = ", ".join(_fmt(c) for c in found.codes(True)[:6])
        raise ValueError(
            f"{func}: values that look like missing-value codes, not answers: "
            f"{found.text(True)}.{scale} They would enter every statistic as answers. Declare "
            f"them missing (missing=[{codes_txt}], or Codebook.recode with them as missing "
            "codes, or as user-missing values in the file) or, if they are answers, declare "
            "the scale with min= and max=."
        )
    if found.codes(False):
        warnings.warn(
            f"{func}: values that may not be answers (rare, separated from the others, or not "
            f"whole numbers): {found.text(False)}. Codes like these (missing-value codes, "
            "typing errors, summary rows) change the result; recode them first "
            "(toolkit.survey.Codebook.validate and recode, or missing=[...]), or declare the "
            "scale with min= and max=.",
            UserWarning,
            stacklevel=3,
        )
    return x


def _heuristics(x: np.ndarray, free: list[int], found: _Findings) -> None:
    """Flag codes on items without a declared or labelled scale (pooled over the items).

    The answers are the block of values (no two unused values in a row) that holds the most
    answers. On a rating scale (that block has at most 11 values and at least half of the
    answers) every other block is a code: refused if it is above the answers or negative
    below non-negative answers, warned about if it is a non-negative value below them; a value
    at an end of the answers with one unused value before it, or used by under 0.5% of the
    answers, is warned about. Otherwise (a longer or sparser scale) only negative codes among
    non-negative answers and 99, 999 ... far above the answers are refused.
    """
    sub = x[:, free]
    finite = sub[np.isfinite(sub)]
    if finite.size == 0:
        return
    whole = finite == np.round(finite)
    if not whole.all():
        if whole.mean() < 0.9 or np.unique(finite[whole]).size > 20:
            return  # a continuous measure, not a rating scale
        for j in free:
            col = x[:, j]
            found.add(
                False, j, np.isfinite(col) & (col != np.round(col)), col, " (not a whole number)"
            )
        finite = finite[whole]
    values, counts = np.unique(finite, return_counts=True)
    blocks = _blocks(values, counts)
    main = max(blocks, key=lambda b: (b[2], -abs(b[0])))
    m_lo, m_hi, m_n = main
    inside = (values >= m_lo) & (values <= m_hi)
    rating = inside.sum() <= 11 and m_n >= 0.5 * finite.size
    # enough answers that a value nobody chose is itself a sign (about 10 per scale point)
    enough = finite.size >= 10 * inside.sum()
    other = "the other answers run from " + f"{_fmt(m_lo)} to {_fmt(m_hi)}"
    flagged: list[tuple[float, float, bool, str]] = []
    for b_lo, b_hi, b_n in blocks:
        if (b_lo, b_hi) == (m_lo, m_hi):
            continue
        if b_hi < m_lo:
            if b_hi < 0 <= m_lo and (rating or b_n < 0.1 * finite.size):
                flagged.append((b_lo, b_hi, True, f" (negative; {other})"))
            elif rating:
                flagged.append((b_lo, b_hi, False, f" (below a gap; {other})"))
        else:
            in_b = values[(values >= b_lo) & (values <= b_hi)]
            code = any(_code_like(v) for v in in_b)
            if (rating and enough) or (
                code and b_lo > 2 * max(m_hi, 1) and b_n < 0.1 * finite.size
            ):
                flagged.append((b_lo, b_hi, True, f" ({other})"))
            elif rating:
                flagged.append((b_lo, b_hi, False, f" (above a gap; {other})"))
    if rating:
        kept = values[inside]
        n_kept = counts[inside]
        common = kept[n_kept >= 0.005 * n_kept.sum()]
        if common.size:
            c_lo, c_hi = float(common.min()), float(common.max())
            if c_lo > m_lo:  # rare codes at the bottom, e.g. 0 typed for "no answer" on 1-6
                flagged.append(
                    (
                        m_lo,
                        c_lo - 1,
                        False,
                        f" (rare; nearly all answers are {_fmt(c_lo)} to {_fmt(c_hi)})",
                    )
                )
            if c_hi < m_hi:
                flagged.append(
                    (
                        c_hi + 1,
                        m_hi,
                        False,
                        f" (rare; nearly all answers are {_fmt(c_lo)} to {_fmt(c_hi)})",
                    )
                )
            if kept.size > 2 and enough:  # an end value with one unused value before it (1-5 and 7)
                if kept[-1] - kept[-2] == 2 and kept[-1] <= c_hi:
                    flagged.append(
                        (kept[-1], kept[-1], False, f" (after an unused {_fmt(kept[-1] - 1)})")
                    )
                if kept[1] - kept[0] == 2 and kept[0] >= c_lo:
                    flagged.append(
                        (kept[0], kept[0], False, f" (before an unused {_fmt(kept[0] + 1)})")
                    )
    for b_lo, b_hi, strong, note in flagged:
        for j in free:
            col = x[:, j]
            found.add(strong, j, np.isfinite(col) & (col >= b_lo) & (col <= b_hi), col, note)


# ---------------------------------------------------------------------------------------------
# summary rows
# ---------------------------------------------------------------------------------------------


def summary_rows(data: pd.DataFrame, max_rows: int = 5) -> dict[int, str]:
    """Trailing rows that label a summary ("Mean", "Total", ...): {position: label}.

    A row counts when one of its text cells is a summary word and that column is otherwise
    numbers (an ID or item column) or, for the unambiguous words ("Mean", "Total", "Sum",
    "Median", "Std. dev."), is the first column. Only the last ``max_rows`` rows are looked at,
    from the bottom up, stopping at the first ordinary row (empty rows in between count).
    """
    n = len(data)
    if n < 2:
        return {}
    tail = range(n - 1, max(n - 1 - max_rows, 0), -1)
    numeric_like = {}
    for k, col in enumerate(data.columns):
        s = data[col]
        if pd.api.types.is_numeric_dtype(s) or not any(
            isinstance(v, str) and SUMMARY_LABEL.fullmatch(v) for v in s.iloc[-max_rows:]
        ):
            continue
        head = s.iloc[: max(n - max_rows, 1)].dropna()
        head = head[head.map(lambda v: not (isinstance(v, str) and not v.strip()))]
        numeric_like[k] = bool(len(head)) and bool(
            head.map(lambda v: as_number(v) is not None).all()
        )
    found: dict[int, str] = {}
    for pos in tail:
        row = data.iloc[pos]
        label = None
        empty = True
        for k, v in enumerate(row):
            if isinstance(v, str) and not v.strip():
                continue
            if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
                continue
            empty = False
            if not isinstance(v, str) or k not in numeric_like:
                continue
            if (numeric_like[k] and SUMMARY_LABEL.fullmatch(v)) or (
                k == 0 and _STRONG_SUMMARY.fullmatch(v)
            ):
                label = v.strip()
        if label is not None:
            found[pos] = label
        elif not empty or not found:
            break
    return dict(sorted(found.items()))


def footer_message(
    where: str, data: pd.DataFrame, rows: Mapping[int, str], line0: int | None
) -> str:
    """Describe summary rows for an error: labels, row labels (or file lines)."""
    labels = sorted(set(rows.values()))
    if line0 is not None:
        at = f"file lines {preview([p + line0 for p in rows], 5)}"
    else:
        at = f"rows {preview([data.index[p] for p in rows], 5)}"
    return (
        f"{where}: the last rows look like summary rows, not respondents ({preview(labels, 4)} "
        f"at {at}); they would enter every statistic as if they were answers."
    )


def check_footer(data: pd.DataFrame, func: str) -> None:
    """Raise a ValueError if ``data`` ends with summary rows ("Mean", "Total")."""
    rows = summary_rows(data)
    if rows:
        raise ValueError(
            footer_message(func, data, rows, None)
            + " Drop them first (data.drop(index=[...])), or read the file with footer='drop'."
        )


# ---------------------------------------------------------------------------------------------
# numbers stored as text
# ---------------------------------------------------------------------------------------------

_THOUSANDS = re.compile(r"\s*[-+]?\d{1,3}([,. ']\d{3})+([.,]\d+)?\s*")


def numeric_column(data: pd.DataFrame, col: str, what: str) -> np.ndarray:
    """Return a column as floats, or raise naming the column, the text and the rows."""
    s = data[col]
    if pd.api.types.is_bool_dtype(s):
        raise TypeError(f"{what}: column {col!r} is boolean, not numbers.")
    if pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype=float, na_value=np.nan)
    conv = pd.to_numeric(s, errors="coerce")
    bad = s.notna() & conv.isna() & ~s.map(lambda v: isinstance(v, str) and not v.strip())
    if bad.any():
        vals = list(pd.unique(s[bad]))
        hint = ""
        if any(isinstance(v, str) and _THOUSANDS.fullmatch(v) for v in vals):
            hint = (
                " The numbers have thousands separators: read the file with thousands=',' "
                "(pandas and toolkit.survey.read_csv), or convert the column with "
                "pd.to_numeric(col.str.replace(',', ''))."
            )
        raise TypeError(
            f"{what}: column {col!r} holds text {preview(vals, 4)} in rows "
            f"{preview(list(s.index[bad]), 6)}, not numbers.{hint}"
        )
    return conv.to_numpy(dtype=float, na_value=np.nan)
