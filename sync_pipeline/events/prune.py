"""Retention: drop old commits, never one a durable consumer has not acknowledged."""

import datetime as dt

import sqlalchemy as sa

from sync_pipeline.db.connect import Target, transaction
from sync_pipeline.db.dialect import Dialect
from sync_pipeline.errors import ConfigError
from sync_pipeline.events import schema
from sync_pipeline.events.read import horizon


def prune(target: Target, *, older_than: dt.timedelta | dt.datetime) -> int:
    """Delete commits recorded before `older_than` (an age or a moment); returns the events
    deleted. Commits at or after the lowest durable consumer's position are kept; a reader
    whose cursor falls in the pruned range gets CursorTooOld."""
    cutoff = _cutoff(older_than)
    with transaction(target) as conn:
        if not schema.installed(conn):
            return 0
        if Dialect.of(conn).naive_timestamps:
            cutoff = cutoff.astimezone(dt.UTC).replace(tzinfo=None)
        x, e = schema.tx, schema.events
        last = conn.execute(sa.select(sa.func.max(x.c.seq)).where(x.c.committed_at < cutoff))
        upto = last.scalar()
        if upto is not None:
            upto = min(int(upto), _acked(conn))
        if upto is None or upto <= horizon(conn).seq:
            return 0
        gone = sa.select(x.c.txid).where(x.c.seq <= upto)
        n = conn.execute(sa.select(sa.func.max(e.c.n)).where(e.c.txid.in_(gone))).scalar() or 0
        deleted = conn.execute(sa.delete(e).where(e.c.txid.in_(gone))).rowcount
        conn.execute(sa.delete(x).where(x.c.seq <= upto))
        _set_horizon(conn, int(upto), int(n))
        return int(deleted or 0)


def _acked(conn: sa.Connection) -> int:
    """The last seq every durable consumer has read completely (a huge number if none)."""
    x, e, c = schema.tx, schema.events, schema.consumers
    lowest = conn.execute(sa.select(c.c.seq, c.c.n).order_by(c.c.seq, c.c.n).limit(1)).first()
    if lowest is None:
        return 2**62
    last_n = conn.execute(
        sa.select(sa.func.max(e.c.n))
        .join_from(e, x, e.c.txid == x.c.txid)
        .where(x.c.seq == lowest.seq)
    ).scalar()
    done = last_n is not None and int(lowest.n) >= int(last_n)
    return int(lowest.seq) if done else int(lowest.seq) - 1


def _cutoff(older_than: dt.timedelta | dt.datetime) -> dt.datetime:
    if isinstance(older_than, dt.timedelta):
        return dt.datetime.now(dt.UTC) - older_than
    if isinstance(older_than, dt.datetime):
        return older_than if older_than.tzinfo else older_than.replace(tzinfo=dt.UTC)
    raise ConfigError(f"older_than must be a timedelta or a datetime, got {older_than!r}")


def _set_horizon(conn: sa.Connection, seq: int, n: int) -> None:
    stmt = Dialect.of(conn).upsert(schema.pruned).values(id=1, seq=seq, n=n)
    conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_={"seq": seq, "n": n}))
