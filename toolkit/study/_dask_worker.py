"""Set-up of each worker of the local Dask cluster that the study runner starts (a preload).

The terminal's Ctrl-C goes to every process of the foreground job: the runner (the client)
handles it, says what was kept and how to continue; the workers must not print tracebacks of
their own, including workers the cluster restarts after one died.
"""

from __future__ import annotations

import signal
import threading
from typing import Any


def dask_setup(worker: Any) -> None:
    """Ignore SIGINT in this worker process (called by Dask when the worker starts)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
