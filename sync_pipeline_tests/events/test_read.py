"""events.read paging and filters; snapshot lines up with the stream."""

import pytest
import sqlalchemy as sa

from sync_pipeline import events, import_records
from sync_pipeline_tests.events.helpers import accounts

pytestmark = pytest.mark.integration


@pytest.fixture
def bank(db):
    md = sa.MetaData()
    db.create(accounts(md), accounts(md, "other"))
    events.install(db.engine)
    return db


def _write(db, table, *ids):
    rows = [{"id": i, "tenant": "A"} for i in ids]
    import_records(db.engine, table, rows, "overwrite", events=True, batch_id=False)


def test_a_large_commit_pages_with_limit_and_continues_after_the_cursor(bank):
    _write(bank, "accounts", 1, 2, 3)
    first = events.read(bank.engine, limit=2)
    rest = events.read(bank.engine, after=first[-1].position, limit=2)
    assert [len(c.events) for c in first + rest] == [2, 1]
    assert first[0].seq == rest[0].seq
    assert events.read(bank.engine, after=str(rest[-1].position)) == []


def test_tables_filters_events_and_commits(bank):
    _write(bank, "accounts", 1)
    _write(bank, "other", 1)
    only = events.read(bank.engine, tables=["other"])
    assert [c.tables for c in only] == [("other",)]


def test_two_imports_in_one_caller_transaction_are_one_commit(bank):
    with bank.engine.connect() as conn, conn.begin():
        import_records(conn, "accounts", [{"id": 1}], events=True, batch_id=False)
        import_records(conn, "other", [{"id": 1}], events=True, batch_id=False)
    (commit,) = events.read(bank.engine)
    assert commit.tables == ("accounts", "other")


def test_a_snapshot_neither_misses_nor_doubles_an_in_flight_commit(pg):
    pg.create(accounts())
    events.install(pg.engine)
    _write(pg, "accounts", 1)
    with pg.engine.connect() as conn:
        txn = conn.begin()
        import_records(conn, "accounts", [{"id": 2}], events=True, batch_id=False)
        rows, cursor = events.snapshot(pg.engine, "accounts")
        txn.commit()
    after = [e.pk["id"] for c in events.read(pg.engine, after=cursor) for e in c.events]
    assert [r["id"] for r in rows] == [1] and after == [2]
    assert all(r.position == cursor for r in rows)
