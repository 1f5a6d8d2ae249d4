"""Column kinds: how the engine reads, compares and writes each SQL type."""

from typing import Literal

import pyarrow as pa
import sqlalchemy as sa

Kind = Literal[
    "int", "decimal", "decimal_text", "float", "text", "bool", "date", "datetime",
    "datetime_tz", "time", "json", "uuid", "bytes",
]  # fmt: skip

# Kinds whose values travel as canonical text inside the engine (see normalize.py).
TEXT_CARRIED: frozenset[Kind] = frozenset({"decimal_text", "json", "uuid"})


def column_kind(type_: sa.types.TypeEngine) -> Kind:
    """Map a reflected SQLAlchemy type to the kind the engine uses for it."""
    if isinstance(type_, sa.Boolean):
        return "bool"
    if isinstance(type_, sa.Integer):
        return "int"
    if isinstance(type_, sa.Float):
        return "float"
    if isinstance(type_, sa.Numeric):
        return "decimal" if _decimal_fits(type_) else "decimal_text"
    if isinstance(type_, sa.DateTime):
        return "datetime_tz" if type_.timezone else "datetime"
    if isinstance(type_, sa.Date):
        return "date"
    if isinstance(type_, sa.Time):
        return "time"
    if isinstance(type_, sa.JSON):
        return "json"
    if isinstance(type_, sa.Uuid):
        return "uuid"
    if isinstance(type_, sa.LargeBinary | sa.types._Binary):
        return "bytes"
    if isinstance(type_, sa.String):
        return "text"
    name = type(type_).__name__.upper()
    if "UUID" in name:
        return "uuid"
    if "JSON" in name:
        return "json"
    return "text"


def _decimal_fits(type_: sa.Numeric) -> bool:
    return type_.precision is not None and type_.scale is not None and type_.precision <= 38


def arrow_type(kind: Kind, type_: sa.types.TypeEngine) -> pa.DataType:
    """The Arrow type that carries values of `kind` inside the engine."""
    if kind == "decimal":
        assert isinstance(type_, sa.Numeric) and type_.precision is not None
        return pa.decimal128(type_.precision, type_.scale or 0)
    return _ARROW[kind]


_ARROW: dict[Kind, pa.DataType] = {
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
