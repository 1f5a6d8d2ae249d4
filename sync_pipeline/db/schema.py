"""Reflection and identifier checks: every outside name is matched against the real schema."""

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from sync_pipeline.errors import SchemaError
from sync_pipeline.values.kinds import Kind, column_kind


@dataclass(frozen=True, slots=True)
class TargetTable:
    """A reflected target table with what the engine needs to know about its columns."""

    table: sa.Table
    kinds: dict[str, Kind]
    primary_key: tuple[str, ...]
    dialect: str

    @property
    def name(self) -> str:
        return self.table.fullname

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
            or (self.dialect == "sqlite" and self.kinds[col.name] == "int")
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
    pk = tuple(c.name for c in t.primary_key.columns)
    kinds = {c.name: column_kind(c.type) for c in t.columns}
    return TargetTable(t, kinds, pk, conn.dialect.name)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """' (did you mean \'x\'?)' for the closest candidate, or '' when none is close."""
    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
