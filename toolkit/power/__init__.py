"""Power analysis (in progress)."""
