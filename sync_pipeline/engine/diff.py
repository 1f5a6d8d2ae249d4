"""A normalized batch against the target's rows -> a BatchDiff value (entries and counts)."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import pyarrow as pa
import pyarrow.compute as pc

from sync_pipeline.values.carried import decode, decode_row

Effect = Literal["added", "changed", "unchanged", "skipped", "deleted", "missing"]
EFFECTS: tuple[Effect, ...] = get_args(Effect)


@dataclass(frozen=True, slots=True)
class DiffEntry:
    """One record's fate: its effect, key, primary key and {field: (old, new)} changes."""

    effect: Effect
    key: tuple[Any, ...] | None
    pk: tuple[Any, ...] | None
    changes: dict[str, tuple[Any, Any]]
    record: int | None = None


@dataclass(frozen=True, slots=True)
class BatchDiff:
    """The diff of a batch against the target, before anything is written.

    `rows` holds the batch rows that take part (normalized columns plus `__row`, the record's
    position, `__effect` and `__e`, the matched target row in `old`). `new` holds the value
    offered to a matched row for each compared column (written where it changes the row),
    `changed_mask` one boolean column per compared column. `missing_rows` holds the target rows
    in scope that no record matched.
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
    keys: pa.Table | None = None  # complete keys of the rows that take part (__k0, __k1, ...)
    dropped: tuple[tuple[int, str], ...] = ()
    errors: tuple[tuple[dict[str, Any], str], ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)

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
        return {
            "added": self.added,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "deleted": self.deleted,
            "missing": self.missing,
            "errors": len(self.errors),
        }

    def entries(self, *, include_unchanged: bool = True) -> Iterator[DiffEntry]:
        """Every record's entry in batch order, then the missing target rows."""
        effects = self.rows.column("__effect").to_pylist()
        for i, effect in enumerate(effects):
            if effect == "unchanged" and not include_unchanged:
                continue
            yield self._entry(i, effect)
        for row in self.missing_rows.to_pylist():
            decoded = decode_row(row, self.kinds)
            yield DiffEntry(
                "missing",
                self._tuple(decoded, self.key_fields),
                self._tuple(decoded, self.pk_fields),
                {},
            )

    def preview(self, n: int = 20) -> list[DiffEntry]:
        """The first n entries that are not unchanged (what a reviewer wants to see)."""
        out = []
        for entry in self.entries(include_unchanged=False):
            out.append(entry)
            if len(out) >= n:
                break
        return out

    def _entry(self, i: int, effect: Effect) -> DiffEntry:
        row = decode_row(self.rows.slice(i, 1).to_pylist()[0], self.kinds)
        record = row.pop("__row")
        key = self._tuple(row, self.key_fields)
        e = self.rows.column("__e")[i].as_py()
        if e is None:
            changes = {
                k: (None, v) for k, v in row.items() if not k.startswith("__") and v is not None
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


def count_effects(effects: pa.Array) -> dict[str, int]:
    counts = pc.value_counts(effects).to_pylist() if len(effects) else []
    return {c["values"]: c["counts"] for c in counts}
