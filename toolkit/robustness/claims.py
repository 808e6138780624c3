r"""Conclusions as data: claims over a study's summary, parsed, checked and evaluated per point.

A claim is a sentence a researcher would write down about the regimes, in a small grammar, e.g.
``"personalized - individualized > 0 on effect_size"``. Every claim is a conjunction of
*atoms*, each a linear statement about the arms' class means of one metric; evaluated on the
same classrooms in every arm, each atom has a per-classroom margin whose mean and paired
confidence interval come from the classrooms (the unit of replication).

Grammar (``ARM`` is an arm of the study, ``METRIC`` a summary metric, ``NUMBER`` a decimal)::

    claim      := statement ("and" statement)*
    statement  := difference | level | extreme | rank | only
    difference := ARM " - " ARM OP NUMBER "on" METRIC
    level      := ARM OP NUMBER "on" METRIC
    extreme    := ARM "has the" ("lowest" | "highest") METRIC ["among" ARM ("," ARM)*]
    rank       := "rank of" METRIC ":" ARM (">" ARM)+  |  "rank of" METRIC ":" ARM ("<" ARM)+
    only       := "only" ARM "is" ("below" | "above") ARM "on" METRIC
    OP         := ">" | ">=" | "<" | "<="

For example::

    personalized - individualized > 0 on effect_size
    personal > 0.05 on self_regulation_growth
    individualized has the lowest sd_score
    rank of mean_pairwise_distance: personalized > personal > standardized
    only individualized is below standardized on sd_score

The minus sign of a difference needs spaces around it (arm names may contain hyphens).

Atoms and margins. Writing :math:`\bar x_{a}` for arm :math:`a`'s mean over classrooms:

- a difference ``a - b > t`` is the atom :math:`\bar x_a - \bar x_b - t > 0`; ``<`` flips the
  sign, so the margin :math:`m` is always "positive when the statement holds";
- a level ``a > t`` is :math:`\bar x_a - t > 0`;
- ``>=`` and ``<=`` give the same margin as ``>`` and ``<`` but a *non-strict* atom: it holds
  when its margin is :math:`\ge 0`, so an exact tie counts as holding;
- ``a has the lowest M`` is one atom :math:`\bar x_o - \bar x_a > 0` per other arm :math:`o`
  (``highest``: :math:`\bar x_a - \bar x_o`); ``among`` restricts the others;
- ``rank of M: a > b > c`` is :math:`\bar x_a - \bar x_b > 0` and :math:`\bar x_b - \bar x_c > 0`;
- ``only a is below r on M`` is the strict atom :math:`\bar x_r - \bar x_a > 0` and, for every
  other arm :math:`o` (not ``a``, not ``r``), the non-strict atom :math:`\bar x_o - \bar x_r
  \ge 0`: ``a`` is the one arm below the reference ``r``, and the others are at least at
  ``r`` (an arm tied with ``r``, e.g. one that behaves like it in part of the space, does not
  make the claim fail); ``above`` mirrors it.

At one design point, atom :math:`j` has per-classroom margins :math:`m_{jc}` (classroom
:math:`c` is the same students in every arm: common random numbers), their mean
:math:`\bar m_j` and the paired 95% t interval :math:`[\ell_j, h_j] = \bar m_j \pm
t_{0.975, n-1}\, s_j/\sqrt n`. A strict atom *holds* when :math:`\bar m_j > 0`, is *decided
true* when :math:`\ell_j > 0` and *decided false* when :math:`h_j \le 0`; a non-strict one holds
when :math:`\bar m_j \ge 0`, is decided true when :math:`\ell_j \ge 0` and decided false when
:math:`h_j < 0`. (So an exact tie with no Monte Carlo spread, :math:`\ell_j = h_j = 0`, is
decided: false for ``>``, true for ``>=``.) The claim holds when every atom holds, is *decided
true* when every atom is, *decided false* when some atom is, and *undecided* otherwise (the
point's Monte Carlo error is too large to tell). Its margin is :math:`\min_j \bar m_j`, with
interval :math:`[\min_j \ell_j, \min_j h_j]` from the atoms' bounds. Atoms' intervals are not
adjusted for multiplicity. With a single replicate (a deterministic model) the interval is the
point itself.

Margins are in the metric's units; a claim that joins atoms on different metrics with ``and``
has a margin in mixed units (fine for whether it holds, less so for its sensitivity indices).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "Atom",
    "Claim",
    "ClaimError",
    "evaluate_claims",
    "parse_claim",
    "parse_claims",
]

_OPS = {">": 1, ">=": 1, "<": -1, "<=": -1}  # sign of the margin; "=" makes it non-strict
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_OP = r">=|<=|>|<"
_FORMS = (
    "ARM - ARM > NUMBER on METRIC",
    "ARM > NUMBER on METRIC",
    "ARM has the lowest|highest METRIC [among ARM, ARM]",
    "rank of METRIC: ARM > ARM > ...",
    "only ARM is below|above ARM on METRIC",
)
_RE = {
    "difference": re.compile(
        rf"^(?P<a>\S+)\s+-\s+(?P<b>\S+)\s*(?P<op>{_OP})\s*(?P<num>{_NUM})\s+on\s+(?P<metric>\S+)$"
    ),
    "level": re.compile(rf"^(?P<a>\S+)\s*(?P<op>{_OP})\s*(?P<num>{_NUM})\s+on\s+(?P<metric>\S+)$"),
    "extreme": re.compile(
        r"^(?P<a>\S+)\s+has\s+the\s+(?P<which>lowest|highest)\s+(?P<metric>\S+)"
        r"(?:\s+among\s+(?P<among>.+))?$"
    ),
    "rank": re.compile(r"^rank\s+of\s+(?P<metric>\S+)\s*:\s*(?P<chain>.+)$"),
    "only": re.compile(
        r"^only\s+(?P<a>\S+)\s+is\s+(?P<dir>below|above)\s+(?P<ref>\S+)\s+on\s+(?P<metric>\S+)$"
    ),
}


class ClaimError(ValueError):
    """A claim cannot be read, or names an arm or metric the study does not have."""


@dataclass(frozen=True)
class Atom:
    """One linear statement on a metric: its margin is above 0 (or, not strict, at least 0).

    The margin is ``sign * (sum_a weight_a * mean_a - threshold)``; a strict atom holds when it
    is ``> 0``, a non-strict one (``>=``, ``<=``) when it is ``>= 0``, so a tie holds.

    Attributes
    ----------
    weights : tuple of (arm, weight)
    metric : str
    threshold : float
    sign : {1, -1}
    strict : bool
        False for ``>=`` and ``<=`` (and the other arms of ``only``).
    """

    weights: tuple[tuple[str, float], ...]
    metric: str
    threshold: float = 0.0
    sign: int = 1
    strict: bool = True

    def text(self) -> str:
        """Return the atom as a readable inequality, e.g. ``"a - b > 0 on score"``."""
        terms = []
        for i, (arm, w) in enumerate(self.weights):
            sep = ("- " if w < 0 else "+ ") if i else ("-" if w < 0 else "")
            terms.append(f"{sep}{arm}")
        op = (">" if self.sign > 0 else "<") + ("" if self.strict else "=")
        return f"{' '.join(terms)} {op} {self.threshold:g} on {self.metric}"


@dataclass(frozen=True)
class Claim:
    """A parsed claim: its name, the text as written and its atoms (all must hold).

    Attributes
    ----------
    name : str
        Short label (charts, tables); the text itself unless the study names it.
    text : str
    atoms : tuple of Atom
    """

    name: str
    text: str
    atoms: tuple[Atom, ...]

    @property
    def metrics(self) -> list[str]:
        """Metrics the claim reads, in order of first use."""
        return list(dict.fromkeys(a.metric for a in self.atoms))

    @property
    def arms(self) -> list[str]:
        """Arms the claim reads, in order of first use."""
        return list(dict.fromkeys(arm for a in self.atoms for arm, _ in a.weights))


def _check(kind: str, name: str, valid: Sequence[str], where: str) -> str:
    from toolkit.model.params import suggest_name

    if name not in valid:
        raise ClaimError(
            f"{where}: unknown {kind} '{name}'.{suggest_name(name, list(valid))} "
            f"The {kind}s are: {', '.join(valid)}."
        )
    return name


def _statement(s: str, arms: Sequence[str], metrics: Sequence[str], where: str) -> list[Atom]:
    arm = lambda a: _check("arm", a, arms, where)  # noqa: E731
    metric = lambda m: _check("metric", m, metrics, where)  # noqa: E731
    if m := _RE["rank"].match(s):
        chain = m["chain"]
        ops = set(re.findall(r"[<>]", chain))
        if len(ops) != 1:
            raise ClaimError(
                f"{where}: a ranking uses one direction throughout ('a > b > c' or 'a < b < c'), "
                f"got {chain!r}."
            )
        names = [arm(a.strip()) for a in re.split(r"[<>]", chain)]
        if len(names) < 2 or len(set(names)) != len(names):
            raise ClaimError(f"{where}: a ranking needs two or more different arms, got {chain!r}.")
        sign = 1 if ops == {">"} else -1
        mt = metric(m["metric"])
        return [Atom(((a, 1.0), (b, -1.0)), mt, 0.0, sign) for a, b in itertools.pairwise(names)]
    if m := _RE["extreme"].match(s):
        a, mt = arm(m["a"]), metric(m["metric"])
        others = [arm(o.strip()) for o in m["among"].split(",")] if m["among"] else list(arms)
        others = [o for o in others if o != a]
        if not others:
            raise ClaimError(f"{where}: '{a}' has no other arm to be compared with.")
        sign = 1 if m["which"] == "highest" else -1
        return [Atom(((a, 1.0), (o, -1.0)), mt, 0.0, sign) for o in others]
    if m := _RE["only"].match(s):
        a, ref, mt = arm(m["a"]), arm(m["ref"]), metric(m["metric"])
        if a == ref:
            raise ClaimError(
                f"{where}: 'only {a} is {m['dir']} {ref}' compares an arm with itself."
            )
        sign = -1 if m["dir"] == "below" else 1
        atoms = [Atom(((a, 1.0), (ref, -1.0)), mt, 0.0, sign)]
        for o in arms:  # the others are at least at the reference: a tie does not break it
            if o not in (a, ref):
                atoms.append(Atom(((o, 1.0), (ref, -1.0)), mt, 0.0, -sign, strict=False))
        return atoms
    if m := _RE["difference"].match(s):
        a, b = arm(m["a"]), arm(m["b"])
        if a == b:
            raise ClaimError(f"{where}: '{a} - {b}' is an arm minus itself.")
        op = m["op"]
        return [
            Atom(((a, 1.0), (b, -1.0)), metric(m["metric"]), float(m["num"]), _OPS[op],
                 strict="=" not in op)
        ]  # fmt: skip
    if m := _RE["level"].match(s):
        op = m["op"]
        return [
            Atom(((arm(m["a"]), 1.0),), metric(m["metric"]), float(m["num"]), _OPS[op],
                 strict="=" not in op)
        ]  # fmt: skip
    raise ClaimError(
        f"{where}: cannot read {s!r}. A claim is one or more statements joined by 'and', each "
        "of the form: " + "; ".join(f"'{f}'" for f in _FORMS) + " (see toolkit.robustness.claims)."
    )


def parse_claim(
    text: str,
    arms: Sequence[str],
    metrics: Sequence[str],
    *,
    name: str | None = None,
    where: str = "claim",
) -> Claim:
    """Parse one claim and check its arms and metrics.

    Parameters
    ----------
    text : str
        The claim (see the module's grammar).
    arms : sequence of str
        The study's arms.
    metrics : sequence of str
        Metrics the study's summary has.
    name : str, optional
        Short label; default the text.
    where : str
        Prefix for error messages (file and table).

    Returns
    -------
    Claim

    Raises
    ------
    ClaimError
        Naming the claim and the unknown arm or metric (with the closest valid name), or the
        forms a claim can take.

    Examples
    --------
    >>> c = parse_claim("rank of score: a > b > c", ["a", "b", "c"], ["score"])
    >>> [atom.text() for atom in c.atoms]
    ['a - b > 0 on score', 'b - c > 0 on score']
    >>> parse_claim("a - d > 0 on score", ["a", "b"], ["score"])
    Traceback (most recent call last):
    ...
    toolkit.robustness.claims.ClaimError: claim 'a - d > 0 on score': unknown arm 'd'. ...
    """
    if not isinstance(text, str) or not text.strip():
        raise ClaimError(f"{where}: a claim must be a non-empty string, got {text!r}.")
    text = " ".join(text.split())
    w = f"{where} {text!r}"
    atoms: list[Atom] = []
    for part in re.split(r"\s+and\s+", text):
        atoms += _statement(part.strip(), arms, metrics, w)
    return Claim(name=name or text, text=text, atoms=tuple(atoms))


def parse_claims(
    items: Sequence[str | Mapping[str, str]],
    arms: Sequence[str],
    metrics: Sequence[str],
    where: str = "claims",
) -> list[Claim]:
    """Parse a study's list of claims: strings, or tables ``{name = "...", claim = "..."}``.

    Raises
    ------
    ClaimError
        For an entry that is neither, a duplicate name, or any error of :func:`parse_claim`.
    """
    if isinstance(items, str) or not isinstance(items, Sequence):
        raise ClaimError(f"{where}: expected a list of claims, got {items!r}.")
    out: list[Claim] = []
    for i, item in enumerate(items):
        w = f"{where}[{i}]"
        if isinstance(item, str):
            out.append(parse_claim(item, arms, metrics, where=w))
        elif isinstance(item, Mapping):
            extra = set(item) - {"name", "claim"}
            if "claim" not in item or extra:
                raise ClaimError(
                    f"{w}: a claim table has keys 'claim' (the statement) and optionally "
                    f"'name'; got {sorted(item)}."
                )
            out.append(parse_claim(item["claim"], arms, metrics, name=item.get("name"), where=w))
        else:
            raise ClaimError(f"{w}: expected a string or a table with 'claim', got {item!r}.")
    names = [c.name for c in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ClaimError(f"{where}: two claims share the name {dup[0]!r}; give them names.")
    return out


def _atom_margins(
    atom: Atom, cube: Mapping[str, np.ndarray], arms: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean margin and 95% interval per point of one atom; ``cube[metric]`` is (P, A, R)."""
    x = cube[atom.metric]
    idx = {a: i for i, a in enumerate(arms)}
    per = sum(w * x[:, idx[a], :] for a, w in atom.weights)
    per = atom.sign * (per - atom.threshold)  # (P, R)
    n = np.sum(np.isfinite(per), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.nansum(per, axis=1)
        mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
        dev = np.where(np.isfinite(per), per - mean[:, None], 0.0)
        sd = np.sqrt(np.sum(dev**2, axis=1) / np.maximum(n - 1, 1))
        half = np.where(n > 1, stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n), 0.0)
    return mean, mean - half, mean + half


def _check_cube(
    claims: Sequence[Claim], cube: Mapping[str, np.ndarray], arms: Sequence[str]
) -> None:
    """Raise a :class:`ClaimError` naming what the claims need and the cube lacks."""
    have = sorted(cube)
    for c in claims:
        gone = [m for m in c.metrics if m not in cube]
        if gone:
            raise ClaimError(
                f"claim {c.name!r} reads the metric {gone[0]!r}, which the results do not have; "
                f"they have: {', '.join(have) if have else 'no metrics at all'}."
            )
        lost = [a for a in c.arms if a not in arms]
        if lost:
            raise ClaimError(
                f"claim {c.name!r} reads the arm {lost[0]!r}, which the results do not have; "
                f"they have: {', '.join(arms) if len(arms) else 'no arms at all'}."
            )
    for m in dict.fromkeys(m for c in claims for m in c.metrics):
        x = np.asarray(cube[m])
        if x.ndim != 3 or x.shape[1] != len(arms):
            raise ClaimError(
                f"metric {m!r}: expected an array (points, {len(arms)} arms, classrooms), got "
                f"shape {x.shape}."
            )
        if x.shape[0] == 0 or x.shape[2] == 0:
            raise ClaimError(
                f"metric {m!r}: the results are empty ({x.shape[0]} points, {x.shape[2]} "
                "classrooms); there is nothing to evaluate the claims on."
            )


def evaluate_claims(
    claims: Sequence[Claim], cube: Mapping[str, np.ndarray], arms: Sequence[str]
) -> dict[str, dict[str, np.ndarray]]:
    """Evaluate claims at every design point from per-classroom metrics.

    Parameters
    ----------
    claims : sequence of Claim
    cube : mapping of str to numpy.ndarray
        Metric name to an array of shape ``(points, arms, classrooms)``: the class mean of the
        metric in each arm and classroom (the same classrooms in every arm).
    arms : sequence of str
        The arms, in the order of the cube's second axis.

    Returns
    -------
    dict
        Claim name to ``{"margin", "ci_low", "ci_high", "holds", "decided"}``, arrays over
        points; ``holds`` is whether every atom holds at its point estimate (``>=`` and ``<=``
        atoms hold on a tie); ``decided`` is ``"holds"``, ``"fails"`` or ``"undecided"`` (see
        the module notes).

    Raises
    ------
    ClaimError
        When a claim reads a metric or arm the cube does not have (naming the ones it has), or
        the cube has no points or no classrooms.

    Examples
    --------
    >>> cube = {"m": np.array([[[0.0, 0.1, -0.1], [1.0, 1.1, 0.9]]])}  # 1 point, 2 arms, 3 rooms
    >>> c = parse_claim("b - a > 0 on m", ["a", "b"], ["m"])
    >>> r = evaluate_claims([c], cube, ["a", "b"])[c.name]
    >>> float(r["margin"][0]), bool(r["holds"][0]), str(r["decided"][0])
    (1.0, True, 'holds')
    >>> tie = {"m": np.ones((1, 2, 3))}  # b equals a in every classroom
    >>> [str(evaluate_claims([parse_claim(f"b - a {op} 0 on m", ["a", "b"], ["m"])], tie,
    ...      ["a", "b"])[f"b - a {op} 0 on m"]["decided"][0]) for op in (">", ">=")]
    ['fails', 'holds']
    """
    _check_cube(claims, cube, arms)
    out = {}
    for c in claims:
        parts = [_atom_margins(a, cube, arms) for a in c.atoms]
        margin = np.min([p[0] for p in parts], axis=0)
        low = np.min([p[1] for p in parts], axis=0)
        high = np.min([p[2] for p in parts], axis=0)
        strict = np.array([a.strict for a in c.atoms])[:, None]
        means, lows, highs = (np.array([p[i] for p in parts]) for i in range(3))  # (atoms, P)
        with np.errstate(invalid="ignore"):
            holds = np.all(np.where(strict, means > 0, means >= 0), axis=0)
            true = np.all(np.where(strict, lows > 0, lows >= 0), axis=0)
            false = np.any(np.where(strict, highs <= 0, highs < 0), axis=0)
        decided = np.where(true, "holds", np.where(false, "fails", "undecided"))
        decided = np.where(np.isnan(margin), "undecided", decided)
        out[c.name] = {
            "margin": margin,
            "ci_low": low,
            "ci_high": high,
            "holds": holds & ~np.isnan(margin),
            "decided": decided,
        }
    return out
