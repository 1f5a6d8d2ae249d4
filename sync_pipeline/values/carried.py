"""From the engine's carried form (see values/kinds.py) back to plain Python values."""

import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sync_pipeline.values.kinds import Kind

# The kinds `decode` changes; values of every other kind are plain Python values as carried.
DECODED: frozenset[Kind] = frozenset({"json", "decimal_text"})


def decode(kind: Kind | None, value: Any) -> Any:
    """JSON text -> objects, unbounded numerics -> Decimal; everything else as carried."""
    if value is None:
        return None
    if kind == "json":
        return json.loads(value)
    if kind == "decimal_text":
        return Decimal(value)
    return value


def decode_row(row: Mapping[str, Any], kinds: Mapping[str, Kind]) -> dict[str, Any]:
    return {name: decode(kinds.get(name), value) for name, value in row.items()}


def is_null(value: Any) -> bool:
    """None, NaN (float or Decimal) and pandas' NA/NaT are all one value: null."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, Decimal):
        return value.is_nan()
    return type(value).__name__ in {"NAType", "NaTType"}
