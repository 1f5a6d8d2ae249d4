"""Postgres plumbing for the benchmark: databases, schemas, COPY from Arrow, checksums, WAL.

Uses psycopg 3 directly; every identifier goes through `sql.Identifier`. All names come from the
benchmark itself (no outside input).
"""

import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.csv as pcsv
from psycopg import sql

from benchmarks.generate import DATA_COLUMNS, DDL, TABLE

HOST, PORT, USER = "127.0.0.1", 5432, "postgres"
ADMIN_DB = os.environ.get("SYNC_BENCH_ADMIN_DB", "postgres")
COPY_CHUNK_ROWS = 100_000
SETTINGS = (
    "shared_buffers",
    "work_mem",
    "maintenance_work_mem",
    "max_wal_size",
    "wal_level",
    "synchronous_commit",
    "fsync",
    "full_page_writes",
    "max_parallel_workers_per_gather",
    "effective_io_concurrency",
)


def conninfo(dbname: str) -> str:
    return f"host={HOST} port={PORT} user={USER} dbname={dbname}"


def sa_url(dbname: str, schema: str) -> str:
    """SQLAlchemy URL whose connections see `schema` first (like the test fixtures)."""
    return f"postgresql+psycopg://{USER}@{HOST}:{PORT}/{dbname}?options=-csearch_path%3D{schema}"


def connect(dbname: str, *, autocommit: bool = True) -> psycopg.Connection[Any]:
    conn = psycopg.connect(conninfo(dbname), autocommit=autocommit)
    conn.execute("SET TimeZone = 'UTC'")
    return conn


def create_database(name: str) -> None:
    with connect(ADMIN_DB) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(name: str) -> None:
    with connect(ADMIN_DB) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def fresh_schema(conn: psycopg.Connection[Any], schema: str, *, with_table: bool = True) -> None:
    """Drop and recreate `schema`, with an empty indexed `customers` table in it."""
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    if with_table:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        conn.execute(DDL)
        conn.execute("RESET search_path")


def drop_schema(conn: psycopg.Connection[Any], schema: str) -> None:
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def copy_batches(
    conn: psycopg.Connection[Any], schema: str, table: str, batches: Iterable[pa.RecordBatch]
) -> int:
    """COPY Arrow record batches into schema.table (columns by name) as CSV; returns rows."""
    rows = 0
    columns: list[str] | None = None
    copy_sql: sql.Composed | None = None
    with conn.cursor() as cur:
        batches = iter(batches)
        first = next(batches, None)
        if first is None:
            return 0
        columns = list(first.schema.names)
        copy_sql = sql.SQL("COPY {}.{} ({}) FROM STDIN (FORMAT csv)").format(
            sql.Identifier(schema),
            sql.Identifier(table),
            sql.SQL(", ").join(map(sql.Identifier, columns)),
        )
        with cur.copy(copy_sql) as copy:
            for batch in _chain(first, batches):
                sink = pa.BufferOutputStream()
                pcsv.write_csv(batch, sink, pcsv.WriteOptions(include_header=False))
                copy.write(sink.getvalue())
                rows += batch.num_rows
    return rows


def copy_table(conn: psycopg.Connection[Any], schema: str, table: str, data: pa.Table) -> int:
    return copy_batches(conn, schema, table, data.to_batches(max_chunksize=COPY_CHUNK_ROWS))


def _chain(first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest


def vacuum_analyze(conn: psycopg.Connection[Any], schema: str, table: str = TABLE) -> None:
    """ANALYZE, plus the VACUUM autovacuum would otherwise start on a freshly loaded table.

    A COPY of 1M rows into a new table crosses autovacuum's insert threshold; left alone, the
    vacuum (and hint-bit writes) would land inside some timed operations and not others.
    """
    target = sql.Identifier(schema, table)
    conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(target))


def settle(conn: psycopg.Connection[Any], timeout_s: float = 60.0) -> None:
    """Start every timed operation from the same server state: no autovacuum worker busy in
    this database (waits up to `timeout_s`), dirty buffers flushed (CHECKPOINT)."""
    busy = sql.SQL(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE backend_type = 'autovacuum worker' AND datname = current_database()"
    )
    deadline = time.monotonic() + timeout_s
    while scalar(conn, busy) and time.monotonic() < deadline:
        time.sleep(0.5)
    conn.execute("CHECKPOINT")


def checksum(conn: psycopg.Connection[Any], schema: str, table: str = TABLE) -> tuple[int, str]:
    """(row count, md5 over md5 of each row's data columns in id order); last_batch_id excluded."""
    row = sql.SQL("ROW({})::text").format(sql.SQL(", ").join(map(sql.Identifier, DATA_COLUMNS)))
    query = sql.SQL(
        "SELECT count(*), coalesce(md5(string_agg(md5({row}), '' ORDER BY id)), '') FROM {}.{}"
    ).format(sql.Identifier(schema), sql.Identifier(table), row=row)
    with conn.cursor() as cur:
        count, digest = cur.execute(query).fetchone() or (0, "")
    return int(count), str(digest)


def scalar(conn: psycopg.Connection[Any], query: sql.Composable, params: Any = None) -> Any:
    with conn.cursor() as cur:
        row = cur.execute(query, params).fetchone()
    return None if row is None else row[0]


def wal_lsn(conn: psycopg.Connection[Any]) -> str:
    return str(scalar(conn, sql.SQL("SELECT pg_current_wal_lsn()::text")))


def wal_bytes_since(conn: psycopg.Connection[Any], lsn: str) -> int:
    """WAL written server-wide since `lsn` (other sessions included: an upper bound)."""
    return int(scalar(conn, sql.SQL("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)"), [lsn]))


def server_info(conn: psycopg.Connection[Any]) -> dict[str, str]:
    info = {"version": str(scalar(conn, sql.SQL("SELECT version()")))}
    for name in SETTINGS:
        info[name] = str(scalar(conn, sql.SQL("SELECT current_setting(%s)"), [name]))
    return info


def other_runs(conn: psycopg.Connection[Any], mine: str) -> list[str]:
    """Other benchmark runs connected to this server now (they would skew this run's timings);
    a database left behind by a killed run has no sessions and does not count."""
    query = sql.SQL(
        "SELECT DISTINCT datname FROM pg_stat_activity "
        "WHERE datname LIKE 'sync\\_bench\\_%%' AND datname <> %s"
    )
    with conn.cursor() as cur:
        return sorted(str(r[0]) for r in cur.execute(query, [mine]).fetchall())


@contextmanager
def database(name: str) -> Iterator[str]:
    """A throw-away database for one benchmark run, dropped afterwards."""
    create_database(name)
    try:
        yield name
    finally:
        drop_database(name)


SENDER_DDL = """
CREATE TABLE customers (
    id bigint, external_ref text, email text, name text, price text, quantity int,
    active bool, updated_at timestamptz, tags text, payload text
)
"""


def sender_table(
    conn: psycopg.Connection[Any], schema: str, batches: Iterable[pa.RecordBatch]
) -> int:
    """Batch 2 as a sender's table `schema.customers` (price as text, as batch 2 carries it)."""
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    conn.execute(SENDER_DDL)
    conn.execute("RESET search_path")
    rows = copy_batches(conn, schema, "customers", batches)
    vacuum_analyze(conn, schema)
    return rows
