"""Postgres bulk plumbing: temporary stage tables and COPY of Arrow tables into them."""

import io
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa
from psycopg import sql

from sync_pipeline.db.dialect import Dialect


def create_stage(conn: sa.Connection, columns: Sequence[sa.Column]) -> sa.Table:
    """A TEMPORARY table (dropped at commit) with the given columns and no constraints."""
    name = f"_sync_stage_{uuid.uuid4().hex[:12]}"
    stage = sa.Table(
        name, sa.MetaData(), *columns, prefixes=["TEMPORARY"], postgresql_on_commit="DROP"
    )
    stage.create(conn)
    return stage


def copy_into(conn: sa.Connection, stage: sa.Table, data: pa.Table) -> None:
    """COPY `data` (columns named like the table's) into `stage` (any table) as CSV."""
    if data.num_rows == 0:
        return
    data = pa.table({name: _csv_ready(data.column(name)) for name in data.column_names})
    buf = io.BytesIO()
    pacsv.write_csv(data, buf, pacsv.WriteOptions(include_header=False, quoting_style="all_valid"))
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(*([stage.schema] if stage.schema else []), stage.name),
        sql.SQL(", ").join(map(sql.Identifier, data.column_names)),
    )
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(statement) as copy:
        copy.write(buf.getbuffer())


def fill_stage(conn: sa.Connection, stage: sa.Table, data: pa.Table) -> None:
    """COPY the data in, then ANALYZE a big stage so the planner joins it by hash, not loops."""
    copy_into(conn, stage, data)
    if data.num_rows >= 1000:
        conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.quote(stage.name)}")


def stage_values(conn: sa.Connection, columns: Sequence[sa.Column], data: pa.Table) -> sa.Table:
    """A temporary table holding `data` (COPY on Postgres, executemany elsewhere); drop it with
    `drop_stage` when done."""
    if Dialect.of(conn).copy:
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
    conn.execute(sa.delete(stage))


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
