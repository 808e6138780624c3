"""Learning regimes as explicit axes, with named presets, blends and multi-year schedules.

A regime is not a class hierarchy or a switch over four outcomes: it is a point in a small space
of axes that say *who decides* and *how the system adapts*:

- destination (goals): who chooses which domains a student spends time on (the system or the
  learner), and how the system tailors that choice (to deficits, or to strengths and interests);
  limits on core time are school policy (parameters ``core_floor``, ``core_ceiling``), the same
  for every regime;
- path (level and pace): how far the system adapts the level of work to its estimate of each
  group or student, who sets the level of independent work, and how many instructional groups
  the teacher's time is split between, and on what basis they are formed (every adaptation the
  system makes costs teacher time);
- peers: how peer networks form (random seating, sorted by estimated ability, by interest as the
  system sees it, or by interest as the learner knows it);
- scaffolding: how much teacher time is invested in building self-regulation.

The four presets place the regimes of the seed texts on these axes (see ``docs/odd.md`` for the
mapping to each seed). Because every axis is a number (or one of a few named bases), blends
(:func:`blend`) and transitions over school years (a list of regimes, one per year) are
expressible without new code.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from toolkit.model.params import ParameterError, suggest_name

__all__ = [
    "GROUPING_BASES",
    "PRESETS",
    "Regime",
    "blend",
    "regime_table",
    "resolve_regime",
]

GROUPING_BASES = ("random", "ability", "interest")


def _ax(default: Any, lo: float | None, hi: float | None, axis: str, doc: str) -> Any:
    return field(default=default, metadata={"lo": lo, "hi": hi, "axis": axis, "doc": doc})


@dataclass(frozen=True)
class Regime:
    """A learning regime: a point on the destination, path, peer and scaffolding axes.

    The defaults are the standardized regime. Use :data:`PRESETS` or :func:`resolve_regime` for
    the named regimes, :func:`blend` to mix two, and :meth:`replace` to move one axis.
    """

    name: str = "custom"
    # destination -------------------------------------------------------------------------------
    learner_goal_control: float = _ax(
        0.0,
        0.0,
        1.0,
        "destination",
        "Share of the decision on which domains to spend time that the learner makes (by "
        "interest, possibly outside the curriculum); the rest follows the system's plan.",
    )
    remediation: float = _ax(
        0.0,
        0.0,
        10.0,
        "destination",
        "How strongly the system moves time towards core domains where its estimate of the "
        "student is below the grade standard, and away from them where the student is ahead "
        "(deficit model). Log-weight per SD of the gap to the standard.",
    )
    strength_tailoring: float = _ax(
        0.0,
        0.0,
        10.0,
        "destination",
        "How strongly the system moves time towards the student's estimated relative strengths "
        "and interests (strength model, the 'vanity plate'). Log-weight per SD.",
    )
    # path --------------------------------------------------------------------------------------
    path_adaptation: float = _ax(
        0.0,
        0.0,
        1.0,
        "path",
        "How far the system sets the level of work from its estimate of each group or student "
        "(1) instead of one level for the whole class (0).",
    )
    practice_individualization: float = _ax(
        0.0,
        0.0,
        1.0,
        "path",
        "How far the level the system sets for a student's independent work follows the "
        "system's estimate of that student (1) rather than of the student's instructional group "
        "(0). Only matters where path_adaptation > 0; individually set levels cost teacher time "
        "(plan_cost).",
    )
    learner_path_control: float = _ax(
        0.0,
        0.0,
        1.0,
        "path",
        "Share of the level of independent work that the learner sets; its quality depends on "
        "self-regulation.",
    )
    n_groups: int = _ax(
        1,
        1,
        200,
        "path",
        "Instructional groups the teacher's direct-instruction time is split between (1 = whole "
        "class; equal to the class size = one-to-one).",
    )
    grouping: str = _ax(
        "random",
        None,
        None,
        "path",
        "Basis on which instructional groups are formed: 'random', 'ability' (the system's "
        "estimate of core skill) or 'interest' (strongest interest, as seen by whoever forms the "
        "groups, see peer_choice).",
    )
    # peers -------------------------------------------------------------------------------------
    peer_ability_homophily: float = _ax(
        0.0,
        0.0,
        50.0,
        "peers",
        "How strongly peer ties link students of similar estimated core skill (log-odds per SD "
        "of difference). 0 = no sorting.",
    )
    peer_interest_homophily: float = _ax(
        0.0,
        0.0,
        50.0,
        "peers",
        "How strongly peer ties link students with similar interest profiles (log-odds per unit "
        "of correlation). 0 = no sorting.",
    )
    peer_choice: float = _ax(
        0.0,
        0.0,
        1.0,
        "peers",
        "Whether learners form their own ties and interest groups from their real interests (1) "
        "or the system assigns them from its noisy interest profile (0).",
    )
    # scaffolding -------------------------------------------------------------------------------
    scaffolding: float = _ax(
        0.0,
        0.0,
        1.0,
        "scaffolding",
        "Share of teacher time spent coaching self-regulation instead of instructing. Builds "
        "self-regulation when students have autonomy.",
    )

    def __post_init__(self) -> None:
        self.validate()

    def validate(self, source: str = "Regime") -> None:
        """Check every axis; raise :class:`ParameterError` naming the axis and range."""
        for f in dataclasses.fields(self):
            if f.name == "name":
                if not isinstance(self.name, str):
                    raise ParameterError(f"{source}: regime 'name' must be text.")
                continue
            value = getattr(self, f.name)
            if f.name == "grouping":
                if value not in GROUPING_BASES:
                    raise ParameterError(
                        f"{source}: 'grouping' = {value!r} is not a grouping basis; expected one "
                        f"of {list(GROUPING_BASES)}.{suggest_name(str(value), GROUPING_BASES)}"
                    )
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ParameterError(f"{source}: '{f.name}' must be a number, got {value!r}.")
            if f.name == "n_groups":
                if not float(value).is_integer():
                    raise ParameterError(
                        f"{source}: 'n_groups' must be a whole number, got {value!r}."
                    )
                object.__setattr__(self, f.name, int(value))
            else:
                object.__setattr__(self, f.name, float(value))
            lo, hi = f.metadata["lo"], f.metadata["hi"]
            if not math.isfinite(value) or value < lo or value > hi:
                raise ParameterError(
                    f"{source}: '{f.name}' = {value!r} is out of range; expected a value in "
                    f"[{lo}, {hi}]."
                )

    @classmethod
    def axes(cls) -> list[str]:
        """Return the axis names (every field except ``name``)."""
        return [f.name for f in dataclasses.fields(cls) if f.name != "name"]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], source: str = "regime") -> Regime:
        """Build a regime from a mapping; ``base`` names a preset to start from.

        Parameters
        ----------
        values : mapping
            Axis values; an optional ``base`` key (a preset name) supplies the rest, otherwise
            the standardized defaults do. ``name`` labels the regime.
        source : str
            Where the mapping came from, for error messages.

        Returns
        -------
        Regime

        Examples
        --------
        >>> r = Regime.from_mapping({"base": "individualized", "n_groups": 5})
        >>> r.n_groups, r.path_adaptation
        (5, 1.0)
        """
        values = dict(values)
        base_name = values.pop("base", None)
        base = resolve_regime(base_name, source) if base_name is not None else Regime()
        valid = ["name", "base", *cls.axes()]
        for key in values:
            if key in _MOVED:
                raise ParameterError(f"{source}: '{key}' is no longer a regime axis: {_MOVED[key]}")
            if key not in valid:
                raise ParameterError(
                    f"{source}: unknown regime axis '{key}'.{suggest_name(key, valid)} "
                    "Run `python -m toolkit regimes` for the list."
                )
        merged = dataclasses.asdict(base) | values
        if "name" not in values:
            merged["name"] = f"{base.name}*" if base_name is not None else "custom"
        regime = cls.__new__(cls)
        for k, v in merged.items():
            object.__setattr__(regime, k, v)
        regime.validate(source)
        return regime

    def replace(self, **changes: Any) -> Regime:
        """Return a copy with some axes changed (validated; unknown names rejected)."""
        return Regime.from_mapping(dataclasses.asdict(self) | changes, source="Regime.replace")

    def to_dict(self) -> dict[str, Any]:
        """Return the regime as a plain dict."""
        return dataclasses.asdict(self)

    @property
    def autonomy(self) -> float:
        """Learner control, the mean of goal control and path control (0 to 1).

        It raises engagement, makes time on task and the level of work depend on the learner's
        self-regulation rather than on the system's supervision and estimates, and is what
        scaffolding acts on.
        """
        return 0.5 * (self.learner_goal_control + self.learner_path_control)


#: Former axes and where they went (for a clear error on old study files).
_MOVED = {
    "core_floor": "the floor on core time is now a school policy applied alike to every regime, "
    "the parameter 'core_floor' (with 'core_ceiling') in [parameters].",
}

PRESETS: dict[str, Regime] = {
    # Seeds 002, 001: one destination and one path for everyone, set by the system; a fixed class.
    "standardized": Regime(name="standardized"),
    # Seeds 000, 001, 003: the same standardized goal, but level and remediation adapted to each
    # learner from prior scores (deficit model); ability groups set by the system.
    "individualized": Regime(
        name="individualized",
        remediation=1.0,
        path_adaptation=1.0,
        practice_individualization=1.0,
        n_groups=3,
        grouping="ability",
        peer_ability_homophily=3.0,
    ),
    # Seeds 004, 002: goals and path tailored by the system from a profile of strengths and
    # interests, within the system's limits (the system still plans, from its own picture of the
    # learner); some voice on level; groups assigned by the system's interest profile.
    "personalized": Regime(
        name="personalized",
        strength_tailoring=1.0,
        path_adaptation=1.0,
        practice_individualization=1.0,
        learner_path_control=0.25,
        n_groups=3,
        grouping="interest",
        peer_interest_homophily=3.0,
    ),
    # Seeds 004, 001, 003, 000: the learner sets the destination and the path and chooses peers
    # by interest; teachers invest time in scaffolding self-regulation.
    "personal": Regime(
        name="personal",
        learner_goal_control=1.0,
        path_adaptation=1.0,
        practice_individualization=1.0,
        learner_path_control=1.0,
        n_groups=3,
        grouping="interest",
        peer_interest_homophily=3.0,
        peer_choice=1.0,
        scaffolding=0.15,
    ),
}

_BLEND = re.compile(r"^\s*blend\(\s*([\w-]+)\s*,\s*([\w-]+)\s*,\s*([0-9.eE+-]+)\s*\)\s*$")


def blend(a: Regime, b: Regime, weight: float, name: str | None = None) -> Regime:
    """Mix two regimes: ``(1 - weight) * a + weight * b`` on every numeric axis.

    Parameters
    ----------
    a, b : Regime
        The regimes to mix.
    weight : float
        Weight of ``b`` in [0, 1]; 0 returns ``a``'s axes and 1 returns ``b``'s.
    name : str, optional
        Label of the result; default ``"blend(a, b, weight)"``.

    Returns
    -------
    Regime
        Numeric axes are interpolated linearly; ``n_groups`` is rounded to the nearest whole
        number; the categorical ``grouping`` basis is taken from whichever regime has the larger
        weight (``a`` at exactly 0.5).

    Examples
    --------
    >>> r = blend(PRESETS["personalized"], PRESETS["personal"], 0.5)
    >>> r.learner_goal_control, r.scaffolding
    (0.5, 0.075)
    """
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1:
        raise ParameterError(f"blend: 'weight' must be a number in [0, 1], got {weight!r}.")
    values: dict[str, Any] = {"name": name or f"blend({a.name}, {b.name}, {weight:g})"}
    for axis in Regime.axes():
        va, vb = getattr(a, axis), getattr(b, axis)
        if axis == "grouping":
            values[axis] = vb if weight > 0.5 else va
        elif axis == "n_groups":
            values[axis] = round((1 - weight) * va + weight * vb)
        else:
            values[axis] = (1 - weight) * va + weight * vb
    return Regime(**values)


def resolve_regime(spec: str | Mapping[str, Any] | Regime, source: str = "regime") -> Regime:
    """Turn a preset name, ``"blend(a, b, w)"`` string, mapping or :class:`Regime` into a Regime.

    Parameters
    ----------
    spec : str, mapping or Regime
        ``"personal"``; ``"blend(personalized, personal, 0.5)"``; a mapping of axes with an
        optional ``base`` preset; or a Regime (returned unchanged).
    source : str
        Where the spec came from, for error messages.

    Returns
    -------
    Regime

    Raises
    ------
    ParameterError
        An unknown preset name (with the closest one), a malformed blend, or bad axes.

    Examples
    --------
    >>> resolve_regime("individualized").n_groups
    3
    """
    if isinstance(spec, Regime):
        return spec
    if isinstance(spec, Mapping):
        return Regime.from_mapping(spec, source)
    if not isinstance(spec, str):
        raise ParameterError(
            f"{source}: a regime must be a preset name, 'blend(a, b, w)' or a table of axes; "
            f"got {spec!r}."
        )
    if spec in PRESETS:
        return PRESETS[spec]
    m = _BLEND.match(spec)
    if m:
        a, b, w = m.group(1), m.group(2), m.group(3)
        try:
            weight = float(w)
        except ValueError:
            raise ParameterError(f"{source}: blend weight {w!r} is not a number.") from None
        return blend(resolve_regime(a, source), resolve_regime(b, source), weight, name=spec)
    raise ParameterError(
        f"{source}: unknown regime '{spec}'; expected one of {list(PRESETS)} or "
        f"'blend(a, b, w)'.{suggest_name(spec, list(PRESETS))}"
    )


def regime_table() -> pd.DataFrame:
    """Return the presets side by side: one row per axis, one column per preset.

    Returns
    -------
    pandas.DataFrame
        Index ``axis``; columns ``group``, ``description`` and one per preset.

    Examples
    --------
    >>> regime_table().loc["learner_goal_control", "personal"]
    1.0
    """
    rows = []
    for f in dataclasses.fields(Regime):
        if f.name == "name":
            continue
        row = {"axis": f.name, "group": f.metadata["axis"], "description": f.metadata["doc"]}
        for name, preset in PRESETS.items():
            row[name] = getattr(preset, f.name)
        rows.append(row)
    return pd.DataFrame(rows).set_index("axis")
