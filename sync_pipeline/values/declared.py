"""Declared column types for senders whose source has none (CSV, JSON): the DECLARED policy.

The sync config maps column -> type name. A value is read by its declared type only; a column
without a declared type stays text. Nothing is guessed: "2025-01-01" in a text column stays text.
`numeric` keeps every digit: "numeric(p,s)" sets Arrow decimal precision and scale (default
numeric(38,10)); a value with more decimal places is an error, never rounded.
"""

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from sync_pipeline.values.kinds import TYPE_NAMES, ColumnKind, TypeName
from sync_pipeline.values.parse import DECLARED, parser

__all__ = ["TYPE_NAMES", "ColumnType", "TypeName", "column_types"]


class ColumnType:
    """One declared column type: reads a raw value (str, JSON value or tagged value)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.kind = ColumnKind.of_name(name)
        wire = self.kind.wire
        assert wire is not None  # a declared type always names its Arrow type
        self.arrow: pa.DataType = wire
        self._read = parser(self.kind, DECLARED)

    def read(self, raw: Any, *, empty_is_null: bool = False) -> Any:
        """The typed value, None for null; raises ValueError with the reason."""
        if raw is None or (empty_is_null and raw == "" and self.name != "text"):
            return None
        return self._read(raw)


def column_types(types: Mapping[str, str] | None) -> dict[str, ColumnType]:
    """Validate a {column: type name} mapping from config once, at the edge."""
    return {col: ColumnType(name) for col, name in (types or {}).items()}
