"""Read questionnaire exports: CSV, Excel, SPSS ``.sav``, Stata ``.dta`` and Qualtrics CSV.

Every reader returns a pandas DataFrame whose ``attrs`` carry what the file says about itself:

``attrs["source"]``
    the file path;
``attrs["format"]``
    ``"csv"``, ``"excel"``, ``"spss"``, ``"stata"`` or ``"qualtrics"``;
``attrs["column_labels"]``
    ``{column: question text}`` (SPSS/Stata variable labels, Qualtrics' second header row);
``attrs["value_labels"]``
    ``{column: {code: label}}`` (SPSS/Stata value labels);
``attrs["import_ids"]``
    ``{column: QID}`` (Qualtrics' third header row);
``attrs["missing_values"]``
    ``{column: [(lo, hi), ...]}``: the codes an SPSS file declares missing (user-defined
    missing values; a single code ``c`` is the range ``(c, c)``);
``attrs["delimiter"]``
    the field separator of a CSV file (detected unless given).

:func:`question_text` returns the question wording as a Series, and
:meth:`toolkit.survey.Codebook.from_metadata` starts a codebook from the value labels (declared
missing codes become missing codes of the codebook, not answers).

Columns are numeric whenever every answer in them is a number, whatever the format: integer
items with missing answers come back as ``float64`` (as pandas' own readers give them), not as
``object`` columns of mixed numbers and NaN. SPSS and Stata files are read with pyreadstat;
user-defined missing values become NaN unless ``user_missing=True``.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from toolkit._base.checks import check_choice
from toolkit.survey._screen import MISSING_WORDS, as_number, footer_message, summary_rows

__all__ = [
    "question_text",
    "read_csv",
    "read_excel",
    "read_qualtrics",
    "read_spss",
    "read_stata",
    "read_survey",
]

_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
    ".sav": "spss",
    ".zsav": "spss",
    ".dta": "stata",
}


def _check_path(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"survey file {str(p)!r} does not exist.")
    if p.is_dir():
        raise IsADirectoryError(f"survey file {str(p)!r} is a directory.")
    return p


def _finish(df: pd.DataFrame, path: Path, fmt: str, **meta: Any) -> pd.DataFrame:
    df.attrs["source"] = str(path)
    df.attrs["format"] = fmt
    df.attrs["column_labels"] = dict(meta.get("column_labels") or {})
    df.attrs["value_labels"] = dict(meta.get("value_labels") or {})
    for key in ("import_ids", "missing_values", "delimiter"):
        if key in meta:
            value = meta[key]
            df.attrs[key] = dict(value) if isinstance(value, Mapping) else value
    return df


def _is_number(v: object) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(
        v, bool | np.bool_
    )


def _numeric_object_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Make ``object`` columns that hold only numbers (and missing values) numeric.

    pyreadstat returns Stata integer variables with missing values as ``object`` columns of
    Python ints and NaN; pandas' ``read_stata`` gives ``float64``, and so does this.
    """
    out = df
    for col in df.columns:
        s = df[col]
        if s.dtype != object:
            continue
        present = s[s.notna()]
        if present.empty or not all(_is_number(v) for v in present):
            continue
        if out is df:
            out = df.copy()
        num = pd.to_numeric(s.where(s.notna(), np.nan), errors="raise")
        out[col] = num.astype(float) if s.isna().any() else num
    return out


def _numeric_where_possible(df: pd.DataFrame, keep_text: bool = False) -> pd.DataFrame:
    """Turn text columns whose every non-empty cell is a number into numeric columns.

    Other text columns get NaN for empty cells, or are left as they are with ``keep_text``.
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_numeric_dtype(s):
            continue
        cells = s.astype(object)
        empty = cells.isna() | cells.map(lambda v: isinstance(v, str) and not v.strip())
        cells = cells.where(~empty, None)
        num = pd.to_numeric(
            cells.map(lambda v: v.strip() if isinstance(v, str) else v), errors="coerce"
        )
        if (~empty).any() and (num.notna() == ~empty).all():
            out[col] = num
        elif not keep_text:
            out[col] = pd.Series(np.where(empty, np.nan, cells), index=s.index, dtype=object)
    return out


def _check_header(header: list[str], p: Path) -> None:
    """Refuse duplicated column names (pandas would rename them silently to ``q1.1``).

    Empty names are left to the reader (pandas calls them ``Unnamed: k``).
    """
    named = [h for h in header if h.strip()]
    if len(set(named)) != len(named):
        dup = sorted({h for h in named if named.count(h) > 1})
        raise ValueError(f"{str(p)!r}: duplicated column names {dup} in the header row.")


def _qualtrics_rows(rows: list[list[str]]) -> int:
    """Count the extra header rows after the header: 2 for a Qualtrics export, else 0."""
    if len(rows) >= 3 and any(str(c).strip().startswith('{"ImportId"') for c in rows[2]):
        return 2
    return 0


def _import_id(cell: str) -> str | None:
    try:
        val = json.loads(cell)
    except (ValueError, TypeError):
        return None
    return val.get("ImportId") if isinstance(val, dict) else None


_DELIMITERS = (",", ";", "\t", "|")
_DECIMAL_COMMA = re.compile(r"\s*[-+]?\d+,\d+\s*")


def decode_error(p: Path, exc: UnicodeDecodeError, data: bytes, what: str = "file") -> ValueError:
    """Build a clear error for a file that is not in the encoding it was read with."""
    line = data[: exc.start].count(b"\n") + 1
    byte = data[exc.start : exc.start + 1].hex()
    if data[:2000].count(b"\x00") > len(data[:2000]) // 4:
        hint = "encoding='utf-16' (it looks like UTF-16 without a byte-order mark)"
    else:
        hint = "encoding='cp1252' (Excel on Windows) or encoding='latin-1'"
    return ValueError(
        f"{what} {str(p)!r} is not {exc.encoding} text (byte 0x{byte} on line {line} cannot be "
        f"decoded); pass the file's encoding, e.g. {hint}."
    )


def read_text(p: Path, encoding: str, what: str = "file") -> tuple[str, str]:
    """Read a text file as (text, encoding used): UTF-16 with a byte-order mark is detected.

    Qualtrics exports tab-separated files as UTF-16 with a byte-order mark; such a mark decides
    the encoding whatever ``encoding`` says. Other decoding errors name the line and suggest
    ``encoding=``.
    """
    data = p.read_bytes()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not encoding.lower().replace(
        "_", "-"
    ).startswith("utf-16"):
        encoding = "utf-16"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise decode_error(p, exc, data, what) from exc
    except LookupError as exc:
        raise ValueError(f"{what} {str(p)!r}: unknown encoding {encoding!r}.") from exc
    return text.removeprefix("\ufeff"), encoding


def _sniff_delimiter(text: str, size: int = 65536) -> str:
    """Pick the field separator that splits the first rows into the same number (> 1) of fields.

    Each candidate (``,``, ``;``, tab, ``|``) parses the first ``size`` characters with the
    csv module (quoted fields may hold separators and line breaks); a candidate qualifies when
    every complete row has the same number of fields, more than one. The widest qualifying
    candidate wins, ``,`` on ties; if none qualifies, ``,``.
    """
    sample = text[:size]
    truncated = len(text) > size
    best, best_width = ",", 1
    for sep in _DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(sample), delimiter=sep) if r]
        except csv.Error:
            continue
        if truncated and len(rows) > 1:
            rows = rows[:-1]  # the last row may be cut in the middle
        widths = {len(r) for r in rows}
        if len(widths) == 1 and (w := widths.pop()) > best_width:
            best, best_width = sep, w
    return best


#: Qualtrics' own columns and the wording its second header row gives them.
_QUALTRICS_WORDING = {
    "V1": "ResponseID",
    "ResponseID": "ResponseID",
    "ResponseId": "Response ID",
    "StartDate": "Start Date",
    "EndDate": "End Date",
    "RecordedDate": "Recorded Date",
    "IPAddress": "IP Address",
}


def _legacy_qualtrics(rows: list[list[str]]) -> bool:
    """Tell a Qualtrics export with the wording row but no ImportId row (older exports).

    Recognised by a column of Qualtrics' own (``V1``/``ResponseID``, ``ResponseId``,
    ``StartDate`` ...) whose second-row cell is Qualtrics' wording for it ("ResponseID",
    "Response ID", "Start Date" ...).
    """
    if len(rows) < 2:
        return False
    for name, cell in zip(rows[0], rows[1], strict=False):
        want = _QUALTRICS_WORDING.get(str(name).strip())
        if want is not None and " ".join(str(cell).split()).casefold() in (
            want.casefold(),
            want.replace(" ", "").casefold(),
            "response id",
        ):
            return True
    return False


_FOOTER_HELP = (
    " Remove them from the file, or pass footer='drop' to leave them out (they are kept in "
    "attrs['footer'])."
)


def _footer(df: pd.DataFrame, p: Path, footer: str, line0: int) -> pd.DataFrame:
    """Refuse, drop or keep summary rows ("Mean", "Total") at the bottom of a table."""
    check_choice(footer, "footer", ("raise", "drop", "keep"))
    if footer == "keep":
        return df
    rows = summary_rows(df)
    if not rows:
        return df
    if footer == "raise":
        raise ValueError(footer_message(repr(str(p)), df, rows, line0) + _FOOTER_HELP)
    kept = df.iloc[list(rows)]
    out = df.drop(index=kept.index)
    out.attrs["footer"] = kept.astype(object).where(kept.notna(), None).to_dict("records")
    return out


def read_csv(
    path: str | Path,
    *,
    qualtrics: bool | Literal["auto"] = "auto",
    encoding: str = "utf-8-sig",
    footer: Literal["raise", "drop", "keep"] = "raise",
    **kwargs: Any,
) -> pd.DataFrame:
    """Read a CSV export; a Qualtrics export (detected or forced) is handled as such.

    Parameters
    ----------
    path : str or Path
        The file.
    qualtrics : bool or "auto", default "auto"
        ``"auto"``: treat the file as a Qualtrics export if its third row holds Qualtrics'
        ``{"ImportId": ...}`` cells, or (older exports) its second row holds Qualtrics'
        wording of its own columns ("Response ID", "Start Date"); ``True``: always (see
        :func:`read_qualtrics`); ``False``: never.
    encoding : str, default "utf-8-sig"
        Text encoding (the default also strips a byte-order mark). A file that starts with a
        UTF-16 byte-order mark (Qualtrics' tab-separated exports) is read as UTF-16; any other
        text that does not decode is an error that names the line and suggests an encoding.
    footer : {"raise", "drop", "keep"}, default "raise"
        What to do with summary rows left under the data (a first-column or ID cell reading
        "Mean", "Total", "SD" ...): refuse the file, leave them out (kept in
        ``attrs["footer"]``), or keep them as rows.
    **kwargs
        Passed to :func:`pandas.read_csv` (not for Qualtrics files). Without ``sep``, the
        separator is detected: ``,``, ``;`` (common in European exports), tab or ``|``,
        whichever splits the first rows into the same number of fields (more than one);
        ``.tsv`` files are tab-separated.

    Returns
    -------
    pandas.DataFrame
        With ``attrs["source"]``, ``attrs["format"]`` and ``attrs["delimiter"]``. Columns
        whose every non-empty cell is a number are numeric.

    Raises
    ------
    ValueError
        For text that does not decode, ragged rows, duplicated column names and (with
        ``footer="raise"``) summary rows at the bottom.

    Warns
    -----
    UserWarning
        If columns of numbers are kept as text because they are written with decimal commas
        (``3,5`` in a ``;``-separated file; pass ``decimal=","``) or thousands separators
        (``31,302``; pass ``thousands=","``).
    """
    p = _check_path(path)
    check_choice(qualtrics, "qualtrics", ("auto", True, False))
    if qualtrics is True:
        return read_qualtrics(p, encoding=encoding, footer=footer)
    text, encoding = read_text(p, encoding)
    given = kwargs.get("sep", kwargs.get("delimiter"))
    sep = given or ("\t" if p.suffix.lower() == ".tsv" else _sniff_delimiter(text))
    head = [
        row for _, row in zip(range(3), csv.reader(io.StringIO(text), delimiter=sep), strict=False)
    ]
    if qualtrics == "auto" and (_qualtrics_rows(head) or _legacy_qualtrics(head)):
        return read_qualtrics(p, encoding=encoding, sep=sep, footer=footer)
    if head and kwargs.get("header", "infer") in ("infer", 0) and "names" not in kwargs:
        _check_header([h.strip() for h in head[0]], p)
    if given is None:
        kwargs["sep"] = sep
    kwargs.pop("encoding", None)
    try:
        df = pd.read_csv(io.StringIO(text), **kwargs)
    except pd.errors.ParserError as exc:
        raise ValueError(f"could not read {str(p)!r} as CSV: {exc}") from exc
    header = kwargs.get("header", "infer")
    line0 = (1 if header is None else 2 + (header if isinstance(header, int) else 0)) + _skipped(
        kwargs.get("skiprows")
    )
    df = _footer(df, p, footer, line0)
    df = _numeric_where_possible(df, keep_text=True)
    _warn_text_numbers(df, p, sep, kwargs)
    return _finish(df, p, "csv", delimiter=sep)


def _skipped(skiprows: object) -> int:
    if isinstance(skiprows, int):
        return skiprows
    if isinstance(skiprows, list | tuple | range):
        return len(skiprows)
    return 0


_THOUSANDS = re.compile(r"\s*[-+]?\d{1,3}(,\d{3})+(\.\d+)?\s*")


def _warn_text_numbers(df: pd.DataFrame, p: Path, sep: str, kwargs: Mapping[str, Any]) -> None:
    """Warn about columns of numbers kept as text: decimal commas, thousands separators."""
    text_cols = {
        c: cells
        for c in df.columns
        if not pd.api.types.is_numeric_dtype(df[c]) and (cells := df[c].dropna().astype(str)).size
    }
    if sep == ";" and "decimal" not in kwargs:
        comma = [
            c
            for c, v in text_cols.items()
            if v.map(lambda x: bool(_DECIMAL_COMMA.fullmatch(x))).all()
        ]
        text_cols = {c: v for c, v in text_cols.items() if c not in comma}
        if comma:
            warnings.warn(
                f"{str(p)!r} is ';'-separated and columns {comma[:8]} hold numbers with "
                "decimal commas; they were kept as text. Pass decimal=',' to read them as "
                "numbers.",
                UserWarning,
                stacklevel=3,
            )
    if "thousands" not in kwargs:
        grouped = [
            c
            for c, v in text_cols.items()
            if v.map(lambda x: bool(_THOUSANDS.fullmatch(x) or as_number(x) is not None)).all()
            and v.map(lambda x: bool(_THOUSANDS.fullmatch(x))).any()
        ]
        if grouped:
            warnings.warn(
                f"{str(p)!r}: columns {grouped[:8]} hold numbers with thousands separators "
                "(31,302); they were kept as text. Pass thousands=',' to read them as numbers.",
                UserWarning,
                stacklevel=3,
            )


def read_qualtrics(
    path: str | Path,
    *,
    encoding: str = "utf-8-sig",
    sep: str | None = None,
    footer: Literal["raise", "drop", "keep"] = "raise",
) -> pd.DataFrame:
    r"""Read a Qualtrics CSV export with its two extra header rows.

    Qualtrics writes the column names (``Q1``, ``Q2_1`` ...), then a row with each question's
    wording, then a row of ``{"ImportId":"QID1"}`` cells, then the responses. This reader keeps
    the names as columns, the wording in ``attrs["column_labels"]`` and the import IDs in
    ``attrs["import_ids"]``, and drops the two rows from the data. Columns whose every answer
    is a number become numeric; "choice text" exports keep their labels for the codebook.
    A legacy export (wording row but no ImportId row) is read with one extra row.

    Parameters
    ----------
    path : str or Path
        The ``.csv`` or ``.tsv`` file (also ``.xlsx``: read with :func:`read_excel`).
    encoding : str, default "utf-8-sig"
        As in :func:`read_csv` (UTF-16 files with a byte-order mark, as Qualtrics writes its
        tab-separated exports, are detected).
    sep : str, optional
        Field separator (default: detected as in :func:`read_csv`; Qualtrics also exports
        tab-separated files).
    footer : {"raise", "drop", "keep"}, default "raise"
        As in :func:`read_csv`.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import tempfile, pathlib
    >>> text = ('ResponseId,Q1,Q2\n"Response ID","How old are you?","I like school"\n'
    ...         '"{""ImportId"":""_recordId""}","{""ImportId"":""QID1""}",'
    ...         '"{""ImportId"":""QID2""}"\nR_1,15,Agree\nR_2,16,Disagree\n')
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "export.csv"
    >>> _ = path.write_text(text)
    >>> df = read_qualtrics(path)
    >>> df.to_dict("list")
    {'ResponseId': ['R_1', 'R_2'], 'Q1': [15, 16], 'Q2': ['Agree', 'Disagree']}
    >>> question_text(df)["Q2"]
    'I like school'
    """
    p = _check_path(path)
    if p.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        return read_excel(p, qualtrics=True, footer=footer)
    text, _ = read_text(p, encoding)
    if sep is None:
        sep = "\t" if p.suffix.lower() == ".tsv" else _sniff_delimiter(text)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    df = _from_rows(rows, p, legacy_ok=True, footer=footer)
    df.attrs["delimiter"] = sep
    return df


def _from_rows(rows: list[list[Any]], p: Path, legacy_ok: bool, footer: str) -> pd.DataFrame:
    if len(rows) < 2:
        raise ValueError(f"{str(p)!r} has no data rows after the header.")
    header = [str(h) for h in rows[0]]
    _check_header(header, p)
    n_extra = _qualtrics_rows(rows)
    if n_extra == 0:
        if not legacy_ok:
            raise ValueError(f"{str(p)!r} does not look like a Qualtrics export.")
        n_extra = 1
    texts = {h: str(t) for h, t in zip(header, rows[1], strict=False) if str(t).strip()}
    ids = {}
    if n_extra == 2:
        ids = {h: qid for h, c in zip(header, rows[2], strict=False) if (qid := _import_id(c))}
    body = rows[1 + n_extra :]
    width = len(header)
    bad = [i + 2 + n_extra for i, r in enumerate(body) if len(r) != width]
    if bad:
        raise ValueError(
            f"{str(p)!r}: rows {bad[:8]} (file line numbers) do not have {width} cells."
        )
    df = pd.DataFrame(body, columns=header, dtype=object)
    df = _footer(df, p, footer, 2 + n_extra)
    df = _numeric_where_possible(df)
    return _finish(df, p, "qualtrics", column_labels=texts, import_ids=ids)


def read_excel(
    path: str | Path,
    *,
    sheet: str | int = 0,
    qualtrics: bool | Literal["auto"] = "auto",
    header: int | None = 0,
    footer: Literal["raise", "drop", "keep"] = "raise",
    **kwargs: Any,
) -> pd.DataFrame:
    """Read one sheet of an Excel workbook (openpyxl); Qualtrics ``.xlsx`` exports too.

    Parameters
    ----------
    path : str or Path
    sheet : str or int, default 0
        Sheet name or position (``sheet_name=`` is accepted too).
    qualtrics : bool or "auto", default "auto"
        As in :func:`read_csv`.
    header : int or None, default 0
        Row (0-based, after ``skiprows``) that holds the column names; rows above it (a
        title, a note) are left out. ``None``: no header row, columns are numbered.
    footer : {"raise", "drop", "keep"}, default "raise"
        Summary rows at the bottom ("Mean", "Total"), as in :func:`read_csv`.
    **kwargs
        Passed to :func:`pandas.read_excel` (``skiprows``, ``nrows``, ``usecols`` ...).

    Returns
    -------
    pandas.DataFrame
    """
    p = _check_path(path)
    if "sheet_name" in kwargs:
        sheet = kwargs.pop("sheet_name")
    for key in ("dtype", "names", "index_col"):
        if key in kwargs:
            raise TypeError(
                f"read_excel: {key}= is not supported (columns are typed from their cells); "
                "convert the columns after reading."
            )
    if header is not None and (
        isinstance(header, bool) or not isinstance(header, int | np.integer) or header < 0
    ):
        raise ValueError(f"header must be a row number (0, 1, ...) or None, got {header!r}.")
    try:
        raw = pd.read_excel(p, sheet_name=sheet, header=None, dtype=object, **kwargs)
    except ValueError as exc:
        raise ValueError(f"could not read sheet {sheet!r} of {str(p)!r}: {exc}") from exc
    rows = raw.where(raw.notna(), "").to_numpy().tolist()
    if header:
        if header >= len(rows):
            raise ValueError(
                f"header={header}, but sheet {sheet!r} of {str(p)!r} has {len(rows)} rows."
            )
        rows = rows[header:]
    if not rows:
        raise ValueError(f"sheet {sheet!r} of {str(p)!r} is empty.")
    line0 = 2 + int(header or 0) + _skipped(kwargs.get("skiprows"))
    if header is not None and (
        qualtrics is True
        or (qualtrics == "auto" and (_qualtrics_rows(rows) or _legacy_qualtrics(rows)))
    ):
        df = _from_rows(rows, p, legacy_ok=True, footer=footer)
        df.attrs["format"] = "qualtrics"
        return df
    if header is None:
        names = [f"Unnamed: {j}" for j in range(len(rows[0]))]
        body = rows
        line0 -= 1
    else:
        names = [str(h) if str(h).strip() else f"Unnamed: {j}" for j, h in enumerate(rows[0])]
        _check_header(names, p)
        body = rows[1:]
    df = pd.DataFrame(body, columns=names, dtype=object)
    df = _footer(df, p, footer, line0)
    df = _numeric_where_possible(df)
    return _finish(df, p, "excel")


def _readstat(
    reader: Any, p: Path, fmt: str, apply_value_labels: bool, **options: Any
) -> tuple[pd.DataFrame, Any]:
    try:
        df, meta = reader(str(p), **options)
    except Exception as exc:  # pyreadstat raises its own ReadstatError / PyreadstatError
        raise ValueError(f"could not read {str(p)!r} as {fmt.upper()}: {exc}") from exc
    return _numeric_object_columns(df), meta


def _labels(meta: Any) -> tuple[dict[str, str], dict[str, dict]]:
    labels = {k: v for k, v in (meta.column_names_to_labels or {}).items() if v}
    values = {k: dict(v) for k, v in (meta.variable_value_labels or {}).items()}
    return labels, values


def _spss_missing(meta: Any) -> dict[str, list[tuple[float, float]]]:
    """Return the declared (user-defined) missing values per column as (lo, hi) ranges."""
    out: dict[str, list[tuple[float, float]]] = {}
    for col, ranges in (meta.missing_ranges or {}).items():
        pairs = []
        for r in ranges:
            lo, hi = r.get("lo"), r.get("hi")
            if _is_number(lo) and _is_number(hi):
                pairs.append((float(lo), float(hi)))
        if pairs:
            out[col] = sorted(set(pairs))
    return out


def _declared_missing_mask(s: pd.Series, ranges: list[tuple[float, float]]) -> pd.Series:
    num = pd.to_numeric(s, errors="coerce")
    mask = pd.Series(False, index=s.index)
    for lo, hi in ranges:
        mask |= (num >= lo) & (num <= hi)
    return mask


def _code_text(code: float) -> str:
    return str(int(code)) if float(code).is_integer() else f"{code:g}"


def _apply_value_labels(df: pd.DataFrame, value_labels: Mapping[str, Mapping]) -> pd.DataFrame:
    """Replace coded values by their labels, as ordered categoricals in code order.

    Done here rather than by pyreadstat's ``apply_value_formats``, which fails under pandas 3
    when a labelled column has missing values. Numeric codes without a label keep their
    number as text ("2", not "2.0") and their place in numeric order: a scale labelled only
    at its ends (1 = "Strongly disagree", 5 = "Strongly agree") gives the categories
    "Strongly disagree" < "2" < "3" < "4" < "Strongly agree", every whole number between
    labelled answers included even if nobody chose it.
    """
    out = df.copy()
    for col, labels in value_labels.items():
        if col not in out.columns or not labels:
            continue
        s = out[col]
        numeric = {float(k): str(v) for k, v in labels.items() if _is_number(k)}
        if numeric and pd.api.types.is_numeric_dtype(s):
            ends = [c for c, t in numeric.items() if c.is_integer() and not MISSING_WORDS.search(t)]
            codes = set(numeric) | {float(v) for v in pd.unique(s.dropna())}
            if len(ends) >= 2 and max(ends) - min(ends) <= 100:
                codes |= {float(v) for v in range(int(min(ends)) + 1, int(max(ends)))}
            names = {c: numeric.get(c, _code_text(c)) for c in sorted(codes)}
            out[col] = pd.Categorical(
                s.map(lambda v, names=names: names[float(v)] if pd.notna(v) else None),
                categories=list(dict.fromkeys(names.values())),
                ordered=True,
            )
            continue
        codes_ = sorted(labels, key=lambda c: (isinstance(c, str), c))
        cats = list(dict.fromkeys(str(labels[c]) for c in codes_))
        mapped = s.map(lambda v, lab=labels: lab.get(v, v) if pd.notna(v) else None)
        extra = [str(v) for v in pd.unique(mapped.dropna()) if str(v) not in cats]
        out[col] = pd.Categorical(
            mapped.map(lambda v: None if v is None or pd.isna(v) else str(v)),
            categories=cats + sorted(extra),
            ordered=True,
        )
    return out


def read_spss(
    path: str | Path, *, apply_value_labels: bool = False, user_missing: bool = False
) -> pd.DataFrame:
    """Read an SPSS ``.sav``/``.zsav`` file with its variable and value labels (pyreadstat).

    Parameters
    ----------
    path : str or Path
    apply_value_labels : bool, default False
        ``False``: keep numeric codes (labels in ``attrs["value_labels"]``); ``True``: replace
        codes by labels as ordered categoricals.
    user_missing : bool, default False
        ``False``: values the file declares missing (user-defined missing values, e.g.
        8 = "don't know", 9 = "refused") become NaN. ``True``: keep those codes in the data
        (a codebook from :meth:`toolkit.survey.Codebook.from_metadata` still treats them as
        missing).

    Returns
    -------
    pandas.DataFrame
        Numeric columns for numeric variables; the declared missing codes in
        ``attrs["missing_values"]`` as ``{column: [(lo, hi), ...]}`` either way.

    Notes
    -----
    The R counterpart is ``haven::read_sav(path, user_na = user_missing)`` (labels as
    ``labelled`` vectors) followed by ``haven::as_factor`` for ``apply_value_labels=True``.
    """
    import pyreadstat

    p = _check_path(path)
    df, meta = _readstat(pyreadstat.read_sav, p, "spss", apply_value_labels, user_missing=True)
    missing = _spss_missing(meta)
    if not user_missing:
        for col, ranges in missing.items():
            if col in df.columns:
                df[col] = df[col].mask(_declared_missing_mask(df[col], ranges))
    labels, values = _labels(meta)
    if apply_value_labels:
        df = _apply_value_labels(df, values)
    return _finish(df, p, "spss", column_labels=labels, value_labels=values, missing_values=missing)


def read_stata(path: str | Path, *, apply_value_labels: bool = False) -> pd.DataFrame:
    """Read a Stata ``.dta`` file with its variable and value labels (pyreadstat).

    Parameters
    ----------
    path : str or Path
    apply_value_labels : bool, default False
        As in :func:`read_spss`.

    Returns
    -------
    pandas.DataFrame
        Numeric variables as numeric columns: integer variables with missing values (``.``
        or the extended ``.a`` to ``.z``, all NaN here) are ``float64``, as in
        :func:`pandas.read_stata`.

    Notes
    -----
    The R counterpart is ``haven::read_dta(path)`` (and ``haven::as_factor``).
    """
    import pyreadstat

    p = _check_path(path)
    df, meta = _readstat(pyreadstat.read_dta, p, "stata", apply_value_labels)
    labels, values = _labels(meta)
    if apply_value_labels:
        df = _apply_value_labels(df, values)
    return _finish(df, p, "stata", column_labels=labels, value_labels=values)


def read_survey(
    path: str | Path,
    *,
    format: Literal["csv", "excel", "spss", "stata", "qualtrics"] | None = None,
    apply_value_labels: bool = False,
    sheet: str | int = 0,
    **kwargs: Any,
) -> pd.DataFrame:
    """Read a questionnaire export, choosing the reader from the file extension.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.tsv``/``.txt`` (Qualtrics exports detected), ``.xlsx``/``.xls``,
        ``.sav``/``.zsav`` or ``.dta``.
    format : {"csv", "excel", "spss", "stata", "qualtrics"}, optional
        Override the extension.
    apply_value_labels : bool, default False
        SPSS/Stata: replace codes by their labels.
    sheet : str or int, default 0
        Excel sheet.
    **kwargs
        Passed to the underlying reader: ``encoding=`` and ``footer=`` (CSV, Qualtrics,
        Excel), ``header=`` (Excel), ``user_missing=`` (SPSS), pandas' options (CSV, Excel).

    Returns
    -------
    pandas.DataFrame
        With ``attrs`` ``source``, ``format``, ``column_labels``, ``value_labels``.
    """
    p = _check_path(path)
    fmt = format or _EXTENSIONS.get(p.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"cannot tell the format of {str(p)!r} from its extension; pass format= "
            f"(one of 'csv', 'excel', 'spss', 'stata', 'qualtrics')."
        )
    if fmt == "csv":
        return read_csv(p, **kwargs)
    if fmt == "qualtrics":
        return read_qualtrics(p, **kwargs)
    if fmt == "excel":
        return read_excel(p, sheet=sheet, **kwargs)
    if fmt == "spss":
        return read_spss(p, apply_value_labels=apply_value_labels, **kwargs)
    if fmt == "stata":
        return read_stata(p, apply_value_labels=apply_value_labels)
    raise ValueError(f"format must be 'csv', 'excel', 'spss', 'stata' or 'qualtrics', got {fmt!r}.")


def question_text(data: pd.DataFrame) -> pd.Series:
    """Question wording of each column, from the reader's metadata (empty string if none).

    Examples
    --------
    >>> df = pd.DataFrame({"Q1": [1]})
    >>> df.attrs["column_labels"] = {"Q1": "How old are you?"}
    >>> question_text(df).to_dict()
    {'Q1': 'How old are you?'}
    """
    labels: Mapping[str, str] = data.attrs.get("column_labels", {}) or {}
    return pd.Series(
        [labels.get(c, "") for c in data.columns], index=data.columns, name="question", dtype=object
    )
