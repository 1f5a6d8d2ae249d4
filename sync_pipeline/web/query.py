"""The filters of GET /events from its query string, typed by the reflected columns."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from starlette.datastructures import QueryParams

from sync_pipeline.errors import ConfigError
from sync_pipeline.events.model import Position


@dataclass(frozen=True, slots=True)
class EventQuery:
    """tables, after (a Position), row (a pk dict or None) and where ({key column: value})."""

    tables: list[str]
    after: Position
    row: dict[str, Any] | None
    where: dict[str, Any]


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false", "1", "0", "t", "f"):
        raise ValueError(f"not a boolean: {text!r}")
    return lowered in ("true", "1", "t")


_PARSERS: dict[type, Callable[[str], Any]] = {
    bool: _bool, int: int, Decimal: Decimal, float: float, uuid.UUID: uuid.UUID, str: str,
}  # fmt: skip


def _column_types(conn: sa.Connection, tables: list[str]) -> dict[str, dict[str, Any]]:
    inspector = sa.inspect(conn)
    found = {}
    for table in tables:
        if not inspector.has_table(table):
            raise ConfigError(f"no table {table!r}")
        found[table] = {c["name"]: c["type"] for c in inspector.get_columns(table)}
    return found


def _typed(types: dict[str, dict[str, Any]], column: str, text: str) -> Any:
    """The query value as its column's Python type (the same in every table that has it)."""
    for table, columns in types.items():
        if column not in columns:
            raise ConfigError(f"table {table!r} has no column {column!r}")
    try:
        python_type = next(iter(types.values()))[column].python_type
    except NotImplementedError:
        return text
    try:
        return _PARSERS.get(python_type, str)(text)
    except (ValueError, ArithmeticError):
        raise ConfigError(f"{column}={text!r} is not of type {python_type.__name__}") from None


def parse(conn: sa.Connection, params: QueryParams, last_event_id: str | None) -> EventQuery:
    """table= (repeatable), after= or Last-Event-ID, row= / row.<col>=, where.<col>= ."""
    tables = params.getlist("table")
    if not tables:
        raise ConfigError("GET /events needs at least one table= parameter")
    types = _column_types(conn, tables)
    after = Position.parse(last_event_id or params.get("after"))
    row: dict[str, Any] | None = None
    where: dict[str, Any] = {}
    for name, text in params.multi_items():
        if name.startswith("where."):
            where[name[6:]] = _typed(types, name[6:], text)
        elif name.startswith("row."):
            row = {**(row or {}), name[4:]: _typed(types, name[4:], text)}
        elif name == "row":
            row = {**(row or {}), **_single_pk(conn, tables, types, text)}
        elif name not in ("table", "after"):
            raise ConfigError(f"unknown parameter {name!r}")
    return EventQuery(tables, after, row, where)


def _single_pk(
    conn: sa.Connection, tables: list[str], types: dict[str, dict[str, Any]], text: str
) -> dict[str, Any]:
    """row=<value>: the one primary key column of the one subscribed table."""
    pk = sa.inspect(conn).get_pk_constraint(tables[0])["constrained_columns"]
    if len(tables) != 1 or len(pk) != 1:
        raise ConfigError("row=<value> needs one table with a one-column key; use row.<col>=")
    return {pk[0]: _typed(types, pk[0], text)}
