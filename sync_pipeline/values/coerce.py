"""Per-value coercion of incoming values to a column kind, with errors that say what is wrong.

Values are brought to the form the engine carries them in (see values/kinds.py): Decimals rounded
to the column's scale, datetimes as UTC, JSON/UUID/unbounded numerics as canonical text. What no
column can hold (fractions in integers, NUL, non-finite JSON, ...) is refused by values/checks.py.
"""

import datetime as dt
import json
import math
import uuid
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from sync_pipeline.values import checks
from sync_pipeline.values.carried import is_null
from sync_pipeline.values.checks import InvalidValue
from sync_pipeline.values.kinds import Kind

_TRUE = {"true", "t", "1", "yes", "y", "on"}
_FALSE = {"false", "f", "0", "no", "n", "off"}


class CoercionError(InvalidValue):
    """A value does not fit its column; the message says why."""


def coercer(
    kind: Kind, type_: sa.types.TypeEngine, *, stored: bool = False
) -> Callable[[Any], Any]:
    """A function that coerces one value of a column, returning None for nulls.

    `stored` values come back from the database: they are read as stored, so text and JSON that
    an older version let in (NUL on SQLite, NaN in JSON) stay readable instead of failing.
    """
    convert = _STORED.get(kind, _CONVERTERS[kind]) if stored else _CONVERTERS[kind]
    if kind == "decimal":
        assert isinstance(type_, sa.Numeric)
        precision, scale = type_.precision or 38, type_.scale or 0
        return lambda v: None if is_null(v) else to_decimal(v, precision, scale)
    length = getattr(type_, "length", None) if kind == "text" else None
    if length:
        return lambda v: None if is_null(v) else _bounded(convert(v), length)
    return lambda v: None if is_null(v) else convert(v)


def to_decimal(value: Any, precision: int, scale: int) -> Decimal:
    """Round to the column's scale as the database would, and check it fits numeric(p, s)."""
    d = _decimal(value)
    checks.fit_digits(d, precision, scale, value)
    q = checks.quantize(d, scale, ROUND_HALF_UP)
    checks.fit_digits(q, precision, scale, value)
    return q


def canonical_json(value: Any) -> str:
    """JSON text with sorted keys, so equal structures have equal text (standard JSON only)."""
    return checks.dump_json(value)


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise CoercionError(f"expected a number, got {value!r}")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise CoercionError(f"{value!r} is not a finite number")
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if math.isinf(value):
            raise CoercionError(f"{value!r} is not a finite number")
        return Decimal(repr(float(value)))
    if isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            raise CoercionError(f"{value!r} is not a number") from None
        if not d.is_finite():
            raise CoercionError(f"{value!r} is not a finite number")
        return d
    raise CoercionError(f"expected a number, got {type(value).__name__} {value!r}")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise CoercionError(f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return checks.check_int(value)
    if isinstance(value, Decimal):
        return checks.integral(value, value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CoercionError(f"{value!r} is not a finite number")
        return checks.integral(Decimal(repr(float(value))), value)
    if isinstance(value, str):
        try:
            return checks.integral(Decimal(value.strip()), value)
        except InvalidOperation:
            raise CoercionError(f"{value!r} is not a number") from None
    raise CoercionError(f"expected an integer, got {type(value).__name__} {value!r}")


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        raise CoercionError(f"expected a number, got {value!r}")
    if isinstance(value, str):
        f = checks.parse_float(value)
    elif isinstance(value, (int, float, Decimal)):
        f = checks.to_float(value)
    else:
        try:
            f = checks.to_float(float(value))
        except (TypeError, ValueError):
            raise CoercionError(f"{value!r} is not a number") from None
    return None if math.isnan(f) else f


def _incoming_text(value: Any) -> str:
    return checks.check_text(_text(value))


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise CoercionError(f"expected text, got {type(value).__name__} {value!r}")


def _bounded(text: str, length: int) -> str:
    if len(text) > length:
        raise CoercionError(f"text of {len(text)} characters is longer than the column's {length}")
    return text


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise CoercionError(f"expected a boolean, got {value!r}")


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0) or value.tzinfo is not None:
            raise CoercionError(f"expected a date, got the datetime {value!r}")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise CoercionError(f"{value!r} is not an ISO date") from None
    raise CoercionError(f"expected a date, got {type(value).__name__} {value!r}")


def _datetime_utc(value: Any) -> dt.datetime:
    """Aware datetimes become UTC; naive ones are taken to be UTC already."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise CoercionError(f"{value!r} is not an ISO datetime") from None
    elif type(value).__name__ == "Timestamp":
        value = value.to_pydatetime()
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, dt.datetime):
        raise CoercionError(f"expected a datetime, got {type(value).__name__} {value!r}")
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else checks.as_utc(value)


def _datetime_naive(value: Any) -> dt.datetime:
    return _datetime_utc(value).replace(tzinfo=None)


def _time(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value.strip())
        except ValueError:
            raise CoercionError(f"{value!r} is not an ISO time") from None
    raise CoercionError(f"expected a time, got {type(value).__name__} {value!r}")


def _uuid(value: Any) -> str:
    try:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    except ValueError:
        raise CoercionError(f"{value!r} is not a UUID") from None


def _decimal_text(value: Any) -> str:
    return format(_decimal(value).normalize(), "f")


def _bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise CoercionError(f"expected bytes, got {type(value).__name__}")


_CONVERTERS: dict[Kind, Callable[[Any], Any]] = {
    "int": _int,
    "decimal": _decimal,
    "decimal_text": _decimal_text,
    "float": _float,
    "text": _incoming_text,
    "bool": _bool,
    "date": _date,
    "datetime": _datetime_naive,
    "datetime_tz": _datetime_utc,
    "time": _time,
    "json": canonical_json,
    "uuid": _uuid,
    "bytes": _bytes,
}

_STORED: dict[Kind, Callable[[Any], Any]] = {
    "text": _text,
    "json": lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
}
