"""Act on rows missing after a batch (delete or soft-delete), guarded by the batch ledger."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from sync_pipeline.db.connect import Target, read_connection, transaction
from sync_pipeline.db.schema import TargetTable, reflect
from sync_pipeline.engine import batches
from sync_pipeline.engine.plan import scope_clause


@dataclass(frozen=True, slots=True)
class CleanupResult:
    """How many rows were deleted or soft-deleted, or why none may be (`blocked`)."""

    rows: int
    blocked: str | None = None


def delete_missing(
    target: Target,
    table: str,
    batch_id: int,
    *,
    mode: Literal["delete", "soft_delete"] = "delete",
    column: str = "last_batch_id",
    where: Mapping[str, Any] | sa.ColumnElement[bool] | None = None,
    soft_delete_column: str = "deleted_at",
) -> CleanupResult:
    """Delete (or stamp `soft_delete_column` on) the rows batch `batch_id` did not see, in one
    transaction; nothing is touched when the ledger says the batch failed, was empty or partial.

    Args:
        target: an Engine, a Connection or a URL, as for import_records.
        where: the scope the batch covered (a partition, a tenant), as for missing_after_batch.
    """
    with transaction(target) as conn:
        t = reflect(conn, table)
        batches.lock_table(conn, t)
        blocked = batches.deletion_blocker(conn, t, column, batch_id)
        if blocked is not None:
            return CleanupResult(0, f"nothing deleted: {blocked}")
        clause = batches.missing_condition(conn, t, column, batch_id)
        scope = scope_clause(t, where)
        if scope is not None:
            clause = sa.and_(clause, scope)
        if mode == "delete":
            return CleanupResult(int(conn.execute(sa.delete(t.table).where(clause)).rowcount))
        stamp = t.column(soft_delete_column, role="soft-delete column")
        now = dt.datetime.now(dt.UTC)
        if not getattr(stamp.type, "timezone", False):
            now = now.replace(tzinfo=None)
        stmt = sa.update(t.table).where(clause, stamp.is_(None)).values({stamp.name: now})
        return CleanupResult(int(conn.execute(stmt).rowcount))


def deletion_blocked(
    target: Target, table: str, batch_id: int, column: str = "last_batch_id"
) -> str | None:
    """Why rows missing after batch `batch_id` may not be deleted (failed, empty or partial
    batch, from the ledger), or None when they may."""
    with read_connection(target) as conn:
        return batches.deletion_blocker(conn, reflect(conn, table), column, batch_id)


def latest_batch(
    conn: sa.Connection, target: TargetTable, column: str, scope: sa.ColumnElement[bool] | None
) -> int | None:
    """The newest batch of `target` for this scope: recorded in the ledger for exactly this
    scope, or stamped on a row in it (a column-mode batch of a wider scope); None: no batch."""
    found = []
    ledger = batches.ledger_table(target.table.schema)
    if sa.inspect(conn).has_table(ledger.name, schema=ledger.schema):
        text = batches.scope_text(scope)
        same = ledger.c.scope.is_(None) if text is None else ledger.c.scope == text
        query = sa.select(sa.func.max(ledger.c.batch_id)).where(
            ledger.c.table_name == target.name, ledger.c.batch_column == column, same
        )
        found.append(conn.execute(query).scalar())
    if column in target.table.c:
        stamped = sa.select(sa.func.max(target.table.c[column]))
        found.append(conn.execute(stamped if scope is None else stamped.where(scope)).scalar())
    ids = [int(i) for i in found if i is not None]
    return max(ids) if ids else None
