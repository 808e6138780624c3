r"""A codebook drives recoding, reverse keying, missing codes, validation and scale scores.

A codebook is a small TOML or CSV file that says, for each questionnaire item, which scale it
belongs to, whether it is reverse-keyed, which response labels it uses (in order, with their
numeric values) and which codes mean "missing". Researchers keep it next to the raw export;
the toolkit reads it with :meth:`Codebook.read`.

TOML layout (every key optional except the item names)::

    title = "Big Five Inventory (psych::bfi)"
    id = "id"                      # respondent ID column, checked for duplicates
    missing = [-9, "Refused", [97, 99]]  # "missing" for every item; [lo, hi] is a range

    [responses.accuracy6]          # a named response set, shared by items
    labels = ["Very Inaccurate", "Moderately Inaccurate", "Slightly Inaccurate",
              "Slightly Accurate", "Moderately Accurate", "Very Accurate"]
    values = [1, 2, 3, 4, 5, 6]    # default 1..k
    missing = ["Don't know"]

    [scales.agreeableness]         # shorthand: items with "-" are reverse-keyed
    items = ["-A1", "A2", "A3", "A4", "A5"]
    responses = "accuracy6"

    [items.A1]                     # per-item entries (override the shorthand)
    text = "Am indifferent to the feelings of others."
    # scale, reverse, responses, min, max, missing may also be set here

CSV layout: one row per item with columns ``item`` (required), ``scale``, ``reverse``
(true/false, 1/0, yes/no), ``labels`` and ``values`` (``|``-separated, in order),
``missing`` (``|``-separated; ``lo..hi`` is a range), ``min``, ``max``, ``text``.

Missing codes are labels (matched ignoring case and spacing), numbers, or inclusive numeric
ranges ``[lo, hi]`` (SPSS's "90 THRU 99"; ``-inf``/``inf`` allowed in TOML).
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import tomllib
import warnings
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import tomli_w

from toolkit._base.checks import check_choice, check_frame, preview
from toolkit.survey._screen import MISSING_WORDS as _MISSING_WORDS
from toolkit.survey._screen import as_number as _as_number
from toolkit.survey._screen import as_range as _as_range
from toolkit.survey._screen import check_footer, summary_rows
from toolkit.survey.readers import read_text
from toolkit.survey.reliability import ScoreItemsResult, score_items

__all__ = ["Codebook", "CodebookItem", "ResponseSet", "read_codebook"]

_CHECKS = (
    "missing_item",
    "empty_item",
    "unknown_label",
    "out_of_range",
    "duplicated_id",
    "missing_id",
    "summary_row",
)
_REPORT_COLUMNS = ["check", "column", "n_rows", "rows", "values", "message"]


def _norm(label: object) -> str:
    return " ".join(str(label).split()).casefold()


def _check_missing(codes: Iterable[Any], where: str) -> tuple[Any, ...]:
    """Normalise missing codes (ranges as tuples) and reject malformed ones."""
    out: list[Any] = []
    for c in codes:
        if isinstance(c, list | tuple):
            rng = _as_range(c)
            if rng is None:
                raise ValueError(
                    f"{where}: a missing range must be two numbers [lo, hi], got {list(c)!r}."
                )
            if rng[0] > rng[1]:
                raise ValueError(f"{where}: missing range {list(c)!r} has lo above hi.")
            out.append(tuple(_num(v) for v in rng))
        else:
            out.append(c)
    return tuple(out)


def _csv_missing(token: str) -> Any:
    """Parse a missing code of a CSV codebook cell: a number, a ``lo..hi`` range or a label."""
    if ".." in token:
        lo, _, hi = token.partition("..")
        a, b = _as_number(lo), _as_number(hi)
        if a is not None and b is not None:
            return (a, b)
    num = _as_number(token)
    return num if num is not None else token


@dataclass(frozen=True)
class ResponseSet:
    """An ordered set of response labels and their numeric values.

    Parameters
    ----------
    name : str
        Name used to refer to the set from items.
    labels : tuple of str
        Labels in scale order (lowest value first).
    values : tuple of float, optional
        Numeric value of each label; default ``1..k``.
    missing : tuple, optional
        Labels or numeric codes that mean "missing" for items using this set.
    """

    name: str
    labels: tuple[str, ...]
    values: tuple[float, ...] = ()
    missing: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        labels = tuple(str(lab) for lab in self.labels)
        if not labels:
            raise ValueError(f"response set {self.name!r}: labels must not be empty.")
        values = tuple(float(v) for v in self.values) or tuple(
            float(i) for i in range(1, len(labels) + 1)
        )
        if len(values) != len(labels):
            raise ValueError(
                f"response set {self.name!r}: {len(labels)} labels but {len(values)} values."
            )
        if len({_norm(lab) for lab in labels}) != len(labels):
            raise ValueError(f"response set {self.name!r}: labels are not unique: {labels}.")
        if len(set(values)) != len(values):
            raise ValueError(f"response set {self.name!r}: values are not unique: {values}.")
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "values", values)
        object.__setattr__(
            self, "missing", _check_missing(self.missing, f"response set {self.name!r}")
        )

    @property
    def min(self) -> float:
        """Smallest value."""
        return min(self.values)

    @property
    def max(self) -> float:
        """Largest value."""
        return max(self.values)

    def value_of(self) -> dict[str, float]:
        """Map of normalised label (case and spacing ignored) to value."""
        return {_norm(lab): v for lab, v in zip(self.labels, self.values, strict=True)}

    def label_of(self) -> dict[float, str]:
        """Map of value to label."""
        return dict(zip(self.values, self.labels, strict=True))


@dataclass(frozen=True)
class CodebookItem:
    """One questionnaire item of a :class:`Codebook`.

    Parameters
    ----------
    name : str
        Column name in the data.
    scale : str, optional
        Scale the item is scored on (``None``: not scored, e.g. a demographic question).
    reverse : bool, default False
        Reverse-keyed: recoded as ``min + max - x``.
    responses : ResponseSet, optional
        Its response labels and values.
    min, max : float, optional
        Valid numeric range when there is no response set (or to narrow it).
    missing : tuple, optional
        Item-specific missing codes: labels, numbers or ``(lo, hi)`` ranges.
    text : str, optional
        Question wording.
    """

    name: str
    scale: str | None = None
    reverse: bool = False
    responses: ResponseSet | None = None
    min: float | None = None
    max: float | None = None
    missing: tuple[Any, ...] = ()
    text: str | None = None

    def __post_init__(self) -> None:
        if self.reverse and self.bounds is None:
            raise ValueError(
                f"item {self.name!r} is reverse-keyed but has neither a response set nor "
                "min and max, so its reversal min + max - x is undefined."
            )
        lo, hi = self.min, self.max
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"item {self.name!r}: min {lo} is above max {hi}.")
        object.__setattr__(self, "missing", _check_missing(self.missing, f"item {self.name!r}"))

    @property
    def bounds(self) -> tuple[float, float] | None:
        """(min, max) used for range checks and reversal, or None if unbounded."""
        lo = self.min if self.min is not None else (self.responses.min if self.responses else None)
        hi = self.max if self.max is not None else (self.responses.max if self.responses else None)
        if lo is None or hi is None:
            return None
        return float(lo), float(hi)


@dataclass
class _ColumnResult:
    values: pd.Series
    problems: list[dict[str, Any]] = field(default_factory=list)


class Codebook:
    """Items, scales, response labels and missing codes of a questionnaire.

    Parameters
    ----------
    items : sequence of CodebookItem
        The items, in questionnaire order.
    id : str, optional
        Respondent ID column, checked for duplicates and missing values by
        :meth:`validate`.
    missing : sequence, optional
        Codes that mean "missing" for every item.
    title : str, optional
        A title for reports.

    Examples
    --------
    >>> agree = ResponseSet("agree3", ["Disagree", "Neutral", "Agree"])
    >>> cb = Codebook([
    ...     CodebookItem("q1", scale="s", responses=agree),
    ...     CodebookItem("q2", scale="s", responses=agree, reverse=True),
    ... ], id="pid", missing=[-9])
    >>> raw = pd.DataFrame({"pid": [1, 2, 3], "q1": ["Agree", "neutral", -9],
    ...                     "q2": ["Disagree", "Agree", "Agree"]})
    >>> cb.recode(raw)[["q1", "q2"]].to_numpy().tolist()
    [[3.0, 3.0], [2.0, 1.0], [nan, 1.0]]
    >>> cb.keys
    {'s': ['q1', '-q2']}
    """

    def __init__(
        self,
        items: Sequence[CodebookItem],
        *,
        id: str | None = None,
        missing: Sequence[Any] = (),
        title: str | None = None,
    ) -> None:
        items = list(items)
        if not items:
            raise ValueError("A codebook needs at least one item.")
        names = [it.name for it in items]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"codebook: item(s) {dup} are defined more than once.")
        if id is not None and id in names:
            raise ValueError(f"codebook: the ID column {id!r} is also listed as an item.")
        self._items = {it.name: it for it in items}
        self.id = id
        self.missing = _check_missing(missing, "codebook missing")
        self.title = title

    # ----------------------------------------------------------------------------- reading

    @classmethod
    def read(cls, path: str | Path, *, encoding: str = "utf-8") -> Codebook:
        """Read a codebook from a ``.toml`` or ``.csv`` file (layouts in the module docstring).

        Parameters
        ----------
        path : str or Path
            The file.
        encoding : str, default "utf-8"
            Text encoding of the file (a byte-order mark is skipped). A codebook written by
            Excel on Windows is often ``"cp1252"`` or ``"latin-1"``.
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"codebook file {str(path)!r} does not exist.")
        suffix = path.suffix.lower()
        if suffix not in (".toml", ".csv"):
            raise ValueError(f"codebook {str(path)!r}: expected a .toml or .csv file.")
        text, _ = read_text(path, encoding, "codebook")
        if suffix == ".toml":
            try:
                spec = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"codebook {str(path)!r}: invalid TOML ({exc}).") from exc
            try:
                return cls.from_dict(spec)
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"codebook {str(path)!r}: {exc}") from exc
        return cls._from_csv(path, text)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Codebook:
        """Build a codebook from a mapping with the TOML layout.

        The mapping has the keys of the TOML file: ``responses``, ``scales``, ``items``,
        ``id``, ``missing``, ``title`` (see the module docstring).
        """
        known = {"title", "id", "missing", "responses", "scales", "items"}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(
                f"unknown top-level key(s) {sorted(unknown)}; expected {sorted(known)}."
            )
        sets = {}
        for name, rs in dict(spec.get("responses", {})).items():
            if not isinstance(rs, Mapping) or "labels" not in rs:
                raise ValueError(f"responses.{name}: needs a 'labels' list.")
            sets[name] = ResponseSet(
                name, tuple(rs["labels"]), tuple(rs.get("values", ())), tuple(rs.get("missing", ()))
            )
        entries: dict[str, dict[str, Any]] = {}
        for scale, sc in dict(spec.get("scales", {})).items():
            if not isinstance(sc, Mapping) or "items" not in sc:
                raise ValueError(f"scales.{scale}: needs an 'items' list.")
            for it in sc["items"]:
                name = it[1:] if it.startswith("-") else it
                if name in entries:
                    raise ValueError(f"item {name!r} is listed in more than one scale.")
                entries[name] = {"scale": scale, "reverse": it.startswith("-")}
                if "responses" in sc:
                    entries[name]["responses"] = sc["responses"]
        items_spec = dict(spec.get("items", {}))
        order = list(items_spec) + [n for n in entries if n not in items_spec]
        allowed = {"scale", "reverse", "responses", "min", "max", "missing", "text"}
        items = []
        for name in order:
            entry = dict(entries.get(name, {}))
            extra = items_spec.get(name, {})
            if not isinstance(extra, Mapping):
                raise ValueError(f"items.{name}: expected a table of settings.")
            bad = set(extra) - allowed
            if bad:
                raise ValueError(f"items.{name}: unknown key(s) {sorted(bad)}.")
            entry.update(extra)
            rs = entry.get("responses")
            if isinstance(rs, str):
                if rs not in sets:
                    raise ValueError(f"items.{name}: response set {rs!r} is not defined.")
                rs = sets[rs]
            elif isinstance(rs, Mapping):
                rs = ResponseSet(
                    f"{name}_responses",
                    tuple(rs["labels"]),
                    tuple(rs.get("values", ())),
                    tuple(rs.get("missing", ())),
                )
            items.append(
                CodebookItem(
                    name=str(name),
                    scale=entry.get("scale"),
                    reverse=bool(entry.get("reverse", False)),
                    responses=rs,
                    min=entry.get("min"),
                    max=entry.get("max"),
                    missing=tuple(entry.get("missing", ())),
                    text=entry.get("text"),
                )
            )
        return cls(
            items,
            id=spec.get("id"),
            missing=tuple(spec.get("missing", ())),
            title=spec.get("title"),
        )

    @classmethod
    def _from_csv(cls, path: Path, text: str) -> Codebook:
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        if not rows or "item" not in rows[0]:
            raise ValueError(f"codebook {str(path)!r}: needs a header row with an 'item' column.")
        sets: dict[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ResponseSet] = {}
        items = []
        for lineno, row in enumerate(rows, start=2):

            def get(key: str, row: dict[str, str] = row) -> str:
                return (row.get(key) or "").strip()

            name = get("item")
            if not name:
                raise ValueError(f"codebook {str(path)!r}, line {lineno}: empty item name.")

            def split(s: str) -> tuple[str, ...]:
                return tuple(p.strip() for p in s.split("|") if p.strip()) if s else ()

            labels, values, missing = (
                split(get("labels")),
                split(get("values")),
                split(get("missing")),
            )
            missing_codes = tuple(_csv_missing(m) for m in missing)
            rs = None
            if labels:
                key = (labels, values, ())
                if key not in sets:
                    try:
                        sets[key] = ResponseSet(
                            f"set{len(sets) + 1}", labels, tuple(float(v) for v in values)
                        )
                    except ValueError as exc:
                        raise ValueError(f"codebook {str(path)!r}, line {lineno}: {exc}") from exc
                rs = sets[key]
            rev = get("reverse").lower()
            if rev not in ("", "0", "1", "true", "false", "yes", "no", "-", "+"):
                raise ValueError(
                    f"codebook {str(path)!r}, line {lineno}: reverse must be true/false, "
                    f"got {rev!r}."
                )
            try:
                items.append(
                    CodebookItem(
                        name=name,
                        scale=get("scale") or None,
                        reverse=rev in ("1", "true", "yes", "-"),
                        responses=rs,
                        min=float(get("min")) if get("min") else None,
                        max=float(get("max")) if get("max") else None,
                        missing=missing_codes,
                        text=get("text") or None,
                    )
                )
            except ValueError as exc:
                raise ValueError(f"codebook {str(path)!r}, line {lineno}: {exc}") from exc
        return cls(items)

    @classmethod
    def from_metadata(
        cls,
        data: pd.DataFrame,
        items: Sequence[str] | None = None,
        *,
        scales: Mapping[str, Sequence[str]] | None = None,
        missing: Sequence[Any] = (),
        id: str | None = None,
    ) -> Codebook:
        r"""Start a codebook from the value labels, missing codes and question text of a file.

        Parameters
        ----------
        data : pandas.DataFrame
            Returned by :func:`toolkit.survey.read_survey` (value labels, declared missing
            values and question text are in ``data.attrs``).
        items : list of str, optional
            Columns to include (default: all columns that have value labels).
        scales : mapping, optional
            ``{scale: [items]}`` with ``"-"`` on reverse-keyed items.
        missing : sequence, optional
            Further codes that mean "missing" for every item (numbers, labels, ``(lo, hi)``
            ranges), for files that label such codes without declaring them missing.
        id : str, optional
            Respondent ID column.

        Returns
        -------
        Codebook
            Labels are ordered by their numeric codes; whole numbers between labelled answers
            that have no label (a scale labelled only at its ends) are answers too, labelled
            by their number ("2", "3", "4"). Codes the file declares missing
            (SPSS user-defined missing values, ``attrs["missing_values"]``) and codes in
            ``missing`` are the items' missing codes, not answers: they neither widen the
            answer range nor enter the reversal :math:`\min + \max - x`.

        Warns
        -----
        UserWarning
            When a labelled code that is kept as an answer reads like a missing-value code
            ("Don't know", "Refused", "Not applicable", ...): the range and the reversal then
            include it. Declare it in ``missing`` (or in the SPSS file) if it is not an answer.

        Examples
        --------
        >>> df = pd.DataFrame({"q1": [1, 5, 9]})
        >>> df.attrs["value_labels"] = {"q1": {1: "Disagree", 5: "Agree", 9: "Refused"}}
        >>> df.attrs["missing_values"] = {"q1": [(9, 9)]}
        >>> cb = Codebook.from_metadata(df)
        >>> cb.items["q1"].bounds, cb.items["q1"].missing
        ((1.0, 5.0), (9,))
        """
        check_frame(data)
        value_labels = dict(data.attrs.get("value_labels", {}) or {})
        declared = dict(data.attrs.get("missing_values", {}) or {})
        texts = dict(data.attrs.get("column_labels", {}) or {})
        members = [
            it[1:] if it.startswith("-") else it for its in (scales or {}).values() for it in its
        ]
        if items is None:
            items = [c for c in data.columns if c in value_labels or c in members]
        membership: dict[str, tuple[str, bool]] = {}
        for scale, its in (scales or {}).items():
            for it in its:
                name = it[1:] if it.startswith("-") else it
                membership[name] = (scale, it.startswith("-"))
        unknown = [n for n in membership if n not in items]
        if unknown:
            raise ValueError(f"scales: item(s) {unknown} are not among the items {list(items)}.")
        extra = _check_missing(missing, "missing")
        extra_num = {float(n) for c in extra if (n := _as_number(c)) is not None}
        extra_rng = [r for c in extra if (r := _as_range(c)) is not None]
        extra_lab = {_norm(c) for c in extra if isinstance(c, str)}
        out = []
        suspicious: list[str] = []
        for name in items:
            if name not in data.columns:
                raise ValueError(f"items: column {name!r} is not in data.")
            ranges = [(float(lo), float(hi)) for lo, hi in declared.get(name, ())]
            item_missing: list[Any] = [
                _num(lo) if lo == hi else (_num(lo), _num(hi)) for lo, hi in ranges
            ]

            def is_missing(code: float, label: str, ranges: list = ranges) -> bool:
                return (
                    code in extra_num
                    or _norm(label) in extra_lab
                    or any(lo <= code <= hi for lo, hi in [*ranges, *extra_rng])
                )

            labels = value_labels.get(name)
            rs = None
            if labels:
                pairs = sorted(
                    (float(k), str(v)) for k, v in labels.items() if _as_number(k) is not None
                )
                answers = [(c, lab) for c, lab in pairs if not is_missing(c, lab)]
                suspicious += [
                    f"{name}: {_num(c)} = {lab!r}"
                    for c, lab in answers
                    if _MISSING_WORDS.search(lab)
                ]
                answers = _fill_unlabelled(answers)
                if answers:
                    rs = ResponseSet(
                        f"{name}_labels",
                        tuple(p[1] for p in answers),
                        tuple(p[0] for p in answers),
                    )
            scale, rev = membership.get(name, (None, False))
            out.append(
                CodebookItem(
                    name,
                    scale=scale,
                    reverse=rev,
                    responses=rs,
                    missing=tuple(item_missing),
                    text=texts.get(name),
                )
            )
        if suspicious:
            warnings.warn(
                "Codebook.from_metadata: labelled codes that read like missing values are kept "
                "as answers (they widen the range and the reversal): "
                f"{'; '.join(suspicious[:6])}{' ...' if len(suspicious) > 6 else ''}. "
                "If they are not answers, declare them with missing=[...] (or as user-missing "
                "values in the file).",
                UserWarning,
                stacklevel=2,
            )
        return cls(out, missing=extra, id=id)

    # ----------------------------------------------------------------------------- views

    @property
    def items(self) -> dict[str, CodebookItem]:
        """Items by name, in questionnaire order."""
        return dict(self._items)

    @property
    def names(self) -> list[str]:
        """Item names in order."""
        return list(self._items)

    @property
    def scales(self) -> list[str]:
        """Scale names in order of first appearance."""
        out: list[str] = []
        for it in self._items.values():
            if it.scale is not None and it.scale not in out:
                out.append(it.scale)
        return out

    @property
    def keys(self) -> dict[str, list[str]]:
        """psych-style keys ``{scale: ["-A1", "A2", ...]}`` for :func:`score_items`."""
        return {
            s: [
                ("-" if it.reverse else "") + it.name
                for it in self._items.values()
                if it.scale == s
            ]
            for s in self.scales
        }

    def table(self) -> pd.DataFrame:
        """One row per item: scale, reverse, responses, n_labels, min, max, missing, text."""
        rows = []
        for it in self._items.values():
            b = it.bounds
            rows.append(
                {
                    "item": it.name,
                    "scale": it.scale,
                    "reverse": it.reverse,
                    "responses": it.responses.name if it.responses else None,
                    "n_labels": len(it.responses.labels) if it.responses else 0,
                    "min": b[0] if b else math.nan,
                    "max": b[1] if b else math.nan,
                    "missing": list(self._missing_codes(it)),
                    "text": it.text,
                }
            )
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        return (
            f"Codebook({len(self._items)} items, scales={self.scales}, id={self.id!r}"
            + (f", title={self.title!r}" if self.title else "")
            + ")"
        )

    def to_toml(self, path: str | Path | None = None) -> str:
        """Write the codebook as TOML (returned, and saved to ``path`` if given).

        Written by ``tomli_w``, which escapes every string as TOML requires (newlines, tabs,
        quotes, control characters in a question's wording), so :meth:`read` and
        :func:`tomllib.loads` give the same codebook back.
        """
        doc: dict[str, Any] = {}
        if self.title:
            doc["title"] = self.title
        if self.id:
            doc["id"] = self.id
        if self.missing:
            doc["missing"] = _toml_plain(self.missing)
        sets: dict[str, ResponseSet] = {}
        for it in self._items.values():
            if it.responses is not None:
                sets.setdefault(it.responses.name, it.responses)
        if sets:
            doc["responses"] = {}
        for name, rs in sets.items():
            entry: dict[str, Any] = {
                "labels": list(rs.labels),
                "values": [_num(v) for v in rs.values],
            }
            if rs.missing:
                entry["missing"] = _toml_plain(rs.missing)
            doc["responses"][name] = entry
        items: dict[str, Any] = {}
        for it in self._items.values():
            entry = {}
            if it.scale is not None:
                entry["scale"] = it.scale
            if it.reverse:
                entry["reverse"] = True
            if it.responses is not None:
                entry["responses"] = it.responses.name
            for key in ("min", "max"):
                val = getattr(it, key)
                if val is not None:
                    entry[key] = _num(val)
            if it.missing:
                entry["missing"] = _toml_plain(it.missing)
            if it.text:
                entry["text"] = it.text
            items[it.name] = entry
        if items:
            doc["items"] = items
        text = tomli_w.dumps(doc)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    # ----------------------------------------------------------------------------- work

    def _missing_codes(self, it: CodebookItem) -> tuple[Any, ...]:
        codes = list(self.missing) + list(it.missing)
        if it.responses is not None:
            codes += list(it.responses.missing)
        return tuple(codes)

    def _recode_column(self, it: CodebookItem, s: pd.Series) -> _ColumnResult:
        codes = self._missing_codes(it)
        missing_num = {float(n) for c in codes if (n := _as_number(c)) is not None}
        missing_rng = [r for c in codes if (r := _as_range(c)) is not None]
        missing_lab = {_norm(c) for c in self._missing_codes(it) if isinstance(c, str)}
        lab2val = it.responses.value_of() if it.responses else {}
        allowed = set(it.responses.values) if it.responses else None
        bounds = it.bounds
        mapping: dict[Hashable, float] = {}
        unknown: list[Hashable] = []
        out_of_range: list[Hashable] = []
        obj = s.astype(object)
        present = obj[s.notna()]
        for value in pd.unique(present):
            num = _as_number(value)
            if isinstance(value, str) and _norm(value) in missing_lab:
                mapping[value] = math.nan
            elif isinstance(value, str) and _norm(value) in lab2val:
                mapping[value] = lab2val[_norm(value)]
            elif num is None:
                if isinstance(value, str) and not value.strip():
                    mapping[value] = math.nan  # empty cell in a text export
                else:
                    unknown.append(value)
            elif num in missing_num or any(lo <= num <= hi for lo, hi in missing_rng):
                mapping[value] = math.nan
            elif (allowed is not None and num not in allowed) or (
                bounds is not None and not bounds[0] <= num <= bounds[1]
            ):
                out_of_range.append(value)
            else:
                mapping[value] = num
        values = present.map(lambda v: mapping.get(v, math.nan)).astype(float)
        values = values.reindex(s.index)
        problems = []
        for check, bad, what in (
            ("unknown_label", unknown, "labels not in the codebook"),
            ("out_of_range", out_of_range, "values outside the allowed responses"),
        ):
            if bad:
                mask = present.isin(bad)
                rows = list(present.index[mask])
                allowed_txt = (
                    f"allowed labels {list(it.responses.labels)}"
                    if it.responses
                    else (
                        f"allowed range [{_num(bounds[0])}, {_num(bounds[1])}]"
                        if bounds
                        else "numbers"
                    )
                )
                if check == "out_of_range" and it.responses is not None:
                    allowed_txt = f"allowed values {[_num(v) for v in it.responses.values]}"
                problems.append(
                    {
                        "check": check,
                        "column": it.name,
                        "n_rows": len(rows),
                        "rows": rows,
                        "values": list(bad),
                        "message": f"column {it.name!r}: {what} {preview(bad, 5)} in rows "
                        f"{preview(rows)}; {allowed_txt}.",
                    }
                )
        if len(s) and not values.notna().any() and not unknown and not out_of_range:
            problems.append(
                {
                    "check": "empty_item",
                    "column": it.name,
                    "n_rows": len(s),
                    "rows": [],
                    "values": [],
                    "message": f"column {it.name!r} has no valid answer: all {len(s)} rows are "
                    "empty or missing codes.",
                }
            )
        return _ColumnResult(values, problems)

    def _id_problems(self, data: pd.DataFrame, id_col: str | None) -> list[dict[str, Any]]:
        """Problems with the ID column: absent, empty in some rows, or duplicated."""
        if id_col is None:
            return []
        if id_col in data.columns:
            ids = data[id_col]
        elif data.index.name == id_col:
            ids = pd.Series(data.index, index=data.index)
        else:
            return [
                {
                    "check": "missing_id",
                    "column": id_col,
                    "n_rows": len(data),
                    "rows": [],
                    "values": [],
                    "message": f"ID column {id_col!r} is not in the data.",
                }
            ]
        problems = []
        na = ids.isna()
        if na.any():
            rows = list(data.index[na])
            problems.append(
                {
                    "check": "missing_id",
                    "column": id_col,
                    "n_rows": len(rows),
                    "rows": rows,
                    "values": [],
                    "message": f"ID column {id_col!r} is empty in rows {preview(rows)}.",
                }
            )
        dup = ids.duplicated(keep=False) & ~na
        if dup.any():
            rows = list(data.index[dup])
            vals = list(pd.unique(ids[dup]))
            problems.append(
                {
                    "check": "duplicated_id",
                    "column": id_col,
                    "n_rows": len(rows),
                    "rows": rows,
                    "values": vals,
                    "message": f"ID column {id_col!r}: IDs {preview(vals, 5)} occur more "
                    f"than once (rows {preview(rows)}).",
                }
            )
        return problems

    def validate(self, data: pd.DataFrame, *, id: str | None = None) -> pd.DataFrame:
        """Check a raw data table against the codebook.

        Parameters
        ----------
        data : pandas.DataFrame
            Raw responses (labels or numeric codes).
        id : str, optional
            Respondent ID column (default: the codebook's ``id``).

        Returns
        -------
        pandas.DataFrame
            One row per problem, empty if none, with columns ``check``
            (``"missing_item"``: an item of the codebook is not a column of the data;
            ``"empty_item"``: an item column without a single valid answer (every cell empty
            or a missing code);
            ``"unknown_label"``: text that is neither a response label nor a missing code;
            ``"out_of_range"``: a number outside the item's values or range;
            ``"duplicated_id"``: IDs that occur more than once, all their rows listed;
            ``"missing_id"``: rows without an ID, or the ID column is absent;
            ``"summary_row"``: rows at the bottom labelled "Mean", "Total" ... ),
            ``column``, ``n_rows``, ``rows`` (row labels of ``data``), ``values`` (the
            offending values) and ``message``.

        Examples
        --------
        >>> cb = Codebook([CodebookItem("q1", min=1, max=5)], id="pid")
        >>> raw = pd.DataFrame({"pid": [1, 1, 2], "q1": [3, 7, "x"]})
        >>> report = cb.validate(raw)
        >>> report["check"].tolist()
        ['unknown_label', 'out_of_range', 'duplicated_id']
        >>> report["rows"].tolist()
        [[2], [1], [0, 1]]
        """
        data = check_frame(data)
        problems: list[dict[str, Any]] = []
        for it in self._items.values():
            if it.name not in data.columns:
                problems.append(
                    {
                        "check": "missing_item",
                        "column": it.name,
                        "n_rows": len(data),
                        "rows": [],
                        "values": [],
                        "message": f"item {it.name!r} of the codebook is not a column of the data.",
                    }
                )
                continue
            problems += self._recode_column(it, data[it.name]).problems
        problems += self._id_problems(data, id if id is not None else self.id)
        footer = summary_rows(data)
        if footer:
            rows = [data.index[p] for p in footer]
            problems.append(
                {
                    "check": "summary_row",
                    "column": "",
                    "n_rows": len(rows),
                    "rows": rows,
                    "values": sorted(set(footer.values())),
                    "message": f"rows {preview(rows)} look like summary rows "
                    f"({preview(sorted(set(footer.values())), 4)}), not respondents.",
                }
            )
        return pd.DataFrame(problems, columns=_REPORT_COLUMNS)

    def recode(
        self,
        data: pd.DataFrame,
        *,
        reverse: bool = True,
        errors: Literal["raise", "coerce"] = "raise",
        keep_other: bool = True,
    ) -> pd.DataFrame:
        r"""Turn labels and codes into numbers, missing codes into NaN, and reverse-key items.

        Parameters
        ----------
        data : pandas.DataFrame
            Raw responses: labels (matched ignoring case and repeated spaces), numeric codes,
            or numeric strings.
        reverse : bool, default True
            Reverse-key items marked ``reverse``: :math:`x' = \min + \max - x` with the item's
            own bounds. Use ``reverse=False`` before :func:`toolkit.survey.cronbach_alpha`
            with psych-style keys or :meth:`score`, which reverse themselves.
        errors : {"raise", "coerce"}, default "raise"
            ``"raise"``: any unknown label, out-of-range value, missing item, duplicated or
            empty respondent ID raises a ValueError listing column, rows and values (see
            :meth:`validate`). ``"coerce"``: such cells become NaN and missing items are
            skipped, with a warning that lists them (duplicated IDs are only reported).
        keep_other : bool, default True
            Keep the columns that are not codebook items (IDs, metadata) unchanged.

        Returns
        -------
        pandas.DataFrame
            Same index as ``data``; codebook items as float columns. ``attrs["reversed_items"]``
            lists the items reversed, so that :func:`toolkit.survey.cronbach_alpha`,
            :func:`toolkit.survey.score_items` and another recode refuse to reverse them a
            second time; ``attrs["scale_bounds"]`` holds each item's range.

        Raises
        ------
        ValueError
            With ``errors="raise"``, for the problems :meth:`validate` reports; always, when
            the data end with summary rows ("Mean", "Total") or when ``reverse=True`` and the
            data were already reversed by an earlier recode.

        Warns
        -----
        UserWarning
            With ``errors="coerce"``, for every problem; always, for an item without a single
            valid answer and when the codebook's ID column is not in the data (duplicates
            then go unchecked).
        """
        data = check_frame(data)
        check_choice(errors, "errors", ("raise", "coerce"))
        check_footer(data, "recode")
        done = set(data.attrs.get("reversed_items") or ())
        again = [n for n, it in self._items.items() if it.reverse and n in done]
        if reverse and again:
            raise ValueError(
                f"recode: items {again} of these data were already reversed by an earlier "
                "recode (data.attrs['reversed_items']); reversing them again would undo it. "
                "Recode the raw data, or call recode(..., reverse=False)."
            )
        missing = [n for n in self._items if n not in data.columns]
        problems: list[dict[str, Any]] = []
        recoded = {}
        for it in self._items.values():
            if it.name in missing:
                continue
            res = self._recode_column(it, data[it.name])
            problems += res.problems
            vals = res.values
            if reverse and it.reverse:
                lo, hi = it.bounds  # type: ignore[misc]
                vals = lo + hi - vals
            recoded[it.name] = vals
        if missing:
            problems.insert(
                0,
                {
                    "check": "missing_item",
                    "column": ", ".join(missing),
                    "message": f"codebook item(s) {missing} are not columns of the data.",
                },
            )
        problems += self._id_problems(data, self.id)
        notes = [
            p
            for p in problems
            if p["check"] == "empty_item" or (p["check"] == "missing_id" and not p["rows"])
        ]
        problems = [p for p in problems if p not in notes]
        if problems:
            text = "\n  ".join(p["message"] for p in problems)
            if errors == "raise":
                raise ValueError(f"recode found {len(problems)} problem(s):\n  {text}")
            warnings.warn(
                f"recode set offending cells to NaN (IDs are left as they are):\n  {text}",
                UserWarning,
                stacklevel=2,
            )
        if notes:
            text = "\n  ".join(
                p["message"]
                + (" Duplicated IDs were not checked." if p["check"] == "missing_id" else "")
                for p in notes
            )
            warnings.warn(f"recode:\n  {text}", UserWarning, stacklevel=2)
        if keep_other:
            out = data.copy()
            for name, vals in recoded.items():
                out[name] = vals
        else:
            out = pd.DataFrame(recoded, index=data.index)
        return self._mark(out, data, list(recoded), reverse)

    def _mark(
        self, out: pd.DataFrame, data: pd.DataFrame, names: list[str], reverse: bool
    ) -> pd.DataFrame:
        """Record in ``out.attrs`` what recode did, so that later steps can check it.

        ``reversed_items``: items reversed here (with those reversed before), which
        :func:`toolkit.survey.cronbach_alpha`, :func:`toolkit.survey.score_items` and a second
        recode refuse to reverse again; ``scale_bounds``: each item's checked range. The file's
        value labels and missing codes of the recoded items are dropped (they describe the raw
        codes, not the recoded values).
        """
        attrs = dict(data.attrs)
        for key in ("value_labels", "missing_values"):
            if key in attrs:
                attrs[key] = {k: v for k, v in dict(attrs[key]).items() if k not in names}
        before = list(data.attrs.get("reversed_items") or ())
        now = [n for n in names if reverse and self._items[n].reverse]
        attrs["reversed_items"] = before + [n for n in now if n not in before]
        bounds = dict(data.attrs.get("scale_bounds") or {})
        for n in names:
            b = self._items[n].bounds
            if b is not None:
                bounds[n] = b
            else:
                bounds.pop(n, None)
        attrs["scale_bounds"] = bounds
        out.attrs = attrs
        return out

    def decode(self, data: pd.DataFrame) -> pd.DataFrame:
        """Replace numeric codes of items that have response labels by their labels.

        Returns a copy of ``data`` in which those items are ordered categoricals (categories in
        scale order), e.g. for :func:`toolkit.charts.survey.likert_bars` or an export. Cells that
        already hold a label keep it; values with no label (a 7 on a 1-6 scale, a missing code)
        become missing, with a warning that names them.
        """
        data = check_frame(data)
        out = data.copy()
        lost = []
        for it in self._items.values():
            if it.responses is None or it.name not in data.columns:
                continue
            lab = it.responses.label_of()
            canonical = {_norm(v): v for v in it.responses.labels}
            s = data[it.name]

            def one(v: object, lab: dict = lab, canonical: dict = canonical) -> object:
                if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
                    return None
                if isinstance(v, str) and _norm(v) in canonical:
                    return canonical[_norm(v)]  # already a label
                num = _as_number(v)
                return lab.get(num) if num is not None else None

            decoded = s.map(one)
            bad = s.notna() & decoded.isna()
            if bad.any():
                vals = preview(list(pd.unique(s[bad])), 5)
                lost.append(f"{it.name!r}: {vals} (rows {preview(list(s.index[bad]), 5)})")
            out[it.name] = pd.Categorical(
                decoded, categories=list(it.responses.labels), ordered=True
            )
        if lost:
            warnings.warn(
                "decode: values without a response label became missing: " + "; ".join(lost),
                UserWarning,
                stacklevel=2,
            )
        return out

    def score(
        self,
        data: pd.DataFrame,
        *,
        scales: Sequence[str] | None = None,
        totals: bool = False,
        impute: Literal["median", "mean", "none"] = "median",
        errors: Literal["raise", "coerce"] = "raise",
    ) -> ScoreItemsResult:
        """Recode the raw data and compute scale scores with :func:`score_items`.

        Items are recoded with ``reverse=False`` and the codebook's keys (so that item-scale
        correlations keep psych's signs); reversal uses the common minimum and maximum of the
        response sets when all scored items share them, as psych does, and otherwise each
        item is reversed beforehand with its own bounds.

        Parameters
        ----------
        data : pandas.DataFrame
            Raw responses.
        scales : list of str, optional
            Scales to score (default all).
        totals, impute
            Passed to :func:`score_items`.
        errors : {"raise", "coerce"}
            Passed to :meth:`recode`.

        Returns
        -------
        ScoreItemsResult
        """
        keys = self.keys
        if not keys:
            raise ValueError("The codebook assigns no item to a scale; nothing to score.")
        done = set(data.attrs.get("reversed_items") or ()) if isinstance(data, pd.DataFrame) else ()
        again = [n for n, it in self._items.items() if it.reverse and n in done]
        if again:
            raise ValueError(
                f"score: items {again} of these data were already reversed by recode "
                "(data.attrs['reversed_items']); score recodes and reverses the raw data "
                "itself. Pass the raw data, or score the recoded frame with score_items and "
                "keys without '-'."
            )
        if scales is not None:
            unknown = [s for s in scales if s not in keys]
            if unknown:
                raise ValueError(f"scales: {unknown} not in the codebook's scales {list(keys)}.")
            keys = {s: keys[s] for s in scales}
        used = [k.lstrip("-") for its in keys.values() for k in its]
        bounds = {self._items[n].bounds for n in used}
        sub = Codebook([self._items[n] for n in used], missing=self.missing, id=self.id)
        shared = len(bounds) == 1 and None not in bounds
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rec = sub.recode(data, reverse=not shared, errors=errors, keep_other=False)
        for w in caught:  # re-issued so that they point at the caller's line
            warnings.warn(w.message, w.category, stacklevel=2)
        if shared:
            lo, hi = next(iter(bounds))  # type: ignore[misc]
            return score_items(rec, keys, totals=totals, impute=impute, min=lo, max=hi)
        plain = {s: [k.lstrip("-") for k in its] for s, its in keys.items()}
        return score_items(rec, plain, totals=totals, impute=impute)

    def with_items(self, **changes: Mapping[str, Any]) -> Codebook:
        """Return a copy with some items' settings changed.

        Example: ``codebook.with_items(A1={"reverse": False})``.
        """
        items = []
        for it in self._items.values():
            if it.name in changes:
                items.append(replace(it, **dict(changes[it.name])))
            else:
                items.append(it)
        unknown = set(changes) - set(self._items)
        if unknown:
            raise ValueError(f"with_items: {sorted(unknown)} are not items of the codebook.")
        return Codebook(items, id=self.id, missing=self.missing, title=self.title)


def _fill_unlabelled(answers: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """Add the unlabelled whole numbers between labelled answers, labelled by their number.

    A scale labelled only at its ends (1 = "Strongly disagree", 5 = "Strongly agree") has the
    answers 2, 3 and 4 too; they are kept in numeric order, labelled "2", "3", "4". Codes whose
    label reads like a missing value are not used as ends, and spans over 100 are left alone.
    """
    ends = [c for c, lab in answers if not _MISSING_WORDS.search(lab) and float(c).is_integer()]
    if len(ends) < 2 or max(ends) - min(ends) > 100:
        return answers
    have = {c for c, _ in answers}
    used = {_norm(lab) for _, lab in answers}
    extra = [
        (float(v), str(v))
        for v in range(int(min(ends)) + 1, int(max(ends)))
        if float(v) not in have and _norm(str(v)) not in used
    ]
    return sorted(answers + extra)


def read_codebook(path: str | Path, *, encoding: str = "utf-8") -> Codebook:
    """Read a codebook file (``.toml`` or ``.csv``); see :class:`Codebook` for the layouts.

    ``encoding`` is the file's text encoding, as in :meth:`Codebook.read`.

    Examples
    --------
    >>> from toolkit.datasets import codebook_path
    >>> cb = read_codebook(codebook_path("bfi"))
    >>> cb.keys["agreeableness"]
    ['-A1', 'A2', 'A3', 'A4', 'A5']
    """
    return Codebook.read(path, encoding=encoding)


def _num(v: float) -> int | float:
    return int(v) if float(v).is_integer() else float(v)


def _toml_plain(v: Any) -> Any:
    """Missing codes as TOML values: ranges as arrays, numpy numbers as Python numbers."""
    if isinstance(v, list | tuple):
        return [_toml_plain(x) for x in v]
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        return int(v)  # numpy integers too
    if isinstance(v, numbers.Real):
        return float(v)
    return v
