"""Record-level diff (EctoDiff for mappings): what changed between two versions of one record.

Fields compare with the engine's equality (`compare.changed`: semantics §3.2, §3.11), so
`Decimal('1.0')` equals `Decimal('1.00')`, None equals NaN, and per-field comparators apply.
Nested child lists are matched by their own key; see docs/record_diff.md.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, get_args

from sync_pipeline.engine.compare import Comparator, changed, values_equal
from sync_pipeline.engine.record_values import jsonable, key_token, short
from sync_pipeline.errors import SyncError
from sync_pipeline.values.carried import is_null

RecordEffect = Literal["added", "deleted", "changed", "replaced"]
RECORD_EFFECTS: tuple[RecordEffect, ...] = get_args(RecordEffect)

# A key is one field name or a tuple of them; a child spec is a key or
# {"key": key, "children": {...}, "comparators": {...}}.
KeySpec: TypeAlias = str | Sequence[str]
ChildSpecs: TypeAlias = Mapping[str, KeySpec | Mapping[str, Any]]
_CHILD_OPTIONS = ("key", "children", "comparators")
_Row: TypeAlias = Mapping[str, Any]


class RecordDiffError(SyncError, ValueError):
    """The records or the key/children spec given to diff_record() do not fit together."""

    stage = "diff"  # the record-level diff runs outside an import: its stage is always this


@dataclass(frozen=True, slots=True)
class _Spec:
    """Normalized identity and comparison rules for one level of records."""

    key: tuple[str, ...]
    children: Mapping[str, "_Spec"] = field(default_factory=dict)
    comparators: Mapping[str, Comparator] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecordDiff:
    """What happened to one record (and its children) between `previous` and `current`.

    `key` is the tuple of key values, taken from `current` (from `previous` when deleted).
    `changes` maps a field to `(old, new)`, a child list to `[RecordDiff, ...]` and a single
    child mapping to a `RecordDiff`; only fields and children that changed appear.
    """

    effect: RecordEffect
    key: tuple[Any, ...]
    key_fields: tuple[str, ...]
    changes: Mapping[str, Any]
    previous: Mapping[str, Any] | None
    current: Mapping[str, Any] | None

    @property
    def primary_key(self) -> dict[str, Any]:
        """The key as {field: value}, like EctoDiff's `primary_key`."""
        return dict(zip(self.key_fields, self.key, strict=True))

    @property
    def field_changes(self) -> dict[str, tuple[Any, Any]]:
        """Only the plain-field entries of `changes`: {field: (old, new)}."""
        return {k: v for k, v in self.changes.items() if isinstance(v, tuple)}

    @property
    def child_changes(self) -> dict[str, "list[RecordDiff] | RecordDiff"]:
        """Only the child entries of `changes`."""
        return {k: v for k, v in self.changes.items() if not isinstance(v, tuple)}

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict: field changes as [old, new], child diffs as nested dicts."""
        return {
            "effect": self.effect,
            "key": [jsonable(v) for v in self.key],
            "primary_key": jsonable(self.primary_key),
            "changes": {name: _change_as_json(c) for name, c in self.changes.items()},
            "previous": jsonable(self.previous),
            "current": jsonable(self.current),
        }


def diff_record(
    previous: Mapping[str, Any] | None,
    current: Mapping[str, Any] | None,
    key: KeySpec = ("id",),
    children: ChildSpecs | None = None,
    comparators: Mapping[str, Comparator] | None = None,
) -> RecordDiff | None:
    """Describe how `previous` became `current`; None when nothing changed.

    Args:
        previous: the old record, or None when the record is new.
        current: the new record, or None when the record was deleted.
        key: the field (or tuple of fields) that identifies the record.
        children: {name: child key} for nested child lists matched by key; a value may also be
            {"key": ..., "children": {...}, "comparators": {...}} for deeper nesting.
        comparators: {field: callable(new, old) -> bool changed} for this record's own fields.

    Returns:
        A RecordDiff with effect added/deleted/changed/replaced, or None when an added or
        changed record has no changes. Deleted and replaced records are never None.

    Raises:
        RecordDiffError: empty key, a record lacking a key field, duplicate child keys, or a
            malformed children spec; the message names the record and the field.
    """
    spec = _make_spec(key, children, comparators, "the record")
    return _diff(previous, current, spec, "record")


def _make_spec(
    key: KeySpec,
    children: ChildSpecs | None,
    comparators: Mapping[str, Comparator] | None,
    what: str,
) -> _Spec:
    """Validate and normalize key, children and comparators of one level."""
    fields = (key,) if isinstance(key, str) and key else tuple(key or ())
    if not fields:
        raise RecordDiffError(f"no keys specified for {what}: pass key='id' or key=('a', 'b')")
    if not all(isinstance(f, str) for f in fields):
        raise RecordDiffError(f"key fields for {what} must be strings, got {fields!r}")
    bad = sorted(f for f, c in (comparators or {}).items() if not callable(c))
    if bad:
        raise RecordDiffError(f"comparators for {what} must be callable(new, old); not: {bad}")
    kids: dict[str, _Spec] = {}
    for name, child in (children or {}).items():
        if name in fields:
            raise RecordDiffError(f"{name!r} is a key field of {what} and cannot be a child list")
        kids[name] = _make_child_spec(name, child)
    return _Spec(fields, kids, dict(comparators or {}))


def _make_child_spec(name: str, child: KeySpec | Mapping[str, Any]) -> _Spec:
    what = f"child {name!r}"
    if not isinstance(child, Mapping):
        return _make_spec(child, None, None, what)
    unknown = sorted(set(child) - set(_CHILD_OPTIONS))
    if unknown or "key" not in child:
        raise RecordDiffError(
            f"spec of {what} must have 'key' and may have {_CHILD_OPTIONS[1:]}; got {sorted(child)}"
        )
    return _make_spec(child["key"], child.get("children"), child.get("comparators"), what)


def _diff(previous: Any, current: Any, spec: _Spec, path: str) -> RecordDiff | None:
    """Diff one record (and, recursively, its children) at `path` (used in error messages)."""
    if previous is None and current is None:
        return None
    _require_mapping(previous, "previous", path)
    _require_mapping(current, "current", path)
    if current is None:
        old_key = _key_of(previous, spec, "previous", path)
        return RecordDiff("deleted", old_key, spec.key, {}, previous, None)
    new_key = _key_of(current, spec, "current", path)
    effect: RecordEffect = "added"
    if previous is not None:
        old_key = _key_of(previous, spec, "previous", path)
        effect = "replaced" if _replaced(old_key, new_key) else "changed"
    old = previous if previous is not None else {}
    changes: dict[str, Any] = _field_changes(old, current, spec)
    changes.update(_child_changes(old, current, spec, path))
    if not changes and effect in ("added", "changed"):
        return None
    return RecordDiff(effect, new_key, spec.key, changes, previous, current)


def _require_mapping(record: Any, side: str, path: str) -> None:
    if record is not None and not isinstance(record, Mapping):
        raise RecordDiffError(
            f"{side} {path} must be a mapping or None, got {type(record).__name__}"
        )


def _key_of(record: Mapping[str, Any], spec: _Spec, side: str, path: str) -> tuple[Any, ...]:
    missing = [f for f in spec.key if f not in record]
    if missing:
        raise RecordDiffError(
            f"{side} {path} lacks key field(s) {missing} (key: {list(spec.key)}); "
            f"record: {short(record)}"
        )
    return tuple(record[f] for f in spec.key)


def _replaced(old_key: tuple[Any, ...], new_key: tuple[Any, ...]) -> bool:
    """Both keys fully non-null and different (EctoDiff's :replaced)."""
    if any(is_null(v) for v in (*old_key, *new_key)):
        return False
    return any(not values_equal(n, o) for n, o in zip(new_key, old_key, strict=True))


def _field_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], spec: _Spec
) -> dict[str, tuple[Any, Any]]:
    """{field: (old, new)} over the union of fields (previous order first); absent = None."""
    names = [f for f in dict.fromkeys([*old, *new]) if f not in spec.children]
    return {
        f: (old.get(f), new.get(f))
        for f in names
        if changed(new.get(f), old.get(f), spec.comparators.get(f))
    }


def _child_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], spec: _Spec, path: str
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, child in spec.children.items():
        before, after, where = old.get(name), new.get(name), f"{path}.{name}"
        if isinstance(before, Mapping) or isinstance(after, Mapping):
            one = _diff(before, after, child, where)
            if one is not None:
                out[name] = one
            continue
        before_list = _as_list(before, "previous", where)
        many = _diff_lists(before_list, _as_list(after, "current", where), child, where)
        if many:
            out[name] = many
    return out


def _as_list(value: Any, side: str, path: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise RecordDiffError(
            f"{side} {path} must be a list of mappings, a mapping or None, "
            f"got {type(value).__name__}"
        )
    return list(value)


def _diff_lists(old: list[Any], new: list[Any], spec: _Spec, path: str) -> list[RecordDiff]:
    """Match children by key: previous order first, then new ones; null keys never match."""
    old_rows = list(_keyed(old, spec, "previous", path))
    new_rows = list(_keyed(new, spec, "current", path))
    new_by_token = {t: row for _, t, row in new_rows if t is not None}
    old_tokens = {t for _, t, _ in old_rows if t is not None}
    pairs: list[tuple[str, _Row | None, _Row | None]] = [
        (where, row, new_by_token.get(t) if t is not None else None) for where, t, row in old_rows
    ]
    pairs += [(where, None, row) for where, t, row in new_rows if t not in old_tokens]
    diffs = [_diff(before, after, spec, where) for where, before, after in pairs]
    return [d for d in diffs if d is not None]


def _keyed(rows: list[Any], spec: _Spec, side: str, path: str) -> Iterator[tuple[str, Any, _Row]]:
    """(path of the row, match token or None for a null key part, row); duplicate keys raise."""
    seen: dict[tuple[Any, ...], int] = {}
    for i, row in enumerate(rows):
        where = f"{path}[{i}]"
        if not isinstance(row, Mapping):
            raise RecordDiffError(
                f"{side} {where} must be a mapping, got {type(row).__name__}; "
                "child lists hold mappings only"
            )
        key = _key_of(row, spec, side, where)
        if any(is_null(v) for v in key):
            yield where, None, row
            continue
        try:
            token = tuple(key_token(v) for v in key)
        except TypeError:
            bad = next(v for v in key if not _hashable(v))
            raise RecordDiffError(
                f"{side} {where} has an unhashable key value {bad!r}; keys must be scalars"
            ) from None
        if token in seen:
            raise RecordDiffError(
                f"duplicate key {dict(zip(spec.key, key, strict=True))!r} in {side} {path}: "
                f"items {seen[token]} and {i}"
            )
        seen[token] = i
        label = ", ".join(f"{f}={v!r}" for f, v in zip(spec.key, key, strict=True))
        yield f"{path}[{label}]", token, row


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _change_as_json(change: Any) -> Any:
    if isinstance(change, RecordDiff):
        return change.as_dict()
    if isinstance(change, list):
        return [d.as_dict() for d in change]
    return [jsonable(v) for v in change]
