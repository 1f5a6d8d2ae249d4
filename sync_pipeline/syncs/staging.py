"""Staged batches: the Arrow chunks of one step, written as they arrive, read back one at a time.

A staged dataset is a folder of Parquet files, one per chunk (`part-000000.parquet`, ...), so a
step never holds more than the chunk it is working on, and chunks may differ in schema the way
a sender's chunks do (a column all null in one chunk, text in the next). The folder is a local
path or any fsspec URL (`memory://...`, `s3://bucket/...`, `file:///...`): steps on different
hosts share a staging location on object storage. Parquet keeps every Arrow type exactly
(int64, decimal128 with its scale, aware and naive timestamps, the arrow.json extension).
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.core import url_to_fs

PART = "part-{:06d}.parquet"
# Plain, uncompressed pages: a chunk is read back with about its own size in memory (dictionary
# pages and compression cost two to three chunks while decoding) and written and read at memory
# speed. The price is disk: a staged batch takes about what it takes in memory.
WRITE_OPTIONS = {"use_dictionary": False, "compression": "none"}


class Batch(Protocol):
    """What the steps of a sync need of a batch: its chunks, row count and schema."""

    def chunks(self) -> Iterator[pa.Table]: ...

    @property
    def num_rows(self) -> int: ...

    @property
    def schema(self) -> pa.Schema: ...


@dataclass(frozen=True, slots=True)
class StagedBatch:
    """A handle on staged chunks: one dataset folder, or several (the partitions of a range
    staged one at a time) read one after another. Small: this is what steps hand each other."""

    locations: tuple[str, ...]

    def chunks(self) -> Iterator[pa.Table]:
        """Each staged chunk in order, read only when asked for."""
        for fs, path in self._parts():
            with fs.open(path, "rb") as f:
                yield pq.read_table(f)

    @property
    def num_rows(self) -> int:
        """Rows of every chunk, from the Parquet footers (no data is read)."""
        return sum(meta.num_rows for meta in self._footers())

    @property
    def schema(self) -> pa.Schema:
        """The schema of the batch: every chunk's, unified (a null column takes a typed one)."""
        schemas = [meta.schema.to_arrow_schema() for meta in self._footers()]
        return pa.unify_schemas(schemas, promote_options="permissive") if schemas else pa.schema([])

    def head(self, rows: int) -> pa.Table:
        """The first `rows` rows of the first chunk (a preview; never the whole batch)."""
        first = next(self.chunks(), None)
        return first.slice(0, rows) if first is not None else pa.table({})

    def _footers(self) -> Iterator[pq.FileMetaData]:
        for fs, path in self._parts():
            with fs.open(path, "rb") as f:
                yield pq.read_metadata(f)

    def _parts(self) -> Iterator[tuple[fsspec.AbstractFileSystem, str]]:
        for location in self.locations:
            fs, root = url_to_fs(location)
            for path in sorted(fs.glob(f"{root.rstrip('/')}/part-*.parquet")):
                yield fs, path


@dataclass(frozen=True, slots=True)
class ChunkList:
    """A batch already in memory, as chunks (tests, and callers that hold the records anyway)."""

    tables: tuple[pa.Table, ...]

    @classmethod
    def of(cls, *tables: pa.Table) -> "ChunkList":
        return cls(tuple(tables))

    def chunks(self) -> Iterator[pa.Table]:
        return iter(self.tables)

    @property
    def num_rows(self) -> int:
        return sum(t.num_rows for t in self.tables)

    @property
    def schema(self) -> pa.Schema:
        schemas = [t.schema for t in self.tables]
        return pa.unify_schemas(schemas, promote_options="permissive") if schemas else pa.schema([])


def exists(location: str) -> bool:
    """Whether a staged dataset was written at `location` (it may hold no rows)."""
    fs, root = url_to_fs(location)
    return bool(fs.exists(f"{root.rstrip('/')}/{PART.format(0)}"))


def stage(chunks: Iterable[pa.Table], location: str) -> StagedBatch:
    """Write `chunks` to `location` as they come (replacing what was staged there) and return
    the handle. An empty stream stages one empty chunk, so the location exists afterwards."""
    fs, root = url_to_fs(location)
    root = root.rstrip("/")
    if fs.exists(root):
        fs.rm(root, recursive=True)
    fs.makedirs(root, exist_ok=True)
    written = 0
    for chunk in chunks:
        _write(fs, f"{root}/{PART.format(written)}", chunk)
        written += 1
    if not written:
        _write(fs, f"{root}/{PART.format(0)}", pa.table({}))
    return StagedBatch((location,))


def remove(location: str) -> None:
    """Drop a staged dataset (nothing to do when there is none)."""
    fs, root = url_to_fs(location)
    if fs.exists(root):
        fs.rm(root, recursive=True)


def _write(fs: fsspec.AbstractFileSystem, path: str, chunk: pa.Table) -> None:
    """One chunk as one Parquet file with one row group."""
    with fs.open(path, "wb") as f:
        pq.write_table(chunk, f, row_group_size=max(chunk.num_rows, 1), **WRITE_OPTIONS)
