"""Batch ids: the ledger table, the next id per table, the lock, and missing-after-batch."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from sync_pipeline.db.schema import TargetTable

LEDGER_TABLE = "_sync_batches"


def ledger_table(schema: str | None) -> sa.Table:
    """The small ledger of batches, one per target schema."""
    return sa.Table(
        LEDGER_TABLE,
        sa.MetaData(),
        sa.Column("table_name", sa.String(255), primary_key=True),
        sa.Column("batch_column", sa.String(255), primary_key=True),
        sa.Column("batch_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("scope", sa.Text),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("updated", sa.BigInteger, nullable=False),
        sa.Column("unchanged", sa.BigInteger, nullable=False),
        sa.Column("skipped", sa.BigInteger, nullable=False),
        sa.Column("deleted", sa.BigInteger, nullable=False),
        sa.Column("missing", sa.BigInteger, nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        schema=schema,
    )


def ensure_ledger(conn: sa.Connection, schema: str | None) -> sa.Table:
    ledger = ledger_table(schema)
    ledger.create(conn, checkfirst=True)
    return ledger


def lock_table(conn: sa.Connection, target: TargetTable) -> None:
    """Serialize imports into one table: a transaction-scoped advisory lock on Postgres.

    SQLite serializes writers itself (one write transaction at a time).
    """
    if conn.dialect.name == "postgresql":
        key = f"sync_pipeline:{target.name}"
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(key, 0))))


def next_batch_id(conn: sa.Connection, target: TargetTable, column: str, ledger: sa.Table) -> int:
    """Greater than every id used for this table and column, in the ledger or in the column."""
    in_ledger = conn.execute(
        sa.select(sa.func.max(ledger.c.batch_id)).where(
            ledger.c.table_name == target.name, ledger.c.batch_column == column
        )
    ).scalar()
    in_column = conn.execute(sa.select(sa.func.max(target.table.c[column]))).scalar()
    return max(int(in_ledger or 0), int(in_column or 0)) + 1


def record_batch(
    conn: sa.Connection,
    ledger: sa.Table,
    target: TargetTable,
    column: str,
    batch_id: int,
    *,
    mode: str,
    counts: Mapping[str, int],
    scope: str | None,
    now: dt.datetime,
) -> None:
    """Write (or overwrite, for a re-run of the same id) the ledger row of this batch."""
    keys = {"table_name": target.name, "batch_column": column, "batch_id": batch_id}
    conn.execute(sa.delete(ledger).where(*[ledger.c[k] == v for k, v in keys.items()]))
    conn.execute(
        sa.insert(ledger).values(
            **keys,
            mode=mode,
            status="applied",
            scope=scope,
            finished_at=now,
            **{
                k: counts.get(k, 0)
                for k in ("created", "updated", "unchanged", "skipped", "deleted", "missing")
            },
        )
    )


def missing_clause(target: TargetTable, column: str, batch_id: int) -> sa.ColumnElement[bool]:
    col = target.column(column, role="batch column")
    return sa.or_(col.is_(None), col < batch_id)


def as_dicts(result: sa.CursorResult[Any]) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in result]
