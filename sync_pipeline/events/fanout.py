"""Fanout: one reader of the event stream routes each commit to many in-process subscribers.

Subscribers are indexed by the values they filter on (`where` key values, else `row`), so a
commit costs one index look-up per event and filter shape plus one check per delivered event,
never events x subscribers.
"""

import queue
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sync_pipeline.db.connect import Target
from sync_pipeline.errors import ConfigError
from sync_pipeline.events.model import ChangeEvent, Commit, Position
from sync_pipeline.events.route import Authorize, Route
from sync_pipeline.events.subscribe import Subscription, check_where

_MISSING = object()
Index = dict[tuple[str, ...], dict[tuple[Any, ...], list["Subscriber"]]]


class Subscriber:
    """One filtered view of a Fanout; `next(timeout)` gives its next Commit or None."""

    def __init__(self, fanout: "Fanout", route: Route) -> None:
        self.fanout, self.route = fanout, route
        self.commits: queue.SimpleQueue[Commit] = queue.SimpleQueue()

    def next(self, timeout: float | None = None) -> Commit | None:
        try:
            return self.commits.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self.fanout.remove(self)


def _lookup(values: Mapping[str, Any], by: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(values.get(c, _MISSING) for c in by)


def _at(subs: dict[tuple[Any, ...], list[Subscriber]], key: tuple[Any, ...]) -> list[Subscriber]:
    try:
        return subs.get(key, [])
    except TypeError:  # an unhashable value (a JSON key) equals no filter value
        return []


def _old(event: ChangeEvent, by: tuple[str, ...]) -> tuple[Any, ...]:
    """An update's key values before it (a row that moved out of scope is sent as a delete)."""
    return tuple(
        event.changes[c][0] if c in event.changes else event.keys.get(c, _MISSING) for c in by
    )


class Fanout:
    """Reads `tables` once (from `after`) and routes every commit to its subscribers."""

    def __init__(
        self,
        target: Target,
        tables: Sequence[str],
        *,
        after: Position | str | None = None,
        poll_interval: float = 1.0,
    ) -> None:
        self.source = Subscription(target, tables, after=after, poll_interval=poll_interval)
        self._lock = threading.Lock()
        self._all: list[Subscriber] = []
        self._where: Index = {}
        self._rows: Index = {}

    def subscribe(
        self,
        *,
        row: Mapping[str, Any] | None = None,
        where: Mapping[str, Any] | None = None,
        authorize: Authorize | None = None,
    ) -> Subscriber:
        """A subscriber with the filters of events.subscribe (row, where, authorize)."""
        with self.source.engine.connect() as conn:
            check_where(conn, self.source.tables, where)
        sub = Subscriber(self, Route(row, where, authorize))
        index, values = self._slot(sub)
        try:
            with self._lock:
                if index is None:
                    self._all.append(sub)
                else:
                    by = tuple(sorted(values))
                    index.setdefault(by, {}).setdefault(_lookup(values, by), []).append(sub)
        except TypeError:
            raise ConfigError(f"filter values must be hashable, got {dict(values)!r}") from None
        return sub

    def _slot(self, sub: Subscriber) -> tuple[Index | None, Mapping[str, Any]]:
        if sub.route.where:
            return self._where, sub.route.where
        if sub.route.row is not None:
            return self._rows, sub.route.row
        return None, {}

    def remove(self, sub: Subscriber) -> None:
        index, values = self._slot(sub)
        with self._lock:
            if index is None:
                self._all.remove(sub)
                return
            by = tuple(sorted(values))
            index[by][_lookup(values, by)].remove(sub)

    def pump(self, timeout: float | None = None) -> int:
        """Read the next commit and route it; the number of subscribers it reached."""
        commit = self.source.next(timeout)
        return 0 if commit is None else self.route(commit)

    def route(self, commit: Commit) -> int:
        """Put each subscriber's part of `commit` (if any) on its queue."""
        kept: dict[Subscriber, list[ChangeEvent]] = {}
        with self._lock:
            for event in commit.events:
                for sub in self._candidates(event):
                    routed = sub.route.event(event)
                    if routed is not None:
                        kept.setdefault(sub, []).append(routed)
        for sub, events in kept.items():
            tables = tuple(dict.fromkeys(e.table for e in events))
            sub.commits.put(replace(commit, events=tuple(events), tables=tables))
        return len(kept)

    def _candidates(self, event: ChangeEvent) -> list[Subscriber]:
        """The subscribers whose filter values this event has (before or after an update)."""
        found = list(self._all)
        for by, subs in self._where.items():
            new = _lookup(event.keys, by)
            found += _at(subs, new)
            old = _old(event, by) if event.effect == "updated" else new
            if old != new:
                found += _at(subs, old)
        for by, subs in self._rows.items():
            found += _at(subs, _lookup(event.pk, by))
        return found

    def close(self) -> None:
        self.source.close()
