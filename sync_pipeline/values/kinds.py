"""The one type ladder: SQL types, declared type names and Arrow types to the kind of a column.

The engine reads, compares and writes each column by its kind. `ColumnKind.arrow` is the form the
engine carries values in (JSON, UUIDs and unbounded numerics as canonical text); `.wire` is the
Arrow type senders deliver (None: inferred from the values); `.sql` is the column type to create.
"""

import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

import pyarrow as pa
import sqlalchemy as sa

from sync_pipeline.errors import ConfigError

Kind = Literal[
    "int", "decimal", "decimal_text", "float", "text", "bool", "date", "datetime",
    "datetime_tz", "time", "json", "uuid", "bytes",
]  # fmt: skip

# Kinds whose values travel as canonical text inside the engine (see normalize.py).
TEXT_CARRIED: frozenset[Kind] = frozenset({"decimal_text", "json", "uuid"})

# Type names a sync config may declare for sources without types (CSV, JSON files).
TypeName = Literal[
    "text", "int", "numeric", "float", "bool", "date", "datetime", "datetime_tz", "time", "json"
]
TYPE_NAMES: tuple[str, ...] = get_args(TypeName)
_NUMERIC = re.compile(r"^numeric\((\d+),\s*(\d+)\)$")
INT64 = (-(2**63), 2**63 - 1)
_INT_BITS: tuple[tuple[type[sa.types.TypeEngine[Any]], int], ...] = (
    (sa.SmallInteger, 16),
    (sa.BigInteger, 64),
    (sa.Integer, 32),
)


@dataclass(frozen=True)
class ColumnKind:
    """One column's kind and the facts its parser and its Arrow and SQL types need."""

    kind: Kind
    precision: int | None = None
    scale: int | None = None
    length: int | None = None
    enums: tuple[str, ...] = ()
    inferred: bool = False  # no SQL type of its own: senders infer its Arrow type from values

    @classmethod
    def of_sql(cls, type_: sa.types.TypeEngine[Any]) -> "ColumnKind":
        """The kind of a reflected SQLAlchemy type (text when nothing better is known)."""
        if isinstance(type_, sa.Numeric) and not isinstance(type_, sa.Float | sa.Integer):
            p, s = type_.precision, type_.scale
            fits = p is not None and s is not None and p <= 38
            return cls("decimal" if fits else "decimal_text", p, s)
        if isinstance(type_, sa.String):
            enums = tuple(getattr(type_, "enums", None) or ())
            return cls("text", length=type_.length, enums=enums)
        for sa_class, kind in _SQL_LADDER:
            if isinstance(type_, sa_class):
                return cls(kind)
        if isinstance(type_, sa.DateTime):
            return cls("datetime_tz" if type_.timezone else "datetime")
        name = type(type_).__name__.upper()
        guess: Kind = "uuid" if "UUID" in name else "json" if "JSON" in name else "text"
        binary = isinstance(type_, sa.types._Binary)
        return cls("bytes" if binary else guess, inferred=True)

    @classmethod
    def of_name(cls, name: str) -> "ColumnKind":
        """The kind of a declared type name ("int", "numeric(10,2)"); ConfigError if unknown."""
        match = _NUMERIC.match(name)
        if name == "numeric" or match:
            precision, scale = (int(match[1]), int(match[2])) if match else (38, 10)
            if not 1 <= precision <= 38 or scale > precision:
                raise ConfigError(f"bad numeric type {name!r}: need 1 <= precision <= 38")
            return cls("decimal", precision, scale)
        if name not in TYPE_NAMES:
            raise ConfigError(f"unknown column type {name!r}; use one of {TYPE_NAMES}")
        return cls(name)  # type: ignore[arg-type]  # every other type name is a kind

    @classmethod
    def of_arrow(cls, arrow: pa.DataType | None) -> "ColumnKind":
        """The kind of a sender column's Arrow type (text when unknown)."""
        if isinstance(arrow, pa.BaseExtensionType) and arrow.extension_name == "arrow.json":
            return cls("json")
        if arrow is not None and pa.types.is_decimal(arrow):
            return cls("decimal", arrow.precision, arrow.scale)
        if arrow is not None and pa.types.is_timestamp(arrow):
            return cls("datetime_tz" if arrow.tz is not None else "datetime")
        found = (k for test, k in _ARROW_LADDER if arrow is not None and test(arrow))
        return cls(next(found, "text"))

    @property
    def arrow(self) -> pa.DataType:
        """The Arrow type that carries this kind's values inside the engine."""
        if self.kind == "decimal":
            return pa.decimal128(self.precision or 38, self.scale or 0)
        return _CARRIED[self.kind]

    @property
    def wire(self) -> pa.DataType | None:
        """The Arrow type senders deliver this kind in; None: inferred from the values."""
        if self.inferred or self.kind == "decimal_text":
            return None
        return _WIRE.get(self.kind, self.arrow)

    @property
    def sql(self) -> sa.types.TypeEngine[Any]:
        """A SQLAlchemy type to create a column of this kind with."""
        if self.kind in ("decimal", "decimal_text"):
            return sa.Numeric(self.precision, self.scale)
        if self.kind in ("datetime", "datetime_tz"):
            return sa.DateTime(timezone=self.kind == "datetime_tz")
        return _SQL[self.kind]()


def int_range(type_: sa.types.TypeEngine[Any], sized: bool) -> tuple[int, int]:
    """The integers a column holds: by its declared width when the database enforces widths
    (`sized`: Postgres int2/int4/int8), else 64-bit (SQLite, or a database we do not know)."""
    if not sized:
        return INT64
    bits = next((b for cls, b in _INT_BITS if isinstance(type_, cls)), 64)
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def arrow_type(kind: Kind, type_: sa.types.TypeEngine[Any]) -> pa.DataType:
    """The Arrow type that carries values of `kind` inside the engine."""
    ladder = ColumnKind.of_sql(type_)
    return ladder.arrow if ladder.kind == kind else ColumnKind(kind).arrow


_SQL_LADDER: tuple[tuple[type[sa.types.TypeEngine[Any]], Kind], ...] = (
    (sa.Boolean, "bool"),
    (sa.Integer, "int"),
    (sa.Float, "float"),
    (sa.Date, "date"),
    (sa.Time, "time"),
    (sa.JSON, "json"),
    (sa.Uuid, "uuid"),
    (sa.LargeBinary, "bytes"),
)

_ARROW_LADDER: tuple[tuple[Any, Kind], ...] = (
    (pa.types.is_boolean, "bool"),
    (pa.types.is_integer, "int"),
    (pa.types.is_floating, "float"),
    (pa.types.is_date, "date"),
    (pa.types.is_time, "time"),
    (pa.types.is_binary, "bytes"),
)

_CARRIED: dict[Kind, pa.DataType] = {
    "int": pa.int64(),
    "decimal_text": pa.string(),
    "float": pa.float64(),
    "text": pa.string(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us"),
    "datetime_tz": pa.timestamp("us", tz="UTC"),
    "time": pa.time64("us"),
    "json": pa.string(),
    "uuid": pa.string(),
    "bytes": pa.binary(),
}

_WIRE: dict[Kind, pa.DataType] = {"json": pa.json_(pa.string())}

_SQL: dict[Kind, Any] = {
    "int": sa.BigInteger,
    "float": sa.Float,
    "text": sa.Text,
    "bool": sa.Boolean,
    "date": sa.Date,
    "time": sa.Time,
    "json": sa.JSON,
    "uuid": sa.Uuid,
    "bytes": sa.LargeBinary,
}
