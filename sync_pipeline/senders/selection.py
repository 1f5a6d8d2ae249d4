"""Column selection, renaming and the hard-delete flag, shared by the SQL and file senders."""

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from sync_pipeline.errors import ConfigError, did_you_mean
from sync_pipeline.senders.errors import BadValueError, SchemaDriftError
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
