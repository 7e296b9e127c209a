"""Worker threads that never hold up the end of the process.

``concurrent.futures`` joins its workers when the interpreter exits, so after Ctrl-C or an
error warmbuild would sit there until every request in flight had finished or timed out.
These workers are daemon threads: work nobody waits for any more ends with the process.
They only run work whose results land atomically (downloads, index and metadata reads), so
being cut off leaves at most a temporary file, which ``cache prune`` removes.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
K = TypeVar("K")


class KeyedLocks(Generic[K]):
    """One lock per key, made on first use: work on one key (a project page, a metadata
    file, a download) is done once while threads asking for other keys go on."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[K, threading.Lock] = {}

    def __call__(self, key: K) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


class DaemonPool:
    """Up to ``workers`` daemon threads, started as work arrives."""

    def __init__(self, workers: int, name: str) -> None:
        self._workers = workers
        self._name = name
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue())
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("pool is closed")
            self._queue.put((future, fn))
            if len(self._threads) < self._workers:
                thread = threading.Thread(target=self._work, daemon=True,
                                          name=f"{self._name}-{len(self._threads)}")
                self._threads.append(thread)
                thread.start()
        return future

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            future, fn = item
            if self._closed:
                future.cancel()
                continue
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)

    def close(self) -> None:
        """Take no more work and drop what has not started; running work is not waited for."""
        with self._lock:
            self._closed = True
            for _ in self._threads:
                self._queue.put(None)


def map_in_threads(fn: Callable[[T], R], items: Iterable[T], *, workers: int,
                   name: str) -> list[R]:
    """``[fn(x) for x in items]`` in threads, in order; the first error is raised at once."""
    pool = DaemonPool(workers, name)
    try:
        futures: Sequence[Future[R]] = [pool.submit(functools.partial(fn, item))
                                        for item in items]
        return [f.result() for f in futures]
    finally:
        pool.close()
