"""SqlSender: a table or a query in any SQLAlchemy database, streamed in chunks.

Config keys (build_sender("sql", ...)):
    url            SQLAlchemy URL or Engine (postgresql+psycopg://, sqlite:///, mysql+pymysql://)
    table          "name" or "schema.name"           (exactly one of table / query)
    query          a SELECT written by the operator (trusted config, wrapped as a subquery)
    columns        list of source columns to read (default: all)
    rename         {source column: output name}
    cursor_column  source column for incremental reads (rows with cursor > last committed)
    cursor_store   a CursorStore, or a path/URL for one (required with cursor_column)
    name           sync name: the cursor's key and the sender's name (default: table / "query")
    chunk_size     rows per Arrow chunk (default 50000); Postgres streams through
                   COPY (SELECT ...) TO STDOUT into Arrow when every column has a known type,
                   other databases (and the rest) are fetched in bulk through server-side cursors
    delete_flag    output column to deliver as bool (the engine's hard-delete flag)
"""

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from sync_pipeline.db.dialect import Dialect
from sync_pipeline.db.read import TypedColumn, copy_chunks
from sync_pipeline.errors import ConfigError
from sync_pipeline.senders.base import PartitionFilter
from sync_pipeline.senders.columns import ChunkBuilder, ColumnSelection, json_text
from sync_pipeline.senders.errors import SenderError
from sync_pipeline.senders.state import CursorStore
from sync_pipeline.values.client import cast_value
from sync_pipeline.values.kinds import ColumnKind

_JSON = pa.json_(pa.string())


def _typed(column: sa.ColumnElement[Any], value: Any) -> Any:
    """Partition keys often arrive as text (e.g. Dagster keys): read them as the column's type."""
    if not isinstance(value, str) or not isinstance(column, sa.Column):
        return value
    try:
        return cast_value(column, value)
    except ValueError as exc:
        raise ConfigError(
            f"partition value {value!r} does not fit column {column.name!r}: {exc}"
        ) from None


class SqlSender:
    """Reads a table or query; incremental by cursor column; filtered by partition."""

    def __init__(
        self,
        url: str | sa.Engine,
        *,
        table: str | None = None,
        query: str | None = None,
        columns: Sequence[str] | None = None,
        rename: Mapping[str, str] | None = None,
        cursor_column: str | None = None,
        cursor_store: CursorStore | str | Path | None = None,
        name: str | None = None,
        chunk_size: int = 50_000,
        delete_flag: str | None = None,
    ) -> None:
        if (table is None) == (query is None):
            raise ConfigError("SqlSender needs exactly one of table= or query=")
        if chunk_size < 1:
            raise ConfigError("chunk_size must be at least 1")
        if cursor_column and cursor_store is None:
            raise ConfigError("cursor_column needs a cursor_store (a CursorStore, path or URL)")
        self.url = url
        self.table = table
        self.query = query.strip().rstrip(";") if query else None
        self.name = name or table or "query"
        self.selection = ColumnSelection(columns, rename, delete_flag)
        self.cursor_column = cursor_column
        self.cursor_store = (
            cursor_store
            if isinstance(cursor_store, CursorStore) or cursor_store is None
            else CursorStore(cursor_store)
        )
        self.chunk_size = chunk_size
        self.pending_cursor: Any = None

    def _safe_url(self) -> str:
        url = self.url.url if isinstance(self.url, sa.Engine) else sa.make_url(self.url)
        return url.render_as_string(hide_password=True)

    def _engine(self) -> sa.Engine:
        if isinstance(self.url, sa.Engine):
            return self.url
        try:
            return sa.create_engine(self.url)
        except (sa.exc.ArgumentError, ImportError, ValueError) as exc:
            raise SenderError(f"cannot open {self._safe_url()}: {type(exc).__name__}") from None

    def _source(self, conn: sa.Connection) -> sa.FromClause:
        if self.table is not None:
            schema, _, table = self.table.rpartition(".")
            if not sa.inspect(conn).has_table(table, schema=schema or None):
                raise SenderError(f"table {self.table!r} does not exist in {self._safe_url()}")
            return sa.Table(table, sa.MetaData(), schema=schema or None, autoload_with=conn)
        assert self.query is not None
        raw = sa.text(self.query).columns().subquery("src")
        probe: sa.CursorResult[Any] = conn.execute(
            sa.select(sa.literal_column("*")).select_from(raw).limit(0)
        )
        names = list(probe.keys())
        return sa.text(self.query).columns(*[sa.column(n) for n in names]).subquery("src")

    def _statement(
        self, src: sa.FromClause, partition: PartitionFilter | None, since: Any
    ) -> tuple[sa.Select[Any], list[str]]:
        available = [c.name for c in src.columns]
        selected = self.selection.resolve(available, self.name)
        read = list(selected)
        if self.cursor_column:
            self.selection.check_exists(self.cursor_column, available, self.name, "cursor_column")
            if self.cursor_column not in read:
                read.append(self.cursor_column)
        stmt = sa.select(*[src.c[n] for n in read])
        if partition is not None:
            col = src.c[self.selection.source_name(partition.column, available, self.name)]
            if partition.is_window:
                stmt = stmt.where(
                    col >= _typed(col, partition.start), col < _typed(col, partition.end)
                )
            else:
                stmt = stmt.where(col == _typed(col, partition.value))
        if self.cursor_column:
            cursor = src.c[self.cursor_column]
            if since is not None:
                stmt = stmt.where(cursor > since)
            stmt = stmt.order_by(cursor)
        return stmt, read

    def read(self, partition: PartitionFilter | None = None) -> Iterator[pa.Table]:
        """Yield the rows as Arrow chunks of at most chunk_size rows (streamed, not buffered)."""
        since = (
            self.cursor_store.get(self.name) if self.cursor_store and self.cursor_column else None
        )
        engine = self._engine()
        try:
            with engine.connect() as conn:
                yield from self._read(conn, partition, since)
        except sa.exc.SQLAlchemyError as exc:
            raise SenderError(self._describe(exc)) from None
        finally:
            if not isinstance(self.url, sa.Engine):
                engine.dispose()

    def _read(
        self, conn: sa.Connection, partition: PartitionFilter | None, since: Any
    ) -> Iterator[pa.Table]:
        src = self._source(conn)
        stmt, read = self._statement(src, partition, since)
        where = f"{self.name} ({self._safe_url()})"
        out = self.selection.output_names(read)
        final = self.selection.final(out)
        overrides = self.selection.type_overrides()  # the delete flag is delivered as bool
        typed: list[TypedColumn] = []
        wire: dict[str, pa.DataType | None] = {}  # None: inferred from the values
        for name, column in zip(out, read, strict=True):  # the type ladder once per column
            kind = ColumnKind.of_sql(src.c[column].type)
            typed.append((kind.kind, src.c[column].type))
            wire[name] = kind.wire
        types = {**wire, **overrides}
        self.pending_cursor = None
        if Dialect.of(conn).copy and all(w is not None for w in wire.values()):
            chunks = _copy_read(conn, stmt, typed, out, self.chunk_size)
        else:
            finish = functools.partial(self.selection.finish, source=where)
            chunks = _bulk_read(conn, stmt, types, out, self.chunk_size, finish, self.name)
        empty = True
        for chunk in chunks:
            empty = False
            self._track_cursor(chunk, read, out)
            yield self._flagged(chunk, where).select(final)
        if empty:  # an empty batch still says which columns it has
            builder = ChunkBuilder(out, types)
            yield builder.build({o: [] for o in out}, self.name).select(final)

    def _flagged(self, chunk: pa.Table, source: str) -> pa.Table:
        """The delete flag delivered as bool (COPY reads it in the column's own type)."""
        flag = self.selection.delete_flag
        if flag is None or chunk.schema.field(flag).type == pa.bool_():
            return chunk
        values = self.selection.finish({flag: chunk.column(flag).to_pylist()}, source)[flag]
        index = chunk.schema.get_field_index(flag)
        return chunk.set_column(index, flag, pa.array(values, type=pa.bool_()))

    def _track_cursor(self, chunk: pa.Table, read: list[str], out: list[str]) -> None:
        if not self.cursor_column:
            return
        top = pc.max(chunk.column(out[read.index(self.cursor_column)])).as_py()
        if top is not None:
            self.pending_cursor = (
                top if self.pending_cursor is None else max(self.pending_cursor, top)
            )

    def commit_cursor(self, value: Any = None) -> Any:
        """After a successful apply: store the cursor (given, or the highest read) and return it."""
        if not self.cursor_column or self.cursor_store is None:
            raise ConfigError(f"sender {self.name!r} has no cursor_column/cursor_store")
        value = self.pending_cursor if value is None else value
        self.cursor_store.commit(self.name, value)
        return value

    def _describe(self, exc: sa.exc.SQLAlchemyError) -> str:
        orig = getattr(exc, "orig", None) or exc
        text = str(orig).splitlines()[0] if str(orig) else type(orig).__name__
        url = self.url.url if isinstance(self.url, sa.Engine) else sa.make_url(self.url)
        if url.password:
            text = text.replace(str(url.password), "***")
        return f"reading {self.name!r} from {self._safe_url()} failed: {text[:300]}"


def _copy_read(
    conn: sa.Connection,
    stmt: sa.Select[Any],
    typed: Sequence[TypedColumn],
    names: Sequence[str],
    chunk_size: int,
) -> Iterator[pa.Table]:
    """Chunks of at most chunk_size rows through `COPY (SELECT ...) TO STDOUT`, named `names`."""
    json_at = [i for i, (kind, _) in enumerate(typed) if kind == "json"]
    for table in copy_chunks(conn, stmt, typed, max_rows=chunk_size):
        for i in json_at:  # canonical JSON text, delivered as the JSON type senders declare
            storage = table.column(i).combine_chunks()
            table = table.set_column(i, names[i], pa.ExtensionArray.from_storage(_JSON, storage))
        yield table.rename_columns(list(names))


def _bulk_read(
    conn: sa.Connection,
    stmt: sa.Select[Any],
    types: Mapping[str, pa.DataType | None],
    names: Sequence[str],
    chunk_size: int,
    finish: Callable[[dict[str, list[Any]]], dict[str, list[Any]]],
    source: str,
) -> Iterator[pa.Table]:
    """Chunks of at most chunk_size rows, fetched in bulk and built column by column."""
    json_cols = [n for n in names if isinstance(types.get(n), pa.BaseExtensionType)]
    builder = ChunkBuilder(names, types)
    result = conn.execution_options(yield_per=chunk_size).execute(stmt)
    for rows in result.partitions():
        columns = dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))
        for n in json_cols:  # drivers hand JSON over parsed: a str is a JSON string value
            columns[n] = [None if v is None else json_text(v) for v in columns[n]]
        yield builder.build(finish(columns), source)
