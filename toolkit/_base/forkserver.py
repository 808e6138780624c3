"""The fork server that a run's local workers are forked from, started as early as possible.

A run's local workers are forked from one server process (Python's ``forkserver`` start
method) that imports :data:`WORKER_PRELOAD` once, the last of which loads the compiled kernel
and matplotlib (:mod:`toolkit.study._forkserver`). That takes the server about 1.5 CPU-s. Left
to the workers' start, it begins only once the command line has imported the toolkit and
read the study, and the workers wait for it; :func:`start_early`, called by ``python -m
toolkit`` before anything heavy is imported, lets the server load while the command line
imports, reads the study and times its estimate, on the machine's other core.

The module imports nothing of the toolkit (a base service, layer 0): the preload names modules
as text, imported in the server only.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence

#: Modules the fork server imports before it forks a run's local worker processes, in order:
#: what their units and the analysis's tasks (batches of parts, the decomposition's chunks, the
#: figures of the chart layer) import.
WORKER_PRELOAD = (
    "toolkit.study.units",
    "toolkit.study.analysis",
    "pyarrow.parquet",
    "toolkit.charts.runs",
    "toolkit.charts.study",  # the drawing modules (toolkit.charts.runs.DRAWING_MODULES)
    "toolkit.charts.decomposition",
    "toolkit.study._forkserver",  # last: loads the kernel and matplotlib (a warm-up)
)
#: The same for the workers of a local Dask cluster (:func:`toolkit.study.executor.
#: local_cluster`, which a run no longer starts but a script may): Dask's own first.
DASK_WORKER_PRELOAD = ("distributed", "toolkit.study._dask_worker", *WORKER_PRELOAD)
#: Commands of ``python -m toolkit`` that start a local cluster when given ``--workers N > 1``.
COMMANDS = ("run", "robustness", "power")


def has_forkserver() -> bool:
    """Whether this platform offers the ``forkserver`` start method (not on Windows)."""
    return "forkserver" in multiprocessing.get_all_start_methods()


def local_workers(argv: Sequence[str]) -> int:
    """Return the local workers a command line asks for (``--workers N``), else 0.

    0 unless the command is one of :data:`COMMANDS`, ``--workers`` (or ``--workers=N``) is a
    whole number above 1, and no scheduler is given (``--scheduler`` or
    ``DASK_SCHEDULER_ADDRESS``: that cluster's own workers run the units).

    Examples
    --------
    >>> local_workers(["run", "study.toml", "--workers", "2"])
    2
    >>> local_workers(["run", "study.toml", "--workers=2", "--scheduler", "tcp://h:8786"])
    0
    >>> local_workers(["check", "study.toml", "--workers", "2"]), local_workers(["run", "x"])
    (0, 0)
    """
    args = list(argv)
    if not args or args[0] not in COMMANDS or os.environ.get("DASK_SCHEDULER_ADDRESS"):
        return 0
    value = None
    for i, arg in enumerate(args):
        if arg == "--scheduler" or arg.startswith("--scheduler="):
            return 0
        if arg == "--workers" and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--workers="):
            value = arg.split("=", 1)[1]
    try:
        n = int(value) if value is not None else 0
    except ValueError:
        return 0
    return n if n > 1 else 0


def preload(modules: Sequence[str] = WORKER_PRELOAD) -> bool:
    """Set what the fork server imports; False if it is already running (too late to change).

    Parameters
    ----------
    modules : sequence of str
        Module names, imported in the server in this order.
    """
    from multiprocessing import forkserver

    server = forkserver._forkserver  # the process-wide server that every forkserver context uses
    if getattr(server, "_forkserver_pid", None) is not None:
        return False
    multiprocessing.get_context("forkserver").set_forkserver_preload(list(modules))
    return True


def start_early(argv: Sequence[str]) -> bool:
    """Start the fork server now if the command line will start local workers.

    Returns whether it was started. Nothing changes for a command that starts no local
    workers, on a platform without a fork server, or when the server already runs.

    Parameters
    ----------
    argv : sequence of str
        The command line's arguments (``sys.argv[1:]``).
    """
    if not local_workers(argv) or not has_forkserver():
        return False
    if not preload():
        return False
    from multiprocessing import forkserver

    forkserver.ensure_running()
    return True
