"""Staged batches: the Arrow chunks of one step, written as they arrive, read back one at a time.

A staged dataset is a folder of Arrow IPC files, one per chunk (`part-000000.arrow`, ...), so a
step never holds more than the chunk it is working on, and chunks may differ in schema the way
a sender's chunks do (a column all null in one chunk, text in the next). The folder is a local
path or any fsspec URL (`memory://...`, `s3://bucket/...`, `file:///...`): steps on different
hosts share a staging location on object storage. The IPC format is Arrow's own memory layout,
so every Arrow type is kept exactly (int64, decimal128 with its scale, aware and naive
timestamps, the arrow.json extension); a chunk is written without encoding, and a local one is
read back memory-mapped, without a copy (1M rows: Parquet took ~0.5 s per write or read of the
batch, and the job reads a staged batch three times).
"""

from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import fsspec
import pyarrow as pa
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem
from pyarrow import ipc

# Uncompressed: written and read at memory speed, a chunk read back takes its own size. The
# price is disk: a staged batch takes about what it takes in memory.
PART = "part-{:06d}.arrow"


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
            if isinstance(fs, LocalFileSystem):  # mapped: the table is the file's own pages
                with pa.memory_map(path) as source:
                    yield ipc.open_file(source).read_all()
            else:
                with fs.open(path, "rb") as f:
                    yield ipc.open_file(f).read_all()

    @property
    def num_rows(self) -> int:
        """Rows of every chunk, from the files' record batch headers (no data is read)."""
        return sum(reader.count_rows() for reader in self._readers())

    @property
    def schema(self) -> pa.Schema:
        """The schema of the batch: every chunk's, unified (a null column takes a typed one)."""
        schemas = [reader.schema for reader in self._readers()]
        return pa.unify_schemas(schemas, promote_options="permissive") if schemas else pa.schema([])

    def head(self, rows: int) -> pa.Table:
        """The first `rows` rows of the first chunk (a preview; never the whole batch)."""
        first = next(self.chunks(), None)
        return first.slice(0, rows) if first is not None else pa.table({})

    def _readers(self) -> Iterator[ipc.RecordBatchFileReader]:
        for fs, path in self._parts():
            with fs.open(path, "rb") as f:
                yield ipc.open_file(f)

    def _parts(self) -> Iterator[tuple[fsspec.AbstractFileSystem, str]]:
        for location in self.locations:
            fs, root = url_to_fs(location)
            for path in sorted(fs.glob(f"{root.rstrip('/')}/part-*.arrow")):
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
    # each chunk is written in a worker thread while the next one is produced (read, cast):
    # writing releases the GIL, and at most one chunk waits for its write
    with ThreadPoolExecutor(1, thread_name_prefix="stage-write") as pool:
        pending: Future[None] | None = None
        for chunk in chunks:
            if pending is not None:
                pending.result()
            pending = pool.submit(_write, fs, f"{root}/{PART.format(written)}", chunk)
            written += 1
        if pending is not None:
            pending.result()
    if not written:
        _write(fs, f"{root}/{PART.format(0)}", pa.table({}))
    return StagedBatch((location,))


def remove(location: str) -> None:
    """Drop a staged dataset (nothing to do when there is none)."""
    fs, root = url_to_fs(location)
    if fs.exists(root):
        fs.rm(root, recursive=True)


def _write(fs: fsspec.AbstractFileSystem, path: str, chunk: pa.Table) -> None:
    """One chunk as one Arrow IPC file."""
    with fs.open(path, "wb") as f, ipc.new_file(f, chunk.schema) as writer:
        writer.write_table(chunk)
