"""One database reader per app: the SSE clients of the same tables share one Fanout.

A client joins the Fanout's live stream, then catches up from its own cursor with plain reads
and drops what the live stream repeats (by event position), so a resumed client misses nothing
and sees nothing twice. The Fanout is pumped by one thread, started with its first client and
stopped (its connection closed) when its last client leaves.
"""

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

import sqlalchemy as sa

from sync_pipeline.events.fanout import Fanout, Subscriber
from sync_pipeline.events.model import Commit, Position
from sync_pipeline.events.read import head, read
from sync_pipeline.events.route import Route

log = logging.getLogger(__name__)


class Pumped:
    """A Fanout from the stream's current head and the thread that reads and routes for it."""

    def __init__(self, bind: sa.Engine, tables: Sequence[str], poll_interval: float) -> None:
        with bind.connect() as conn:
            start = head(conn)
        self.fanout = Fanout(bind, tables, after=start, poll_interval=poll_interval)
        self.clients = 0
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sync-events-fanout", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self.fanout.pump(self.poll_interval)
                except Exception:  # one failed read must not end every client's stream
                    log.exception("reading the event stream failed; retrying")
                    self._stop.wait(self.poll_interval)
        finally:  # the Subscription is used by this thread only, so it closes it too
            self.fanout.close()

    def stop(self) -> None:
        self._stop.set()


class SharedEvents:
    """The app's Fanouts, one per set of tables, counted by their connected clients."""

    def __init__(self, bind: sa.Engine, poll_interval: float) -> None:
        self.bind, self.poll_interval = bind, poll_interval
        self._lock = threading.Lock()
        self._pumped: dict[tuple[str, ...], Pumped] = {}

    @contextmanager
    def fanout(self, tables: Sequence[str]) -> Iterator[Fanout]:
        """The shared Fanout of `tables` for one client, for as long as it is connected."""
        key = tuple(sorted(set(tables)))
        with self._lock:
            pumped = self._pumped.get(key)
            if pumped is None:
                pumped = self._pumped[key] = Pumped(self.bind, key, self.poll_interval)
            pumped.clients += 1
        try:
            yield pumped.fanout
        finally:
            with self._lock:
                pumped.clients -= 1
                if pumped.clients == 0:
                    del self._pumped[key]
                    pumped.stop()


def after(commit: Commit, seen: Position) -> Commit | None:
    """`commit` without the events at or before `seen` (already delivered), or None."""
    kept = tuple(e for e in commit.events if e.position > seen)
    if not kept:
        return None
    if len(kept) == len(commit.events):
        return commit
    return replace(commit, events=kept, tables=tuple(dict.fromkeys(e.table for e in kept)))


def live(sub: Subscriber, seen: Position, timeout: float) -> tuple[Commit | None, Position]:
    """The subscriber's next commit not yet delivered (None after `timeout`), and the new mark."""
    commit = sub.next(timeout)
    fresh = None if commit is None else after(commit, seen)
    return fresh, seen if fresh is None else max(seen, fresh.position)


class Client:
    """One SSE client: history from its cursor by plain reads, then its share of the Fanout."""

    PAGE = 1000  # events per catch-up read

    def __init__(
        self,
        shared: SharedEvents,
        tables: Sequence[str],
        after_: Position,
        route: Route,
    ) -> None:
        self.shared, self.tables, self.seen, self.route = shared, list(tables), after_, route
        self.caught_up = False
        self._joined = shared.fanout(self.tables)
        self._entered = False
        self._sub: Subscriber | None = None

    def open(self) -> list[Commit]:
        """Join the live stream (ConfigError for a bad filter), then read the first history
        page (CursorTooOld for a pruned cursor); the client must be closed either way."""
        fanout = self._joined.__enter__()
        self._entered = True
        r = self.route
        self._sub = fanout.subscribe(row=r.row, where=r.where, authorize=r.authorize)
        return self.history() or []

    def history(self) -> list[Commit] | None:
        """The next page of commits up to the live stream's start; None once caught up."""
        if self.caught_up:
            return None
        raw = read(self.shared.bind, after=self.seen, tables=self.tables, limit=self.PAGE)
        self.caught_up = sum(len(c.events) for c in raw) < self.PAGE
        if raw:
            self.seen = max(self.seen, raw[-1].position)
        return [c for c in map(self.route.commit, raw) if c.events]

    def live(self, timeout: float) -> Commit | None:
        """The next live commit not delivered yet, or None after `timeout` seconds."""
        assert self._sub is not None, "open() first"
        commit, self.seen = live(self._sub, self.seen, timeout)
        return commit

    def close(self) -> None:
        if self._sub is not None:
            self._sub.close()
            self._sub = None
        if self._entered:
            self._entered = False
            self._joined.__exit__(None, None, None)
