"""Turning rows of Python values into Arrow chunks with a stable schema across chunks."""

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from sync_pipeline.senders.errors import SenderError
from sync_pipeline.values.kinds import ColumnKind


def arrow_type_for(sa_type: sa.types.TypeEngine[Any]) -> pa.DataType | None:
    """The Arrow type for a reflected SQL column type, or None to infer from the values."""
    return ColumnKind.of_sql(sa_type).wire


def _prepare(values: list[Any], arrow: pa.DataType | None) -> list[Any]:
    if isinstance(arrow, pa.BaseExtensionType):  # JSON: text as given, parsed values dumped
        return [v if v is None or isinstance(v, str) else json_text(v) for v in values]
    if arrow == pa.string():
        return [v if v is None or isinstance(v, str) else str(v) for v in values]
    return values


def json_text(value: Any) -> str:
    """Canonical JSON text of a parsed value: sorted keys, no spaces, unicode kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


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


_ARROW_ERRORS = (pa.ArrowException, ValueError, TypeError, OverflowError)
