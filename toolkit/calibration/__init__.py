"""Calibration (in progress)."""
