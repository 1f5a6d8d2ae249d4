"""Equality for change detection (semantics §3.2): one definition for the engine and for diff()."""

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sync_pipeline.values.carried import is_null

# A comparator answers "has this field changed?": callable(new, old) -> bool.
Comparator = Callable[[Any, Any], bool]


def values_equal(new: Any, old: Any) -> bool:
    """Default equality: null-safe, numeric-aware, datetimes as instants, JSON by structure."""
    if is_null(new) or is_null(old):
        return is_null(new) and is_null(old)
    if isinstance(new, bool) or isinstance(old, bool):
        return type(new) is type(old) and new == old
    if _is_number(new) and _is_number(old):
        return _as_decimal(new) == _as_decimal(old)
    if isinstance(new, dt.datetime) and isinstance(old, dt.datetime):
        return _instant(new) == _instant(old)
    if isinstance(new, (dict, list)) or isinstance(old, (dict, list)):
        return _json_equal(_as_json(new), _as_json(old))
    return (bool(new == old) and type(new) is type(old)) or _same_text(new, old)


def changed(new: Any, old: Any, comparator: Comparator | None = None) -> bool:
    """True when the field changed, by the user's comparator if given, else by values_equal."""
    if comparator is not None:
        return bool(comparator(new, old))
    return not values_equal(new, old)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _as_decimal(value: int | float | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _instant(value: dt.datetime) -> dt.datetime:
    """Naive datetimes are taken as UTC so they compare with aware ones as instants."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _same_text(new: Any, old: Any) -> bool:
    """A UUID equals its canonical text; other mixed types never compare equal."""
    if type(new) is type(old):
        return False
    if {type(new).__name__, type(old).__name__} == {"UUID", "str"}:
        return str(new).lower() == str(old).lower()
    return False


def _as_json(value: Any) -> Any:
    if isinstance(value, (str, bytes)):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _json_equal(a: Any, b: Any) -> bool:
    """Structural JSON equality: key order is ignored, true is not 1, numbers compare by value."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False  # a scalar never equals a structure (and must not recurse back here)
    return values_equal(a, b)
