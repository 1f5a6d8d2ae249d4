"""subscribe(): a blocking iterator of Commits after a cursor, in commit order, with no loss.

The outbox is the source of truth: every wake-up and every timeout runs the same cursor query.
On Postgres, LISTEN/NOTIFY only shortens the wait; a lost notification or a killed connection
costs at most one poll interval. SQLite polls.
"""

import datetime as dt
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from sync_pipeline.db.connect import Target, as_engine
from sync_pipeline.db.dialect import Dialect
from sync_pipeline.errors import ConfigError
from sync_pipeline.events import read_pg, schema
from sync_pipeline.events.ahead import ReadAhead
from sync_pipeline.events.model import Commit, Position
from sync_pipeline.events.read import Kinds, decode, fetch_page
from sync_pipeline.events.route import Authorize, Route


class Subscription:
    """Iterate for Commits (blocks); `next(timeout)` returns None when nothing came in time."""

    def __init__(
        self,
        target: Target,
        tables: Sequence[str],
        *,
        after: Position | str | None = None,
        row: Mapping[str, Any] | None = None,
        where: Mapping[str, Any] | None = None,
        authorize: Authorize | None = None,
        consumer: str | None = None,
        poll_interval: float = 1.0,
        page: int = 10_000,
    ) -> None:
        bind = as_engine(target)
        self.engine = bind.engine if isinstance(bind, sa.Connection) else bind
        self.tables = _tables(tables)
        self.consumer = consumer
        self.poll_interval = poll_interval
        self.page = page
        self.route = Route(row, where, authorize)
        self._conn: sa.Connection | None = None
        self._buffer: deque[Commit] = deque()
        self._closed = False
        self._kinds = Kinds().bind(self.engine)  # not the connection a read-ahead may use
        self._ahead = ReadAhead()
        self._idle_version: int | None = None
        self._woken = False  # Postgres: a notification came since the last read
        self._read_at: float | None = None  # when the last read that found everything began
        with self.engine.begin() as conn:
            check_where(conn, self.tables, where)
            if consumer is not None:  # registered at once, so prune() keeps what it needs
                schema.ensure(conn)
                stored = _stored(conn, consumer)
                after = stored if stored is not None else Position.parse(after)
                _store(conn, consumer, after)
        self.position = Position.parse(after)

    @property
    def denied(self) -> int:
        return self.route.denied

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Commit]:
        while not self._closed:
            commit = self.next()
            if commit is not None:
                yield commit

    def next(self, timeout: float | None = None) -> Commit | None:
        """The next commit with events for this subscriber (None after `timeout` seconds)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._closed:
            if not self._buffer:
                self._fill()
            while self._buffer:
                raw = self._buffer.popleft()
                self.position = max(self.position, raw.position)
                commit = self.route.commit(raw)
                if commit.events:
                    return commit
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            if not self._ahead.pending:  # else the next page is already on its way
                self._wait(self.poll_interval if left is None else min(left, self.poll_interval))
        return None

    def ack(self, commit: Commit) -> None:
        """Store a durable consumer's position: after a restart it resumes after `commit`."""
        if self.consumer is None:
            raise ConfigError("ack() needs a durable subscription: subscribe(..., consumer=name)")
        with self.engine.begin() as conn:
            _store(conn, self.consumer, commit.position)

    def close(self) -> None:
        self._closed = True
        self._ahead.close()
        self._disconnect()

    def _connection(self) -> sa.Connection:
        """One autocommit connection; on Postgres it LISTENs before the first read after it."""
        if self._conn is None:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if Dialect.of(conn).notify:
                conn.exec_driver_sql(f"LISTEN {schema.NOTIFY_CHANNEL}")
            if Dialect.of(conn).lateral:
                read_pg.tune(conn, local=False)  # the subscription's own connection
            self._conn = conn
        return self._conn

    def _disconnect(self) -> None:
        self._ahead.settle()
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except sa.exc.SQLAlchemyError:
                pass
            self._conn = None
        self._read_at = None  # a new connection LISTENs, then reads

    def _quiet(self) -> bool:
        """Postgres: nothing was notified since the last read, which found everything, and the
        poll interval has not passed since. A commit notifies after it is visible (one missed
        notification costs at most one poll interval), so reading now would find nothing; a
        caller calling next() with short timeouts would otherwise query in a loop."""
        conn, read_at = self._conn, self._read_at
        return (
            conn is not None and read_at is not None and Dialect.of(conn).notify
            and not self._woken and not self._ahead.pending
            and time.monotonic() - read_at < self.poll_interval
        )  # fmt: skip

    def _fill(self) -> None:
        if self._quiet():
            return
        try:
            conn = self._connection()
            version = _data_version(conn)
            if version is not None and version == self._idle_version:
                return  # SQLite: nobody committed since the last read found nothing new
            self._woken, read_at = False, time.monotonic()  # notified from here on: read again
            page = self._ahead.take(self.position) or fetch_page(
                conn, self.position, self.tables, self.page
            )
            full = page.count >= self.page
            if full and page.last is not None and Dialect.of(conn).lateral:
                self._ahead.start(page.last, fetch_page, conn, page.last, self.tables, self.page)
            self._buffer.extend(decode(page, self._kinds, with_txid=Dialect.of(conn).txid))
            self._idle_version = None if full else version
            self._read_at = None if full else read_at
        except sa.exc.DBAPIError:  # a lost connection: reconnect, LISTEN, read from the cursor
            self._disconnect()

    def _wait(self, seconds: float) -> None:
        conn = self._conn
        if conn is None or not Dialect.of(conn).notify:
            time.sleep(seconds)
            return
        raw: Any = conn.connection.driver_connection
        try:
            for _ in raw.notifies(timeout=seconds, stop_after=1):
                self._woken = True
        except Exception:  # the wake-up only: a broken connection is re-made by the next read
            self._disconnect()


def subscribe(
    target: Target,
    tables: Sequence[str],
    *,
    after: Position | str | None = None,
    row: Mapping[str, Any] | None = None,
    where: Mapping[str, Any] | None = None,
    authorize: Authorize | None = None,
    consumer: str | None = None,
    poll_interval: float = 1.0,
) -> Subscription:
    """Commits of `tables` after `after` (or the durable `consumer`'s stored position).

    Args:
        row: only events of this primary key, e.g. {"id": 7}.
        where: {key column: value}; only recorded key columns (events={"keys": [...]}). A row
            that moves out of scope arrives as a `deleted` event carrying only its pk.
        authorize: called per event; anything but True (or an exception) drops the event.
        consumer: a durable name; ack(commit) stores its position (at-least-once delivery).
    """
    return Subscription(
        target, tables, after=after, row=row, where=where, authorize=authorize,
        consumer=consumer, poll_interval=poll_interval,
    )  # fmt: skip


def _tables(tables: Sequence[str]) -> list[str]:
    if isinstance(tables, str) or not tables or not all(isinstance(t, str) for t in tables):
        raise ConfigError(f"tables must be a non-empty list of table names, got {tables!r}")
    return list(tables)


def check_where(conn: sa.Connection, tables: list[str], where: Mapping[str, Any] | None) -> None:
    """`where` may only name key columns recorded for every subscribed table."""
    if not where:
        return
    declared: dict[str, set[str]] = {t: set() for t in tables}
    if schema.installed(conn):
        k = schema.keys
        for name, column in conn.execute(sa.select(k.c.table_name, k.c.column_name)):
            declared.setdefault(name, set()).add(column)
    for table in tables:
        unknown = sorted(set(where) - declared[table])
        if unknown:
            raise ConfigError(
                f"where names {unknown}, which are not recorded key columns of {table!r} "
                f"(recorded: {sorted(declared[table])}); record them with "
                'events={"keys": [...]} on the writes'
            )


def _data_version(conn: sa.Connection) -> int | None:
    """SQLite's counter of commits by other connections (None elsewhere)."""
    if not Dialect.of(conn).data_version:
        return None
    return int(conn.exec_driver_sql("PRAGMA data_version").scalar_one())


def _stored(conn: sa.Connection, consumer: str) -> Position | None:
    c = schema.consumers
    row = conn.execute(sa.select(c.c.seq, c.c.n).where(c.c.name == consumer)).first()
    return None if row is None else Position(int(row.seq), int(row.n))


def _store(conn: sa.Connection, consumer: str, at: Position) -> None:
    values = {"name": consumer, "seq": at.seq, "n": at.n, "updated_at": _now()}
    stmt = Dialect.of(conn).upsert(schema.consumers).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"], set_={k: stmt.excluded[k] for k in ("seq", "n", "updated_at")}
    )
    conn.execute(stmt)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
