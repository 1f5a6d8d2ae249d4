"""One import into one table inside one transaction: normalize, diff, write in chunks, stamp."""

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from sync_pipeline.db.dialect import Dialect
from sync_pipeline.engine import batches
from sync_pipeline.engine.apply import (
    ChunkWrite,
    TableWriter,
    constant,
    mask_indices,
    pk_table,
    writer_for,
)
from sync_pipeline.engine.diff import BatchDiff
from sync_pipeline.engine.fetch import fetch_by_keys, fetch_scope
from sync_pipeline.engine.keys import KeyCodes
from sync_pipeline.engine.matching import compute_diff
from sync_pipeline.engine.normalize import Records, normalize, normalize_batch
from sync_pipeline.engine.plan import Plan
from sync_pipeline.engine.results import ImportResult
from sync_pipeline.engine.seen import SeenRows
from sync_pipeline.errors import ApplyError, ConfigError
from sync_pipeline.values.carried import decode_row
from sync_pipeline.values.kinds import arrow_type

Callback = Callable[[list[dict[str, Any]]], Any]


def diff_batch(
    conn: sa.Connection,
    plan: Plan,
    records: Records,
    codes: KeyCodes,
    *,
    lookup: bool = False,
    earlier_keys: pa.Table | None = None,
) -> BatchDiff:
    """Normalize the records and diff them against the target (reads only).

    With `lookup` (chunked imports) only the rows the batch's keys hit are read, when the keys
    allow it; otherwise the whole scope is read once.
    """
    batch = normalize_batch(records, plan.target, plan.options)
    if lookup and plan.exact_keys and plan.options.strategy != "append":
        existing = fetch_by_keys(conn, plan, batch.table)
    else:
        existing = fetch_scope(conn, plan)
    diff = compute_diff(
        plan, batch.table, existing, deletes=batch.deletes, codes=codes, earlier_keys=earlier_keys
    )
    return replace(diff, errors=batch.errors)


class Importer:
    """Drives one import; `process` may be called once (import_records) or per chunk (prepare)."""

    def __init__(self, conn: sa.Connection, plan: Plan) -> None:
        self.conn = conn
        self.plan = plan
        self.options = plan.options
        self.target = plan.target
        self.writer: TableWriter = writer_for(
            conn, plan.table, plan.identity, plan.target.kinds, self.options.events
        )
        self.codes = KeyCodes()
        self.counts = {
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "skipped": 0,
            "deleted": 0,
            "missing": 0,
        }
        self.errors: list[tuple[dict[str, Any], str]] = []
        self.partial = False  # records dropped (null keys) or failed (skip_record): never delete
        self.inserted: list[dict[str, Any]] = []
        self.updated: list[dict[str, Any]] = []
        self.batch_id: int | None = None
        self.ledger: sa.Table | None = None
        self.now = self.options.clock()
        self.seen = SeenRows(plan)
        self.stamps: list[pa.Table] = []  # seen rows whose data is not written (column mode)
        self.done = 0  # rows of the diffs written so far, for the progress callable

    def begin(self) -> None:
        batches.lock_table(self.conn, self.target)
        if self.options.stamps:
            self.ledger = batches.ensure_ledger(self.conn, self.target.table.schema)
            given = self.options.batch_id
            self.batch_id = (
                given
                if isinstance(given, int)
                else batches.next_batch_id(
                    self.conn, self.target, self.options.batch_column, self.ledger
                )
            )
        self.writer.event_batch_id(self.batch_id)

    def process(self, records: Records, *, lookup: bool = False) -> BatchDiff:
        """Diff and write one batch (or one chunk of a chunked import)."""
        earlier = self.seen.earlier_keys()
        diff = diff_batch(
            self.conn, self.plan, records, self.codes, lookup=lookup, earlier_keys=earlier
        )
        self.write(diff, lookup=lookup)
        return diff

    def write(self, diff: BatchDiff, *, lookup: bool = False) -> None:
        """Write one diff (of a batch, or of one chunk), computed now or planned earlier."""
        if self.options.guard is not None:  # raising here rolls the whole import back
            self.options.guard(diff)
        self.seen.record(diff, lookup=lookup)
        self.errors += [(dict(r), reason) for r, reason in diff.errors]
        self.counts["skipped"] += len(diff.dropped)
        self.partial = self.partial or bool(diff.dropped or diff.errors)
        chunk = self.options.chunk(Dialect.of(self.conn))
        # a streamed import (lookup) does not know how many rows its later chunks bring
        total = None if lookup else self.done + diff.rows.num_rows
        for start in range(0, diff.rows.num_rows, chunk):
            end = min(start + chunk, diff.rows.num_rows)
            try:
                self._write_chunk(diff, start, end)
            except sa.exc.DBAPIError as exc:
                raise ApplyError(
                    f"writing chunk {start // chunk + 1} of {self.target.name!r} failed; "
                    f"the batch was rolled back: {exc.orig}",
                    batch_id=self.batch_id,
                    chunk=start // chunk + 1,
                ) from exc
            self.done += end - start
            self.options.progress(self.done, total, "write")

    def _write_chunk(self, diff: BatchDiff, start: int, end: int) -> None:
        rows = diff.rows.slice(start, end - start)
        new = diff.new.slice(start, end - start)
        changed = diff.changed_mask.slice(start, end - start)
        effect = rows.column("__effect")
        e_index = rows.column("__e")
        inserts = self._inserts(rows.filter(pc.equal(effect, "added")))
        upd_ix = mask_indices(pc.equal(effect, "changed"))
        old_ix = e_index.take(upd_ix)
        updates = pk_table(diff.old, old_ix, self.plan.identity, "__pk_")
        for c in new.column_names:  # changed fields take the offered value, the others stay
            flags = changed.column(c).take(upd_ix)
            final = pc.if_else(flags, new.column(c).take(upd_ix), diff.old.column(c).take(old_ix))
            updates = updates.append_column(c, final)
        if self.options.batch_mode == "column" and self._stamp is not None:
            seen_ix = mask_indices(pc.is_in(effect, value_set=pa.array(["unchanged", "skipped"])))
            self.stamps.append(pk_table(diff.old, e_index.take(seen_ix), self.plan.identity))
        del_ix = mask_indices(pc.equal(effect, "deleted"))
        deletes = pk_table(diff.old, e_index.take(del_ix), self.plan.identity)
        self.writer.write(
            ChunkWrite(inserts, updates, deletes, self._update_constants(new.column_names)),
            delete=(self.options.soft_delete_column, self.now)
            if self.options.delete_mode == "soft_delete"
            else None,
        )
        self.counts["created"] += inserts.num_rows
        self.counts["updated"] += updates.num_rows
        self.counts["unchanged"] += int(pc.sum(pc.equal(effect, "unchanged")).as_py() or 0)
        self.counts["skipped"] += int(pc.sum(pc.equal(effect, "skipped")).as_py() or 0)
        self.counts["deleted"] += deletes.num_rows
        if self.options.on_inserted or self.options.on_inserted_or_updated:
            self.inserted += [decode_row(r, self.target.kinds) for r in inserts.to_pylist()]
        if self.options.on_updated or self.options.on_inserted_or_updated:
            self._collect_updates(updates, changed.take(upd_ix))

    @property
    def _stamp(self) -> tuple[str, int] | None:
        """(column, batch id) that written rows carry (ledger mode: only if the column exists)."""
        if self.batch_id is None or self.options.batch_column not in self.plan.table.c:
            return None
        return self.options.batch_column, self.batch_id

    def _update_constants(self, compared: list[str]) -> dict[str, Any]:
        constants: dict[str, Any] = {}
        if self._stamp is not None:
            constants[self.options.batch_column] = self.batch_id
        if self.plan.updated_column and self.plan.updated_column not in compared:
            constants[self.plan.updated_column] = self.now
        return constants

    def _inserts(self, rows: pa.Table) -> pa.Table:
        data = rows.drop_columns([c for c in rows.column_names if c.startswith("__")])
        if self.options.strategy == "append":
            data = data.drop_columns([c for c in self.target.primary_key if c in data.column_names])
        n = data.num_rows
        for column in (c for c in (self.plan.created_column, self.plan.updated_column) if c):
            if column not in data.column_names:
                data = data.append_column(
                    column,
                    constant(
                        self.now,
                        n,
                        arrow_type(self.target.kinds[column], self.plan.table.c[column].type),
                    ),
                )
        if self._stamp is not None:
            batch_col = self.options.batch_column
            if batch_col in data.column_names:
                data = data.drop_columns([batch_col])
            data = data.append_column(batch_col, constant(self.batch_id, n, pa.int64()))
        if self.options.before_insert is not None and n:
            data = self._before_insert(data)
        return data

    def _before_insert(self, data: pa.Table) -> pa.Table:
        rows = [decode_row(r, self.target.kinds) for r in data.to_pylist()]
        result = self.options.before_insert(rows)  # type: ignore[misc]
        if result is None or isinstance(result, (str, bytes)) or not hasattr(result, "__iter__"):
            raise ConfigError(
                f"before_insert must return an iterable of rows, got {type(result).__name__}"
            )
        return normalize(list(result), self.target)

    def _collect_updates(self, updates: pa.Table, flags: pa.Table) -> None:
        when = self.options.on_updated_when
        constants = self._update_constants(updates.column_names)
        for row, flag in zip(updates.to_pylist(), flags.to_pylist(), strict=True):
            if when and not any(flag.get(f) for f in when):
                continue
            out = {k.removeprefix("__pk_"): v for k, v in row.items()}
            out.update(constants)
            self.updated.append(decode_row(out, self.target.kinds))

    def finish(self) -> ImportResult:
        """Stamp the seen rows, count missing rows, write the ledger; callbacks fire later."""
        if self.stamps and self._stamp is not None:
            try:
                self.writer.stamp(pa.concat_tables(self.stamps), *self._stamp)
            except sa.exc.DBAPIError as exc:
                raise ApplyError(
                    f"stamping the seen rows of {self.target.name!r} failed; the batch was "
                    f"rolled back: {exc.orig}",
                    batch_id=self.batch_id,
                ) from exc
        if self.options.batch_mode == "ledger" and self.seen.last is not None:
            missing = self.seen.missing(self.conn)
            self.counts["missing"] = len(missing)
            if self.batch_id is not None:
                batches.record_missing(
                    self.conn,
                    self.target,
                    self.options.batch_column,
                    self.batch_id,
                    missing,
                    self.seen.seen_again,
                )
        elif self.batch_id is not None:
            self.counts["missing"] = self._count_missing_by_column()
        elif self.seen.last is not None:
            self.counts["missing"] = self.seen.last.missing
        if self.batch_id is not None:
            assert self.ledger is not None
            batches.record_batch(
                self.conn,
                self.ledger,
                self.target,
                self.options.batch_column,
                self.batch_id,
                mode=self.options.batch_mode,
                counts=self.counts,
                scope=_scope_text(self.plan.scope),
                now=self.now,
                status="partial" if self.partial else "applied",
            )
        return ImportResult(
            table=self.target.name,
            errors=list(self.errors),
            batch_id=self.batch_id,
            txid=self._txid(),
            events=self.writer.events_written,
            **self.counts,
        )

    def _count_missing_by_column(self) -> int:
        assert self.batch_id is not None
        clause = batches.missing_clause(self.target, self.options.batch_column, self.batch_id)
        if self.plan.scope is not None:
            clause = sa.and_(clause, self.plan.scope)
        count = sa.select(sa.func.count()).select_from(self.plan.table).where(clause)
        return int(self.conn.execute(count).scalar() or 0)

    def _txid(self) -> int | None:
        if not Dialect.of(self.conn).txid:
            return None
        return int(
            self.conn.execute(
                sa.select(sa.cast(sa.cast(sa.func.pg_current_xact_id(), sa.Text), sa.BigInteger))
            ).scalar_one()
        )

    def fire_callbacks(self) -> None:
        size = self.options.callback_chunk(Dialect.of(self.conn))
        _fire(self.options.on_inserted, self.inserted, size)
        _fire(self.options.on_updated, self.updated, size)
        _fire(self.options.on_inserted_or_updated, self.inserted + self.updated, size)


def _fire(callbacks: tuple[Callback, ...], rows: list[dict[str, Any]], size: int) -> None:
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        for callback in callbacks:
            callback(list(chunk))


def _scope_text(scope: sa.ColumnElement[bool] | None) -> str | None:
    return None if scope is None else str(scope.compile(compile_kwargs={"literal_binds": True}))
