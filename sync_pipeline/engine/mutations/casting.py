"""The default validate: cast client values (usually strings) to the reflected column types."""

import json
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from sync_pipeline.values.client import cast_value


def cast_row(
    table: sa.Table, values: Mapping[str, Any], sized_ints: bool = False
) -> dict[str, Any]:
    """Cast every value; unknown columns are rejected (the message names the column)."""
    out = {}
    for name, value in values.items():
        if name not in table.c:
            raise ValueError(f"unknown column {str(name)[:80]!r} in table {table.name!r}")
        try:
            out[name] = cast_value(table.c[name], value, sized_ints)
        except ValueError as exc:
            raise ValueError(f"column {name!r}: {exc}") from None
    return out


def default_validate(
    table: sa.Table, sized_ints: bool = False
) -> Callable[[Mapping[str, Any], Mapping[str, Any], str], Any]:
    """validate(row, changes, operation): the cast changes (insert/update), {} for delete.

    An update may not change the primary key (sending the same value is fine).
    """

    def validate(row: Mapping[str, Any], changes: Mapping[str, Any], operation: str) -> Any:
        if operation == "delete":
            return {}
        values = cast_row(table, changes, sized_ints)
        if operation == "update":
            for col in table.primary_key:
                if col.name in values and values[col.name] != row.get(col.name):
                    raise ValueError(f"an update cannot change the primary key {col.name!r}")
        return values

    return validate


def to_json_safe(value: Any) -> Any:
    """For messages: a short JSON rendering of a value."""
    return json.dumps(value, default=str)[:200]
