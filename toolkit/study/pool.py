"""Where the analysis of a run does its work: in this process, or on the run's Dask workers.

The analysis of a run (:func:`toolkit.study.analysis.analyse_run`) is written as tasks: the
decomposition's chunks of classrooms, the study-wide statistics' values and each classroom's
excellence and outcomes by prior quintile from a batch of parts, and each figure. A pool runs
them. :class:`SerialPool` runs each task in this process when its result is asked for (the
order and the numbers of a serial run); :class:`ProcessPool` submits them to the run's local
worker processes and :class:`DaskPool` to the workers of its Dask cluster, which have just run
its units and see its folder, so that the analysis runs where the parts are, on every worker
at once, and this process only combines the results. The numbers are the same either way:
every task is a pure function of its arguments and the parts, and results are combined in the
order of the tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

__all__ = ["DaskPool", "Pool", "ProcessPool", "SerialPool", "Task"]


class Task(Protocol):
    """What :meth:`Pool.submit` returns: the task's result, when asked for."""

    def result(self) -> Any:
        """Return the task's value, waiting for it (or raise the error it raised)."""
        ...


class Pool(Protocol):
    """Runs the tasks of an analysis (see the module's documentation)."""

    #: Whether the pool's processes see the run folder (they read parts and write figures).
    sees_folder: bool
    #: How many tasks run at once (the analysis cuts its passes into at least twice as many).
    threads: int

    def submit(self, fn: Callable[..., Any], *args: Any, priority: int = 0) -> Task:
        """Submit ``fn(*args)``; tasks of higher ``priority`` go first where that means anything."""
        ...

    def map(self, fn: Callable[..., Any], items: Iterable[Any], *args: Any) -> Iterator[Any]:
        """Yield ``fn(item, *args)`` for each item, in the order of the items."""
        ...

    def warm(self, module: str) -> None:
        """Import ``module`` where the tasks run, when nothing else is waiting there."""
        ...


class _Deferred:
    """A task of :class:`SerialPool`: run in this process the first time its result is asked."""

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self._fn, self._args, self._done, self._value = fn, args, False, None

    def result(self) -> Any:
        if not self._done:
            self._value = self._fn(*self._args)
            self._done, self._fn, self._args = True, None, ()
        return self._value


class SerialPool:
    """Every task in this process, when its result is asked for (a serial run's analysis)."""

    sees_folder = True
    threads = 1

    def submit(self, fn: Callable[..., Any], *args: Any, priority: int = 0) -> _Deferred:
        """Return the task, to be run when its result is asked for (``priority`` is unused)."""
        return _Deferred(fn, args)

    def map(self, fn: Callable[..., Any], items: Iterable[Any], *args: Any) -> Iterator[Any]:
        """Yield ``fn(item, *args)`` for each item, in order, one at a time."""
        for item in items:
            yield fn(item, *args)

    def warm(self, module: str) -> None:
        """Do nothing: this process imports what a task needs when the task runs."""


class DaskPool:
    """The tasks on the workers of a Dask client (a run's cluster).

    Parameters
    ----------
    client : distributed.Client
    sees_folder : bool
        Whether every worker sees the run folder (:meth:`toolkit.study.executor._DaskExecutor.
        offer_folder` found so); tasks that read parts or write figures run here only then.
    in_flight : int, optional
        Tasks of a :meth:`map` submitted ahead of the one whose result is awaited (default
        twice the workers' threads): bounds what waits in memory.
    """

    def __init__(self, client: Any, sees_folder: bool, in_flight: int | None = None) -> None:
        self.client = client
        self.sees_folder = sees_folder
        self.threads = max(1, sum(client.nthreads().values()))
        self.in_flight = in_flight or 2 * self.threads
        self._warming: list[Any] = []  # held, so that the scheduler keeps them

    def submit(self, fn: Callable[..., Any], *args: Any, priority: int = 0) -> Any:
        """Submit ``fn(*args)`` (a Dask future; tasks of higher ``priority`` go first)."""
        return self.client.submit(fn, *args, pure=False, priority=priority)

    def warm(self, module: str) -> None:
        """Import ``module`` on every worker, after every task of higher priority there.

        Tasks of the lowest priority, one per worker: a worker imports the module (the chart
        layer, say) when it has nothing else to do, at the end of the units, instead of in
        the first task that needs it.
        """
        import importlib

        for address in self.client.scheduler_info().get("workers", {}):
            self._warming.append(
                self.client.submit(
                    importlib.import_module,
                    module,
                    workers=[address],
                    allow_other_workers=False,
                    pure=False,
                    priority=-100,
                )
            )

    def map(self, fn: Callable[..., Any], items: Iterable[Any], *args: Any) -> Iterator[Any]:
        """Yield ``fn(item, *args)`` for each item in order, computed on the workers."""

        def take(future: Any) -> Any:
            value = future.result()
            future.release()
            return value

        return _bounded_map(self, fn, items, args, take, self.client.cancel)


class _Retried:
    """A task of :class:`ProcessPool`: submitted again if a worker's death broke the pool."""

    def __init__(self, pool: ProcessPool, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self._pool, self._fn, self._args = pool, fn, args
        self._submit()

    def _submit(self) -> None:
        self._on = self._pool.executor.pool  # the process pool it went to
        self._future = self._on.submit(self._fn, *self._args)

    def result(self) -> Any:
        from concurrent.futures.process import BrokenProcessPool

        for attempt in range(1, self._pool.attempts + 1):
            try:
                return self._future.result()
            except BrokenProcessPool:
                if attempt == self._pool.attempts:
                    raise
                self._pool.executor.restart(self._on)  # unless another task did already
                self._submit()
        raise AssertionError("unreachable")

    def cancel(self) -> None:
        self._future.cancel()


class ProcessPool:
    """The tasks on a run's local worker processes (:class:`toolkit.study.executor._LocalExecutor`).

    Tasks run in the order they are submitted (the decomposition's chunks, submitted before
    the units, go first). A task whose worker died is submitted again to a new pool, up to
    ``attempts`` times.

    Parameters
    ----------
    executor : toolkit.study.executor._LocalExecutor
        Its ``pool`` (a ``concurrent.futures.ProcessPoolExecutor``) runs the tasks.
    attempts : int
        Times a task may be in flight on a pool that broke (the executor's
        :data:`~toolkit.study.executor.LOCAL_ATTEMPTS`, as for its units).
    in_flight : int, optional
        Tasks of a :meth:`map` submitted ahead of the one whose result is awaited (default
        twice the workers).
    """

    sees_folder = True

    def __init__(self, executor: Any, attempts: int, in_flight: int | None = None) -> None:
        self.executor = executor
        self.threads = max(1, int(executor.workers))
        self.in_flight = in_flight or 2 * self.threads
        self.attempts = attempts

    def submit(self, fn: Callable[..., Any], *args: Any, priority: int = 0) -> _Retried:
        """Submit ``fn(*args)`` (``priority`` is unused: tasks run in the order submitted)."""
        return _Retried(self, fn, args)

    def warm(self, module: str) -> None:
        """Do nothing: the fork server imported the chart layer before it forked the workers."""

    def map(self, fn: Callable[..., Any], items: Iterable[Any], *args: Any) -> Iterator[Any]:
        """Yield ``fn(item, *args)`` for each item in order, computed on the workers."""

        def cancel(tasks: list[_Retried]) -> None:
            for task in tasks:
                task.cancel()

        return _bounded_map(self, fn, items, args, lambda task: task.result(), cancel)


def _bounded_map(
    pool: Any,
    fn: Callable[..., Any],
    items: Iterable[Any],
    args: tuple[Any, ...],
    take: Callable[[Any], Any],
    cancel: Callable[[list[Any]], Any],
) -> Iterator[Any]:
    """Yield ``take(task)`` of ``pool.submit(fn, item, *args)`` for each item, in order.

    At most ``pool.in_flight`` tasks are submitted ahead of the one awaited; those left when
    the caller stops early are given to ``cancel``.
    """
    pending: list[Any] = []
    items = iter(items)
    for item in items:
        pending.append(pool.submit(fn, item, *args))
        if len(pending) >= pool.in_flight:
            break
    try:
        while pending:
            value = take(pending.pop(0))
            for item in items:  # the next item, if any
                pending.append(pool.submit(fn, item, *args))
                break
            yield value
    finally:
        if pending:
            cancel(pending)
