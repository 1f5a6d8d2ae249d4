"""Writing events in the writer's own transaction: registration, key columns, Python-built rows.

Postgres registers the transaction in _sync_event_pending (its deferred trigger assigns the
commit seq); SQLite has one writer at a time, so a _sync_event_tx row made while writing already
sits in commit order.
"""

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from sync_pipeline.db.dialect import Dialect
from sync_pipeline.errors import ConfigError
from sync_pipeline.events import schema
from sync_pipeline.events.jsonvalues import dumps
from sync_pipeline.events.model import EventOptions

_TOKEN = "sync_pipeline.events.tx"
# (table, effect code, pk, keys, changes)
EventRow = tuple[str, str, Mapping[str, Any], Mapping[str, Any], Mapping[str, Any] | None]


def pg_txid() -> sa.ColumnElement[int]:
    """The writing transaction's 64-bit id (xid8) as a bigint."""
    return sa.cast(sa.cast(sa.func.pg_current_xact_id(), sa.Text), sa.BigInteger)


def prepare(conn: sa.Connection, table: sa.Table, options: EventOptions) -> None:
    """Create the event tables if needed and declare the table's key columns (checked here)."""
    check_keys(table, options)
    schema.ensure(conn)
    if options.keys:
        rows = [{"table_name": table.fullname, "column_name": k} for k in options.keys]
        conn.execute(Dialect.of(conn).upsert(schema.keys).on_conflict_do_nothing(), rows)


def check_keys(table: sa.Table, options: EventOptions) -> None:
    missing = [k for k in options.keys if k not in table.c]
    if missing:
        raise ConfigError(
            f"events keys {missing} are not columns of {table.fullname!r}; "
            f"its columns are {list(table.c.keys())}"
        )


def register(conn: sa.Connection) -> None:
    """Postgres: mark this transaction as one that wrote events (its COMMIT assigns the seq)."""
    if Dialect.of(conn).txid:
        pending = sa.table("_sync_event_pending", sa.column("txid"))
        conn.execute(postgresql.insert(pending).values(txid=pg_txid()).on_conflict_do_nothing())


def sqlite_txid(conn: sa.Connection) -> int:
    """The _sync_event_tx row of this connection's open transaction, made on first use."""
    _forget_on_end(conn.engine)
    token = conn.info.get(_TOKEN)
    if token is not None:
        seq = conn.execute(
            sa.select(schema.tx.c.seq).where(schema.tx.c.token == token)
        ).scalar_one_or_none()
        if seq is not None:
            return int(seq)
    token = secrets.token_hex(16)
    inserted = conn.execute(
        sa.insert(schema.tx).values(token=token, committed_at=sa.func.current_timestamp())
    ).inserted_primary_key
    assert inserted is not None
    seq = inserted[0]
    conn.execute(sa.update(schema.tx).where(schema.tx.c.seq == seq).values(txid=seq))
    conn.info[_TOKEN] = token
    return int(seq)


def _forget(conn: sa.Connection) -> None:
    conn.info.pop(_TOKEN, None)


def _forget_on_end(engine: sa.Engine) -> None:
    """A commit or rollback ends the transaction: the next write makes a new tx row."""
    for name in ("commit", "rollback"):
        if not sa.event.contains(engine, name, _forget):
            sa.event.listen(engine, name, _forget)


def insert_rows(conn: sa.Connection, rows: Sequence[EventRow], batch_id: int | None) -> int:
    """Write Python-built events, in the given order, with one executemany."""
    if not rows:
        return 0
    txid: Any = pg_txid() if Dialect.of(conn).txid else sqlite_txid(conn)
    params = [
        {
            "table_name": table,
            "effect": effect,
            "pk": dumps(dict(pk)),
            "keys": dumps(dict(keys)),
            "changes": None if changes is None else dumps(dict(changes)),
            "batch_id": batch_id,
        }
        for table, effect, pk, keys, changes in rows
    ]
    conn.execute(sa.insert(schema.events).values(txid=txid, **_json_binds(conn)), params)
    register(conn)
    return len(rows)


def _json_binds(conn: sa.Connection) -> dict[str, Any]:
    """Postgres stores the JSON columns as jsonb: cast the bound text explicitly."""
    if not Dialect.of(conn).jsonb:
        return {}
    return {
        c: sa.cast(sa.bindparam(c, type_=sa.Text), postgresql.JSONB)
        for c in ("pk", "keys", "changes")
    }


class TableEvents:
    """Events of one table's writes; `count` is how many were written so far."""

    def __init__(
        self, conn: sa.Connection, table: sa.Table, pk: Sequence[str], options: EventOptions
    ) -> None:
        check_keys(table, options)
        self.conn = conn
        self.table = table
        self.pk = tuple(pk)
        self.options = options
        self.keys = options.keys
        self.batch_id: int | None = None
        self.count = 0
        self._ready = False

    def ensure(self) -> None:
        """On the first event statement only: event tables and declared keys."""
        if not self._ready:
            prepare(self.conn, self.table, self.options)
            self._ready = True


def pick(row: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {n: row.get(n) for n in names}


def changed_columns(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """{field: (old, new)} for the fields whose value differs."""
    return {k: (old.get(k), v) for k, v in new.items() if not _equal(old.get(k), v)}


def _equal(a: Any, b: Any) -> bool:
    """Equal values; a naive and an aware datetime compare as UTC (SQLite drops the zone)."""
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        a, b = (x if x.tzinfo else x.replace(tzinfo=dt.UTC) for x in (a, b))
    return bool(a == b)
