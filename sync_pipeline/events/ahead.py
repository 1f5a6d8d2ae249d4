"""Read-ahead: the next page of a large commit is read by the database while this one decodes.

After a full page, more events are probably waiting. Reading the next page takes the database
about as long as decoding this one takes Python, and the two can overlap: the query waits on
the socket without the GIL. At most one page is read ahead, on the subscription's connection,
which nothing else uses until that read is taken.
"""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from typing import Any

from sync_pipeline.events.model import Position
from sync_pipeline.events.read import Page


class ReadAhead:
    """At most one page being read in a worker thread, for the position it continues after."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._job: tuple[Position, Future[Page]] | None = None

    @property
    def pending(self) -> bool:
        """A read is under way (the connection is busy until it is taken)."""
        return self._job is not None

    def start(self, after: Position, read: Callable[..., Page], *args: Any) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-events-ahead")
        self._job = (after, self._pool.submit(read, *args))

    def take(self, after: Position) -> Page | None:
        """The page read ahead if it continues after `after` (errors of the read raise here);
        None when there is none (or it was read for another position)."""
        job, self._job = self._job, None
        if job is None:
            return None
        at, future = job
        page = future.result()
        return page if at == after else None

    def settle(self) -> None:
        """Wait until no read is under way (before the connection is closed); errors ignored."""
        job, self._job = self._job, None
        if job is not None:
            with suppress(Exception):  # the read's connection is being dropped anyway
                job[1].result()

    def close(self) -> None:
        self.settle()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
