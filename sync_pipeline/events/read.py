"""Reading committed events in commit order, and a snapshot that lines up with the stream."""

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sync_pipeline.db.connect import Target, as_engine
from sync_pipeline.db.dialect import Dialect
from sync_pipeline.db.schema import reflect
from sync_pipeline.errors import ConfigError, SchemaError
from sync_pipeline.events import read_pg, schema
from sync_pipeline.events.jsonvalues import Decoder, loads_rows
from sync_pipeline.events.model import (
    EFFECT_CODES,
    START,
    ChangeEvent,
    Commit,
    CursorTooOld,
    Position,
    Row,
    change_event,
    position,
)
from sync_pipeline.values.kinds import Kind


@contextmanager
def _connection(target: Target, *, consistent: bool = False) -> Iterator[sa.Connection]:
    """The caller's connection, or a new one (one consistent read transaction if asked)."""
    bind = as_engine(target)
    if isinstance(bind, sa.Connection):
        yield bind
        return
    with bind.connect() as conn:
        if consistent and Dialect.of(conn).snapshot_reads:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        elif consistent and Dialect.of(conn).deferred_begin:
            conn.exec_driver_sql("BEGIN")  # pysqlite would run each SELECT on its own
        try:
            yield conn
        finally:
            conn.rollback()


def horizon(conn: sa.Connection) -> Position:
    """Everything at or before this position was pruned (START when nothing was)."""
    row = conn.execute(sa.select(schema.pruned.c.seq, schema.pruned.c.n)).first()
    return START if row is None else Position(int(row.seq), int(row.n))


def head(conn: sa.Connection) -> Position:
    """The position of the last committed event (what a snapshot now continues from)."""
    if not schema.installed(conn):
        return START
    x, e = schema.tx, schema.events
    last = sa.select(sa.func.max(x.c.seq)).scalar_subquery()
    row = conn.execute(
        sa.select(x.c.seq, sa.func.max(e.c.n))
        .join_from(x, e, e.c.txid == x.c.txid)
        .where(x.c.seq == last)
        .group_by(x.c.seq)
    ).first()
    at = START if row is None else Position(int(row[0]), int(row[1]))
    return max(at, horizon(conn))


def read(
    target: Target,
    *,
    after: Position | str | None = None,
    tables: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[Commit]:
    """Committed events after `after`, grouped per commit in commit order; never blocks.

    Args:
        after: a Position or its string form; None reads from the oldest kept event.
        tables: only events of these tables; limit: at most this many events (a larger commit
            then arrives in parts with the same seq).
    Raises:
        CursorTooOld: events after `after` were pruned; take a new snapshot.
    """
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"limit must be a positive integer or None, got {limit!r}")
    with _connection(target) as conn:
        if Dialect.of(conn).lateral and not isinstance(as_engine(target), sa.Connection):
            read_pg.tune(conn, local=True)  # our own transaction: rolled back when done
        return fetch(conn, Position.parse(after), tables, limit)


@dataclass(frozen=True, slots=True)
class Page:
    """A page as read, not yet decoded: its JSON text (Postgres) or rows (SQLite), how many
    events it holds and the position of the last one."""

    text: str | None
    rows: list[list[Any]]
    count: int
    last: Position | None


def fetch(
    conn: sa.Connection,
    after: Position,
    tables: Sequence[str] | None,
    limit: int | None,
    kinds: "Kinds | None" = None,
) -> list[Commit]:
    """read() on an open connection (`kinds` may be kept across calls by a subscriber)."""
    kinds = (kinds if kinds is not None else Kinds()).bind(conn)
    return decode(fetch_page(conn, after, tables, limit), kinds, with_txid=Dialect.of(conn).txid)


def fetch_page(
    conn: sa.Connection, after: Position, tables: Sequence[str] | None, limit: int | None
) -> Page:
    """The events after `after`, at most `limit`, as read (decode them with `decode`)."""
    if not schema.installed(conn):
        return Page(None, [], 0, None)
    kept = horizon(conn)
    if after < kept:
        raise CursorTooOld(
            f"the events after position {after} were pruned (kept: after {kept}); "
            "take a new events.snapshot() and continue from its cursor"
        )
    if Dialect.of(conn).lateral:
        text, count, last = read_pg.page(conn, after, tables, limit)
        return Page(text, [], count, last)
    rows = _rows(conn, after, tables, limit)
    last = position(rows[-1][0], rows[-1][2]) if rows else None
    return Page(None, rows, len(rows), last)


def decode(page: Page, kinds: "Kinds", *, with_txid: bool) -> list[Commit]:
    """A page's events -> one Commit per seq, in commit order."""
    with _collector_paused():
        rows = read_pg.rows(page.text) if page.text is not None else page.rows
        commits = _commits(rows, kinds, with_txid=with_txid)
        del rows  # freed now, so the collection that resumes after this does not walk them
    return commits


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Decoding a page makes several container objects per event, none of them in a cycle; the
    cyclic collector would run every 700 of them and walk what is alive each time (a third of
    the decode). It is paused while the page decodes and resumes after it (left off if the
    process had turned it off)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _rows(
    conn: sa.Connection, after: Position, tables: Sequence[str] | None, limit: int | None
) -> list[list[Any]]:
    """SQLite: the events after `after` in (seq, n) order, at most `limit`, shaped as the
    Postgres page is: [seq, txid, n, table, effect, batch_id, pk, keys, changes]."""
    x, e = schema.tx, schema.events
    stmt = (
        sa.select(x.c.seq, x.c.txid, e.c.n, e.c.table_name, e.c.effect, e.c.batch_id)
        .add_columns(e.c["pk"], e.c["keys"], e.c["changes"])
        .where(e.c.txid == x.c.txid, x.c.seq >= after.seq)
        .where(sa.tuple_(x.c.seq, e.c.n) > sa.tuple_(after.seq, after.n))
        .order_by(x.c.seq, e.c.n)
        .limit(limit)
    )
    if tables is not None:
        stmt = stmt.where(e.c.table_name.in_(list(tables)))
    rows = conn.execute(stmt).all()
    data = loads_rows([r[6:] for r in rows])
    return [[*r[:6], *d] for r, d in zip(rows, data, strict=True)]


class Kinds:
    """A value decoder per table, from its column kinds reflected once (to decode exactly)."""

    def __init__(self) -> None:
        self.bound: sa.Connection | sa.Engine | None = None
        self.cache: dict[str, Decoder] = {}

    def bind(self, bound: sa.Connection | sa.Engine) -> "Kinds":
        """Reflect on this connection, or on a connection of its own from this engine."""
        self.bound = bound
        return self

    def __getitem__(self, table: str) -> Decoder:
        if table not in self.cache:
            assert self.bound is not None
            try:
                self.cache[table] = Decoder(self._kinds(self.bound, table))
            except (SchemaError, sa.exc.NoSuchTableError):
                self.cache[table] = Decoder({})  # dropped since: values stay as stored
        return self.cache[table]

    @staticmethod
    def _kinds(bound: sa.Connection | sa.Engine, table: str) -> dict[str, Kind]:
        if isinstance(bound, sa.Connection):
            return reflect(bound, table).kinds
        with bound.connect() as conn:
            return reflect(conn, table).kinds


def _commits(rows: list[list[Any]], kinds: Kinds, *, with_txid: bool) -> list[Commit]:
    """Event rows in (seq, n) order -> one Commit per seq (a loop run once per event: the
    decoder is looked up when the table changes, and values needing no conversion are kept)."""
    commits: list[Commit] = []
    group: list[ChangeEvent] = []
    current, decoder = None, Decoder({})
    last = len(rows) - 1
    for i, (seq, txid, n, table, code, batch_id, pk, keys, changes) in enumerate(rows):
        if table != current:
            current, decoder = table, kinds[table]
        group.append(change_event(
            position(seq, n), table, EFFECT_CODES[code], decoder.values(pk),
            decoder.values(keys) if keys else {},
            decoder.pairs(changes) if code == "U" else decoder.values(changes),
            batch_id, txid if with_txid else None,
        ))  # fmt: skip
        if i == last or rows[i + 1][0] != seq:
            tables = tuple(dict.fromkeys(ev.table for ev in group))
            commits.append(Commit(seq, group[0].txid, tables, tuple(group)))
            group = []
    return commits


def snapshot(
    target: Target, table: str, *, where: Mapping[str, Any] | None = None
) -> tuple[list[Row], Position]:
    """The table's rows (optionally where column == value) and the cursor the stream continues
    from, read in one consistent transaction: nothing is missed or doubled between the two."""
    with _connection(target, consistent=True) as conn:
        t = reflect(conn, table)
        t.check_columns(where or {}, role="where column")
        cursor = head(conn)
        stmt = sa.select(t.table).where(*[t.table.c[c] == v for c, v in (where or {}).items()])
        stmt = stmt.order_by(*[t.table.c[p] for p in t.primary_key])
        rows = [Row.at(dict(r), cursor) for r in conn.execute(stmt).mappings()]
    return rows, cursor
