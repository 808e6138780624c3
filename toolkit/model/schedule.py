"""Regimes per school year and seeds: what every engine needs before it simulates a year.

Kept apart from the Mesa model (:mod:`toolkit.model.model`), which imports Mesa and networkx,
so that the vectorized engine, the study runner and the command line start without them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from toolkit.model.params import ParameterError
from toolkit.model.regimes import Regime, resolve_regime

__all__ = ["RegimeSpec", "as_seed_sequence", "resolve_schedule"]

RegimeSpec = str | Mapping[str, Any] | Regime


def as_seed_sequence(rng: int | np.random.SeedSequence | None) -> np.random.SeedSequence:
    """Normalise a seed to a :class:`numpy.random.SeedSequence`.

    ``None`` draws fresh entropy from the operating system (not reproducible; the entropy is
    kept in the returned sequence, so ``model.seed.entropy`` can be recorded to reproduce it).
    """
    if rng is None:
        return np.random.SeedSequence()
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, bool) or not isinstance(rng, int | np.integer) or rng < 0:
        raise ParameterError(
            f"rng: expected a non-negative integer seed or a numpy SeedSequence, got {rng!r}."
        )
    return np.random.SeedSequence(int(rng))


def resolve_schedule(
    regime: RegimeSpec | Sequence[RegimeSpec], n_years: int | None, source: str = "regime"
) -> list[Regime]:
    """Turn one regime or a per-year list into a list of :class:`Regime`, one per year.

    A single regime is repeated for ``n_years`` (default 1). A list gives one regime per year;
    if ``n_years`` is longer, the last regime continues.
    """
    if isinstance(regime, str | Mapping | Regime):
        regimes = [resolve_regime(regime, source)]
    else:
        specs = list(regime)
        if not specs:
            raise ParameterError(f"{source}: the list of regimes per year is empty.")
        regimes = [resolve_regime(s, f"{source} (year {i + 1})") for i, s in enumerate(specs)]
    years = len(regimes) if n_years is None else n_years
    if isinstance(years, bool) or not isinstance(years, int) or years < 1:
        raise ParameterError(f"{source}: 'n_years' must be a whole number >= 1, got {n_years!r}.")
    return [regimes[min(y, len(regimes) - 1)] for y in range(years)]
