"""sync(): apply change events to a cached value, after EctoSync's sync/2 (pure, copy-on-write).

Rows remember the position they are current as of (events.Row); an event at or before it is
stale or a duplicate and is ignored. Rows from snapshot() carry the snapshot's cursor.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sync_pipeline.events.model import ChangeEvent, Commit, Row

Value = list[Mapping[str, Any]] | Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Relation:
    """A child table cached inside its parents: parent[field] lists the children whose fk
    equals parent[parent_key] (EctoSync's has_many, as data)."""

    parent: str
    child: str
    fk: str
    field: str
    parent_key: str = "id"


def sync(
    value: Value,
    event_or_commit: ChangeEvent | Commit,
    *,
    table: str,
    key: str | Sequence[str] = "id",
    relations: Sequence[Relation] = (),
) -> Value:
    """Return `value` (rows of `table`: a list, one dict or None) with the event(s) applied.

    inserted appends; updated replaces in place (a missing row is appended); deleted removes
    (one dict stays as it is); child rows follow their parent through `relations`, moving
    when their foreign key changes. The input is never mutated.
    """
    keys = (key,) if isinstance(key, str) else tuple(key)
    evs = event_or_commit.events if isinstance(event_or_commit, Commit) else (event_or_commit,)
    for event in evs:
        value = _one(value, event, table, keys, tuple(relations))
    return value


def _one(value: Value, event: ChangeEvent, table: str, keys: tuple[str, ...], rels: Any) -> Value:
    if isinstance(value, list):
        return _rows(value, event, table, keys, rels)
    if event.table == table:
        return _single(value, event, keys)
    if value is None:
        return None
    return _rows([value], event, table, keys, rels)[0]


def _single(value: Mapping[str, Any] | None, event: ChangeEvent, keys: tuple[str, ...]) -> Any:
    if event.effect == "deleted":
        return value  # a single row is left as it is (sync/2)
    if value is None:
        return _new_row(None, event) if event.effect == "inserted" else None
    if not _same(value, event.pk, keys) or _stale(value, event):
        return value
    return _new_row(value, event)


def _rows(rows: list[Any], event: ChangeEvent, table: str, keys: tuple[str, ...], rels: Any) -> Any:
    if event.table == table:
        return _own(rows, event, keys)
    out = rows
    for rel in (r for r in rels if r.parent == table):
        previous = _find_child(out, rel, event) if event.table == rel.child else None
        if previous is not None and _stale(previous, event):
            continue
        out = [_parent(row, rel, event, previous, rels) for row in out]
    return out


def _own(rows: list[Any], event: ChangeEvent, keys: tuple[str, ...]) -> list[Any]:
    at = next((i for i, r in enumerate(rows) if _same(r, event.pk, keys)), None)
    if at is None:
        return rows if event.effect == "deleted" else [*rows, _new_row(None, event)]
    if _stale(rows[at], event):
        return rows
    if event.effect == "deleted":
        return rows[:at] + rows[at + 1 :]
    return [*rows[:at], _new_row(rows[at], event), *rows[at + 1 :]]


def _parent(row: Any, rel: Relation, event: ChangeEvent, previous: Any, rels: Any) -> Any:
    children = row.get(rel.field)
    if not isinstance(children, list):
        return row
    if event.table == rel.child:
        new = _children(row, rel, event, previous, children)
    else:
        new = _rows(children, event, rel.child, tuple(event.pk), rels)
    return row if new is children else _copy(row, {rel.field: new})


def _children(
    parent: Any, rel: Relation, event: ChangeEvent, previous: Any, children: list[Any]
) -> list[Any]:
    keys = tuple(event.pk)
    at = next((i for i, c in enumerate(children) if _same(c, event.pk, keys)), None)
    rest = children if at is None else children[:at] + children[at + 1 :]
    if event.effect == "deleted":
        return children if at is None else rest
    belongs = _fk(event, rel.fk, previous)
    if belongs is _UNKNOWN:
        belongs = parent.get(rel.parent_key) if at is not None else _UNKNOWN
    if belongs != parent.get(rel.parent_key):
        return children if at is None else rest  # moved away (or never here)
    row = _new_row(children[at] if at is not None else previous, event)
    return [*rest, row] if at is None else [*children[:at], row, *children[at + 1 :]]


_UNKNOWN = object()


def _fk(event: ChangeEvent, fk: str, previous: Any) -> Any:
    """The child's foreign key after the event."""
    if event.effect == "inserted":
        return event.changes.get(fk, event.keys.get(fk, _UNKNOWN))
    if fk in event.changes:
        return event.changes[fk][1]
    if fk in event.keys:
        return event.keys[fk]
    return previous.get(fk, _UNKNOWN) if previous is not None else _UNKNOWN


def _find_child(parents: list[Any], rel: Relation, event: ChangeEvent) -> Any:
    for parent in parents:
        for child in parent.get(rel.field) or ():
            if _same(child, event.pk, tuple(event.pk)):
                return child
    return None


def _new_row(old: Mapping[str, Any] | None, event: ChangeEvent) -> Row:
    if event.effect == "inserted":
        values = dict(event.changes)
        kept = {k: v for k, v in (old or {}).items() if isinstance(v, list)}  # cached children
        return Row.at({**kept, **values}, event.position)
    new = {f: pair[1] for f, pair in event.changes.items()}
    return Row.at({**(old or {}), **dict(event.pk), **new}, event.position)


def _copy(row: Mapping[str, Any], changes: Mapping[str, Any]) -> Any:
    position = row.position if isinstance(row, Row) else None
    return Row.at({**row, **changes}, position) if isinstance(row, Row) else {**row, **changes}


def _same(row: Mapping[str, Any], pk: Mapping[str, Any], keys: tuple[str, ...]) -> bool:
    return all(k in pk and row.get(k) == pk[k] for k in keys)


def _stale(row: Any, event: ChangeEvent) -> bool:
    position = row.position if isinstance(row, Row) else None
    return position is not None and event.position <= position
