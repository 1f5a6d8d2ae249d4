"""FileSender: CSV, JSON (array of objects), NDJSON and Parquet files from a path or a glob.

Config keys (build_sender("files", ...)):
    path         a file path or a glob ("data/*.csv"); files are read in name order
    format       "csv" | "json" | "ndjson" | "parquet" (default: from the file extension)
    types        {column: type name} (see types.py); undeclared CSV/JSON columns stay text,
                 undeclared Parquet columns keep the file's own type
    columns      list of source columns to read (JSON: also the expected fields)
    rename       {source column: output name}
    delete_flag  output column delivered as bool (the engine's hard-delete flag)
    chunk_size   rows per Arrow chunk (default 50000)
    delimiter, encoding   text options (default "," and "utf-8-sig": UTF-8, a BOM is skipped)
    name         the sender's name (default: the path)
    provenance   add `_source_file` and `_source_line` to CSV/JSON rows, so a later step can
                 name where a value came from (default False)

A bad value raises BadValueError naming the file, the line (Parquet: the row) and the field.
Empty CSV fields are null in typed columns and "" in text columns. JSON arrays are parsed whole
(use NDJSON for very large files); every other format streams.
"""

import glob
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

import pyarrow as pa
import pyarrow.parquet as pq

from sync_pipeline.errors import ConfigError
from sync_pipeline.senders.base import PartitionFilter
from sync_pipeline.senders.columns import ChunkBuilder, ColumnSelection
from sync_pipeline.senders.errors import BadValueError, SchemaDriftError, SenderError
from sync_pipeline.senders.file_formats import (
    Row,
    csv_records,
    json_array_records,
    ndjson_records,
)
from sync_pipeline.senders.partition import in_window
from sync_pipeline.values.declared import ColumnType, column_types

FileFormat = Literal["csv", "json", "ndjson", "parquet"]
FILE_FORMATS: tuple[str, ...] = get_args(FileFormat)
_EXTENSIONS = {".csv": "csv", ".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson"}
_EXTENSIONS[".parquet"] = "parquet"
SOURCE_FILE, SOURCE_LINE = "_source_file", "_source_line"


class FileSender:
    """Reads local files with declared column types; no type is ever guessed from a value."""

    def __init__(
        self,
        path: str | Path,
        *,
        format: FileFormat | None = None,
        types: Mapping[str, str] | None = None,
        columns: Sequence[str] | None = None,
        rename: Mapping[str, str] | None = None,
        delete_flag: str | None = None,
        chunk_size: int = 50_000,
        delimiter: str = ",",
        encoding: str = "utf-8-sig",
        name: str | None = None,
        provenance: bool = False,
    ) -> None:
        if format is not None and format not in FILE_FORMATS:
            raise ConfigError(f"unknown file format {format!r}; use one of {FILE_FORMATS}")
        if chunk_size < 1:
            raise ConfigError("chunk_size must be at least 1")
        self.path = str(path)
        self.format = format
        self.types = column_types(types)
        self.selection = ColumnSelection(columns, rename, delete_flag)
        self.chunk_size = chunk_size
        self.delimiter = delimiter
        self.encoding = encoding
        self.name = name or self.path
        self.provenance = provenance
        self._text = ColumnType("text")

    def files(self) -> list[Path]:
        """The files this sender reads, in name order."""
        found = sorted(glob.glob(self.path)) if glob.has_magic(self.path) else [self.path]
        paths = [Path(p) for p in found if Path(p).is_file()]
        if not paths:
            raise SenderError(f"no file matches {self.path!r}")
        return paths

    def _format_of(self, path: Path) -> str:
        if self.format is not None:
            return self.format
        fmt = _EXTENSIONS.get(path.suffix.lower())
        if fmt is None:
            raise ConfigError(f"cannot tell the format of {path}; set format= to {FILE_FORMATS}")
        return fmt

    def read(self, partition: PartitionFilter | None = None) -> Iterator[pa.Table]:
        """Yield typed Arrow chunks of all matching files, in file-name order."""
        state: dict[str, Any] = {}
        for path in self.files():
            fmt = self._format_of(path)
            if fmt == "parquet":
                yield from self._parquet(path, partition, state)
            else:
                yield from self._rows_to_chunks(path, self._records(path, fmt), partition, state)

    def _records(self, path: Path, fmt: str) -> Iterator[Row]:
        try:
            with path.open(encoding=self.encoding, newline="") as handle:
                if fmt == "csv":
                    yield from csv_records(handle, str(path), self.delimiter)
                elif fmt == "ndjson":
                    yield from ndjson_records(handle, str(path))
                else:
                    yield from json_array_records(handle.read(), str(path))
        except UnicodeDecodeError as exc:
            raise BadValueError(str(path), None, None, f"not {self.encoding} text: {exc}") from None

    def _columns(
        self,
        path: Path,
        first: Sequence[str],
        state: dict[str, Any],
        native: Mapping[str, pa.DataType] | None = None,
    ) -> list[str]:
        """The selected source columns; every file must offer the columns the first one did."""
        header_based = self._format_of(path) in ("csv", "parquet")
        if header_based or not self.selection.columns:
            available = list(first)
            if not header_based:
                available += [c for c in self.types if c not in available]
        else:
            available = list(self.selection.columns)
        if state:
            missing = [c for c in state["selected"] if c not in first]
            if missing and self._format_of(path) in ("csv", "parquet"):
                raise SchemaDriftError(f"{path}: column {missing[0]!r} is missing from the file")
            return list(state["selected"])
        selected = self.selection.resolve(available, str(path))
        for col in self.types:
            self.selection.check_exists(col, available, str(path), "typed column")
        state.update(available=available, selected=selected)
        flag = self.selection.delete_flag
        if flag is not None:
            back = {v: k for k, v in self.selection.rename.items()}
            self.types.setdefault(back.get(flag, flag), ColumnType("bool"))
        out = self.selection.output_names(selected)
        native = native or {}
        arrow = {
            o: native[s] if s in native and s not in self.types else self._type(s).arrow
            for s, o in zip(selected, out, strict=True)
        }
        state["builder"] = ChunkBuilder(out, arrow)
        return selected

    def _type(self, column: str) -> ColumnType:
        return self.types.get(column, self._text)

    def _rows_to_chunks(
        self,
        path: Path,
        rows: Iterator[Row],
        partition: PartitionFilter | None,
        state: dict[str, Any],
    ) -> Iterator[pa.Table]:
        source, csv_like = str(path), self._format_of(path) == "csv"
        selected: list[str] | None = None
        buffer: list[dict[str, Any]] = []
        lines: list[int] = []
        for line, record in rows:
            if selected is None:
                selected = self._columns(path, list(record), state)
            if self.selection.columns is None:
                extra = next((k for k in record if k not in state["available"]), None)
                if extra is not None:
                    raise BadValueError(source, line, extra, "field not in the first record")
            typed = {}
            for col in selected:
                try:
                    typed[col] = self._type(col).read(record.get(col), empty_is_null=csv_like)
                except ValueError as exc:
                    raise BadValueError(source, line, col, str(exc)) from None
            if _in_partition(typed, partition, self.selection, source, self.types):
                buffer.append(typed)
                lines.append(line)
            if len(buffer) >= self.chunk_size:
                yield self._with_source(self._build(buffer, selected, state, source), lines, source)
                buffer, lines = [], []
        if buffer and selected is not None:
            yield self._with_source(self._build(buffer, selected, state, source), lines, source)

    def _with_source(self, table: pa.Table, lines: list[int], source: str) -> pa.Table:
        """With `provenance`, the file and line of every row as two extra columns."""
        if not self.provenance:
            return table
        table = table.append_column(SOURCE_FILE, pa.array([source] * len(lines), pa.string()))
        return table.append_column(SOURCE_LINE, pa.array(lines, pa.int64()))

    def _build(
        self, rows: list[dict[str, Any]], selected: list[str], state: dict[str, Any], source: str
    ) -> pa.Table:
        out = self.selection.output_names(selected)
        columns = {o: [r[s] for r in rows] for s, o in zip(selected, out, strict=True)}
        table: pa.Table = state["builder"].build(columns, source)
        return table

    def _parquet(
        self, path: Path, partition: PartitionFilter | None, state: dict[str, Any]
    ) -> Iterator[pa.Table]:
        try:
            handle = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise BadValueError(str(path), None, None, f"not a Parquet file: {exc}") from None
        schema = handle.schema_arrow
        native = {f.name: f.type for f in schema}
        selected = self._columns(path, schema.names, state, native)
        row = 0
        for batch in handle.iter_batches(batch_size=self.chunk_size, columns=selected):
            typed_rows = []
            for offset, record in enumerate(batch.to_pylist()):
                typed = {}
                for col in selected:
                    try:
                        typed[col] = self._parquet_value(col, record[col])
                    except ValueError as exc:
                        raise BadValueError(
                            str(path), row + offset + 1, col, str(exc), "row"
                        ) from None
                if _in_partition(typed, partition, self.selection, str(path), self.types):
                    typed_rows.append(typed)
            row += batch.num_rows
            if typed_rows:
                yield self._build(typed_rows, selected, state, str(path))

    def _parquet_value(self, column: str, value: Any) -> Any:
        ctype = self.types.get(column)
        return value if ctype is None else ctype.read(value)


def _partition_reader(ctype: ColumnType | None) -> Any:
    """Partition keys often arrive as text (e.g. Dagster keys): read them as the column type."""

    def read(value: Any) -> Any:
        if ctype is None or not isinstance(value, str):
            return value
        try:
            return ctype.read(value)
        except ValueError as exc:
            raise ConfigError(f"partition value {value!r} does not fit its column: {exc}") from None

    return read


def _in_partition(
    row: dict[str, Any],
    partition: PartitionFilter | None,
    selection: ColumnSelection,
    source: str,
    types: Mapping[str, ColumnType],
) -> bool:
    if partition is None:
        return True
    back = {v: k for k, v in selection.rename.items()}
    column = back.get(partition.column, partition.column)
    if column not in row:
        raise SchemaDriftError(f"partition column {partition.column!r} is not read from {source}")
    value, read = row[column], _partition_reader(types.get(column))
    if not partition.is_window:
        return bool(value == read(partition.value))
    bounds = PartitionFilter(partition.column, read(partition.start), read(partition.end))
    return in_window(value, bounds)
