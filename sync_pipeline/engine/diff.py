"""A normalized batch against the target's rows -> a BatchDiff value (entries, counts, views).

This module alone knows how a diff lays out its tables: the internal columns `__row` (the
record's position), `__effect` and `__e` (the matched row's position in `old`). The writer gets
typed views instead (`BatchDiff.views`): rows to insert, updates, deletes, rows left unchanged.
"""

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, get_args

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sync_pipeline.db import labels
from sync_pipeline.values.carried import decode, decode_row

Effect = Literal["added", "changed", "unchanged", "skipped", "deleted", "missing"]
EFFECTS: tuple[Effect, ...] = get_args(Effect)

_ROW, _EFFECT, _MATCH = labels.ROW, labels.EFFECT, labels.MATCH
RENUMBERED = (_ROW, _MATCH)  # the columns of `rows` that `combine` and `lean` rewrite


@dataclass(frozen=True, slots=True)
class DiffEntry:
    """One record's fate: its effect, key, primary key and {field: (old, new)} changes."""

    effect: Effect
    key: tuple[Any, ...] | None
    pk: tuple[Any, ...] | None
    changes: dict[str, tuple[Any, Any]]
    record: int | None = None


@dataclass(frozen=True, slots=True)
class Updates:
    """Matched rows a diff changes: their identity, the final value of every compared column
    (the offered value where it changes the row, the stored one elsewhere), and which changed."""

    keys: pa.Table
    values: pa.Table
    changed: pa.Table


@dataclass(frozen=True, slots=True)
class BatchDiff:
    """The diff of a batch against the target, before anything is written.

    `rows` holds the batch rows that take part (normalized columns plus the internal columns
    above), `old` the target rows they match. `new` holds the value offered to a matched row for
    each compared column (written where it changes the row), `changed_mask` one boolean column
    per compared column. `missing_rows` holds the target rows in scope that no record matched.

    A diff from `preview` is lean (see `lean`) and says what it was planned against: `scope`, the
    identity of every row in scope, and `columns`, the target's columns then (stale.py).
    """

    table: str
    key_fields: tuple[str, ...]
    pk_fields: tuple[str, ...]
    compared: tuple[str, ...]
    kinds: Mapping[str, Any]
    rows: pa.Table
    old: pa.Table
    new: pa.Table
    changed_mask: pa.Table
    missing_rows: pa.Table
    keys: pa.Table | None = None  # complete keys of the rows that take part (see keys.py)
    dropped: tuple[tuple[int, str], ...] = ()
    errors: tuple[tuple[dict[str, Any], str], ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)
    scope: pa.Table | None = None
    columns: tuple[str, ...] = ()

    @property
    def added(self) -> int:
        return self.counts.get("added", 0)

    @property
    def changed(self) -> int:
        return self.counts.get("changed", 0)

    @property
    def unchanged(self) -> int:
        return self.counts.get("unchanged", 0)

    @property
    def skipped(self) -> int:
        return self.counts.get("skipped", 0) + len(self.dropped)

    @property
    def deleted(self) -> int:
        return self.counts.get("deleted", 0)

    @property
    def missing(self) -> int:
        return self.missing_rows.num_rows

    @property
    def total(self) -> int:
        return self.rows.num_rows + len(self.dropped) + len(self.errors)

    def as_dict(self) -> dict[str, int]:
        effects = ("added", "changed", "unchanged", "skipped", "deleted", "missing")
        return {**{e: getattr(self, e) for e in effects}, "errors": len(self.errors)}

    def views(self, identity: tuple[str, ...], start: int = 0, stop: int | None = None) -> "Views":
        """What records `start` to `stop` ask of the writer, target rows addressed by `identity`."""
        stop = self.rows.num_rows if stop is None else stop
        return Views(self, identity, start, stop - start)

    def touched(self) -> pa.Array:
        """Positions in `old` of the target rows the records matched (each once)."""
        return pc.unique(pc.drop_null(self.rows.column(_MATCH))).cast(pa.int64())

    def seen(self, identity: tuple[str, ...]) -> pa.Table:
        """Identities of the target rows the records matched or insert (when they carry them)."""
        matched = _at(self.old, pc.drop_null(self.rows.column(_MATCH)), identity)
        if all(c in self.rows.column_names for c in identity):  # only these columns are read
            added = self.rows.select(list(identity)).filter(pc.equal(self.rows[_EFFECT], "added"))
            matched = pa.concat_tables([matched, added.cast(matched.schema)])
        return matched

    def entries(
        self, *, include_unchanged: bool = True, effect: Effect | None = None
    ) -> Iterator[DiffEntry]:
        """Every record's entry in batch order, then the missing target rows; or only those of
        one `effect` (found by Arrow: an entry is decoded only when it is taken)."""
        column = self.rows.column(_EFFECT)
        if effect is None and include_unchanged:
            yield from map(self._entry, range(len(column)), column.to_pylist())
        elif effect != "missing":
            wanted = pc.equal(column, effect) if effect else pc.not_equal(column, "unchanged")
            at = pc.indices_nonzero(wanted.combine_chunks())
            yield from map(self._entry, at.to_pylist(), column.take(at).to_pylist())
        if effect not in (None, "missing"):
            return
        for row in self.missing_rows.to_pylist():
            decoded = decode_row(row, self.kinds)
            key, pk = self._tuple(decoded, self.key_fields), self._tuple(decoded, self.pk_fields)
            yield DiffEntry("missing", key, pk, {})

    def preview(self, n: int = 20) -> list[DiffEntry]:
        """The first n entries that are not unchanged (what a reviewer wants to see)."""
        return list(itertools.islice(self.entries(include_unchanged=False), n))

    def _entry(self, i: int, effect: Effect) -> DiffEntry:
        row = decode_row(self.rows.slice(i, 1).to_pylist()[0], self.kinds)
        record = row.pop(_ROW)
        key = self._tuple(row, self.key_fields)
        e = self.rows.column(_MATCH)[i].as_py()
        if e is None:
            changes = {
                k: (None, v)
                for k, v in row.items()
                if not k.startswith(labels.PREFIX) and v is not None
            }
            pk = self._tuple(row, self.pk_fields) if all(f in row for f in self.pk_fields) else None
            return DiffEntry(effect, key, pk, changes, record)
        old = decode_row(self.old.slice(e, 1).to_pylist()[0], self.kinds)
        flags = self.changed_mask.slice(i, 1).to_pylist()[0]
        new = self.new.slice(i, 1).to_pylist()[0]
        changes = {
            c: (old.get(c), decode(self.kinds.get(c), new[c]))
            for c in self.compared
            if flags.get(c)
        }
        return DiffEntry(effect, key, self._tuple(old, self.pk_fields), changes, record)

    @staticmethod
    def _tuple(row: Mapping[str, Any], fields: tuple[str, ...]) -> tuple[Any, ...] | None:
        return tuple(row.get(f) for f in fields) if fields else None


class Views:
    """Typed views of a slice of a diff, for the writer: no internal columns leave this module."""

    def __init__(self, diff: BatchDiff, identity: tuple[str, ...], start: int, n: int) -> None:
        self.identity = identity
        self.rows = diff.rows.slice(start, n)
        self.new = diff.new.slice(start, n)
        self.changed = diff.changed_mask.slice(start, n)
        self.effect = self.rows.column(_EFFECT)
        match = self.rows.column(_MATCH)
        # The rows a window matches lie close together in a staged (looked-up) diff's `old`:
        # only that range is read, not every chunk (a take would combine them all).
        low = pc.min(match).as_py() or 0
        self.old = diff.old.slice(low, (pc.max(match).as_py() or 0) - low + 1)
        self.match = pc.subtract(match, low)

    def inserts(self) -> pa.Table:
        """The records that become new rows, with their normalized columns only."""
        rows = self.rows.filter(pc.equal(self.effect, "added"))
        return rows.drop_columns([_ROW, _EFFECT, _MATCH])

    def updates(self) -> Updates:
        ix = self._where("changed")
        old_ix = self.match.take(ix)
        keys = _at(self.old, old_ix, self.identity)
        values = keys.select([])  # keeps the row count when nothing is compared
        for c in self.new.column_names:  # changed fields take the offered value, the others stay
            flags = self.changed.column(c).take(ix)
            offered = self.new.column(c).take(ix)
            values = values.append_column(
                c, pc.if_else(flags, offered, self.old.column(c).take(old_ix))
            )
        return Updates(keys, values, self.changed.take(ix))

    def deletes(self) -> pa.Table:
        """Identities of the matched rows the records delete."""
        return _at(self.old, self.match.take(self._where("deleted")), self.identity)

    def unchanged(self) -> pa.Table:
        """Identities of the matched rows left as they are (unchanged, or skipped by strategy)."""
        ix = _indices(pc.is_in(self.effect, value_set=pa.array(["unchanged", "skipped"])))
        return _at(self.old, self.match.take(ix), self.identity)

    def count(self, effect: Effect) -> int:
        return int(pc.sum(pc.equal(self.effect, effect)).as_py() or 0)

    def _where(self, effect: Effect) -> pa.Array:
        return _indices(pc.equal(self.effect, effect))


def diff_rows(rows: pa.Table, positions: pa.Array, effect: pa.Array, match: pa.Array) -> pa.Table:
    """The kept batch rows with their record positions, effects and matched rows in `old`."""
    return (
        rows.append_column(_ROW, positions)
        .append_column(_EFFECT, effect)
        .append_column(_MATCH, match)
    )


def count_effects(effects: pa.Array) -> dict[str, int]:
    counts = pc.value_counts(effects).to_pylist() if len(effects) else []
    return {c["values"]: c["counts"] for c in counts}


def _at(old: pa.Table, positions: pa.Array, identity: tuple[str, ...]) -> pa.Table:
    """Identity columns of the target rows at `positions` of `old`."""
    return pa.table({p: old.column(p).take(positions) for p in identity})


def _indices(mask: pa.Array) -> pa.Array:
    return pc.indices_nonzero(pc.fill_null(mask, False))


def combine(parts: list[BatchDiff], old: pa.Table, missing: pa.Table) -> BatchDiff:
    """The diffs of a stream's chunks, all planned against `old`, as the diff of the whole batch
    (record positions count from the stream's start)."""
    rows, dropped, offset = [], [], 0
    for part in parts:
        positions = pc.add(part.rows.column(_ROW), offset)
        rows.append(part.rows.set_column(part.rows.schema.get_field_index(_ROW), _ROW, positions))
        dropped += [(i + offset, reason) for i, reason in part.dropped]
        offset += part.total - len(part.errors)  # the records normalize kept, dropped or not
    counts: dict[str, int] = {}
    for part in parts:
        for effect, n in part.counts.items():
            counts[effect] = counts.get(effect, 0) + n
    keys = [p.keys for p in parts if p.keys is not None]
    return BatchDiff(
        **{f: getattr(parts[0], f) for f in ("table", "key_fields", "pk_fields", "compared")},
        kinds=parts[0].kinds,
        rows=pa.concat_tables(rows),
        old=old,
        new=pa.concat_tables([p.new for p in parts]),
        changed_mask=pa.concat_tables([p.changed_mask for p in parts]),
        missing_rows=missing,
        keys=pa.concat_tables(keys, promote_options="permissive") if keys else None,
        dropped=tuple(dropped),
        errors=tuple(e for p in parts for e in p.errors),
        counts=counts,
    )


def lean(diff: BatchDiff, columns: list[str], sparse: frozenset[str]) -> BatchDiff:
    """`diff` holding of the target only the rows its records match (renumbered), `columns` of
    them; of a `sparse` column only the values of rows a record changes (no reader needs more)."""
    at = pc.fill_null(diff.rows.column(_MATCH), -1).to_numpy()  # -1: the extra last row below
    touched, changed = (np.zeros(diff.old.num_rows + 1, dtype=bool) for _ in range(2))
    touched[at] = True
    for flags in diff.changed_mask.columns:
        changed[at[pc.fill_null(flags, False).to_numpy(zero_copy_only=False)]] = True
    kept = np.flatnonzero(touched[:-1])
    renumber = np.full(diff.old.num_rows + 1, -1, dtype=np.int64)
    renumber[kept] = np.arange(len(kept))
    every = pa.array(kept, type=pa.int64())
    some = pa.array(kept, mask=~changed[kept], type=pa.int64())
    old = pa.table({c: diff.old.column(c).take(some if c in sparse else every) for c in columns})
    match = pa.array(renumber[at], mask=at < 0, type=pa.int64())
    rows = diff.rows.set_column(diff.rows.schema.get_field_index(_MATCH), _MATCH, match)
    return replace(diff, rows=rows, old=old)
