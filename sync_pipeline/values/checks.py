"""What no column can hold, checked once for every source before any SQL runs.

Each check raises InvalidValue (a ValueError) with a message that says what is wrong; the caller
adds the record and the field. Nothing here rounds, truncates or reinterprets a value.
"""

import datetime as dt
import json
import math
from collections.abc import Callable
from decimal import Context, Decimal
from typing import Any

from sync_pipeline.values.kinds import INT64

JSON_MAX_DEPTH = 256  # documented in README ("Values"); deeper JSON is refused, never truncated
_INFINITIES = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


class InvalidValue(ValueError):
    """A value no column of its kind can hold; the message says why."""


def check_int(value: int, bounds: tuple[int, int] = INT64) -> int:
    """`value` when it lies within `bounds`."""
    low, high = bounds
    if not low <= value <= high:
        raise InvalidValue(f"{_short(value)} is out of range for the column ({low} to {high})")
    return value


def integral(value: Decimal, original: Any) -> int:
    """An exact integer from a Decimal (2.00 -> 2); fractions, infinities and NaN are refused."""
    if not value.is_finite():
        raise InvalidValue(f"{_short(original)} is not a finite number")
    if value.adjusted() > 19:  # beyond any 64-bit integer; never build a huge int from '1e400'
        raise InvalidValue(f"{_short(original)} is out of range for a 64-bit integer")
    if value != value.to_integral_value():
        raise InvalidValue(f"{_short(original)} is not an integer (fractions are never truncated)")
    return check_int(int(value))


def fit_digits(value: Decimal, precision: int, scale: int, original: Any) -> None:
    """Check a finite Decimal has at most precision - scale digits before the point."""
    if not value.is_finite():
        raise InvalidValue(f"{_short(original)} is not a finite number")
    if value and value.adjusted() >= precision - scale:
        raise InvalidValue(f"{_short(original)} does not fit numeric({precision}, {scale})")


def quantize(value: Decimal, scale: int, rounding: str) -> Decimal:
    """`value` at `scale` decimal places, with enough working precision for any numeric(38, s)."""
    context = Context(prec=max(value.adjusted() + scale + 2, 28), rounding=rounding)
    return value.quantize(Decimal(1).scaleb(-scale), context=context)


def exact_normalize(value: Decimal) -> Decimal:
    """`value` without trailing zeros, never rounded (Decimal.normalize rounds to 28 digits)."""
    return value.normalize(Context(prec=max(len(value.as_tuple().digits), 1)))


def parse_float(text: str) -> float:
    """A float from text; text beyond the float range ('1e400') is refused, not made infinite."""
    try:
        value = float(text)
    except ValueError:
        raise InvalidValue(f"{_short(text)} is not a number") from None
    if math.isinf(value) and text.strip().lower() not in _INFINITIES:
        raise InvalidValue(f"{_short(text)} is out of range for a double precision float")
    return value


def to_float(value: int | float | Decimal) -> float:
    """A number as a float; one beyond the float range (10**400) is refused, not made infinite."""
    try:
        result = float(value)
    except OverflowError:
        result = math.inf
    explicit = isinstance(value, float) or (isinstance(value, Decimal) and value.is_infinite())
    if math.isinf(result) and not explicit:
        raise InvalidValue(f"{_short(value)} is out of range for a double precision float")
    return result


def check_text(value: str) -> str:
    """Text a database can store: no NUL character and no lone surrogate (not UTF-8)."""
    if "\x00" in value:
        raise InvalidValue(f"text must not contain NUL characters (at {value.index(chr(0))})")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidValue(
                f"text has a lone surrogate {value[exc.start]!r} at {exc.start} (not valid UTF-8)"
            ) from None
    return value


def as_utc(value: dt.datetime) -> dt.datetime:
    """An aware datetime as UTC; an instant outside years 1..9999 in UTC is refused."""
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise InvalidValue(
            f"{value.isoformat()} is out of range in UTC (years 1 to 9999)"
        ) from None


def check_json(value: Any, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """`value` if it is standard JSON a database stores: finite numbers, clean text, bounded depth.

    Walks without recursion, so a deep value cannot exhaust the stack.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            if depth > max_depth:
                raise InvalidValue(f"JSON is nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key in item:
                    if isinstance(key, str):
                        _json_text(key)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, float) and not math.isfinite(item):
            name = "NaN" if math.isnan(item) else ("Infinity" if item > 0 else "-Infinity")
            raise InvalidValue(f"JSON has no {name}: use null or a finite number")
        elif isinstance(item, str):
            _json_text(item)
    return value


def parse_json(text: str, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """Standard JSON text to Python values (no NaN/Infinity), checked by check_json."""
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise InvalidValue(f"JSON is nested deeper than {max_depth} levels") from None
    except InvalidValue:
        raise
    except ValueError as exc:
        raise InvalidValue(f"not valid JSON: {exc}") from None
    return check_json(value, max_depth)


def dump_json(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    """Canonical JSON text (sorted keys, no spaces) of a checked value.

    Numbers are written as Postgres' jsonb keeps them: an integral float as the integer it is
    (1e16 -> 10000000000000000, -0.0 -> 0), so a value read back compares equal to what was sent.
    """
    check_json(value)
    try:
        return json.dumps(
            _jsonb_numbers(value),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            default=default,
        )
    except (TypeError, ValueError) as exc:
        raise InvalidValue(f"not JSON-serializable: {exc}") from None


def _jsonb_numbers(value: Any) -> Any:
    """Integral floats as exact integers, at any depth (check_json bounded the depth)."""
    if isinstance(value, float) and value.is_integer():
        return int(Decimal(repr(value)))
    if isinstance(value, dict):
        return {k: _jsonb_numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonb_numbers(v) for v in value]
    return value


def _json_text(text: str) -> None:
    try:
        check_text(text)
    except InvalidValue as exc:
        raise InvalidValue(f"JSON {exc}") from None


def _no_constant(name: str) -> Any:
    raise InvalidValue(f"JSON has no {name}: use null or a finite number")


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
