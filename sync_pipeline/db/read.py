"""Read target rows into Arrow, typed like normalize.py types the batch.

Postgres streams `COPY (SELECT ...) TO STDOUT` as CSV straight into pyarrow's CSV reader; other
databases go through SQLAlchemy rows.
"""

import io
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa

from sync_pipeline.values.coerce import coercer
from sync_pipeline.values.kinds import Kind, arrow_type

# Kinds whose Postgres text output Arrow's CSV reader parses to the carried form directly.
_CSV_NATIVE: frozenset[Kind] = frozenset(
    {"int", "decimal", "float", "text", "bool", "date", "datetime", "datetime_tz", "uuid"}
)


def read_rows(
    conn: sa.Connection,
    table: sa.Table,
    kinds: Mapping[str, Kind],
    where: sa.ColumnElement[bool] | None = None,
    extra: Mapping[str, sa.ColumnElement[Any]] | None = None,
    columns: Sequence[str] | None = None,
) -> pa.Table:
    """The rows in scope (all columns, or `columns`), plus `extra` labelled `__expr_<name>`."""
    extra = dict(extra or {})
    cols = [c for c in table.columns if columns is None or c.name in columns]
    if conn.dialect.name == "postgresql":
        return _read_postgres(conn, table, cols, kinds, where, extra)
    return _read_generic(conn, table, cols, kinds, where, extra)


def _select(
    cols: Sequence[sa.Column[Any]],
    where: sa.ColumnElement[bool] | None,
    extra: Mapping[str, sa.ColumnElement[Any]],
    project: Any = None,
) -> sa.Select[Any]:
    project = project or (lambda name, col: col)
    selected = [project(c.name, c).label(c.name) for c in cols]
    selected += [project(n, expr).label(f"__expr_{n}") for n, expr in extra.items()]
    stmt = sa.select(*selected)
    return stmt.where(where) if where is not None else stmt


def _read_postgres(
    conn: sa.Connection,
    table: sa.Table,
    cols: Sequence[sa.Column[Any]],
    kinds: Mapping[str, Kind],
    where: sa.ColumnElement[bool] | None,
    extra: Mapping[str, sa.ColumnElement[Any]],
) -> pa.Table:
    def utc(name: str, expr: Any) -> Any:
        return sa.func.timezone("UTC", expr) if kinds[name] == "datetime_tz" else expr

    stmt = _select(cols, where, extra, utc)
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    names = [c.name for c in cols] + [f"__expr_{n}" for n in extra]
    col_kinds = [kinds[c.name] for c in cols] + [kinds[n] for n in extra]
    sa_types = [c.type for c in cols] + [table.c[n].type for n in extra]
    raw = conn.connection.driver_connection
    assert raw is not None
    csv_types = {
        n: (pa.timestamp("us") if k == "datetime_tz" else arrow_type(k, t))
        if k in _CSV_NATIVE
        else pa.string()
        for n, k, t in zip(names, col_kinds, sa_types, strict=True)
    }
    options = pacsv.ConvertOptions(
        column_types=csv_types,
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        true_values=["t"],
        false_values=["f"],
    )
    with raw.cursor() as cur:
        # The SELECT is compiled by SQLAlchemy; psycopg binds its parameters.
        sql = f"COPY ({compiled.string}) TO STDOUT (FORMAT csv)"
        with cur.copy(sql, compiled.params) as copy:
            parts = [
                _parse_block(block, longest, names, options) for block, longest in _blocks(copy)
            ]
    if not parts:
        return pa.table(
            {
                n: pa.array([], type=arrow_type(k, t))
                for n, k, t in zip(names, col_kinds, sa_types, strict=True)
            }
        )
    out = {}
    for name, kind, sa_type in zip(names, col_kinds, sa_types, strict=True):
        chunks = [chunk for part in parts for chunk in part.column(name).chunks]
        column = pa.chunked_array(chunks, type=chunks[0].type).combine_chunks()
        for j, part in enumerate(parts):  # let go of the parsed blocks column by column
            parts[j] = part.drop_columns([name])
        out[name] = _finish(column, kind, sa_type)
    return pa.table(out)


def _blocks(copy: Any, size: int = 16 << 20) -> Iterator[tuple[bytes, int]]:
    """Postgres sends one row per COPY message: gather whole rows into blocks of ~16 MB (with the
    length of their longest row), so the CSV is parsed as it arrives and the raw text never sits
    in memory all at once."""
    block = bytearray()
    longest = 0
    for row in copy:
        block += row
        longest = max(longest, len(row))
        if len(block) >= size:
            yield bytes(block), longest
            block.clear()
            longest = 0
    if block:
        yield bytes(block), longest


_PLAIN = pacsv.ParseOptions(newlines_in_values=False)
_QUOTED = pacsv.ParseOptions(newlines_in_values=True)


def _parse_block(
    block: bytes, longest: int, names: list[str], options: pacsv.ConvertOptions
) -> pa.Table:
    """Parse a block of whole CSV rows.

    Arrow splits the block into parse blocks at row ends: one at least twice as long as the
    longest row lets no row straddle more than one border. Postgres quotes every value holding a
    line feed or carriage return, so without a quote in the block the faster plain chunker is exact.
    """
    block_size = min(max(1 << 20, 2 * longest), (1 << 31) - 1)
    read = pacsv.ReadOptions(column_names=names, block_size=block_size)
    parse = _QUOTED if b'"' in block else _PLAIN
    return pacsv.read_csv(
        io.BytesIO(block), read_options=read, parse_options=parse, convert_options=options
    )


def _finish(col: pa.Array, kind: Kind, sa_type: Any) -> pa.Array:
    typ = arrow_type(kind, sa_type)
    if kind == "datetime_tz":
        return pc.assume_timezone(col, "UTC").cast(typ)
    if kind == "float":
        return pc.if_else(pc.is_nan(col), pa.scalar(None, pa.float64()), col)
    if kind in _CSV_NATIVE:
        return col
    values = col.to_pylist()
    if kind == "bytes":
        return pa.array([None if v is None else bytes.fromhex(v[2:]) for v in values], type=typ)
    if kind == "json":
        values = [None if v is None else json.loads(v) for v in values]
    convert = coercer(kind, sa_type, stored=True)
    return pa.array([convert(v) for v in values], type=typ)


def _read_generic(
    conn: sa.Connection,
    table: sa.Table,
    cols: Sequence[sa.Column[Any]],
    kinds: Mapping[str, Kind],
    where: sa.ColumnElement[bool] | None,
    extra: Mapping[str, sa.ColumnElement[Any]],
) -> pa.Table:
    stmt = _select(cols, where, extra)
    result = conn.execute(stmt)
    names = list(result.keys())
    rows = result.fetchall()
    out = {}
    for i, name in enumerate(names):
        base = name.removeprefix("__expr_")
        kind, sa_type = kinds[base], table.c[base].type
        convert = coercer(kind, sa_type, stored=True)
        values = [convert(r[i]) for r in rows]
        out[name] = pa.array(values, type=arrow_type(kind, sa_type))
    return pa.table(out) if names else pa.table({})
