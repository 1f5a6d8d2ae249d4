"""The project's errors: one root, one type per kind of failure; each says what, where, how to fix.

A leaf module: it imports nothing from sync_pipeline, so every layer may raise these.
"""

import difflib
import reprlib
from collections.abc import Iterable, Mapping
from typing import Any


class SyncError(Exception):
    """Root of every error the engine raises on purpose.

    When one leaves a stage of an import (normalize, match, diff, guard, apply, finish), the
    engine names where, once, in `stage`, `table` and `batch_id` (None outside an import).
    """

    stage: str | None = None
    table: str | None = None
    batch_id: int | None = None

    def at(self, stage: str, table: str, batch_id: int | None) -> "SyncError":
        """Name the stage this error left, unless an inner stage already did; returns self."""
        if self.table is None:
            self.stage = self.stage or stage
            self.table = table
            self.batch_id = self.batch_id if self.batch_id is not None else batch_id
            self.add_note(f"stage {self.stage!r} of table {table!r}, batch {self.batch_id}")
        return self


class StageError(Exception):
    """Something no stage expects (a bug, a lost connection) left a stage of an import; the
    original exception is the cause. Not a SyncError: those say the input or the config is
    wrong (a retry fails the same way), this one may pass on a retry."""

    def __init__(self, stage: str, table: str, batch_id: int | None, cause: BaseException) -> None:
        super().__init__(
            f"the {stage} stage of {table!r} (batch {batch_id}) failed: "
            f"{type(cause).__name__}: {cause}"
        )
        self.stage, self.table, self.batch_id = stage, table, batch_id


class ConfigError(SyncError, ValueError):
    """The options of an import or a sync do not fit together (raised before any database work)."""


class SyncConfigError(ConfigError):
    """A sync entry is invalid; says which sync, which field and what is allowed."""

    def __init__(self, sync: str, field: str, reason: str) -> None:
        self.sync, self.field, self.reason = sync, field, reason
        super().__init__(f"sync {sync!r}, field {field!r}: {reason}")


class SchemaError(SyncError):
    """A table or column name is not in the reflected schema."""


class RecordError(SyncError):
    """A record is invalid; names the record (its position and content) and the field."""

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

    def __init__(self, duplicates: Mapping[Any, list[int]]) -> None:
        self.duplicates = dict(duplicates)
        sample = ", ".join(f"{k!r} at records {v}" for k, v in list(self.duplicates.items())[:5])
        super().__init__(
            f"{len(self.duplicates)} key(s) occur more than once in the batch: {sample}; "
            "pass duplicates='first' or 'last' to keep one of them"
        )


class AmbiguousMatchError(SyncError):
    """Several target rows share one comparison key, so a record cannot match just one."""


class ApplyError(SyncError):
    """Writing the batch failed; the transaction was rolled back and nothing was written."""

    def __init__(self, message: str, *, batch_id: int | None, chunk: int | None = None) -> None:
        self.batch_id = batch_id
        self.chunk = chunk
        super().__init__(message)


class RuleError(SyncError):
    """A sync's validation rules failed on the batch; nothing was written."""


class StaleDiffError(SyncError):
    """The target changed between computing a diff and applying it."""


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
