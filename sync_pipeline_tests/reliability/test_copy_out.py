"""`COPY ... TO STDOUT` read straight from libpq (db/copy.py `copy_out`): every row once, in
whole-row blocks, inside the caller's transaction; a COPY that fails, is cancelled or is
abandoned mid-way raises or stops cleanly and leaves the connection usable."""

from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa

from sync_pipeline.db import copy

pytestmark = pytest.mark.integration

ROWS = 100_000


def _series(n: int, value: str = "g") -> str:
    return f"COPY (SELECT g, {value} AS v FROM generate_series(1, {n}) g) TO STDOUT (FORMAT csv)"


@pytest.fixture
def conn(pg) -> Iterator[sa.Connection]:
    """A connection inside a transaction, as the engine and the senders read."""
    with pg.engine.connect() as c:
        c.begin()
        yield c


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(copy, "BLOCK_BYTES", 64 << 10)  # many blocks from a small result


def _lines(blocks: list[tuple[bytearray, int]]) -> list[bytes]:
    return [line for block, _ in blocks for line in bytes(block).splitlines()]


def test_every_row_arrives_once_in_whole_row_blocks(conn, small_blocks) -> None:
    blocks = list(copy.copy_out(conn, _series(ROWS), {}))
    assert len(blocks) > 10
    assert all(block.endswith(b"\n") for block, _ in blocks)  # no row split across blocks
    assert _lines(blocks) == [f"{g},{g}".encode() for g in range(1, ROWS + 1)]
    longest = max(len(line) for line in _lines(blocks)) + 1  # with its line feed
    assert max(n for _, n in blocks) == longest


def test_blocks_hold_at_most_the_rows_asked_for(conn) -> None:
    blocks = list(copy.copy_out(conn, _series(25), {}, rows=10))
    assert [len(bytes(b).splitlines()) for b, _ in blocks] == [10, 10, 5]


def test_parameters_are_bound(conn) -> None:
    statement = "COPY (SELECT g FROM generate_series(1, %(n)s) g) TO STDOUT (FORMAT csv)"
    assert _lines(list(copy.copy_out(conn, statement, {"n": 3}))) == [b"1", b"2", b"3"]


def test_reads_see_the_callers_transaction_and_leave_it_open(conn) -> None:
    conn.execute(sa.text("CREATE TEMPORARY TABLE held (x int)"))
    conn.execute(sa.text("INSERT INTO held VALUES (1), (2)"))
    statement = "COPY (SELECT x FROM held ORDER BY x) TO STDOUT (FORMAT csv)"
    assert _lines(list(copy.copy_out(conn, statement, {}))) == [b"1", b"2"]
    conn.execute(sa.text("INSERT INTO held VALUES (3)"))  # same transaction, still usable
    assert _lines(list(copy.copy_out(conn, statement, {}))) == [b"1", b"2", b"3"]


def test_a_query_failing_mid_copy_raises_after_the_rows_before_it(conn, small_blocks) -> None:
    failing = _series(ROWS, value=f"1 / ({ROWS // 2} - g)")  # division by zero at row 50,000
    got: list[bytes] = []
    with pytest.raises(psycopg.errors.DivisionByZero):
        for block, _ in copy.copy_out(conn, failing, {}):
            got += bytes(block).splitlines()
    assert 0 < len(got) < ROWS // 2
    conn.rollback()
    assert _lines(list(copy.copy_out(conn, _series(3), {}))) == [b"1,1", b"2,2", b"3,3"]


def test_a_copy_cancelled_by_the_server_raises_and_the_connection_recovers(conn) -> None:
    conn.execute(sa.text("SET LOCAL statement_timeout = '300ms'"))
    slow = _series(ROWS, value="pg_sleep(0.001)")  # 100 s of rows: the timeout cancels it
    with pytest.raises(psycopg.errors.QueryCanceled):
        list(copy.copy_out(conn, slow, {}))
    conn.rollback()
    assert conn.execute(sa.text("SELECT 41 + 1")).scalar_one() == 42


def test_a_read_abandoned_mid_way_stops_the_copy_and_the_connection_recovers(
    conn, small_blocks
) -> None:
    reader = copy.copy_out(conn, _series(3_000_000), {})
    first, _ = next(reader)
    assert bytes(first).startswith(b"1,1\n")
    reader.close()  # what a consumer that stops iterating does: the COPY is cancelled
    conn.rollback()
    assert _lines(list(copy.copy_out(conn, _series(2), {}))) == [b"1,1", b"2,2"]
