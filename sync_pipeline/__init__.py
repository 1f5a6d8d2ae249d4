"""sync_pipeline: keep target tables in step with the records senders deliver."""

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
    "WriteRejected",
    "Writer",
    "comparators",
    "diff",
    "import_multiple",
    "import_records",
    "missing_after_batch",
]
