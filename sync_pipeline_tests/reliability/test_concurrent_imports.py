"""Issue 8 item 4: concurrent imports naming tables in any order never deadlock or collide."""

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from sync_pipeline import import_multiple, import_records
from sync_pipeline_tests.engine.tables import people

pytestmark = pytest.mark.integration


def _concurrently(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads started together; each outcome is a result or the exception."""
    start = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        start.wait(timeout=10)
        try:
            outcomes[i] = calls[i]()
        except Exception as exc:  # recorded, then asserted on by the test
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def _meet_once(parties: int) -> Callable[[Any], None]:
    """A guard that holds each caller's first table lock until the other caller is also inside
    its transaction (or 1 s passed): the interleaving that deadlocked opposite lock orders."""
    barrier, seen = threading.Barrier(parties), threading.local()

    def guard(diff: Any) -> None:
        if not getattr(seen, "met", False):
            seen.met = True
            with contextlib.suppress(threading.BrokenBarrierError):  # the other waits for us
                barrier.wait(timeout=1)

    return guard


def _opposite_orders(target: Any, a: str, b: str) -> list[Any]:
    guard = _meet_once(2)

    def call(i: int, order: list[str]) -> Callable[[], Any]:
        batch = {n: [{"id": 100 * i + k, "name": f"{n}{i}"} for k in range(3)] for n in order}
        return lambda: import_multiple(target, batch, guard=guard)

    return _concurrently([call(0, [a, b]), call(1, [b, a])])


@pytest.mark.parametrize("spell", ["bare", "qualified"])
def test_two_import_multiple_in_opposite_orders_both_finish(pg, spell):
    md = sa.MetaData()
    pg.create(people(md, "ta"), people(md, "tb"))
    outcomes = _opposite_orders(pg.engine, "ta" if spell == "bare" else f"{pg.schema}.ta", "tb")
    assert [type(o) for o in outcomes] == [dict, dict], outcomes
    for table in ("ta", "tb"):
        assert [r["id"] for r in pg.rows(table)] == [0, 1, 2, 100, 101, 102]
    assert len({r.batch_id for o in outcomes for r in o.values()}) == 2  # one after the other


def test_on_sqlite_opposite_orders_also_both_finish(sqlite):
    md = sa.MetaData()
    sqlite.create(people(md, "ta"), people(md, "tb"))
    outcomes = _opposite_orders(sqlite.engine, "ta", "tb")
    assert [type(o) for o in outcomes] == [dict, dict], outcomes
    assert [r["id"] for r in sqlite.rows("ta")] == [0, 1, 2, 100, 101, 102]


def test_first_imports_into_two_tables_at_once_both_create_the_ledger_safely(pg):
    """Both find no _sync_batches and create it: the second waits for the first, then skips."""
    md = sa.MetaData()
    pg.create(people(md, "ta"), people(md, "tb"))
    for attempt in range(5):
        pg.execute("DROP TABLE IF EXISTS _sync_batches")
        calls = [
            lambda n=name, i=attempt: import_records(pg.engine, n, [{"id": i, "name": n}])
            for name in ("ta", "tb")
        ]
        outcomes = _concurrently(calls)
        assert [type(o).__name__ for o in outcomes] == ["ImportResult"] * 2, outcomes
    assert pg.execute("SELECT count(*) FROM _sync_batches") == [(2,)]
