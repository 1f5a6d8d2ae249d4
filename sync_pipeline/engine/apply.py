"""The apply stage: a diff's typed views -> the writer, chunk by chunk, plus what the import
remembers of it (counts, rows to stamp, rows for the callbacks)."""

from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from sync_pipeline.engine.diff import BatchDiff, Updates, Views
from sync_pipeline.engine.normalize import normalize
from sync_pipeline.engine.run import ImportRun
from sync_pipeline.engine.staged import release_pages
from sync_pipeline.engine.writers import ChunkWrite
from sync_pipeline.errors import ApplyError, ConfigError
from sync_pipeline.values.carried import decode_row


def apply_diff(run: ImportRun, diff: BatchDiff, *, lookup: bool = False) -> None:
    """Write one diff (of a batch, or of one chunk), computed now or planned earlier."""
    run.errors += [(dict(r), reason) for r, reason in diff.errors]
    run.counts["skipped"] += len(diff.dropped)
    run.partial = run.partial or bool(diff.dropped or diff.errors)
    run.seen.record(diff, lookup=lookup)
    size = run.chunk_rows
    n = diff.rows.num_rows
    total = None if lookup else run.done + n  # a stream does not know its later chunks' size
    for number, start in enumerate(range(0, n, size), start=1):
        end = min(start + size, n)
        release_pages()  # of a staged diff, what was read before this window need not stay
        try:
            _write(run, diff.views(run.plan.identity, start, end))
        except sa.exc.DBAPIError as exc:
            raise ApplyError(
                f"writing chunk {number} of {run.plan.target.name!r} failed; "
                f"the batch was rolled back: {exc.orig}",
                batch_id=run.batch_id,
                chunk=number,
            ) from exc
        run.done += end - start
        run.options.progress(run.done, total, "write")


def _write(run: ImportRun, views: Views) -> None:
    options = run.options
    inserts, updates, deletes = views.inserts(), views.updates(), views.deletes()
    if run.plan.batch_mode == "column" and run.stamp is not None:
        run.stamps.append(views.unchanged())
    run.counts["unchanged"] += views.count("unchanged")
    run.counts["skipped"] += views.count("skipped")
    inserts = _inserts(run, inserts)
    soft = options.delete_mode == "soft_delete"
    run.writer.write(
        ChunkWrite(inserts, updates, deletes, update_constants(run, updates.values.column_names)),
        delete=(options.soft_delete_column, run.now) if soft else None,
    )
    run.counts["created"] += inserts.num_rows
    run.counts["updated"] += updates.keys.num_rows
    run.counts["deleted"] += deletes.num_rows
    if options.on_inserted or options.on_inserted_or_updated:
        run.inserted += [decode_row(r, run.plan.target.kinds) for r in inserts.to_pylist()]
    if options.on_updated or options.on_inserted_or_updated:
        _collect_updates(run, updates)


def update_constants(run: ImportRun, compared: list[str]) -> dict[str, Any]:
    """Values every updated row gets besides its own: the batch id and the updated-at time."""
    constants: dict[str, Any] = {}
    if run.stamp is not None:
        constants[run.options.batch_column] = run.batch_id
    if run.plan.updated_column and run.plan.updated_column not in compared:
        constants[run.plan.updated_column] = run.now
    return constants


def _inserts(run: ImportRun, data: pa.Table) -> pa.Table:
    """New rows as written: managed columns (timestamps, batch id) set, before_insert applied."""
    plan, n = run.plan, data.num_rows
    if run.options.strategy == "append":
        data = data.drop_columns([c for c in plan.target.primary_key if c in data.column_names])
    for column in (c for c in (plan.created_column, plan.updated_column) if c):
        if column not in data.column_names:
            typ = plan.target.arrow[column]
            data = data.append_column(column, _constant(run.now, n, typ))
    if run.stamp is not None:
        batch_col = run.options.batch_column
        if batch_col in data.column_names:
            data = data.drop_columns([batch_col])
        data = data.append_column(batch_col, _constant(run.batch_id, n, pa.int64()))
    if run.options.before_insert is not None and n:
        data = _before_insert(run, data)
    return data


def _before_insert(run: ImportRun, data: pa.Table) -> pa.Table:
    rows = [decode_row(r, run.plan.target.kinds) for r in data.to_pylist()]
    result = run.options.before_insert(rows)  # type: ignore[misc]
    if result is None or isinstance(result, (str, bytes)) or not hasattr(result, "__iter__"):
        raise ConfigError(
            f"before_insert must return an iterable of rows, got {type(result).__name__}"
        )
    return normalize(list(result), run.plan.target)


def _collect_updates(run: ImportRun, updates: Updates) -> None:
    when = run.options.on_updated_when
    constants = update_constants(run, updates.values.column_names)
    keys, values = updates.keys.to_pylist(), updates.values.to_pylist()
    for key, row, flag in zip(keys, values, updates.changed.to_pylist(), strict=True):
        if when and not any(flag.get(f) for f in when):
            continue
        run.updated.append(decode_row({**key, **row, **constants}, run.plan.target.kinds))


def _constant(value: Any, n: int, typ: pa.DataType) -> pa.Array:
    return pa.array([value] * n, type=typ) if n else pa.array([], type=typ)
