"""Change events: the `engine` sync with events recorded and one subscriber reading along, and
the routing of one large commit to many filtered subscribers through one Fanout."""

import threading
from typing import Any

import psycopg
import pyarrow as pa
from psycopg import sql

from benchmarks import pg
from benchmarks.checks import expect_engine, sync_counts
from benchmarks.generate import TABLE
from benchmarks.integration import engine_sync
from benchmarks.measure import Ctx, Measurement, load_batch1, timed

Conn = psycopg.Connection[Any]
ROUTED_TABLE, ROUTED_EVENTS, SUBSCRIBERS = "routed", 100_000, 1000
WAIT_S = 600.0  # a reader that has not seen the commit by then has failed


class Reader(threading.Thread):
    """One subscriber of `table`, counting the events it receives, in a thread of its own."""

    def __init__(self, url: str, table: str) -> None:
        super().__init__(daemon=True)
        from sync_pipeline import events

        self.sub = events.subscribe(url, [table])
        self.received = 0
        self.txids: set[int | None] = set()
        self.changed = threading.Condition()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            commit = self.sub.next(timeout=0.2)
            if commit is None:
                continue
            with self.changed:
                self.received += len(commit.events)
                self.txids.add(commit.txid)
                self.changed.notify_all()

    def wait_for(self, count: int) -> int:
        with self.changed:
            self.changed.wait_for(lambda: self.received >= count, timeout=WAIT_S)
            return self.received

    def close(self) -> None:
        self.stop.set()
        self.join()
        self.sub.close()


def run_engine_events(ctx: Ctx, conn: Conn) -> list[Measurement]:
    """The `engine` sync with events=True, timed until a subscriber has received every event."""
    from sync_pipeline import events

    load_batch1(ctx, conn)
    events.install(ctx.url)  # a target with events on has its event tables already
    reader = Reader(ctx.url, TABLE)
    reader.start()
    pg.settle(conn)

    def sync_and_deliver() -> tuple[Any, int]:
        result = engine_sync(ctx.url, TABLE, ctx.batch2, events=True)
        return result, reader.wait_for(result.events)

    try:
        m, out = timed(ctx, "engine_events", sync_and_deliver, conn)
    finally:
        reader.close()
    if m.status == "ok" and out is not None:
        result, received = out
        expect_engine(m, ctx, conn, result, sync_counts(ctx.truth))
        written = ctx.truth.added + ctx.truth.changed
        m.expect("one event per inserted or updated row", result.events, written)
        m.expect("the subscriber received every event", received, written)
        m.expect("all in the sync's transaction", reader.txids, {result.txid})
    return [m]


def run_routing(ctx: Ctx, conn: Conn) -> list[Measurement]:
    """One commit of up to 100k events with key `tenant` (1,000 values), read through one
    Fanout: by one unfiltered subscriber, then by 1,000 subscribers filtered by tenant. Timed:
    from the first read until every subscriber holds its events (subscribing is untimed)."""
    n = min(ROUTED_EVENTS, ctx.truth.batch2_rows)
    _routed_commit(ctx, conn, n)
    every = [{"tenant": t} for t in range(SUBSCRIBERS)]
    return [
        _route(ctx, conn, "routing_one", [None], n),
        _route(ctx, conn, "routing_1000", every, n),
    ]


def _route(ctx: Ctx, conn: Conn, name: str, wheres: list[Any], n: int) -> Measurement:
    fanout, subs = _subscribed(ctx, wheres)
    try:
        m, got = timed(ctx, name, lambda: _receive(fanout, subs, n), conn)
    finally:
        fanout.close()
    m.counts = {"events": n, "subscribers": len(subs)}
    if m.status == "ok" and got is not None:
        want = [n] if len(subs) == 1 else [len(range(t, n, SUBSCRIBERS)) for t in range(len(subs))]
        m.expect("each subscriber received exactly its events", got, want)
    return m


def _routed_commit(ctx: Ctx, conn: Conn, n: int) -> None:
    """`n` rows written in one transaction with events keyed by tenant (untimed)."""
    from sync_pipeline import import_records

    pg.fresh_schema(conn, ctx.schema, with_table=False)
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} (id bigint PRIMARY KEY, tenant int NOT NULL, payload text, "
            "last_batch_id bigint)"
        ).format(sql.Identifier(ctx.schema, ROUTED_TABLE))
    )
    ids = pa.array(range(n), pa.int64())
    rows = pa.table({"id": ids, "tenant": pa.array([i % SUBSCRIBERS for i in range(n)], pa.int32()),
                     "payload": pa.array([f"row {i}" for i in range(n)])})  # fmt: skip
    result = import_records(ctx.url, ROUTED_TABLE, rows, "merge", match_by="id",
                            events={"keys": ["tenant"]})  # fmt: skip
    if result.events != n:
        raise RuntimeError(f"expected {n} events recorded, got {result.events}")
    pg.settle(conn)


def _subscribed(ctx: Ctx, wheres: list[dict[str, int] | None]) -> tuple[Any, list[Any]]:
    """A Fanout reading the routed table from the start, with one subscriber per filter."""
    from sync_pipeline.events import Fanout

    fanout = Fanout(ctx.url, [ROUTED_TABLE])
    return fanout, [fanout.subscribe(where=w) for w in wheres]


def _receive(fanout: Any, subs: list[Any], n: int) -> list[int]:
    """Read and route until the subscribers hold all `n` events between them; each one's count."""
    got = [0] * len(subs)
    while sum(got) < n:
        if not fanout.pump(timeout=WAIT_S):
            raise RuntimeError(f"the commit stopped after {sum(got)} of {n} events")
        for i, sub in enumerate(subs):
            while (commit := sub.next(timeout=0)) is not None:
                got[i] += len(commit.events)
    return got
