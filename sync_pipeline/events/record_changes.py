"""Events for the mutation Writer: its applied Changes, written in bulk at the end of the run."""

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from sync_pipeline.events.model import EventOptions
from sync_pipeline.events.record import EventRow, changed_columns, insert_rows, pick, prepare


def record_changes(
    conn: sa.Connection,
    changes: Sequence[Any],
    tables: Mapping[str, sa.Table],
    options: EventOptions,
) -> int:
    """One event per applied change, in operation order; returns how many were written.

    An update that changes nothing is no event; one that changes the primary key is a delete
    of the old key and an insert of the new row.
    """
    by_name = {t.fullname: t for t in tables.values()}
    for name in dict.fromkeys(c.table for c in changes):
        prepare(conn, by_name[name], options)
    rows: list[EventRow] = []
    for change in changes:
        rows += _events(change, [c.name for c in by_name[change.table].primary_key], options.keys)
    return insert_rows(conn, rows, None)


def _events(change: Any, pk: list[str], keys: Sequence[str]) -> list[EventRow]:
    table, row = change.table, dict(change.row)
    if change.operation == "insert":
        return [(table, "I", dict(change.pk), pick(row, keys), row)]
    if change.operation == "delete":
        return [(table, "D", dict(change.pk), pick(row, keys), None)]
    before = dict(change.before)
    old_pk = pick(before, pk)
    if old_pk != dict(change.pk):
        return [
            (table, "D", old_pk, pick(before, keys), None),
            (table, "I", dict(change.pk), pick(row, keys), row),
        ]
    diff = changed_columns(before, row)
    return [(table, "U", dict(change.pk), pick(row, keys), diff)] if diff else []
