"""Reading committed events in commit order, and a snapshot that lines up with the stream."""

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from sync_pipeline.db.connect import Target, as_engine
from sync_pipeline.db.dialect import Dialect
from sync_pipeline.db.schema import reflect
from sync_pipeline.errors import ConfigError, SchemaError
from sync_pipeline.events import schema
from sync_pipeline.events.jsonvalues import Decoder, loads_rows
from sync_pipeline.events.model import (
    EFFECT_CODES,
    START,
    ChangeEvent,
    Commit,
    CursorTooOld,
    Position,
    Row,
)


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
        return fetch(conn, Position.parse(after), tables, limit)


def fetch(
    conn: sa.Connection,
    after: Position,
    tables: Sequence[str] | None,
    limit: int | None,
    kinds: "Kinds | None" = None,
) -> list[Commit]:
    """read() on an open connection (`kinds` may be kept across calls by a subscriber)."""
    if not schema.installed(conn):
        return []
    kept = horizon(conn)
    if after < kept:
        raise CursorTooOld(
            f"the events after position {after} were pruned (kept: after {kept}); "
            "take a new events.snapshot() and continue from its cursor"
        )
    rows = conn.execute(_page(Dialect.of(conn), after, tables, limit)).all()
    kinds = kinds if kinds is not None else Kinds()
    return _commits(rows, kinds.bind(conn), with_txid=Dialect.of(conn).txid)


def _page(
    dialect: Dialect, after: Position, tables: Sequence[str] | None, limit: int | None
) -> sa.Select[Any]:
    """The events after `after` in (seq, n) order, at most `limit`.

    Postgres walks the commits in seq order and each one's events by the (txid, n) key (JOIN
    LATERAL), so a page costs what it returns, not a sort of every event kept; SQLite joins.
    """
    x, e = schema.tx, schema.events
    texts = [sa.cast(e.c[c], sa.Text).label(c) for c in ("pk", "keys", "changes")]
    cols = [e.c.n, e.c.table_name, e.c.effect, e.c.batch_id, *texts]
    where = [e.c.txid == x.c.txid]
    if tables is not None:
        where.append(e.c.table_name.in_(list(tables)))
    if dialect.lateral:
        later = sa.or_(x.c.seq > after.seq, e.c.n > after.n)  # a filter: the index walks txid
        inner = sa.select(*cols).where(*where, later).order_by(e.c.txid, e.c.n).limit(limit)
        per_commit = inner.lateral("e")
        return (
            sa.select(x.c.seq, x.c.txid, *[per_commit.c[c.name] for c in cols])
            .join_from(x, per_commit, sa.true())
            .where(x.c.seq >= after.seq)
            .order_by(x.c.seq, per_commit.c.n)
            .limit(limit)
        )
    return (
        sa.select(x.c.seq, x.c.txid, *cols)
        .where(*where, x.c.seq >= after.seq)
        .where(sa.tuple_(x.c.seq, e.c.n) > sa.tuple_(after.seq, after.n))
        .order_by(x.c.seq, e.c.n)
        .limit(limit)
    )


class Kinds:
    """A value decoder per table, from its column kinds reflected once (to decode exactly)."""

    def __init__(self) -> None:
        self.conn: sa.Connection | None = None
        self.cache: dict[str, Decoder] = {}

    def bind(self, conn: sa.Connection) -> "Kinds":
        self.conn = conn
        return self

    def __getitem__(self, table: str) -> Decoder:
        if table not in self.cache:
            assert self.conn is not None
            try:
                self.cache[table] = Decoder(reflect(self.conn, table).kinds)
            except (SchemaError, sa.exc.NoSuchTableError):
                self.cache[table] = Decoder({})  # dropped since: values stay as stored
        return self.cache[table]


def _commits(rows: Sequence[Any], kinds: Kinds, *, with_txid: bool) -> list[Commit]:
    """Rows in (seq, n) order -> one Commit per seq; the JSON of the page decoded in one parse."""
    data = loads_rows([(r.pk, r.keys, r.changes) for r in rows])
    commits: list[Commit] = []
    group: list[ChangeEvent] = []
    for i, row in enumerate(rows):
        group.append(_event(row, data[i], kinds[row.table_name], with_txid))
        if i + 1 == len(rows) or rows[i + 1].seq != row.seq:
            tables = tuple(dict.fromkeys(ev.table for ev in group))
            commits.append(Commit(int(row.seq), group[0].txid, tables, tuple(group)))
            group = []
    return commits


def _event(row: Any, data: list[Any], decoder: Decoder, with_txid: bool) -> ChangeEvent:
    pk, keys, changes = data
    effect = EFFECT_CODES[row.effect.strip()]
    return ChangeEvent(
        position=Position(int(row.seq), int(row.n)),
        table=row.table_name,
        effect=effect,
        pk=decoder.values(pk),
        keys=decoder.values(keys),
        changes=decoder.pairs(changes) if effect == "updated" else decoder.values(changes),
        batch_id=row.batch_id,
        txid=int(row.txid) if with_txid else None,
    )


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
