"""One batch through the engine, top-down: normalize -> match -> diff -> guard -> apply -> finish.

An orchestrator runs its stages inside one `Stage` block and names each stage as it starts it
(`at.name = "match"`), so an error leaving a stage names the stage, the table and the batch id
once. A chunked import runs the first five stages per chunk and `finish` once; `plan_all` stops
after diff, `apply_planned` starts with a staleness check instead.
"""

from collections.abc import Iterable, Iterator
from dataclasses import replace
from types import TracebackType
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from sync_pipeline.db.copy import drop_stage, stage_values
from sync_pipeline.db.read import read_rows, scope_fits
from sync_pipeline.engine.apply import apply_diff
from sync_pipeline.engine.diff import BatchDiff, combine
from sync_pipeline.engine.keys import Keys
from sync_pipeline.engine.lookup import LookedUp, can_look_up
from sync_pipeline.engine.matching import compute_diff, match, missing_rows, target_keys_of
from sync_pipeline.engine.normalize import Records, normalize_batch
from sync_pipeline.engine.plan import Plan
from sync_pipeline.engine.results import ImportResult
from sync_pipeline.engine.run import ImportRun, finish
from sync_pipeline.engine.stale import baseline, check_current
from sync_pipeline.errors import StageError, SyncError


def open_run(conn: sa.Connection, plan: Plan) -> ImportRun:
    """An import into the plan's table: the table locked, the batch id taken."""
    run = ImportRun(conn, plan)
    with stage(run, "begin"):
        run.begin()
    return run


def import_all(run: ImportRun, batch: Records | None, chunks: Iterable[Records]) -> ImportResult:
    """Import one batch, or a stream of chunks, into the run's table; returns the result."""
    if batch is not None:
        import_batch(run, batch)
    for unit in coalesce(chunks, LOOKUP_ROWS):
        import_batch(run, unit, lookup=True)
    return finish_import(run)


# Rows of a stream looked up and diffed together: a look-up costs about one scan of the target
# (the keys of a chunk are spread over all of it), so it is paid per unit, not per small chunk.
LOOKUP_ROWS = 200_000


def coalesce(chunks: Iterable[Records], rows: int) -> Iterator[Records]:
    """A stream's Arrow chunks joined (without copying) into units of at least `rows` rows, so
    memory stays bounded by the unit; a DataFrame or a chunk of another schema ends the unit."""
    pending: list[pa.Table] = []
    count = 0
    for chunk in chunks:
        fits = isinstance(chunk, pa.Table) and (not pending or chunk.schema == pending[0].schema)
        if pending and not fits:
            yield pa.concat_tables(pending)
            pending, count = [], 0
        if not isinstance(chunk, pa.Table):
            yield chunk
            continue
        pending.append(chunk)
        count += chunk.num_rows
        if count >= rows:
            yield pa.concat_tables(pending)
            pending, count = [], 0
    if pending:
        yield pa.concat_tables(pending)


def import_batch(run: ImportRun, records: Records, *, lookup: bool = False) -> BatchDiff:
    """Diff one batch (or one chunk of a streamed batch) and write it. With `lookup` (chunked
    imports) only the target rows the chunk's keys hit are read, when the keys allow it;
    otherwise the whole scope is read once."""
    with Stage(run, "normalize") as at:
        batch = normalize_batch(records, run.plan.target, run.options)
        at.name = "match"
        existing, keys = _existing(run, batch.table, lookup=lookup)
        matched = match(run.plan, batch.table, existing, run.codes, run.seen.earlier_keys(), keys)
        at.name = "diff"  # a chunk of a held scope leaves its missing rows to finish
        diff = compute_diff(run.plan, matched, existing, batch.deletes, missing=keys is None)
        diff = replace(diff, errors=batch.errors)
        if run.options.guard is not None:  # the caller's veto: raising rolls everything back
            at.name, at.users = "guard", True
            run.options.guard(diff)
        at.name, at.users = "apply", False
        apply_diff(run, diff, lookup=lookup)
    return diff


# Takes each planned part of a diff (a chunk's, or the batch's) and returns what to keep of it:
# DiffWriter.part writes it to disk and keeps it mapped from there. With `own_old` the part's
# `old` is its own (looked up for it), not the scope all the parts share.
class Sink(Protocol):
    def __call__(self, part: BatchDiff, /, *, own_old: bool = False) -> BatchDiff: ...


def _keep(part: BatchDiff, *, own_old: bool = False) -> BatchDiff:
    return part


def plan_batch(run: ImportRun, records: Records, sink: Sink = _keep) -> BatchDiff:
    """normalize -> match -> diff: what the batch would do to the target (reads only)."""
    with Stage(run, "normalize") as at:
        batch = normalize_batch(records, run.plan.target, run.options)
        at.name = "match"
        existing = _fetch_scope(run.conn, run.plan, versions=True)
        matched = match(run.plan, batch.table, existing, run.codes)
        at.name = "diff"
        diff = compute_diff(run.plan, matched, existing, batch.deletes)
        return baseline(run.plan, sink(replace(diff, errors=batch.errors)), existing)


def plan_all(
    run: ImportRun, batch: Records | None, chunks: Iterable[Records], sink: Sink = _keep
) -> BatchDiff:
    """The diff of one batch, or of a stream of chunks as one diff (`BatchImport.preview`).

    A stream is normalized and matched chunk by chunk as it arrives, against the scope read
    once; each chunk's diff goes through `sink` as soon as it is planned. A planned diff keeps
    what it was planned against, for `apply` to check (stale.py).
    """
    if batch is not None:
        return plan_batch(run, batch, sink)
    with stage(run, "match"):
        plan, conn = run.plan, run.conn
        if can_look_up(conn, plan) and not scope_fits(conn, plan.target, plan.scope, HOLD_BYTES):
            return _plan_looked_up(run, chunks, sink)
        existing = _fetch_scope(run.conn, run.plan, versions=True)
        target_keys = target_keys_of(run.plan, existing, run.codes)
    parts: list[BatchDiff] = []
    for chunk in chunks:
        with stage(run, "normalize"):
            normalized = normalize_batch(chunk, run.plan.target, run.options)
        with stage(run, "match"):
            earlier = run.seen.earlier_keys()
            matched = match(run.plan, normalized.table, existing, run.codes, earlier, target_keys)
        with stage(run, "diff"):
            part = compute_diff(run.plan, matched, existing, normalized.deletes, missing=False)
        run.seen.record_keys(part)
        parts.append(sink(replace(part, errors=normalized.errors)))
    if not parts:
        return plan_batch(run, [], sink)
    with stage(run, "diff"):
        touched = pa.concat_arrays([p.touched() for p in parts])
        diff = combine(parts, existing, missing_rows(run.plan, existing, touched))
        return baseline(run.plan, diff, existing)


def _plan_looked_up(run: ImportRun, chunks: Iterable[Records], sink: Sink) -> BatchDiff:
    """`plan_all` of a stream whose scope is too big to hold: each chunk against the target rows
    its keys hit, the missing rows found in the database (lookup.py)."""
    looked_up = LookedUp(run.conn, run.plan)
    for unit in coalesce(chunks, LOOKUP_ROWS):  # a look-up costs about a scan: per unit
        looked_up.parts.append(sink(_plan_chunk(run, looked_up, unit), own_old=True))
    if not looked_up.parts:  # an empty stream: one empty part
        looked_up.parts.append(sink(_plan_chunk(run, looked_up, []), own_old=True))
    with stage(run, "diff"):
        return looked_up.diff()


def _plan_chunk(run: ImportRun, looked_up: LookedUp, chunk: Records) -> BatchDiff:
    plan = run.plan
    with Stage(run, "normalize") as at:
        normalized = normalize_batch(chunk, plan.target, run.options)
        at.name = "match"
        existing = fetch_by_keys(run.conn, plan, normalized.table, versions=True)
        matched = match(plan, normalized.table, existing, run.codes, run.seen.earlier_keys())
        at.name = "diff"
        part = compute_diff(plan, matched, existing, normalized.deletes, missing=False)
        run.seen.record_keys(part)
        return looked_up.lean(replace(part, errors=normalized.errors))


def apply_planned(run: ImportRun, diff: BatchDiff) -> ImportResult:
    """Apply a diff planned earlier: check it is still current, then guard, apply, finish."""
    with Stage(run, "check") as at:
        check_current(run.conn, run.plan, diff)
        if run.options.guard is not None:
            at.name, at.users = "guard", True
            run.options.guard(diff)
        at.name, at.users = "apply", False
        apply_diff(run, diff)
    return finish_import(run)


def finish_import(run: ImportRun) -> ImportResult:
    with Stage(run, "finish") as at:
        result = finish(run)
        if run.options.before_commit is not None:  # the caller's last veto, before the commit
            at.name, at.users = "guard", True
            run.options.before_commit(result)
    return result


class Stage:
    """The stage a block of an orchestrator is in (`name`, set as each stage starts).

    An error leaving the block names that stage, once: ours keep their type, anything else
    becomes a StageError; in a `users` stage (the caller's guard) the caller's own exception
    goes through with a note."""

    __slots__ = ("name", "run", "users")

    def __init__(self, run: ImportRun, name: str, *, users: bool = False) -> None:
        self.run, self.name, self.users = run, name, users

    def __enter__(self) -> "Stage":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        run, name = self.run, self.name
        if isinstance(exc, SyncError):
            exc.at(name, run.table, run.batch_id)
        elif isinstance(exc, StageError) or not isinstance(exc, Exception):
            return
        elif self.users:
            exc.add_note(f"raised in stage {name!r} of table {run.table!r}, batch {run.batch_id}")
        else:
            raise StageError(name, run.table, run.batch_id, exc) from exc


def stage(run: ImportRun, name: str, *, users: bool = False) -> Stage:
    """A block that is one stage from start to end."""
    return Stage(run, name, users=users)


# A stream whose scope takes at most this much (Postgres' size of it, about as much in Arrow) reads
# it once and matches every unit against it: a look-up per unit costs about a scan of the target.
HOLD_BYTES = 512 << 20


def _existing(run: ImportRun, batch: pa.Table, *, lookup: bool) -> tuple[pa.Table, Keys | None]:
    """The target rows a batch is compared with, and their keys when already built (a held
    scope). The first unit of a stream decides whether the stream holds its scope: with
    duplicates "last" a key can come back in a later unit, whose row an earlier one wrote."""
    seen, plan = run.seen, run.plan
    first = lookup and seen.calls == 0 and plan.options.duplicates != "last"
    if first and scope_fits(run.conn, plan.target, plan.scope, HOLD_BYTES):
        scope = _fetch_scope(run.conn, plan)
        seen.hold(scope, target_keys_of(plan, scope, run.codes))
    if lookup and seen.scope is not None:
        return seen.scope, seen.scope_keys
    return read_existing(run.conn, plan, batch, lookup=lookup), None


def read_existing(conn: sa.Connection, plan: Plan, batch: pa.Table, *, lookup: bool) -> pa.Table:
    """The target rows a batch is compared with: those its keys hit, or the whole scope."""
    if lookup and plan.exact_keys and plan.options.strategy != "append":
        return fetch_by_keys(conn, plan, batch)
    return _fetch_scope(conn, plan)


def _fetch_scope(conn: sa.Connection, plan: Plan, *, versions: bool = False) -> pa.Table:
    """Every row in scope: one COPY, best when most of the scope is in the batch (with their
    versions, where the database keeps them, for a diff planned to be applied later)."""
    return read_rows(conn, plan.target, plan.scope, plan.expressions, versions=versions)


def fetch_by_keys(
    conn: sa.Connection, plan: Plan, batch: pa.Table, *, versions: bool = False
) -> pa.Table:
    """Only the rows whose match fields equal a key of the batch (staged, then a semi-join).

    Needs keys that SQL equality decides (`plan.exact_keys`); memory stays bounded by the batch.
    """
    fields = list(plan.keys.fields)
    table = plan.table
    present = [f for f in fields if f in batch.column_names]
    if len(present) < len(fields) or batch.num_rows == 0:
        return read_rows(conn, plan.target, sa.false(), plan.expressions, versions=versions)
    keys = batch.select(fields)
    valid = pc.is_valid(keys.column(fields[0]))
    for f in fields[1:]:  # a key with a null part matches nothing
        valid = pc.and_(valid, pc.is_valid(keys.column(f)))
    keys = keys.filter(valid).group_by(fields, use_threads=False).aggregate([])
    staged = stage_values(
        conn, plan.target.dialect, [sa.Column(f, table.c[f].type) for f in fields], keys
    )
    try:
        target_cols = [table.c[f] for f in fields]
        hit = (
            target_cols[0].in_(sa.select(staged.c[fields[0]]))
            if len(fields) == 1
            else sa.tuple_(*target_cols).in_(sa.select(*[staged.c[f] for f in fields]))
        )
        where = hit if plan.scope is None else sa.and_(plan.scope, hit)
        return read_rows(conn, plan.target, where, plan.expressions, versions=versions)
    finally:
        drop_stage(conn, staged)
