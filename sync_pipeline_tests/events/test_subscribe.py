"""Subscriptions: commit order, no loss across a killed connection or a restart, SQLite polling."""

import pytest
import sqlalchemy as sa

from sync_pipeline import events, import_records
from sync_pipeline_tests.events.helpers import accounts

pytestmark = pytest.mark.integration
WAIT = 10.0  # upper bound for a commit that is already there; never reached when things work


@pytest.fixture
def bank(db):
    db.create(accounts())
    events.install(db.engine)
    return db


def write(db, *ids: int, tenant: str = "A") -> None:
    rows = [{"id": i, "tenant": tenant, "name": f"n{i}"} for i in ids]
    import_records(db.engine, "accounts", rows, "overwrite", events={"keys": ["tenant"]})


def ids(commit) -> list[int]:
    return [e.pk["id"] for e in commit.events]


def test_a_subscriber_gets_each_commit_once_in_order_and_waits_for_new_ones(bank):
    write(bank, 1)
    with events.subscribe(bank.engine, ["accounts"], poll_interval=0.05) as sub:
        assert ids(sub.next(timeout=WAIT)) == [1]
        assert sub.next(timeout=0.2) is None
        write(bank, 2, 3)
        write(bank, 4)
        got = [ids(sub.next(timeout=WAIT)) for _ in range(2)]
        assert got == [[2, 3], [4]] and sub.next(timeout=0.2) is None


def test_a_killed_database_connection_loses_nothing(pg):
    pg.create(accounts())
    events.install(pg.engine)
    with events.subscribe(pg.engine, ["accounts"], poll_interval=0.05) as sub:
        assert sub.next(timeout=0.1) is None
        pid = sub._connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with pg.engine.connect() as admin:
            admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        write(pg, 1)
        write(pg, 2)
        assert [ids(sub.next(timeout=WAIT)) for _ in range(2)] == [[1], [2]]
        assert sub.next(timeout=0.2) is None


def test_a_restart_from_a_given_cursor_receives_exactly_the_rest(bank):
    write(bank, 1)
    with events.subscribe(bank.engine, ["accounts"], poll_interval=0.05) as sub:
        cursor = str(sub.next(timeout=WAIT).position)
    write(bank, 2)
    write(bank, 3)
    with events.subscribe(bank.engine, ["accounts"], after=cursor, poll_interval=0.05) as sub:
        assert [ids(sub.next(timeout=WAIT)) for _ in range(2)] == [[2], [3]]
        assert sub.next(timeout=0.2) is None


def test_a_durable_consumer_resumes_after_its_last_ack(bank):
    write(bank, 1)
    write(bank, 2)
    with events.subscribe(bank.engine, ["accounts"], consumer="mailer", poll_interval=0.05) as sub:
        first = sub.next(timeout=WAIT)
        sub.ack(first)
        assert ids(sub.next(timeout=WAIT)) == [2]  # received, never acknowledged
    write(bank, 3)
    with events.subscribe(bank.engine, ["accounts"], consumer="mailer", poll_interval=0.05) as sub:
        assert [ids(sub.next(timeout=WAIT)) for _ in range(2)] == [[2], [3]]


def test_prune_keeps_what_a_consumer_has_not_acknowledged(bank):
    import datetime as dt

    write(bank, 1)
    with events.subscribe(bank.engine, ["accounts"], poll_interval=0.05) as sub:
        old_cursor = sub.next(timeout=WAIT).position
    with events.subscribe(bank.engine, ["accounts"], consumer="slow") as slow:
        slow.ack(slow.next(timeout=WAIT))
    write(bank, 2)
    write(bank, 3)
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert events.prune(bank.engine, older_than=future) == 1  # only what "slow" acked
    with events.subscribe(bank.engine, ["accounts"], consumer="slow", poll_interval=0.05) as sub:
        assert [ids(sub.next(timeout=WAIT)) for _ in range(2)] == [[2], [3]]
    with pytest.raises(events.CursorTooOld, match="snapshot"):
        events.read(bank.engine, after=events.Position(0, 0))
    assert [ids(c) for c in events.read(bank.engine, after=old_cursor)] == [[2], [3]]


def test_the_async_subscription_delivers_the_same_commits(bank):
    import asyncio

    write(bank, 1)

    async def consume() -> list[list[int]]:
        async with events.asubscribe(bank.engine, ["accounts"], poll_interval=0.05) as sub:
            first = await sub.next(timeout=WAIT)
            await asyncio.to_thread(write, bank, 2)
            second = await anext(aiter(sub))
            return [ids(first), ids(second)]

    assert asyncio.run(consume()) == [[1], [2]]


@pytest.mark.parametrize("text", ["", "1", "1.2.3", "a.b", "-1.2"])
def test_a_position_string_that_is_not_seq_dot_n_is_a_config_error(text):
    from sync_pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="position"):
        events.Position.parse(text)


def test_a_position_round_trips_through_its_string_form():
    position = events.Position(12, 345)
    assert str(position) == "12.345" and events.Position.parse(str(position)) == position
    assert events.Position(2, 1) > events.Position(1, 999)


def test_sqlite_idle_polls_do_not_read_the_event_tables(sqlite):
    sqlite.create(accounts())
    events.install(sqlite.engine)
    reads: list[str] = []

    def count(conn, cursor, statement, *args):
        if "_sync_events" in statement:
            reads.append(statement)

    with events.subscribe(sqlite.engine, ["accounts"], poll_interval=0.01) as sub:
        sa.event.listen(sqlite.engine, "before_cursor_execute", count)
        assert sub.next(timeout=0.3) is None
        assert len(reads) == 1  # then PRAGMA data_version only, until another commit
        write(sqlite, 1)
        assert ids(sub.next(timeout=WAIT)) == [1]
        sa.event.remove(sqlite.engine, "before_cursor_execute", count)


def test_postgres_short_timeouts_read_only_when_notified_or_the_poll_interval_passed(pg):
    pg.create(accounts())
    events.install(pg.engine)
    reads: list[str] = []

    def count(conn, cursor, statement, *args):
        if "json_agg" in statement:  # the page query (the write is counted out)
            reads.append(statement)

    with events.subscribe(pg.engine, ["accounts"], poll_interval=60.0) as sub:
        sa.event.listen(pg.engine, "before_cursor_execute", count)
        for _ in range(10):
            assert sub.next(timeout=0.02) is None
        assert len(reads) == 1  # the first read; since then nothing was notified
        write(pg, 1)
        assert ids(sub.next(timeout=WAIT)) == [1]  # the notification wakes it, not the poll
        assert len(reads) == 2
        sa.event.remove(pg.engine, "before_cursor_execute", count)
