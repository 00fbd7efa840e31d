"""Scale-out on Dask (``dask.distributed``): a client, a mapper for the search's blocks, and sweeps.

Optional: ``pip install 'muxsim[dask]'``.  Nothing here changes a number: the same
pure block functions run in-process or on workers and the merge is deterministic, so
a Dask run returns exactly the in-process result.

>>> from muxsim import scale  # doctest: +SKIP
>>> with scale.dask_client(workers=2) as client:  # a LocalCluster  # doctest: +SKIP
...     res = search.search(stats, [2, 3], mapper=scale.dask_mapper(client))
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Callable, Iterator, Sequence

from muxsim.errors import MuxsimError

log = logging.getLogger(__name__)

__all__ = ["dask_client", "dask_mapper", "local_mapper", "sweep"]


def _import():
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as e:
        raise MuxsimError(f"--scheduler/--workers need dask.distributed ({e}); install with pip install 'muxsim[dask]'") from None
    return Client, LocalCluster


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None, *, processes: bool = True,
                timeout: str = "10s") -> Iterator[Any]:
    """A ``dask.distributed.Client``: connected to ``scheduler`` (an address such as
    ``tcp://host:8786``), else to a new LocalCluster of ``workers`` single-threaded worker
    processes.  Closed (and the LocalCluster shut down) on exit; ``timeout`` bounds the wait for a scheduler."""
    Client, LocalCluster = _import()
    if scheduler is not None and workers is not None:
        raise MuxsimError(f"give --scheduler {scheduler!r} or --workers {workers}, not both "
                          "(an existing cluster has its own workers)")
    if scheduler is None:
        if workers is None:
            workers = 2
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise MuxsimError(f"workers={workers!r} must be an integer >= 1")
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes, dashboard_address=None)
        client = Client(cluster)
        log.info("LocalCluster with %d workers", workers)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
        return
    try:
        client = Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as e:
        raise MuxsimError(f"--scheduler {scheduler!r}: cannot connect ({e})") from None
    try:
        yield client
    finally:
        client.close()


def local_mapper(fn: Callable, shared: Any, args: Sequence[tuple]) -> list:
    """``[fn(shared, *a) for a in args]`` in this process."""
    return [fn(shared, *a) for a in args]


def dask_mapper(client) -> Callable[[Callable, Any, Sequence[tuple]], list]:
    """A mapper that sends ``shared`` to every worker once and runs ``fn(shared, *a)`` as one task per ``a``;
    results come back in the order of ``args``."""

    def mapper(fn: Callable, shared: Any, args: Sequence[tuple]) -> list:
        big = client.scatter(shared, broadcast=True, hash=False)  # a fresh key: never races a release of the last one
        futs = [client.submit(fn, big, *a, pure=False) for a in args]
        return client.gather(futs)

    return mapper


def _apply(fn: Callable, item: Any) -> Any:
    return fn(item)


def sweep(fn: Callable[[Any], Any], items: Sequence[Any], *, client=None) -> list:
    """``[fn(item) for item in items]``, one Dask task per item when a client is given (e.g. one search
    per data set, temperature or k); ``fn`` must be importable by the workers (a module-level function)."""
    items = list(items)
    if client is None:
        return [fn(x) for x in items]
    return client.gather([client.submit(_apply, fn, x, pure=False) for x in items])
