"""Declared column types for senders whose source has none (CSV, JSON): name -> reader + Arrow type.

The sync config maps column -> type name. A value is read by its declared type only; a column
without a declared type stays text. Nothing is guessed: "2025-01-01" in a text column stays text.
`numeric` keeps every digit: "numeric(p,s)" sets Arrow decimal precision and scale (default
numeric(38,10)); a value with more decimal places is an error, never rounded.
"""

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, get_args

import pyarrow as pa

from sync_pipeline.errors import ConfigError
from sync_pipeline.values import checks
from sync_pipeline.values.tagged import TaggedValueError, decode_tagged_value, is_tagged

TypeName = Literal[
    "text", "int", "numeric", "float", "bool", "date", "datetime", "datetime_tz", "time", "json"
]
TYPE_NAMES: tuple[str, ...] = get_args(TypeName)
_NUMERIC = re.compile(r"^numeric\((\d+),\s*(\d+)\)$")
_TRUE = {"true", "t", "1", "yes", "y", "on"}
_FALSE = {"false", "f", "0", "no", "n", "off"}


def _int(v: Any) -> int:
    if isinstance(v, bool):
        raise ValueError("a boolean is not an int")
    if isinstance(v, int):
        return checks.check_int(v)
    if isinstance(v, Decimal):
        return checks.integral(v, v)
    if isinstance(v, float) and v.is_integer():
        return checks.integral(Decimal(v), v)
    if isinstance(v, str) and re.fullmatch(r"[+-]?\d+", v.strip()):
        return checks.check_int(int(v))
    raise ValueError(f"not an int: {v!r:.80}")


def _decimal(v: Any) -> Decimal:
    if isinstance(v, bool):
        raise ValueError("a boolean is not a number")
    try:
        d = v if isinstance(v, Decimal) else Decimal(str(v).strip())
    except InvalidOperation:
        raise ValueError(f"not a number: {v!r:.80}") from None
    if not d.is_finite():
        raise ValueError(f"not a finite number: {v!r:.80}")
    return d


def _float(v: Any) -> float:
    if isinstance(v, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(v, (int, float, Decimal)):
        return checks.to_float(v)
    return checks.parse_float(str(v))


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    text = str(v).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a boolean: {v!r:.80} (use true/false, t/f, 1/0, yes/no)")


def _date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        raise ValueError(f"a datetime is not a date: {v!r:.80}")
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise ValueError(f"not an ISO 8601 date: {v!r:.80}") from None


def _datetime_any(v: Any) -> dt.datetime:
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date) or not isinstance(v, str):
        raise ValueError(f"not an ISO 8601 datetime: {v!r:.80}")
    try:
        return dt.datetime.fromisoformat(v)
    except ValueError:
        raise ValueError(f"not an ISO 8601 datetime: {v!r:.80}") from None


def _datetime(v: Any) -> dt.datetime:
    value = _datetime_any(v)
    if value.tzinfo is not None:
        raise ValueError(f"has a UTC offset; declare the column datetime_tz: {v!r:.80}")
    return value


def _datetime_tz(v: Any) -> dt.datetime:
    value = _datetime_any(v)
    if value.tzinfo is None:
        raise ValueError(f"has no UTC offset; declare the column datetime: {v!r:.80}")
    return checks.as_utc(value)


def _time(v: Any) -> dt.time:
    if isinstance(v, dt.time):
        return v
    try:
        return dt.time.fromisoformat(str(v))
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {v!r:.80}") from None


def _json(v: Any) -> str:
    """JSON columns travel as canonical JSON text (Arrow's json extension type)."""
    return checks.dump_json(checks.parse_json(v) if isinstance(v, str) else v, default=str)


def _text(v: Any) -> str:
    if isinstance(v, str):
        return checks.check_text(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(checks.check_json(v), separators=(",", ":"), default=str)
    if isinstance(v, (bytes, bytearray, memoryview)):
        raise ValueError(f"expected text, got bytes {bytes(v)[:40]!r}")
    return v.isoformat() if isinstance(v, (dt.date, dt.time)) else str(v)


_READERS: dict[str, tuple[Callable[[Any], Any], pa.DataType]] = {
    "text": (_text, pa.string()),
    "int": (_int, pa.int64()),
    "float": (_float, pa.float64()),
    "bool": (_bool, pa.bool_()),
    "date": (_date, pa.date32()),
    "datetime": (_datetime, pa.timestamp("us")),
    "datetime_tz": (_datetime_tz, pa.timestamp("us", tz="UTC")),
    "time": (_time, pa.time64("us")),
    "json": (_json, pa.json_(pa.string())),
}


class ColumnType:
    """One declared column type: reads a raw value (str, JSON value or tagged value)."""

    def __init__(self, name: str) -> None:
        self.name = name
        match = _NUMERIC.match(name)
        if name == "numeric" or match:
            precision, scale = (int(match[1]), int(match[2])) if match else (38, 10)
            if not 1 <= precision <= 38 or scale > precision:
                raise ConfigError(f"bad numeric type {name!r}: need 1 <= precision <= 38")
            self.arrow: pa.DataType = pa.decimal128(precision, scale)
            self._scale = scale
            self._read: Callable[[Any], Any] = self._numeric
        elif name in _READERS:
            self._read, self.arrow = _READERS[name]
        else:
            raise ConfigError(f"unknown column type {name!r}; use one of {TYPE_NAMES}")

    def _numeric(self, v: Any) -> Decimal:
        d = _decimal(v)
        exponent = d.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > self._scale:
            raise ValueError(
                f"{v!r:.80} has {-exponent} decimal places; {self.name} keeps {self._scale} "
                "(declare numeric(p,s) with a larger scale)"
            )
        return d

    def read(self, raw: Any, *, empty_is_null: bool = False) -> Any:
        """The typed value, None for null; raises ValueError with the reason."""
        if raw is None or (empty_is_null and raw == "" and self.name != "text"):
            return None
        if is_tagged(raw):
            try:
                raw = decode_tagged_value(raw)
            except TaggedValueError as exc:
                raise ValueError(str(exc)) from None
        return self._read(raw)


def column_types(types: Mapping[str, str] | None) -> dict[str, ColumnType]:
    """Validate a {column: type name} mapping from config once, at the edge."""
    return {col: ColumnType(name) for col, name in (types or {}).items()}
