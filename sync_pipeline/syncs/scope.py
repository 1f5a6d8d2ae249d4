"""The slice of sender and target one run covers, and its one serialization.

A scope travels from the run that applied a batch (its `applied` metadata) to the missing-rows
sensor and check and to the cleanup job's run config. Everywhere it is the same text,
`Scope.encode()`, read back by `Scope.decode()`: JSON, so static values keep commas and quotes,
and ISO datetimes, so a window keeps its zone (or its lack of one) and its microseconds.
"""

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from sync_pipeline.errors import ConfigError
from sync_pipeline.senders.base import PartitionFilter
from sync_pipeline.syncs.options import where_clause
from sync_pipeline.syncs.spec import SyncSpec

# The metadata key (on `applied`) and cleanup config field that carry `Scope.encode()`.
SCOPE_KEY = "sync_scope"
# What runs before the single key wrote: four flat fields, values joined by commas.
_LEGACY_KEYS = ("scope_column", "scope_start", "scope_end", "scope_values")

Where = Mapping[str, object] | sa.ColumnElement[bool] | None


@dataclass(frozen=True, slots=True)
class Scope:
    """The slice of sender and target one run covers: a time window or some static values."""

    column: str  # sender column
    target_column: str
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    values: tuple[str, ...] = ()

    def sender_filters(self) -> list[PartitionFilter]:
        """One sender read per window, or one per static value."""
        if self.start is not None and self.end is not None:
            return [PartitionFilter.window(self.column, self.start, self.end)]
        return [PartitionFilter.static(self.column, v) for v in self.values]

    def describe(self) -> str:
        if self.start is not None:
            return f"{self.target_column} in [{self.start:%Y-%m-%d}, {self.end:%Y-%m-%d})"
        return f"{self.target_column} in {list(self.values)}"

    def encode(self) -> str:
        """The scope as one line of JSON text (the only form it is stored or passed in)."""
        return json.dumps(
            {
                "column": self.column,
                "target_column": self.target_column,
                "start": _iso(self.start),
                "end": _iso(self.end),
                "values": list(self.values),
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, text: str) -> "Scope":
        """The scope `encode` wrote; ConfigError naming the text when it is not one."""
        try:
            data = json.loads(text)
            return cls(
                column=_text(data["column"]),
                target_column=_text(data["target_column"]),
                start=_datetime(data["start"]),
                end=_datetime(data["end"]),
                values=tuple(_text(v) for v in data["values"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"not an encoded sync scope: {text!r} ({exc})") from None


def encode_scope(scope: Scope | None) -> str:
    """`Scope.encode()`, or "" for no scope (the whole table), as the cleanup config takes it."""
    return "" if scope is None else scope.encode()


def decode_scope(text: str) -> Scope | None:
    """The scope `encode_scope` wrote ("" is the whole table)."""
    return Scope.decode(text) if text else None


def scope_metadata(scope: Scope | None) -> dict[str, str]:
    """The scope as text metadata: readable (`scope`) and encoded (`sync_scope`)."""
    if scope is None:
        return {"scope": "whole table"}
    return {"scope": scope.describe(), SCOPE_KEY: scope.encode()}


def scope_from_metadata(meta: Mapping[str, object]) -> Scope | None:
    """The scope recorded by `scope_metadata` (None: the whole table). Metadata written before
    the single key (four flat `scope_*` fields) is still read, as those runs meant it."""
    if SCOPE_KEY in meta:
        return decode_scope(str(meta[SCOPE_KEY] or ""))
    column, start, end, values = (str(meta.get(k) or "") for k in _LEGACY_KEYS)
    if not column:
        return None
    return Scope(
        column=column,
        target_column=column,
        start=_datetime(start or None),
        end=_datetime(end or None),
        values=tuple(v for v in values.split(",") if v),
    )


def scope_clause(engine: sa.Engine, spec: SyncSpec, scope: Scope | None) -> Where:
    """The target-side `where` for a scope; the column is checked against the reflected table."""
    if scope is None:
        return None
    table = sa.Table(spec.table, sa.MetaData(), autoload_with=engine)
    if scope.target_column not in table.c:
        raise ConfigError(
            f"sync {spec.name!r}: partition column {scope.target_column!r} "
            f"is not in target table {spec.table!r}"
        )
    # An unbound column (checked above, typed from the reflection): the engine's own Table
    # object for the target then renders it without a second FROM entry.
    column = sa.column(scope.target_column, table.c[scope.target_column].type)
    if scope.start is not None and scope.end is not None:
        return sa.and_(column >= scope.start, column < scope.end)
    return column.in_(list(scope.values))


def target_where(engine: sa.Engine, spec: SyncSpec, scope: Scope | None) -> Where:
    """The sync's fixed `where` and the run's scope, as the engine's `where=` for the target."""
    where: Where = where_clause(spec.options.get("where"), scope_clause(engine, spec, scope))
    return where


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _datetime(value: object) -> dt.datetime | None:
    if value is None:
        return None
    return dt.datetime.fromisoformat(_text(value))


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {value!r}")
    return value
