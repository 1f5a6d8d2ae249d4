"""Which target rows a batch is compared with: the whole scope, or only the rows its keys hit."""

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from sync_pipeline.db.copy import drop_stage, stage_values
from sync_pipeline.db.read import read_rows
from sync_pipeline.engine.plan import Plan


def fetch_scope(conn: sa.Connection, plan: Plan) -> pa.Table:
    """Every row in scope: one COPY, best when most of the scope is in the batch."""
    return read_rows(conn, plan.table, plan.target.kinds, plan.scope, plan.sql_expressions())


def fetch_by_keys(conn: sa.Connection, plan: Plan, batch: pa.Table) -> pa.Table:
    """Only the rows whose match fields equal a key of the batch (staged, then a semi-join).

    Needs keys that SQL equality decides (`plan.exact_keys`); memory stays bounded by the batch.
    """
    fields = list(plan.keys.fields)
    present = [f for f in fields if f in batch.column_names]
    if len(present) < len(fields) or batch.num_rows == 0:
        return read_rows(conn, plan.table, plan.target.kinds, sa.false(), plan.sql_expressions())
    keys = batch.select(fields)
    valid = (
        pc.and_kleene(*[pc.is_valid(keys.column(f)) for f in fields])
        if len(fields) > 1
        else pc.is_valid(keys.column(fields[0]))
    )
    keys = keys.filter(valid).group_by(fields, use_threads=False).aggregate([])
    stage = stage_values(conn, [sa.Column(f, plan.table.c[f].type) for f in fields], keys)
    try:
        target_cols = [plan.table.c[f] for f in fields]
        hit = (
            target_cols[0].in_(sa.select(stage.c[fields[0]]))
            if len(fields) == 1
            else sa.tuple_(*target_cols).in_(sa.select(*[stage.c[f] for f in fields]))
        )
        where = hit if plan.scope is None else sa.and_(plan.scope, hit)
        return read_rows(conn, plan.table, plan.target.kinds, where, plan.sql_expressions())
    finally:
        drop_stage(conn, stage)
