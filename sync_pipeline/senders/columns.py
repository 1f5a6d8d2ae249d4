"""A sender's output columns, shared by the SQL and file senders: which source columns are read,
what they are called, which one is the hard-delete flag, and how rows of Python values become
Arrow chunks with a schema that stays the same across chunks."""

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from sync_pipeline.errors import ConfigError, did_you_mean
from sync_pipeline.senders.errors import BadValueError, SchemaDriftError, SenderError
from sync_pipeline.values.declared import ColumnType


class ColumnSelection:
    """Which source columns a sender reads, what they are called, which one is the delete flag."""

    def __init__(
        self,
        columns: Sequence[str] | None,
        rename: Mapping[str, str] | None,
        delete_flag: str | None,
    ) -> None:
        self.columns = list(columns) if columns is not None else None
        self.rename = dict(rename or {})
        self.delete_flag = delete_flag
        if self.columns is not None and len(set(self.columns)) != len(self.columns):
            raise ConfigError(f"columns lists a column twice: {self.columns}")
        self._bool = ColumnType("bool")

    def check_exists(self, name: str, available: Sequence[str], source: str, what: str) -> None:
        if name not in available:
            raise SchemaDriftError(
                f"{what} {name!r} is not a column of {source}{did_you_mean(name, available)}; "
                f"columns: {list(available)}"
            )

    def resolve(self, available: Sequence[str], source: str) -> list[str]:
        """The selected source columns, each checked against the source's real columns."""
        selected = self.columns if self.columns is not None else list(available)
        for name in selected:
            self.check_exists(name, available, source, "column")
        for name in self.rename:
            self.check_exists(name, available, source, "renamed column")
        out = self.output_names(selected)
        if len(set(out)) != len(out):
            raise ConfigError(f"rename makes two columns share a name: {out}")
        if self.delete_flag is not None and self.delete_flag not in out:
            raise ConfigError(f"delete_flag {self.delete_flag!r} is not an output column: {out}")
        return selected

    def source_name(self, name: str, available: Sequence[str], source: str) -> str:
        """A column named by its output or source name -> its source name (checked)."""
        back = {v: k for k, v in self.rename.items()}
        name = back.get(name, name)
        self.check_exists(name, available, source, "partition column")
        return name

    def output_names(self, source_names: Sequence[str]) -> list[str]:
        return [self.rename.get(n, n) for n in source_names]

    def final(self, out: Sequence[str]) -> list[str]:
        """Output columns to deliver: drops a cursor column that was read only for tracking."""
        if self.columns is None:
            return list(out)
        return self.output_names(self.columns)

    def type_overrides(self) -> dict[str, pa.DataType]:
        return {self.delete_flag: pa.bool_()} if self.delete_flag else {}

    def finish(self, columns: dict[str, list[Any]], source: str) -> dict[str, list[Any]]:
        """Casts the delete-flag column to bool; a bad flag value names its position."""
        flag = self.delete_flag
        if flag is None or flag not in columns:
            return columns
        values = []
        for i, v in enumerate(columns[flag]):
            try:
                values.append(self._bool.read(v, empty_is_null=True))
            except ValueError as exc:
                raise BadValueError(source, None, flag, f"row {i + 1} of chunk: {exc}") from None
        return {**columns, flag: values}


class ChunkBuilder:
    """Builds Arrow tables from column lists; an unknown type is inferred once, then kept."""

    def __init__(self, names: Sequence[str], types: Mapping[str, pa.DataType | None]) -> None:
        self.names = list(names)
        self.types: dict[str, pa.DataType | None] = {n: types.get(n) for n in self.names}
        self.inferred: set[str] = set()

    def build(self, columns: Mapping[str, list[Any]], source: str) -> pa.Table:
        return pa.Table.from_arrays(
            [self._array(name, columns[name], source) for name in self.names], names=self.names
        )

    def _array(self, name: str, values: list[Any], source: str) -> pa.Array:
        arrow = self.types[name]
        prepared = _prepare(values, arrow)
        try:
            array = pa.array(prepared, type=arrow)
        except _ARROW_ERRORS as exc:
            if name not in self.inferred:
                raise SenderError(
                    f"{source}: column {name!r} cannot become {arrow}: {exc}"
                ) from None
            array = pa.array(prepared)  # wider than the first chunk's values: infer this chunk
        if arrow is None and array.type != pa.null():
            kept = array.type
            if pa.types.is_decimal(kept):  # room for later chunks with more digits
                kept = pa.decimal128(38, max(kept.scale, 10))
                array = array.cast(kept)
            self.types[name] = kept
            self.inferred.add(name)
        return array


def _prepare(values: list[Any], arrow: pa.DataType | None) -> list[Any]:
    if isinstance(arrow, pa.BaseExtensionType):  # JSON: text as given, parsed values dumped
        return [v if v is None or isinstance(v, str) else json_text(v) for v in values]
    if arrow == pa.string():
        return [v if v is None or isinstance(v, str) else str(v) for v in values]
    return values


def json_text(value: Any) -> str:
    """Canonical JSON text of a parsed value: sorted keys, no spaces, unicode kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


_ARROW_ERRORS = (pa.ArrowException, ValueError, TypeError, OverflowError)
