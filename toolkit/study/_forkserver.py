"""What the fork server of a run's local cluster loads before it forks the workers (a preload).

A local cluster's workers are forked from one server process (Python's ``forkserver`` start
method, :data:`toolkit.study.executor.LOCAL_CLUSTER_CONFIG`). That server imports the modules
of :data:`toolkit._base.forkserver.WORKER_PRELOAD` once; importing this module, the last of them,
also loads the compiled school-day kernels (from numba's cache, or compiling them there once) and
matplotlib, which every worker would otherwise load for itself before its first unit and its
first figure: with it a worker's start and first unit take 0.16 CPU-s, against 0.7 to 0.9
forked without it and 2.2 to 2.5 spawned (``benchmarks/bench_end_to_end.py start``). Nothing
here changes a number: the warm-up runs a two-student classroom for two days and draws a small
figure, and throws both away. What it loaded is then frozen for the garbage collector.

The server ignores Ctrl-C (Python's fork server does) and its workers ignore it too
(:mod:`toolkit.study._dask_worker`): the client handles it.
"""

from __future__ import annotations

import contextlib
import gc


def warm_up() -> None:
    """Load the compiled kernels and matplotlib in this process (tiny simulations, discarded)."""
    from toolkit.engine import fast

    fast.warm_up(("fast", "exact"))  # a study's default kernel, and the exact one
    import io

    from matplotlib.figure import Figure

    # a first figure loads the fonts and the text layout's caches (per process)
    fig = Figure(figsize=(2, 2))
    fig.add_subplot().set_title("warm-up $x$")
    fig.savefig(io.BytesIO(), format="png")


# A failure here must not stop the cluster: the workers would then load all this themselves.
with contextlib.suppress(Exception):
    warm_up()
# Everything loaded so far lives as long as the workers: frozen (:func:`gc.freeze`), the
# workers' garbage collections no longer walk its quarter of a million objects (a worker drawing
# the headline's figures spent 0.10 CPU-s collecting, 0.02 with it), nor touch their pages,
# which the workers then keep sharing with the server.
gc.freeze()
