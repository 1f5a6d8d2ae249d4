"""The project's errors: one root and one type per stage; each says what, where and how to fix.

A leaf module: it imports nothing from sync_pipeline, so every layer may raise these.
"""

import difflib
import reprlib
from collections.abc import Iterable, Mapping
from typing import Any


class SyncError(Exception):
    """Root of every error the engine raises on purpose."""

    stage: str = "sync"


class ConfigError(SyncError, ValueError):
    """The options of an import or a sync do not fit together (raised before any database work)."""

    stage = "config"


class SyncConfigError(ConfigError):
    """A sync entry is invalid; says which sync, which field and what is allowed."""

    def __init__(self, sync: str, field: str, reason: str) -> None:
        self.sync, self.field, self.reason = sync, field, reason
        super().__init__(f"sync {sync!r}, field {field!r}: {reason}")


class SchemaError(SyncError):
    """A table or column name is not in the reflected schema."""

    stage = "schema"


class RecordError(SyncError):
    """A record is invalid; names the record (its position and content) and the field."""

    stage = "normalize"

    def __init__(
        self, index: int | None, field: str | None, reason: str, record: Mapping[str, Any] | None
    ) -> None:
        self.index = index
        self.field = field
        self.reason = reason
        self.record = dict(record) if record is not None else None
        where = f"record {index}" if index is not None else "a record"
        what = f", field {field!r}" if field else ""
        super().__init__(f"{where}{what}: {reason} (record: {_short(self.record)})")


class DuplicateKeyError(SyncError):
    """Several records of one batch share a comparison key and the policy is 'error'."""

    stage = "normalize"

    def __init__(self, duplicates: Mapping[Any, list[int]]) -> None:
        self.duplicates = dict(duplicates)
        sample = ", ".join(f"{k!r} at records {v}" for k, v in list(self.duplicates.items())[:5])
        super().__init__(
            f"{len(self.duplicates)} key(s) occur more than once in the batch: {sample}; "
            "pass duplicates='first' or 'last' to keep one of them"
        )


class AmbiguousMatchError(SyncError):
    """Several target rows share one comparison key, so a record cannot match just one."""

    stage = "diff"


class ApplyError(SyncError):
    """Writing the batch failed; the transaction was rolled back and nothing was written."""

    stage = "apply"

    def __init__(self, message: str, *, batch_id: int | None, chunk: int | None = None) -> None:
        self.batch_id = batch_id
        self.chunk = chunk
        super().__init__(message)


class StaleDiffError(SyncError):
    """The target changed between computing a diff and applying it."""

    stage = "apply"


def did_you_mean(value: str, allowed: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest allowed word, or nothing."""
    hint = difflib.get_close_matches(str(value), list(allowed), n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


def _short(record: Mapping[str, Any] | None, limit: int = 200) -> str:
    try:
        text = repr(record)
    except RecursionError:  # a value nested too deep to print (it is refused for that)
        text = reprlib.repr(record)
    return text if len(text) <= limit else text[: limit - 3] + "..."
