"""A BatchDiff on disk, to be applied later: its Arrow tables as IPC files, the rest as JSON.

The tables keep their exact Arrow types (the target rows it was planned against included), so
`BatchImport.apply` can both check that the diff is current and write it.
"""

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa

from sync_pipeline.engine.diff import BatchDiff
from sync_pipeline.errors import SyncError

FORMAT = 1
TABLES = ("rows", "old", "new", "changed_mask", "missing_rows", "keys")
META = "diff.json"


def save_diff(diff: BatchDiff, directory: Path) -> None:
    """Write `diff` as `directory`, replacing a diff staged there before."""
    tmp = directory.with_name(f"{directory.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        for name in TABLES:
            table: pa.Table | None = getattr(diff, name)
            if table is not None:
                _write(tmp / f"{name}.arrow", table)
        (tmp / META).write_text(json.dumps(_meta(diff), default=str))
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
    return BatchDiff(
        table=meta["table"],
        key_fields=tuple(meta["key_fields"]),
        pk_fields=tuple(meta["pk_fields"]),
        compared=tuple(meta["compared"]),
        kinds=meta["kinds"],
        dropped=tuple((int(i), str(reason)) for i, reason in meta["dropped"]),
        errors=tuple((dict(record), str(reason)) for record, reason in meta["errors"]),
        counts=meta["counts"],
        **tables,
    )


def drop_diff(directory: Path) -> None:
    """Remove the diff staged as `directory`, if any."""
    shutil.rmtree(directory, ignore_errors=True)


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
    }


def _write(path: Path, table: pa.Table) -> None:
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _read(path: Path) -> pa.Table:
    with pa.OSFile(str(path), "rb") as source:
        return pa.ipc.open_file(source).read_all()
