"""Errors raised while reading a sender: each names the source, and for bad values the field."""

from sync_pipeline.errors import SchemaError, SyncError


class SenderError(SyncError):
    """A sender could not be read (missing file, unreachable database, bad configuration)."""

    stage = "extract"


class BadValueError(SenderError):
    """One value of one record does not fit its declared type; names file, line and field."""

    def __init__(
        self, source: str, line: int | None, field: str | None, reason: str, unit: str = "line"
    ) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.reason = reason
        where = source if line is None else f"{source}, {unit} {line}"
        what = f", field {field!r}" if field else ""
        super().__init__(f"{where}{what}: {reason}")


class SchemaDriftError(SenderError, SchemaError):
    """The sender's columns no longer fit the target table and the drift policy is 'error'."""

    stage = "extract"
