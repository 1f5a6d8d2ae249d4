"""Is a planned BatchDiff still current? Compare the rows it was planned against with the target.

A diff was computed against the rows in scope (`BatchDiff.old`). It stays exact while the rows
it matched hold the same values and the scope holds the same rows (missing-row detection and
inserts depend on that set). Anything else makes it stale.
"""

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from sync_pipeline.db import labels
from sync_pipeline.db.read import read_rows
from sync_pipeline.engine.diff import BatchDiff
from sync_pipeline.engine.plan import Plan
from sync_pipeline.errors import ConfigError, StaleDiffError


def check_current(conn: sa.Connection, plan: Plan, diff: BatchDiff) -> None:
    """Raise StaleDiffError unless the target still holds what `diff` was planned against."""
    if diff.table != plan.target.name or diff.key_fields != plan.keys.fields:
        raise ConfigError(
            f"this diff was planned for {diff.table!r} matched by {list(diff.key_fields)}, not "
            f"for {plan.target.name!r} matched by {list(plan.keys.fields)}"
        )
    columns = [c.name for c in plan.table.columns]
    planned = {c for c in diff.old.column_names if not c.startswith(labels.EXPRESSION)}
    if planned != set(columns):
        raise StaleDiffError(
            f"the columns of {plan.target.name!r} changed since the diff was planned "
            f"({sorted(planned ^ set(columns))}); nothing was written: plan the diff again "
            "(under Dagster: materialize the diff asset again)"
        )
    current = read_rows(conn, plan.table, plan.target.kinds, plan.scope)
    n = changed_rows(diff.old.select(columns), current, plan.identity, diff.touched())
    if n:
        raise StaleDiffError(
            f"{n} row(s) of {plan.target.name!r} changed since the diff was planned (values of "
            "rows it touches, or rows added to or removed from its scope); nothing was written: "
            "plan the diff again (under Dagster: materialize the diff asset again)"
        )


def changed_rows(
    planned: pa.Table, current: pa.Table, identity: tuple[str, ...], touched: pa.Array
) -> int:
    """Rows added to or removed from the scope, plus touched rows whose values differ."""
    left, right = _codes(planned, current, identity)
    left = left.append_column("__p", pa.array(range(planned.num_rows), pa.int64()))
    right = right.append_column("__c", pa.array(range(current.num_rows), pa.int64()))
    keys = [c for c in left.column_names if c.startswith("__id")]
    removed = left.join(right, keys=keys, join_type="left anti", use_threads=False).num_rows
    added = right.join(left, keys=keys, join_type="left anti", use_threads=False).num_rows
    left = left.filter(pc.is_in(left.column("__p"), value_set=touched))
    pairs = left.join(right, keys=keys, join_type="inner", use_threads=False)
    before = planned.take(pairs.column("__p"))
    after = current.take(pairs.column("__c"))
    differs = pa.array([False] * pairs.num_rows, pa.bool_())
    for name in planned.column_names:
        differs = pc.or_(differs, _differs(before.column(name), after.column(name)))
    return removed + added + int(pc.sum(differs).as_py() or 0)


def _codes(
    planned: pa.Table, current: pa.Table, identity: tuple[str, ...]
) -> tuple[pa.Table, pa.Table]:
    """Identity columns as integer codes shared by both tables (a null is a value of its own)."""
    left, right = {}, {}
    n = planned.num_rows
    for i, name in enumerate(identity):
        both = pa.concat_arrays(
            [planned.column(name).combine_chunks(), current.column(name).combine_chunks()]
        )
        codes = pc.fill_null(pc.dictionary_encode(both).indices.cast(pa.int64()), -1)
        left[f"__id{i}"] = codes.slice(0, n)
        right[f"__id{i}"] = codes.slice(n)
    return pa.table(left), pa.table(right)


def _differs(before: pa.ChunkedArray, after: pa.ChunkedArray) -> pa.Array:
    """Per row: the values differ, exactly as read (null equals null, NaN equals NaN)."""
    same = pc.fill_null(pc.equal(before, after), False)
    same = pc.or_(same, pc.and_(pc.is_null(before), pc.is_null(after)))
    if pa.types.is_floating(before.type):
        nan = pc.and_(pc.is_nan(before), pc.is_nan(after))
        same = pc.or_(same, pc.fill_null(nan, False))
    return pc.invert(same)
