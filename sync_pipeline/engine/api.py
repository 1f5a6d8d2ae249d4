"""The public entry points: import_records, import_multiple, BatchImport, missing_after_batch."""

import itertools
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from sync_pipeline.db.connect import Target, read_connection, transaction
from sync_pipeline.db.read import read_rows
from sync_pipeline.db.schema import reflect, split_name
from sync_pipeline.engine import batches
from sync_pipeline.engine.diff import BatchDiff
from sync_pipeline.engine.normalize import Records, check_records
from sync_pipeline.engine.pipeline import (
    apply_planned,
    finish_import,
    import_all,
    import_batch,
    open_run,
    plan_all,
)
from sync_pipeline.engine.plan import make_plan, scope_clause
from sync_pipeline.engine.results import ImportResult
from sync_pipeline.engine.run import ImportRun, fire_callbacks
from sync_pipeline.engine.spec import ImportOptions
from sync_pipeline.engine.staged import DiffWriter
from sync_pipeline.values.carried import decode_row


class BatchImport:
    """A configured import into one table: `run`, `preview` then `apply`, or `prepare()`."""

    def __init__(
        self, target: Target, table: str, strategy: str | None = None, **options: Any
    ) -> None:
        self.target = target
        self.table = table
        self.options = ImportOptions.from_kwargs(strategy, **options)

    def run(self, records: Records | Iterable[pa.Table | pd.DataFrame]) -> ImportResult:
        """Import `records` as one batch in one transaction.

        `records` may also be a stream of chunks (an iterable of Arrow tables or DataFrames, as a
        sender yields them): each chunk is diffed against the rows its keys hit and written before
        the next is read, so memory is bounded by the chunk, not the batch.
        """
        check_records(records)
        with transaction(self.target) as conn:
            run = self._run(conn)
            result = import_all(run, *_split_input(records))
        fire_callbacks(run)
        return result

    def preview(
        self,
        records: Records | Iterable[pa.Table | pd.DataFrame],
        *,
        staged_at: Path | None = None,
    ) -> BatchDiff:
        """The diff `run` would apply, computed without writing anything.

        A stream of chunks is normalized and matched chunk by chunk against the scope, read
        once; the diff holds the normalized rows that take part and what it was planned
        against, so `apply` can check and write exactly it. With `staged_at`, each chunk's
        part of the diff is written there as soon as it is planned (engine/staged.py, read it
        back with `load_diff`), and the diff returned reads its records from there.
        """
        check_records(records)
        with read_connection(self.target) as conn:
            run = ImportRun(conn, make_plan(reflect(conn, self.table), self.options))
            if staged_at is None:
                return plan_all(run, *_split_input(records))
            writer = DiffWriter(staged_at)
            try:
                diff = plan_all(run, *_split_input(records), sink=writer.part)
            except BaseException:
                writer.abandon()
                raise
            writer.finish(diff)
            return diff

    def plan(self, records: Records | Iterable[pa.Table | pd.DataFrame]) -> BatchDiff:
        """Deprecated name of `preview` (a `Plan` is the options resolved against the table)."""
        warnings.warn(
            "BatchImport.plan() is renamed preview(); plan() will be removed",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.preview(records)

    def apply(self, diff: BatchDiff) -> ImportResult:
        """Write exactly `diff` (from `preview`) in one transaction, if the target still matches it.

        Under the table lock, the rows the diff matched must hold the values it was planned
        against and its scope the same rows; otherwise StaleDiffError, and nothing is written.
        """
        with transaction(self.target) as conn:
            run = self._run(conn)  # the table lock first: the check holds until commit
            result = apply_planned(run, diff)
        fire_callbacks(run)
        return result

    @contextmanager
    def prepare(self) -> Iterator["PreparedImport"]:
        """A builder that writes chunks as its buffer fills; everything commits at the end."""
        with transaction(self.target) as conn:
            run = self._run(conn)
            prepared = PreparedImport(run, run.chunk_rows)
            yield prepared
            prepared.close()
        fire_callbacks(prepared.run)

    def _run(self, conn: sa.Connection) -> ImportRun:
        return open_run(conn, make_plan(reflect(conn, self.table), self.options))


class PreparedImport:
    """add(record) / add_many(records) buffer records; a full buffer is written at once."""

    def __init__(self, run: ImportRun, size: int) -> None:
        self.run = run
        self.size = size
        self.buffer: list[Mapping[str, Any]] = []
        self.result: ImportResult | None = None

    def add(self, record: Mapping[str, Any]) -> None:
        self.buffer.append(record)
        if len(self.buffer) >= self.size:
            self._write()

    def add_many(self, records: Iterable[Mapping[str, Any]]) -> None:
        if isinstance(records, (str, bytes, Mapping)) or not hasattr(records, "__iter__"):
            raise TypeError(f"add_many takes an iterable of records, got {type(records).__name__}")
        for record in records:
            self.add(record)

    def flush(self) -> ImportResult:
        """Write what is buffered and return the result of the whole import so far."""
        if self.buffer:
            self._write()
        self.result = finish_import(self.run)
        return self.result

    def close(self) -> None:
        if self.result is None or self.buffer:
            self.flush()

    def _write(self) -> None:
        batch, self.buffer = self.buffer, []
        import_batch(self.run, batch, lookup=True)


def _split_input(records: Any) -> tuple[Records | None, Iterator[pa.Table | pd.DataFrame]]:
    """(one batch, no chunks) or (None, a stream of chunks: Arrow tables, batches, frames)."""
    if isinstance(records, (pa.Table, pd.DataFrame, list)) or not isinstance(records, Iterable):
        return records, iter(())
    iterator = iter(records)
    first = next(iterator, None)
    if first is None:
        return [], iter(())
    rest = itertools.chain([first], iterator)
    if not isinstance(first, (pa.Table, pa.RecordBatch, pd.DataFrame)):
        return list(rest), iter(())  # an iterator of mappings is one batch
    return None, (pa.Table.from_batches([c]) if isinstance(c, pa.RecordBatch) else c for c in rest)


def import_records(
    target: Target, table: str, records: Records, strategy: str | None = None, **options: Any
) -> ImportResult:
    """Import `records` into `table` in one transaction; see BatchImport for the options."""
    return BatchImport(target, table, strategy, **options).run(records)


def import_multiple(
    target: Target,
    tables: Mapping[str, Records],
    strategies: Mapping[str, str] | None = None,
    **options: Any,
) -> dict[str, ImportResult]:
    """Import into several tables in one transaction, parents before children (foreign keys)."""
    strategies = dict(strategies or {})
    runs: dict[str, ImportRun] = {}
    results: dict[str, ImportResult] = {}
    with transaction(target) as conn:
        targets = {name: reflect(conn, name) for name in tables}
        batches.lock_tables(conn, targets.values())  # all at once, in one global order
        for name in _fk_order(conn, list(tables)):
            opts = ImportOptions.from_kwargs(strategies.get(name, "skip"), **options)
            runs[name] = open_run(conn, make_plan(targets[name], opts))
            results[name] = import_all(runs[name], tables[name], ())
    for run in runs.values():
        fire_callbacks(run)
    return {name: results[name] for name in tables}


def _fk_order(conn: sa.Connection, names: list[str]) -> list[str]:
    """Tables sorted so that referenced tables come first (stable for unrelated tables)."""
    inspector = sa.inspect(conn)
    deps: dict[str, set[str]] = {}
    for name in names:
        schema, bare = split_name(name)
        refs = inspector.get_foreign_keys(bare, schema=schema)
        targets = {(r.get("referred_schema"), r["referred_table"]) for r in refs}
        deps[name] = {n for n in names if split_name(n) in targets and n != name}
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and deps[n] <= set(ordered)]
        if not ready:  # a cycle: keep the caller's order for the rest
            ready = [n for n in names if n not in ordered]
        ordered += ready
    return ordered


def missing_after_batch(
    target: Target,
    table: str,
    batch_id: int,
    column: str = "last_batch_id",
    where: Mapping[str, Any] | sa.ColumnElement[bool] | None = None,
) -> list[dict[str, Any]]:
    """Rows whose batch column is NULL or less than `batch_id` (optionally scoped by `where`).

    For a batch that ran with batch_mode="ledger", the rows it recorded as not seen (and that no
    later batch saw), read from the ledger instead of the column.
    """
    with read_connection(target) as conn:
        t = reflect(conn, table)
        clause = batches.missing_condition(conn, t, column, batch_id)
        scope = scope_clause(t, where)
        if scope is not None:
            clause = sa.and_(clause, scope)
        order = [t.table.c[p] for p in t.primary_key]
        rows = read_rows(conn, t, clause)
        out = [decode_row(r, t.kinds) for r in rows.to_pylist()]
    if order:
        out.sort(key=lambda r: tuple((v is None, v) for v in (r[p] for p in t.primary_key)))
    return out
