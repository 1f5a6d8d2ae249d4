"""Untrusted client values (Writer mutations, SQL sender filters) cast to a reflected column.

The client policy: strings are read strictly, decimals keep every digit (never rounded), and
binary columns cannot be written. Checks shared with every source live in values/checks.py.
"""

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from sync_pipeline.values import checks
from sync_pipeline.values.declared import ColumnType
from sync_pipeline.values.tagged import TaggedValueError, decode_tagged, is_tagged

_READERS = {n: ColumnType(n) for n in ("int", "numeric(38,18)", "float", "bool", "date", "time")}


def _reader(name: str) -> Callable[[Any], Any]:
    return _READERS[name].read


def _text(column: sa.Column[Any]) -> Callable[[Any], Any]:
    length = getattr(column.type, "length", None)

    def read(v: Any) -> str:
        if isinstance(v, (dict, list)):
            raise ValueError("expected text, got a JSON object or list")
        text = checks.check_text(v if isinstance(v, str) else ColumnType("text").read(v))
        if length is not None and len(text) > length:
            raise ValueError(f"{len(text)} characters; the column allows {length}")
        return str(text)

    return read


def _int(column: sa.Column[Any], dialect: str | None) -> Callable[[Any], int]:
    bounds = checks.int_range(column.type, dialect)
    return lambda v: checks.check_int(_reader("int")(v), bounds)


def _numeric(column: sa.Column[Any]) -> Callable[[Any], Decimal]:
    precision = getattr(column.type, "precision", None)
    scale = getattr(column.type, "scale", None) or 0

    def read(v: Any) -> Decimal:
        if isinstance(v, bool):
            raise ValueError("a boolean is not a number")
        value = v if isinstance(v, Decimal) else Decimal(str(v).strip())
        if not value.is_finite():
            raise ValueError(f"not a finite number: {v!r:.80}")
        checks.fit_digits(value, precision or 1000, scale, v)  # unbounded: 1000 digits at most
        return value

    return read


def _datetime(v: Any) -> dt.datetime:
    if isinstance(v, dt.datetime):
        return v
    if not isinstance(v, str):
        raise ValueError(f"not an ISO 8601 datetime: {v!r:.80}")
    return dt.datetime.fromisoformat(v)


def _json(v: Any) -> Any:
    return checks.check_json(v)


def _uuid(v: Any) -> uuid.UUID:
    return v if isinstance(v, uuid.UUID) else uuid.UUID(str(v))


def _enum(column: sa.Column[Any]) -> Callable[[Any], Any]:
    allowed = list(getattr(column.type, "enums", []))

    def read(v: Any) -> Any:
        if v not in allowed:
            raise ValueError(f"{v!r:.80} is not one of {allowed}")
        return v

    return read


def caster(column: sa.Column[Any], dialect: str | None = None) -> Callable[[Any], Any]:
    """The reader for one reflected column; unknown types take strings as they are.

    `dialect` sets the integer range (int2/int4/int8 on Postgres; 64-bit on SQLite or unknown).
    """
    t = column.type
    if isinstance(t, sa.Enum):
        return _enum(column)
    if isinstance(t, sa.Boolean):
        return _reader("bool")
    if isinstance(t, sa.Integer) and _is_mysql_bool(t):
        return _mysql_bool
    if isinstance(t, sa.Integer):
        return _int(column, dialect)
    if isinstance(t, sa.Float):
        return _reader("float")
    if isinstance(t, sa.Numeric):
        return _numeric(column)
    if isinstance(t, sa.DateTime):
        return _datetime
    if isinstance(t, sa.Date):
        return _reader("date")
    if isinstance(t, sa.Time):
        return _reader("time")
    if isinstance(t, sa.JSON):
        return _json
    if isinstance(t, sa.Uuid):
        return _uuid
    if isinstance(t, (sa.String, sa.Text)):
        return _text(column)
    if isinstance(t, sa.LargeBinary):
        return _reject_binary
    return _text(column)


def _is_mysql_bool(t: sa.types.TypeEngine[Any]) -> bool:
    """MySQL/MariaDB spell BOOLEAN as TINYINT(1); reflection returns that type."""
    return type(t).__name__ == "TINYINT" and getattr(t, "display_width", None) == 1


def _mysql_bool(v: Any) -> int:
    return int(_reader("bool")(v))


def _reject_binary(v: Any) -> Any:
    raise ValueError("binary columns cannot be written from client mutations")


def cast_value(column: sa.Column[Any], value: Any, dialect: str | None = None) -> Any:
    """One client value as the column's Python type; raises ValueError naming the problem."""
    if is_tagged(value) and not isinstance(column.type, sa.JSON):
        try:
            value = decode_tagged(value)
        except TaggedValueError as exc:
            raise ValueError(str(exc)) from None
    if value is None:
        if not column.nullable and column.server_default is None and not column.primary_key:
            raise ValueError("null is not allowed")
        return None
    try:
        return caster(column, dialect)(value)
    except (ValueError, ArithmeticError, TypeError) as exc:
        raise ValueError(f"{exc}".strip() or f"cannot read {value!r:.80}") from None
