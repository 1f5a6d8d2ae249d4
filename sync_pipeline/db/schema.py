"""Reflection and identifier checks: every outside name is matched against the real schema."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from sync_pipeline.db.dialect import Dialect
from sync_pipeline.errors import SchemaError, did_you_mean
from sync_pipeline.values.kinds import ColumnKind, Kind, int_range
from sync_pipeline.values.parse import stored_readers


@dataclass(frozen=True, slots=True)
class TargetTable:
    """A reflected target table with what the engine needs to know about its columns, worked
    out once (`TargetTable.of`) so that no stage asks the type ladder or the dialect again."""

    table: sa.Table
    dialect: Dialect
    name: str  # the qualified name, for messages and the ledger
    primary_key: tuple[str, ...]
    kinds: dict[str, Kind]
    arrow: dict[str, pa.DataType]  # the Arrow type each column's values are carried in
    readers: dict[str, Callable[[Any], Any]]  # a stored value (or None) in its carried form
    bounds: dict[str, tuple[int, int]]  # per int column, the integers it holds (its width)

    @classmethod
    def of(cls, table: sa.Table, dialect: Dialect) -> "TargetTable":
        pk = tuple(c.name for c in table.primary_key.columns)
        ladder: dict[str, ColumnKind] = {}
        kinds: dict[str, Kind] = {}
        arrow: dict[str, pa.DataType] = {}
        bounds: dict[str, tuple[int, int]] = {}
        for column in table.columns:  # the type ladder once per column, for the whole import
            kind = ladder[column.name] = ColumnKind.of_sql(column.type)
            kinds[column.name], arrow[column.name] = kind.kind, kind.arrow
            if kind.kind == "int":
                bounds[column.name] = int_range(column.type, dialect.sized_ints)
        readers = stored_readers(ladder)
        return cls(table, dialect, table.fullname, pk, kinds, arrow, readers, bounds)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.table.c.keys())

    def column(self, name: str, *, role: str = "column") -> sa.Column:
        """The column called `name`, or a SchemaError that names it and suggests a fix."""
        if name not in self.table.c:
            raise SchemaError(
                f"{role} {name!r} is not in table {self.name!r}{did_you_mean(name, self.columns)}"
            )
        return self.table.c[name]

    def check_columns(self, names: Iterable[str], *, role: str = "column") -> None:
        for name in names:
            self.column(name, role=role)

    def has_generated_pk(self) -> bool:
        """True when the database fills the primary key itself (serial, identity, rowid)."""
        if len(self.primary_key) != 1:
            return False
        col = self.table.c[self.primary_key[0]]
        return bool(
            col.autoincrement is True
            or col.identity is not None
            or col.server_default is not None
            or (self.dialect.rowid_pk and self.kinds[col.name] == "int")
        )


def split_name(table: str) -> tuple[str | None, str]:
    """'schema.name' -> ('schema', 'name'); 'name' -> (None, 'name')."""
    if not isinstance(table, str) or not table.strip():
        raise SchemaError(f"table name must be a non-empty string, got {table!r}")
    schema, dot, name = table.rpartition(".")
    if dot and (not schema.strip() or not name.strip() or schema.startswith(".")):
        raise SchemaError(f"table name {table!r} has an empty schema or table part")
    return (schema or None) if dot else None, name


def reflect(conn: sa.Connection, table: str) -> TargetTable:
    """Reflect `table` after checking that it exists; the name never reaches SQL unchecked."""
    schema, name = split_name(table)
    inspector = sa.inspect(conn)
    if schema is not None and schema not in inspector.get_schema_names():
        raise SchemaError(f"schema {schema!r} does not exist (table {table!r})")
    names = inspector.get_table_names(schema=schema)
    if name not in names:
        where = f" in schema {schema!r}" if schema else ""
        raise SchemaError(f"table {table!r} does not exist{where}{did_you_mean(name, names)}")
    t = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)
    return TargetTable.of(t, Dialect.of(conn))
