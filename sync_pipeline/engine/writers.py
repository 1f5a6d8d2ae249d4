"""The bulk writers: one chunk of a diff into the target, inside the caller's transaction.

Postgres stages each chunk with COPY into temporary tables and applies it with set-based SQL;
other databases use chunked executemany. No per-row statements on the Postgres path.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from sync_pipeline.db import labels
from sync_pipeline.db.copy import create_stage, fill_stage, truncate
from sync_pipeline.db.dialect import Dialect
from sync_pipeline.engine.diff import Updates
from sync_pipeline.events.model import EventOptions
from sync_pipeline.events.record_pg import PgEvents
from sync_pipeline.events.record_rows import RowEvents
from sync_pipeline.events.recorders import recorder_for
from sync_pipeline.values.carried import DECODED, decode_row

_PK = labels.IDENTITY  # stage columns holding the identity of the row to update


@dataclass(frozen=True, slots=True)
class ChunkWrite:
    """What one chunk writes: new rows, changed rows (pk + values), rows to delete."""

    inserts: pa.Table
    updates: Updates
    deletes: pa.Table  # identity columns of rows to delete / soft-delete
    update_constants: Mapping[str, Any] = field(default_factory=dict)


class TableWriter:
    """Set-based writes for one table; subclasses pick the bulk mechanism of their dialect."""

    def __init__(
        self,
        conn: sa.Connection,
        table: sa.Table,
        pk: tuple[str, ...],
        kinds: Mapping[str, Any],
        events: EventOptions | None = None,
    ) -> None:
        self.conn = conn
        self.table = table
        self.pk = pk
        self.kinds = kinds
        self.decoded = any(k in DECODED for k in kinds.values())  # else rows go as they are
        self.events = None if events is None else recorder_for(conn, table, pk, events)

    def event_batch_id(self, batch_id: int | None) -> None:
        if self.events is not None:
            self.events.batch_id = batch_id

    @property
    def events_written(self) -> int:
        return 0 if self.events is None else self.events.count

    def write(self, chunk: ChunkWrite, *, delete: tuple[str, Any] | None) -> None:
        if chunk.inserts.num_rows:
            self.insert(chunk.inserts)
        if chunk.updates.keys.num_rows:
            self.update(
                _in_key_order(_staged_updates(chunk.updates), [_PK + p for p in self.pk]),
                chunk.update_constants,
            )
        if chunk.deletes.num_rows:
            if delete is None:
                self.delete(chunk.deletes)
            else:
                self.set_constant(
                    chunk.deletes, {delete[0]: delete[1]}, only_if_different=False, record=True
                )

    def stamp(self, keys: pa.Table, column: str, batch_id: int) -> None:
        """Set the batch column of these rows (seen, data not written) in one statement, in key
        order so the table's pages are visited once each, in sequence."""
        if keys.num_rows:
            self.set_constant(
                _in_key_order(keys, list(self.pk)), {column: batch_id}, only_if_different=True
            )

    def _pk_match(self, source: Any, prefix: str = "") -> list[sa.ColumnElement[bool]]:
        return [self.table.c[p] == source[f"{prefix}{p}"] for p in self.pk]

    def _rows(self, data: pa.Table) -> list[dict[str, Any]]:
        rows = data.to_pylist()
        return [decode_row(r, self.kinds) for r in rows] if self.decoded else rows

    # Generic (executemany) implementations; Postgres overrides them.
    def insert(self, rows: pa.Table) -> None:
        if isinstance(self.events, RowEvents):
            self.events.insert(sa.insert(self.table), self._rows(rows))
            return
        self.conn.execute(sa.insert(self.table), self._rows(rows))

    def update(self, rows: pa.Table, constants: Mapping[str, Any]) -> None:
        values: dict[str, Any] = {
            c: sa.bindparam(labels.VALUE + c) for c in rows.column_names if not c.startswith(_PK)
        }
        values.update(constants)
        stmt = (
            sa.update(self.table)
            .where(*self._pk_match({_PK + p: sa.bindparam(_PK + p) for p in self.pk}, _PK))
            .values(values)
        )
        decoded = self._rows(rows)
        if isinstance(self.events, RowEvents):
            self.events.update(*_split_pk(decoded, constants))
        params = [
            {(k if k.startswith(_PK) else labels.VALUE + k): v for k, v in r.items()}
            for r in decoded
        ]
        self.conn.execute(stmt, params)

    def set_constant(
        self,
        keys: pa.Table,
        values: Mapping[str, Any],
        *,
        only_if_different: bool,
        record: bool = False,
    ) -> None:
        """UPDATE rows to constants; only `record` ones (soft deletes, never stamps) are events."""
        stmt = sa.update(self.table).where(
            *self._pk_match({p: sa.bindparam(_PK + p) for p in self.pk})
        )
        if only_if_different:
            stmt = stmt.where(*[self.table.c[c].is_distinct_from(v) for c, v in values.items()])
        pks = keys.to_pylist()
        if record and isinstance(self.events, RowEvents):
            self.events.update(pks, [dict(values)] * len(pks))
        params = [{_PK + k: v for k, v in r.items()} for r in pks]
        self.conn.execute(stmt.values(dict(values)), params)

    def delete(self, keys: pa.Table) -> None:
        stmt = sa.delete(self.table).where(
            *self._pk_match({p: sa.bindparam(_PK + p) for p in self.pk})
        )
        pks = keys.to_pylist()
        if isinstance(self.events, RowEvents):
            self.events.delete(pks)
        self.conn.execute(stmt, [{_PK + k: v for k, v in r.items()} for r in pks])


class PostgresWriter(TableWriter):
    """COPY into temporary stage tables, then INSERT ... SELECT and UPDATE ... FROM."""

    def __init__(
        self,
        conn: sa.Connection,
        table: sa.Table,
        pk: tuple[str, ...],
        kinds: Mapping[str, Any],
        events: EventOptions | None = None,
    ) -> None:
        super().__init__(conn, table, pk, kinds, events)
        self._stages: dict[tuple[str, ...], sa.Table] = {}

    def _stage(self, columns: list[str]) -> sa.Table:
        """One stage per column set, created once per import and emptied between chunks."""
        key = tuple(columns)
        stage = self._stages.get(key)
        if stage is None:
            cols = [sa.Column(c, self.table.c[c.removeprefix(_PK)].type) for c in columns]
            stage = create_stage(self.conn, cols)
            self._stages[key] = stage
        else:
            truncate(self.conn, stage)
        return stage

    def _staged(self, data: pa.Table, *, joined: bool = True) -> sa.Table:
        stage = self._stage(data.column_names)
        fill_stage(self.conn, stage, data, joined=joined)
        return stage

    def insert(self, rows: pa.Table) -> None:
        stage = self._staged(rows, joined=False)
        cols = rows.column_names
        stmt = sa.insert(self.table).from_select(cols, sa.select(*[stage.c[c] for c in cols]))
        if isinstance(self.events, PgEvents):
            self.events.insert(stmt)  # the same INSERT, recording what it returns
        else:
            self.conn.execute(stmt)
        for column in (c for c in self.pk if c in cols and self.kinds[c] == "int"):
            self._advance_sequence(column)

    def _advance_sequence(self, column: str) -> None:
        """After explicit ids went into a serial/identity column, move its sequence past them,
        so ids the database generates later (append, other writers) do not collide."""
        col = self.table.c[column]
        sequence = sa.func.pg_get_serial_sequence(self.table.fullname, column)
        highest = sa.select(sa.func.max(col)).scalar_subquery()
        self.conn.execute(
            sa.select(sa.func.setval(sequence, sa.func.greatest(highest, 1), highest >= 1)).where(
                sequence.is_not(None), highest.is_not(None)
            )
        )

    def update(self, rows: pa.Table, constants: Mapping[str, Any]) -> None:
        stage = self._staged(rows)
        values: dict[str, Any] = {c: stage.c[c] for c in rows.column_names if not c.startswith(_PK)}
        values.update(constants)
        stmt = sa.update(self.table).where(*self._pk_match(stage.c, _PK)).values(values)
        if isinstance(self.events, PgEvents):  # the same UPDATE, recording (old, new) it wrote
            self.events.update(stmt, {p: stage.c[_PK + p] for p in self.pk}, values)
        else:
            self.conn.execute(stmt)

    def set_constant(
        self,
        keys: pa.Table,
        values: Mapping[str, Any],
        *,
        only_if_different: bool,
        record: bool = False,
    ) -> None:
        stage = self._staged(keys)
        stmt = sa.update(self.table).where(*self._pk_match(stage.c))
        if only_if_different:
            stmt = stmt.where(
                sa.or_(*[self.table.c[c].is_distinct_from(v) for c, v in values.items()])
            )
        stmt = stmt.values(dict(values))
        if record and isinstance(self.events, PgEvents):
            self.events.update(stmt, {p: stage.c[p] for p in self.pk}, values)
        else:
            self.conn.execute(stmt)

    def delete(self, keys: pa.Table) -> None:
        stage = self._staged(keys)
        stmt = sa.delete(self.table).where(*self._pk_match(stage.c))
        if isinstance(self.events, PgEvents):
            self.events.delete(stmt)  # the same DELETE, recording the rows it removed
        else:
            self.conn.execute(stmt)


def _staged_updates(updates: Updates) -> pa.Table:
    """One table to stage: the identity columns prefixed (a value column may share a name)."""
    keys = updates.keys.rename_columns([_PK + c for c in updates.keys.column_names])
    for name in updates.values.column_names:
        keys = keys.append_column(name, updates.values.column(name))
    return keys


def _in_key_order(data: pa.Table, keys: list[str]) -> pa.Table:
    return data.take(pc.sort_indices(data, sort_keys=[(k, "ascending") for k in keys]))


def writer_for(
    conn: sa.Connection,
    dialect: Dialect,
    table: sa.Table,
    pk: tuple[str, ...],
    kinds: Mapping[str, Any],
    events: EventOptions | None = None,
) -> TableWriter:
    cls = PostgresWriter if dialect.copy else TableWriter
    return cls(conn, table, pk, kinds, events)


def _split_pk(
    rows: list[dict[str, Any]], constants: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Staged update rows -> (primary keys, new values including the constants)."""
    pks = [{k.removeprefix(_PK): v for k, v in r.items() if k.startswith(_PK)} for r in rows]
    values = [{**{k: v for k, v in r.items() if not k.startswith(_PK)}, **constants} for r in rows]
    return pks, values
