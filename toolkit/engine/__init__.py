"""Vectorized engine: many classrooms at once on arrays, docked against the Mesa model."""

from toolkit.engine.fast import simulate_arms, simulate_batch

__all__ = ["simulate_arms", "simulate_batch"]
