"""How the record-level diff treats values: key tokens that compare like the engine's equality,
and the JSON form of a RecordDiff's values."""

import datetime as dt
import math
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sync_pipeline.values.carried import is_null


def key_token(value: Any) -> Any:
    """A hashable stand-in that is equal for key values that `values_equal` finds equal."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float, Decimal)):
        return ("number", value if isinstance(value, Decimal) else Decimal(str(value)))
    if isinstance(value, dt.datetime):
        utc = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
        return ("instant", utc)
    if isinstance(value, uuid.UUID):  # canonical lowercase text; upper-case UUID text won't match
        return ("text", str(value))
    if isinstance(value, str):
        return ("text", value)
    hash(value)  # TypeError for an unhashable value: keys must be scalars
    return (type(value).__name__, value)


_SCALAR_TO_JSON: tuple[tuple[type, Callable[[Any], Any]], ...] = (
    (Decimal, str),
    (dt.datetime, dt.datetime.isoformat),
    (dt.date, dt.date.isoformat),
    (dt.time, dt.time.isoformat),
    (uuid.UUID, str),
    (bytes, bytes.hex),
)


def jsonable(value: Any) -> Any:
    """JSON-friendly copy where the value allows; nulls (NaN, NA) become None."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if is_null(value):
        return None
    if isinstance(value, float) and math.isinf(value):
        return str(value)
    for kind, convert in _SCALAR_TO_JSON:
        if isinstance(value, kind):
            return convert(value)
    return value


def short(record: Mapping[str, Any], limit: int = 200) -> str:
    text = repr(dict(record))
    return text if len(text) <= limit else text[: limit - 3] + "..."
