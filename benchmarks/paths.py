"""The measured paths. Each sets up a fresh target (untimed), times one operation, then checks it.

Every function takes the worker's Ctx and an autocommit connection to the run's database, and
returns its measurements (the engine path returns two: the full sync and the no-change re-sync).
"""

import importlib.util
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from benchmarks import pg, reference
from benchmarks.checks import (
    expect_counts,
    expect_engine,
    expect_table,
    nochange_counts,
    sync_counts,
)
from benchmarks.generate import TABLE
from benchmarks.integration import engine_sync
from benchmarks.measure import Ctx, Measurement, load_batch1, timed
from benchmarks.naive import naive_import
from benchmarks.paths_events import run_engine_events, run_routing
from benchmarks.paths_product import run_dagster_job, run_engine_sender, run_sender_read

Conn = psycopg.Connection[Any]
PathFn = Callable[[Ctx, Conn], list[Measurement]]
NEXT_BATCH = 2  # batch 1 is loaded with last_batch_id = 1


def run_copy(ctx: Ctx, conn: Conn) -> list[Measurement]:
    """The yardstick: raw COPY of batch 2 into an empty copy of the indexed table."""
    pg.fresh_schema(conn, ctx.schema)
    pg.vacuum_analyze(conn, ctx.schema)
    pg.settle(conn)
    m, rows = timed(ctx, "copy", lambda: pg.copy_table(conn, ctx.schema, TABLE, ctx.batch2), conn)
    if m.status == "ok":
        m.counts = {"copied": rows}
        m.expect("all rows copied", pg.checksum(conn, ctx.schema)[0], ctx.truth.batch2_rows)
    return [m]


def run_engine(ctx: Ctx, conn: Conn) -> list[Measurement]:
    """Our full sync (ledger mode), then the same batch again (no-change re-sync)."""
    load_batch1(ctx, conn)
    m, result = timed(ctx, "engine", lambda: engine_sync(ctx.url, TABLE, ctx.batch2), conn)
    if m.status != "ok":
        return [m, _not_run("engine_nochange", ctx, m)]
    expect_engine(m, ctx, conn, result, sync_counts(ctx.truth))
    pg.settle(conn)
    again, result2 = timed(
        ctx, "engine_nochange", lambda: engine_sync(ctx.url, TABLE, ctx.batch2), conn
    )
    if again.status == "ok":
        expect_engine(again, ctx, conn, result2, nochange_counts(ctx.truth))
    return [m, again]


def run_engine_stream(ctx: Ctx, conn: Conn) -> list[Measurement]:
    """The full sync fed chunk by chunk from Parquet: rows are looked up per chunk."""
    from benchmarks.integration import engine_sync_stream

    load_batch1(ctx, conn)
    parquet = ctx.data_dir / "batch2.parquet"
    m, result = timed(
        ctx, "engine_stream", lambda: engine_sync_stream(ctx.url, TABLE, parquet, 200_000), conn
    )
    if m.status == "ok":
        expect_engine(m, ctx, conn, result, sync_counts(ctx.truth))
    return [m]


def run_engine_column(ctx: Ctx, conn: Conn, *, hot: bool = False) -> list[Measurement]:
    """Seed-compatible column mode: every seen row gets last_batch_id = the new batch id.

    With `hot`, the target is created with fillfactor 50: room in every page lets Postgres
    stamp rows as HOT updates (no index entries), the trade-off being a table twice the size.
    """
    name = "engine_column_hot" if hot else "engine_column"
    load_batch1(ctx, conn, fillfactor=50 if hot else None)
    m, result = timed(
        ctx,
        name,
        lambda: engine_sync(ctx.url, TABLE, ctx.batch2, batch_mode="column"),
        conn,
    )
    if m.status == "ok":
        expect_engine(m, ctx, conn, result, sync_counts(ctx.truth))
        stamped = pg.scalar(
            conn,
            sql.SQL("SELECT count(*) FROM {} WHERE last_batch_id = %s").format(
                sql.Identifier(ctx.schema, TABLE)
            ),
            [m.counts.get("batch_id")],
        )
        m.expect("every seen row carries the new batch id", stamped, ctx.truth.batch2_rows)
    return [m]


def run_engine_column_hot(ctx: Ctx, conn: Conn) -> list[Measurement]:
    return run_engine_column(ctx, conn, hot=True)


def run_dlt(ctx: Ctx, conn: Conn, *, indexed: bool = False) -> list[Measurement]:
    if importlib.util.find_spec("dlt") is None:
        why = "dlt is not installed (uv sync --group bench)"
        name = "dlt_indexed" if indexed else "dlt"
        return [Measurement(name, ctx.rep, status="skipped", error=why)]
    from benchmarks.dlt_path import dlt_merge

    return [dlt_merge(ctx, conn, indexed=indexed)]


def run_dlt_indexed(ctx: Ctx, conn: Conn) -> list[Measurement]:
    return run_dlt(ctx, conn, indexed=True)


def run_naive(ctx: Ctx, conn: Conn) -> list[Measurement]:
    load_batch1(ctx, conn)
    m, counts = timed(
        ctx, "naive", lambda: naive_import(conn, ctx.schema, ctx.batch2, NEXT_BATCH), conn
    )
    if m.status == "ok" and counts is not None:
        m.counts = counts
        t = ctx.truth
        expect_counts(m, {"created": t.added, "updated": t.changed, "unchanged": t.unchanged})
        expect_table(m, ctx, conn)
    return [m]


def _run_upsert(ctx: Ctx, conn: Conn, name: str, stamp_all: bool) -> list[Measurement]:
    load_batch1(ctx, conn)
    m, counts = timed(
        ctx,
        name,
        lambda: reference.upsert(conn, ctx.schema, ctx.batch2, NEXT_BATCH, stamp_all=stamp_all),
        conn,
    )
    if m.status == "ok" and counts is not None:
        m.counts = counts
        t = ctx.truth
        matched_writes = t.batch2_rows - t.added if stamp_all else t.changed
        expect_counts(m, {"created": t.added, "updated": matched_writes})
        expect_table(m, ctx, conn)
    return [m]


def run_upsert(ctx: Ctx, conn: Conn) -> list[Measurement]:
    """Reference upsert that rewrites every seen row (stamps last_batch_id)."""
    return _run_upsert(ctx, conn, "upsert", stamp_all=True)


def run_upsert_changed(ctx: Ctx, conn: Conn) -> list[Measurement]:
    """Reference upsert that only updates rows that differ."""
    return _run_upsert(ctx, conn, "upsert_changed", stamp_all=False)


def _not_run(path: str, ctx: Ctx, cause: Measurement) -> Measurement:
    return Measurement(path, ctx.rep, status=cause.status, error=f"not run: {cause.path} failed")


PATHS: dict[str, PathFn] = {
    "copy": run_copy,
    "engine": run_engine,
    "engine_column": run_engine_column,
    "engine_column_hot": run_engine_column_hot,
    "engine_stream": run_engine_stream,
    "engine_sender": run_engine_sender,
    "sender_read": run_sender_read,
    "dagster_job": run_dagster_job,
    "engine_events": run_engine_events,
    "routing": run_routing,
    "dlt": run_dlt,
    "dlt_indexed": run_dlt_indexed,
    "naive": run_naive,
    "upsert": run_upsert,
    "upsert_changed": run_upsert_changed,
}
# Paths that read batch 2 from Parquet themselves (their worker does not hold it in memory).
STREAMING = frozenset({"engine_stream", "engine_sender", "sender_read", "dagster_job"})
# Measurements each worker reports (the engine worker also reports the no-change re-sync).
REPORTS: dict[str, tuple[str, ...]] = {p: (p,) for p in PATHS} | {
    "engine": ("engine", "engine_nochange"),
    "routing": ("routing_one", "routing_1000"),
}
DESCRIPTIONS = {
    "copy": "raw COPY of batch 2 into an empty copy of the indexed table (yardstick)",
    "engine": "engine full sync, ledger mode (normalize, diff, apply, batch id, missing rows)",
    "engine_nochange": "engine re-sync of the same batch 2 (nothing changed)",
    "engine_column": "engine column mode: every seen row stamped with last_batch_id",
    "engine_column_hot": "the same, target created with fillfactor 50 so stamps are HOT updates",
    "engine_stream": "engine full sync fed as 200k-row Arrow chunks from Parquet (streaming)",
    "engine_sender": "engine fed by the SQL sender: BatchImport.run(sender.read(None)), "
    "default batch mode and chunk size",
    "sender_read": "SQL sender alone: sender.read(None) into Arrow chunks, nothing else",
    "dagster_job": "the four-asset job of a syncs.yaml sync (SQL sender -> Postgres), "
    "`dg launch --job customers_sync`; whole command",
    "engine_events": "`engine` with events=True, timed until one subscriber (a thread) has "
    "received every event",
    "routing_one": "one commit of 100k events read through a Fanout by one unfiltered subscriber",
    "routing_1000": "the same commit routed to 1,000 subscribers filtered by key value (tenant)",
    "dlt": "dlt merge (delete-insert), Arrow input, csv loader; dlt's table has no indexes",
    "dlt_indexed": "the same, dlt's table with the target's unique indexes (id, external_ref)",
    "naive": "naive importer: 500-row chunks, SELECT by key + executemany INSERT/UPDATE",
    "upsert": "SQL reference: COPY to temp + INSERT ON CONFLICT, rewrites every seen row",
    "upsert_changed": "SQL reference: COPY to temp + INSERT ON CONFLICT ... WHERE distinct",
}
