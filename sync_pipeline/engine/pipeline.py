"""One batch through the engine, top-down: normalize -> match -> diff -> guard -> apply -> finish.

Each stage is one call inside `run.stage(name)`, so an error leaving it names the stage, the
table and the batch id once (see ImportRun.stage). A chunked import runs the first five stages
per chunk and `finish` once.
"""

from collections.abc import Iterable
from dataclasses import replace

import pyarrow as pa
import sqlalchemy as sa

from sync_pipeline.engine.apply import apply_diff
from sync_pipeline.engine.diff import BatchDiff, combine
from sync_pipeline.engine.fetch import fetch_by_keys, fetch_scope
from sync_pipeline.engine.finish import finish
from sync_pipeline.engine.matching import compute_diff, match, missing_rows, target_keys_of
from sync_pipeline.engine.normalize import Records, normalize_batch
from sync_pipeline.engine.plan import Plan
from sync_pipeline.engine.results import ImportResult
from sync_pipeline.engine.run import ImportRun
from sync_pipeline.engine.stale import check_current


def import_all(run: ImportRun, batch: Records | None, chunks: Iterable[Records]) -> ImportResult:
    """Import one batch, or a stream of chunks, into the run's table; returns the result."""
    if batch is not None:
        import_batch(run, batch)
    for chunk in chunks:
        import_batch(run, chunk, lookup=True)
    with run.stage("finish"):
        return finish(run)


def import_batch(run: ImportRun, records: Records, *, lookup: bool = False) -> BatchDiff:
    """Diff one batch (or one chunk of a streamed batch) and write it.

    With `lookup` (chunked imports) only the target rows the chunk's keys hit are read, when the
    keys allow it; otherwise the whole scope is read once.
    """
    diff = plan_batch(run, records, lookup=lookup, earlier_keys=run.seen.earlier_keys())
    with run.stage("guard", users=True):  # the caller's veto: raising rolls everything back
        if run.options.guard is not None:
            run.options.guard(diff)
    with run.stage("apply"):
        apply_diff(run, diff, lookup=lookup)
    return diff


def plan_batch(
    run: ImportRun, records: Records, *, lookup: bool = False, earlier_keys: pa.Table | None
) -> BatchDiff:
    """normalize -> match -> diff: what the batch would do to the target (reads only)."""
    with run.stage("normalize"):
        batch = normalize_batch(records, run.plan.target, run.options)
    with run.stage("match"):
        existing = read_existing(run.conn, run.plan, batch.table, lookup=lookup)
        matched = match(run.plan, batch.table, existing, run.codes, earlier_keys)
    with run.stage("diff"):
        diff = compute_diff(run.plan, matched, existing, batch.deletes)
    return replace(diff, errors=batch.errors)


def plan_all(run: ImportRun, batch: Records | None, chunks: Iterable[Records]) -> BatchDiff:
    """The diff of one batch, or of a stream of chunks as one diff (`BatchImport.plan`).

    A stream is normalized and matched chunk by chunk as it arrives, against the scope read
    once: a planned diff keeps the rows it was planned against, for `apply` to check them.
    """
    if batch is not None:
        return plan_batch(run, batch, earlier_keys=None)
    with run.stage("match"):
        existing = fetch_scope(run.conn, run.plan)
        target_keys = target_keys_of(run.plan, existing, run.codes)
    parts: list[BatchDiff] = []
    for chunk in chunks:
        with run.stage("normalize"):
            normalized = normalize_batch(chunk, run.plan.target, run.options)
        with run.stage("match"):
            earlier = run.seen.earlier_keys()
            matched = match(run.plan, normalized.table, existing, run.codes, earlier, target_keys)
        with run.stage("diff"):
            part = compute_diff(run.plan, matched, existing, normalized.deletes, missing=False)
        parts.append(replace(part, errors=normalized.errors))
        run.seen.record(part, lookup=True)
    if not parts:
        return plan_batch(run, [], earlier_keys=None)
    with run.stage("diff"):
        touched = pa.concat_arrays([p.touched() for p in parts])
        return combine(parts, existing, missing_rows(run.plan, existing, touched))


def apply_planned(run: ImportRun, diff: BatchDiff) -> ImportResult:
    """Apply a diff planned earlier: check it is still current, then guard, apply, finish."""
    with run.stage("check"):
        check_current(run.conn, run.plan, diff)
    with run.stage("guard", users=True):
        if run.options.guard is not None:
            run.options.guard(diff)
    with run.stage("apply"):
        apply_diff(run, diff)
    with run.stage("finish"):
        return finish(run)


def read_existing(conn: sa.Connection, plan: Plan, batch: pa.Table, *, lookup: bool) -> pa.Table:
    """The target rows a batch is compared with: those its keys hit, or the whole scope."""
    if lookup and plan.exact_keys and plan.options.strategy != "append":
        return fetch_by_keys(conn, plan, batch)
    return fetch_scope(conn, plan)
