"""Read target rows into Arrow, typed like normalize.py types the batch.

Postgres streams `COPY (SELECT ...) TO STDOUT` as CSV, in blocks, into pyarrow's CSV reader; other
databases go through SQLAlchemy rows.
"""

import json
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa

from sync_pipeline.db import labels
from sync_pipeline.db.copy import copy_out
from sync_pipeline.db.schema import TargetTable
from sync_pipeline.values.coerce import coercer
from sync_pipeline.values.kinds import Kind, arrow_type

# Kinds whose Postgres text output Arrow's CSV reader parses to the carried form directly.
_CSV_NATIVE: frozenset[Kind] = frozenset(
    {"int", "decimal", "float", "text", "bool", "date", "datetime", "datetime_tz", "uuid"}
)


def read_rows(
    conn: sa.Connection,
    target: TargetTable,
    where: sa.ColumnElement[bool] | None = None,
    extra: Mapping[str, sa.ColumnElement[Any]] | None = None,
    columns: Sequence[str] | None = None,
    *,
    versions: bool = False,
) -> pa.Table:
    """The rows in scope (all columns, or `columns`), plus `extra` labelled `__expr_<name>`;
    with `versions`, also each row's version as `__version` where the database keeps one.
    Values are typed by what `target` worked out at reflection (kinds, Arrow types, parsers)."""
    extra = dict(extra or {})
    cols = [c for c in target.table.columns if columns is None or c.name in columns]
    version = target.dialect.row_version(target.table) if versions else None
    if version is not None:
        extra[labels.VERSION] = version
    if target.dialect.copy:
        return _read_postgres(conn, target, cols, where, extra)
    return _read_generic(conn, target, cols, where, extra)


def _label(name: str) -> str:
    """The name an `extra` column is read as: the version as it is, an expression prefixed."""
    return name if name == labels.VERSION else labels.EXPRESSION + name


def _typed(target: TargetTable, name: str) -> "TypedColumn":
    """(kind, SQL type) of an `extra` column: the column it is named after, or the version."""
    if name == labels.VERSION:
        return ("int", sa.BigInteger())
    return (target.kinds[name], target.table.c[name].type)


def scope_fits(
    conn: sa.Connection, target: TargetTable, where: sa.ColumnElement[bool] | None, max_bytes: int
) -> bool:
    """Whether the rows in scope take at most `max_bytes` in Postgres: the whole table does, or
    (a scope, the table analyzed) its rows in scope, counted up to the limit, times the table's
    size per row. Never a full count."""
    if not target.dialect.copy:
        return False
    table = target.table
    name = conn.dialect.identifier_preparer.format_table(table)
    sizes = sa.text(
        "SELECT pg_table_size(c.oid)::float8, c.reltuples::float8 "
        "FROM pg_catalog.pg_class c WHERE c.oid = to_regclass(:name)"
    )
    size, tuples = conn.execute(sizes, {"name": name}).one()
    if size <= max_bytes:
        return True
    if where is None or tuples <= 0:
        return False
    limit = int(max_bytes // (size / tuples))
    probe = sa.select(sa.literal(1)).select_from(table).where(where).limit(limit + 1)
    rows = conn.execute(sa.select(sa.func.count()).select_from(probe.subquery())).scalar_one()
    return int(rows) <= limit


def _select(
    cols: Sequence[sa.Column[Any]],
    where: sa.ColumnElement[bool] | None,
    extra: Mapping[str, sa.ColumnElement[Any]],
) -> sa.Select[Any]:
    selected = [c.label(c.name) for c in cols]
    selected += [expr.label(_label(n)) for n, expr in extra.items()]
    stmt = sa.select(*selected)
    return stmt.where(where) if where is not None else stmt


def _read_postgres(
    conn: sa.Connection,
    target: TargetTable,
    cols: Sequence[sa.Column[Any]],
    where: sa.ColumnElement[bool] | None,
    extra: Mapping[str, sa.ColumnElement[Any]],
) -> pa.Table:
    names = [c.name for c in cols] + [_label(n) for n in extra]
    typed = [(target.kinds[c.name], c.type) for c in cols] + [_typed(target, n) for n in extra]
    col_kinds = [k for k, _ in typed]
    parts = list(copy_chunks(conn, _select(cols, where, extra), typed))
    if not parts:
        return empty_table(names, typed)
    out = {}
    for name, kind in zip(names, col_kinds, strict=True):
        chunks = [chunk for part in parts for chunk in part.column(name).chunks]
        column = pa.chunked_array(chunks, type=chunks[0].type).combine_chunks()
        for j, part in enumerate(parts):  # let go of the blocks column by column
            parts[j] = part.drop_columns([name])
        if kind == "float":  # the engine reads a stored NaN as null
            column = pc.if_else(pc.is_nan(column), pa.scalar(None, pa.float64()), column)
        out[name] = column
    return pa.table(out)


TypedColumn = tuple[Kind, sa.types.TypeEngine[Any]]


def empty_table(names: Sequence[str], typed: Sequence[TypedColumn]) -> pa.Table:
    """No rows, but every column in its carried Arrow type."""
    return pa.table(
        {n: pa.array([], type=arrow_type(k, t)) for n, (k, t) in zip(names, typed, strict=True)}
    )


def copy_chunks(
    conn: sa.Connection,
    stmt: sa.Select[Any],
    typed: Sequence[TypedColumn],
    max_rows: int | None = None,
) -> Iterator[pa.Table]:
    """Stream a Postgres SELECT through `COPY (...) TO STDOUT` as Arrow tables of whole rows.

    Each table holds a ~16 MB block (at most `max_rows` rows), its columns named as the SELECT
    names them and typed by `typed` (kind, SQL type) in the engine's carried Arrow types.
    """
    names = list(stmt.selected_columns.keys())
    projected = [
        sa.func.timezone("UTC", c.element if isinstance(c, sa.Label) else c).label(n)
        if k == "datetime_tz"
        else c
        for n, c, (k, _) in zip(names, stmt.selected_columns, typed, strict=True)
    ]
    stmt = stmt.with_only_columns(*projected, maintain_column_froms=True)
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    csv_types = {
        n: (pa.timestamp("us") if k == "datetime_tz" else arrow_type(k, t))
        if k in _CSV_NATIVE
        else pa.string()
        for n, (k, t) in zip(names, typed, strict=True)
    }
    options = pacsv.ConvertOptions(
        column_types=csv_types,
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        true_values=["t"],
        false_values=["f"],
    )
    # The SELECT is compiled by SQLAlchemy; psycopg binds its parameters.
    sql = f"COPY ({compiled.string}) TO STDOUT (FORMAT csv)"
    finish = [_finisher(k, t) for k, t in typed]  # once per read, not per block

    def parse(block: bytearray, longest: int) -> pa.Table:
        part = _parse_block(block, longest, names, options)
        return pa.table([f(part.column(i)) for i, f in enumerate(finish)], names=names)

    yield from _parsed_ahead(copy_out(conn, sql, compiled.params, rows=max_rows), parse)


def _parsed_ahead(
    blocks: Generator[tuple[bytearray, int], None, None],
    parse: Callable[[bytearray, int], pa.Table],
) -> Iterator[pa.Table]:
    """Parse each block in a worker thread while the next one is gathered from the socket.

    The gathering loop waits on the server most of the time and Arrow's parser releases the GIL,
    so the two overlap (a million rows: the parse, about a third of the read, mostly disappears).
    At most one parsed block waits beyond the one the caller holds.
    """
    with closing(blocks), ThreadPoolExecutor(1, thread_name_prefix="copy-parse") as pool:
        pending: Future[pa.Table] | None = None
        for block, longest in blocks:
            parsed = pool.submit(parse, block, longest)
            if pending is not None:
                yield pending.result()
            pending = parsed
        if pending is not None:
            yield pending.result()


_PLAIN = pacsv.ParseOptions(newlines_in_values=False)
_QUOTED = pacsv.ParseOptions(newlines_in_values=True)


def _parse_block(
    block: bytearray, longest: int, names: list[str], options: pacsv.ConvertOptions
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
        pa.BufferReader(pa.py_buffer(block)),
        read_options=read,
        parse_options=parse,
        convert_options=options,
    )


Finish = Callable[[pa.ChunkedArray], pa.ChunkedArray | pa.Array]


def _finisher(kind: Kind, sa_type: Any) -> Finish:
    """What turns a parsed CSV column of `kind` into its carried form."""
    typ = arrow_type(kind, sa_type)
    if kind == "datetime_tz":
        return lambda col: pc.assume_timezone(col, "UTC").cast(typ)
    if kind in _CSV_NATIVE:
        return lambda col: col
    if kind == "bytes":
        return lambda col: pa.array(
            [None if v is None else bytes.fromhex(v[2:]) for v in col.to_pylist()], type=typ
        )
    convert = coercer(kind, sa_type, stored=True)
    if kind == "json":
        return lambda col: pa.array(
            [None if v is None else convert(json.loads(v)) for v in col.to_pylist()], type=typ
        )
    return lambda col: pa.array([convert(v) for v in col.to_pylist()], type=typ)


def _read_generic(
    conn: sa.Connection,
    target: TargetTable,
    cols: Sequence[sa.Column[Any]],
    where: sa.ColumnElement[bool] | None,
    extra: Mapping[str, sa.ColumnElement[Any]],
) -> pa.Table:
    """Rows through SQLAlchemy, each column read by the parser reflection built for it."""
    result = conn.execute(_select(cols, where, extra))
    names = list(result.keys())
    rows = result.fetchall()
    out = {}
    for i, name in enumerate(names):
        column = name.removeprefix(labels.EXPRESSION)
        read, typ = (
            (_VERSION_READ, pa.int64())
            if column == labels.VERSION
            else (target.readers[column], target.arrow[column])
        )
        out[name] = pa.array([read(r[i]) for r in rows], type=typ)
    return pa.table(out) if names else pa.table({})


_VERSION_READ = coercer("int", sa.BigInteger(), stored=True)
