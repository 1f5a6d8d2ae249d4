"""dlt's merge of the same batch into Postgres (dlt is a benchmark-only dependency).

Set-up (untimed): a fresh dataset, batch 1 loaded by dlt itself (so the table, its `_dlt_*`
columns and dlt's state tables are dlt's own), ANALYZE, CHECKPOINT. Timed: one `pipeline.run` of
batch 2 with `write_disposition="merge"` (dlt's default merge strategy for Postgres,
delete-insert), `primary_key="external_ref"`, Arrow input and `loader_file_format="csv"`.
Batch 2's text price is cast to decimal(12, 2) inside the timed part: dlt would otherwise create
a text variant column. The pipeline's working directory is a temporary directory.
"""

import os
import tempfile
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
from psycopg import sql

from benchmarks import pg
from benchmarks.generate import PRICE_TYPE, TABLE
from benchmarks.measure import Ctx, Measurement, timed

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


def dlt_merge(ctx: Ctx, conn: psycopg.Connection[Any], *, indexed: bool = False) -> Measurement:
    """dlt's merge of batch 2; `indexed`: `unique` hints on id and external_ref, so that dlt's
    table carries the same two unique indexes as the engine's target (dlt makes indexes only for
    `unique` hints, not for `primary_key`)."""
    import dlt

    name = "dlt_indexed" if indexed else "dlt"
    hints = {c: {"unique": True} for c in ("id", "external_ref")} if indexed else None

    for schema in (ctx.schema, f"{ctx.schema}_staging"):
        pg.drop_schema(conn, schema)
    with tempfile.TemporaryDirectory(prefix="bench_dlt_") as workdir:
        pipeline = dlt.pipeline(
            pipeline_name=f"bench_{ctx.rep}",
            destination=dlt.destinations.postgres(
                # The server trusts local connections; dlt insists on a password, so it gets a
                # placeholder that the server ignores.
                credentials=f"postgresql://{pg.USER}:unused@{pg.HOST}:{pg.PORT}/{ctx.dbname}"
            ),
            dataset_name=ctx.schema,
            pipelines_dir=str(Path(workdir)),
        )

        def run(data: Any) -> Any:
            resource = dlt.resource(
                data,
                name=TABLE,
                write_disposition="merge",
                primary_key="external_ref",
                columns=hints,
            )
            return pipeline.run(resource, loader_file_format="csv")

        batch1 = pq.ParquetFile(ctx.data_dir / "batch1.parquet")
        run(b.drop_columns(["last_batch_id"]) for b in batch1.iter_batches(batch_size=100_000))
        pg.vacuum_analyze(conn, ctx.schema)
        pg.settle(conn)
        m, _ = timed(ctx, name, lambda: run(typed_batch2(ctx.batch2)), conn)
    if m.status == "ok":
        rows = pg.scalar(
            conn, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(ctx.schema, TABLE))
        )
        m.counts = {"rows_after": rows}
        m.expect("rows after merge", rows, ctx.truth.rows + ctx.truth.added)
    for schema in (ctx.schema, f"{ctx.schema}_staging"):
        pg.drop_schema(conn, schema)
    return m


def typed_batch2(batch2: pa.Table) -> pa.Table:
    """Batch 2 with price parsed to the target's decimal128(12, 2) (dlt would otherwise create a
    text variant column)."""
    i = batch2.schema.get_field_index("price")
    return batch2.set_column(i, "price", batch2["price"].cast(PRICE_TYPE))
