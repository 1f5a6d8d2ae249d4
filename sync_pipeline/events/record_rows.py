"""Events for the generic (executemany) writer, e.g. SQLite: built in Python, one executemany.

Old values come from one SELECT per chunk before an update or delete; inserts use RETURNING,
so ids the database generates are in the event too.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from sync_pipeline.events.record import EventRow, TableEvents, changed_columns, insert_rows, pick


class RowEvents(TableEvents):
    """Event rows for one table, built in Python."""

    def _write(self, rows: list[EventRow]) -> None:
        self.ensure()
        self.count += insert_rows(self.conn, rows, self.batch_id)

    def insert(self, statement: sa.Insert, params: list[dict[str, Any]]) -> None:
        """Run the INSERT for every row and record the rows as written."""
        self.ensure()
        result = self.conn.execute(statement.returning(*self.table.c), params)
        written = [dict(r) for r in result.mappings()]
        name = self.table.fullname
        self._write([(name, "I", pick(r, self.pk), pick(r, self.keys), r) for r in written])

    def _old(self, pks: Sequence[Mapping[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
        cols = [self.table.c[p] for p in self.pk]
        wanted = [tuple(r[p] for p in self.pk) for r in pks]
        rows = self.conn.execute(sa.select(self.table).where(sa.tuple_(*cols).in_(wanted)))
        return {tuple(r[p] for p in self.pk): dict(r) for r in rows.mappings()}

    def update(self, pks: list[dict[str, Any]], values: list[dict[str, Any]]) -> None:
        """Before the UPDATE of rows `pks` to `values`: records (old, new) of what changes."""
        self.ensure()
        old = self._old(pks)
        events: list[EventRow] = []
        for pk, new in zip(pks, values, strict=True):
            before = old.get(tuple(pk[p] for p in self.pk))
            changes = {} if before is None else changed_columns(before, new)
            if before is not None and changes:
                keys = {k: new.get(k, before[k]) for k in self.keys}
                events.append((self.table.fullname, "U", pick(before, self.pk), keys, changes))
        self._write(events)

    def delete(self, pks: list[dict[str, Any]]) -> None:
        """Before the DELETE: records each row's key columns as they were."""
        self.ensure()
        old = self._old(pks)
        name = self.table.fullname
        self._write([(name, "D", pick(r, self.pk), pick(r, self.keys), None) for r in old.values()])
