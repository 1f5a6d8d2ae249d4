"""What one subscriber may see of an event: row and key filters, move-outs, authorization."""

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from sync_pipeline.events.model import ChangeEvent, Commit

_MISSING = object()
Authorize = Callable[[ChangeEvent], Any]


class Route:
    """Filters the events of a commit for one subscription; fails closed."""

    def __init__(
        self,
        row: Mapping[str, Any] | None,
        where: Mapping[str, Any] | None,
        authorize: Authorize | None,
    ) -> None:
        self.row = None if row is None else dict(row)
        self.where = dict(where or {})
        self.authorize = authorize
        self.denied = 0  # events authorize() refused or raised on

    def commit(self, commit: Commit) -> Commit:
        if self.row is None and not self.where and self.authorize is None:
            return commit  # nothing to filter: the commit as read
        kept = [e for e in (self.event(ev) for ev in commit.events) if e is not None]
        tables = tuple(dict.fromkeys(e.table for e in kept))
        return replace(commit, events=tuple(kept), tables=tables)

    def event(self, event: ChangeEvent) -> ChangeEvent | None:
        if self.row is not None and dict(event.pk) != self.row:
            return None
        scoped = self._scope(event)
        if scoped is None or self.authorize is None:
            return scoped
        try:
            allowed = self.authorize(scoped) is True
        except Exception:  # fail closed: an error in the check delivers nothing
            allowed = False
        if not allowed:
            self.denied += 1
            return None
        return scoped

    def _scope(self, event: ChangeEvent) -> ChangeEvent | None:
        """In scope: as is. An update that moved the row out of scope: a pk-only delete."""
        if not self.where:
            return event
        if self._matches(event.keys):
            return event
        if event.effect != "updated":
            return None
        old = {
            c: (event.changes[c][0] if c in event.changes else event.keys.get(c, _MISSING))
            for c in self.where
        }
        if not self._matches(old):
            return None
        return replace(event, effect="deleted", keys={}, changes={})

    def _matches(self, keys: Mapping[str, Any]) -> bool:
        return all(keys.get(c, _MISSING) == v for c, v in self.where.items())
