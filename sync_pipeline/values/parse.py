"""One parser per column kind; the sources of values differ only by a named Policy.

LIBRARY reads records given to the engine, DECLARED reads files by their declared types, CLIENT
reads untrusted client writes, STORED reads values back from the database. Every intended
difference between them is a field of Policy; what no column can hold is refused by all
(values/checks.py). Parsers never see nulls: each caller decides what null means.
"""

import datetime as dt
import json
import math
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from sync_pipeline.values import checks
from sync_pipeline.values.carried import is_null
from sync_pipeline.values.checks import INT64, InvalidValue
from sync_pipeline.values.kinds import ColumnKind, Kind
from sync_pipeline.values.tagged import decode_tagged_value, is_tagged

_TRUE = {"true", "t", "1", "yes", "y", "on"}
_FALSE = {"false", "f", "0", "no", "n", "off"}
_DIGITS = re.compile(r"[+-]?\d+")


@dataclass(frozen=True)
class Policy:
    """How one source of values reads them where sources may reasonably differ."""

    name: str
    extra_decimals: Literal["round", "reject", "keep"]  # keep: the database decides
    time_zones: Literal["utc", "strict", "database"]  # naive is UTC / offsets must fit / as sent
    integer_text: Literal["number", "digits"]  # "2.0" is an integer / only digits are
    nan: Literal["null", "keep"]  # a float NaN is null / stays NaN (normalize nulls it later)
    text_from_scalars: bool  # true, dates and times into text columns as their text
    text_from_json: bool  # a JSON object or list into a text column as its JSON text
    json_text: Literal["string", "parse"]  # text into a JSON column is a JSON string / is parsed
    tagged: bool  # {"__type__": ..., "value": ...} is decoded (never for JSON columns)
    binary: bool  # binary columns may be written
    carried: bool  # JSON, UUIDs and unbounded numerics as the engine's canonical text
    checked: bool = True  # text and JSON pass values/checks.py (off for values already stored)


LIBRARY = Policy(
    "library", extra_decimals="round", time_zones="utc", integer_text="number", nan="null",
    text_from_scalars=False, text_from_json=False, json_text="string", tagged=False,
    binary=True, carried=True,
)  # fmt: skip
STORED = replace(LIBRARY, name="stored", checked=False)
DECLARED = Policy(
    "declared", extra_decimals="reject", time_zones="strict", integer_text="digits", nan="keep",
    text_from_scalars=True, text_from_json=True, json_text="parse", tagged=True,
    binary=False, carried=True,
)  # fmt: skip
CLIENT = Policy(
    "client", extra_decimals="keep", time_zones="database", integer_text="digits", nan="keep",
    text_from_scalars=True, text_from_json=False, json_text="string", tagged=True,
    binary=False, carried=False,
)  # fmt: skip

Parser = Callable[[Any], Any]


def parser(column: ColumnKind, policy: Policy, bounds: tuple[int, int] = INT64) -> Parser:
    """The function that reads one non-null value into `column` under `policy`."""
    read = _PARSERS[column.kind]

    def parse(value: Any) -> Any:
        if policy.tagged and column.kind != "json" and is_tagged(value):
            try:
                value = decode_tagged_value(value)
            except ValueError as exc:
                raise InvalidValue(str(exc)) from None
        return read(value, column, policy, bounds)

    return parse


def stored_readers(columns: Mapping[str, ColumnKind]) -> dict[str, Parser]:
    """Per column, how a value read back from the database is carried (STORED; None for null),
    built once per reflected table (db/schema.py) instead of once per read."""
    return {name: _or_null(parser(column, STORED)) for name, column in columns.items()}


def _or_null(read: Parser) -> Parser:
    return lambda v: None if is_null(v) else read(v)


def _int(v: Any, column: ColumnKind, policy: Policy, bounds: tuple[int, int]) -> int:
    if isinstance(v, bool):
        raise InvalidValue(f"expected an integer, got {v!r}")
    if isinstance(v, int):
        return checks.check_int(v, bounds)
    if isinstance(v, Decimal):
        return checks.check_int(checks.integral(v, v), bounds)
    if isinstance(v, float):
        return checks.check_int(checks.integral(Decimal(repr(float(v))), v), bounds)
    if isinstance(v, str) and policy.integer_text == "digits":
        if not _DIGITS.fullmatch(v.strip()):
            raise InvalidValue(f"not an integer: {v!r:.80} (digits only)")
        return checks.check_int(checks.integral(Decimal(v.strip()), v), bounds)
    if isinstance(v, str):
        return checks.check_int(checks.integral(_number(v), v), bounds)
    raise InvalidValue(f"expected an integer, got {type(v).__name__} {v!r:.80}")


def _number(v: Any) -> Decimal:
    if isinstance(v, bool):
        raise InvalidValue(f"expected a number, got {v!r}")
    if isinstance(v, float):
        d = Decimal(repr(float(v)))
    elif isinstance(v, int | Decimal):
        d = Decimal(v)
    elif isinstance(v, str):
        try:
            d = Decimal(v.strip())
        except InvalidOperation:
            raise InvalidValue(f"{v!r:.80} is not a number") from None
    else:
        raise InvalidValue(f"expected a number, got {type(v).__name__} {v!r:.80}")
    if not d.is_finite():
        raise InvalidValue(f"{v!r:.80} is not a finite number")
    return d


def _decimal(v: Any, column: ColumnKind, policy: Policy, _: tuple[int, int]) -> Any:
    d = _number(v)
    if column.kind == "decimal_text" and policy.carried:
        return format(checks.exact_normalize(d), "f")
    precision, scale = column.precision or 1000, column.scale or 0  # unbounded: 1000 digits
    checks.fit_digits(d, precision, scale, v)
    places = d.as_tuple().exponent
    extra = isinstance(places, int) and -places > scale
    if policy.extra_decimals == "keep" or (policy.extra_decimals == "reject" and not extra):
        return d
    if policy.extra_decimals == "reject":
        assert isinstance(places, int)
        raise InvalidValue(
            f"{v!r:.80} has {-places} decimal places; numeric({precision},{scale}) keeps {scale} "
            "(declare numeric(p,s) with a larger scale)"
        )
    rounded = checks.quantize(d, scale, ROUND_HALF_UP)  # as the database would round
    checks.fit_digits(rounded, precision, scale, v)
    return rounded


def _float(v: Any, column: ColumnKind, policy: Policy, _: tuple[int, int]) -> float | None:
    if isinstance(v, bool):
        raise InvalidValue(f"expected a number, got {v!r}")
    if isinstance(v, str):
        f = checks.parse_float(v)
    elif isinstance(v, int | float | Decimal):
        f = checks.to_float(v)
    else:
        try:
            f = checks.to_float(float(v))
        except (TypeError, ValueError):
            raise InvalidValue(f"{v!r:.80} is not a number") from None
    return None if math.isnan(f) and policy.nan == "null" else f


def _bool(v: Any, column: ColumnKind, policy: Policy, _: tuple[int, int]) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
        return v.strip().lower() in _TRUE
    raise InvalidValue(f"not a boolean: {v!r:.80} (use true/false, t/f, 1/0, yes/no)")


def _text(v: Any, column: ColumnKind, policy: Policy, _: tuple[int, int]) -> str:
    text = _as_text(v, policy)
    if policy.checked:
        checks.check_text(text)
    if column.length is not None and len(text) > column.length:
        raise InvalidValue(f"text of {len(text)} characters; the column allows {column.length}")
    if column.enums and text not in column.enums:
        raise InvalidValue(f"{text!r:.80} is not one of {list(column.enums)}")
    return text


def _as_text(v: Any, policy: Policy) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool | dt.date | dt.time) and policy.text_from_scalars:
        return ("true" if v else "false") if isinstance(v, bool) else v.isoformat()
    if isinstance(v, dict | list) and policy.text_from_json:
        return json.dumps(checks.check_json(v), separators=(",", ":"), default=str)
    if isinstance(v, int | float | Decimal | uuid.UUID) and not isinstance(v, bool):
        return str(v)
    if isinstance(v, dict | list):
        raise InvalidValue("expected text, got a JSON object or list")
    raise InvalidValue(f"expected text, got {type(v).__name__} {v!r:.80}")


def _date(v: Any, column: ColumnKind, policy: Policy, _: tuple[int, int]) -> dt.date:
    if isinstance(v, dt.datetime):
        if v.time() != dt.time(0) or v.tzinfo is not None:
            raise InvalidValue(f"expected a date, got the datetime {v!r:.80}")
        return v.date()
    if isinstance(v, dt.date):
        return v
    return _iso(dt.date.fromisoformat, "date", v)


def _time(v: Any, column: ColumnKind, policy: Policy, _: tuple[int, int]) -> dt.time:
    return v if isinstance(v, dt.time) else _iso(dt.time.fromisoformat, "time", v)


def _iso(parse: Callable[[str], Any], what: str, v: Any) -> Any:
    if not isinstance(v, str):
        raise InvalidValue(f"expected an ISO 8601 {what}, got {type(v).__name__} {v!r:.80}")
    try:
        return parse(v.strip())
    except ValueError:
        raise InvalidValue(f"not an ISO 8601 {what}: {v!r:.80}") from None


def _datetime(v: Any, column: ColumnKind, policy: Policy, _: tuple[int, int]) -> dt.datetime:
    if type(v).__name__ == "Timestamp":  # pandas
        v = v.to_pydatetime()
    elif isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        v = dt.datetime(v.year, v.month, v.day)
    value = v if isinstance(v, dt.datetime) else _iso(dt.datetime.fromisoformat, "datetime", v)
    aware, want_aware = value.tzinfo is not None, column.kind == "datetime_tz"
    if policy.time_zones == "database":
        return value
    if policy.time_zones == "strict" and aware != want_aware:
        fix = "datetime" if want_aware else "datetime_tz"
        has = "has no UTC offset" if want_aware else "has a UTC offset"
        raise InvalidValue(f"{has}; declare the column {fix}: {v!r:.80}")
    utc = checks.as_utc(value) if aware else value.replace(tzinfo=dt.UTC)
    return utc if want_aware else utc.replace(tzinfo=None)


def _json(v: Any, column: ColumnKind, policy: Policy, _: tuple[int, int]) -> Any:
    if isinstance(v, str) and policy.json_text == "parse":
        v = checks.parse_json(v)
    if not policy.checked:
        return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return checks.dump_json(v) if policy.carried else checks.check_json(v)


def _uuid(v: Any, column: ColumnKind, policy: Policy, _: tuple[int, int]) -> Any:
    try:
        value = v if isinstance(v, uuid.UUID) else uuid.UUID(str(v))
    except ValueError:
        raise InvalidValue(f"{v!r:.80} is not a UUID") from None
    return str(value) if policy.carried else value


def _bytes(v: Any, column: ColumnKind, policy: Policy, _: tuple[int, int]) -> bytes:
    if not policy.binary:
        raise InvalidValue(f"binary columns cannot be written from {policy.name} values")
    if isinstance(v, bytes | bytearray | memoryview):
        return bytes(v)
    raise InvalidValue(f"expected bytes, got {type(v).__name__}")


_PARSERS: dict[Kind, Callable[[Any, ColumnKind, Policy, tuple[int, int]], Any]] = {
    "int": _int,
    "decimal": _decimal,
    "decimal_text": _decimal,
    "float": _float,
    "text": _text,
    "bool": _bool,
    "date": _date,
    "datetime": _datetime,
    "datetime_tz": _datetime,
    "time": _time,
    "json": _json,
    "uuid": _uuid,
    "bytes": _bytes,
}
