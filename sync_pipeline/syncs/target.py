"""Fit a batch to its target table before the engine sees it: create a missing table from the
typed batch, insist on the batch column, apply the drift policy."""

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from sync_pipeline.engine.plan import default_batch_mode
from sync_pipeline.errors import SchemaError
from sync_pipeline.senders.drift import AddColumn, reconcile_drift, sql_type_for
from sync_pipeline.syncs.spec import SyncSpec
from sync_pipeline.syncs.staging import Batch


def delete_flag(spec: SyncSpec) -> str | None:
    """The sync's hard-delete flag column (a sender column, never a target column)."""
    flag = spec.options.get("delete_flag") or spec.sender.config.get("delete_flag")
    return str(flag) if flag else None


def fit_to_target(engine: sa.Engine, spec: SyncSpec, batch: Batch) -> Iterator[pa.Table]:
    """The batch's chunks after `drift`: 'error' leaves unknown columns to the engine's error,
    'ignore' drops them, 'add_columns' adds them to the table (nullable, typed from the batch's
    schema) now, before the engine opens its transaction and reads the first chunk."""
    schema = batch.schema
    drop: list[str] = []
    if spec.drift != "error" and len(schema):
        flag = delete_flag(spec)
        ignore = [flag] if flag else []
        drop = list(
            reconcile_drift(engine, spec.table, schema, spec.drift, ignore=ignore).drop_columns
        )
    return (
        chunk.drop_columns([c for c in drop if c in chunk.column_names]) for chunk in batch.chunks()
    )


def ensure_table(engine: sa.Engine, spec: SyncSpec, schema: pa.Schema) -> None:
    """Create a missing target table from the batch's Arrow schema (unless `create_table:
    false`); an existing one must have the batch column, else the error gives the ALTER TABLE to
    run."""
    db_schema, _, name = spec.table.rpartition(".")
    if not sa.inspect(engine).has_table(name, schema=db_schema or None):
        if not spec.create_table:
            raise SchemaError(
                f"sync {spec.name!r}: target table {spec.table!r} does not exist "
                "(create_table: false); create it, or drop create_table: false"
            )
        with engine.begin() as conn:
            table_for(spec, schema, db_schema or None, name).create(conn)
        return
    table = sa.Table(name, sa.MetaData(), schema=db_schema or None, autoload_with=engine)
    mode = spec.options.get("batch_mode") or default_batch_mode(bool(table.primary_key))
    if mode == "column" and spec.batch_column not in table.c:
        alter = AddColumn(table, sa.Column(spec.batch_column, sa.BigInteger(), nullable=True))
        raise SchemaError(
            f"sync {spec.name!r}: target table {spec.table!r} has no batch column "
            f"{spec.batch_column!r}; add it with: {alter.compile(dialect=engine.dialect)};"
        )


def table_for(spec: SyncSpec, batch: pa.Schema, schema: str | None, name: str) -> sa.Table:
    """The table a typed batch describes: the primary key (`primary_key`, else the match key), a
    unique index on the match key, the batch column (and the soft-delete column if used)."""
    key = list(spec.primary_key or spec.match_by or ())
    if not key:
        raise SchemaError(
            f"sync {spec.name!r}: cannot create {spec.table!r} without a key; "
            "set match_by (or primary_key)"
        )
    types = column_types(batch)
    types.pop(delete_flag(spec) or "", None)
    missing = [k for k in key + list(spec.match_by or ()) if k not in types]
    if missing:
        raise SchemaError(f"sync {spec.name!r}: key column(s) {missing} are not in the batch")
    columns: list[Any] = [
        sa.Column(col, type_, primary_key=col in key, autoincrement=False)
        for col, type_ in types.items()
        if col not in (spec.batch_column, spec.deleted_column)
    ]
    columns.append(sa.Column(spec.batch_column, sa.BigInteger(), nullable=True))
    if spec.missing == "soft_delete" or delete_flag(spec):
        columns.append(sa.Column(spec.deleted_column, sa.DateTime(timezone=True), nullable=True))
    table = sa.Table(name, sa.MetaData(), *columns, schema=schema)
    if spec.match_by and list(spec.match_by) != key:
        sa.Index(f"{name}_match_key", *(table.c[c] for c in spec.match_by), unique=True)
    return table


def column_types(schema: pa.Schema) -> dict[str, sa.types.TypeEngine[Any]]:
    """SQL types for a typed batch's Arrow schema (exact numerics widened so later batches fit)."""
    out: dict[str, sa.types.TypeEngine[Any]] = {}
    for field in schema:
        arrow = None if pa.types.is_null(field.type) else field.type
        type_ = sql_type_for(arrow)
        if isinstance(type_, sa.Numeric) and not isinstance(type_, sa.Float):
            scale = type_.scale or 0
            type_ = sa.Numeric(max(type_.precision or 0, 18 + scale), scale)
        out[str(field.name)] = type_
    return out
