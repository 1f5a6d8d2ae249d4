"""A BatchDiff on disk, to be applied later: its Arrow tables as IPC files, the rest as JSON.

The tables keep their exact Arrow types (what it was planned against included: `scope`, and the
target rows it touches in `old`), so `BatchImport.apply` can both check that the diff is current
and write it. They are read back mapped from the files, not copied.

A diff is written as it is planned (`DiffWriter`): the tables of each part (one chunk of a
stream: its records, the values they offer, which change, their keys) go to disk as soon as the
part is planned, and the step keeps them mapped from there, so it holds about a part. What the
whole diff rewrites of them (record positions, matched rows) is written at the end, with the
rest.
"""

import json
import mmap
import shutil
import uuid
import weakref
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from sync_pipeline.engine.diff import RENUMBERED, BatchDiff
from sync_pipeline.errors import SyncError

FORMAT = 3  # 3: part by part; a lean diff (stale.py) with `scope` and `columns`
PARTS = ("rows", "new", "changed_mask", "keys")  # one file per part: `rows.000000.arrow`, ...
WHOLE = ("old", "missing_rows", "scope")
META = "diff.json"
INDEX = "rows.index.arrow"  # the RENUMBERED columns of the whole diff


class DiffWriter:
    """Writes a diff to `directory` part by part (`part`), then the rest (`finish`)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.tmp = directory.with_name(f"{directory.name}.tmp-{uuid.uuid4().hex[:8]}")
        self.tmp.mkdir(parents=True)
        self.parts = 0

    def part(self, diff: BatchDiff, *, own_old: bool = False) -> BatchDiff:
        """Write one part's tables (with `own_old`, its `old` too: `finish` writes the whole
        `old` again from them); the part back, its tables mapped from the files."""
        shared = _offered_as_is(diff)
        mapped: dict[str, pa.Table] = {}
        for name in (*PARTS, "old") if own_old else PARTS:
            table: pa.Table | None = getattr(diff, name)
            if table is not None:
                path = self.tmp / f"{name}.{self.parts:06d}.arrow"
                _write(path, table.drop_columns(shared if name == "new" else []))
                mapped[name] = _read(path)
        self.parts += 1
        release_pages()  # what earlier parts wrote is read back from the files when used
        mapped["new"] = _with_shared(mapped["rows"], mapped["new"], diff.new.column_names, shared)
        return replace(diff, **mapped)

    def finish(self, diff: BatchDiff) -> None:
        """Write what the whole diff (of the parts written) adds, and put it in place."""
        try:
            _write(self.tmp / INDEX, diff.rows.select(list(RENUMBERED)))
            for name in WHOLE:
                table: pa.Table | None = getattr(diff, name)
                if table is not None:
                    _write(self.tmp / f"{name}.arrow", table)
            meta = {**_meta(diff), "parts": self.parts, "new_columns": diff.new.column_names}
            (self.tmp / META).write_text(json.dumps(meta, default=str))
            if self.directory.exists():
                shutil.rmtree(self.directory)
            self.tmp.rename(self.directory)
        finally:
            self.abandon()

    def abandon(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def save_diff(diff: BatchDiff, directory: Path) -> None:
    """Write `diff` as `directory` (as one part), replacing a diff staged there before."""
    writer = DiffWriter(directory)
    try:
        writer.part(diff)
    except BaseException:
        writer.abandon()
        raise
    writer.finish(diff)


def load_diff(directory: Path) -> BatchDiff | None:
    """The diff staged as `directory`, or None when there is none."""
    meta_path = directory / META
    if not meta_path.exists():
        return None
    meta = json.loads(meta_path.read_text())
    if meta.get("format") != FORMAT:
        raise SyncError(
            f"the diff staged at {directory} has format {meta.get('format')!r}, not {FORMAT}: "
            "plan it again (under Dagster: materialize the diff asset again)"
        )
    tables = _tables(directory, meta)
    return BatchDiff(
        table=meta["table"],
        key_fields=tuple(meta["key_fields"]),
        pk_fields=tuple(meta["pk_fields"]),
        compared=tuple(meta["compared"]),
        kinds=meta["kinds"],
        dropped=tuple((int(i), str(reason)) for i, reason in meta["dropped"]),
        errors=tuple((dict(record), str(reason)) for record, reason in meta["errors"]),
        counts=meta["counts"],
        columns=tuple(meta["columns"]),
        **tables,
    )


def drop_diff(directory: Path) -> None:
    """Remove the diff staged as `directory`, if any."""
    shutil.rmtree(directory, ignore_errors=True)


def _tables(directory: Path, meta: dict[str, Any]) -> dict[str, pa.Table]:
    """The staged tables: the parts one after another, `rows` renumbered, `new` completed."""
    tables = {}
    for name in PARTS:
        paths = [directory / f"{name}.{i:06d}.arrow" for i in range(meta["parts"])]
        parts = [_read(p) for p in paths if p.exists()]
        if parts:
            tables[name] = pa.concat_tables(parts, promote_options="permissive")
    rows, index = tables["rows"], _read(directory / INDEX)
    for name in RENUMBERED:
        rows = rows.set_column(rows.schema.get_field_index(name), name, index.column(name))
    shared = [c for c in meta["new_columns"] if c not in tables["new"].column_names]
    tables["rows"] = rows
    tables["new"] = _with_shared(rows, tables["new"], meta["new_columns"], shared)
    for name in WHOLE:
        if (directory / f"{name}.arrow").exists():
            tables[name] = _read(directory / f"{name}.arrow")
    return tables


def _offered_as_is(diff: BatchDiff) -> list[str]:
    """Columns of `new` that are the batch's own columns in `rows` (the same memory): staged
    once, in `rows`."""
    return [
        c
        for c in diff.new.column_names
        if c in diff.rows.column_names and _same(diff.new.column(c), diff.rows.column(c))
    ]


def _with_shared(rows: pa.Table, rest: pa.Table, order: list[str], shared: list[str]) -> pa.Table:
    """`new` again: its `shared` columns taken from `rows`, the rest from `rest`. Built column by
    column: `pa.table` of a dict validates every chunk, which reads the mapped files' pages (70 MB
    of a 1M-row diff, 1 GB of a 10M-row one, before `applied` wrote anything)."""
    if not rest.num_columns:  # every column shared (a table of no columns has no rows)
        return rows.select(order)
    for name in shared:
        rest = rest.append_column(name, rows.column(name))
    return rest.select(order)


def _same(a: pa.ChunkedArray, b: pa.ChunkedArray) -> bool:
    """Whether two columns are views of the same memory, chunk by chunk."""
    return (
        a.type == b.type
        and a.num_chunks == b.num_chunks
        and all(
            (x.offset, len(x)) == (y.offset, len(y))
            and [(buf.address, buf.size) if buf else None for buf in x.buffers()]
            == [(buf.address, buf.size) if buf else None for buf in y.buffers()]
            for x, y in zip(a.chunks, b.chunks, strict=True)
        )
    )


def _meta(diff: BatchDiff) -> dict[str, Any]:
    """Everything but the tables; error records keep JSON values, others as text (report only)."""
    return {
        "format": FORMAT,
        "table": diff.table,
        "key_fields": list(diff.key_fields),
        "pk_fields": list(diff.pk_fields),
        "compared": list(diff.compared),
        "kinds": dict(diff.kinds),
        "dropped": [list(d) for d in diff.dropped],
        "errors": [[record, reason] for record, reason in diff.errors],
        "counts": dict(diff.counts),
        "columns": list(diff.columns),
    }


def _write(path: Path, table: pa.Table) -> None:
    """`table` to `path`, batch by batch: pages it maps from other staged files are read once."""
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        for batch in table.to_batches():
            writer.write_batch(batch)
            release_pages()


def _read(path: Path) -> pa.Table:
    """The table, its buffers mapped from the file rather than copied (see `release_pages`)."""
    with open(path, "rb") as file:
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    _MAPPED.add(mapped)
    return pa.ipc.open_file(pa.BufferReader(pa.py_buffer(mapped))).read_all()


_MAPPED: "weakref.WeakSet[mmap.mmap]" = weakref.WeakSet()  # every staged file this process maps


def release_pages() -> None:
    """Drop the pages of every staged diff this process maps from its memory. They stay in the
    file (and the system's cache) and are read back when used again, so what a step keeps
    resident is the part or window it works on, not every file it has read so far."""
    for mapped in list(_MAPPED):
        mapped.madvise(mmap.MADV_DONTNEED)
