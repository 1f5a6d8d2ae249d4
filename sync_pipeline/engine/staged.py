"""A BatchDiff on disk, to be applied later: its Arrow tables as IPC files, the rest as JSON.

The tables keep their exact Arrow types (what it was planned against included: `scope`, and the
target rows it touches in `old`), so `BatchImport.apply` can both check that the diff is current
and write it.
"""

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa

from sync_pipeline.engine.diff import BatchDiff
from sync_pipeline.errors import SyncError

FORMAT = 2  # 2: a lean diff (stale.py), with `scope` and `columns`; `new` shares `rows`
TABLES = ("rows", "old", "new", "changed_mask", "missing_rows", "keys", "scope")
META = "diff.json"


def save_diff(diff: BatchDiff, directory: Path) -> None:
    """Write `diff` as `directory`, replacing a diff staged there before."""
    tmp = directory.with_name(f"{directory.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        shared = _offered_as_is(diff)
        for name in TABLES:
            table: pa.Table | None = getattr(diff, name)
            if table is not None:
                _write(tmp / f"{name}.arrow", table.drop_columns(shared if name == "new" else []))
        (tmp / META).write_text(json.dumps(_meta(diff, shared), default=str))
        if directory.exists():
            shutil.rmtree(directory)
        tmp.rename(directory)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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
    tables = {
        name: _read(directory / f"{name}.arrow")
        for name in TABLES
        if (directory / f"{name}.arrow").exists()
    }
    if meta["new_from_rows"]:
        rows, new = tables["rows"], tables["new"]
        shared = set(meta["new_from_rows"])
        tables["new"] = pa.table(
            {c: (rows if c in shared else new).column(c) for c in meta["new_columns"]}
        )
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


def _offered_as_is(diff: BatchDiff) -> list[str]:
    """Columns of `new` that are the batch's own columns in `rows` (the same memory): staged
    once, in `rows`."""
    return [
        c
        for c in diff.new.column_names
        if c in diff.rows.column_names and _same(diff.new.column(c), diff.rows.column(c))
    ]


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


def _meta(diff: BatchDiff, shared: list[str]) -> dict[str, Any]:
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
        "new_columns": diff.new.column_names,
        "new_from_rows": shared,
    }


def _write(path: Path, table: pa.Table) -> None:
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _read(path: Path) -> pa.Table:
    """The table, its buffers mapped from the file rather than copied."""
    with pa.memory_map(str(path), "r") as source:
        return pa.ipc.open_file(source).read_all()
