"""Untrusted client values (Writer mutations, SQL sender filters): the CLIENT policy.

Strings are read strictly, decimals keep every digit (the database decides), time zones are left
to the database and binary columns cannot be written. Checks every source shares live in
values/checks.py.
"""

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from sync_pipeline.values.kinds import ColumnKind, int_range
from sync_pipeline.values.parse import CLIENT, parser

_BOOL = parser(ColumnKind("bool"), CLIENT)


def caster(column: sa.Column[Any], sized_ints: bool = False) -> Callable[[Any], Any]:
    """The reader for one reflected column; unknown types take strings as they are.

    `sized_ints` sets the integer range: int2/int4/int8 when the database enforces the width
    (Postgres), else 64-bit (SQLite or unknown); see kinds.int_range.
    """
    if _is_mysql_bool(column.type):
        return lambda v: int(_BOOL(v))
    bounds = int_range(column.type, sized_ints)
    return parser(ColumnKind.of_sql(column.type), CLIENT, bounds)


def _is_mysql_bool(t: sa.types.TypeEngine[Any]) -> bool:
    """MySQL/MariaDB spell BOOLEAN as TINYINT(1); reflection returns that type."""
    return type(t).__name__ == "TINYINT" and getattr(t, "display_width", None) == 1


def cast_value(column: sa.Column[Any], value: Any, sized_ints: bool = False) -> Any:
    """One client value as the column's Python type; raises ValueError naming the problem."""
    if value is None:
        if not column.nullable and column.server_default is None and not column.primary_key:
            raise ValueError("null is not allowed")
        return None
    try:
        return caster(column, sized_ints)(value)
    except (ValueError, ArithmeticError, TypeError) as exc:
        raise ValueError(f"{exc}".strip() or f"cannot read {value!r:.80}") from None
