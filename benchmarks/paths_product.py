"""The paths users run: the four-asset Dagster job and the SQL sender feeding the engine.

Batch 2 sits in a sender table (`<schema>_src.customers`, price as text) loaded untimed by COPY;
the target is the benchmark's indexed target holding batch 1.
"""

import os
from typing import Any

import psycopg
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks import dagster_job, pg
from benchmarks.checks import expect_sync, sync_counts
from benchmarks.generate import TABLE
from benchmarks.integration import engine_sync_sender, result_counts, sender_read
from benchmarks.measure import Ctx, Measurement, load_batch1, timed

Conn = psycopg.Connection[Any]
COUNTS = ("created", "updated", "unchanged", "skipped", "missing", "deleted", "batch_id", "errors")


def _sender_url(ctx: Ctx, conn: Conn) -> str:
    """Batch 2 as the sender's table in its own schema; returns the sender's URL."""
    schema = f"{ctx.schema}_src"
    batches = pq.ParquetFile(ctx.data_dir / "batch2.parquet").iter_batches(pg.COPY_CHUNK_ROWS)
    pg.sender_table(conn, schema, batches)
    return pg.sa_url(ctx.dbname, schema)


def _drop_sender(ctx: Ctx, conn: Conn) -> None:
    pg.drop_schema(conn, f"{ctx.schema}_src")


def run_dagster_job(ctx: Ctx, conn: Conn) -> list[Measurement]:
    """`dg launch --job customers_sync`: whole command, run duration, every process's peak RSS."""
    m = Measurement("dagster_job", ctx.rep, rss_method="process tree (VmHWM per process)")
    sender = _sender_url(ctx, conn)
    load_batch1(ctx, conn)
    try:
        with dagster_job.project() as proj:
            m.load_1m = os.getloadavg()[0]
            lsn = pg.wal_lsn(conn)
            tree = dagster_job.launch(proj, sender, ctx.url)
            m.wal_mb = pg.wal_bytes_since(conn, lsn) / 2**20
            m.seconds, m.peak_rss_mb = tree.seconds, tree.peak_rss_mb
            m.detail = {"processes": tree.as_list(), "rusage_max_mb": tree.rusage_max_mb}
            if tree.returncode != 0:
                m.status = "error"
                m.error = f"dg launch exited {tree.returncode}:\n{dagster_job.log_tail(proj)}"
                return [m]
            facts = dagster_job.run_facts(proj)
    finally:
        _drop_sender(ctx, conn)
    m.detail |= {k: facts[k] for k in ("run_id", "run_s", "status", "materialized", "steps_s")}
    if facts["run_start"] is not None and facts["run_s"] is not None:  # where the rest goes
        m.detail["before_run_s"] = facts["run_start"] - tree.started_at
        m.detail["after_run_s"] = m.seconds - m.detail["before_run_s"] - facts["run_s"]
    m.check("the run succeeded", facts["status"] == "SUCCESS", facts["status"])
    steps = sorted(facts["materialized"])
    want = sorted(f"{dagster_job.SYNC}/{a}" for a in ("applied", "diff", "extract", "normalized"))
    m.expect("the run materialized the four assets", steps, want)
    counts = {k: facts["applied"].get(k) for k in COUNTS}
    expect_sync(m, ctx, conn, counts, sync_counts(ctx.truth))
    return [m]


def run_engine_sender(ctx: Ctx, conn: Conn) -> list[Measurement]:
    """BatchImport.run(sender.read(None)): the engine fed by the SQL sender's chunk stream."""
    sender = _sender_url(ctx, conn)
    load_batch1(ctx, conn)
    try:
        m, result = timed(
            ctx, "engine_sender", lambda: engine_sync_sender(ctx.url, TABLE, sender), conn
        )
    finally:
        _drop_sender(ctx, conn)
    if m.status == "ok":
        expect_sync(m, ctx, conn, result_counts(result), sync_counts(ctx.truth))
    return [m]


def run_sender_read(ctx: Ctx, conn: Conn) -> list[Measurement]:
    """The SQL sender alone: every chunk of `sender.read(None)` into Arrow, nothing else."""
    sender = _sender_url(ctx, conn)
    pg.settle(conn)
    try:
        m, got = timed(ctx, "sender_read", lambda: _read_all(sender), conn)
    finally:
        _drop_sender(ctx, conn)
    if m.status == "ok" and got is not None:
        rows, id_sum = got
        m.counts = {"rows": rows}
        m.expect("every row read", rows, ctx.truth.batch2_rows)
        want = pc.sum(pq.read_table(ctx.data_dir / "batch2.parquet", columns=["id"])["id"])
        m.expect("the ids read sum to batch 2's", id_sum, want.as_py())
    return [m]


def _read_all(url: str) -> tuple[int, int]:
    rows = id_sum = 0
    for chunk in sender_read(url):
        rows += chunk.num_rows
        id_sum += pc.sum(chunk["id"]).as_py() or 0
    return rows, id_sum
