"""Row values to and from the JSON stored in the event tables, exact for every column kind."""

import base64
import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sync_pipeline.errors import SchemaError
from sync_pipeline.values.kinds import Kind


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # text keeps every digit; read back as Decimal
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.timedelta):
        return str(value)
    raise TypeError(f"cannot record a value of type {type(value).__name__} in an event")


def dumps(value: Any) -> str:
    return json.dumps(value, default=_default, separators=(",", ":"))


_DECODER = json.JSONDecoder(parse_float=Decimal)  # one decoder: making one costs per call


def loads(text: str | None) -> Any:
    """JSON with numbers that have a fraction as Decimal, so no digit is lost on the way."""
    return None if text is None else _DECODER.decode(text)


def loads_rows(rows: Sequence[Sequence[str | None]]) -> list[list[Any]]:
    """Rows of stored JSON texts (None: null), all decoded in one parse: one list per row.

    Reading a page of events costs one call into the C decoder instead of three per event.
    """
    text = "[" + ",".join("[" + ",".join(_or_null(t) for t in row) + "]" for row in rows) + "]"
    decoded: list[list[Any]] = loads(text)
    if [len(d) for d in decoded] != [len(r) for r in rows]:
        raise SchemaError("a stored event's JSON columns do not hold one JSON value each")
    return decoded


def _or_null(text: str | None) -> str:
    return "null" if text is None else text


def _bytes(value: str) -> bytes:
    if value.startswith("\\x"):
        return bytes.fromhex(value[2:])
    return base64.b64decode(value)


def _floats(value: Any) -> Any:
    """JSON column values: numbers come back as the driver gives them (float), not Decimal."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return [_floats(v) for v in value]
    if isinstance(value, dict):
        return {k: _floats(v) for k, v in value.items()}
    return value


def _decimal(value: Any) -> Any:
    return Decimal(value) if isinstance(value, str | int) else value


def _uuid(value: Any) -> Any:
    return uuid.UUID(value) if isinstance(value, str) else value


# How a stored value of each kind turns back into what a SELECT of the column gives; the kinds
# not named here (int, text, bool) come out of JSON as they are.
_CONVERT: dict[Kind, Callable[[Any], Any]] = {
    "decimal": _decimal,
    "decimal_text": _decimal,
    "float": float,
    "date": dt.date.fromisoformat,
    "datetime": dt.datetime.fromisoformat,
    "datetime_tz": dt.datetime.fromisoformat,
    "time": dt.time.fromisoformat,
    "bytes": _bytes,
    "json": _floats,
    "uuid": _uuid,
}


class Decoder:
    """Stored values of one table back to column values; only the columns that need it work."""

    def __init__(self, kinds: Mapping[str, Kind]) -> None:
        self.convert = {c: _CONVERT[k] for c, k in kinds.items() if k in _CONVERT}

    def values(self, values: dict[str, Any] | None) -> dict[str, Any]:
        """Converts a freshly decoded dict in place (no copy) and returns it ({} for None)."""
        if not values:
            return {}
        if len(values) < len(self.convert):  # e.g. a primary key: look its few columns up
            for column, value in values.items():
                convert = self.convert.get(column)
                if convert is not None and value is not None:
                    values[column] = convert(value)
            return values
        for column, convert in self.convert.items():
            value = values.get(column)
            if value is not None:
                values[column] = convert(value)
        return values

    def pairs(self, changes: dict[str, list[Any]] | None) -> dict[str, tuple[Any, Any]]:
        """An update's {column: [old, new]} as {column: (old, new)}, both converted."""
        if not changes:
            return {}
        convert = self.convert
        return {
            column: (old, new) if (f := convert.get(column)) is None else (
                None if old is None else f(old), None if new is None else f(new)
            )
            for column, (old, new) in changes.items()
        }  # fmt: skip
