"""Correctness checks shared by the paths: counts against the generator's truth, final table
against the reference checksum, and the engine's missing-row report."""

from typing import Any

import psycopg

from benchmarks import pg
from benchmarks.generate import TABLE, Truth
from benchmarks.integration import missing_after, result_counts
from benchmarks.measure import Ctx, Measurement

Conn = psycopg.Connection[Any]


def sync_counts(t: Truth) -> dict[str, int]:
    return {
        "created": t.added,
        "updated": t.changed,
        "unchanged": t.unchanged,
        "missing": t.missing,
        "errors": 0,
    }


def nochange_counts(t: Truth) -> dict[str, int]:
    return {
        "created": 0,
        "updated": 0,
        "unchanged": t.batch2_rows,
        "missing": t.missing,
        "errors": 0,
    }


def expect_counts(m: Measurement, want: dict[str, int]) -> None:
    got = {k: m.counts.get(k) for k in want}
    m.expect("counts equal the generator's truth", got, want)


def expect_table(m: Measurement, ctx: Ctx, conn: Conn) -> None:
    got = list(pg.checksum(conn, ctx.schema))
    m.expect("final table equals the reference (checksum)", got, list(ctx.expected_checksum))


def expect_engine(m: Measurement, ctx: Ctx, conn: Conn, result: Any, want: dict[str, int]) -> None:
    """Counts, final table, and missing_after_batch for an engine run."""
    expect_sync(m, ctx, conn, result_counts(result), want)


def expect_sync(
    m: Measurement, ctx: Ctx, conn: Conn, counts: dict[str, Any], want: dict[str, int]
) -> None:
    """Counts (from wherever the path gets them), final table and missing rows of a sync."""
    m.counts = counts
    expect_counts(m, want)
    expect_table(m, ctx, conn)
    batch_id = counts.get("batch_id")
    if isinstance(batch_id, int):
        missing = missing_after(ctx.url, TABLE, batch_id)
        m.expect("missing_after_batch finds the missing rows", len(missing), ctx.truth.missing)
    else:
        m.check("the result carries an integer batch id", False, batch_id)
