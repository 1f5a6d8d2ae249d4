"""Commit order, not transaction-id order, on real concurrent Postgres transactions."""

import threading
import time

import pytest
import sqlalchemy as sa

from sync_pipeline import Writer, events, import_records
from sync_pipeline_tests.engine.mutation_helpers import ins, make_todos, payload, upd
from sync_pipeline_tests.events.helpers import accounts

pytestmark = pytest.mark.integration


def _pid(conn: sa.Connection) -> int:
    return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _wait_until_blocked(engine: sa.Engine, pid: int) -> None:
    """Until the backend `pid` waits on a lock (bounded, so a bug fails instead of hanging)."""
    query = sa.text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid")
    for _ in range(600):
        with engine.connect() as conn:
            if conn.execute(query, {"pid": pid}).scalar() == "Lock":
                return
        time.sleep(0.05)
    raise AssertionError(f"backend {pid} never blocked")


def test_the_transaction_that_writes_first_and_commits_second_comes_second(pg):
    md = sa.MetaData()
    pg.create(accounts(md, "a"), accounts(md, "b"))
    events.install(pg.engine)
    with pg.engine.connect() as conn_a, pg.engine.connect() as conn_b:
        txn_a, txn_b = conn_a.begin(), conn_b.begin()
        a = import_records(conn_a, "a", [{"id": 1, "tenant": "A"}], events=True, batch_id=False)
        b = import_records(conn_b, "b", [{"id": 1, "tenant": "B"}], events=True, batch_id=False)
        txn_b.commit()
        txn_a.commit()
    commits = events.read(pg.engine)
    assert a.txid is not None and b.txid is not None and a.txid < b.txid
    assert [c.txid for c in commits] == [b.txid, a.txid]
    assert [c.seq for c in commits] == sorted(c.seq for c in commits)
    assert [c.tables for c in commits] == [("b",), ("a",)]


def test_same_row_updated_by_two_transactions_replays_to_the_final_value(pg):
    todos = make_todos(pg)
    events.install(pg.engine)
    writer = Writer().allow("todos")
    with pg.engine.connect() as conn_e, pg.engine.connect() as conn_f:
        txn_e, txn_f = conn_e.begin(), conn_f.begin()
        e_first = writer.apply(payload(ins({"id": "3", "title": "e"})), conn_e, events=True)
        f = writer.apply(payload(upd({"id": "1"}, {"title": "f"})), conn_f, events=True)
        results = []
        thread = threading.Thread(
            target=lambda: results.append(
                writer.apply(payload(upd({"id": "1"}, {"title": "e"})), conn_e, events=True)
            )
        )
        thread.start()
        _wait_until_blocked(pg.engine, _pid(conn_e))  # E waits for F's row lock
        txn_f.commit()
        thread.join(timeout=60)
        txn_e.commit()
    assert e_first.txid is not None and f.txid is not None and e_first.txid < f.txid
    commits = events.read(pg.engine)
    assert [c.txid for c in commits] == [f.txid, e_first.txid]
    titles = [e.changes["title"][1] for c in commits for e in c.events if e.effect == "updated"]
    with pg.engine.connect() as conn:
        final = conn.execute(sa.select(todos.c.title).where(todos.c.id == 1)).scalar_one()
    assert titles == ["f", "e"] and titles[-1] == final == "e"
    by_xid = sorted(commits, key=lambda c: c.txid or 0)
    xid_titles = [e.changes["title"][1] for c in by_xid for e in c.events if e.effect == "updated"]
    assert xid_titles[-1] != final  # replaying in xid order would leave a stale cache
