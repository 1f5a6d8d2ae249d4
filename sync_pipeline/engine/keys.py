"""The keys of a batch: how they are built, and which records take part by them.

Keys come from the match-by fields, per-field callables, case folding or a custom key function
(the plan's KeyRecipe). They are typed: plain fields join on their typed Arrow columns; keys built
by Python callables are Python tuples, encoded to integer codes through one dict shared by both
sides, so '09' and 9 and ('a|', 'b') vs ('a', '|b') never collide. A key with a null part never
matches. The null-key and duplicate policies then pick the records that take part
(docs/semantics.md §3.1).
"""

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sync_pipeline.db import labels
from sync_pipeline.engine.plan import KeyRecipe, Plan
from sync_pipeline.errors import DuplicateKeyError, RecordError
from sync_pipeline.values.carried import decode_row
from sync_pipeline.values.kinds import Kind


@dataclass(slots=True)
class KeyCodes:
    """One dict of Python keys -> integer codes, shared by the batch and the target rows."""

    codes: dict[Any, int] = field(default_factory=dict)

    def encode(self, keys: list[Any]) -> pa.Array:
        out = [None if k is None else self.codes.setdefault(k, len(self.codes)) for k in keys]
        return pa.array(out, type=pa.int64())


@dataclass(frozen=True, slots=True)
class Keys:
    """Key columns of a table (named __k0, __k1, ... after labels.KEY) and which rows have a
    complete key."""

    columns: tuple[pa.Array, ...]
    valid: pa.Array
    _tables: dict[str, pa.Table] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def table(self, index_name: str) -> pa.Table:
        """The complete keys with each row's position, ready for a join; built once per name
        (a held scope's keys meet every chunk of a stream: 1M rows cost ~25 ms each time)."""
        built = self._tables.get(index_name)
        if built is None:
            cols = {f"{labels.KEY}{i}": c for i, c in enumerate(self.columns)}
            cols[index_name] = pa.array(np.arange(len(self.valid), dtype=np.int64))
            built = self._tables[index_name] = pa.table(cols).filter(self.valid)
        return built

    @property
    def names(self) -> list[str]:
        return [f"{labels.KEY}{i}" for i in range(len(self.columns))]


def build_keys(
    table: pa.Table, spec: KeyRecipe, kinds: Mapping[str, Kind], codes: KeyCodes
) -> Keys:
    """Compute the comparison key of every row of `table`."""
    if spec.in_python:
        python_keys = _python_keys(table, spec, kinds)
        column = codes.encode(python_keys)
        return Keys((column,), pc.is_valid(column))
    columns = []
    for name in spec.fields:
        if name not in table.column_names:  # an absent field is null: such keys never match
            columns.append(pa.nulls(table.num_rows))
            continue
        column = table.column(name).combine_chunks()
        if not spec.case_sensitive and kinds.get(name) == "text":
            column = pa.array([fold(v) for v in column.to_pylist()], type=pa.string())
        columns.append(column)
    valid = pa.repeat(pa.scalar(True), table.num_rows)
    for column in columns:
        valid = pc.and_(valid, pc.is_valid(column))
    return Keys(tuple(columns), valid)


def fold(value: str | None) -> str | None:
    """Unicode-aware case folding, NFC-normalized."""
    return None if value is None else unicodedata.normalize("NFC", value.casefold())


def key_of(row: Mapping[str, Any], spec: KeyRecipe) -> tuple[Any, ...] | Any | None:
    """The Python key of one decoded row, or None when any part is null."""
    if spec.comparison_key is not None:
        return spec.comparison_key(row)
    parts = []
    for name in spec.fields:
        value = row.get(name)
        fn = spec.callables.get(name)
        if fn is not None:
            value = fn(value, row)
        if value is None:
            return None
        if not spec.case_sensitive and isinstance(value, str):
            value = fold(value)
        parts.append(value)
    return tuple(parts)


def _python_keys(table: pa.Table, spec: KeyRecipe, kinds: Mapping[str, Kind]) -> list[Any]:
    return [key_of(decode_row(row, kinds), spec) for row in table.to_pylist()]


@dataclass(frozen=True, slots=True)
class Selection:
    """Which batch rows take part (sender order) and which records a policy dropped."""

    keep: pa.Array  # int64 positions into the batch
    dropped: tuple[tuple[int, str], ...]


def select_rows(plan: Plan, batch: pa.Table, keys: Keys) -> Selection:
    """Apply the null-key and duplicate policies; deterministic, by sender order."""
    n = batch.num_rows
    dropped: list[tuple[int, str]] = []
    nulls = pc.indices_nonzero(pc.invert(keys.valid)).to_pylist()
    if nulls and plan.options.null_keys == "error":
        i = nulls[0]
        record = decode_row(batch.slice(i, 1).to_pylist()[0], plan.target.kinds)
        field = next((f for f in plan.keys.fields if record.get(f) is None), None)
        raise RecordError(i, field, "the match key is null (null_keys='error')", record)
    if plan.options.null_keys == "skip":
        dropped += [(i, "null match key") for i in nulls]
    drop = {i for i, _ in dropped}
    for ix in _duplicate_groups(keys):
        if plan.options.duplicates == "error":
            raise DuplicateKeyError(
                {_key_of(batch, plan, g[0]): g for g in _duplicate_groups(keys)[:20]}
            )
        winner = ix[0] if plan.options.duplicates == "first" else ix[-1]
        losers = [i for i in ix if i != winner]
        dropped += [(i, f"duplicate key; kept record {winner}") for i in losers]
        drop.update(losers)
    keep = pa.array(np.arange(n, dtype=np.int64))
    if drop:
        keep = keep.filter(pc.invert(pc.is_in(keep, value_set=pa.array(sorted(drop), pa.int64()))))
    return Selection(keep, tuple(sorted(dropped)))


def _duplicate_groups(keys: Keys) -> list[list[int]]:
    """Positions of records sharing a complete key, per key, in sender order (cheap if none)."""
    if len(keys.columns) == 1 and unique(keys.columns[0]):
        return []
    table = keys.table(labels.BATCH_ROW)
    if table.num_rows == 0:
        return []
    counts = table.group_by(keys.names, use_threads=False).aggregate([(labels.BATCH_ROW, "count")])
    if pc.max(counts.column(f"{labels.BATCH_ROW}_count")).as_py() <= 1:
        return []
    groups = table.group_by(keys.names, use_threads=False).aggregate([(labels.BATCH_ROW, "list")])
    return [
        sorted(ix) for ix in groups.column(f"{labels.BATCH_ROW}_list").to_pylist() if len(ix) > 1
    ]


def kept_keys(keys: Keys, selection: Selection) -> pa.Table:
    table = keys.table(labels.BATCH_ROW)
    return table.filter(pc.is_in(table.column(labels.BATCH_ROW), value_set=selection.keep)).select(
        keys.names
    )


def drop_earlier(
    plan: Plan, batch: pa.Table, keys: Keys, selection: Selection, earlier: pa.Table
) -> Selection:
    """Duplicates of keys an earlier chunk already brought: error, or keep the first of them.
    With "last" the later record simply updates the row the earlier chunk wrote."""
    if plan.options.duplicates == "last":
        return selection
    current = keys.table(labels.BATCH_ROW)
    current = current.filter(pc.is_in(current.column(labels.BATCH_ROW), value_set=selection.keep))
    earlier = earlier.cast(current.select(keys.names).schema)
    # the chunk is the hash-join build side; earlier keys (possibly millions) are only probed
    again = earlier.join(current, keys=keys.names, join_type="right semi", use_threads=False)
    if again.num_rows == 0:
        return selection
    positions = sorted(again.column(labels.BATCH_ROW).to_pylist())
    if plan.options.duplicates == "error":
        raise DuplicateKeyError({_key_of(batch, plan, i): [i] for i in positions[:20]})
    keep = selection.keep.filter(
        pc.invert(pc.is_in(selection.keep, value_set=pa.array(positions, pa.int64())))
    )
    dropped = [(i, "duplicate key; kept the record of an earlier chunk") for i in positions]
    return Selection(keep, tuple(sorted(selection.dropped + tuple(dropped))))


def _key_of(batch: pa.Table, plan: Plan, i: int) -> tuple[Any, ...]:
    row = decode_row(batch.slice(i, 1).to_pylist()[0], plan.target.kinds)
    return tuple(row.get(f) for f in plan.keys.fields)


def unique(column: pa.Array) -> bool:
    """No value occurs twice (nulls aside)."""
    valid = len(column) - column.null_count
    if valid == 0:
        return True
    return bool(pc.count_distinct(column, mode="only_valid").as_py() == valid)
