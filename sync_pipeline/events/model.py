"""The values of the event stream: positions, change events, commits, options and errors."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sync_pipeline.errors import ConfigError, SyncError

EventEffect = Literal["inserted", "updated", "deleted"]
EFFECT_CODES: dict[str, EventEffect] = {"I": "inserted", "U": "updated", "D": "deleted"}
_POSITION = re.compile(r"^(\d{1,19})\.(\d{1,19})$")


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """Where an event sits in the stream: (commit seq, order of the event). Ordered by commit."""

    seq: int
    n: int

    def __str__(self) -> str:
        return f"{self.seq}.{self.n}"

    @classmethod
    def parse(cls, value: "Position | str | None") -> "Position":
        """A Position from its string form ("12.345", e.g. an SSE Last-Event-ID); None = start."""
        if value is None:
            return START
        if isinstance(value, Position):
            return value
        match = _POSITION.match(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise ConfigError(f"not an event position: {value!r} (expected '<seq>.<n>')")
        return cls(int(match[1]), int(match[2]))


START = Position(0, 0)
_new = object.__new__
_POSITION_SLOTS = tuple(Position.__dict__[f].__set__ for f in ("seq", "n"))


def position(seq: int, n: int) -> Position:
    """Position(seq, n) without the frozen dataclass's per-field object.__setattr__ (a read
    makes one per event)."""
    made = _new(Position)
    set_seq, set_n = _POSITION_SLOTS
    set_seq(made, seq)
    set_n(made, n)
    return made


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One inserted, updated or deleted row.

    `changes` holds {field: (old, new)} for updates and the row's values for inserts; `keys` the
    declared key columns (new values, old ones for deletes). `txid` is the 64-bit Postgres xid8
    (None on SQLite); `txid32` is the 32-bit form Electric and TanStack DB match on.
    """

    position: Position
    table: str
    effect: EventEffect
    pk: Mapping[str, Any]
    keys: Mapping[str, Any] = field(default_factory=dict)
    changes: Mapping[str, Any] = field(default_factory=dict)
    batch_id: int | None = None
    txid: int | None = None

    @property
    def txid32(self) -> int | None:
        return None if self.txid is None else self.txid % 2**32

    def as_dict(self) -> dict[str, Any]:
        """Plain data for a wire format (JSON via events.dumps); the position as its string."""
        changes = {k: list(v) if self.effect == "updated" else v for k, v in self.changes.items()}
        return {
            "position": str(self.position), "table": self.table, "effect": self.effect,
            "pk": dict(self.pk), "keys": dict(self.keys), "changes": changes,
            "batch_id": self.batch_id, "txid": self.txid,
        }  # fmt: skip


_EVENT_SLOTS = tuple(
    ChangeEvent.__dict__[f].__set__
    for f in ("position", "table", "effect", "pk", "keys", "changes", "batch_id", "txid")
)


def change_event(
    at: Position,
    table: str,
    effect: EventEffect,
    pk: Mapping[str, Any],
    keys: Mapping[str, Any],
    changes: Mapping[str, Any],
    batch_id: int | None,
    txid: int | None,
) -> ChangeEvent:
    """ChangeEvent(...) made the way `position()` is: a read makes one per event."""
    made = _new(ChangeEvent)
    s_at, s_table, s_effect, s_pk, s_keys, s_changes, s_batch, s_txid = _EVENT_SLOTS
    s_at(made, at)
    s_table(made, table)
    s_effect(made, effect)
    s_pk(made, pk)
    s_keys(made, keys)
    s_changes(made, changes)
    s_batch(made, batch_id)
    s_txid(made, txid)
    return made


@dataclass(frozen=True, slots=True)
class Commit:
    """The events of one committed transaction, in write order (a large one may come in parts)."""

    seq: int
    txid: int | None
    tables: tuple[str, ...]
    events: tuple[ChangeEvent, ...]

    @property
    def position(self) -> Position:
        """The position of the last event: the cursor to continue after this commit."""
        return self.events[-1].position if self.events else Position(self.seq, 0)

    @property
    def txid32(self) -> int | None:
        return None if self.txid is None else self.txid % 2**32

    def as_dict(self) -> dict[str, Any]:
        """What one SSE message carries: seq, txid (64-bit), txid32, tables and the events."""
        return {
            "seq": self.seq, "txid": None if self.txid is None else str(self.txid),
            "txid32": self.txid32, "tables": list(self.tables),
            "events": [e.as_dict() for e in self.events],
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class EventOptions:
    """What to record: one event per written row, plus the values of the declared key columns."""

    keys: tuple[str, ...] = ()


def event_options(value: Any) -> EventOptions | None:
    """Validate the `events` option: False/None (off), True, or {"keys": [column, ...]}."""
    if value is None or value is False:
        return None
    if value is True:
        return EventOptions()
    if isinstance(value, EventOptions):
        return value
    if not isinstance(value, Mapping) or set(value) - {"keys"}:
        raise ConfigError(f'events must be True, False or {{"keys": [column, ...]}}; got {value!r}')
    keys = value.get("keys") or ()
    if isinstance(keys, str) or not all(isinstance(k, str) and k for k in keys):
        raise ConfigError(f"events keys must be a list of column names, got {keys!r}")
    return EventOptions(tuple(keys))


class Row(dict[str, Any]):
    """A row dict that remembers the stream position it is current as of (snapshot or event).

    It compares equal to a plain dict with the same items; the position is not an item.
    """

    position: Position | None = None

    @classmethod
    def at(cls, values: Mapping[str, Any], position: Position | None) -> "Row":
        row = cls(values)
        row.position = position
        return row


class CursorTooOld(SyncError):
    """Events after this cursor were pruned: take a new snapshot and continue from its cursor."""

    stage = "events"
