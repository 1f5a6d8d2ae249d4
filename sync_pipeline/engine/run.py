"""One import in progress: its state (`ImportRun`), how it begins (the table locked, the batch id
taken) and how it finishes (`finish`: stamp the seen rows, count the missing ones, record the
batch; after commit, `fire_callbacks`).

An import runs one batch, or several chunks of one batch, through the stages in pipeline.py;
they all add to one ImportRun, which `finish` turns into the ImportResult.
"""

from collections.abc import Callable
from functools import partial
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from sync_pipeline.db.copy import drop_stage, stage_values, work_memory_for
from sync_pipeline.db.read import read_rows
from sync_pipeline.engine import batches
from sync_pipeline.engine.diff import BatchDiff
from sync_pipeline.engine.keys import KeyCodes, Keys
from sync_pipeline.engine.matching import missing_rows
from sync_pipeline.engine.plan import Plan
from sync_pipeline.engine.results import ImportResult
from sync_pipeline.engine.writers import TableWriter, writer_for
from sync_pipeline.errors import ApplyError

COUNTS = ("created", "updated", "unchanged", "skipped", "deleted", "missing")


class ImportRun:
    """One import into one table inside the caller's transaction."""

    def __init__(self, conn: sa.Connection, plan: Plan) -> None:
        self.conn = conn
        self.plan = plan
        self.table = plan.target.name
        self.options = plan.options
        self.dialect = plan.target.dialect
        self.writer: TableWriter  # made by `begin`, once the batch id is known
        self.codes = KeyCodes()
        self.counts = dict.fromkeys(COUNTS, 0)
        self.errors: list[tuple[dict[str, Any], str]] = []
        self.partial = False  # records dropped (null keys) or failed (skip_record): never delete
        self.inserted: list[dict[str, Any]] = []
        self.updated: list[dict[str, Any]] = []
        self.batch_id: int | None = None
        # (column, batch id) that written rows carry (ledger mode: only if the column exists)
        self.stamp: tuple[str, int] | None = None
        self.ledger: sa.Table | None = None
        self.seen = SeenRows(plan)
        self.now = self.options.clock()
        self.chunk_rows = self.options.chunk(self.dialect)  # rows per write
        self.callback_rows = self.options.callback_chunk(self.dialect)  # rows per callback call
        self.stamps: list[pa.Table] = []  # seen rows whose data is not written (column mode)
        self.done = 0  # rows of the diffs written so far, for the progress callable

    def begin(self) -> None:
        """Lock the table, take the batch id, then make the writer (its events carry the id)."""
        conn, plan, options = self.conn, self.plan, self.options
        batches.lock_table(conn, plan.target)
        if options.stamps:
            self.ledger = batches.ensure_ledger(conn, plan.target)
            given = options.batch_id
            self.batch_id = (
                given
                if isinstance(given, int)
                else batches.next_batch_id(conn, plan.target, options.batch_column, self.ledger)
            )
        if self.batch_id is not None and options.batch_column in plan.table.c:
            self.stamp = (options.batch_column, self.batch_id)
        kinds = plan.target.kinds
        self.writer = writer_for(
            conn, self.dialect, plan.table, plan.identity, kinds, options.events
        )
        self.writer.event_batch_id(self.batch_id)


class SeenRows:
    """Keys and target-row identities seen by the chunks of one import.

    Keys feed the duplicates policy across chunks; target-row identities feed ledger mode, whose
    missing rows are the rows in scope that no chunk saw. A stream that holds its scope (read
    once, see pipeline.py) keeps it here with its keys, and the positions each chunk touched.
    """

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.keys: list[pa.Table] = []
        self.ids: list[pa.Table] = []
        self.calls = 0
        self.chunked = False
        self.last: BatchDiff | None = None
        self.scope: pa.Table | None = None
        self.scope_keys: Keys | None = None
        self.touched: list[pa.Array] = []

    def hold(self, scope: pa.Table, keys: Keys | None) -> None:
        self.scope, self.scope_keys = scope, keys

    def earlier_keys(self) -> pa.Table | None:
        return pa.concat_tables(self.keys, promote_options="permissive") if self.keys else None

    def record(self, diff: BatchDiff, *, lookup: bool) -> None:
        self.calls += 1
        self.chunked = self.chunked or lookup or self.calls > 1
        self.last = diff
        if self.scope is not None and diff.old is self.scope:
            self.touched.append(diff.touched())
        self.record_keys(diff)
        if self.plan.batch_mode == "ledger":
            self.ids.append(diff.seen(self.plan.identity))

    def record_keys(self, diff: BatchDiff) -> None:
        """Only the keys (a plan, which finds its missing rows itself, needs no identities)."""
        if diff.keys is not None and diff.keys.num_rows and self.plan.options.duplicates != "last":
            self.keys.append(diff.keys)


Callback = Callable[[list[dict[str, Any]]], Any]


def finish(run: ImportRun) -> ImportResult:
    """Stamp the seen rows, count missing rows, write the ledger; callbacks fire later."""
    txid = _txid(run)
    rows = sum(seen.num_rows for seen in run.stamps)
    if run.stamp is not None and rows:  # nothing to stamp: no statement, no work_mem
        try:
            with work_memory_for(run.conn, rows):
                run.writer.stamp(pa.concat_tables(run.stamps), *run.stamp)
        except sa.exc.DBAPIError as exc:
            raise ApplyError(
                f"stamping the seen rows of {run.plan.target.name!r} failed; the batch was "
                f"rolled back: {exc.orig}",
                batch_id=run.batch_id,
            ) from exc
    run.counts["missing"] = _missing(run)
    if run.batch_id is not None:
        assert run.ledger is not None
        batches.record_batch(
            run.conn,
            run.ledger,
            run.plan.target,
            run.options.batch_column,
            run.batch_id,
            mode=run.plan.batch_mode,
            counts=run.counts,
            scope=batches.scope_text(run.plan.scope),
            now=run.now,
            status="partial" if run.partial else "applied",
        )
    return ImportResult(
        table=run.plan.target.name,
        errors=list(run.errors),
        batch_id=run.batch_id,
        txid=txid,
        events=run.writer.events_written,
        **run.counts,
    )


def _missing(run: ImportRun) -> int:
    """How many rows in scope the import did not see (recorded in the ledger in ledger mode)."""
    seen = run.seen
    if run.plan.batch_mode == "ledger" and seen.last is not None:
        missing = _missing_ids(run)
        if run.batch_id is not None:
            target, column = run.plan.target, run.options.batch_column
            again = partial(_seen_again, run)
            batches.record_missing(run.conn, target, column, run.batch_id, missing, again)
        return len(missing)
    if run.batch_id is not None:
        return _count_missing_by_column(run)
    return seen.last.missing if seen.last is not None else 0


def _missing_ids(run: ImportRun) -> list[tuple[Any, ...]]:
    """Identities of the target rows in scope that no chunk saw."""
    seen, plan = run.seen, run.plan
    assert seen.last is not None
    identity = list(plan.identity)
    if not seen.chunked:
        return _tuples(seen.last.missing_rows.select(identity))
    if seen.scope is not None:  # a held scope: the rows of it no chunk touched
        touched = pa.concat_arrays([pa.array([], pa.int64()), *seen.touched])
        return _tuples(missing_rows(plan, seen.scope, touched).select(identity))
    # the database finds them: stage what the chunks saw, read only the rows it does not hold
    columns = [sa.Column(c, plan.table.c[c].type) for c in identity]
    stage = stage_values(run.conn, run.dialect, columns, pa.concat_tables(seen.ids))
    try:
        unseen = ~sa.exists().where(*[stage.c[c] == plan.table.c[c] for c in identity])
        where = unseen if plan.scope is None else sa.and_(plan.scope, unseen)
        return _tuples(read_rows(run.conn, plan.target, where, columns=identity))
    finally:
        drop_stage(run.conn, stage)


def _seen_again(run: ImportRun, keys: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Which of `keys` (rows missing after earlier batches) this import saw."""
    if not keys or not run.seen.ids:
        return []
    identity = list(run.plan.identity)
    seen = pa.concat_tables(run.seen.ids)
    columns = {c: [k[i] for k in keys] for i, c in enumerate(identity)}
    candidates = pa.table(columns).cast(seen.schema)
    hits = candidates.join(seen, keys=identity, join_type="inner", use_threads=False)
    return _tuples(hits.select(identity))


def _count_missing_by_column(run: ImportRun) -> int:
    assert run.batch_id is not None
    target, column = run.plan.target, run.options.batch_column
    clause = batches.missing_clause(target, column, run.batch_id)
    if run.plan.scope is not None:
        clause = sa.and_(clause, run.plan.scope)
    count = sa.select(sa.func.count()).select_from(run.plan.table).where(clause)
    return int(run.conn.execute(count).scalar() or 0)


def _txid(run: ImportRun) -> int | None:
    if not run.dialect.txid:
        return None
    return int(
        run.conn.execute(
            sa.select(sa.cast(sa.cast(sa.func.pg_current_xact_id(), sa.Text), sa.BigInteger))
        ).scalar_one()
    )


def fire_callbacks(run: ImportRun) -> None:
    """After commit: on_inserted, on_updated, on_inserted_or_updated in chunks of rows."""
    size = run.callback_rows
    _fire(run.options.on_inserted, run.inserted, size)
    _fire(run.options.on_updated, run.updated, size)
    _fire(run.options.on_inserted_or_updated, run.inserted + run.updated, size)


def _fire(callbacks: tuple[Callback, ...], rows: list[dict[str, Any]], size: int) -> None:
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        for callback in callbacks:
            callback(list(chunk))


def _tuples(table: pa.Table) -> list[tuple[Any, ...]]:
    return [tuple(r.values()) for r in table.to_pylist()]
