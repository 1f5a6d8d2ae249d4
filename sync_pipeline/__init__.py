"""sync_pipeline: keep target tables in step with the records senders deliver."""

from typing import Any

from sync_pipeline.engine import comparators
from sync_pipeline.engine.api import (
    BatchImport,
    import_multiple,
    import_records,
    missing_after_batch,
)
from sync_pipeline.engine.diff import BatchDiff, DiffEntry
from sync_pipeline.engine.mutations import Writer, WriteRejected
from sync_pipeline.engine.record_diff import RecordDiff, diff
from sync_pipeline.engine.results import ImportResult
from sync_pipeline.errors import StaleDiffError

__all__ = [
    "BatchDiff",
    "BatchImport",
    "DiffEntry",
    "ImportResult",
    "RecordDiff",
    "StaleDiffError",
    "SyncCollection",
    "WriteRejected",
    "Writer",
    "comparators",
    "diff",
    "import_multiple",
    "import_records",
    "missing_after_batch",
]


def __getattr__(name: str) -> Any:
    """`SyncCollection` imports dagster, so it is imported on first use only."""
    if name == "SyncCollection":
        from sync_pipeline.defs.component import SyncCollection

        return SyncCollection
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """Lists the lazy `SyncCollection` too (the dg registry scans `dir(sync_pipeline)`)."""
    return sorted({*globals(), *__all__})
