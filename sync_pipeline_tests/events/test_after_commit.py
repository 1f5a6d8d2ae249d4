"""After commit only: nothing is ever recorded for work that rolled back."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from sync_pipeline import Writer, WriteRejected, events, import_records
from sync_pipeline.errors import ApplyError
from sync_pipeline_tests.engine.mutation_helpers import ins, make_todos, payload, upd
from sync_pipeline_tests.events.helpers import accounts, effects

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bank(db):
    md = sa.MetaData()
    db.create(accounts(md), sa.Table("capped", md, *_capped_columns()))
    import_records(db.engine, "accounts", [{"id": 1, "tenant": "A"}], events=True)
    return db


def _capped_columns() -> list:
    return [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("balance", sa.Integer),
        sa.CheckConstraint("balance >= 0", name="no_overdraft"),
    ]


def test_a_batch_that_fails_in_its_second_chunk_records_nothing(bank):
    rows = [{"id": 5, "balance": 1}, {"id": 6, "balance": -1}]
    with pytest.raises(ApplyError):
        import_records(bank.engine, "capped", rows, chunk_size=1, batch_id=False, events=True)
    assert effects(bank.engine) == [("inserted", 1)]


def test_a_guard_that_raises_after_a_written_chunk_records_nothing(bank):
    calls = []

    def guard(diff):
        calls.append(diff)
        if len(calls) == 2:
            raise RuntimeError("stop")

    chunks = (pd.DataFrame([{"id": i, "tenant": "A"}]) for i in (7, 8))
    with pytest.raises(RuntimeError, match="stop"):
        import_records(bank.engine, "accounts", chunks, guard=guard, events=True)
    assert effects(bank.engine) == [("inserted", 1)]


def test_a_rolled_back_savepoint_leaves_no_event_but_its_siblings_do(bank):
    with bank.engine.connect() as conn, conn.begin():
        savepoint = conn.begin_nested()
        import_records(conn, "accounts", [{"id": 2, "tenant": "A"}], events=True)
        savepoint.rollback()
        import_records(conn, "accounts", [{"id": 3, "tenant": "B"}], events=True)
    assert effects(bank.engine) == [("inserted", 1), ("inserted", 3)]


def test_a_callers_rolled_back_connection_leaves_no_event(bank):
    make_todos(bank)
    with bank.engine.connect() as conn:
        with conn.begin() as txn:
            import_records(conn, "accounts", [{"id": 2, "tenant": "A"}], events=True)
            Writer().allow("todos").apply(
                payload(ins({"id": "3", "title": "t"})), conn, events=True
            )
            txn.rollback()
        assert events.read(conn) == events.read(bank.engine)
    assert effects(bank.engine) == [("inserted", 1)]


def test_nothing_is_visible_before_the_callers_commit(bank):
    with bank.engine.connect() as conn, conn.begin():
        import_records(conn, "accounts", [{"id": 2, "tenant": "A"}], events=True)
        if bank.kind == "postgres":  # SQLite: the open write transaction blocks other readers
            assert effects(bank.engine) == [("inserted", 1)]
    assert effects(bank.engine) == [("inserted", 1), ("inserted", 2)]


def test_a_rejected_writer_transaction_records_nothing(bank):
    make_todos(bank)
    bad = payload(upd({"id": "1"}, {"title": "x"}), upd({"id": "99"}, {"title": "y"}))
    with pytest.raises(WriteRejected):
        Writer().allow("todos").apply(bad, bank.engine, events=True)
    assert effects(bank.engine) == [("inserted", 1)]


KILLED = textwrap.dedent(
    """
    import sys, time
    import pandas as pd
    from sync_pipeline import import_records
    seen = []
    def guard(diff):
        seen.append(diff)
        if len(seen) == 2:  # the first chunk and its events are written, not committed
            print("ready", flush=True)
            time.sleep(60)
    chunks = (pd.DataFrame([{"id": i, "tenant": "A"}]) for i in (10, 11))
    import_records(sys.argv[1], "accounts", chunks, guard=guard, events=True)
    """
)


def test_a_process_killed_mid_apply_leaves_no_event(pg):
    pg.create(accounts())
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, pg.url], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    finally:
        proc.kill()
        proc.wait()
    assert events.read(pg.engine) == []
    assert pg.rows("accounts") == []
