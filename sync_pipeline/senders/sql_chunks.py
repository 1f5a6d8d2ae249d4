"""SqlSender's readers: Postgres through COPY into Arrow, other databases fetched in bulk."""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from sync_pipeline.db.dialect import Dialect
from sync_pipeline.db.read import copy_chunks
from sync_pipeline.senders.arrow import ChunkBuilder, json_text
from sync_pipeline.values.kinds import ColumnKind

_JSON = pa.json_(pa.string())


def copy_readable(conn: sa.Connection, types: Sequence[sa.types.TypeEngine[Any]]) -> bool:
    """COPY serves Postgres when every column has a known wire type (none inferred from values)."""
    return Dialect.of(conn).copy and all(ColumnKind.of_sql(t).wire is not None for t in types)


def copy_read(
    conn: sa.Connection,
    stmt: sa.Select[Any],
    types: Sequence[sa.types.TypeEngine[Any]],
    names: Sequence[str],
    chunk_size: int,
) -> Iterator[pa.Table]:
    """Chunks of at most chunk_size rows through `COPY (SELECT ...) TO STDOUT`, named `names`."""
    typed = [(ColumnKind.of_sql(t).kind, t) for t in types]
    json_at = [i for i, (kind, _) in enumerate(typed) if kind == "json"]
    for table in copy_chunks(conn, stmt, typed, max_rows=chunk_size):
        for i in json_at:  # canonical JSON text, delivered as the JSON type senders declare
            storage = table.column(i).combine_chunks()
            table = table.set_column(i, names[i], pa.ExtensionArray.from_storage(_JSON, storage))
        yield table.rename_columns(list(names))


def bulk_read(
    conn: sa.Connection,
    stmt: sa.Select[Any],
    types: Mapping[str, pa.DataType | None],
    names: Sequence[str],
    chunk_size: int,
    finish: Any,
    source: str,
) -> Iterator[pa.Table]:
    """Chunks of at most chunk_size rows, fetched in bulk and built column by column."""
    builder = ChunkBuilder(names, types)
    json_cols = [n for n in names if isinstance(types.get(n), pa.BaseExtensionType)]
    result = conn.execution_options(yield_per=chunk_size).execute(stmt)
    for rows in result.partitions():
        columns = dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))
        for n in json_cols:  # drivers hand JSON over parsed: a str is a JSON string value
            columns[n] = [None if v is None else json_text(v) for v in columns[n]]
        yield builder.build(finish(columns), source)
