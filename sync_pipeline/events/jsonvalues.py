"""Row values to and from the JSON stored in the event tables, exact for every column kind."""

import base64
import datetime as dt
import json
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

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


def loads(text: str | None) -> Any:
    """JSON with numbers that have a fraction as Decimal, so no digit is lost on the way."""
    return None if text is None else json.loads(text, parse_float=Decimal)


def _decode(kind: Kind | None, value: Any) -> Any:
    """One stored value back to what a SELECT of the column gives."""
    if value is None or kind is None:
        return value
    if kind in ("decimal", "decimal_text"):
        return Decimal(value) if isinstance(value, str | int) else value
    if kind == "float":
        return float(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind in ("datetime", "datetime_tz"):
        return dt.datetime.fromisoformat(value)
    if kind == "time":
        return dt.time.fromisoformat(value)
    if kind == "bytes":
        return _bytes(value)
    if kind == "json":
        return _floats(value)
    if kind == "uuid":
        return uuid.UUID(value) if isinstance(value, str) else value
    return value


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


def decode_values(values: Mapping[str, Any], kinds: Mapping[str, Kind]) -> dict[str, Any]:
    return {k: _decode(kinds.get(k), v) for k, v in values.items()}
