"""Batch ids: the ledger table, the next id per table, the lock, and missing-after-batch."""

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import OID

from sync_pipeline.db.copy import bulk_insert
from sync_pipeline.db.dialect import Dialect
from sync_pipeline.db.schema import TargetTable
from sync_pipeline.values.coerce import coercer

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


def ensure_ledger(conn: sa.Connection, target: TargetTable) -> sa.Table:
    """The ledger of the target's schema, created if it is missing."""
    ledger = ledger_table(target.table.schema)
    create_once(conn, ledger, target.dialect)
    return ledger


def create_once(conn: sa.Connection, table: sa.Table, dialect: Dialect) -> None:
    """Create a bookkeeping table if it is missing, in the current transaction. On Postgres two
    first imports would both try to create it (one fails on pg_type): the creator holds a lock."""
    if sa.inspect(conn).has_table(table.name, schema=table.schema):
        return
    if dialect.advisory_locks:
        _advisory_lock(conn, f"sync_pipeline:create:{_quoted(conn, table)}")
    table.create(conn, checkfirst=True)


def lock_table(conn: sa.Connection, target: TargetTable) -> None:
    """Serialize imports into one table (see lock_tables)."""
    lock_tables(conn, [target])


def lock_tables(conn: sa.Connection, targets: Iterable[TargetTable]) -> None:
    """Serialize imports per table: transaction-scoped advisory locks on Postgres, taken in one
    global order (by table oid, however the name is spelled) so that imports naming the same
    tables in different orders queue up instead of deadlocking.

    SQLite serializes writers itself (one write transaction at a time).
    """
    targets = list(targets)
    if not targets or not targets[0].dialect.advisory_locks:
        return
    keys = set()
    for target in targets:
        quoted = _quoted(conn, target.table)
        oid = conn.execute(sa.select(sa.cast(sa.func.to_regclass(quoted), OID))).scalar()
        keys.add(f"sync_pipeline:{quoted if oid is None else oid}")
    for key in sorted(keys):
        _advisory_lock(conn, key)


def _advisory_lock(conn: sa.Connection, key: str) -> None:
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(key, 0))))


def _quoted(conn: sa.Connection, table: sa.Table) -> str:
    return conn.dialect.identifier_preparer.format_table(table)


def next_batch_id(conn: sa.Connection, target: TargetTable, column: str, ledger: sa.Table) -> int:
    """Greater than every id used for this table and column, in the ledger or in the column."""
    in_ledger = conn.execute(
        sa.select(sa.func.max(ledger.c.batch_id)).where(
            ledger.c.table_name == target.name, ledger.c.batch_column == column
        )
    ).scalar()
    in_column = (
        conn.execute(sa.select(sa.func.max(target.table.c[column]))).scalar()
        if column in target.table.c
        else None
    )
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
    status: str = "applied",
) -> None:
    """Write (or overwrite, for a re-run of the same id) the ledger row of this batch."""
    keys = {"table_name": target.name, "batch_column": column, "batch_id": batch_id}
    conn.execute(sa.delete(ledger).where(*[ledger.c[k] == v for k, v in keys.items()]))
    conn.execute(
        sa.insert(ledger).values(
            **keys,
            mode=mode,
            status=status,
            scope=scope,
            finished_at=now,
            **{
                k: counts.get(k, 0)
                for k in ("created", "updated", "unchanged", "skipped", "deleted", "missing")
            },
        )
    )


def scope_text(scope: sa.ColumnElement[bool] | None) -> str | None:
    """How the ledger records a batch's scope: the clause as SQL with its values inlined."""
    return None if scope is None else str(scope.compile(compile_kwargs={"literal_binds": True}))


def missing_condition(
    conn: sa.Connection, target: TargetTable, column: str, batch_id: int
) -> sa.ColumnElement[bool]:
    """Rows missing after a batch: those it recorded as not seen (ledger mode), else by column."""
    if batch_mode(conn, target, column, batch_id) == "ledger":
        return identity_in(target, missing_keys(conn, target, column, batch_id))
    return missing_clause(target, column, batch_id)


def deletion_blocker(
    conn: sa.Connection, target: TargetTable, column: str, batch_id: int
) -> str | None:
    """Why rows missing after batch `batch_id` must not be deleted or soft-deleted, or None.

    Decided from the ledger alone: a batch it does not hold failed (rolled back) or never ran; a
    batch that saw no rows was empty; a batch that dropped or failed records was partial. In each
    case "missing" may only mean "not delivered", so nothing may be deleted."""
    name = f"batch {batch_id} of {target.name!r}"
    if not sa.inspect(conn).has_table(LEDGER_TABLE, schema=target.table.schema):
        return f"{name} is not in the batch ledger: it failed or never ran"
    ledger = ledger_table(target.table.schema)
    row = conn.execute(
        sa.select(ledger).where(
            ledger.c.table_name == target.name,
            ledger.c.batch_column == column,
            ledger.c.batch_id == batch_id,
        )
    ).one_or_none()
    if row is None:
        return f"{name} is not in the batch ledger: it failed or never ran"
    if row.status != "applied":
        return f"{name} was partial (status {row.status!r}): some records were dropped or failed"
    if row.created + row.updated + row.unchanged + row.skipped == 0:
        return f"{name} was empty: it saw no rows"
    return None


def missing_clause(target: TargetTable, column: str, batch_id: int) -> sa.ColumnElement[bool]:
    col = target.column(column, role="batch column")
    return sa.or_(col.is_(None), col < batch_id)


# Ledger mode: instead of rewriting every seen row, record the rows a batch did not see.
MISSING_TABLE = "_sync_missing"


def missing_table(schema: str | None) -> sa.Table:
    return sa.Table(
        MISSING_TABLE,
        sa.MetaData(),
        sa.Column("table_name", sa.String(255), primary_key=True),
        sa.Column("batch_column", sa.String(255), primary_key=True),
        sa.Column("batch_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("row_key", sa.Text, primary_key=True),
        schema=schema,
    )


def row_key(values: tuple[Any, ...]) -> str:
    """The identity of a row as canonical JSON text (typed values; never a joined string)."""
    return json.dumps(list(values), default=str, separators=(",", ":"))


def parse_row_key(text: str, target: TargetTable, identity: tuple[str, ...]) -> tuple[Any, ...]:
    values = json.loads(text)
    return tuple(
        coercer(target.kinds[c], target.table.c[c].type)(v)
        for c, v in zip(identity, values, strict=True)
    )


def record_missing(
    conn: sa.Connection,
    target: TargetTable,
    column: str,
    batch_id: int,
    missing: list[tuple[Any, ...]],
    seen: Callable[[list[tuple[Any, ...]]], list[tuple[Any, ...]]],
) -> None:
    """Store this batch's missing rows; forget rows of earlier batches that this batch saw."""
    ledger = missing_table(target.table.schema)
    create_once(conn, ledger, target.dialect)
    mine = sa.and_(ledger.c.table_name == target.name, ledger.c.batch_column == column)
    earlier = conn.execute(sa.select(ledger.c.batch_id, ledger.c.row_key).where(mine)).all()
    if earlier:
        texts = sorted({t for _, t in earlier})
        by_text = {t: k for t, k in zip(texts, _parse_all(texts, target), strict=True)}
        back = {row_key(k) for k in seen(list(by_text.values()))}
        stale = [{"k": t} for t in texts if row_key(by_text[t]) in back]
        if stale:
            conn.execute(
                sa.delete(ledger).where(mine, ledger.c.row_key == sa.bindparam("k")), stale
            )
    conn.execute(sa.delete(ledger).where(mine, ledger.c.batch_id == batch_id))
    n = len(missing)
    rows = pa.table(
        {
            "table_name": pa.array([target.name] * n, pa.string()),
            "batch_column": pa.array([column] * n, pa.string()),
            "batch_id": pa.array([batch_id] * n, pa.int64()),
            "row_key": pa.array([row_key(k) for k in missing], pa.string()),
        }
    )
    bulk_insert(conn, ledger, rows)


def _parse_all(texts: list[str], target: TargetTable) -> list[tuple[Any, ...]]:
    identity = target.primary_key
    return [parse_row_key(t, target, identity) for t in texts]


def batch_mode(conn: sa.Connection, target: TargetTable, column: str, batch_id: int) -> str | None:
    """The mode batch `batch_id` ran in, from the ledger (None when it is not recorded)."""
    ledger = ledger_table(target.table.schema)
    if not sa.inspect(conn).has_table(LEDGER_TABLE, schema=target.table.schema):
        return None
    return conn.execute(
        sa.select(ledger.c.mode).where(
            ledger.c.table_name == target.name,
            ledger.c.batch_column == column,
            ledger.c.batch_id == batch_id,
        )
    ).scalar()


def missing_keys(
    conn: sa.Connection, target: TargetTable, column: str, batch_id: int
) -> list[tuple[Any, ...]]:
    ledger = missing_table(target.table.schema)
    texts = conn.execute(
        sa.select(ledger.c.row_key).where(
            ledger.c.table_name == target.name,
            ledger.c.batch_column == column,
            ledger.c.batch_id == batch_id,
        )
    ).scalars()
    return _parse_all(list(texts), target)


def identity_in(target: TargetTable, keys: list[tuple[Any, ...]]) -> sa.ColumnElement[bool]:
    cols = [target.table.c[c] for c in target.primary_key]
    if len(cols) == 1:
        return cols[0].in_([k[0] for k in keys])
    return sa.tuple_(*cols).in_(keys)
