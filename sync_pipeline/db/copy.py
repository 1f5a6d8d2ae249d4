"""Postgres bulk plumbing: temporary stage tables, COPY of Arrow tables into them, and COPY out
of a query in blocks of rows."""

import io
import uuid
from collections.abc import Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa
from psycopg import pq, sql
from psycopg.errors import error_from_result
from psycopg.generators import fetch_many
from psycopg.pq.abc import PGconn
from psycopg.waiting import Ready, Wait

from sync_pipeline.db.dialect import Dialect

BLOCK_BYTES = 16 << 20  # a COPY's slice of rows (in) or block of rows (out), about


def create_stage(conn: sa.Connection, columns: Sequence[sa.Column]) -> sa.Table:
    """A TEMPORARY table (dropped at commit) with the given columns and no constraints."""
    name = f"_sync_stage_{uuid.uuid4().hex[:12]}"
    stage = sa.Table(
        name, sa.MetaData(), *columns, prefixes=["TEMPORARY"], postgresql_on_commit="DROP"
    )
    stage.create(conn)
    return stage


def copy_into(conn: sa.Connection, stage: sa.Table, data: pa.Table) -> None:
    """COPY `data` (columns named like the table's) into `stage` (any table) as CSV, a slice of
    about `BLOCK_BYTES` at a time: the text of a 10M-row table never sits in memory at once."""
    if data.num_rows == 0:
        return
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(*([stage.schema] if stage.schema else []), stage.name),
        sql.SQL(", ").join(map(sql.Identifier, data.column_names)),
    )
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    step = max(10_000, BLOCK_BYTES * data.num_rows // max(data.nbytes, 1))
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(statement) as copy:
        for start in range(0, data.num_rows, step):
            part = data.slice(start, step)
            buf = io.BytesIO()
            ready = {name: _csv_ready(part.column(name)) for name in part.column_names}
            pacsv.write_csv(pa.table(ready), buf, options)
            copy.write(buf.getbuffer())


def copy_out(
    conn: sa.Connection, statement: str, params: Mapping[str, Any], rows: int | None = None
) -> Generator[tuple[bytearray, int], None, None]:
    """Run `COPY (...) TO STDOUT` and yield its rows gathered into blocks of ~16 MB (at most
    `rows` rows each), with the length of their longest row, so they are parsed as they arrive
    and the raw text never sits in memory all at once.

    Inside the caller's transaction: its snapshot, its temporary tables. A block is handed over
    before the next is gathered; one abandoned mid-way cancels the COPY (psycopg's `Copy` does).
    """
    raw = conn.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    with raw.cursor() as cur, cur.copy(statement, params):
        yield from _gather(raw, rows or -1)


def _gather(raw: psycopg.Connection[Any], limit: int) -> Iterator[tuple[bytearray, int]]:
    """Postgres sends one COPY message per row, and psycopg's `Copy.read()` pays a generator and
    a wait per message: that took 70% of reading a million rows. Rows libpq already holds are
    taken here in a tight loop; psycopg waits for the socket only when libpq runs dry."""
    pgconn = raw.pgconn
    block = bytearray()
    longest = count = 0
    while True:
        nbytes, row = pgconn.get_copy_data(1)  # 1: never block; 0: no whole row buffered yet
        if nbytes > 0:
            block += row
            longest = max(longest, nbytes)
            count += 1
            if len(block) >= BLOCK_BYTES or count == limit:
                yield block, longest
                block, longest, count = bytearray(), 0, 0
        elif nbytes == 0:
            raw.wait(_readable(pgconn))
        else:  # -1: the rows are done; the COPY's own result follows
            _finish_out(raw)
            break
    if block:
        yield block, longest


def _readable(pgconn: PGconn) -> Generator[Wait, Ready | int, None]:
    """Wait (the psycopg way, interruptible) until the socket has data, then hand it to libpq."""
    while not (yield Wait.R):
        continue
    pgconn.consume_input()


def _finish_out(raw: psycopg.Connection[Any]) -> None:
    """Take the results that end a COPY TO; a server error raised mid-COPY (a failing
    expression in row 900,000) surfaces here as psycopg's exception for it."""
    for result in raw.wait(fetch_many(raw.pgconn)):
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise error_from_result(result, encoding=raw.info.encoding)


# Stages with fewer rows are not analyzed: the planner estimates a fresh temporary table's rows
# from its pages and already joins a few thousand rows through the target's index, the plan
# ANALYZE would also give it; ANALYZE itself cost ~12 ms per 5,000-row chunk (0.5 s a batch).
ANALYZE_ROWS = 50_000


def fill_stage(
    conn: sa.Connection, stage: sa.Table, data: pa.Table, *, joined: bool = True
) -> None:
    """COPY the data in, then ANALYZE a big stage that will be `joined`, so the planner joins it
    by hash, not loops (a stage only read whole, e.g. rows to insert, needs no statistics)."""
    copy_into(conn, stage, data)
    if joined and data.num_rows >= ANALYZE_ROWS:
        conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.quote(stage.name)}")


def stage_values(
    conn: sa.Connection, dialect: Dialect, columns: Sequence[sa.Column], data: pa.Table
) -> sa.Table:
    """A temporary table holding `data` (COPY where `dialect` has it, else executemany); drop it
    with `drop_stage` when done."""
    if dialect.copy:
        stage = create_stage(conn, columns)
        fill_stage(conn, stage, data)
        return stage
    name = f"_sync_stage_{uuid.uuid4().hex[:12]}"
    stage = sa.Table(name, sa.MetaData(), *columns, prefixes=["TEMPORARY"])
    stage.create(conn)
    if data.num_rows:
        conn.execute(sa.insert(stage), data.to_pylist())
    return stage


def drop_stage(conn: sa.Connection, stage: sa.Table) -> None:
    stage.drop(conn)


def bulk_insert(conn: sa.Connection, table: sa.Table, data: pa.Table) -> None:
    """Insert many rows: COPY on Postgres, executemany elsewhere."""
    if data.num_rows == 0:
        return
    if Dialect.of(conn).copy:
        copy_into(conn, table, data)
    else:
        conn.execute(sa.insert(table), data.to_pylist())


def truncate(conn: sa.Connection, stage: sa.Table) -> None:
    """Empty a stage for its next chunk. TRUNCATE, not DELETE: a stage created in this
    transaction is truncated in place, while DELETE left every earlier chunk's rows dead in it,
    for each later chunk to scan again (100k updates in 20 chunks: 2.7 s -> 1.9 s in Postgres)."""
    conn.exec_driver_sql(f"TRUNCATE {conn.dialect.identifier_preparer.quote(stage.name)}")


def _csv_ready(column: pa.ChunkedArray) -> pa.Array:
    """Binary values go as Postgres hex escapes; everything else as Arrow writes it."""
    array = column.combine_chunks()
    if pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type):
        return pa.array(
            [None if v is None else "\\x" + v.hex() for v in array.to_pylist()], type=pa.string()
        )
    if pa.types.is_null(array.type):
        return pc.cast(array, pa.string())
    return array


_HASH_ROW_BYTES = 80  # what one row of a hash join's table takes in Postgres, about
_MAX_WORK_MEM_KB = 256 << 10


@contextmanager
def work_memory_for(conn: sa.Connection, rows: int) -> Iterator[None]:
    """Room for a hash join over `rows` rows in the statements run inside (Postgres, capped at
    256 MB, never lowered; restored afterwards).

    At the default 4 MB a join of a big stage with the target spills to disk in batches, and an
    UPDATE through it then visits the target's pages batch by batch instead of in order: the
    stamp of 880,000 seen rows took more than twice as long.
    """
    if not Dialect.of(conn).copy:
        yield
        return
    settings = sa.table("pg_settings", sa.column("name"), sa.column("setting"), schema="pg_catalog")
    read = sa.select(sa.cast(settings.c.setting, sa.BigInteger)).where(
        settings.c.name == "work_mem"
    )
    before = int(conn.execute(read).scalar_one())
    wanted = min(rows * _HASH_ROW_BYTES >> 10, _MAX_WORK_MEM_KB)
    if wanted <= before:
        yield
        return
    setting = sa.select(sa.func.set_config("work_mem", sa.bindparam("kb"), True))
    conn.execute(setting, {"kb": f"{wanted}kB"})
    try:
        yield
    finally:
        conn.execute(setting, {"kb": f"{before}kB"})
