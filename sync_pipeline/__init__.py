"""sync_pipeline: keep target tables in step with the records senders deliver."""

import warnings
from typing import Any

from sync_pipeline.engine import comparators
from sync_pipeline.engine.api import (
    BatchImport,
    PreparedImport,
    import_multiple,
    import_records,
    missing_after_batch,
)
from sync_pipeline.engine.diff import BatchDiff, DiffEntry
from sync_pipeline.engine.mutations import Writer, WriteRejected, WriteResult
from sync_pipeline.engine.record_diff import RecordDiff, RecordDiffError, diff_record
from sync_pipeline.engine.results import ImportResult
from sync_pipeline.errors import (
    AmbiguousMatchError,
    ApplyError,
    ConfigError,
    DuplicateKeyError,
    RecordError,
    RuleError,
    SchemaError,
    StaleDiffError,
    SyncConfigError,
    SyncError,
)

__all__ = [
    "AmbiguousMatchError",
    "ApplyError",
    "BatchDiff",
    "BatchImport",
    "ConfigError",
    "DiffEntry",
    "DuplicateKeyError",
    "ImportResult",
    "PreparedImport",
    "RecordDiff",
    "RecordDiffError",
    "RecordError",
    "RuleError",
    "SchemaError",
    "StaleDiffError",
    "SyncCollection",
    "SyncConfigError",
    "SyncError",
    "WriteRejected",
    "WriteResult",
    "Writer",
    "comparators",
    "diff_record",
    "import_multiple",
    "import_records",
    "missing_after_batch",
]


def __getattr__(name: str) -> Any:
    """`SyncCollection` imports dagster, so it is imported on first use only; `diff` is the
    deprecated first name of `diff_record`."""
    if name == "diff":
        warnings.warn(
            "sync_pipeline.diff() is renamed diff_record(); diff will be removed",
            DeprecationWarning,
            stacklevel=2,
        )
        return diff_record
    if name == "SyncCollection":
        from sync_pipeline.defs.component import SyncCollection

        return SyncCollection
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """Lists the lazy `SyncCollection` too (the dg registry scans `dir(sync_pipeline)`)."""
    return sorted({*globals(), *__all__})
