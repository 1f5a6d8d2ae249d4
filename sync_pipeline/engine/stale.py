"""Is a planned BatchDiff still current? What a diff keeps of the target it was planned
against, and the check that the target still holds it.

A diff stays exact while the rows its records match are as they were and the scope holds the
same rows (missing-row detection and inserts depend on that set); anything else makes it stale.
So a planned diff keeps (`baseline`) the identity of every row in scope (`BatchDiff.scope`) and
the target's columns (`BatchDiff.columns`); of the rows it touches, their version where the
database keeps row versions (Postgres: `xmin`, read by the statement that read the rows, so from
the same snapshot; in `scope`), else all their values (in `old`).

`check_current` compares with the scope now. With versions and an identity that is never null (a
primary key), in the database: the scope as planned is COPYed into a temporary table and joined
with the table, so no row travels. Otherwise the scope is read (only identity and version, where
there are versions) and compared here.

A version changes with every write to a row, even one that leaves its values as they were: such
a no-op update makes the diff stale where a comparison of values would not (a conservative error).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from sync_pipeline.db import labels
from sync_pipeline.db.copy import drop_stage, stage_values, work_memory_for
from sync_pipeline.db.dialect import Dialect
from sync_pipeline.db.labels import VERSION
from sync_pipeline.db.read import read_rows
from sync_pipeline.engine.diff import BatchDiff, lean
from sync_pipeline.engine.plan import Plan
from sync_pipeline.engine.staged import release_pages
from sync_pipeline.errors import ConfigError, StaleDiffError

_AGAIN = (
    "nothing was written: plan the diff again (under Dagster: materialize the diff asset again)"
)


def baseline(plan: Plan, diff: BatchDiff, existing: pa.Table) -> BatchDiff:
    """`diff`, planned against `existing` (the rows in scope), as `apply` needs it: lean, and
    with what `check_current` compares. With versions, of the rows it touches only identity and
    (for the rows a record changes) the compared values are kept."""
    columns = [c.name for c in plan.table.columns]
    identity = list(plan.identity)
    scope = existing.select(identity)
    if VERSION in existing.column_names:
        touched = np.zeros(existing.num_rows, dtype=bool)
        touched[diff.touched().to_numpy()] = True
        untouched = pa.array(~touched, type=pa.bool_())
        scope = scope.append_column(
            VERSION, pc.if_else(untouched, pa.scalar(None, pa.int64()), existing.column(VERSION))
        )
        keys = dict.fromkeys([*identity, *plan.target.primary_key])
        sparse = frozenset(c for c in diff.compared if c not in keys)
        kept = [c for c in existing.column_names if c in keys or c in sparse]
    else:
        kept, sparse = columns, frozenset()
    return replace(
        lean(diff, kept, sparse),
        missing_rows=diff.missing_rows.select(columns),
        scope=scope,
        columns=tuple(columns),
    )


def check_current(conn: sa.Connection, plan: Plan, diff: BatchDiff) -> None:
    """Raise StaleDiffError unless the target still holds what `diff` was planned against."""
    if diff.table != plan.target.name or diff.key_fields != plan.keys.fields:
        raise ConfigError(
            f"this diff was planned for {diff.table!r} matched by {list(diff.key_fields)}, not "
            f"for {plan.target.name!r} matched by {list(plan.keys.fields)}"
        )
    if diff.scope is None:
        raise ConfigError("apply() takes a diff from BatchImport.preview(); this one is not")
    columns = [c.name for c in plan.table.columns]
    if set(diff.columns) != set(columns):
        raise StaleDiffError(
            f"the columns of {plan.target.name!r} changed since the diff was planned "
            f"({sorted(set(diff.columns) ^ set(columns))}); {_AGAIN}"
        )
    never_null = not any(plan.table.c[c].nullable for c in plan.identity)
    if (diff.scope.schema.metadata or {}).get(ROWS) is not None:
        n = _count_by_fingerprint(conn, plan, diff.scope)
    elif VERSION in diff.scope.column_names and never_null:
        n = _count_in_database(conn, plan, diff.scope)
    else:
        n = _count_here(conn, plan, diff)
    if n:
        raise StaleDiffError(
            f"{n} row(s) of {plan.target.name!r} changed since the diff was planned (rows it "
            f"touches, or rows added to or removed from its scope); {_AGAIN}"
        )


def _count_in_database(conn: sa.Connection, plan: Plan, planned: pa.Table) -> int:
    """Rows in scope now or as `planned` (identity, version of a touched row) but not both, or
    touched and of another version now: the planned scope staged, one full join, one count."""
    with _planned_and_now(conn, plan, planned) as (stage, now):
        first = plan.identity[0]
        was = stage.c[VERSION]
        stale = sa.or_(
            now.c[first].is_(None),  # removed from the scope
            stage.c[first].is_(None),  # added to it
            sa.and_(was.is_not(None), now.c[VERSION] != was),  # touched, and written since
        )
        joined = now.join(stage, _same_identity(plan, now, stage), full=True)
        count = sa.select(sa.func.count()).select_from(joined).where(stale)
        return int(conn.execute(count).scalar_one())


@contextmanager
def _planned_and_now(
    conn: sa.Connection, plan: Plan, planned: pa.Table
) -> Iterator[tuple[sa.Table, sa.Subquery]]:
    """The planned scope (identity, version) staged, and the scope now (identity, version) as a
    subquery, for one join of the two under enough work memory that it does not spill; the stage
    is dropped after."""
    identity, table = list(plan.identity), plan.table
    version = Dialect.of(conn).row_version(table)
    assert version is not None  # the diff holds versions: they came from this database
    columns = [sa.Column(c, table.c[c].type) for c in identity]
    columns.append(sa.Column(VERSION, sa.BigInteger))
    stage = stage_values(conn, plan.target.dialect, columns, planned)
    release_pages()  # the planned rows are in the stage now, not needed while the join runs
    try:
        read = sa.select(*[table.c[c] for c in identity], version.label(VERSION))
        now = (read if plan.scope is None else read.where(plan.scope)).subquery()
        with work_memory_for(conn, planned.num_rows):  # a hash join that does not spill
            yield stage, now
    finally:
        drop_stage(conn, stage)


def _same_identity(plan: Plan, now: sa.Subquery, stage: sa.Table) -> sa.ColumnElement[bool]:
    return sa.and_(*[now.c[c] == stage.c[c] for c in plan.identity])


# A diff planned by looking rows up (lookup.py) keeps, in its `scope`'s schema metadata, the
# scope's row count and the sum of its rows' identity hashes, as the database computed them.
ROWS, HASH = b"sync_pipeline.scope_rows", b"sync_pipeline.scope_hash"


def fingerprint(conn: sa.Connection, plan: Plan) -> dict[bytes, bytes]:
    """The scope's row set in two numbers, computed in the database (one scan, nothing read)."""
    table = plan.table
    query = sa.select(sa.func.count(), _sum(_hash([table.c[c] for c in plan.identity])))
    rows, hashed = conn.execute(query if plan.scope is None else query.where(plan.scope)).one()
    return {ROWS: str(rows).encode(), HASH: str(hashed).encode()}


def _hash(columns: list[sa.ColumnElement[Any]]) -> sa.ColumnElement[Any]:
    text = [sa.cast(c, sa.Text) for c in columns]
    joined = text[0] if len(text) == 1 else sa.func.concat_ws(sa.literal("\x1f"), *text)
    return sa.func.hashtextextended(joined, 0)


def _sum(
    hashes: sa.ColumnElement[Any], where: sa.ColumnElement[bool] | None = None
) -> sa.ColumnElement[Any]:
    total = sa.func.sum(hashes)  # bigints sum up as numeric: no overflow
    return sa.func.coalesce(total if where is None else total.filter(where), 0)


def _count_by_fingerprint(conn: sa.Connection, plan: Plan, planned: pa.Table) -> int:
    """Touched rows (`planned`: identity, version) gone from the scope or written since, plus
    the other rows added to or removed from it: the count now against the planned count less the
    touched rows gone (at least one when only the hash tells, e.g. one row removed, one added)."""
    with _planned_and_now(conn, plan, planned) as (stage, now):
        gone = now.c[plan.identity[0]].is_(None)
        query = sa.select(
            sa.func.count().filter(gone),
            sa.func.count().filter(sa.and_(~gone, now.c[VERSION] != stage.c[VERSION])),
            _sum(_hash([stage.c[c] for c in plan.identity]), gone),
        ).select_from(stage.outerjoin(now, _same_identity(plan, now, stage)))
        removed, written, removed_hash = conn.execute(query).one()
        rows, hashed = (fingerprint(conn, plan)[k] for k in (ROWS, HASH))
    meta = planned.schema.metadata
    others = abs(int(rows) - (int(meta[ROWS]) - removed))
    if not others and Decimal(hashed.decode()) + removed_hash != Decimal(meta[HASH].decode()):
        others = 1
    return int(removed) + int(written) + others


def _count_here(conn: sa.Connection, plan: Plan, diff: BatchDiff) -> int:
    """The same count on the scope read now: identity and version, or every column."""
    assert diff.scope is not None
    identity = list(plan.identity)
    versioned = VERSION in diff.scope.column_names
    table, columns = plan.table, identity if versioned else None
    current = read_rows(conn, plan.target, plan.scope, columns=columns, versions=versioned)
    if versioned:
        touched = diff.scope.filter(pc.is_valid(diff.scope.column(VERSION)))
        return changed_rows(diff.scope, touched, current, plan.identity, [VERSION])
    compared = [c.name for c in table.columns]
    return changed_rows(diff.scope, diff.old, current, plan.identity, compared)


def changed_rows(
    scope: pa.Table,
    touched: pa.Table,
    current: pa.Table,
    identity: tuple[str, ...],
    compared: list[str],
) -> int:
    """Rows added to or removed from the `scope` (identities as planned), plus `touched` rows
    (as planned, all in scope) whose `compared` columns differ now."""
    planned, now, before = _codes([scope, current, touched], identity)
    keys = now.column_names
    now = now.append_column(labels.CURRENT, pa.array(np.arange(current.num_rows, dtype=np.int64)))
    before = before.append_column(
        labels.PLANNED, pa.array(np.arange(touched.num_rows, dtype=np.int64))
    )
    removed = planned.join(now, keys=keys, join_type="left anti", use_threads=False).num_rows
    added = now.join(planned, keys=keys, join_type="left anti", use_threads=False).num_rows
    pairs = before.join(now, keys=keys, join_type="inner", use_threads=False)
    after = current.take(pairs.column(labels.CURRENT))
    before = touched.take(pairs.column(labels.PLANNED))
    differs = pa.array([False] * pairs.num_rows, pa.bool_())
    for name in compared:
        differs = pc.or_(differs, _differs(before.column(name), after.column(name)))
    return removed + added + int(pc.sum(differs).as_py() or 0)


def _codes(tables: list[pa.Table], identity: tuple[str, ...]) -> list[pa.Table]:
    """Identity columns as integer codes shared by all `tables` (a null is a value of its own),
    plus each row's occurrence of its identity in its table: rows of a repeated identity (a
    null one, say) pair up one by one, so one more or one fewer of them counts."""
    sizes = [t.num_rows for t in tables]
    columns: list[dict[str, pa.Array]] = [{} for _ in tables]
    for i, name in enumerate(identity):
        both = pa.concat_arrays([t.column(name).combine_chunks() for t in tables])
        codes = pc.fill_null(pc.dictionary_encode(both).indices.cast(pa.int64()), -1)
        start = 0
        for out, size in zip(columns, sizes, strict=True):
            out[f"{labels.ID}{i}"] = codes.slice(start, size)
            start += size
    for out in columns:
        out[labels.OCCURRENCE] = _occurrence([c.to_numpy() for c in out.values()])
    return [pa.table(c) for c in columns]


def _occurrence(codes: list[np.ndarray]) -> pa.Array:
    """Per row, how many rows before it (in a stable order) have the same codes."""
    n = len(codes[0])
    order = np.lexsort(codes[::-1])
    ordered = [c[order] for c in codes]
    same = np.ones(n, dtype=bool)  # as the row before it
    for c in ordered:
        same[1:] &= c[1:] == c[:-1]
    starts = ~same
    starts[:1] = True
    index = np.arange(n)
    occurrence = np.empty(n, dtype=np.int64)
    occurrence[order] = index - np.maximum.accumulate(np.where(starts, index, 0))
    return pa.array(occurrence, type=pa.int64())


def _differs(before: pa.ChunkedArray, after: pa.ChunkedArray) -> pa.Array:
    """Per row: the values differ, exactly as read (null equals null, NaN equals NaN)."""
    same = pc.fill_null(pc.equal(before, after), False)
    same = pc.or_(same, pc.and_(pc.is_null(before), pc.is_null(after)))
    if pa.types.is_floating(before.type):
        nan = pc.and_(pc.is_nan(before), pc.is_nan(after))
        same = pc.or_(same, pc.fill_null(nan, False))
    return pc.invert(same)
