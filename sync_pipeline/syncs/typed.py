"""Typed batches: sender text (CSV, JSON) cast to the target's column types, or inferred ones.

The conversion of each value is the value layer's (values/coerce.py); this module only decides
the SQL type of each text column -- the target table's where the column exists, else one
inferred from the column's values (integer, exact decimal, date, timestamp, boolean, or text) --
and casts Arrow chunks one at a time. Inference folds chunk by chunk, so it sees the whole batch
without holding it.
"""

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from sync_pipeline.senders.errors import BadValueError
from sync_pipeline.senders.files import SOURCE_FILE, SOURCE_LINE
from sync_pipeline.values.coerce import CoercionError, cast_text, coercer
from sync_pipeline.values.kinds import ColumnKind

_INT = re.compile(r"^[+-]?(0|[1-9]\d*)$")
_DECIMAL = re.compile(r"^[+-]?(0|[1-9]\d*)\.(\d+)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_BOOL = {"true", "false"}
PROVENANCE = (SOURCE_FILE, SOURCE_LINE)
SqlTypes = Mapping[str, sa.types.TypeEngine[Any]]


@dataclass
class Inference:
    """What the text values of one column seen so far allow; `add` folds in more of them."""

    seen: bool = False
    ints: bool = True
    numbers: bool = True  # integers or decimals
    dates: bool = True
    stamps: bool = True
    bools: bool = True
    aware: set[bool] = field(default_factory=set)
    digits: int = 0
    scale: int = 0

    def add(self, values: Iterable[object]) -> None:
        for value in values:
            if isinstance(value, str) and value.strip():
                self._add(value.strip())

    def _add(self, text: str) -> None:
        self.seen = True
        whole, decimal = _INT.match(text), _DECIMAL.match(text)
        self.ints = self.ints and bool(whole)
        self.numbers = self.numbers and bool(whole or decimal)
        if self.numbers:
            self.digits = max(self.digits, len(text.lstrip("+-").split(".")[0]))
            self.scale = max(self.scale, len(decimal.group(2)) if decimal else 0)
        self.dates = self.dates and bool(_DATE.match(text)) and _parses(dt.date, text)
        self.stamps = self.stamps and bool(_TIMESTAMP.match(text)) and _parses(dt.datetime, text)
        if self.stamps:
            self.aware.add(dt.datetime.fromisoformat(text).tzinfo is not None)
        self.bools = self.bools and text.lower() in _BOOL

    def result(self) -> sa.types.TypeEngine[Any]:
        """The narrowest SQL type every value fits; text when nothing fits (never a float)."""
        if not self.seen:
            return sa.Text()
        if self.ints:
            return sa.BigInteger()
        if self.numbers:
            return sa.Numeric(max(self.digits, 18) + self.scale, self.scale)
        if self.dates:
            return sa.Date()
        if self.stamps:
            return sa.DateTime(timezone=True) if self.aware == {True} else sa.DateTime()
        return sa.Boolean() if self.bools else sa.Text()


def infer_type(values: Iterable[object]) -> sa.types.TypeEngine[Any]:
    """The narrowest SQL type every non-empty text value fits; text when nothing fits."""
    found = Inference()
    found.add(values)
    return found.result()


def is_text(type_: pa.DataType) -> bool:
    return bool(pa.types.is_string(type_) or pa.types.is_large_string(type_))


def text_columns(chunk: pa.Table) -> list[str]:
    """Columns of a chunk that hold text (what CSV/JSON senders deliver undeclared)."""
    return [f.name for f in chunk.schema if is_text(f.type) and f.name not in PROVENANCE]


def inferred_types(chunks: Iterable[pa.Table], table: sa.Table | None) -> dict[str, Any]:
    """Inferred SQL types of the text columns the target table lacks, over every chunk."""
    found: dict[str, Inference] = {}
    for chunk in chunks:
        for name in text_columns(chunk):
            if table is None or name not in table.c:
                found.setdefault(name, Inference()).add(chunk.column(name).to_pylist())
    return {name: inference.result() for name, inference in found.items()}


def cast_chunk(chunk: pa.Table, types: SqlTypes, source: str, offset: int = 0) -> pa.Table:
    """Each text column of one chunk converted to its SQL type: in one Arrow cast when every
    value fits exactly, else value by value, where the first value that does not fit raises
    BadValueError naming the file and line (or the record, counted from `offset` + 1), the
    field and the value."""
    out = chunk.drop_columns([c for c in PROVENANCE if c in chunk.column_names])
    for name in text_columns(chunk):
        if name not in types:
            continue
        column = ColumnKind.of_sql(types[name])
        if column.kind in ("text", "json", "uuid"):
            continue
        cast = cast_text(chunk.column(name), types[name])  # one Arrow pass when values fit
        if cast is None:
            cast = _coerced(chunk, name, types[name], source, offset)
        out = out.set_column(out.schema.get_field_index(name), name, cast)
    return out


def _coerced(
    chunk: pa.Table, name: str, type_: sa.types.TypeEngine[Any], source: str, offset: int
) -> pa.Array:
    """One text column converted value by value by the value layer (rounding, blanks as null)."""
    column = ColumnKind.of_sql(type_)
    convert = coercer(column.kind, type_)
    values = []
    for i, value in enumerate(chunk.column(name).to_pylist()):
        try:
            values.append(None if value is None or not value.strip() else convert(value))
        except CoercionError as exc:
            raise _bad_value(chunk, i, name, value, str(exc), source, offset) from None
    return pa.array(values, column.arrow)


def cast_chunks(chunks: Iterable[pa.Table], types: SqlTypes, source: str) -> Iterator[pa.Table]:
    """`cast_chunk` over a stream, records numbered across chunks."""
    offset = 0
    for chunk in chunks:
        yield cast_chunk(chunk, types, source, offset)
        offset += chunk.num_rows


def _bad_value(
    chunk: pa.Table, i: int, name: str, value: Any, reason: str, source: str, offset: int
) -> BadValueError:
    detail = f"{value!r} does not fit: {reason}"
    file = chunk[SOURCE_FILE][i].as_py() if SOURCE_FILE in chunk.column_names else None
    if isinstance(file, str):
        return BadValueError(file, int(chunk[SOURCE_LINE][i].as_py()), name, detail)
    return BadValueError(source, offset + i + 1, name, detail, unit="record")


def _parses(kind: type[dt.date], text: str) -> bool:
    try:
        kind.fromisoformat(text)
    except ValueError:
        return False
    return True
