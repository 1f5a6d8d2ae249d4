"""Comparison keys: match-by fields, per-field callables, case folding, custom key functions.

Keys are typed: plain fields join on their typed Arrow columns; keys built by Python callables
are Python tuples, encoded to integer codes through one dict shared by both sides, so '09' and 9
and ('a|', 'b') vs ('a', '|b') never collide. A key with a null part never matches.
"""

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sync_pipeline.engine.spec import KeyCallable
from sync_pipeline.values.carried import decode_row
from sync_pipeline.values.kinds import Kind


@dataclass(frozen=True, slots=True)
class KeyRecipe:
    """How to build the comparison key of a record or a target row."""

    fields: tuple[str, ...]
    callables: Mapping[str, KeyCallable] = field(default_factory=dict)
    case_sensitive: bool = True
    comparison_key: Callable[[Mapping[str, Any]], Any] | None = None

    @property
    def in_python(self) -> bool:
        """Keys that need per-row Python (user callables); otherwise they are vectorized."""
        return bool(self.callables) or self.comparison_key is not None


@dataclass(slots=True)
class KeyCodes:
    """One dict of Python keys -> integer codes, shared by the batch and the target rows."""

    codes: dict[Any, int] = field(default_factory=dict)

    def encode(self, keys: list[Any]) -> pa.Array:
        out = [None if k is None else self.codes.setdefault(k, len(self.codes)) for k in keys]
        return pa.array(out, type=pa.int64())


@dataclass(frozen=True, slots=True)
class Keys:
    """Key columns of a table (named __k0, __k1, ...) and which rows have a complete key."""

    columns: tuple[pa.Array, ...]
    valid: pa.Array

    def table(self, index_name: str) -> pa.Table:
        """The complete keys with each row's position, ready for a join."""
        cols = {f"__k{i}": c for i, c in enumerate(self.columns)}
        cols[index_name] = pa.array(np.arange(len(self.valid), dtype=np.int64))
        return pa.table(cols).filter(self.valid)

    @property
    def names(self) -> list[str]:
        return [f"__k{i}" for i in range(len(self.columns))]


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
